import { useEffect } from 'react';
import type { Kpis } from '../../../../core/contract';
import { EmptyState, LoadError, Loading } from '../../app/EmptyState';
import { ageBucketLabels, formatAge, formatCount, formatDateTime, formatMoney, ownerLabels } from '../../app/format';
import { MoneyFiguresTable } from '../../app/MoneyFiguresTable';
import { useAppStore } from '../../app/store';
import { useExceptionsStore } from '../exceptions/store';
import { useDashboardStore } from './store';
import { useCan } from '../team/store';

const stateLabel = { idle: 'Waiting for the next cycle', running: 'Running a cycle', paused: 'Paused', stopped: 'Not running' } as const;

export function DashboardPage() {
  const { kpis, kpisError, status, statusError, refunded, isControlling, isPauseRequested, hasLoaded, load, control } = useDashboardStore();
  useEffect(() => {
    void load();
  }, [load]);

  const openTotal = kpis?.openByOwner.reduce((n, o) => n + o.count, 0) ?? 0;
  const critical = kpis?.openByOwner.reduce((n, o) => n + o.critical, 0) ?? 0;
  // Pausing and resuming are the Integration admin's on a team server (sync.pause and sync.resume need the same role).
  const mayPause = useCan('sync.pause');
  const mayRunNow = useCan('sync.runNow');

  return (
    <>
      <h1>Dashboard</h1>
      <section className="card" aria-label="Sync">
        <h2>Sync</h2>
        {statusError && <LoadError what="the sync status" message={statusError.message} onRetry={() => void load()} />}
        {!status && !statusError && <Loading what="the sync status" />}
        {status && (
          <div className="sync-line">
            <span data-testid="sync-state" className={`sync-state sync-${status.state}`}>
              {isPauseRequested && status.state === 'running' ? 'Finishing this cycle, then paused' : stateLabel[status.state]}
            </span>
            <span className="muted">
              {status.mode === 'sandbox' ? 'Sandbox' : 'Live'} · {status.cycles} cycle{status.cycles === 1 ? '' : 's'} · last finished{' '}
              {formatDateTime(status.lastCycleAt)}
            </span>
            <div className="row-actions" role="group" aria-label="Sync controls">
              {status.state === 'paused' || isPauseRequested ? (
                <button type="button" disabled={isControlling || !mayPause.isAllowed} title={mayPause.whyNot ?? undefined} onClick={() => void control('resume')}>
                  Resume sync
                </button>
              ) : (
                <button type="button" disabled={isControlling || status.state === 'stopped' || !mayPause.isAllowed} title={mayPause.whyNot ?? undefined} onClick={() => void control('pause')}>
                  Pause sync
                </button>
              )}
              <button
                type="button"
                disabled={isControlling || status.state === 'stopped' || status.state === 'running' || !mayRunNow.isAllowed}
                title={mayRunNow.whyNot ?? undefined}
                onClick={() => void control('runNow')}
              >
                Run now
              </button>
            </div>
            {status.lastError && (
              <p className="error" role="alert">
                Last cycle failed: {status.lastError}
              </p>
            )}
          </div>
        )}
      </section>

      {kpisError && <LoadError what="the figures" message={kpisError.message} onRetry={() => void load()} />}
      {!hasLoaded && <Loading what="the figures" />}
      {kpis && (
        <>
          <section className="kpis" aria-label="Key figures">
            <Figure label="Open exceptions" value={formatCount(openTotal)} note={critical ? `${critical} critical` : 'none critical'} alert={critical > 0} />
            <Figure label="Returns tracked" value={formatCount(kpis.returns.total)} />
            <Figure label="Drifting between systems" value={formatCount(kpis.returns.drifting)} alert={kpis.returns.drifting > 0} />
            <Figure label="Awaiting refund" value={formatCount(kpis.returns.awaitingRefund)} note="verified receipt, refund not paid (REFUNDED) in full yet" />
            <Figure label="Refunded" value={refunded ? formatCount(refunded.total, refunded.isCapped) : '…'} note="returns whose refunds Mirakl shows REFUNDED (paid)" />
          </section>
          <div className="cards">
            <AgeingChart kpis={kpis} />
            <RefundsCard kpis={kpis} refunded={refunded} />
            <MoneyAtRisk kpis={kpis} />
            <OpenByOwner kpis={kpis} />
          </div>
        </>
      )}

      <FeedHealth />
    </>
  );
}

function Figure({ label, value, note, alert = false }: { label: string; value: string; note?: string; alert?: boolean }) {
  return (
    <div className={`figure ${alert ? 'figure-alert' : ''}`} role="group" aria-label={label}>
      <div className="figure-value">{value}</div>
      <div className="figure-label">{label}</div>
      {note && <div className="muted small-text">{note}</div>}
    </div>
  );
}

/** Open exceptions per age bucket as bars; a bar opens the queue filtered to it. */
function AgeingChart({ kpis }: { kpis: Kpis }) {
  const navigate = useAppStore((s) => s.navigate);
  const setFilter = useExceptionsStore((s) => s.setFilter);
  const max = Math.max(1, ...kpis.ageing.map((b) => b.count));
  const width = 230;
  const barHeight = 22;
  const description = kpis.ageing.map((b) => `${ageBucketLabels[b.bucket]}: ${b.count}`).join(', ');
  return (
    <section className="card" aria-label="Ageing of open exceptions">
      <h2>Ageing of open exceptions</h2>
      <svg role="img" aria-label={`Open exceptions by age. ${description}`} width={width + 150} height={kpis.ageing.length * (barHeight + 8)} className="chart">
        {kpis.ageing.map((b, i) => {
          const w = Math.round((b.count / max) * width);
          const y = i * (barHeight + 8);
          return (
            <g key={b.bucket} transform={`translate(0, ${y})`}>
              <text x={0} y={barHeight - 6} className="chart-label">
                {ageBucketLabels[b.bucket]}
              </text>
              <rect x={100} y={0} width={Math.max(w, b.count ? 2 : 0)} height={barHeight} className={`bar bar-${b.bucket}`} rx={3} />
              <text x={106 + w} y={barHeight - 6} className="chart-value">
                {b.count}
              </text>
            </g>
          );
        })}
      </svg>
      <div className="row-actions">
        {kpis.ageing.map((b) => (
          <button
            key={b.bucket}
            type="button"
            className="link small-text"
            disabled={b.count === 0}
            onClick={() => {
              setFilter({ ageBucket: b.bucket, show: 'active' });
              navigate('exceptions');
            }}
          >
            Show {ageBucketLabels[b.bucket].toLowerCase()}
          </button>
        ))}
      </div>
    </section>
  );
}

function RefundsCard({ kpis, refunded }: { kpis: Kpis; refunded: { total: number; isCapped: boolean } | null }) {
  const pending = kpis.returns.awaitingRefund;
  const done = refunded?.total ?? 0;
  const all = Math.max(1, pending + done);
  return (
    <section className="card" aria-label="Refunds pending and confirmed">
      <h2>Refunds: awaiting vs paid</h2>
      <div className="split-bar" role="img" aria-label={`${pending} returns awaiting refund, ${formatCount(done, refunded?.isCapped)} refunded`}>
        <div className="split-done" style={{ width: `${(done / all) * 100}%` }} />
        <div className="split-pending" style={{ width: `${(pending / all) * 100}%` }} />
      </div>
      <p className="small-text">
        <span className="key key-done" aria-hidden="true" /> Paid in full: {formatCount(done, refunded?.isCapped)} returns ·{' '}
        <span className="key key-pending" aria-hidden="true" /> Awaiting refund: {formatCount(pending)} returns
      </p>
      <table className="facts compact" aria-label="Refunds not paid yet, per currency">
        <thead>
          <tr>
            <th scope="col">Currency</th>
            <th scope="col" title="Requested from Mirakl and not answered yet, or accepted by Mirakl and awaiting payment (WAITING_REFUND)">
              Refunds not paid yet
            </th>
            <th scope="col">Amount</th>
          </tr>
        </thead>
        <tbody>
          {kpis.refundsPending.length === 0 && (
            <tr>
              <td colSpan={3} className="muted">
                No refund is waiting to be sent, accepted or paid.
              </td>
            </tr>
          )}
          {kpis.refundsPending.map((r) => (
            <tr key={r.currency}>
              <td>{r.currency}</td>
              <td>{r.count}</td>
              <td>{formatMoney(r.amountMinor, r.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function MoneyAtRisk({ kpis }: { kpis: Kpis }) {
  return (
    <section className="card card-wide" aria-label="Money at risk">
      <h2>Money</h2>
      <p className="muted small-text">As at {formatDateTime(kpis.at)}. The month-end report and its evidence bundle count each figure the same way.</p>
      <MoneyFiguresTable figures={kpis.money} label="Money figures per currency" />
    </section>
  );
}

function OpenByOwner({ kpis }: { kpis: Kpis }) {
  const navigate = useAppStore((s) => s.navigate);
  const setFilter = useExceptionsStore((s) => s.setFilter);
  return (
    <section className="card" aria-label="Open exceptions by owner and type">
      <h2>Open exceptions</h2>
      <ul className="plain">
        {kpis.openByOwner.map((o) => (
          <li key={o.owner}>
            <button
              type="button"
              className="link"
              onClick={() => {
                setFilter({ owner: o.owner, show: 'active' });
                navigate('exceptions');
              }}
            >
              {ownerLabels[o.owner]}: {o.count}
            </button>
            {o.critical > 0 && <span className="error"> ({o.critical} critical)</span>}
          </li>
        ))}
      </ul>
      {kpis.openByType.length > 0 && (
        <table className="facts compact" aria-label="Open exceptions by type">
          <tbody>
            {kpis.openByType.map((t) => (
              <tr key={t.type}>
                <th scope="row">{t.title}</th>
                <td>{t.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function FeedHealth() {
  const status = useDashboardStore((s) => s.status);
  const kpis = useDashboardStore((s) => s.kpis);
  if (!status) return null;
  if (status.feeds.length === 0) {
    return (
      <EmptyState title="No sync has run yet">
        Once sync runs, each feed (Mirakl returns, orders and refunds, ReBound events, stock) appears here with its last successful poll, API
        errors and rate-limit waits.
      </EmptyState>
    );
  }
  const freshness = new Map(kpis?.freshness.map((f) => [f.feed, f]) ?? []);
  return (
    <section className="card" aria-label="Health per feed">
      <h2>Health per feed</h2>
      <table className="facts" aria-label="Feeds">
        <thead>
          <tr>
            <th scope="col">Feed</th>
            <th scope="col">Last successful poll</th>
            <th scope="col">API errors (1 h)</th>
            <th scope="col">Rate-limit waits (1 h)</th>
            <th scope="col">Every</th>
            <th scope="col">Next run</th>
            <th scope="col">Last error</th>
          </tr>
        </thead>
        <tbody>
          {status.feeds.map((f) => {
            const fresh = freshness.get(f.feed);
            return (
              <tr key={f.feed} data-feed={f.feed} className={fresh?.isStale ? 'stale' : undefined}>
                <th scope="row">
                  {f.label}
                  {f.isPaused && <span className="muted"> (paused)</span>}
                </th>
                <td>
                  {f.lastSuccessAt ? `${formatAge(fresh?.ageSeconds ?? null)} ago` : 'never'}
                  {fresh?.isStale && <span className="badge badge-warn">stale</span>}
                </td>
                <td className={f.apiErrors > 0 ? 'error' : undefined}>{f.apiErrors}</td>
                <td>{f.rateLimitWaits}</td>
                <td>{f.cadenceSeconds > 0 ? formatAge(f.cadenceSeconds) : 'each cycle'}</td>
                <td>{formatDateTime(f.nextRunAt)}</td>
                <td className="error">{f.lastError ?? ''}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

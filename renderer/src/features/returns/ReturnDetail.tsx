import { useEffect, useState } from 'react';
import type { TimelineSource } from '../../../../core/contract';
import { Dialog } from '../../app/Dialog';
import { LoadError, Loading } from '../../app/EmptyState';
import { formatDateTime, formatMoney, ownerLabels, severityLabels } from '../../app/format';
import { useAppStore } from '../../app/store';
import { ActionDialog, runPending, type PendingAction } from '../exceptions/ActionDialog';
import { ExceptionActions } from '../exceptions/ExceptionActions';
import { useExceptionsStore } from '../exceptions/store';
import { useReturnsStore, type LineGuard } from './store';
import { useCan, useTeamStore } from '../team/store';

const sourceLabels: Record<TimelineSource, string> = { mirakl: 'Mirakl', rebound: 'ReBound', bridge: 'Bridge', exception: 'Exception', user: 'Person' };

/** One return: where it stands in both systems, why each line's refund did or did not go out, what can be done now. */
export function ReturnDetail() {
  const { openId, detail, detailError, openReturn, loadDetail, refundNow } = useReturnsStore();
  const exceptions = useExceptionsStore();
  const navigate = useAppStore((s) => s.navigate);
  const [pending, setPending] = useState<PendingAction | null>(null);
  const [override, setOverride] = useState<{ orderLineId: string } | null>(null);
  const summary = detail?.timeline.summary;

  const { loadHelp, loadOffers } = exceptions;
  useEffect(() => {
    for (const e of detail?.exceptions ?? []) void loadHelp(e.type);
    if (detail?.exceptions.length) void loadOffers(detail.exceptions.map((e) => e.id));
  }, [detail, loadHelp, loadOffers]);

  return (
    <aside className="side-panel wide" role="region" aria-label={`Return ${summary?.commercialId ?? openId}`}>
      <div className="panel-head">
        <h2>Return {summary ? `for order ${summary.commercialId}` : openId}</h2>
        <button type="button" className="link" aria-label="Close return detail" onClick={() => openReturn(null)}>
          Close
        </button>
      </div>
      {detailError && <LoadError what={`return ${openId}`} message={detailError.message} onRetry={() => void loadDetail()} />}
      {!detail && !detailError && <Loading what="the return’s timeline" />}
      {detail && summary && (
        <div className="stack">
          {detail.timeline.reply && <ReplyToCustomer text={detail.timeline.reply} />}
          <table className="facts compact" aria-label="Where the return stands">
            <tbody>
              <tr>
                <th scope="row">Return id</th>
                <td>{detail.timeline.returnId}</td>
              </tr>
              <tr>
                <th scope="row">RMA</th>
                <td>{summary.rma ?? '—'}</td>
              </tr>
              <tr>
                <th scope="row">Mirakl</th>
                <td>{summary.miraklState}</td>
              </tr>
              <tr>
                <th scope="row">ReBound</th>
                <td>{summary.reboundOrderId ? `${summary.reboundStatus ?? '?'} (order ${summary.reboundOrderId})` : 'not in ReBound'}</td>
              </tr>
              <tr>
                <th scope="row">Tracking</th>
                <td>{summary.trackingNumber ?? '—'}</td>
              </tr>
              <tr>
                <th scope="row">Units</th>
                <td>
                  {summary.unitsExpected} expected, {summary.unitsArrived} arrived{summary.unitsMissing ? `, ${summary.unitsMissing} missing` : ''}
                </td>
              </tr>
              <tr>
                <th scope="row">Refunds (Mirakl)</th>
                <td>
                  {formatMoney(summary.refundedMinor, summary.currency)} paid
                  {summary.refundPendingMinor ? `, ${formatMoney(summary.refundPendingMinor, summary.currency)} accepted by Mirakl, awaiting payment` : ''}
                </td>
              </tr>
            </tbody>
          </table>

          <section aria-label="Refund checks">
            <h3>Refund checks per line</h3>
            {detail.lines.length === 0 && <p className="muted">Mirakl names no line for this return, so there is no refund to check.</p>}
            {detail.lines.map((line) => (
              <LineGuardView key={line.orderLineId} line={line} onRefund={() => void refundNow(detail.timeline.returnId, line.orderLineId)} onOverride={() => setOverride({ orderLineId: line.orderLineId })} />
            ))}
          </section>

          <section aria-label="Open exceptions of this return">
            <h3>Open exceptions</h3>
            {detail.exceptions.length === 0 && <p className="muted">None: the two systems agree on this return so far.</p>}
            <ul className="plain">
              {detail.exceptions.map((e) => (
                <li key={e.id} className="exception-item">
                  <div>
                    <strong>{e.title}</strong> <span className={`sev sev-${e.severity}`}>{severityLabels[e.severity]}</span>{' '}
                    <span className="muted">
                      #{e.id}, {ownerLabels[e.owner]}
                      {e.assignee ? `, ${e.assignee}` : ''}
                    </span>
                  </div>
                  <p>{e.cause}</p>
                  <ExceptionActions row={e} offers={exceptions.offers[e.id]} onPending={setPending} />
                  <button
                    type="button"
                    className="link"
                    onClick={() => {
                      void exceptions.open(e.id);
                      navigate('exceptions');
                    }}
                  >
                    Open in the exception queue
                  </button>
                </li>
              ))}
            </ul>
          </section>

          <section aria-label="Timeline">
            <h3>Timeline</h3>
            <ol className="timeline" aria-label="Timeline across Mirakl, ReBound, the bridge and people">
              {detail.timeline.entries.map((entry, i) => (
                <li key={`${entry.at}-${i}`} className={`tl tl-${entry.source}`} data-kind={entry.kind}>
                  <time dateTime={entry.at}>{formatDateTime(entry.at)}</time>
                  <span className={`src src-${entry.source}`}>{sourceLabels[entry.source]}</span>
                  <div>
                    <div title={entry.technical ?? undefined}>{entry.title}</div>
                    {entry.detail && <div className="muted small-text">{entry.detail}</div>}
                  </div>
                </li>
              ))}
            </ol>
          </section>
        </div>
      )}
      {pending && (
        <ActionDialog
          pending={pending}
          serverNow={exceptions.counts?.at ?? null}
          onCancel={() => setPending(null)}
          onConfirm={async (answer) => {
            const ok = await runPending(pending, answer, exceptions);
            await loadDetail();
            return ok;
          }}
        />
      )}
      {override && detail && (
        <OverrideDialog
          orderLineId={override.orderLineId}
          onCancel={() => setOverride(null)}
          onConfirm={(reason) => refundNow(detail.timeline.returnId, override.orderLineId, reason)}
        />
      )}
    </aside>
  );
}

function LineGuardView({ line, onRefund, onOverride }: { line: LineGuard; onRefund(): void; onOverride(): void }) {
  const mayRefund = useCan('refunds.refundNow');
  const isTeam = useTeamStore((s) => Boolean(s.me?.team));
  const g = line.guard;
  const name = line.returned ? `Line ${line.orderLineId} (${line.returned.quantity} × ${line.returned.product})` : `Line ${line.orderLineId}`;
  if (!g) return <p className="error">{name}: {line.error?.message ?? 'no answer'}</p>;
  const intent = g.intent;
  // Only what the server says can be done now (the checks "refund now" itself makes): nothing it would refuse.
  const refund = g.actions.find((a) => a.id === 'refund_now' && a.isAllowed);
  const override = g.actions.find((a) => a.id === 'refund_override' && a.isAllowed);
  return (
    <div className="guard" aria-label={`Refund checks for line ${line.orderLineId}`} role="group">
      <div>
        <strong>{name}</strong>: {g.verdict}
      </div>
      <ul className="conditions">
        {g.conditions.map((c) => (
          <li key={c.name} className={c.holds ? 'holds' : 'fails'}>
            <span aria-hidden="true">{c.holds ? '✓' : '✗'}</span> <span className="visually-hidden">{c.holds ? 'met:' : 'not met:'}</span> {c.name} —{' '}
            <span className="muted">{c.detail}</span>
          </li>
        ))}
      </ul>
      {intent && (
        <p className="muted small-text">
          {refundCallWords[intent.state]}
          {intent.refundId ? ` (Mirakl refund ${intent.refundId})` : ''}, {intent.attempts} attempt{intent.attempts === 1 ? '' : 's'}
          {intent.lastError ? `; last error: ${intent.lastError}` : ''}
          {intent.nextAttemptAt ? `; next attempt ${formatDateTime(intent.nextAttemptAt)}` : ''}
        </p>
      )}
      <div className="row-actions">
        {refund && (
          <button type="button" className="primary" title={mayRefund.whyNot ?? refund.help} disabled={!mayRefund.isAllowed} onClick={onRefund}>
            {refund.label}
          </button>
        )}
        {override && (
          <button type="button" title={mayRefund.whyNot ?? override.help} disabled={!mayRefund.isAllowed} onClick={onOverride}>
            {isTeam ? `Propose: ${override.label.toLowerCase()}` : override.label}…
          </button>
        )}
        {(refund || override) && !mayRefund.isAllowed && <span className="muted small-text">{mayRefund.whyNot}</span>}
      </div>
    </div>
  );
}

function OverrideDialog({ orderLineId, onCancel, onConfirm }: { orderLineId: string; onCancel(): void; onConfirm(reason: string): Promise<boolean> }) {
  const isTeam = useTeamStore((s) => Boolean(s.me?.team));
  const [reason, setReason] = useState('');
  const [isBusy, setBusy] = useState(false);
  return (
    <Dialog title={`Refund line ${orderLineId} without a verified receipt`} onClose={onCancel}>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          // Done or refused, the dialog closes: a refusal is said with its reason, and the line shows what is offered now.
          void onConfirm(reason).then(() => {
            setBusy(false);
            onCancel();
          });
        }}
      >
        <p>
          The refund checks have not all passed. An override sends the refund anyway; it is recorded in the audit log with your name and
          reason. Checks that Mirakl itself needs (a known order line and a refund reason) cannot be overridden.
          {isTeam && ' On this team server an override is a proposal: it goes out once another Approver approves it.'}
        </p>
        <label>
          Reason (kept in the audit log)
          <textarea value={reason} onChange={(e) => setReason(e.target.value)} minLength={3} required rows={3} autoFocus />
        </label>
        <div className="row-actions">
          <button type="submit" className="danger" disabled={isBusy || reason.trim().length < 3}>
            {isTeam ? 'Send for approval' : 'Refund with override'}
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Our refund call's state in words: "confirmed" only means Mirakl took the call, not that it paid (the verdict says which). */
const refundCallWords: Record<string, string> = {
  planned: 'Refund requested, not sent yet',
  sending: 'Refund being sent to Mirakl',
  uncertain: 'Refund call outcome unknown (being checked with Mirakl)',
  failed: 'Refund call refused by Mirakl',
  confirmed: 'Refund call taken by Mirakl',
};

/** The text a CS lead pastes to the customer, with one button to copy it. */
function ReplyToCustomer({ text }: { text: string }) {
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <section aria-label="Reply to customer" className="reply">
      <h3>Reply to customer</h3>
      <p className="reply-text" data-testid="reply-text">
        {text}
      </p>
      <div className="row-actions">
        <button
          type="button"
          onClick={() => {
            // The clipboard may be refused (a browser tab without permission): the text stays selectable above.
            navigator.clipboard.writeText(text).then(
              () => setCopied('copied'),
              () => setCopied('failed'),
            );
          }}
        >
          Copy reply
        </button>
        <span role="status" className="muted small-text">
          {copied === 'copied' ? 'Copied.' : copied === 'failed' ? 'Could not copy: select the text and copy it.' : ''}
        </span>
      </div>
    </section>
  );
}

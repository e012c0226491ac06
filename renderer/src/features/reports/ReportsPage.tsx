import { useEffect, useId, useState } from 'react';
import { bundleCommand, oneUserReview, personLabel, type ContractError, type Report, type SignOffKind, type SignOffs } from '../../../../core/contract';
import { offerFile, transportKind } from '../../api/transport';
import { Dialog } from '../../app/Dialog';
import { MoneyFiguresTable } from '../../app/MoneyFiguresTable';
import { EmptyState, LoadError, Loading } from '../../app/EmptyState';
import { describeError, formatCount, formatDateTime } from '../../app/format';
import { useAppStore } from '../../app/store';
import { checkStatusLabels, moneyMeasures, reportTables, type ReportColumn, type ReportTable } from './columns';
import { useCan, useTeamStore } from '../team/store';
import { monthLabel, signOffWords, useReportsStore, type Exported, type PeriodRow } from './store';

const utcDateTime = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
const formatUtc = (iso: string) => `${utcDateTime.format(Date.parse(iso))} UTC`;

/** Rows a table shows before "Show all": enough to scan, short enough to keep the page readable. */
const rowCap = 25;

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function ReportsPage() {
  const { loadList, watch } = useReportsStore();
  const info = useAppStore((s) => s.info);
  // Until app.info says otherwise the view offers no action: an evidence bundle must never show one.
  const isReadOnly = info === null || Boolean(info.bundle);

  useEffect(() => {
    void loadList();
    return watch();
  }, [loadList, watch]);

  return (
    <>
      <h1>Reports</h1>
      <p className="muted">
        Month-end reconciliation: every refund matched to a receipt ReBound verified, receipts still awaiting their refund, stock restored per offer and the
        exceptions open at period end. Export a month as CSV, XLSX and PDF (with an evidence bundle for offline review) and lock it to close it.
      </p>
      {info?.bundle && (
        <p className="read-only-note" role="note">
          This is the report held in the evidence bundle, shown read-only: exporting and locking are not available here.
        </p>
      )}
      <PeriodList />
      <ReportView isReadOnly={isReadOnly} />
    </>
  );
}

function PeriodList() {
  const { periods, listError, hasLoadedList, selected, loadList, select } = useReportsStore();
  const captionId = useId();
  return (
    <section className="card" aria-labelledby={captionId}>
      <h2 id={captionId}>Periods</h2>
      {listError && <LoadError what="the periods" message={describeError(listError)} onRetry={() => void loadList()} />}
      {!hasLoadedList && <Loading what="the periods" />}
      {hasLoadedList && !listError && periods.length === 0 && (
        <EmptyState title="No periods yet">Reports cover the months in which returns were opened. None has been recorded yet.</EmptyState>
      )}
      {periods.length > 0 && (
        <div className="table-wrap periods-wrap">
          <table className="queue">
            <caption className="visually-hidden">Periods: months with returns, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Period</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Returns opened
                </th>
                <th scope="col">Lock</th>
                <th scope="col" className="num">
                  Changes since lock
                </th>
              </tr>
            </thead>
            <tbody>
              {periods.map((p) => (
                <PeriodLine key={p.period} period={p} isSelected={p.period === selected} onSelect={() => void select(p.period)} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function PeriodLine({ period: p, isSelected, onSelect }: { period: PeriodRow; isSelected: boolean; onSelect(): void }) {
  return (
    <tr className={isSelected ? 'selected' : undefined} data-period={p.period}>
      <th scope="row">
        <button type="button" className="link" aria-current={isSelected ? 'true' : undefined} aria-label={`Show the report for ${monthLabel(p.period)}`} onClick={onSelect}>
          {monthLabel(p.period)}
        </button>
      </th>
      <td>{p.isComplete ? 'Complete' : 'In progress'}</td>
      <td className="num">{formatCount(p.returnsOpened)}</td>
      <td>
        {p.lock ? `Locked by ${p.lock.lockedBy}, ${formatDateTime(p.lock.lockedAt)}` : 'Not locked'}
        {p.endedLocks.length > 0 && <div className="muted small-text">Reopened {formatDateTime(p.endedLocks[p.endedLocks.length - 1]!.unlockedAt)}</div>}
      </td>
      <td className={`num ${p.changesSinceLock > 0 ? 'error' : ''}`}>{p.lock ? formatCount(p.changesSinceLock) : '—'}</td>
    </tr>
  );
}

function ReportView({ isReadOnly }: { isReadOnly: boolean }) {
  const { selected, report, reportError, isLoadingReport, loadReport } = useReportsStore();
  const headingId = useId();
  if (!selected) return null;
  return (
    <section className="report" aria-labelledby={headingId}>
      <div className="report-head">
        <h2 id={headingId}>Report for {monthLabel(selected)}</h2>
        {report && (
          <span className={`badge ${report.status === 'locked' ? 'badge-ok' : 'badge-warn'}`} data-testid="report-status">
            {report.status === 'locked' ? 'Locked' : 'Not locked'}
          </span>
        )}
      </div>
      {reportError && <LoadError what={`the report for ${monthLabel(selected)}`} message={describeError(reportError)} onRetry={() => void loadReport()} />}
      {!report && !reportError && <Loading what={`the report for ${monthLabel(selected)}`} />}
      {report && (
        <>
          <ReportMeta report={report} />
          <EndedLocks period={report.period} />
          {!isReadOnly && <ReportActions report={report} isLoading={isLoadingReport} />}
          {!isReadOnly && report.isPeriodComplete && <SignOffPanel report={report} />}
          <Totals report={report} />
          <Checks report={report} />
          {reportTables
            .filter((t) => !t.isLockedOnly || report.status === 'locked')
            .map((t) => (
              <ReportTableView key={`${report.period}-${t.id}`} table={t} report={report} />
            ))}
        </>
      )}
    </section>
  );
}

function ReportMeta({ report }: { report: Report }) {
  const lock = report.lock;
  return (
    <div className="report-meta">
      <p>
        {formatUtc(report.from)} to {formatUtc(report.to)} ·{' '}
        {report.isPeriodComplete ? 'the period is over' : 'the period had not ended: figures as they stood then, not final'} · as of {formatDateTime(report.asOf)} ·
        generated {formatDateTime(report.generatedAt)}
      </p>
      <p className="muted small-text">
        Refund tolerance {formatCount(report.toleranceMinor)} minor unit{report.toleranceMinor === 1 ? '' : 's'} · mappings{' '}
        {Object.values(report.mappingVersions).join(', ') || 'none recorded'}
      </p>
      {lock && (
        <p data-testid="report-lock">
          Locked by {lock.lockedBy} on {formatDateTime(lock.lockedAt)}
          {lock.reason ? ` — “${lock.reason}”` : ''}. Report sha256 <code>{lock.reportSha256}</code>.{' '}
          {lock.isIntact ? (
            <span className="ok">The stored report still matches it.</span>
          ) : (
            <strong className="error" role="alert">
              The stored report no longer matches the hash recorded when it was locked.
            </strong>
          )}
        </p>
      )}
      {report.changesSinceLock.length > 0 && (
        <p className="error">
          {formatCount(report.changesSinceLock.length)} change{report.changesSinceLock.length === 1 ? '' : 's'} touching this period found since it was
          locked; each is reported as an adjustment in the period it names (listed below).
        </p>
      )}
    </div>
  );
}

/** The month's earlier locks, ended when it was reopened: kept with their report hashes, who reopened them and why. */
function EndedLocks({ period }: { period: string }) {
  const ended = useReportsStore((s) => s.periods.find((p) => p.period === period)?.endedLocks ?? []);
  if (ended.length === 0) return null;
  return (
    <details className="report-meta" data-testid="ended-locks">
      <summary>
        Reopened {ended.length === 1 ? 'once' : `${formatCount(ended.length)} times`}: earlier lock{ended.length === 1 ? '' : 's'} kept as history
      </summary>
      <ul className="plain">
        {ended.map((e) => (
          <li key={e.unlockedAt + e.reportSha256}>
            Locked by {e.lockedBy} on {formatDateTime(e.lockedAt)}
            {e.lockReason ? ` (“${e.lockReason}”)` : ''}, report sha256 <code>{e.reportSha256}</code>. Reopened by {e.unlockedBy} on {formatDateTime(e.unlockedAt)}
            {e.proposedBy ? `, proposed by ${e.proposedBy}` : ''}: “{e.reason}”.
          </li>
        ))}
      </ul>
    </details>
  );
}

/** Whether the month may be reopened now, and if not, why: the person's role, and no later month locked. */
function unlockWhyNot(mayUnlock: { isAllowed: boolean; whyNot: string | null }, period: string, periods: PeriodRow[]): string | null {
  if (!mayUnlock.isAllowed) return mayUnlock.whyNot;
  const later = periods.filter((p) => p.lock && p.period > period).map((p) => p.period).sort();
  if (later.length === 0) return null;
  const latest = monthLabel(later[later.length - 1]!);
  return `A later month is locked (${later.map(monthLabel).join(', ')}): reopen ${later.length === 1 ? latest : `them first, latest first (${latest})`} first.`;
}

/** Whether the lock may be asked for now, and if not, why: the person's role, and on a team server both signatures. */
function lockWhyNot(mayLock: { isAllowed: boolean; whyNot: string | null }, isTeam: boolean, signOffs: SignOffs | null): string | null {
  if (!mayLock.isAllowed) return mayLock.whyNot;
  if (!isTeam) return null;
  if (!signOffs) return 'Loading its sign-offs…';
  if (!signOffs.complete) return "On this team server a month is locked once a preparer and then a reviewer have signed its figures as they stand (see Sign-off below).";
  return null;
}

function ReportActions({ report, isLoading }: { report: Report; isLoading: boolean }) {
  const { exporting, exportError, exported, exportFiles, loadReport, loadSignOffs, signOffs, periods } = useReportsStore();
  const [isLocking, setIsLocking] = useState(false);
  const [isUnlocking, setIsUnlocking] = useState(false);
  const mayExport = useCan('reports.generate');
  const mayLock = useCan('reports.lock');
  const mayUnlock = useCan('reports.unlock');
  const whyNotUnlock = report.status === 'locked' ? unlockWhyNot(mayUnlock, report.period, periods) : null;
  const isTeam = useTeamStore((s) => Boolean(s.me?.team));
  const canLock = report.isPeriodComplete && report.status === 'live';
  const whyNotLock = canLock ? lockWhyNot(mayLock, isTeam, signOffs?.period === report.period ? signOffs : null) : null;
  return (
    <>
      <div className="row-actions" role="group" aria-label={`Actions for ${monthLabel(report.period)}`}>
        <button type="button" disabled={exporting !== null || !mayExport.isAllowed} title={mayExport.whyNot ?? undefined} onClick={() => void exportFiles(false)}>
          {exporting === 'files' ? 'Writing files…' : 'Export files'}
        </button>
        <button type="button" disabled={exporting !== null || !mayExport.isAllowed} title={mayExport.whyNot ?? undefined} onClick={() => void exportFiles(true)}>
          {exporting === 'bundle' ? 'Writing files and bundle…' : 'Export with evidence bundle'}
        </button>
        {canLock && (
          <button type="button" className="danger" disabled={whyNotLock !== null} title={whyNotLock ?? undefined} aria-describedby={whyNotLock ? 'lock-why-not' : undefined} onClick={() => setIsLocking(true)}>
            Lock period…
          </button>
        )}
        {report.status === 'locked' && (
          <button type="button" disabled={whyNotUnlock !== null} title={whyNotUnlock ?? undefined} aria-describedby={whyNotUnlock ? 'unlock-why-not' : undefined} onClick={() => setIsUnlocking(true)}>
            Reopen month…
          </button>
        )}
        <button type="button" disabled={isLoading} onClick={() => void Promise.all([loadReport(), ...(report.isPeriodComplete ? [loadSignOffs()] : [])])}>
          {isLoading ? 'Refreshing…' : 'Refresh report'}
        </button>
        {!report.isPeriodComplete && <span className="muted small-text">A period can be locked once it is over.</span>}
      </div>
      {!mayExport.isAllowed && <p className="muted small-text">Exporting: {mayExport.whyNot}</p>}
      {whyNotLock && (
        <p className="muted small-text" id="lock-why-not" data-testid="lock-why-not">
          Locking: {whyNotLock}
        </p>
      )}
      {whyNotUnlock && (
        <p className="muted small-text" id="unlock-why-not" data-testid="unlock-why-not">
          Reopening: {whyNotUnlock}
        </p>
      )}
      {exportError && (
        <p className="error" role="alert" data-testid="export-error">
          {describeError(exportError)}
        </p>
      )}
      {exported && exported.report.period === report.period && exported.report.status === 'live' && report.status === 'locked' && (
        <p className="export-hint" role="status" data-testid="export-before-lock">
          The files below were exported before {monthLabel(report.period)} was locked, and say “Not locked”. Export again to have the locked month’s files: the
          earlier ones are kept.
        </p>
      )}
      {exported && exported.report.period === report.period && <ExportedFiles exported={exported} />}
      {isLocking && <LockDialog period={report.period} onClose={() => setIsLocking(false)} />}
      {isUnlocking && <UnlockDialog period={report.period} isTeam={isTeam} onClose={() => setIsUnlocking(false)} />}
    </>
  );
}

/**
 * Why the person cannot sign as `kind` now, or null when they may (the server decides anyway). On a team server the
 * reviewer needs the Approver role and must not be the preparer; in the desktop app and the loopback browser mode one
 * person uses the app, so nobody can review what they prepared there.
 */
function signWhyNot(kind: SignOffKind, signOffs: SignOffs, context: { maySign: { isAllowed: boolean; whyNot: string | null }; isTeam: boolean; me: string | null; isApprover: boolean }): string | null {
  if (!context.maySign.isAllowed) return context.maySign.whyNot;
  const standing = signOffs.signOffs.filter((s) => s.standing);
  const same = standing.find((s) => s.kind === kind);
  if (same) return `Already ${kind} by ${same.signedBy}, and its figures have not changed since.`;
  if (kind === 'prepared') return null;
  if (!context.isTeam) return oneUserReview;
  if (!context.isApprover) return "Reviewing a month's report needs the Approver role; an Integration admin can change your roles.";
  const prepared = standing.find((s) => s.kind === 'prepared');
  if (!prepared) return 'It must be prepared (signed by its preparer) first.';
  if (prepared.signedBy === context.me) return 'You prepared it: another person must review it.';
  return null;
}

function SignOffPanel({ report }: { report: Report }) {
  const { signOffs: loaded, signOffsError, signing, signError, loadSignOffs, signOff } = useReportsStore();
  const maySign = useCan('reports.signOff');
  const me = useTeamStore((s) => s.me);
  const isTeam = Boolean(me?.team);
  const [note, setNote] = useState('');
  const headingId = useId();
  const period = report.period;
  const signOffs = loaded?.period === period ? loaded : null;

  useEffect(() => {
    void loadSignOffs();
  }, [period, loadSignOffs]);

  const context = { maySign, isTeam, me: me?.username ? personLabel({ displayName: me.displayName, username: me.username }) : null, isApprover: Boolean(me?.roles.includes('approver')) };
  const sign = (kind: SignOffKind) => void signOff(kind, note).then((isDone) => isDone && setNote(''));
  const isLocked = report.status === 'locked';
  return (
    <section className="card" aria-labelledby={headingId} data-testid="sign-off">
      <h3 id={headingId}>Sign-off</h3>
      <p className="muted small-text">
        A preparer signs {monthLabel(period)}’s figures, then another person reviews them. A signature holds the figures it saw: if they change, it is
        withdrawn and the month must be signed again.
        {isTeam && ' On this team server the month can be locked once both signatures stand.'}
      </p>
      {signOffsError && <LoadError what={`the sign-offs of ${monthLabel(period)}`} message={describeError(signOffsError)} onRetry={() => void loadSignOffs()} />}
      {!signOffs && !signOffsError && <Loading what="the sign-offs" />}
      {signOffs && (
        <>
          <p data-testid="sign-off-status" className={signOffs.complete ? 'ok' : undefined}>
            {signOffs.complete
              ? 'Signed off: prepared and reviewed on its figures as they stand.'
              : signOffs.signOffs.some((s) => s.standing && s.kind === 'prepared')
                ? 'Prepared; waiting for a reviewer.'
                : 'Not signed yet: waiting for its preparer.'}
          </p>
          {signOffs.signOffs.length > 0 && (
            <ul className="plain" aria-label={`Signatures on ${monthLabel(period)}`}>
              {signOffs.signOffs.map((s, i) => (
                <li key={i} data-signoff={s.kind} data-standing={s.standing ? 'yes' : 'no'} className={s.standing ? undefined : 'muted'}>
                  <strong>{signOffWords[s.kind].done}</strong> by {s.signedBy}, {formatDateTime(s.signedAt)}
                  {s.note ? ` — “${s.note}”` : ''}
                  {!s.standing && (
                    <>
                      {' '}
                      · <span className="error">withdrawn{s.withdrawnAt ? ` ${formatDateTime(s.withdrawnAt)}` : ''}</span>: {s.withdrawnReason ?? 'the figures changed after it was signed.'}
                    </>
                  )}
                </li>
              ))}
            </ul>
          )}
          {isLocked ? (
            <p className="muted small-text">{monthLabel(period)} is locked: its signatures are kept as they were.</p>
          ) : (
            <form className="stack" aria-label={`Sign ${monthLabel(period)}`} onSubmit={(e) => e.preventDefault()}>
              <div className="field">
                <label>
                  Note (optional, kept with the signature and in the audit log)
                  <textarea rows={2} value={note} maxLength={2000} onChange={(e) => setNote(e.target.value)} placeholder="Tied out to the bank statement …" />
                </label>
              </div>
              {(['prepared', 'reviewed'] as const).map((kind) => {
                const whyNot = signWhyNot(kind, signOffs, context);
                const label = `Sign as ${signOffWords[kind].role}`;
                return (
                  <div className="row-actions" key={kind}>
                    <button type="button" disabled={whyNot !== null || signing !== null} title={whyNot ?? undefined} aria-describedby={whyNot ? `why-not-${kind}` : undefined} onClick={() => sign(kind)}>
                      {signing === kind ? 'Signing…' : label}
                    </button>
                    {whyNot && (
                      <span className="muted small-text" id={`why-not-${kind}`} data-testid={`why-not-${kind}`}>
                        {whyNot}
                      </span>
                    )}
                  </div>
                );
              })}
              {signError && (
                <p className="error" role="alert" data-testid="sign-off-error">
                  {describeError(signError)}
                </p>
              )}
            </form>
          )}
        </>
      )}
    </section>
  );
}

function ExportedFiles({ exported }: { exported: Exported }) {
  const captionId = useId();
  const [offerError, setOfferError] = useState<ContractError | null>(null);
  const all = [...(exported.bundle ? [{ ...exported.bundle, isBundle: true }] : []), ...exported.files.map((f) => ({ ...f, isBundle: false }))];
  const isDesktop = transportKind === 'electron';
  const offer = async (path: string) => setOfferError(await offerFile(path));
  return (
    <section className="card" aria-labelledby={captionId} data-testid="exported-files">
      <h3 id={captionId}>Files written</h3>
      <p className="muted">
        {formatCount(all.length)} file{all.length === 1 ? '' : 's'} in <code>{exported.outDir}</code>, exported {formatDateTime(exported.exportedAt)} while the month was{' '}
        {exported.report.status === 'locked' ? 'locked' : 'not locked'}.
      </p>
      <p className="muted small-text" data-testid="earlier-exports">
        Every export goes into a folder of its own: files are never replaced.
        {exported.earlierExports > 0 &&
          ` ${formatCount(exported.earlierExports)} earlier export${exported.earlierExports === 1 ? '' : 's'} of ${monthLabel(exported.report.period)} ${exported.earlierExports === 1 ? 'is' : 'are'} kept beside it.`}
      </p>
      {exported.bundle && (
        <p>
          Evidence bundle sha256 <code>{exported.bundle.sha256}</code>. Open it read-only with <code data-testid="bundle-command">{bundleCommand(exported.bundle.path)}</code>.
        </p>
      )}
      {offerError && (
        <p className="error" role="alert" data-testid="offer-error">
          {describeError(offerError)}
        </p>
      )}
      <div className="table-wrap">
        <table className="queue">
          <caption className="visually-hidden">Files written for {monthLabel(exported.report.period)}</caption>
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">Path</th>
              <th scope="col" className="num">
                Size
              </th>
              <th scope="col">
                <span className="visually-hidden">{isDesktop ? 'Show in folder' : 'Download'}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {all.map((f) => (
              <tr key={f.path} data-file={f.name}>
                <th scope="row">{f.isBundle ? <strong>{f.name} (evidence bundle)</strong> : f.name}</th>
                <td>
                  <code>{f.path}</code>
                </td>
                <td className="num" data-bytes={f.bytes}>
                  {formatBytes(f.bytes)}
                </td>
                <td>
                  <button type="button" className="link" aria-label={isDesktop ? `Show ${f.name} in its folder` : `Download ${f.name}`} onClick={() => void offer(f.path)}>
                    {isDesktop ? 'Show in folder' : 'Download'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function LockDialog({ period, onClose }: { period: string; onClose(): void }) {
  const { lock, isLocking, lockError, clearLockError } = useReportsStore();
  const [reason, setReason] = useState('');
  const close = () => {
    clearLockError();
    onClose();
  };
  return (
    <Dialog title={`Lock ${monthLabel(period)}`} onClose={close}>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void lock(reason).then((isDone) => isDone && onClose());
        }}
      >
        <p>
          Locking freezes this report and the facts behind it, with an entry in the audit log. A lock is never changed: anything that changes
          {` ${monthLabel(period)}`} later is reported as a post-close adjustment in the next open period. Should the month have to be reopened (with a
          reason, approved by a second person on a team server), this lock is kept as history.
        </p>
        <label>
          Reason (recorded with the lock)
          <textarea rows={3} value={reason} onChange={(e) => setReason(e.target.value)} placeholder="Month-end close, reviewed by …" />
        </label>
        {lockError && (
          <p className="error" role="alert" data-testid="lock-error">
            {describeError(lockError)}
          </p>
        )}
        <div className="row-actions">
          <button type="submit" className="danger" disabled={isLocking}>
            {isLocking ? 'Locking…' : `Lock ${monthLabel(period)}`}
          </button>
          <button type="button" onClick={close}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function UnlockDialog({ period, isTeam, onClose }: { period: string; isTeam: boolean; onClose(): void }) {
  const { unlock, isUnlocking, unlockError, clearUnlockError } = useReportsStore();
  const [reason, setReason] = useState('');
  const reasonId = useId();
  const close = () => {
    clearUnlockError();
    onClose();
  };
  return (
    <Dialog title={`Reopen ${monthLabel(period)}`} onClose={close}>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void unlock(reason).then((outcome) => outcome !== 'refused' && onClose());
        }}
      >
        <p>
          Reopening makes {monthLabel(period)} live again: its report is computed from the data as it stands, counting the changes found since it was locked
          (no later month reports them any more). Its lock — the frozen report and its sha256 — is kept as history, and both sign-offs are withdrawn: the
          month must be prepared, reviewed and locked again.
        </p>
        {isTeam && (
          <p className="muted" data-testid="unlock-needs-approval">
            On this team server reopening a month needs a second person: this sends a proposal, and another Approver’s approval runs it.
          </p>
        )}
        <label htmlFor={reasonId}>Reason (required; kept with the ended lock and in the audit log)</label>
        <textarea id={reasonId} rows={3} value={reason} maxLength={2000} required onChange={(e) => setReason(e.target.value)} placeholder="A carrier credit note dated in the month arrived after the close …" />
        {unlockError && (
          <p className="error" role="alert" data-testid="unlock-error">
            {describeError(unlockError)}
          </p>
        )}
        <div className="row-actions">
          <button type="submit" className="danger" disabled={isUnlocking || reason.trim() === ''}>
            {isUnlocking ? 'Reopening…' : isTeam ? `Propose reopening ${monthLabel(period)}` : `Reopen ${monthLabel(period)}`}
          </button>
          <button type="button" onClick={close}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function Figure({ label, value, isAlert = false }: { label: string; value: number; isAlert?: boolean }) {
  return (
    <div className={`figure ${isAlert ? 'figure-alert' : ''}`} role="group" aria-label={label}>
      <div className="figure-value">{formatCount(value)}</div>
      <div className="figure-label">{label}</div>
    </div>
  );
}

function Totals({ report }: { report: Report }) {
  const returnsId = useId();
  const moneyId = useId();
  return (
    <>
      <section aria-labelledby={returnsId}>
        <h3 id={returnsId}>Returns and units</h3>
        <div className="kpis">
          <Figure label="Returns opened" value={report.returns.opened} />
          <Figure label="Returns received" value={report.returns.received} />
          <Figure label="Returns refunded" value={report.returns.refunded} />
          <Figure label="Returns closed" value={report.returns.closed} />
          <Figure label="Units verified" value={report.units.verified} />
          <Figure label="Units restocked" value={report.units.restocked} />
          <Figure label="Units awaiting restock" value={report.units.awaitingRestock} />
        </div>
      </section>
      <section aria-labelledby={moneyId}>
        <h3 id={moneyId}>Money per currency</h3>
        {report.money.length === 0 ? (
          <p className="empty-line">No refunds and no receipts awaiting refund in this period.</p>
        ) : (
          <div className="table-wrap money-wrap">
            <table className="queue money" data-testid="money-table">
              <caption className="visually-hidden">Money per currency: each measure in its own currency, never summed across currencies</caption>
              <thead>
                <tr>
                  <th scope="col">Measure</th>
                  {report.money.map((m) => (
                    <th key={m.currency} scope="col" className="num">
                      {m.currency === '?' ? 'Currency not known yet' : m.currency}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {moneyMeasures.map((measure) => (
                  <tr key={measure.label}>
                    <th scope="row">{measure.label}</th>
                    {report.money.map((m) => (
                      <td key={m.currency} className={`num ${measure.isAlert?.(m, report.toleranceMinor) ? 'error' : ''}`} data-currency={m.currency}>
                        {measure.cell(m)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {report.figures.length > 0 && (
          <>
            <h4>As at {formatDateTime(report.asOf)}: the figures the dashboard shows</h4>
            <MoneyFiguresTable figures={report.figures} label="Money figures as at the report's moment" paidNote="Here: dated in this period." />
          </>
        )}
      </section>
    </>
  );
}

function Checks({ report }: { report: Report }) {
  const headingId = useId();
  const count = (status: string) => report.checks.filter((c) => c.status === status).length;
  const failed = count('fail');
  return (
    <section aria-labelledby={headingId}>
      <h3 id={headingId}>Checks</h3>
      <p className={failed ? 'error' : 'muted'} data-testid="checks-summary">
        {count('pass')} passed, {failed} failed, {count('warn')} to look at, {count('info')} for information.
      </p>
      <div className="table-wrap">
        <table className="queue checks" data-testid="checks-table">
          <caption className="visually-hidden">Checks: what the report proves, and what needs a person</caption>
          <thead>
            <tr>
              <th scope="col">Check</th>
              <th scope="col">Result</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {report.checks.map((c) => (
              <tr key={c.id} data-check={c.id}>
                <th scope="row">{c.label}</th>
                <td>
                  <span className={`check-result check-result-${c.status}`}>{checkStatusLabels[c.status]}</span>
                </td>
                <td>{c.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function cellClass(column: ReportColumn | undefined): string | undefined {
  if (column?.isNumeric) return 'num';
  return column?.fit === 'normal' ? undefined : column?.fit;
}

function ReportTableView({ table, report }: { table: ReportTable; report: Report }) {
  const [isShowingAll, setIsShowingAll] = useState(false);
  const headingId = useId();
  const rows = table.rows(report);
  const shown = isShowingAll ? rows : rows.slice(0, rowCap);
  return (
    <section aria-labelledby={headingId} data-table={table.id}>
      <h3 id={headingId}>
        {table.title} <span className="muted">({formatCount(rows.length)})</span>
      </h3>
      <p className="muted small-text">{table.about}</p>
      {rows.length === 0 ? (
        <p className="empty-line">None.</p>
      ) : (
        <>
          <div className="table-wrap">
            <table className="queue">
              <caption className="visually-hidden">
                {table.title}: {rows.length === shown.length ? `${formatCount(rows.length)} rows` : `the first ${formatCount(shown.length)} of ${formatCount(rows.length)} rows`}
              </caption>
              <thead>
                <tr>
                  {table.columns.map((c) => (
                    <th key={c.header} scope="col" className={c.isNumeric ? 'num' : undefined}>
                      {c.header}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {shown.map((cells, i) => (
                  <tr key={i}>
                    {cells.map((cell, j) => (
                      <td key={j} className={cellClass(table.columns[j])}>
                        {cell}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {rows.length > shown.length && (
            <p className="muted small-text">
              Showing the first {formatCount(shown.length)} of {formatCount(rows.length)}; the exported files hold every row.{' '}
              <button type="button" className="link" onClick={() => setIsShowingAll(true)}>
                Show all {formatCount(rows.length)}
              </button>
            </p>
          )}
        </>
      )}
    </section>
  );
}

import { useEffect, useState } from 'react';
import { Dialog } from '../../app/Dialog';
import { formatDateTime } from '../../app/format';
import { useAppStore } from '../../app/store';
import { useExceptionsStore } from '../exceptions/store';
import { useWritesStore } from './store';
import { useCan } from '../team/store';

/** On every page while writes are frozen: who froze them, when and why, what waits, and the way to lift it. */
export function WriteFreezeBanner() {
  const status = useWritesStore((s) => s.status);
  const load = useWritesStore((s) => s.load);
  const [isAsking, setAsking] = useState(false);
  const mayUnfreeze = useCan('writes.unfreeze');
  useEffect(() => {
    void load();
  }, [load]);
  const frozen = status?.frozen;
  if (!status) return null;
  if (!frozen) return <PausedBanner paused={status.paused} />;
  return (
    <div className="banner banner-frozen" role="alert" aria-label="Writes frozen">
      <strong>Writes frozen</strong> — nothing is sent to Mirakl or ReBound (refunds, stock, status updates, ReBound returns); reads go on. Frozen by{' '}
      {frozen.by} on {formatDateTime(frozen.at)}: “{frozen.reason}”. {status.waiting} call{status.waiting === 1 ? '' : 's'} wait{status.waiting === 1 ? 's' : ''} to go
      out.{' '}
      <button type="button" disabled={!mayUnfreeze.isAllowed} title={mayUnfreeze.whyNot ?? undefined} onClick={() => setAsking(true)}>
        Unfreeze…
      </button>
      {isAsking && <FreezeDialog to="unfreeze" onClose={() => setAsking(false)} />}
    </div>
  );
}

/**
 * On every page while the app holds refunds and stock updates back by itself: someone else is writing to the shop
 * (FOREIGN_WRITE, until a person acknowledges it) or the database was restored (RESTORED_DATABASE, clears by itself).
 * The way out is the exception: the button shows it in Exceptions.
 */
function PausedBanner({ paused }: { paused: { exceptionId: number; type: 'FOREIGN_WRITE' | 'RESTORED_DATABASE'; title: string; since: string }[] }) {
  const navigate = useAppStore((s) => s.navigate);
  const setFilter = useExceptionsStore((s) => s.setFilter);
  const first = paused[0];
  if (!first) return null;
  const isForeign = paused.some((p) => p.type === 'FOREIGN_WRITE');
  const type = isForeign ? 'FOREIGN_WRITE' : 'RESTORED_DATABASE';
  return (
    <div className="banner banner-frozen" role="alert" aria-label="Refunds and stock updates paused">
      <strong>Refunds and stock updates paused</strong> —{' '}
      {isForeign
        ? `someone else is writing to this shop (${paused.filter((p) => p.type === 'FOREIGN_WRITE').length} open): nothing is refunded or restocked until a person acknowledges it.`
        : 'this database was restored or copied in: the app is reading Mirakl again and resumes by itself.'}{' '}
      Since {formatDateTime(first.since)}. Reads, receipts and grading go on.{' '}
      <button
        type="button"
        onClick={() => {
          setFilter({ type, show: 'active' });
          navigate('exceptions');
        }}
      >
        Show {isForeign ? 'what was found' : 'the exception'}
      </button>
    </div>
  );
}

/** Asks why (kept in the audit log) before freezing or lifting the freeze. */
export function FreezeDialog({ to, onClose }: { to: 'freeze' | 'unfreeze'; onClose(): void }) {
  const change = useWritesStore((s) => s.change);
  const waiting = useWritesStore((s) => s.status?.waiting ?? 0);
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [isBusy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (reason.trim().length < 3) return setProblem('Give a reason of at least 3 characters: it is kept in the audit log.');
    setBusy(true);
    await change(to, reason.trim());
    setBusy(false);
    onClose();
  };
  return (
    <Dialog title={to === 'freeze' ? 'Freeze writes to Mirakl and ReBound' : 'Unfreeze writes'} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} className="stack">
        <p className="muted">
          {to === 'freeze'
            ? 'No refund, stock update, status update or ReBound return is sent until writes are unfrozen; what the sync plans meanwhile waits, and nothing is lost. Mirakl and ReBound are still read. A call already on its way finishes first.'
            : `The ${waiting} waiting call${waiting === 1 ? '' : 's'} go out with the next sync cycle.`}
        </p>
        <label>
          Reason (kept in the audit log)
          <textarea value={reason} onChange={(e) => setReason(e.target.value)} rows={3} placeholder={to === 'freeze' ? 'Month-end close, incident…' : 'Close done'} autoFocus required />
        </label>
        {problem && (
          <p className="error" role="alert">
            {problem}
          </p>
        )}
        <div className="row-actions">
          <button type="submit" className={to === 'freeze' ? 'danger' : 'primary'} disabled={isBusy}>
            {isBusy ? 'Working…' : to === 'freeze' ? 'Freeze writes' : 'Unfreeze writes'}
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

import { useEffect, useState } from 'react';
import type { SuggestionRow } from '../../../../core/contract';
import { Dialog } from '../../app/Dialog';
import { EmptyState, LoadError, Loading } from '../../app/EmptyState';
import { useAppStore } from '../../app/store';
import { describeCandidate, describeSubject, useSuggestionsStore } from './store';

interface Pending {
  row: SuggestionRow;
  decision: 'confirm' | 'reject';
}

export function SuggestionsPage() {
  const { rows, total, offset, limit, error, hasLoaded, load, setPage } = useSuggestionsStore();
  const [pending, setPending] = useState<Pending | null>(null);
  // An evidence bundle is read-only: no decision is offered that would be refused.
  const isBundle = useAppStore((s) => Boolean(s.info?.bundle));
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <>
      <h1>Suggested matches</h1>
      <p className="muted">
        What the matcher could not link from references the app wrote itself: a refund made elsewhere (in Mirakl&apos;s back office) and the return
        line it may belong to, or an item ReBound could not match and the unit it may be. Nothing is counted until a person confirms it; equally
        good candidates are marked ambiguous. Each decision is kept in the audit log with its reason.
      </p>
      {error && <LoadError what="the suggestions" message={error.message} onRetry={() => void load()} />}
      {!hasLoaded && <Loading what="the suggestions" />}
      {hasLoaded && !error && rows.length === 0 && <EmptyState title="No suggestions to decide">Every refund and item the matcher has seen is linked, or decided.</EmptyState>}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table className="queue" aria-label="Suggested matches">
            <thead>
              <tr>
                <th scope="col">What</th>
                <th scope="col">May be</th>
                <th scope="col">Why suggested</th>
                <th scope="col">Order</th>
                {!isBundle && (
                  <th scope="col">
                    <span className="visually-hidden">Decide</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={`${r.kind}:${r.subject}:${r.candidate}`} data-subject={r.subject} data-candidate={r.candidate}>
                  <td>{r.detail}</td>
                  <td>
                    {describeCandidate(r)}
                    {r.status === 'ambiguous' && <div className="muted">ambiguous: one of several equally good candidates (choice {r.rank})</div>}
                  </td>
                  <td>{r.basis}</td>
                  <td>{r.commercialId ?? ''}</td>
                  {!isBundle && (
                    <td className="row-actions">
                      <button type="button" className="primary" onClick={() => setPending({ row: r, decision: 'confirm' })}>
                        Confirm…
                      </button>
                      <button type="button" onClick={() => setPending({ row: r, decision: 'reject' })}>
                        Reject…
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {total > limit && (
        <nav className="pager" aria-label="Pages of the suggestions">
          <button type="button" disabled={offset === 0} onClick={() => setPage(offset - limit)}>
            Previous
          </button>
          <span>
            {offset + 1}–{offset + rows.length} of {total}
          </span>
          <button type="button" disabled={offset + rows.length >= total} onClick={() => setPage(offset + limit)}>
            Next
          </button>
        </nav>
      )}
      {pending && <DecideDialog pending={pending} onClose={() => setPending(null)} />}
    </>
  );
}

function DecideDialog({ pending, onClose }: { pending: Pending; onClose(): void }) {
  const decide = useSuggestionsStore((s) => s.decide);
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [isBusy, setBusy] = useState(false);
  const { row, decision } = pending;
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (reason.trim().length < 3) return setProblem('Give a reason of at least 3 characters: it is kept in the audit log.');
    setBusy(true);
    // Done or refused, the dialog closes; the answer is shown on the page.
    await decide(row, decision, reason.trim());
    setBusy(false);
    onClose();
  };
  return (
    <Dialog title={decision === 'confirm' ? 'Confirm this match' : 'Reject this suggestion'} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} className="stack">
        <p>
          {describeSubject(row)} {decision === 'confirm' ? 'is' : 'is not'} {describeCandidate(row)}.
        </p>
        <p className="muted">
          {decision === 'confirm'
            ? row.kind === 'refund_line'
              ? 'Confirmed, the refund counts towards that return and is no longer one without a receipt.'
              : 'Confirmed, the reconciliation links the item to that unit.'
            : 'Rejected, this pair is never suggested again.'}
        </p>
        <label>
          Reason (kept in the audit log)
          <textarea value={reason} onChange={(e) => setReason(e.target.value)} rows={3} autoFocus required />
        </label>
        {problem && (
          <p className="error" role="alert">
            {problem}
          </p>
        )}
        <div className="row-actions">
          <button type="submit" className="primary" disabled={isBusy}>
            {isBusy ? 'Working…' : decision === 'confirm' ? 'Confirm match' : 'Reject suggestion'}
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

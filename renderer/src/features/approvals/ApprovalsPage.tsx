import { useEffect, useState } from 'react';
import type { Proposal } from '../../../../core/contract';
import { Dialog } from '../../app/Dialog';
import { LoadError, Loading } from '../../app/EmptyState';
import { formatDateTime } from '../../app/format';
import { useTeamStore } from '../team/store';
import { outcomeText, useApprovalsStore } from './store';

const statusLabels: Record<Proposal['status'], string> = {
  pending: 'Waiting for approval',
  approved: 'Approved, running',
  executed: 'Approved and done',
  failed: 'Approved, but failed',
  rejected: 'Rejected',
  withdrawn: 'Withdrawn',
};

/** Who a proposal names as its maker: the server words it as "Display name (username)", or the username alone. */
const labelOf = (me: { displayName: string; username: string | null }) => (me.displayName === me.username ? me.username : `${me.displayName} (${me.username})`);

type Deciding = { proposal: Proposal; decision: 'approve' | 'reject' | 'withdraw' };

export function ApprovalsPage() {
  const { pending, decided, error, load } = useApprovalsStore();
  const me = useTeamStore((s) => s.me);
  const [deciding, setDeciding] = useState<Deciding | null>(null);
  useEffect(() => {
    void load();
  }, [load]);

  const isApprover = Boolean(me?.roles.includes('approver'));
  const myLabel = me ? labelOf(me) : null;
  return (
    <>
      <h1>Approvals</h1>
      <p className="muted">
        A refund that overrides its checks, a mapping or policy edit, a change of cadences and reopening a locked month are proposed by one person and
        approved by another. Approving
        runs the change once, recorded as the approver’s action; nobody approves their own proposal.
      </p>
      {error && <LoadError what="the proposals" message={error.message} onRetry={() => void load()} />}
      {!pending && !error && <Loading what="the proposals" />}
      {pending && (
        <section aria-label="Waiting for approval" className="stack">
          <h2>Waiting for approval ({pending.length})</h2>
          {pending.length === 0 ? (
            <p className="muted">Nothing is waiting for a second person.</p>
          ) : (
            <ProposalTable
              label="Proposals waiting for approval"
              rows={pending}
              actions={(p) => {
                const isMine = p.proposedBy === myLabel;
                const whyNot = isMine ? 'You proposed it: another Approver decides it.' : isApprover ? null : 'Needs the Approver role.';
                return (
                  <div className="row-actions">
                    <button type="button" className="primary small" disabled={whyNot !== null} title={whyNot ?? 'Runs the change now, as your action'} onClick={() => setDeciding({ proposal: p, decision: 'approve' })}>
                      Approve
                    </button>
                    <button type="button" className="small" disabled={whyNot !== null} title={whyNot ?? 'Refuses it, with a reason the proposer sees'} onClick={() => setDeciding({ proposal: p, decision: 'reject' })}>
                      Reject…
                    </button>
                    {isMine && (
                      <button type="button" className="small" onClick={() => setDeciding({ proposal: p, decision: 'withdraw' })}>
                        Withdraw
                      </button>
                    )}
                    {whyNot && !isMine && <span className="muted small-text">{whyNot}</span>}
                  </div>
                );
              }}
            />
          )}
        </section>
      )}
      {decided && (
        <section aria-label="Decided" className="stack">
          <h2>Decided</h2>
          {decided.length === 0 ? <p className="muted">No proposal has been decided yet.</p> : <ProposalTable label="Decided proposals" rows={decided} />}
        </section>
      )}
      {deciding && <DecideDialog deciding={deciding} onClose={() => setDeciding(null)} />}
    </>
  );
}

function ProposalTable({ label, rows, actions }: { label: string; rows: Proposal[]; actions?: (p: Proposal) => React.ReactNode }) {
  return (
    <div className="table-wrap">
      <table className="queue" aria-label={label}>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Change</th>
            <th scope="col">Proposed by</th>
            <th scope="col">When</th>
            <th scope="col">Status</th>
            {actions ? <th scope="col">Decide</th> : <th scope="col">Decided by</th>}
            {!actions && <th scope="col">Outcome</th>}
          </tr>
        </thead>
        <tbody>
          {rows.map((p) => (
            <tr key={p.id} data-proposal={p.id}>
              <td>{p.id}</td>
              <td className="cause">
                {p.summary}
                <div className="muted small-text">
                  <code>{p.command}</code>
                </div>
              </td>
              <td>{p.proposedBy}</td>
              <td>{formatDateTime(p.proposedAt)}</td>
              <td data-testid="proposal-status">{statusLabels[p.status]}</td>
              {actions ? (
                <td>{actions(p)}</td>
              ) : (
                <>
                  <td>
                    {p.decidedBy ?? '—'}
                    {p.decidedAt && <div className="muted small-text">{formatDateTime(p.decidedAt)}</div>}
                    {p.decisionReason && <div className="small-text">“{p.decisionReason}”</div>}
                  </td>
                  <td className="cause">{outcomeText(p)}</td>
                </>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const dialogTitles = { approve: 'Approve proposal', reject: 'Reject proposal', withdraw: 'Withdraw proposal' } as const;
const confirmWords = { approve: 'Approve and run it', reject: 'Reject', withdraw: 'Withdraw' } as const;

function DecideDialog({ deciding, onClose }: { deciding: Deciding; onClose(): void }) {
  const decide = useApprovalsStore((s) => s.decide);
  const [reason, setReason] = useState('');
  const [isBusy, setBusy] = useState(false);
  const { proposal, decision } = deciding;
  const needsReason = decision === 'reject';
  return (
    <Dialog title={`${dialogTitles[decision]} ${proposal.id}`} onClose={onClose}>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          void decide(proposal.id, decision, reason).then(() => {
            setBusy(false);
            onClose();
          });
        }}
      >
        <p>{proposal.summary}</p>
        <p className="muted small-text">
          Proposed by {proposal.proposedBy}, {formatDateTime(proposal.proposedAt)}.
          {decision === 'approve' && ' Approving runs it now, once, recorded in the audit log as your action.'}
        </p>
        <label>
          Reason{needsReason ? ' (the proposer sees it)' : ' (optional, kept in the audit log)'}
          <textarea value={reason} onChange={(e) => setReason(e.target.value)} rows={3} required={needsReason} autoFocus />
        </label>
        <div className="row-actions">
          <button type="submit" className={decision === 'reject' ? 'danger' : 'primary'} disabled={isBusy || (needsReason && reason.trim().length < 3)}>
            {confirmWords[decision]}
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

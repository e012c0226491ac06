import { create } from 'zustand';
import type { ContractError, Output, Proposal } from '../../../../core/contract';
import { api } from '../../api/transport';
import { useAppStore } from '../../app/store';
import { monthLabel } from '../reports/store';

// Maker-checker on a team server: the changes waiting for a second person, and those decided. Approving runs the
// change once, as the approver's action; the server refuses anyone deciding their own proposal.

interface ApprovalsState {
  pending: Proposal[] | null;
  decided: Proposal[] | null;
  error: ContractError | null;
  load(): Promise<void>;
  /** Only the pending ones: their count is in the navigation. */
  loadPending(): Promise<void>;
  decide(id: number, decision: 'approve' | 'reject' | 'withdraw', reason?: string): Promise<boolean>;
}

const decisionWords = { approve: 'approved', reject: 'rejected', withdraw: 'withdrawn' } as const;

export const useApprovalsStore = create<ApprovalsState>((set, get) => ({
  pending: null,
  decided: null,
  error: null,

  load: async () => {
    const [pending, decided] = await Promise.all([api.invoke('proposals.list', { status: 'pending' }), api.invoke('proposals.list', { status: 'decided' })]);
    if (!pending.ok) return set({ error: pending.error });
    if (!decided.ok) return set({ error: decided.error });
    set({ pending: pending.data.proposals, decided: decided.data.proposals, error: null });
  },

  loadPending: async () => {
    const pending = await api.invoke('proposals.list', { status: 'pending' });
    if (pending.ok) set({ pending: pending.data.proposals });
  },

  decide: async (id, decision, reason) => {
    const result = await api.invoke('proposals.decide', { id, decision, ...(reason?.trim() ? { reason: reason.trim() } : {}) });
    const app = useAppStore.getState();
    await get().load();
    if (!result.ok) {
      app.notifyError(result.error, `Proposal ${id} not ${decisionWords[decision]}`);
      return false;
    }
    const p = result.data;
    if (p.status === 'failed') app.notify('error', `Proposal ${id} was approved, but running it failed: ${outcomeText(p)}`);
    else app.notify('ok', `Proposal ${id} ${p.status === 'executed' ? 'approved and done' : decisionWords[decision]}.`);
    return true;
  },
}));

/** What running an approved proposal answered, in one line. */
export function outcomeText(p: Proposal): string {
  const outcome = p.outcome;
  if (outcome === null || outcome === undefined) return p.status === 'pending' ? '' : '—';
  if (typeof outcome !== 'object') return String(outcome);
  const record = outcome as Record<string, unknown>;
  if (typeof record.message === 'string') return record.message;
  if (p.command === 'reports.unlock' && p.status === 'executed') {
    const done = outcome as Output<'reports.unlock'>;
    return (
      `${monthLabel(done.period)} reopened by ${done.ended.unlockedBy}; its lock of ${done.ended.lockedAt.slice(0, 10)} (report sha256 ${done.ended.reportSha256.slice(0, 12)}…) is kept as history` +
      `, ${done.signOffsWithdrawn} sign-off${done.signOffsWithdrawn === 1 ? '' : 's'} withdrawn.`
    );
  }
  return Object.entries(record)
    .filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(', ');
}

// A colleague proposed or decided something: the count in the navigation (and the page, when open) follows.
api.on('data.changed', (payload) => {
  if (!payload.tables.includes('team_proposals')) return;
  const s = useApprovalsStore.getState();
  void (s.decided ? s.load() : s.loadPending());
});

import { create } from 'zustand';
import type { ContractError, SuggestionRow } from '../../../../core/contract';
import { api } from '../../api/transport';
import { useAppStore } from '../../app/store';
import { throttle } from '../../app/throttle';

// The matcher's suggestions waiting for a person: a refund nobody can explain and the return line it may belong to,
// a ReBound item it could not match and the unit it may be. Confirmed or rejected with a reason, audited.

interface SuggestionsState {
  rows: SuggestionRow[];
  total: number;
  offset: number;
  limit: number;
  error: ContractError | null;
  hasLoaded: boolean;
  load(): Promise<void>;
  setPage(offset: number): void;
  decide(row: SuggestionRow, decision: 'confirm' | 'reject', reason: string): Promise<boolean>;
}

export const useSuggestionsStore = create<SuggestionsState>((set, get) => ({
  rows: [],
  total: 0,
  offset: 0,
  limit: 50,
  error: null,
  hasLoaded: false,
  load: async () => {
    const { offset, limit } = get();
    const result = await api.invoke('matches.suggestions', { page: { offset, limit } });
    set(result.ok ? { rows: result.data.rows, total: result.data.total, error: null, hasLoaded: true } : { error: result.error, hasLoaded: true });
  },
  setPage: (offset) => {
    set({ offset: Math.max(0, offset) });
    void get().load();
  },
  decide: async (row, decision, reason) => {
    const result = await api.invoke('matches.decide', { kind: row.kind, subject: row.subject, candidate: row.candidate, decision, reason });
    const app = useAppStore.getState();
    if (!result.ok) {
      app.notifyError(result.error, decision === 'confirm' ? 'Confirm' : 'Reject');
      await get().load();
      return false;
    }
    app.notify('ok', decision === 'confirm' ? `Match confirmed: ${describeSubject(row)} is ${describeCandidate(row)}.` : `Suggestion rejected: ${describeSubject(row)} is not ${describeCandidate(row)}.`);
    await get().load();
    return true;
  },
}));

export const describeSubject = (row: SuggestionRow) => (row.kind === 'refund_line' ? `Mirakl refund ${row.subject}` : `ReBound item ${row.subject}`);
export const describeCandidate = (row: SuggestionRow) => {
  if (row.kind === 'refund_line') {
    const [returnId, line] = row.candidate.split(':');
    return `return ${returnId ?? row.candidate}, order line ${line ?? ''}`.trim();
  }
  return `unit ${row.candidate}${row.returnId ? ` of return ${row.returnId}` : ''}`;
};

const refreshLive = throttle(() => {
  if (useSuggestionsStore.getState().hasLoaded) void useSuggestionsStore.getState().load();
}, 2000);
api.on('data.changed', refreshLive);

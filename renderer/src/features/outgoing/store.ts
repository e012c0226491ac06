import { create } from 'zustand';
import type { ContractError, Input, OutgoingRow } from '../../../../core/contract';
import { api } from '../../api/transport';
import { throttle } from '../../app/throttle';

// Every call to Mirakl and ReBound that changes something (the intent ledger), newest first, a page at a time; the
// database pages and filters it.

export type OutgoingFilter = NonNullable<Input<'outgoing.list'>['filter']>;

interface OutgoingState {
  filter: OutgoingFilter;
  offset: number;
  limit: number;
  rows: OutgoingRow[];
  total: number;
  isCapped: boolean;
  /** Calls whose outcome is unknown, whatever the filter. */
  uncertain: number;
  error: ContractError | null;
  hasLoaded: boolean;
  load(): Promise<void>;
  setFilter(filter: OutgoingFilter): void;
  setPage(offset: number): void;
}

export const useOutgoingStore = create<OutgoingState>((set, get) => ({
  filter: {},
  offset: 0,
  limit: 50,
  rows: [],
  total: 0,
  isCapped: false,
  uncertain: 0,
  error: null,
  hasLoaded: false,
  load: async () => {
    const { filter, offset, limit } = get();
    const result = await api.invoke('outgoing.list', { filter, page: { offset, limit } });
    set(
      result.ok
        ? { rows: result.data.rows, total: result.data.total, isCapped: result.data.totalIsCapped, uncertain: result.data.uncertain, error: null, hasLoaded: true }
        : { error: result.error, hasLoaded: true },
    );
  },
  setFilter: (filter) => {
    set({ filter, offset: 0 });
    void get().load();
  },
  setPage: (offset) => {
    set({ offset: Math.max(0, offset) });
    void get().load();
  },
}));

const refreshLive = throttle(() => {
  if (useOutgoingStore.getState().hasLoaded) void useOutgoingStore.getState().load();
}, 2000);
api.on('data.changed', refreshLive);

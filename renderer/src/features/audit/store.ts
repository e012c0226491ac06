import { create } from 'zustand';
import type { AuditRow, ContractError, Output } from '../../../../core/contract';
import { api } from '../../api/transport';
import { throttle } from '../../app/throttle';

// The append-only audit log, newest first, and whether its hash chain is intact.

export interface AuditFilter {
  subject?: string;
  actor?: string;
  action?: string;
}

interface AuditState {
  filter: AuditFilter;
  offset: number;
  limit: number;
  rows: AuditRow[];
  total: number;
  error: ContractError | null;
  hasLoaded: boolean;
  verify: Output<'audit.verify'> | null;
  verifyError: ContractError | null;
  isVerifying: boolean;
  load(): Promise<void>;
  setFilter(filter: AuditFilter): void;
  setPage(offset: number): void;
  runVerify(): Promise<void>;
}

export const useAuditStore = create<AuditState>((set, get) => ({
  filter: {},
  offset: 0,
  limit: 50,
  rows: [],
  total: 0,
  error: null,
  hasLoaded: false,
  verify: null,
  verifyError: null,
  isVerifying: false,

  load: async () => {
    const { filter, offset, limit } = get();
    const result = await api.invoke('audit.list', { offset, limit, ...filter });
    set(result.ok ? { rows: result.data.rows, total: result.data.total, error: null, hasLoaded: true } : { error: result.error, hasLoaded: true });
  },
  setFilter: (filter) => {
    set({ filter, offset: 0 });
    void get().load();
  },
  setPage: (offset) => {
    set({ offset: Math.max(0, offset) });
    void get().load();
  },
  runVerify: async () => {
    set({ isVerifying: true });
    const result = await api.invoke('audit.verify', {});
    set(result.ok ? { verify: result.data, verifyError: null, isVerifying: false } : { verifyError: result.error, isVerifying: false });
  },
}));

const refreshLive = throttle(() => {
  if (useAuditStore.getState().hasLoaded) void useAuditStore.getState().load();
}, 2000);
api.on('data.changed', refreshLive);

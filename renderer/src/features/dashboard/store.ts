import { create } from 'zustand';
import type { ContractError, Output } from '../../../../core/contract';
import { api } from '../../api/transport';

type SyncStatus = Output<'sync.status'>;

interface DashboardState {
  status: SyncStatus | null;
  error: ContractError | null;
  isLoading: boolean;
  load(): Promise<void>;
}

export const useDashboardStore = create<DashboardState>((set) => ({
  status: null,
  error: null,
  isLoading: false,
  load: async () => {
    set({ isLoading: true });
    const result = await api.invoke('sync.status', {});
    set(result.ok ? { status: result.data, error: null, isLoading: false } : { error: result.error, isLoading: false });
  },
}));

// Refresh when the engine reports progress, so the dashboard is live without polling.
api.on('sync.progressed', () => void useDashboardStore.getState().load());

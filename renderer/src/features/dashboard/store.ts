import { create } from 'zustand';
import type { ContractError, Kpis, SyncStatus } from '../../../../core/contract';
import { api } from '../../api/transport';
import { useAppStore } from '../../app/store';
import { throttle } from '../../app/throttle';

// The dashboard's figures (KPIs, returns refunded), the sync service's status with each feed's health, and its
// controls. Live: it follows sync and data events, at most once every two seconds.

interface DashboardState {
  kpis: Kpis | null;
  kpisError: ContractError | null;
  status: SyncStatus | null;
  statusError: ContractError | null;
  /** Returns Mirakl shows fully refunded (counted up to the contract's cap). */
  refunded: { total: number; isCapped: boolean } | null;
  isControlling: boolean;
  /** Paused by a person while a cycle was running: it finishes that cycle first. */
  isPauseRequested: boolean;
  hasLoaded: boolean;
  load(): Promise<void>;
  loadStatus(): Promise<void>;
  control(action: 'pause' | 'resume' | 'runNow'): Promise<void>;
}

const controlWords = { pause: 'Sync paused.', resume: 'Sync resumed.', runNow: 'A sync cycle was started.' } as const;

export const useDashboardStore = create<DashboardState>((set, get) => ({
  kpis: null,
  kpisError: null,
  status: null,
  statusError: null,
  refunded: null,
  isControlling: false,
  isPauseRequested: false,
  hasLoaded: false,

  load: async () => {
    const [kpis, refunded] = await Promise.all([
      api.invoke('dashboard.kpis', {}),
      api.invoke('returns.list', { filter: { refundStatus: 'refunded' }, page: { offset: 0, limit: 1 } }),
      get().loadStatus(),
    ]);
    set({
      hasLoaded: true,
      ...(kpis.ok ? { kpis: kpis.data, kpisError: null } : { kpisError: kpis.error }),
      ...(refunded.ok ? { refunded: { total: refunded.data.total, isCapped: refunded.data.totalIsCapped } } : {}),
    });
  },

  loadStatus: async () => {
    const result = await api.invoke('sync.status', {});
    set((s) =>
      result.ok
        ? { status: result.data, statusError: null, isPauseRequested: s.isPauseRequested && result.data.state !== 'idle' && result.data.state !== 'stopped' }
        : { statusError: result.error },
    );
  },

  control: async (action) => {
    set({ isControlling: true });
    const command = action === 'pause' ? 'sync.pause' : action === 'resume' ? 'sync.resume' : 'sync.runNow';
    const result = await api.invoke(command, {});
    set({ isControlling: false });
    const app = useAppStore.getState();
    if (!result.ok) return app.notifyError(result.error, 'Sync');
    set((s) => ({ status: result.data, statusError: null, isPauseRequested: action === 'pause' ? true : action === 'resume' ? false : s.isPauseRequested }));
    app.notify('ok', action === 'pause' && result.data.state === 'running' ? 'Sync pauses once the cycle under way has finished.' : controlWords[action]);
  },
}));

const refreshLive = throttle(() => {
  if (useDashboardStore.getState().hasLoaded) void useDashboardStore.getState().load();
}, 2000);
api.on('data.changed', refreshLive);
api.on('sync.progressed', refreshLive);
api.on('sync.stateChanged', refreshLive);

import { create } from 'zustand';
import type { WritesStatus } from '../../../../core/contract';
import { api } from '../../api/transport';
import { useAppStore } from '../../app/store';
import { throttle } from '../../app/throttle';

// The write freeze (DESIGN row 27): whether calls that change Mirakl or ReBound are held, shown as a banner on every
// page; freezing and lifting it, each with a reason kept in the audit log.

interface WritesState {
  status: WritesStatus | null;
  load(): Promise<void>;
  /** Freezes or lifts; true when done (the reason is kept in the audit log). */
  change(to: 'freeze' | 'unfreeze', reason: string): Promise<boolean>;
}

export const useWritesStore = create<WritesState>((set) => ({
  status: null,
  load: async () => {
    const result = await api.invoke('writes.status', {});
    // An evidence bundle has no engine to freeze: no banner.
    set({ status: result.ok ? result.data : null });
  },
  change: async (to, reason) => {
    const result = await api.invoke(to === 'freeze' ? 'writes.freeze' : 'writes.unfreeze', { reason });
    const app = useAppStore.getState();
    if (!result.ok) {
      app.notifyError(result.error, to === 'freeze' ? 'Freeze' : 'Unfreeze');
      return false;
    }
    set({ status: result.data });
    app.notify(
      'ok',
      to === 'freeze'
        ? 'Writes are frozen: nothing is sent to Mirakl or ReBound until they are unfrozen. Reads go on.'
        : `Writes are unfrozen: ${result.data.waiting} waiting call${result.data.waiting === 1 ? '' : 's'} go out with the next sync cycle.`,
    );
    return true;
  },
}));

const refreshLive = throttle(() => void useWritesStore.getState().load(), 2000);
api.on('data.changed', refreshLive);
api.on('sync.stateChanged', refreshLive);

import { create } from 'zustand';
import type { ContractError, Output, Report, SignOffKind, SignOffs } from '../../../../core/contract';
import { api } from '../../api/transport';
import { useAppStore } from '../../app/store';
import { throttle } from '../../app/throttle';

// Month-end reports: the periods (months with returns, newest first, locked or live), the report of the one
// selected, its sign-offs, the files the last export wrote, and the period lock. Every refusal is kept as the
// contract's error.

export type PeriodRow = Output<'reports.list'>['periods'][number];
export type Exported = Output<'reports.generate'>;

interface ReportsState {
  periods: PeriodRow[];
  listError: ContractError | null;
  hasLoadedList: boolean;
  selected: string | null;
  report: Report | null;
  reportError: ContractError | null;
  isLoadingReport: boolean;
  /** The files of the last export, for the period they were written for. */
  exported: Exported | null;
  exportError: ContractError | null;
  exporting: 'files' | 'bundle' | null;
  lockError: ContractError | null;
  isLocking: boolean;
  unlockError: ContractError | null;
  isUnlocking: boolean;
  /** The selected period's sign-offs (a preparer's, then a reviewer's), once asked for. */
  signOffs: SignOffs | null;
  signOffsError: ContractError | null;
  signing: SignOffKind | null;
  signError: ContractError | null;
  loadList(): Promise<void>;
  select(period: string): Promise<void>;
  loadReport(): Promise<void>;
  exportFiles(withBundle: boolean): Promise<boolean>;
  lock(reason: string): Promise<boolean>;
  clearLockError(): void;
  /**
   * Reopens the selected (locked) month with a reason. 'done' when it ran; 'proposed' on a team server, where another
   * Approver must approve it first; 'refused' with the error kept as unlockError.
   */
  unlock(reason: string): Promise<'done' | 'proposed' | 'refused'>;
  clearUnlockError(): void;
  loadSignOffs(): Promise<void>;
  signOff(kind: SignOffKind, note: string): Promise<boolean>;
  /** Keeps the list of periods current while the view is shown; returns the unsubscribe. */
  watch(): () => void;
}

export function monthLabel(period: string): string {
  const [year, month] = period.split('-').map(Number);
  if (!year || !month) return period;
  return new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(Date.UTC(year, month - 1, 1));
}

export const signOffWords: Record<SignOffKind, { done: string; role: string }> = {
  prepared: { done: 'Prepared', role: 'preparer' },
  reviewed: { done: 'Reviewed', role: 'reviewer' },
};

export const useReportsStore = create<ReportsState>((set, get) => {
  let reportSeq = 0;
  let signOffsSeq = 0;
  return {
    periods: [],
    listError: null,
    hasLoadedList: false,
    selected: null,
    report: null,
    reportError: null,
    isLoadingReport: false,
    exported: null,
    exportError: null,
    exporting: null,
    lockError: null,
    isLocking: false,
    unlockError: null,
    isUnlocking: false,
    signOffs: null,
    signOffsError: null,
    signing: null,
    signError: null,

    loadList: async () => {
      const result = await api.invoke('reports.list', {});
      if (!result.ok) return set({ listError: result.error, hasLoadedList: true });
      set({ periods: result.data.periods, listError: null, hasLoadedList: true });
      // The newest month opens by itself the first time (in an evidence bundle, the bundle's only month).
      const first = result.data.periods[0];
      if (get().selected === null && first) await get().select(first.period);
    },

    select: async (period) => {
      set({ selected: period, exportError: null, lockError: null, unlockError: null, signError: null, ...(get().signOffs?.period === period ? {} : { signOffs: null, signOffsError: null }) });
      await get().loadReport();
    },

    loadReport: async () => {
      const period = get().selected;
      if (!period) return;
      const seq = ++reportSeq;
      set((s) => ({ isLoadingReport: true, ...(s.report?.period === period ? {} : { report: null }), reportError: null }));
      const result = await api.invoke('reports.get', { period });
      if (seq !== reportSeq) return; // another period was chosen meanwhile
      set(result.ok ? { report: result.data, reportError: null, isLoadingReport: false } : { report: null, reportError: result.error, isLoadingReport: false });
    },

    exportFiles: async (withBundle) => {
      const period = get().selected;
      if (!period || get().exporting) return false;
      set({ exporting: withBundle ? 'bundle' : 'files', exportError: null });
      const result = await api.invoke('reports.generate', { period, bundle: withBundle });
      if (!result.ok) {
        set({ exporting: null, exportError: result.error });
        return false;
      }
      // The files hold the report as generated now: the view shows that same report.
      set((s) => ({ exporting: null, exported: result.data, ...(s.selected === period ? { report: result.data.report } : {}) }));
      const count = result.data.files.length;
      useAppStore
        .getState()
        .notify(
          'ok',
          `Wrote ${count} file${count === 1 ? '' : 's'}${result.data.bundle ? ' and the evidence bundle' : ''} for ${monthLabel(period)} to ${result.data.outDir}.` +
            (result.data.earlierExports > 0 ? ` Earlier exports of the month are kept (${result.data.earlierExports}).` : ''),
        );
      return true;
    },

    lock: async (reason) => {
      const period = get().selected;
      if (!period || get().isLocking) return false;
      set({ isLocking: true, lockError: null });
      const result = await api.invoke('reports.lock', { period, ...(reason.trim() ? { reason: reason.trim() } : {}) });
      if (!result.ok) {
        set({ isLocking: false, lockError: result.error });
        return false;
      }
      set({ isLocking: false });
      useAppStore
        .getState()
        .notify(
          'ok',
          `Locked ${monthLabel(period)} (by ${result.data.lockedBy}). Later changes to it will be reported as post-close adjustments.` +
            (get().exported?.report.period === period ? ' The files exported before the lock say “Not locked”: export again for the locked month’s files.' : ''),
        );
      await Promise.all([get().loadList(), get().loadReport(), get().loadSignOffs()]);
      return true;
    },

    clearLockError: () => set({ lockError: null }),

    unlock: async (reason) => {
      const period = get().selected;
      if (!period || get().isUnlocking) return 'refused';
      set({ isUnlocking: true, unlockError: null });
      // The lock on screen: an approval given later must not end a lock the month got afterwards.
      const reportSha256 = get().report?.period === period ? get().report?.lock?.reportSha256 : undefined;
      const result = await api.invoke('reports.unlock', { period, reason: reason.trim(), ...(reportSha256 ? { reportSha256 } : {}) });
      const app = useAppStore.getState();
      if (!result.ok && result.error.code === 'APPROVAL_REQUIRED') {
        // Not a failure: the reopening waits on the Approvals page for a second person.
        set({ isUnlocking: false });
        app.notify('info', result.error.message);
        return 'proposed';
      }
      if (!result.ok) {
        set({ isUnlocking: false, unlockError: result.error });
        return 'refused';
      }
      set({ isUnlocking: false });
      const { ended, signOffsWithdrawn, adjustmentsSuperseded } = result.data;
      app.notify(
        'ok',
        `Reopened ${monthLabel(period)} (by ${ended.unlockedBy}${ended.proposedBy ? `, proposed by ${ended.proposedBy}` : ''}). Its earlier lock is kept as history.` +
          (signOffsWithdrawn > 0 ? ` ${signOffsWithdrawn} sign-off${signOffsWithdrawn === 1 ? ' was' : 's were'} withdrawn: sign it again before locking it.` : '') +
          (adjustmentsSuperseded > 0 ? ` ${adjustmentsSuperseded} post-close adjustment${adjustmentsSuperseded === 1 ? ' is' : 's are'} now counted in the month itself.` : ''),
      );
      await Promise.all([get().loadList(), get().loadReport(), get().loadSignOffs()]);
      return 'done';
    },

    clearUnlockError: () => set({ unlockError: null }),

    loadSignOffs: async () => {
      const period = get().selected;
      if (!period) return;
      const seq = ++signOffsSeq;
      const result = await api.invoke('reports.signOffs', { period });
      if (seq !== signOffsSeq || get().selected !== period) return;
      set(result.ok ? { signOffs: result.data, signOffsError: null } : { signOffsError: result.error });
    },

    signOff: async (kind, note) => {
      const period = get().selected;
      if (!period || get().signing) return false;
      set({ signing: kind, signError: null });
      const result = await api.invoke('reports.signOff', { period, kind, ...(note.trim() ? { note: note.trim() } : {}) });
      if (!result.ok) {
        // The server decides: its refusal is shown as it words it, beside what it shows now.
        set({ signing: null, signError: result.error });
        await get().loadSignOffs();
        return false;
      }
      ++signOffsSeq;
      set({ signing: null, signOffs: result.data, signOffsError: null });
      useAppStore
        .getState()
        .notify('ok', `Signed ${monthLabel(period)} as its ${signOffWords[kind].role}.${result.data.complete ? ' Both signatures stand: the month can be locked.' : ''}`);
      return true;
    },

    watch: () => {
      // The list, and the sign-offs shown: a change to the month's figures withdraws its signatures.
      const refresh = throttle(() => {
        void get().loadList();
        if (get().signOffs) void get().loadSignOffs();
      }, 5000);
      const off = api.on('data.changed', refresh);
      return () => {
        off();
        refresh.cancel();
      };
    },
  };
});

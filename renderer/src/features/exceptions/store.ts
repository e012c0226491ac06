import { create } from 'zustand';
import type { ActionId, ContractError, ExceptionAction, ExceptionRow, Input, Kpis, Output } from '../../../../core/contract';
import { api } from '../../api/transport';
import { useAppStore } from '../../app/store';
import { throttle } from '../../app/throttle';

// The triage queue: a page of exceptions filtered and sorted by the contract, the counts per bucket, the
// selection, the row under the keyboard cursor and the one exception opened in the side panel. Which actions each
// exception offers comes from the server (exceptions.actions): only those that would not be refused are shown.

export type Help = Output<'exceptions.help'>;
type ListInput = Input<'exceptions.list'>;
type SortField = NonNullable<ListInput['sort']>['field'];

export interface QueueFilter {
  type?: string;
  owner?: ExceptionRow['owner'];
  severity?: ExceptionRow['severity'];
  ageBucket?: ExceptionRow['ageBucket'];
  assignee?: string;
  unassigned?: boolean;
  /** The working queue (open, in review, snoozed) or what has been resolved. */
  show: 'active' | 'resolved';
}

export interface ActOptions {
  reason?: string;
  offerSku?: string;
}

interface Detail {
  row: ExceptionRow;
  notes: Output<'exceptions.notes'>['notes'];
}

interface ExceptionsState {
  filter: QueueFilter;
  sort: { field: SortField; direction: 'asc' | 'desc' };
  offset: number;
  limit: number;
  rows: ExceptionRow[];
  total: number;
  totalIsCapped: boolean;
  isLoading: boolean;
  hasLoaded: boolean;
  error: ContractError | null;
  counts: Kpis | null;
  selected: number[];
  cursor: number;
  openId: number | null;
  detail: Detail | null;
  detailError: ContractError | null;
  help: Record<string, Help>;
  /** Every exception type seen while the app is open (open counts, rows, help), for the type filter. */
  knownTypes: Record<string, string>;
  helpErrors: Record<string, string>;
  /** What each exception loaded so far offers now, and why not the rest (by exception id). */
  offers: Record<number, ExceptionAction[]>;
  /** Set when nothing can be done here (an evidence bundle): no action is shown. */
  readOnly: string | null;
  load(): Promise<void>;
  loadOffers(ids: number[]): Promise<void>;
  loadCounts(): Promise<void>;
  setFilter(patch: Partial<QueueFilter>): void;
  setSort(field: SortField, direction: 'asc' | 'desc'): void;
  setPage(offset: number): void;
  moveCursor(delta: number): void;
  setCursor(index: number): void;
  toggleSelected(id: number): void;
  setSelected(ids: number[]): void;
  open(id: number | null): Promise<void>;
  loadHelp(type: string): Promise<Help | null>;
  /** One action of the type's catalogue on each id; says per exception what happened or why it was refused. */
  act(ids: number[], action: ActionId, label: string, options?: ActOptions): Promise<boolean>;
  resolve(ids: number[], reason: string): Promise<boolean>;
  assign(ids: number[], assignee: string | null): Promise<boolean>;
  snooze(ids: number[], until: string, reason?: string): Promise<boolean>;
  comment(id: number, body: string): Promise<boolean>;
  reopen(id: number, reason: string): Promise<boolean>;
}

function listInput(s: Pick<ExceptionsState, 'filter' | 'sort' | 'offset' | 'limit'>): ListInput {
  const f = s.filter;
  return {
    page: { offset: s.offset, limit: s.limit },
    sort: s.sort,
    filter: {
      states: f.show === 'resolved' ? ['resolved'] : ['open', 'in_review', 'snoozed'],
      ...(f.type ? { type: f.type } : {}),
      ...(f.owner ? { owner: f.owner } : {}),
      ...(f.severity ? { severity: f.severity } : {}),
      ...(f.ageBucket ? { ageBucket: f.ageBucket } : {}),
      ...(f.assignee?.trim() ? { assignee: f.assignee.trim() } : {}),
      ...(f.unassigned ? { unassigned: true } : {}),
    },
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Reports each exception's answer: the confirmations in one message, each refusal with its own reason. */
function reportResults(results: Output<'exceptions.act'>['results'], what: string): boolean {
  const { notify } = useAppStore.getState();
  const done = results.filter((r) => r.ok);
  const refused = results.filter((r) => !r.ok);
  if (done.length === 1 && done[0]) notify('ok', `Exception ${done[0].id} — ${done[0].message}`);
  else if (done.length > 1) {
    // Each answer says what it did to its own exception (units of different offers, say): the first few are shown, the
    // rest are in the audit log.
    const shown = done.slice(0, 5).map((r) => `#${r.id}: ${r.message}`);
    const more = done.length > shown.length ? ` And ${done.length - shown.length} more (see the audit log).` : '';
    notify('ok', `${what}: done for ${plural(done.length, 'exception')}. ${shown.join(' ')}${more}`);
  }
  for (const r of refused) {
    const code = r.error?.code ?? 'CONFLICT';
    notify('error', `Exception ${r.id} — ${what} refused [${code}]: ${r.error?.message ?? r.message}`);
  }
  return refused.length === 0;
}

export const useExceptionsStore = create<ExceptionsState>((set, get) => {
  let loadSeq = 0;
  /** After any change: the page, the counts and the open panel all show the new state. */
  const refreshAll = async () => {
    await Promise.all([get().load(), get().loadCounts(), get().openId !== null ? get().open(get().openId) : Promise.resolve()]);
  };
  const command = async <T>(run: () => Promise<{ ok: true; data: T } | { ok: false; error: ContractError }>, what: string): Promise<T | null> => {
    const result = await run();
    if (!result.ok) {
      useAppStore.getState().notifyError(result.error, what);
      return null;
    }
    return result.data;
  };

  return {
    filter: { show: 'active' },
    sort: { field: 'detectedAt', direction: 'asc' },
    offset: 0,
    limit: 50,
    rows: [],
    total: 0,
    totalIsCapped: false,
    isLoading: false,
    hasLoaded: false,
    error: null,
    counts: null,
    selected: [],
    cursor: 0,
    openId: null,
    detail: null,
    detailError: null,
    help: {},
    knownTypes: {},
    helpErrors: {},
    offers: {},
    readOnly: null,

    load: async () => {
      const seq = ++loadSeq;
      set({ isLoading: true });
      const result = await api.invoke('exceptions.list', listInput(get()));
      if (seq !== loadSeq) return; // a newer filter or page was asked for meanwhile
      if (!result.ok) return set({ isLoading: false, error: result.error, hasLoaded: true });
      const rows = result.data.rows;
      const present = new Set(rows.map((r) => r.id));
      set((s) => ({
        rows,
        total: result.data.total,
        totalIsCapped: result.data.totalIsCapped,
        isLoading: false,
        hasLoaded: true,
        error: null,
        selected: s.selected.filter((id) => present.has(id)),
        knownTypes: { ...s.knownTypes, ...Object.fromEntries(rows.map((r) => [r.type, r.title])) },
        cursor: Math.max(0, Math.min(s.cursor, rows.length - 1)),
      }));
      for (const type of new Set(rows.map((r) => r.type))) void get().loadHelp(type);
      // What each row offers is asked only while the queue is on screen (the page asks again when it is shown).
      if (rows.length && useAppStore.getState().section === 'exceptions') void get().loadOffers(rows.map((r) => r.id));
    },

    loadOffers: async (ids) => {
      const result = await api.invoke('exceptions.actions', { ids: ids.slice(0, 200) });
      if (!result.ok) return;
      set((s) => ({ readOnly: result.data.readOnly, offers: { ...s.offers, ...Object.fromEntries(result.data.exceptions.map((e) => [e.id, e.actions])) } }));
    },

    loadCounts: async () => {
      const result = await api.invoke('dashboard.kpis', {});
      if (result.ok) set((s) => ({ counts: result.data, knownTypes: { ...s.knownTypes, ...Object.fromEntries(result.data.openByType.map((t) => [t.type, t.title])) } }));
    },

    setFilter: (patch) => {
      set((s) => ({ filter: { ...s.filter, ...patch }, offset: 0, cursor: 0, selected: [] }));
      void get().load();
    },
    setSort: (field, direction) => {
      set({ sort: { field, direction }, offset: 0, cursor: 0 });
      void get().load();
    },
    setPage: (offset) => {
      set({ offset: Math.max(0, offset), cursor: 0, selected: [] });
      void get().load();
    },
    moveCursor: (delta) => set((s) => ({ cursor: Math.max(0, Math.min(s.rows.length - 1, s.cursor + delta)) })),
    setCursor: (index) => set({ cursor: index }),
    toggleSelected: (id) => set((s) => ({ selected: s.selected.includes(id) ? s.selected.filter((x) => x !== id) : [...s.selected, id] })),
    setSelected: (ids) => set({ selected: ids }),

    open: async (id) => {
      if (id === null) return set({ openId: null, detail: null, detailError: null });
      if (get().openId !== id) set({ openId: id, detail: null, detailError: null });
      const [row, notes] = await Promise.all([api.invoke('exceptions.get', { id }), api.invoke('exceptions.notes', { id })]);
      if (get().openId !== id) return;
      if (!row.ok) return set({ detailError: row.error });
      if (!notes.ok) return set({ detailError: notes.error });
      set({ detail: { row: row.data, notes: notes.data.notes }, detailError: null });
      void get().loadHelp(row.data.type);
      void get().loadOffers([id]);
    },

    loadHelp: async (type) => {
      const known = get().help[type];
      if (known) return known;
      const result = await api.invoke('exceptions.help', { type });
      if (!result.ok) {
        set((s) => ({ helpErrors: { ...s.helpErrors, [type]: result.error.message } }));
        return null;
      }
      set((s) => ({ help: { ...s.help, [type]: result.data } }));
      return result.data;
    },

    act: async (ids, action, label, options = {}) => {
      const data = await command(
        () =>
          api.invoke('exceptions.act', {
            ids,
            action,
            ...(options.reason?.trim() ? { reason: options.reason.trim() } : {}),
            ...(options.offerSku?.trim() ? { offerSku: options.offerSku.trim() } : {}),
          }),
        label,
      );
      if (!data) return false;
      const ok = reportResults(data.results, label);
      await refreshAll();
      return ok;
    },

    resolve: async (ids, reason) => {
      const data = await command(() => api.invoke('exceptions.resolve', { ids, reason }), 'Resolve');
      if (!data) return false;
      const ok = reportResults(data.results, 'Resolve');
      await refreshAll();
      return ok;
    },

    assign: async (ids, assignee) => {
      const data = await command(() => api.invoke('exceptions.assign', { ids, assignee }), assignee ? `Assign to ${assignee}` : 'Unassign');
      if (!data) return false;
      const unchanged = ids.length - data.updated;
      useAppStore
        .getState()
        .notify(
          'ok',
          `${assignee ? `Assigned ${plural(data.updated, 'exception')} to ${assignee}` : `Unassigned ${plural(data.updated, 'exception')}`}${unchanged ? ` (${unchanged} already ${assignee ? 'assigned to them' : 'unassigned'})` : ''}.`,
        );
      await refreshAll();
      return true;
    },

    snooze: async (ids, until, reason) => {
      const data = await command(() => api.invoke('exceptions.snooze', { ids, until, ...(reason?.trim() ? { reason: reason.trim() } : {}) }), 'Snooze');
      if (!data) return false;
      useAppStore.getState().notify('ok', `Snoozed ${plural(data.updated, 'exception')} until ${new Date(until).toLocaleString('en-GB')}.`);
      await refreshAll();
      return true;
    },

    comment: async (id, body) => {
      const data = await command(() => api.invoke('exceptions.comment', { id, body }), 'Comment');
      if (!data) return false;
      useAppStore.getState().notify('ok', `Comment added to exception ${id}.`);
      await refreshAll();
      return true;
    },

    reopen: async (id, reason) => {
      const data = await command(() => api.invoke('exceptions.reopen', { id, reason }), 'Reopen');
      if (!data) return false;
      useAppStore.getState().notify('ok', `Exception ${id} reopened.`);
      await refreshAll();
      return true;
    },
  };
});

// Live: when sync or a colleague changes exceptions, the queue and its counts follow (at most every 2 s), with what
// each offers. When only the calls, units or returns behind them change, what the open exception offers is asked
// again (one exception, while the queue is on screen): the rest are asked with the next page, and the server checks
// again whatever is pressed.
const refreshLive = throttle(() => {
  const s = useExceptionsStore.getState();
  if (!s.hasLoaded) return;
  void s.load();
  void s.loadCounts();
}, 2000);
const refreshOpenOffers = throttle(() => {
  const s = useExceptionsStore.getState();
  if (s.openId !== null && useAppStore.getState().section === 'exceptions') void s.loadOffers([s.openId]);
}, 2000);
const offersDependOn = new Set(['intents', 'units', 'return_intake', 'stock_increments', 'mirakl_returns', 'mirakl_refunds']);
api.on('data.changed', (payload) => {
  if (payload.tables.includes('exceptions')) refreshLive();
  else if (payload.tables.some((t) => offersDependOn.has(t))) refreshOpenOffers();
});

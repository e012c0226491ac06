import { create } from 'zustand';
import type { ColumnState } from 'ag-grid-community';
import type { ContractError, ExceptionRow, Input, Output, Result, ReturnLineView } from '../../../../core/contract';
import { api } from '../../api/transport';
import { formatMoney } from '../../app/format';
import { useAppStore } from '../../app/store';
import { returnsGridTables } from '../../app/enums';
import { throttle } from '../../app/throttle';
import { sortFieldOfColumn } from './columns';

// The returns grid asks the contract for one block of rows at a time (paged, sorted and filtered in SQL); this
// store holds the filters, the saved views and the return opened in the drawer.

type ListInput = Input<'returns.list'>;
export type SortField = NonNullable<ListInput['sort']>['field'];
export type ReturnsFilter = NonNullable<ListInput['filter']>;
type Timeline = Output<'returns.explain'>;
type Guard = Output<'refunds.explainGuard'>;

export interface SavedView {
  name: string;
  filter: ReturnsFilter;
  columns: ColumnState[];
}

export interface LineGuard {
  orderLineId: string;
  /** The return's line as the customer asked for it; null for a line only its refunds, units or exceptions name. */
  returned: ReturnLineView | null;
  guard: Guard | null;
  error: ContractError | null;
}

interface Detail {
  timeline: Timeline;
  lines: LineGuard[];
  exceptions: ExceptionRow[];
}

interface ReturnsState {
  filter: ReturnsFilter;
  /** Bumped when the filter changes: the grid starts again from the top. */
  generation: number;
  /** Bumped when sync changed data: the grid re-reads the blocks it holds, keeping its place. */
  liveTick: number;
  total: number | null;
  totalIsCapped: boolean;
  error: ContractError | null;
  views: SavedView[];
  openId: string | null;
  detail: Detail | null;
  detailError: ContractError | null;
  setFilter(filter: ReturnsFilter): void;
  fetchBlock(offset: number, limit: number, sort: { field: SortField; direction: 'asc' | 'desc' } | null): Promise<Output<'returns.list'> | null>;
  refresh(): void;
  saveView(view: SavedView): void;
  deleteView(name: string): void;
  openReturn(returnId: string | null): void;
  loadDetail(): Promise<void>;
  refundNow(returnId: string, orderLineId: string, overrideReason?: string): Promise<boolean>;
}

const viewsKey = 'rw.returns.views';
// v2: the layout that fits 1440 px (issue 24); a layout saved before would bring the wide one back.
export const columnStateKey = 'rw.returns.columns.v2';

function readViews(): SavedView[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(viewsKey) ?? '[]');
    return Array.isArray(parsed) ? (parsed as SavedView[]).filter((v) => typeof v?.name === 'string') : [];
  } catch {
    return [];
  }
}

function writeViews(views: SavedView[]): void {
  try {
    localStorage.setItem(viewsKey, JSON.stringify(views));
  } catch {
    useAppStore.getState().notify('error', 'Saved views could not be stored: this browser refuses local storage.');
  }
}

/**
 * The order lines a return's refund checks are asked for: every line of the return (returns.explain names them, also
 * those ReBound expects but has not registered a unit of: an override may be offered for them), then any other line
 * the timeline or the return's exceptions name: refund intents (`refund:<return>:<line>`), units
 * (`<return>:<line>:<n>`). The return's own lines come first, in Mirakl's order.
 */
export function orderLinesOf(returnId: string, timeline: Timeline, exceptions: ExceptionRow[]): string[] {
  const own = timeline.lines.map((l) => l.orderLineId);
  const lines = new Set<string>();
  for (const e of exceptions) if (e.orderLineId) lines.add(e.orderLineId);
  const prefix = `${returnId}:`;
  for (const entry of timeline.entries) {
    if (!entry.ref) continue;
    for (const ref of entry.ref.split(', ')) {
      if (ref.startsWith(`refund:${prefix}`)) lines.add(ref.slice(`refund:${prefix}`.length));
      else if ((entry.kind.startsWith('unit.') || entry.kind.startsWith('stock.')) && ref.startsWith(prefix) && ref.lastIndexOf(':') > prefix.length) {
        lines.add(ref.slice(prefix.length, ref.lastIndexOf(':')));
      }
    }
  }
  return [...new Set([...own, ...[...lines].sort()])];
}

/** The column state (order, widths, visibility, sort) saved in this browser, if any. */
export function savedColumnState(): ColumnState[] | null {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(columnStateKey) ?? 'null');
    return Array.isArray(parsed) ? (parsed as ColumnState[]) : null;
  } catch {
    return null;
  }
}

/** The saved column the grid starts sorted by, if any. */
export function savedSortColumn(): { colId: string; sort: 'asc' | 'desc' } | null {
  const sorted = savedColumnState()?.find((c) => (c.sort === 'asc' || c.sort === 'desc') && c.colId in sortFieldOfColumn);
  return sorted ? { colId: sorted.colId, sort: sorted.sort as 'asc' | 'desc' } : null;
}

/** What the grid asks the contract for one block of rows. */
const listInput = (offset: number, limit: number, filter: ReturnsFilter, sort: { field: SortField; direction: 'asc' | 'desc' } | null): ListInput => ({
  page: { offset, limit },
  filter,
  ...(sort ? { sort } : {}),
});
/** Rows per block the grid asks for. */
export const blockSize = 100;

/**
 * The first block the grid will ask for, asked for as soon as this code loads on the Returns section, so that the
 * answer is on its way while the grid itself starts. Used once, by a request with the same input, within seconds.
 */
let early: { input: string; at: number; answer: Promise<Result<Output<'returns.list'>>> } | null = null;
const earlyForMs = 5000;
if (useAppStore.getState().section === 'returns') {
  const sorted = savedSortColumn();
  const input = listInput(0, blockSize, {}, sorted ? { field: sortFieldOfColumn[sorted.colId] as SortField, direction: sorted.sort } : null);
  early = { input: JSON.stringify(input), at: performance.now(), answer: api.invoke('returns.list', input) };
}
function takeEarly(input: ListInput) {
  if (!early || performance.now() - early.at >= earlyForMs) early = null;
  if (early?.input !== JSON.stringify(input)) return null;
  const { answer } = early;
  early = null;
  return answer;
}

export const useReturnsStore = create<ReturnsState>((set, get) => ({
  filter: {},
  generation: 0,
  liveTick: 0,
  total: null,
  totalIsCapped: false,
  error: null,
  views: readViews(),
  openId: null,
  detail: null,
  detailError: null,

  setFilter: (filter) => set((s) => ({ filter, generation: s.generation + 1, total: null })),

  fetchBlock: async (offset, limit, sort) => {
    const input = listInput(offset, limit, get().filter, sort);
    const result = await (takeEarly(input) ?? api.invoke('returns.list', input));
    if (!result.ok) {
      set({ error: result.error });
      return null;
    }
    set({ error: null, total: result.data.total, totalIsCapped: result.data.totalIsCapped });
    return result.data;
  },

  refresh: () => set((s) => ({ liveTick: s.liveTick + 1 })),

  saveView: (view) => {
    const views = [...get().views.filter((v) => v.name !== view.name), view].sort((a, b) => a.name.localeCompare(b.name));
    writeViews(views);
    set({ views });
    useAppStore.getState().notify('ok', `View “${view.name}” saved.`);
  },

  deleteView: (name) => {
    const views = get().views.filter((v) => v.name !== name);
    writeViews(views);
    set({ views });
    useAppStore.getState().notify('ok', `View “${name}” deleted.`);
  },

  openReturn: (returnId) => {
    set({ openId: returnId, detail: null, detailError: null });
    if (returnId) void get().loadDetail();
  },

  loadDetail: async () => {
    const returnId = get().openId;
    if (!returnId) return;
    const [timeline, exceptions] = await Promise.all([
      api.invoke('returns.explain', { returnId }),
      api.invoke('exceptions.list', { filter: { returnId, states: ['open', 'in_review', 'snoozed'] }, page: { offset: 0, limit: 100 } }),
    ]);
    if (get().openId !== returnId) return;
    if (!timeline.ok) return set({ detailError: timeline.error });
    if (!exceptions.ok) return set({ detailError: exceptions.error });
    const lineIds = orderLinesOf(returnId, timeline.data, exceptions.data.rows);
    const guards = await Promise.all(lineIds.map((orderLineId) => api.invoke('refunds.explainGuard', { returnId, orderLineId })));
    if (get().openId !== returnId) return;
    set({
      detailError: null,
      detail: {
        timeline: timeline.data,
        exceptions: exceptions.data.rows,
        lines: lineIds.map((orderLineId, i) => {
          const g = guards[i];
          const returned = timeline.data.lines.find((l) => l.orderLineId === orderLineId) ?? null;
          return { orderLineId, returned, guard: g?.ok ? g.data : null, error: g && !g.ok ? g.error : null };
        }),
      },
    });
  },

  refundNow: async (returnId, orderLineId, overrideReason) => {
    const result = await api.invoke('refunds.refundNow', { returnId, orderLineId, ...(overrideReason ? { override: { reason: overrideReason } } : {}) });
    const app = useAppStore.getState();
    if (!result.ok) {
      app.notifyError(result.error, `Refund of line ${orderLineId}`);
      // What the line offers may have changed since it was shown: show what it offers now.
      await get().loadDetail();
      return false;
    }
    const amount = formatMoney(result.data.amountMinor, result.data.currency);
    app.notify('ok', `Refund of ${amount} for line ${orderLineId} planned${result.data.overridden ? ' with your override (audited)' : ''}; it goes out at the next sync cycle.`);
    await get().loadDetail();
    return true;
  },
}));

// Live: sync and colleagues change returns; the grid re-reads its blocks and the open drawer follows (≤ every 3 s).
const refreshLive = throttle(() => {
  const s = useReturnsStore.getState();
  s.refresh();
  if (s.openId) void s.loadDetail();
}, 3000);
api.on('data.changed', (payload) => {
  if (payload.tables.some((t) => returnsGridTables.includes(t) || t.startsWith('mirakl_') || t.startsWith('rebound_'))) refreshLive();
});

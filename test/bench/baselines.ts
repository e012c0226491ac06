import type { Budget, Budgets } from '../../core/sandbox/http/budgets';

// The yardsticks the sync figures are held against, as plain functions of what a run did, so they can be checked
// on their own (baselines.test.ts). Neither is a target: they say how far the engine is from a naive client and from
// what the call budgets would allow a perfect one.

/** What the engine changed in Mirakl during a run, one count per real-world effect. */
export interface MiraklActions {
  accepts: number;
  labelPushes: number;
  receipts: number;
  compliance: number;
  closes: number;
  /** Refunds, one per refunded return line. */
  refunds: number;
  /** Stock updates, one per (return, offer) that had a unit put back on sale. */
  stockUpdates: number;
}

/** A naive client makes one call per action: every state change, refund and stock update of every return on its own. */
export function naiveMiraklCalls(actions: MiraklActions): number {
  return actions.accepts + actions.labelPushes + actions.receipts + actions.compliance + actions.closes + actions.refunds + actions.stockUpdates;
}

/**
 * The earliest time (ms after the first call) at which the last of `calls` calls may go out under `budget`: an
 * interval budget spaces every call, a window budget lets `max` through per window.
 */
export function budgetFloorMs(calls: number, budget: Budget): number {
  if (calls <= 1) return 0;
  if (budget.kind === 'interval') return (calls - 1) * budget.minIntervalMs;
  return (Math.ceil(calls / budget.max) - 1) * budget.windowMs;
}

const minute = 60_000;
const day = 24 * 60 * minute;

/** Mirakl's documented page and batch sizes (specs NOTES §2, §3, §4): what one call can carry at most. */
export const perCall = {
  /** RT11 `limit` maximum. */
  rt11Page: 100,
  /** OR11 `order_ids` per call (its `max` page size). */
  or11Ids: 100,
  /** RT21, RT04, RT25, RT26, RT27: returns per call. */
  returnsBatch: 100,
  /** OR28 refund lines per call (issue 22: "OR28 up to 100 lines a call"; Mirakl publishes no maximum). */
  or28Lines: 100,
} as const;

/** The budgets the sandbox enforces: Mirakl per operation (its "Maximum usage"), ReBound per client over all operations. */
export interface FloorBudgets {
  mirakl: Budgets;
  rebound: Budget;
}

/** The least calls one operation needs, and the least time its budget lets them take. */
export interface OperationFloor {
  api: 'Mirakl' | 'ReBound';
  operation: string;
  calls: number;
  /** Calls charged against a budget: RT11's follow-up pages are not; ReBound's are all charged to one client budget. */
  chargedCalls: number;
  budget: Budget | null;
  /** Sandbox ms from the first charged call to the last that the budget allows (0 without a budget). */
  ms: number;
  derivation: string;
}

export interface BacklogWork {
  orders: number;
  returns: number;
  /** Returns waiting for the seller's acceptance (RT21) when the client starts. */
  toAccept: number;
  /** Order lines to refund, one OR28 refund entry each (amount and shipping together). */
  refundLines: number;
}

export interface BacklogFloor {
  operations: OperationFloor[];
  /** The operation (or, for ReBound, the client budget) whose budget takes longest: the drain cannot be faster. */
  binding: OperationFloor;
  ms: number;
  miraklCalls: number;
  reboundCalls: number;
}

const fmt = (x: number) => x.toLocaleString('en-GB');
const per = (ms: number) => (ms === minute ? 'minute' : fmtMs(ms));
const describeBudget = (b: Budget | null | undefined) =>
  !b ? 'no budget' : b.kind === 'interval' ? `one per ${per(b.minIntervalMs)}` : `${fmt(b.max)} per ${per(b.windowMs)}`;
const fmtMs = (ms: number) => (ms % minute === 0 ? `${ms / minute} min` : `${ms / 1000} s`);

/**
 * The least calls, per API and operation, a perfect client makes to take a backlog from requested to closed and
 * restocked, and the least time the budgets allow for them. Mirakl: RT11 reads every return once (one budgeted first
 * page, the follow-up pages are free); OR11 reads each order twice by id — for its lines, then to see the refunds
 * REFUNDED before RT27 (Mirakl's ledger is the only proof; OR28's answer has no state) — 100 ids a call; one call per
 * 100 returns each for RT21 (those waiting acceptance), RT04 (label), RT25, RT26 and RT27; one OR28 entry per refunded
 * line, 100 a call; one stock flush at the end (OF52 → OF53 → OF54 for a fresh read, STO01, one STO02). ReBound: a
 * sales order per order, a create and one read (the graded state) per return, all under one per-client budget; token
 * calls are not charged. The tail after the last budgeted call (a close, a stock import of seconds) is left out.
 */
export function backlogFloor(work: BacklogWork, budgets: FloorBudgets): BacklogFloor {
  const operations: OperationFloor[] = [];
  const mirakl = (operation: string, budgetKey: string | null, calls: number, chargedCalls: number, derivation: string) => {
    const budget = budgetKey ? (budgets.mirakl[budgetKey] ?? null) : null;
    operations.push({ api: 'Mirakl', operation, calls, chargedCalls, budget, ms: budget ? budgetFloorMs(chargedCalls, budget) : 0, derivation });
  };
  const batches = (n: number, size: number) => Math.ceil(n / size);
  const rt11Pages = Math.max(1, batches(work.returns, perCall.rt11Page));
  mirakl('RT11', 'RT11', rt11Pages, 1, `⌈${fmt(work.returns)} returns / ${perCall.rt11Page}⌉ pages; only the first page is budgeted`);
  const or11 = 2 * batches(work.orders, perCall.or11Ids);
  mirakl('OR11 by id', 'OR11', or11, or11, `2 reads × ⌈${fmt(work.orders)} orders / ${perCall.or11Ids}⌉ (lines, then refunds REFUNDED)`);
  mirakl('RT21', 'RT21', batches(work.toAccept, perCall.returnsBatch), batches(work.toAccept, perCall.returnsBatch), `⌈${fmt(work.toAccept)} waiting acceptance / ${perCall.returnsBatch}⌉`);
  for (const op of ['RT04', 'RT25', 'RT26', 'RT27']) {
    const n = batches(work.returns, perCall.returnsBatch);
    mirakl(op, op, n, n, `⌈${fmt(work.returns)} returns / ${perCall.returnsBatch}⌉`);
  }
  const or28 = batches(work.refundLines, perCall.or28Lines);
  mirakl('OR28', 'OR28', or28, or28, `⌈${fmt(work.refundLines)} refunded lines / ${perCall.or28Lines}⌉`);
  for (const op of ['OF52', 'OF53', 'OF54', 'STO01', 'STO02']) mirakl(op, op, 1, 1, 'one stock flush at the end');

  const reboundCalls = work.orders + 2 * work.returns;
  const reboundMs = budgetFloorMs(reboundCalls, budgets.rebound);
  operations.push({
    api: 'ReBound',
    operation: 'all operations (one client budget)',
    calls: reboundCalls,
    chargedCalls: reboundCalls,
    budget: budgets.rebound,
    ms: reboundMs,
    derivation: `${fmt(work.orders)} sales orders + ${fmt(work.returns)} creates + ${fmt(work.returns)} reads`,
  });
  const binding = operations.reduce((a, b) => (b.ms > a.ms ? b : a));
  const tokens = Math.max(1, Math.ceil(binding.ms / (30 * minute)));
  operations.push({ api: 'ReBound', operation: 'oauth.token', calls: tokens, chargedCalls: 0, budget: null, ms: 0, derivation: 'a 30-min token, over the floor' });
  return {
    operations,
    binding,
    ms: binding.ms,
    miraklCalls: operations.filter((o) => o.api === 'Mirakl').reduce((s, o) => s + o.calls, 0),
    reboundCalls: operations.filter((o) => o.api === 'ReBound').reduce((s, o) => s + o.calls, 0),
  };
}

/** One line per operation, the binding one marked: what `npm run bench` prints under the table. */
export function describeFloor(floor: { operations: OperationFloor[]; binding?: OperationFloor }): string[] {
  return floor.operations.map((o) => {
    const time = o.budget ? `, ${describeBudget(o.budget)} → ${fmt(Math.round(o.ms / minute))} min` : '';
    const charged = o.chargedCalls !== o.calls && o.budget ? ` (${fmt(o.chargedCalls)} budgeted)` : '';
    return `${o.api} ${o.operation}: ${o.derivation} = ${fmt(o.calls)} calls${charged}${time}${o === floor.binding ? '  ← binds' : ''}`;
  });
}

// --- Steady flow ----------------------------------------------------------------------------------------------

/** What happened in a steady flow's measured window, from the sandbox's ground truth (epoch ms). */
export interface SteadyEvents {
  from: number;
  to: number;
  /** Mirakl returns requested in the window, with their order and whether they wait for acceptance. */
  returns: { at: number; orderId: string; isWaitingAcceptance: boolean; lines: number }[];
  /** ReBound ITEMS_REGISTERED of a unit of the return (a receipt, which also allows its refund). */
  registered: number[];
  /** ReBound PROCESSED (graded: allows compliance). */
  processed: number[];
  /** PROCESSED with a unit graded sellable (a stock flush is due). */
  restocked: number[];
}

export interface SteadyPolicy {
  /** RT11's recommended cadence (specs NOTES §3): how a client learns of new returns. */
  pollEveryMs: number;
  /** A receipt reaches Mirakl within this (issue 22: p95 ≤ 60 s). */
  receiptWithinMs: number;
  /** Everything else may wait this long to share a call. */
  batchWithinMs: number;
}

export const defaultSteadyPolicy: SteadyPolicy = { pollEveryMs: 15 * minute, receiptWithinMs: minute, batchWithinMs: 15 * minute };

/**
 * The least calls that send every action in `times` no later than `withinMs` after it became possible, at most
 * `size` actions a call: greedy (the first waiting action opens a call that takes everything due in its window), which
 * is optimal for covering points with fixed windows.
 */
export function coverCalls(times: number[], withinMs: number, size: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let calls = 0;
  let i = 0;
  while (i < sorted.length) {
    const open = sorted[i] as number;
    let taken = 0;
    while (i < sorted.length && (sorted[i] as number) <= open + withinMs && taken < size) {
      i++;
      taken++;
    }
    calls++;
  }
  return calls;
}

/** Calls when actions are grouped by the poll that finds them: ⌈n/size⌉ per poll with any. */
export function slotCalls(times: number[], from: number, slotMs: number, size: number): number {
  const perSlot = new Map<number, number>();
  for (const t of times) perSlot.set(Math.floor((t - from) / slotMs), (perSlot.get(Math.floor((t - from) / slotMs)) ?? 0) + 1);
  let calls = 0;
  for (const n of perSlot.values()) calls += Number.isFinite(size) ? Math.ceil(n / size) : 1;
  return calls;
}

export interface SteadyFloor {
  operations: OperationFloor[];
  miraklCalls: number;
  reboundCalls: number;
  /** Per sandbox day, from the window. */
  miraklPerDay: number;
  reboundPerDay: number;
  miraklPerReturn: number;
  reboundPerReturn: number;
  returns: number;
}

/**
 * The least calls a perfect client makes in a steady flow's window. It learns of returns by RT11 at its recommended
 * cadence (a page per 100 new returns per poll) and handles each poll's finds together: RT21 for those waiting
 * acceptance, RT04 for all, OR11 for their orders (100 ids a call). It is told of ReBound's changes by notifications:
 * each receipt reaches Mirakl (RT25) within `receiptWithinMs`, sharing calls with receipts in the same window; refunds
 * (OR28), compliance (RT26) and stock flushes batch over `batchWithinMs`; each refund batch costs one OR11 to see it
 * REFUNDED and one RT27 to close; each stock flush OF52, OF53, OF54, STO01 and STO02. ReBound: a sales order per
 * order, a create and a read per return, and a token per 30 minutes.
 */
export function steadyFloor(events: SteadyEvents, policy: SteadyPolicy = defaultSteadyPolicy): SteadyFloor {
  const windowMs = events.to - events.from;
  const operations: OperationFloor[] = [];
  const add = (api: OperationFloor['api'], operation: string, calls: number, derivation: string) =>
    operations.push({ api, operation, calls, chargedCalls: calls, budget: null, ms: 0, derivation });
  const at = events.returns.map((r) => r.at);
  const polls = Math.ceil(windowMs / policy.pollEveryMs);
  const pages = slotCalls(at, events.from, policy.pollEveryMs, perCall.rt11Page);
  const pollsWithFinds = slotCalls(at, events.from, policy.pollEveryMs, Number.POSITIVE_INFINITY);
  const every = fmtMs(policy.pollEveryMs);
  add('Mirakl', 'RT11', polls + pages - pollsWithFinds, `a poll every ${every} (${fmt(polls)}), a page per ${perCall.rt11Page} new returns`);
  add('Mirakl', 'RT21', slotCalls(events.returns.filter((r) => r.isWaitingAcceptance).map((r) => r.at), events.from, policy.pollEveryMs, perCall.returnsBatch), 'per poll that found returns waiting acceptance');
  add('Mirakl', 'RT04', slotCalls(at, events.from, policy.pollEveryMs, perCall.returnsBatch), 'per poll that found returns');
  const orderSlots = new Map<string, number>();
  for (const r of events.returns) if (!orderSlots.has(r.orderId)) orderSlots.set(r.orderId, r.at);
  const orderReads = slotCalls([...orderSlots.values()], events.from, policy.pollEveryMs, perCall.or11Ids);
  const refundBatches = coverCalls(events.registered, policy.batchWithinMs, perCall.or28Lines);
  const batchWithin = fmtMs(policy.batchWithinMs);
  add('Mirakl', 'OR11 by id', orderReads + refundBatches, `their orders per poll (${fmt(orderReads)}) + one per refund batch (${fmt(refundBatches)})`);
  add('Mirakl', 'RT25', coverCalls(events.registered, policy.receiptWithinMs, perCall.returnsBatch), `each receipt within ${fmtMs(policy.receiptWithinMs)}`);
  add('Mirakl', 'OR28', refundBatches, `receipts batched over ${batchWithin}`);
  add('Mirakl', 'RT26', coverCalls(events.processed, policy.batchWithinMs, perCall.returnsBatch), `gradings batched over ${batchWithin}`);
  add('Mirakl', 'RT27', refundBatches, 'one per refund batch');
  const flushes = coverCalls(events.restocked, policy.batchWithinMs, Number.POSITIVE_INFINITY);
  add('Mirakl', 'OF52, OF53, OF54, STO01, STO02', 5 * flushes, `5 per stock flush (${fmt(flushes)}, sellable gradings over ${batchWithin})`);
  const orders = orderSlots.size;
  add('ReBound', 'sales orders, creates, reads', orders + 2 * events.returns.length, `${fmt(orders)} orders + 2 × ${fmt(events.returns.length)} returns`);
  add('ReBound', 'oauth.token', Math.ceil(windowMs / (30 * minute)), 'a 30-min token');
  const sum = (api: OperationFloor['api']) => operations.filter((o) => o.api === api).reduce((s, o) => s + o.calls, 0);
  const miraklCalls = sum('Mirakl');
  const reboundCalls = sum('ReBound');
  const returns = events.returns.length;
  return {
    operations,
    miraklCalls,
    reboundCalls,
    miraklPerDay: (miraklCalls * day) / windowMs,
    reboundPerDay: (reboundCalls * day) / windowMs,
    miraklPerReturn: returns ? miraklCalls / returns : Number.NaN,
    reboundPerReturn: returns ? reboundCalls / returns : Number.NaN,
    returns,
  };
}

/** Nearest-rank percentile; an Infinity in `xs` (a sample that never finished) sorts last. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

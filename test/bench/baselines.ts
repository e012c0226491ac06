import type { Budget } from '../../core/sandbox/http/budgets';

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

export interface NeededCalls {
  /** e.g. `mirakl OR11`. */
  name: string;
  calls: number;
  budget: Budget;
  /** Why this many calls are the least a correct client can make. */
  why: string;
}

/**
 * The least budgeted calls a correct client needs to take `orders` orders and `returns` returns from request to
 * closed: OR11 reads each order once for its lines and once more to see the refunds REFUNDED before RT27 (Mirakl's
 * ledger is the only proof), at most 100 orders a call; ReBound needs the sales order, the look-up before creating
 * (DESIGN rule 6: never create twice), the return order and one read of its physical state. RT11's follow-up pages and
 * a single STO01 import are not bound by their budgets at this size, so they add no wait.
 */
export function neededCalls(work: { orders: number; returns: number }, budgets: { or11: Budget; rebound: Budget }): NeededCalls[] {
  return [
    { name: 'mirakl OR11', calls: 2 * Math.ceil(work.orders / 100), budget: budgets.or11, why: '2 reads per order, 100 orders per call' },
    { name: 'ReBound (per client)', calls: work.orders + 3 * work.returns, budget: budgets.rebound, why: '1 sales order per order; look-up, create, read per return' },
  ];
}

/** The drain floor: the slowest of the budgets, each spending its needed calls as fast as it allows. */
export function drainFloor(needed: NeededCalls[]): { ms: number; binding: NeededCalls | null } {
  let best: { ms: number; binding: NeededCalls | null } = { ms: 0, binding: null };
  for (const n of needed) {
    const ms = budgetFloorMs(n.calls, n.budget);
    if (best.binding === null || ms > best.ms) best = { ms, binding: n };
  }
  return best;
}

/** Nearest-rank percentile; an Infinity in `xs` (a sample that never finished) sorts last. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

// Our own side of the call budgets: we wait rather than spend Mirakl's patience. Last-call times are kept in
// SQLite (core/store/budget-repo.ts) so a restart does not reset them.
export interface BudgetStore {
  lastCall(key: string): number | null;
  record(key: string, at: number): void;
}

export function createMemoryBudgetStore(): BudgetStore {
  const map = new Map<string, number>();
  return { lastCall: (k) => map.get(k) ?? null, record: (k, at) => void map.set(k, at) };
}

/** Milliseconds to wait before `key` may be called again, given a minimum interval. */
export function budgetWait(store: BudgetStore, key: string, minIntervalMs: number | undefined, now: number): number {
  if (!minIntervalMs) return 0;
  const last = store.lastCall(key);
  return last === null ? 0 : Math.max(0, last + minIntervalMs - now);
}

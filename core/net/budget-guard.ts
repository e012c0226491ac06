import type { Database } from 'better-sqlite3';

// Our own side of the call budgets: we wait rather than spend Mirakl's patience. Last-call times are kept in
// SQLite so a restart does not reset them.
export interface BudgetStore {
  lastCall(key: string): number | null;
  record(key: string, at: number): void;
}

export function createSqliteBudgetStore(db: Database): BudgetStore {
  const get = db.prepare('SELECT last_call_at FROM api_budgets WHERE key = ?');
  const put = db.prepare(`INSERT INTO api_budgets (key, last_call_at) VALUES (?, ?)
    ON CONFLICT (key) DO UPDATE SET last_call_at = excluded.last_call_at`);
  return {
    lastCall: (key) => (get.get(key) as { last_call_at: number } | undefined)?.last_call_at ?? null,
    record: (key, at) => void put.run(key, at),
  };
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

import type { Database } from 'better-sqlite3';
import type { BudgetStore } from '../net/budget-guard';

// Last-call times of the call budgets (core/net/budget-guard.ts), kept in SQLite so a restart does not reset them.
export function createSqliteBudgetStore(db: Database): BudgetStore {
  const get = db.prepare('SELECT last_call_at FROM api_budgets WHERE key = ?');
  const put = db.prepare(`INSERT INTO api_budgets (key, last_call_at) VALUES (?, ?)
    ON CONFLICT (key) DO UPDATE SET last_call_at = excluded.last_call_at`);
  return {
    lastCall: (key) => (get.get(key) as { last_call_at: number } | undefined)?.last_call_at ?? null,
    record: (key, at) => void put.run(key, at),
  };
}

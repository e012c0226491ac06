import type { Database } from 'better-sqlite3';
import { intentKinds } from '../contract';

// What the bridge's operations read of the intent ledger. Read-only: the ledger writes it.

const allKinds = Object.keys(intentKinds);

export function createOperationsRepo(db: Database) {
  const waiting = db.prepare(`SELECT count(*) AS n FROM intents WHERE kind IN (SELECT value FROM json_each(@kinds))
    AND (state = 'planned' OR (state = 'failed' AND next_attempt_at IS NOT NULL))`);
  return {
    /** Calls waiting to be sent: planned, or failed and due again (a failed call with no retry waits for a person). */
    waiting: (): number => (waiting.get({ kinds: JSON.stringify(allKinds) }) as { n: number }).n,
  };
}
export type OperationsRepo = ReturnType<typeof createOperationsRepo>;

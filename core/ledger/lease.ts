import type { Database } from 'better-sqlite3';
import type { Clock } from '../ports';

// The engine lease (issue 25, migration engine_lease): the fence behind the folder lock. Each engine start takes the
// next epoch; every claim of a call or of units for a stock import checks, in its own transaction, that this
// connection's epoch is still the database's. The folder lock keeps a second engine off a folder while the first is
// alive; the epoch covers what a lock cannot: an engine stopped (SIGSTOP, a laptop lid) long enough for its lock to go
// stale and another engine to start wakes up and claims nothing. A connection that never started an engine (a report,
// a bundle, a unit test of one feed) holds no epoch and is not fenced: it is not an engine, and sends nothing itself.

export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
  constructor(
    readonly held: number,
    readonly current: { epoch: number; holder: string; acquiredAt: string },
  ) {
    super(
      `another engine started on this database (${current.holder || 'unknown'}, at ${current.acquiredAt}, epoch ${current.epoch}; ` +
        `this one holds epoch ${held}): this engine stopped sending — it must not claim calls the other one now owns`,
    );
  }
}

interface LeaseRow {
  epoch: number;
  holder: string;
  acquired_at: string;
}

export function createLease(db: Database, clock: Clock) {
  const take = db.prepare(`UPDATE engine_lease SET epoch = epoch + 1, holder = @holder, acquired_at = @now WHERE id = 1 RETURNING epoch`);
  const read = db.prepare('SELECT epoch, holder, acquired_at FROM engine_lease WHERE id = 1');
  let held: number | null = null;

  const current = () => read.get() as LeaseRow;

  return {
    /** Starts an engine on this database: takes the next epoch, which every older engine's claims now fail against. */
    acquire(holder: string): number {
      const row = take.get({ holder, now: new Date(clock.now()).toISOString() }) as { epoch: number };
      held = row.epoch;
      return held;
    },
    /** The epoch this connection's engine took; null when it started none. */
    epoch: (): number | null => held,
    /** Whether this connection's engine still holds the lease (true when it never took one: it is not an engine). */
    isHeld: (): boolean => held === null || current().epoch === held,
    /**
     * Throws LeaseLostError when another engine has started on this database since this one did. Called inside the
     * transaction that claims, so the check and the claim are one atomic step.
     */
    assertHeld(): void {
      if (held === null) return;
      const row = current();
      if (row.epoch !== held) throw new LeaseLostError(held, { epoch: row.epoch, holder: row.holder, acquiredAt: row.acquired_at });
    },
  };
}

export type Lease = ReturnType<typeof createLease>;

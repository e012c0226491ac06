import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { Clock } from '../ports';
import type { LeaseMarker, MachineLeaseBook, MachineLeaseFigures } from '../store/lease-marker';

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
  database_id: string | null;
  claims: number;
}

/**
 * Why the database an engine starts on is not the one this folder's engine last ran on (see lease-marker.ts), or null.
 * A database that never met a marker-keeping engine (a new one, or one from before the marker) is taken as it is.
 */
export function restoreCause(row: Pick<LeaseRow, 'database_id' | 'epoch' | 'claims'>, marker: ReturnType<LeaseMarker['read']>): string | null {
  if (row.database_id === null) {
    return marker === null ? null : 'this folder last ran an engine on another database, and this one has never run one here (a database copied in, or put back from a backup older than this version)';
  }
  if (marker === null) return row.claims > 0 || row.epoch > 0 ? 'this database has a history but no engine ran it in this folder (copied in from elsewhere, or the folder\'s engine-lease.json was removed)' : null;
  if (marker === 'unreadable') return "this folder's engine-lease.json cannot be read, so whether this database is the one last used here is unknown";
  if (marker.databaseId !== row.database_id) return `this folder last ran an engine on another database (${marker.databaseId}; this one is ${row.database_id}): it was copied in from elsewhere`;
  if (row.epoch < marker.epoch || row.claims < marker.claims) {
    return `this database was put back from a backup: it holds engine start ${row.epoch} and ${row.claims} call(s) claimed, where the engine here had reached start ${marker.epoch} and ${marker.claims} call(s)`;
  }
  return null;
}

/**
 * Why this machine's own record of the database (kept outside its folder, lease-marker.ts) shows it was put back, when
 * the folder's engine-lease.json agrees with it (a whole-folder restore), or null. A database id the record does not
 * know, or cannot read, shows nothing: that is a first start on this machine, not a restore.
 */
export function machineRestoreCause(
  row: Pick<LeaseRow, 'epoch' | 'claims'>,
  folder: string,
  record: MachineLeaseFigures | 'unreadable' | null,
  where: string,
): string | null {
  if (record === null || record === 'unreadable') return null;
  if (row.epoch >= record.epoch && row.claims >= record.claims) return null;
  const figures = `it holds engine start ${row.epoch} and ${row.claims} call(s) claimed, where this machine's record of it (${where}) had reached start ${record.epoch} and ${record.claims} call(s)`;
  return record.folder === folder
    ? `this database was put back from a backup together with its folder's engine-lease.json (the whole data folder restored): ${figures}`
    : `this database is an older copy of one an engine ran further in another folder on this machine (${record.folder}): ${figures}`;
}

/** This machine's record of each database's figures, outside the data folder (lease-marker.ts). */
export interface MachineLease {
  book: MachineLeaseBook;
  /** The folder of this database, written with its figures. */
  folder: string;
  /** The record could not be read or written: detection of a whole-folder restore is weaker, the engine goes on. */
  onError(what: string, error: Error): void;
}

export function createLease(db: Database, clock: Clock, marker?: LeaseMarker, machine?: MachineLease) {
  const take = db.prepare(`UPDATE engine_lease SET epoch = epoch + 1, holder = @holder, acquired_at = @now,
    database_id = coalesce(database_id, @newId) WHERE id = 1 RETURNING epoch, database_id, claims`);
  const read = db.prepare('SELECT epoch, holder, acquired_at, database_id, claims FROM engine_lease WHERE id = 1');
  const count = db.prepare('UPDATE engine_lease SET claims = claims + 1 WHERE id = 1 RETURNING claims');
  let held: number | null = null;
  let databaseId: string | null = null;
  let claims = 0;
  let arrival: string | null = null;

  const current = () => read.get() as LeaseRow;
  const publish = () => {
    if (held === null || databaseId === null) return;
    marker?.write({ databaseId, epoch: held, claims });
    if (machine) {
      try {
        machine.book.write({ databaseId, epoch: held, claims, folder: machine.folder });
      } catch (error) {
        machine.onError('write', error as Error);
      }
    }
  };
  const machineCause = (row: LeaseRow): string | null => {
    if (!machine || row.database_id === null) return null;
    try {
      return machineRestoreCause(row, machine.folder, machine.book.read(row.database_id), machine.book.fileOf(row.database_id) ?? row.database_id);
    } catch (error) {
      machine.onError('read', error as Error);
      return null;
    }
  };

  return {
    /**
     * Starts an engine on this database: takes the next epoch, which every older engine's claims now fail against. Reads
     * the folder's marker first: `arrivedBecause()` then says whether this database was restored or copied in, and then
     * the new figures are published only once its quarantine has begun (the caller's `published()`).
     */
    acquire(holder: string): number {
      const before = current();
      arrival = (marker ? restoreCause(before, marker.read()) : null) ?? machineCause(before);
      const row = db.transaction(() => take.get({ holder, now: new Date(clock.now()).toISOString(), newId: randomUUID() }) as LeaseRow)();
      held = row.epoch;
      databaseId = row.database_id;
      claims = row.claims;
      // A database found restored or copied in keeps the marker and this machine's record as they are until its
      // quarantine has begun (published(), restore.ts): a start that ends before then leaves the finding to the next.
      if (arrival === null) publish();
      return held;
    },
    /** Why this engine's database was found restored or copied in when it started (null: it is the folder's own). */
    arrivedBecause: (): string | null => arrival,
    /**
     * Counts one claim of calls, in the claim's transaction (after assertHeld). `published()` must follow once that
     * transaction has committed, before the call goes out: the marker then holds a count no backup taken before it has.
     */
    countClaim(): void {
      if (held === null) return;
      claims = (count.get() as { claims: number }).claims;
    },
    published: (): void => publish(),
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

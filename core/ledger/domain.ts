import { dirname } from 'node:path';
import type { Database, Statement } from 'better-sqlite3';
import type { Mappings } from '../mappings/load';
import type { Clock, EventSink, Logger } from '../ports';
import { trackWrites } from '../store/changes';
import { createCursors, type Cursors } from '../store/cursors-repo';
import { createEngineRepo, type EngineRepo } from '../store/engine-repo';
import { createFeedsRepo, type FeedsRepo } from '../store/feeds-repo';
import { createLeaseMarker, createMachineLeaseBook } from '../store/lease-marker';
import { createIntakeRepo, type IntakeRepo } from '../store/intake-repo';
import { createMiraklStore, type MiraklStore } from '../store/mirakl-repo';
import { explainReads, type ExplainReads } from '../store/reconcile/explain-repo';
import { createReconciler, type Reconciler } from '../store/reconcile/pass';
import { createStockFactsRepo, type StockFactsRepo } from '../store/stock-facts-repo';
import { createExceptionStore, type ExceptionStore } from './exceptions';
import { createIntents, type Intents } from './intents';
import { createLease, type Lease, type MachineLease } from './lease';
import { createQuarantine, type Quarantine } from './quarantine';
import { createCommandQueue, type CommandQueue } from './queue';
import { createRestockLedger, type RestockLedger } from './restock';
import { createRestoreQuarantine, type RestoreQuarantine } from './restore-quarantine';
import { createPhysicalStore, type PhysicalStore } from './units';

// The domain without the network: what the engine's feeds, the detectors and the people's resolutions share, so a
// resolution goes through exactly the guards and intents the engine uses. It hands out the ledger's named writers
// and the repositories' questions, never the database itself: money and stock are written only through the ledger.
export interface DomainContext {
  /** What the explainer reads about one return (timeline, units, stock, exceptions, audit). */
  explain: ExplainReads;
  /** Mirakl's stock facts as last read (offer snapshot, exports, sales), for the stock feed. */
  stockFacts: StockFactsRepo;
  clock: Clock;
  log: Logger;
  events: EventSink | null;
  mappings: () => Mappings;
  intents: Intents;
  exceptions: ExceptionStore;
  store: MiraklStore;
  physical: PhysicalStore;
  cursors: Cursors;
  /** The only writer of stock increments: each sellable unit restocked once. */
  restock: RestockLedger;
  /** Records Mirakl or ReBound sent that could not be read, held aside (MALFORMED_RECORD). */
  quarantine: Quarantine;
  /** The matcher and detectors; one per connection (it keeps temporary scope tables). Queues its own full-pass chunks. */
  reconciler: Reconciler;
  /** The one serial queue that sync cycles and people's actions share (one per engine and data folder). */
  queue: CommandQueue;
  /** Runs `fn` in one database transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T;
  /** Where each return stands on its way into ReBound. */
  intake: IntakeRepo;
  /** The engine's questions to the store (what needs work now) and its own bookkeeping. */
  repo: EngineRepo;
  /** The feeds' schedule and last runs. */
  feeds: FeedsRepo;
  /** The engine lease: an engine takes an epoch when it starts, and its claims are refused once another has (lease.ts). */
  lease: Lease;
  /** Quarantine after restore: refunds and stock imports paused on a database restored or copied in (restore-quarantine.ts). */
  restore: RestoreQuarantine;
}

export type DomainPorts = Pick<DomainContext, 'clock' | 'log' | 'events' | 'mappings'> & {
  db: Database;
  queue?: CommandQueue;
  /**
   * This machine's per-user state folder, outside the data folder, where an engine also records each database's lease
   * figures (lease-marker.ts): how a whole data folder put back from a backup is noticed. None: not recorded (a sandbox
   * run's throw-away database, a connection that runs no engine).
   */
  engineStateDir?: string;
};

export function createDomainContext(ports: DomainPorts): DomainContext {
  // Before any statement is prepared: every write of this connection marks its table, and the queue announces them.
  const changes = trackWrites(ports.db);
  const exceptions = createExceptionStore(ports.db, ports.clock);
  // One statement per SQL text for this connection: the explainer's reads are compiled the first time they are asked.
  const statements = new Map<string, Statement>();
  const q = (sql: string): Statement => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = ports.db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const { db: _db, queue: givenQueue, engineStateDir, ...rest } = ports;
  const queue = givenQueue ?? createCommandQueue({ changes, announce: (tables) => ports.events?.emit('data.changed', { tables }) });
  // A full pass (a new or migrated database, a flood of changes) runs a chunk at a time, each chunk a command on the
  // queue: whatever was queued meanwhile — a person's action, a sync cycle — runs between two chunks. One chunk is
  // queued at a time, however many passes found the full pass under way.
  let isChunkQueued = false;
  const reconciler: Reconciler = createReconciler(ports.db, ports.clock, {
    onFullPassPending: () => {
      if (isChunkQueued) return;
      isChunkQueued = true;
      queue
        .run('reconcile:full-pass', () => {
          isChunkQueued = false;
          if (ports.db.open && reconciler.isFullPassPending()) reconciler.run(ports.mappings().policy, { fullPass: 'chunk' });
        })
        .catch((error: unknown) => ports.log.error('a chunk of the full reconciliation pass failed', { error: (error as Error).message }));
    },
  });
  // The folder's lease marker sits beside a database file (an in-memory database has no folder, and no restore).
  // So does this machine's record of it, in the per-user state folder, when the engine is given one.
  let isMachineErrorSaid = false;
  const machine: MachineLease | undefined =
    ports.db.memory || !engineStateDir
      ? undefined
      : {
          book: createMachineLeaseBook(engineStateDir),
          folder: dirname(ports.db.name),
          onError: (what, error) => {
            if (isMachineErrorSaid) return;
            isMachineErrorSaid = true;
            ports.log.warn(`this machine's record of the engine lease could not be ${what === 'read' ? 'read' : 'written'}: a whole data folder put back from a backup may go unnoticed`, {
              folder: engineStateDir,
              error: error.message,
            });
          },
        };
  const lease = createLease(ports.db, ports.clock, ports.db.memory ? undefined : createLeaseMarker(dirname(ports.db.name)), machine);
  return {
    ...rest,
    lease,
    restore: createRestoreQuarantine(ports.db, ports.clock, exceptions),
    explain: explainReads({ q }),
    stockFacts: createStockFactsRepo({ q }),
    intents: createIntents(ports.db, ports.clock, lease),
    exceptions,
    store: createMiraklStore(ports.db, ports.clock),
    physical: createPhysicalStore(ports.db, ports.clock, exceptions),
    cursors: createCursors(ports.db, ports.clock),
    quarantine: createQuarantine(ports.db, ports.clock, exceptions),
    restock: createRestockLedger(ports.db, ports.clock, lease),
    reconciler,
    queue,
    transaction: <T>(fn: () => T): T => ports.db.transaction(fn)(),
    intake: createIntakeRepo(ports.db, ports.clock),
    repo: createEngineRepo(ports.db, ports.clock),
    feeds: createFeedsRepo(ports.db),
  };
}

import type { Database, Statement } from 'better-sqlite3';
import type { Mappings } from '../mappings/load';
import type { Clock, EventSink, Logger } from '../ports';
import { createCursors, type Cursors } from '../store/cursors-repo';
import { createEngineRepo, type EngineRepo } from '../store/engine-repo';
import { createFeedsRepo, type FeedsRepo } from '../store/feeds-repo';
import { createIntakeRepo, type IntakeRepo } from '../store/intake-repo';
import { createMiraklStore, type MiraklStore } from '../store/mirakl-repo';
import { createReconciler, type Reconciler } from '../store/reconcile/pass';
import { createExceptionStore, type ExceptionStore } from './exceptions';
import { createIntents, type Intents } from './intents';
import { createQuarantine, type Quarantine } from './quarantine';
import { createCommandQueue, type CommandQueue } from './queue';
import { createRestockLedger, type RestockLedger } from './restock';
import { createPhysicalStore, type PhysicalStore } from './units';

// The domain without the network: what the engine's feeds, the detectors and the people's resolutions share, so a
// resolution goes through exactly the guards and intents the engine uses.
export interface DomainContext {
  db: Database;
  /** A prepared statement for this SQL, compiled once per context (feeds run their queries every cycle). */
  q(sql: string): Statement;
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
  /** The matcher and detectors; one per connection (it keeps temporary scope tables). */
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
}

export type DomainPorts = Pick<DomainContext, 'db' | 'clock' | 'log' | 'events' | 'mappings'> & { queue?: CommandQueue };

export function createDomainContext(ports: DomainPorts): DomainContext {
  const exceptions = createExceptionStore(ports.db, ports.clock);
  const statements = new Map<string, Statement>();
  return {
    ...ports,
    q: (sql) => {
      let statement = statements.get(sql);
      if (!statement) {
        statement = ports.db.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
    intents: createIntents(ports.db, ports.clock),
    exceptions,
    store: createMiraklStore(ports.db, ports.clock),
    physical: createPhysicalStore(ports.db, ports.clock, exceptions),
    cursors: createCursors(ports.db, ports.clock),
    quarantine: createQuarantine(ports.db, ports.clock, exceptions),
    restock: createRestockLedger(ports.db, ports.clock),
    reconciler: createReconciler(ports.db, ports.clock),
    queue: ports.queue ?? createCommandQueue(),
    transaction: <T>(fn: () => T): T => ports.db.transaction(fn)(),
    intake: createIntakeRepo(ports.db, ports.clock),
    repo: createEngineRepo(ports.db, ports.clock),
    feeds: createFeedsRepo(ports.db),
  };
}

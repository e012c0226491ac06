import type { Database, Statement } from 'better-sqlite3';
import type { EventBus } from '../app/event-bus';
import { createExceptionStore, type ExceptionStore } from '../exceptions/store';
import type { Mappings } from '../mappings/load';
import type { MiraklClient } from '../mirakl/client';
import type { Clock, Logger, Random } from '../ports';
import type { ReboundApi } from './rebound-api';
import { createCursors, type Cursors } from './cursors';
import { createIntents, type Intents } from './intents';
import { createMiraklStore, type MiraklStore } from './mirakl-store';
import { createPhysicalStore, type PhysicalStore } from './physical';

// Everything a feed needs, built once from the injected ports.
export interface EngineContext {
  db: Database;
  /** A prepared statement for this SQL, compiled once per engine (feeds run their queries every cycle). */
  q(sql: string): Statement;
  clock: Clock;
  random: Random;
  log: Logger;
  events: EventBus | null;
  mirakl: MiraklClient;
  rebound: ReboundApi;
  mappings: () => Mappings;
  intents: Intents;
  exceptions: ExceptionStore;
  store: MiraklStore;
  physical: PhysicalStore;
  cursors: Cursors;
  /** Where ReBound should POST notifications, when this machine can receive them. */
  webhook: { url: string; secret: string } | null;
  /** Instrumented crash points for the crash and chaos tests; absent in the app. */
  crash?: (point: string) => void;
}

export function createEngineContext(ports: Omit<EngineContext, 'q' | 'intents' | 'exceptions' | 'store' | 'physical' | 'cursors'>): EngineContext {
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
  };
}

export const isoAt = (ms: number) => new Date(ms).toISOString();

import type { Database } from 'better-sqlite3';
import type { Mappings } from '../mappings/load';
import { createMiraklClient } from '../mirakl/client';
import type { HttpPort } from '../net/http';
import type { Clock, Logger, Random } from '../ports';
import { createReboundClient } from '../rebound/client';
import { createSqliteBudgetStore } from '../store/budget-repo';
import { createSqliteJournal } from '../store/journal-repo';
import { createEngineContext } from '../sync/context';
import { createEngine } from '../sync/engine';
import type { CommandQueue } from '../ledger/queue';
import type { EventBus } from './event-bus';

// Builds the sync engine for a set of connections. Live mode and Sandbox mode differ only in the URLs and
// credentials passed here: the engine has no special case for the sandbox.

export interface Connections {
  mirakl: { baseUrl: string; shopId?: number; apiKey: () => Promise<string> };
  rebound: { baseUrl: string; clientId: string; clientSecret: () => Promise<string>; flowKey?: string };
}

export interface SyncRuntimeOptions {
  db: Database;
  clock: Clock;
  random: Random;
  log: Logger;
  http: HttpPort;
  events: EventBus | null;
  mappings: () => Mappings;
  connections: Connections;
  webhook?: { url: string; secret: string } | null;
  /** The queue people's actions go through (the core's), so the engine's feeds and their actions never interleave. */
  queue?: CommandQueue;
}

export function createSyncRuntime(options: SyncRuntimeOptions) {
  const common = {
    clock: options.clock,
    http: options.http,
    journal: createSqliteJournal(options.db),
    budgets: createSqliteBudgetStore(options.db),
  };
  const { mirakl, rebound } = options.connections;
  const ctx = createEngineContext({
    db: options.db,
    clock: options.clock,
    random: options.random,
    log: options.log,
    events: options.events,
    mappings: options.mappings,
    webhook: options.webhook ?? null,
    ...(options.queue ? { queue: options.queue } : {}),
    mirakl: createMiraklClient({ ...common, baseUrl: mirakl.baseUrl, apiKey: mirakl.apiKey, ...(mirakl.shopId !== undefined ? { shopId: mirakl.shopId } : {}) }),
    rebound: createReboundClient({
      ...common,
      baseUrl: rebound.baseUrl,
      clientId: rebound.clientId,
      clientSecret: rebound.clientSecret,
      ...(rebound.flowKey ? { flowKey: rebound.flowKey } : {}),
    }),
  });
  return { ctx, engine: createEngine(ctx) };
}

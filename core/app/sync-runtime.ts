import { dirname } from 'node:path';
import type { Store } from '../store/db';
import type { Mappings } from '../mappings/load';
import { createMiraklClient } from '../mirakl/client';
import type { HttpPort } from '../net/http';
import type { Clock, Logger, Random } from '../ports';
import { createReboundClient } from '../rebound/client';
import { createSqliteBudgetStore } from '../store/budget-repo';
import { acquireFolderLock, unlockedFolder, type FolderLock, type FolderLockOptions } from '../store/folder-lock';
import { createSqliteJournal } from '../store/journal-repo';
import { createEngineContext, type EngineContext } from '../sync/context';
import { createEngine, type Engine } from '../sync/engine';
import type { CommandQueue } from '../ledger/queue';
import type { EventBus } from './event-bus';

// Builds the sync engine for a set of connections. Live mode and Sandbox mode differ only in the URLs and
// credentials passed here: the engine has no special case for the sandbox.
//
// One engine per data folder (DESIGN.md): every process that runs an engine (the desktop core, `npm run sync`,
// `npm run web`) builds it here, and here it first takes the lock of the folder its database is in. Building the
// engine already settles intents left `sending`, so no second engine may get that far: it refuses, naming the
// holder, or waits for it. A sandbox run's fresh folder has a lock of its own.

export interface Connections {
  mirakl: { baseUrl: string; shopId?: number; apiKey: () => Promise<string> };
  rebound: { baseUrl: string; clientId: string; clientSecret: () => Promise<string>; flowKey?: string };
}

export interface SyncRuntimeOptions {
  db: Store['db'];
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
  /** The write freeze in force (default: the one kept in this database's settings). */
  writes?: EngineContext['writes'];
  /** This machine's per-user state folder, where the engine also records its lease (none: a throw-away sandbox database). */
  engineStateDir?: string;
  /** Refuse (default) or wait while another process holds the folder; what to do if the lock is lost. */
  lock?: Pick<FolderLockOptions, 'wait' | 'signal' | 'onBusy' | 'onLost' | 'command'> & {
    /** Tests of the engine lease only: take no folder lock, so a second engine on the folder is not refused. */
    isUnsafelySkipped?: boolean;
  };
}

export interface SyncRuntime {
  ctx: ReturnType<typeof createEngineContext>;
  engine: Engine;
  /** Held while the engine may run: release it once the engine has stopped. */
  lock: FolderLock;
}

/** Rejects with FolderBusyError while another process runs an engine on the database's folder (unless `lock.wait`). */
export async function createSyncRuntime(options: SyncRuntimeOptions): Promise<SyncRuntime> {
  if (options.db.memory) throw new Error('The sync engine needs a database file: the folder it is in is what it locks.');
  const lock = options.lock?.isUnsafelySkipped ? unlockedFolder(dirname(options.db.name), options.lock) : await acquireFolderLock(dirname(options.db.name), options.lock ?? {});
  try {
    return { ...buildEngine(options), lock };
  } catch (error) {
    await lock.release();
    throw error;
  }
}

function buildEngine(options: SyncRuntimeOptions) {
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
    ...(options.writes ? { writes: options.writes } : {}),
    ...(options.engineStateDir ? { engineStateDir: options.engineStateDir } : {}),
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

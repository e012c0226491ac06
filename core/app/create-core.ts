import type { Mode } from '../contract';
import type { Clock, Ids, Logger, SecretStore } from '../ports';
import { openStore, type Store } from '../store/db';
import { createFeedsRepo } from '../store/feeds-repo';
import { createSettingsRepo } from '../store/settings-repo';
import { createDispatch, type Handlers } from './dispatch';
import { createEventBus } from './event-bus';
import { resolveMode } from './mode';

export interface CorePorts {
  store: Store;
  dataDir: string;
  clock: Clock;
  ids: Ids;
  log: Logger;
  secrets: SecretStore;
  appVersion: string;
  mode: Mode;
}

// The only composition root of the domain: everything core does is reachable from the handler map it returns.
export function createCore(ports: CorePorts) {
  const { store, clock, log } = ports;
  const events = createEventBus();
  const feeds = createFeedsRepo(store.db);
  const startedAt = new Date(clock.now()).toISOString();

  const handlers = {
    'app.info': async () => ({
      name: 'Returns Workbench',
      version: ports.appVersion,
      dataDir: ports.dataDir,
      databaseFile: store.file,
      mode: ports.mode,
      schemaVersion: store.schemaVersion,
      startedAt,
    }),
    // No scheduler runs yet, so sync reports itself stopped and lists whatever feeds have been registered.
    'sync.status': async () => ({ state: 'stopped' as const, feeds: feeds.list() }),
  } satisfies Handlers;

  return {
    handlers,
    dispatch: createDispatch(handlers, log),
    events,
    close: () => store.close(),
  };
}
export type Core = ReturnType<typeof createCore>;

export interface BootOptions {
  dataDir: string;
  migrationsDir: string;
  clock: Clock;
  ids: Ids;
  log: Logger;
  secrets: SecretStore;
  appVersion: string;
  nativeBinding?: string;
}

/** Opens the store, decides the mode and builds the core: what every entry point (CLI, web host, Electron) does. */
export async function bootCore(options: BootOptions): Promise<Core> {
  const store = openStore({
    dataDir: options.dataDir,
    migrationsDir: options.migrationsDir,
    clock: options.clock,
    ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}),
  });
  const mode = await resolveMode(createSettingsRepo(store.db, options.clock), options.secrets, options.log);
  return createCore({ ...options, store, mode });
}

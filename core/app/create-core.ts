import { join } from 'node:path';
import { createAuditLog } from '../audit/log';
import type { Mode } from '../contract';
import { exceptionTypes, type ExceptionTypeName } from '../exceptions/catalogue';
import { helpFor, renderOperationsGuide } from '../exceptions/guide';
import { AppError } from '../errors';
import { loadMappings, type Mappings } from '../mappings/load';
import type { Clock, Ids, Logger, SecretStore } from '../ports';
import { explainRefundGuard, explainReturn } from '../reconcile/explain';
import { createQueries } from '../reconcile/queries';
import { createResolutions } from '../reconcile/resolutions';
import { createDomainContext } from '../sync/context';
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
  mappings: () => Mappings;
  /** Who the person at this machine is, for the audit log. */
  actor: string;
}

// The only composition root of the domain: everything core does is reachable from the handler map it returns.
export function createCore(ports: CorePorts) {
  const { store, clock, log, actor } = ports;
  const events = createEventBus();
  const feeds = createFeedsRepo(store.db);
  const startedAt = new Date(clock.now()).toISOString();
  const domain = createDomainContext({ db: store.db, clock, log, events, mappings: ports.mappings });
  const audit = createAuditLog(store.db, clock);
  const queries = createQueries(store.db, clock);
  const resolutions = createResolutions(domain, audit);
  // After a person's change, the affected rows are re-matched at once so every grid shows it, not at the next cycle.
  const changed = <T>(result: T): T => {
    domain.reconciler.run(ports.mappings().policy);
    events.emit('data.changed', { tables: ['exceptions', 'recon_returns'] });
    return result;
  };
  const exception = (id: number) => {
    const row = queries.getException(id);
    if (!row) throw new AppError('NOT_FOUND', `There is no exception ${id}.`);
    return row;
  };

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
    'returns.list': async (input) => queries.listReturns(input),
    'returns.explain': async ({ returnId }) => explainReturn(domain, returnId),
    'refunds.explainGuard': async ({ returnId, orderLineId }) => explainRefundGuard(domain, returnId, orderLineId),
    'refunds.refundNow': async ({ returnId, orderLineId, override }) => changed(resolutions.refundNow(returnId, orderLineId, actor, override ?? null)),
    'exceptions.list': async (input) => queries.listExceptions(input),
    'exceptions.get': async ({ id }) => exception(id),
    'exceptions.help': async ({ type }) => {
      if (!Object.prototype.hasOwnProperty.call(exceptionTypes, type)) throw new AppError('NOT_FOUND', `There is no exception type ${type}.`);
      return helpFor(type as ExceptionTypeName, ports.mappings().policy);
    },
    'exceptions.act': async ({ ids, action, reason, offerSku }) => changed({ results: resolutions.act(ids, { action, reason, offerSku }, actor) }),
    'exceptions.resolve': async ({ ids, reason }) => changed({ results: resolutions.resolve(ids, reason, actor) }),
    'exceptions.assign': async ({ ids, assignee }) => changed({ updated: resolutions.assign(ids, assignee, actor) }),
    'exceptions.comment': async ({ id, body }) => changed({ noteId: resolutions.comment(id, body, actor) }),
    'exceptions.notes': async ({ id }) => ({ notes: resolutions.notes(id) }),
    'exceptions.snooze': async ({ ids, until, reason }) => changed({ updated: resolutions.snooze(ids, until, reason, actor) }),
    'exceptions.reopen': async ({ id, reason }) => {
      changed(resolutions.reopen(id, reason, actor));
      return exception(id);
    },
    'matches.decide': async (input) => {
      changed(resolutions.decideMatch(input, actor));
      return { ok: true as const };
    },
    'dashboard.kpis': async () => queries.kpis(),
    'audit.verify': async () => audit.verify(),
    'guide.get': async () => ({ markdown: renderOperationsGuide(ports.mappings().policy) }),
  } satisfies Handlers;

  return {
    handlers,
    dispatch: createDispatch(handlers, log),
    events,
    store,
    /** One reconciliation pass now (the sync engine runs one every few minutes). */
    reconcile: () => domain.reconciler.run(ports.mappings().policy),
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
  /** The shipped mappings folder (the app's own copy under Electron); user edits live in `<dataDir>/mappings`. */
  mappingsDir?: string;
  actor: string;
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
  const mappings = loadMappings(options.mappingsDir, join(options.dataDir, 'mappings'));
  return createCore({ ...options, store, mode, mappings: () => mappings });
}

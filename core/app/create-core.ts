import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { createAuditLog, type AuditLog } from '../audit/log';
import { oneUserReview, roles, type Mode, type SyncStatus, type TeamProbe } from '../contract';
import { exceptionTypes, type ExceptionTypeName } from '../exceptions/catalogue';
import { helpFor, renderOperationsGuide } from '../exceptions/guide';
import { AppError } from '../errors';
import { shippedMappingsDir } from '../mappings/load';
import { createMappingStore, type MappingStore } from '../mappings/store';
import { fetchHttp, type HttpPort } from '../net/http';
import type { Clock, Ids, Logger, SecretStore } from '../ports';
import { explainRefundGuard, explainReturn } from '../reconcile/explain';
import { createQueries } from '../store/reconcile/queries-repo';
import { createResolutions } from '../reconcile/resolutions';
import { earlierExports, findExportedFile, newExportFolder } from '../report/exported-files';
import { createReports } from '../report/service';
import { createDomainContext } from '../sync/context';
import { openStore, type Store } from '../store/db';
import { createFeedsRepo } from '../store/feeds-repo';
import { createMappingImpactRepo } from '../store/mapping-impact-repo';
import { createSettingsRepo, type SettingsRepo } from '../store/settings-repo';
import { createAuditQueries } from '../store/audit-list-repo';
import { probeTeamServer } from '../team/probe';
import { createDispatch, type Handlers } from './dispatch';
import { createEventBus, type EventBus } from './event-bus';
import { createMappingEditor } from './mapping-editor';
import { withSkuOverrides } from '../mappings/edit';
import { createReasonLists, type ReadReasons } from './reason-lists';
import { createMiraklReasonsRepo } from '../store/mirakl-reasons-repo';
import { resolveMode } from './mode';
import { currentApproval, currentPerson, personActor } from './person';
import { createSettingsService, type Reconfigured } from './settings-service';
import { createSyncHealth } from '../store/sync-health-repo';
import { createOperationsRepo } from '../store/operations-repo';
import { createWriteFreezeRepo } from '../store/write-freeze-repo';
import { createWriteFreezeService } from './write-freeze';
import type { SyncService } from './sync-service';

export interface CorePorts {
  store: Store;
  dataDir: string;
  clock: Clock;
  ids: Ids;
  log: Logger;
  secrets: SecretStore;
  appVersion: string;
  mode: Mode;
  mappings: MappingStore;
  /**
   * The operating system's name for the person at this machine (core/adapters/person-name.ts): the actor of their
   * actions until they set their name in Settings.
   */
  actor: string;
  /** Shared with whoever restarts this core (the workbench keeps one bus across a switch of mode). */
  events?: EventBus;
  /** Where connections are kept: the main database, also when this core runs on the sandbox's own. */
  settings?: SettingsRepo;
  /** The audit log of that database, for changes of connections. */
  settingsAudit?: AuditLog;
  /** For Settings › Connect to a team server (the default reaches the address over TLS). */
  probeTeamServer?: (url: string) => Promise<TeamProbe>;
  /** For "test connection" (the default is fetch). */
  http?: HttpPort;
  /** The sync service running beside this core, or why there is none. */
  sync?: () => { service: SyncService | null; problem: string | null };
  /** Puts saved connections into effect (the workbench restarts the sync service in the mode they give). */
  reconfigure?: () => Promise<Reconfigured>;
  /** The mode in force now (after a restart it is no longer this core's). */
  currentMode?: () => Mode;
  /** This core's data (database, edited mappings) is the sandbox's, started afresh at the next launch. */
  isEphemeral?: boolean;
  /** Mirakl's RE01 through the running sync engine's client; null while none runs (the stored lists are used). */
  readMiraklReasons?: () => ReadReasons | null;
}

const hourMs = 3_600_000;

/** The commands that change money, stock, exceptions or what the engine does next: serialised with sync cycles. */
const mutatingCommands = [
  'refunds.refundNow',
  'exceptions.act',
  'exceptions.resolve',
  'exceptions.assign',
  'exceptions.comment',
  'exceptions.snooze',
  'exceptions.reopen',
  'matches.decide',
  'writes.freeze',
  'writes.unfreeze',
  'mappings.save',
  'settings.setCadences',
  'reports.lock',
  'reports.unlock',
  'reports.signOff',
] as const;

// The only composition root of the domain: everything core does is reachable from the handler map it returns.
export function createCore(ports: CorePorts) {
  const { store, clock, log } = ports;
  const events = ports.events ?? createEventBus();
  const mappings = ports.mappings.current;
  const feeds = createFeedsRepo(store.db);
  const startedAt = new Date(clock.now()).toISOString();
  const domain = createDomainContext({ db: store.db, clock, log, events, mappings });
  const audit = createAuditLog(store.db, clock);
  const settingsRepo = ports.settings ?? createSettingsRepo(store.db, clock);
  // Read at each action: the name set in Settings (kept with the connections, in both modes) applies from the next.
  const actor = personActor(settingsRepo, ports.actor);
  const queries = createQueries(store.db, clock);
  const resolutions = createResolutions(domain, audit);
  const health = createSyncHealth(store.db);
  const auditQueries = createAuditQueries(store.db);
  // Month-end reports read the reconciliation's links, brought up to date first.
  const reports = createReports({
    db: store.db,
    clock,
    audit,
    mappings,
    actor,
    approval: currentApproval,
    appVersion: ports.appVersion,
    mode: ports.mode,
    // A report needs the whole picture: a full pass still under way is finished first.
    beforeReport: () => domain.reconciler.run(mappings().policy, { fullPass: 'finish' }),
  });
  const sync = () => ports.sync?.() ?? { service: null, problem: 'No sync service runs in this process.' };
  const operations = createOperationsRepo(store.db);
  // Kept with the connections (the main database), so it holds across restarts and in both modes.
  const writes = createWriteFreezeService({
    repo: createWriteFreezeRepo(settingsRepo),
    audit,
    ...(ports.settingsAudit ? { settingsAudit: ports.settingsAudit } : {}),
    clock,
    actor,
    waiting: () => operations.waiting(),
    paused: () => operations.pausedBy().map((e) => ({ exceptionId: e.id, type: e.type, title: exceptionTypes[e.type].title, since: e.detected_at })),
    changed: () => {
      events.emit('data.changed', { tables: ['write_freeze', 'audit_log'] });
      sync().service?.nudge();
    },
  });
  const settings = createSettingsService({
    settings: settingsRepo,
    audit: ports.settingsAudit ?? audit,
    actor,
    osName: ports.actor,
    secrets: ports.secrets,
    http: ports.http ?? fetchHttp,
    clock,
    log,
    mode: ports.currentMode ?? (() => ports.mode),
    reconfigure:
      ports.reconfigure ??
      (async () => ({ mode: ports.mode, restarted: false, message: 'Saved. The connections are used the next time the app starts.' })),
  });
  const reasonLists = createReasonLists({
    repo: createMiraklReasonsRepo(store.db),
    read: ports.readMiraklReasons ?? (() => null),
    clock,
    queue: domain.queue,
    log,
  });
  const editor = createMappingEditor({
    domain,
    mappings: ports.mappings,
    audit,
    actor,
    afterSave: () => sync().service?.nudge(),
    isSandbox: ports.isEphemeral ?? false,
    impact: createMappingImpactRepo(store.db),
    reasons: reasonLists,
  });
  // After a person's change, the affected rows are re-matched at once so every grid shows it, not at the next cycle,
  // and the sync service is woken so what the change asked for (a retry, a push) goes out without waiting. (The
  // windows are told what changed by the queue, from the tables the writes changed.)
  // A chunk of a full pass under way is not run here: the person waits for this pass.
  const changed = <T>(result: T): T => {
    domain.reconciler.run(mappings().policy, { fullPass: 'none' });
    sync().service?.nudge();
    return result;
  };
  /**
   * "Map to another listing" is the SKU → offer mapping's answer too: once the units moved, the order SKUs the mapping
   * sends to the offers they left are sent to `to`, saved as the mapping editor saves (checked, versioned, audited), so
   * units graded later follow. Said in each remapped exception's message, or why the mapping stayed as it was.
   */
  async function saveRemaps(results: { id: number; ok: boolean; message: string }[], offers: Map<number, string | null>, to: string, reason: string | undefined): Promise<void> {
    const done = results.filter((r) => r.ok && offers.get(r.id));
    const froms = new Set(done.map((r) => offers.get(r.id) as string));
    const overrides = mappings().skuOffers.overrides;
    const orderSkus = [...froms].flatMap((from) => [
      ...overrides.filter((o) => 'offerSku' in o && o.offerSku === from).map((o) => o.orderSku),
      ...(overrides.some((o) => o.orderSku === from) ? [] : [from]),
    ]);
    const overridesNow = orderSkus.map((sku) => `${sku} → ${to}`).join(', ');
    let note: string;
    if (orderSkus.length === 0) {
      note = ` The SKU → offer overrides send no order SKU to ${[...froms].join(', ')}, so nothing was saved there.`;
    } else if (currentPerson()) {
      // A team server: a mapping change is a proposal a second person approves (core/team), never saved on the way.
      note = ` On this team server a mapping change needs a second person: propose ${overridesNow} under Settings › SKU → offer overrides, or returns graded later still go to the old listing.`;
    } else {
      note = await saveRemapOverrides(done.map((r) => r.id), froms, orderSkus, to, reason);
    }
    for (const r of done) r.message += note;
  }

  async function saveRemapOverrides(ids: number[], froms: Set<string>, orderSkus: string[], to: string, reason: string | undefined): Promise<string> {
    const before = ports.mappings.file('skuOffers').version;
    try {
      const saved = await editor.save({
        file: 'skuOffers',
        text: withSkuOverrides(ports.mappings.file('skuOffers').text, orderSkus, to),
        reason: `Map to another listing (exception ${ids.join(', ')}): ${[...froms].join(', ')} → ${to}${reason?.trim() ? `; ${reason.trim()}` : ''}`,
      });
      return ` Saved in the SKU → offer overrides (${saved.version}): returns of ${orderSkus.join(', ')} restock ${to} from now on.`;
    } catch (error) {
      // The units moved and the exceptions closed already: the person is told that, and what became of the mapping.
      const isOurs = error instanceof AppError;
      if (!isOurs) log.error('remap: saving the SKU → offer overrides failed', { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      const now = ports.mappings.file('skuOffers').version;
      // Failed after the save had committed (what runs after it: the reconciliation, listeners): the override holds.
      if (now !== before) return ` Saved in the SKU → offer overrides (${now}): returns of ${orderSkus.join(', ')} restock ${to} from now on.`;
      const why = isOurs ? error.message : 'an unexpected error; the details are in the log';
      return ` The SKU → offer overrides were not changed (${why}): add ${orderSkus.map((sku) => `${sku} → ${to}`).join(', ')} under Settings › SKU → offer overrides, or returns graded later still go to the old listing.`;
    }
  }
  const syncStatus = (): SyncStatus => {
    const { service, problem } = sync();
    const base = service?.status() ?? { state: 'stopped' as const, isPaused: false, mode: ports.mode, lastCycleAt: null, lastError: problem, cycles: 0 };
    return { ...base, feeds: health.withHealth(feeds.list(), clock.now() - hourMs) };
  };
  const control = (action: (service: SyncService) => void): SyncStatus => {
    const { service, problem } = sync();
    if (!service) throw new AppError('CONFLICT', `The sync service is not running${problem ? `: ${problem}` : '.'}`);
    action(service);
    return syncStatus();
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
    'sync.status': async () => syncStatus(),
    'sync.pause': async () => control((s) => s.pause()),
    'sync.resume': async () => control((s) => s.resume()),
    'sync.runNow': async () => control((s) => s.runNow()),
    'settings.get': async () => settings.view(),
    'settings.saveConnections': async (input) => settings.saveConnections(input),
    'settings.testConnection': async (input) => settings.testConnection(input),
    'settings.setName': async (input) => {
      const view = await settings.setName(input);
      events.emit('data.changed', { tables: ['settings', 'audit_log'] });
      return view;
    },
    'settings.setCadences': async ({ reason, ...cadences }) => editor.save({ file: 'policy', text: withCadences(ports.mappings.file('policy').text, cadences), reason }),
    'mappings.get': async () => ({
      files: {
        reasonCodes: mappingView(ports.mappings, 'reasonCodes'),
        skuOffers: mappingView(ports.mappings, 'skuOffers'),
        policy: mappingView(ports.mappings, 'policy'),
      },
    }),
    'mappings.preview': async ({ file, text }) => editor.preview(file, text),
    'mappings.save': async (input) => editor.save(input),
    'mappings.reasons': async ({ refresh }) => reasonLists.current({ refresh: refresh ?? false }),
    'audit.list': async (input) => auditQueries.list(input),
    'returns.list': async (input) => queries.listReturns(input),
    'returns.explain': async ({ returnId }) => explainReturn(domain, returnId),
    'refunds.explainGuard': async ({ returnId, orderLineId }) => ({
      ...explainRefundGuard(domain, returnId, orderLineId),
      actions: resolutions.lineActions(returnId, orderLineId),
    }),
    'refunds.refundNow': async ({ returnId, orderLineId, override }) => changed(resolutions.refundNow(returnId, orderLineId, actor(), override ?? null)),
    'exceptions.list': async (input) => queries.listExceptions(input),
    'exceptions.get': async ({ id }) => exception(id),
    'exceptions.help': async ({ type }) => {
      if (!Object.prototype.hasOwnProperty.call(exceptionTypes, type)) throw new AppError('NOT_FOUND', `There is no exception type ${type}.`);
      return helpFor(type as ExceptionTypeName, mappings().policy);
    },
    'exceptions.actions': async ({ ids }) => ({ readOnly: null, exceptions: resolutions.actions(ids) }),
    'exceptions.act': async ({ ids, action, reason, offerSku }) => {
      const offers = new Map(ids.map((id) => [id, resolutions.offerSkuOf(id)]));
      const results = resolutions.act(ids, { action, reason, offerSku }, actor());
      if (action === 'remap' && offerSku) await saveRemaps(results, offers, offerSku.trim(), reason);
      return changed({ results });
    },
    'exceptions.resolve': async ({ ids, reason }) => changed({ results: resolutions.resolve(ids, reason, actor()) }),
    'exceptions.assign': async ({ ids, assignee }) => changed({ updated: resolutions.assign(ids, assignee, actor()) }),
    'exceptions.comment': async ({ id, body }) => changed({ noteId: resolutions.comment(id, body, actor()) }),
    'exceptions.notes': async ({ id }) => ({ notes: resolutions.notes(id) }),
    'exceptions.snooze': async ({ ids, until, reason }) => changed({ updated: resolutions.snooze(ids, until, reason, actor()) }),
    'exceptions.reopen': async ({ id, reason }) => {
      changed(resolutions.reopen(id, reason, actor()));
      return exception(id);
    },
    'matches.decide': async (input) => {
      changed(resolutions.decideMatch(input, actor()));
      return { ok: true as const };
    },
    'matches.suggestions': async (input) => operations.suggestions(input),
    'outgoing.list': async (input) => operations.outgoing(input),
    'writes.status': async () => writes.status(),
    'writes.freeze': async ({ reason }) => writes.freeze(reason),
    'writes.unfreeze': async ({ reason }) => writes.unfreeze(reason),
    'dashboard.kpis': async () => queries.kpis(),
    'audit.verify': async () => audit.verify(),
    'guide.get': async () => ({ markdown: renderOperationsGuide(mappings().policy) }),
    'reports.list': async () => reports.list(),
    'reports.get': async ({ period }) => reports.generate(period),
    'reports.generate': async ({ period, bundle }) => {
      const now = clock.now();
      const outDir = newExportFolder(ports.dataDir, period, now, reports.isLocked(period));
      const { report, files, bundle: written } = await reports.generateFiles(period, outDir, { bundle });
      return {
        report,
        outDir,
        exportedAt: new Date(now).toISOString(),
        earlierExports: earlierExports(outDir),
        files,
        bundle: written && { name: written.name, path: written.path, bytes: written.bytes, sha256: written.sha256 },
      };
    },
    'reports.file': async ({ path }) => findExportedFile(ports.dataDir, path),
    'reports.lock': async ({ period, reason }) => {
      return reports.lock(period, reason || null);
    },
    'reports.unlock': async ({ period, reason, reportSha256 }) => reports.unlock(period, reason, { reportSha256 }),
    'reports.signOffs': async ({ period }) => reports.signOffs(period),
    'reports.signOff': async ({ period, kind, note }) => {
      // A review is a second person's check. Without a signed-in account (the desktop app, browser mode) one person
      // uses the app whatever name they give it in Settings, so there is nobody else to review what they prepared.
      if (kind === 'reviewed' && !currentPerson()) throw new AppError('CONFLICT', oneUserReview);
      return reports.signOff(period, kind, note || null);
    },
    // One person at this machine, every role. A team server (core/team) answers these for its signed-in people.
    'team.me': async () => ({ team: false, username: null, displayName: actor(), roles: [...roles], mustChangePassword: false, sessionExpiresAt: null }),
    'team.changePassword': async () => teamServerOnly(),
    'proposals.list': async () => ({ proposals: [] }),
    'proposals.decide': async () => teamServerOnly(),
    'accounts.list': async () => teamServerOnly(),
    'accounts.save': async () => teamServerOnly(),
    'team.probe': async ({ url }) => (ports.probeTeamServer ?? probeTeamServer)(url),
    'team.connect': async () => {
      throw new AppError('CONFLICT', 'Only the desktop app connects to a team server (Settings › Connect to a team server). In a browser, open the team server’s address instead.');
    },
  } satisfies Handlers;
  // People's changes go through the engine's queue: each waits for the feed in flight to finish, so its guards are
  // checked with no sync step half-done, and no feed's read and send can have a person's change land in between.
  for (const name of mutatingCommands) {
    const handler = handlers[name] as (input: never) => Promise<unknown>;
    (handlers as Record<string, (input: never) => Promise<unknown>>)[name] = (input) => domain.queue.run(`person:${name}`, () => handler(input));
  }

  return {
    handlers,
    dispatch: createDispatch(handlers, log),
    events,
    store,
    mappings: ports.mappings,
    mode: ports.mode,
    clock,
    /** The queue sync cycles and people's actions share: the sync runtime of this core must run its feeds on it. */
    queue: domain.queue,
    /** One reconciliation pass now (the sync engine runs one every few minutes). */
    reconcile: () => domain.reconciler.run(mappings().policy),
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
  const mappings = createMappingStore(options.mappingsDir ?? shippedMappingsDir, join(options.dataDir, 'mappings'));
  return createCore({ ...options, store, mode, mappings });
}

function teamServerOnly(): never {
  throw new AppError('CONFLICT', 'Accounts, passwords and approvals belong to a team server (npm run serve); this app has one person and no sign-in.');
}

function mappingView(store: MappingStore, name: 'reasonCodes' | 'skuOffers' | 'policy') {
  const { text, version, source } = store.file(name);
  return { text, version, source };
}

/** The policy text with new cadences; everything else in the file, comments included, is kept as written. */
function withCadences(text: string, cadences: Record<string, number | undefined>): string {
  const doc = parseDocument(text);
  for (const [key, value] of Object.entries(cadences)) if (value !== undefined) doc.setIn(['cadences', key], value);
  return doc.toString();
}

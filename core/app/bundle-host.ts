import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { commands, type BundleInfo, type Command, type Mode } from '../contract';
import { AppError } from '../errors';
import { exceptionTypes, type ExceptionTypeName } from '../exceptions/catalogue';
import { helpFor, renderOperationsGuide } from '../exceptions/guide';
import { startWebHost } from '../host/server';
import { shippedMappingsDir as defaultMappingsDir } from '../mappings/load';
import { createMappingStore, type MappingFileView, type MappingStore } from '../mappings/store';
import type { Clock, Logger } from '../ports';
import { specReturnReasons } from '../mirakl/return-reasons';
import { explainRefundGuard, explainReturn } from '../reconcile/explain';
import { unavailableActions, unavailableLineActions } from '../reconcile/resolutions';
import { verifyAuditSegment } from '../report/audit-segment';
import { openBundle, snapshotPath, type OpenedBundle } from '../report/bundle';
import { createAuditChainReads } from '../store/audit-repo';
import type { Store } from '../store/db';
import { createQueries } from '../store/reconcile/queries-repo';
import { createFeedsRepo } from '../store/feeds-repo';
import { createViewerReads, openViewerCopy } from '../store/report/snapshot-file';
import { createDomainContext } from '../sync/context';
import { createAuditQueries } from '../store/audit-list-repo';
import { createDispatch, type Handlers } from './dispatch';
import { createOperationsRepo } from '../store/operations-repo';
import { createEventBus } from './event-bus';
import { createSyncHealth } from '../store/sync-health-repo';

// Shows an evidence bundle in the app, read-only: the bundle is checked and extracted to a temp folder, its
// snapshot copied there with the app's indexes built on the copy and opened read-only, and a read-only part of the contract served from it by the same web host as browser
// mode. No credentials are read, no network is used and nothing syncs; every command that would change something
// answers CONFLICT. app.info carries `bundle` (the file, whether it verified, and every problem) for the banner.

export interface BundleModeOptions {
  file: string;
  port?: number;
  /** Built renderer to serve; null serves the API only. */
  staticDir: string | null;
  clock: Clock;
  log: Logger;
  appVersion: string;
}

const dayMs = 86_400_000;

/** The read-only handler map over an opened bundle. Commands that change anything are refused. */
/** Where the app keeps what a viewer needs; the desktop app passes its own (packaged paths, Electron's SQLite build). */
export interface ViewerPaths {
  migrationsDir?: string;
  mappingsDir?: string;
  nativeBinding?: string;
}

export function createBundleHandlers(
  opened: OpenedBundle,
  options: { clock: Clock; log: Logger; appVersion: string } & ViewerPaths,
): { handlers: Handlers; close(): void } {
  const { clock, log } = options;
  const shippedMappingsDir = options.mappingsDir ?? defaultMappingsDir;
  const manifest = opened.manifest;
  // Whatever the bundle holds, the viewer starts: a snapshot or a mapping file it cannot use becomes one more problem.
  const problem = (p: OpenedBundle['problems'][number]) => {
    opened.problems.push(p);
    opened.verified = false;
  };
  let db: Store['db'] | null = null;
  if (opened.snapshotFile && opened.dir) {
    try {
      db = openViewerCopy(opened.snapshotFile, opened.dir, log, options);
    } catch (error) {
      problem({ path: snapshotPath, kind: 'invalid', detail: `the snapshot cannot be shown: ${(error as Error).message}` });
    }
  }
  const mode: Mode = manifest?.sourceMode === 'sandbox' ? 'sandbox' : 'live';
  const none = join(shippedMappingsDir, '__none__');
  let mappingsDir = opened.dir ? join(opened.dir, 'mappings') : none;
  let mappingStore: MappingStore;
  try {
    mappingStore = createMappingStore(shippedMappingsDir, mappingsDir);
  } catch (error) {
    problem({ path: 'mappings/', kind: 'invalid', detail: `the bundle's mapping files cannot be used (${(error as Error).message}); the app's own defaults are shown` });
    mappingsDir = none;
    mappingStore = createMappingStore(shippedMappingsDir, mappingsDir);
  }
  const mappings = () => mappingStore.current();
  const startedAt = new Date(clock.now()).toISOString();
  const info = (): BundleInfo => ({
    file: opened.file,
    period: manifest?.period ?? null,
    createdAt: manifest?.createdAt ?? null,
    verified: opened.verified,
    problems: opened.problems.map((p) => ({ path: p.path, kind: p.kind, detail: p.detail })),
  });
  const need = () => {
    if (!db) throw new AppError('NOT_FOUND', 'This evidence bundle holds no readable snapshot of the data.');
    return db;
  };
  const queries = db ? createQueries(db, clock) : null;
  const domain = db ? createDomainContext({ db, clock, log, events: null, mappings }) : null;
  const readOnlyWhy = 'This is an evidence bundle, opened read-only: open the app on its own data to act.';
  const refuse = (command: string) => async () => {
    throw new AppError('CONFLICT', `This is an evidence bundle, opened read-only: ${command} is not available here. Open the app on its own data to act.`);
  };
  const readOnly = {
    'app.info': async () => ({
      name: 'Returns Workbench',
      version: options.appVersion,
      dataDir: opened.dir ?? '',
      databaseFile: opened.snapshotFile ?? '',
      mode,
      schemaVersion: manifest?.snapshot.schemaVersion ?? 0,
      startedAt,
      bundle: info(),
    }),
    'sync.status': async () => ({
      state: 'stopped' as const,
      mode,
      feeds: db ? createSyncHealth(db).withHealth(createFeedsRepo(db).list(), clock.now() - dayMs) : [],
      lastCycleAt: null,
      lastError: 'This is an evidence bundle: nothing syncs.',
      cycles: 0,
    }),
    'settings.get': async () => ({
      mode,
      person: null,
      connections: { mirakl: { baseUrl: null, shopId: null }, rebound: { baseUrl: null, clientId: null, flowKey: null } },
      secrets: { miraklApiKey: false, reboundClientSecret: false },
      keychain: { available: false, message: 'An evidence bundle is read without any credentials.' },
    }),
    'mappings.get': async () => ({
      files: {
        reasonCodes: view(mappingStore.file('reasonCodes')),
        skuOffers: view(mappingStore.file('skuOffers')),
        policy: view(mappingStore.file('policy')),
      },
    }),
    'mappings.reasons': async () => ({
      refund: [],
      returns: specReturnReasons.map((r) => ({ code: r.code, label: r.label, source: 'spec' as const, returnLines: 0 })),
      readAt: null,
      problem: 'An evidence bundle is read without a Mirakl connection: its mappings are shown as they were.',
    }),
    'audit.list': async (input) => createAuditQueries(need()).list(input),
    'returns.list': async (input) => (queries ? queries.listReturns(input) : { rows: [], total: 0, totalIsCapped: false, offset: 0 }),
    // The calls and suggestions as they stood when the bundle was made; a bundle never writes, so it has no freeze.
    'outgoing.list': async (input) => createOperationsRepo(need()).outgoing(input),
    'matches.suggestions': async (input) => createOperationsRepo(need()).suggestions(input),
    'writes.status': async () => ({ frozen: null, waiting: 0, paused: [] }),
    'returns.explain': async ({ returnId }) => explainReturn(domainOf(), returnId),
    'refunds.explainGuard': async ({ returnId, orderLineId }) => ({ ...explainRefundGuard(domainOf(), returnId, orderLineId), actions: unavailableLineActions(readOnlyWhy) }),
    'exceptions.actions': async ({ ids }) => ({
      readOnly: readOnlyWhy,
      exceptions: ids.flatMap((id) => {
        const row = queries?.getException(id);
        return row ? [{ id, actions: unavailableActions(row.type, readOnlyWhy) }] : [];
      }),
    }),
    'exceptions.list': async (input) => (queries ? queries.listExceptions(input) : { rows: [], total: 0, totalIsCapped: false, offset: 0 }),
    'exceptions.get': async ({ id }) => {
      const row = queries?.getException(id);
      if (!row) throw new AppError('NOT_FOUND', `The bundle holds no exception ${id}.`);
      return row;
    },
    'exceptions.help': async ({ type }) => {
      if (!Object.prototype.hasOwnProperty.call(exceptionTypes, type)) throw new AppError('NOT_FOUND', `There is no exception type ${type}.`);
      return helpFor(type as ExceptionTypeName, mappings().policy);
    },
    'exceptions.notes': async ({ id }) => ({
      notes: createViewerReads(need()).exceptionNotes(id),
    }),
    'dashboard.kpis': async () => {
      if (!queries) throw new AppError('NOT_FOUND', 'This evidence bundle holds no readable snapshot of the data.');
      // The bundle's dashboard is its report's moment (period end, or when an open month was exported), not today.
      const report = opened.report;
      return report ? queries.kpis({ asOf: Date.parse(report.asOf), paidFrom: report.from }) : queries.kpis();
    },
    'audit.verify': async () => {
      // The snapshot holds the period's segment of the log: its chain is checked from the anchor the manifest names.
      const rows = createAuditChainReads(need()).rows();
      const problems = verifyAuditSegment({ anchorHash: manifest?.audit.anchorHash ?? '', fromSeq: manifest?.audit.fromSeq ?? null, rows });
      return { ok: problems.length === 0, entries: rows.length, problems: problems.map((p) => ({ seq: p.seq, kind: p.kind, detail: p.detail })) };
    },
    'guide.get': async () => ({ markdown: renderOperationsGuide(mappings().policy) }),
    'reports.list': async () => {
      const report = opened.report;
      if (!report) return { periods: [] };
      return {
        periods: [
          {
            period: report.period,
            from: report.from,
            to: report.to,
            isComplete: report.isPeriodComplete,
            returnsOpened: report.returns.opened,
            lock: report.lock ? { lockedAt: report.lock.lockedAt, lockedBy: report.lock.lockedBy, reportSha256: report.lock.reportSha256 } : null,
            changesSinceLock: report.changesSinceLock.length,
            // The bundle holds its report; earlier locks of a reopened month are in its snapshot (period_unlocks).
            endedLocks: [],
          },
        ],
      };
    },
    'reports.get': async ({ period }) => {
      if (!opened.report || opened.report.period !== period) throw new AppError('NOT_FOUND', `This evidence bundle holds the report of ${manifest?.period ?? 'no period'}, not of ${period}.`);
      return opened.report;
    },
  } satisfies Partial<Handlers>;

  function domainOf() {
    if (!domain) throw new AppError('NOT_FOUND', 'This evidence bundle holds no readable snapshot of the data.');
    return domain;
  }

  // Every other command would change something (or reach a live system): refused, by name.
  const handlers = Object.fromEntries(
    (Object.keys(commands) as Command[]).map((name) => [name, (readOnly as Partial<Record<Command, unknown>>)[name] ?? refuse(name)]),
  ) as Handlers;
  return { handlers, close: () => db?.close() };
}

function view(file: MappingFileView) {
  return { text: file.text, version: file.version, source: file.source };
}

/**
 * Opens `file` for viewing: checked, extracted to a temp folder, its contract read-only. The web host serves it
 * (below); the desktop app's core process answers its window with it. `close` removes the extracted copy.
 */
export function openBundleViewer(file: string, options: { clock: Clock; log: Logger; appVersion: string } & ViewerPaths) {
  const opened = openBundle(file, { extractTo: true, ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}) });
  let built: ReturnType<typeof createBundleHandlers>;
  try {
    built = createBundleHandlers(opened, options);
  } catch (error) {
    if (opened.dir) rmSync(opened.dir, { recursive: true, force: true });
    throw error;
  }
  const { handlers, close } = built;
  return {
    opened,
    mode: (opened.manifest?.sourceMode === 'sandbox' ? 'sandbox' : 'live') as Mode,
    dispatch: createDispatch(handlers, options.log),
    close: () => {
      close();
      if (opened.dir) rmSync(opened.dir, { recursive: true, force: true });
    },
  };
}

/** Opens `file` and serves it read-only on 127.0.0.1, like browser mode. */
export async function startBundleMode(options: BundleModeOptions) {
  const viewer = openBundleViewer(options.file, options);
  const { opened } = viewer;
  const token = randomBytes(32).toString('base64url');
  const host = await startWebHost({
    dispatch: viewer.dispatch,
    events: createEventBus(),
    token,
    log: options.log,
    staticDir: options.staticDir,
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
  return {
    ...host,
    token,
    file: options.file,
    verified: opened.verified,
    problems: opened.problems,
    period: opened.manifest?.period ?? null,
    stop: async () => {
      await host.close();
      viewer.close();
    },
  };
}

export type BundleMode = Awaited<ReturnType<typeof startBundleMode>>;

/**
 * `npm run web -- --bundle FILE`: serves the bundle, prints the address (or one JSON line with `json`), and stops
 * on Ctrl+C. A bundle that fails its checks is still shown, with every problem, so a reviewer can see what changed.
 */
export async function runBundleMode(options: BundleModeOptions & { json: boolean; out?: (text: string) => void }): Promise<BundleMode> {
  const out = options.out ?? ((text: string) => process.stdout.write(text));
  const running = await startBundleMode(options);
  if (options.json) {
    out(JSON.stringify({ url: running.url, port: running.port, token: running.token, bundle: running.file, period: running.period, verified: running.verified, problems: running.problems }) + '\n');
  } else {
    const check = running.verified
      ? 'verified: every file matches its manifest and the audit chain holds.'
      : `NOT VERIFIED — ${running.problems.length} problem(s):\n${running.problems.map((p) => `           ${p.path}: ${p.detail}`).join('\n')}`;
    out(
      `\nReturns Workbench is showing an evidence bundle, read-only (no credentials, no network, no sync).\n\n` +
        `  Open:    ${running.url}\n  Bundle:  ${running.file}${running.period ? ` (${running.period})` : ''}\n  Check:   ${check}\n\n` +
        'The address carries a token that changes at every start. Press Ctrl+C to stop.\n',
    );
  }
  const stop = () => void running.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return running;
}

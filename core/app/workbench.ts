import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rememberSecrets } from '../adapters/keytar-secrets';
import { createSecretRedactor, redactingLogger, type SecretRedactor } from '../adapters/logger';
import { redactingHttp } from '../adapters/redacting-http';
import { createAuditLog } from '../audit/log';
import type { Mode } from '../contract';
import { shippedMappingsDir } from '../mappings/load';
import { createMappingStore } from '../mappings/store';
import { fetchHttp, type HttpPort } from '../net/http';
import type { Clock, Ids, Logger, Random, SecretStore } from '../ports';
import { createReboundClient } from '../rebound/client';
import { socketlessHttp } from '../sandbox/http/in-process';
import { defaultScenario, faultProfiles, startSandbox, type FaultProfileName, type Sandbox, type Scenario } from '../sandbox/index';
import { openStore, type Store } from '../store/db';
import { describeBusy, type FolderLock } from '../store/folder-lock';
import { createSettingsRepo } from '../store/settings-repo';
import { createWriteFreezeRepo } from '../store/write-freeze-repo';
import { createSandboxClock, type SandboxClock } from './sandbox-clock';
import type { MiraklClient } from '../mirakl/client';
import type { EngineContext } from '../sync/context';
import { startWebhookReceiver, subscribeToNotifications, type WebhookReceiver } from '../sync/webhook-receiver';
import { createMemoryBudgetStore } from '../net/budget-guard';
import { memoryJournal } from '../net/journal';
import { createCore, type Core } from './create-core';
import type { Dispatch } from './dispatch';
import { createEventBus } from './event-bus';
import { readConnectionSettings, resolveMode, secretAccounts } from './mode';
import type { Reconfigured } from './settings-service';
import { createSyncRuntime, type Connections, type SyncRuntimeOptions } from './sync-runtime';
import { createSyncService, type Sleep, type SyncService } from './sync-service';

// What every host runs (the web host, Electron's core process): the core plus its sync service, in Sandbox mode or
// live mode. Live mode builds its connections from the settings table and the keychain and nothing else, so live URLs
// pointing at a standalone `npm run sandbox` behave exactly like real endpoints.
//
// Where Sandbox mode keeps its data: the simulated Mirakl and ReBound forget everything when they stop, so a database
// that survived them would describe returns no system knows, and mixing it with live data would be worse. Sandbox
// mode therefore runs on a database and mapping folder of its own, in `<data folder>/sandbox/<process id>/`, created
// empty at every launch and removed at the next launch once the process that made it has gone. The main database
// (`<data folder>/workbench.sqlite`) is never touched by the sandbox: it holds the connection settings in both modes
// and the live data once live mode is configured. A per-process folder means two hosts started on the same data
// folder (a browser tab and the desktop app) never delete each other's sandbox.
//
// One engine per data folder: in live mode the sync service runs only while this process holds the data folder's
// lock. When another process holds it (`npm run sync`, a browser-mode host, the desktop app), the workbench still
// opens and shows the data, says in the sync status who holds the folder, and starts syncing by itself once that one
// stops (or its lock goes stale after a crash).

export interface SandboxSettings {
  seed?: number;
  /** Sandbox time runs this many times faster than real time, after the warm-up. */
  speed?: number;
  /**
   * Days of the world's past the sync engine has already synced when the app opens (0: none). The world starts that
   * much earlier, quieter (see Scenario.quiet), and the engine catches up on it in steps of sandbox time before the
   * app is shown, the normal way (ReBound receipts and Mirakl refunds happen in the simulators, the engine syncs them),
   * so the month before the opening is finished and has receipts, refunds, restocks and exceptions in it.
   */
  caughtUpDays?: number;
  /** Real seconds after the opening during which sandbox time runs at `warmupSpeed` (0: no warm-up). */
  warmupSeconds?: number;
  warmupSpeed?: number;
  faults?: FaultProfileName;
  /** How often (real ms) the simulated world moves on. */
  tickMs?: number;
  scenario?: Partial<Scenario>;
  /**
   * Receive ReBound's signed notifications on a loopback receiver. Default: only when sandbox time runs at most 1200x
   * real time: a notification is refused once its signature is 300 sandbox seconds old, and at 7200x that is 42 ms
   * of real delivery time. Polling carries every change too.
   */
  webhooks?: boolean;
  miraklPort?: number;
  reboundPort?: number;
}

export interface WorkbenchOptions {
  dataDir: string;
  /**
   * This machine's per-user state folder, outside the data folder (core/cli/paths.ts defaultStateDir): the Live engine
   * records its lease there too, so a whole data folder put back from a backup starts in quarantine. Unset: not recorded.
   */
  engineStateDir?: string;
  migrationsDir: string;
  /** The shipped mappings folder (the app's own copy under Electron). */
  mappingsDir?: string;
  nativeBinding?: string;
  /** The real clock; Sandbox mode runs a scaled clock on top of it. */
  clock: Clock;
  random: Random;
  ids: Ids;
  log: Logger;
  secrets: SecretStore;
  http?: HttpPort;
  /**
   * Masks every secret the keychain hands out (and the sandbox's own) in what is logged and in every API answer before
   * it is read, so no secret reaches a log, the database, an export or a bundle. A host passes the one its own logger
   * uses; without one the workbench makes its own. Either way `log`, `secrets` and `http` are wrapped with it.
   */
  redactor?: SecretRedactor;
  actor: string;
  appVersion: string;
  sandbox?: SandboxSettings;
  /** Real time between sync cycles, per mode. */
  idleMs?: Partial<Record<Mode, number>>;
  sleep?: Sleep;
  /** Start the sync service at once (default). Off: the service exists, stopped, until `startSync()`. */
  autoStart?: boolean;
}

/**
 * Sandbox defaults: the app opens at 00:01 on 1 October 2026 (sandbox time) with the last seven days of September
 * already synced (a quarter of the returns of that past: about 80 opened, 40 refunded, some still awaiting payment,
 * units restocked, exceptions raised), so September is a finished month with a report to close; that catch-up takes a
 * few seconds before the app is shown. Then a warm-up of 75 s at 7200x (two sandbox hours a second: six days of
 * returns) takes October's first returns through every stage (in ReBound, received, refunded, restocked) within a
 * minute; then 600x (ten sandbox minutes a second), a pace a 2-core laptop keeps up with indefinitely. At 7200x
 * for good the world outgrows the sync within minutes and the CPU never rests.
 * The scenario draws a little more unmapped reasons than the default (3% of lines instead of 1%), so the reason
 * mapping's exception shows up in the first minute too.
 */
export const sandboxDefaults = {
  seed: 1,
  caughtUpDays: 7,
  speed: 600,
  warmupSeconds: 75,
  warmupSpeed: 7200,
  faults: 'default' as FaultProfileName,
  tickMs: 250,
  scenario: { unmappedReasonRate: 0.03 } as Partial<Scenario>,
};
const defaultIdleMs: Record<Mode, number> = { sandbox: 250, live: 5000 };
const ownerMarker = 'SANDBOX-MODE.txt';
/**
 * The catch-up's step of sandbox time: each step lets both simulators move on and runs one sync cycle. Three hours keep
 * every feed's cadence and Mirakl's call budgets (each step is past them all) and take a week in 56 cycles.
 */
const catchUpStepMs = 3 * 3_600_000;
/** The share of the returns kept in the caught-up past (Scenario.quiet). */
const caughtUpReturnShare = 0.25;
const dayMs = 86_400_000;
const maxWebhookSpeed = 1200;

interface Session {
  mode: Mode;
  core: Core;
  service: SyncService | null;
  /** The sync engine's Mirakl client, for what the core reads on a person's request (RE01's reason lists). */
  mirakl: MiraklClient | null;
  problem: string | null;
  sandbox: Sandbox | null;
  close(): Promise<void>;
  /** Closes this session's database under a cycle still running, and frees the data folder (see `abandon`). */
  abandon(): Promise<void>;
}

export async function startWorkbench(given: WorkbenchOptions) {
  // One redactor for every mode: fed by the secret store, applied to the log and to everything the network answers.
  const redactor = given.redactor ?? createSecretRedactor();
  const options: WorkbenchOptions = { ...given, log: redactingLogger(given.log, redactor), secrets: rememberSecrets(given.secrets, redactor) };
  const { log } = options;
  const http = redactingHttp(given.http ?? fetchHttp, redactor);
  const events = createEventBus();
  const shipped = options.mappingsDir ?? shippedMappingsDir;
  const storeOptions = (dataDir: string, clock: Clock) => ({
    dataDir,
    migrationsDir: options.migrationsDir,
    clock,
    ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}),
  });
  const main = openStore(storeOptions(options.dataDir, options.clock));
  const settings = createSettingsRepo(main.db, options.clock);
  const settingsAudit = createAuditLog(main.db, options.clock);
  let session: Session;
  let restarting: Promise<void> = Promise.resolve();

  function buildCore(store: Store, clock: Clock, mode: Mode, userMappingsDir: string, holder: { session: Session | null }): Core {
    return createCore({
      store,
      dataDir: options.dataDir,
      clock,
      ids: options.ids,
      log,
      secrets: options.secrets,
      appVersion: options.appVersion,
      mode,
      mappings: createMappingStore(shipped, userMappingsDir),
      actor: options.actor,
      events,
      settings,
      settingsAudit,
      http,
      sync: () => ({ service: holder.session?.service ?? null, problem: holder.session?.problem ?? 'The sync service is starting.' }),
      readMiraklReasons: () => {
        const client = holder.session?.mirakl;
        if (!client) return null;
        return async () => (await client.reasons()).map((r) => ({ type: r.type, code: r.code, label: r.label ?? r.code, isShopRight: r.is_shop_right }));
      },
      reconfigure,
      currentMode: () => session.mode,
      isEphemeral: mode === 'sandbox',
    });
  }

  async function service(
    core: Core,
    connections: Connections,
    mode: Mode,
    webhook: { url: string; secret: string } | null,
    lock: SyncRuntimeOptions['lock'],
    engineHttp: HttpPort = http,
  ) {
    const runtime = await createSyncRuntime({
      db: core.store.db,
      clock: core.clock,
      random: options.random,
      log,
      http: engineHttp,
      events,
      mappings: core.mappings.current,
      connections,
      webhook,
      queue: core.queue,
      lock,
      // The freeze is the installation's, kept with its settings: the sandbox's engine keeps it too.
      writes: createWriteFreezeRepo(settings),
      // Only the Live database is recorded outside the folder: a sandbox run's database is thrown away with its folder.
      ...(mode === 'live' && options.engineStateDir ? { engineStateDir: options.engineStateDir } : {}),
    });
    const sync = createSyncService({
      mode,
      engine: runtime.engine,
      db: core.store.db,
      clock: core.clock,
      log,
      events,
      idleMs: options.idleMs?.[mode] ?? defaultIdleMs[mode],
      ...(options.sleep ? { sleep: options.sleep } : {}),
    });
    return { runtime, sync };
  }

  async function openSandbox(): Promise<Session> {
    const s = { ...sandboxDefaults, ...(options.sandbox ?? {}) };
    const dir = freshSandboxFolder(options.dataDir);
    // The app opens a minute after the scenario's start, as it always has; a caught-up past starts the world earlier.
    const opensAt = (s.scenario.startMs ?? defaultScenario.startMs) + 60_000;
    const caughtUpMs = Math.max(0, s.caughtUpDays) * dayMs;
    const scenario: Partial<Scenario> =
      caughtUpMs > 0 ? { ...s.scenario, startMs: opensAt - 60_000 - caughtUpMs, quiet: s.scenario.quiet ?? { untilMs: opensAt, returnShare: caughtUpReturnShare } } : s.scenario;
    const clock = createSandboxClock(options.clock, opensAt - caughtUpMs, {
      speed: s.speed,
      warmupSpeed: Math.max(s.speed, s.warmupSpeed),
      warmupMs: s.warmupSeconds * 1000,
    });
    if (caughtUpMs === 0) clock.run();
    const sandbox = await startSandbox({
      seed: s.seed,
      clock,
      tickMs: s.tickMs,
      miraklFaults: faultProfiles[s.faults],
      reboundFaults: faultProfiles[s.faults],
      scenario,
      ...(s.miraklPort !== undefined ? { miraklPort: s.miraklPort } : {}),
      ...(s.reboundPort !== undefined ? { reboundPort: s.reboundPort } : {}),
    });
    for (const secret of [sandbox.mirakl.apiKey, sandbox.rebound.clientSecret, `sandbox-webhook-${s.seed}`]) redactor.remember(secret);
    let receiver: WebhookReceiver | null = null;
    try {
      const store = openStore(storeOptions(dir, clock));
      const holder: { session: Session | null } = { session: null };
      const core = buildCore(store, clock, 'sandbox', join(dir, 'mappings'), holder);
      const connections: Connections = {
        mirakl: { baseUrl: sandbox.mirakl.baseUrl, shopId: sandbox.mirakl.shopId, apiKey: async () => sandbox.mirakl.apiKey },
        rebound: { baseUrl: sandbox.rebound.baseUrl, clientId: sandbox.rebound.clientId, clientSecret: async () => sandbox.rebound.clientSecret },
      };
      let webhook: { url: string; secret: string } | null = null;
      let context: EngineContext | null = null;
      if (s.webhooks ?? Math.max(s.speed, s.warmupSeconds > 0 ? s.warmupSpeed : 0) <= maxWebhookSpeed) {
        const secret = `sandbox-webhook-${s.seed}`;
        // The receiver records into the engine's context, which exists only once the receiver's address is known.
        receiver = await startWebhookReceiver(
          new Proxy({} as EngineContext, {
            get: (_t, key) => {
              if (!context) throw new Error('the sync engine is not ready yet');
              return context[key as keyof EngineContext];
            },
          }),
          secret,
        );
        webhook = { url: receiver.url, secret };
        const subscriber = createReboundClient({
          baseUrl: sandbox.rebound.baseUrl,
          clientId: sandbox.rebound.clientId,
          clientSecret: async () => sandbox.rebound.clientSecret,
          clock,
          http,
          journal: memoryJournal(),
          budgets: createMemoryBudgetStore(),
        });
        try {
          await subscribeToNotifications((type, target) => withRetries(() => subscriber.subscribeWebhook(type, target)), webhook.url, secret);
        } catch (error) {
          // Polling alone carries every change too, only later: the sandbox still works, with staler ReBound data.
          log.warn('sandbox notifications not subscribed; ReBound is polled only', { error: (error as Error).message });
          await receiver.close();
          receiver = null;
          webhook = null;
        }
      }
      // The catch-up hands the engine's requests straight to the simulators' pipelines (the same routes, faults, budgets
      // and answers, without the sockets and HTTP parsing, which cost more than the sync itself); from the opening on they
      // go over loopback as every other request does.
      const socketless = redactingHttp(socketlessHttp([sandbox.miraklServer, sandbox.reboundServer]), redactor);
      const engineHttp: HttpPort = (request) => (clock.isRunning ? http(request) : socketless(request));
      // The sandbox's folder is this process's own: its lock is free.
      const { runtime, sync } = await service(core, connections, 'sandbox', webhook, { onLost: (error) => lostLock(holder.session, error) }, engineHttp);
      context = runtime.ctx;
      if (!clock.isRunning) {
        const started = options.clock.now();
        const cpu = process.cpuUsage();
        const cycles = await catchUp(clock, sandbox, sync, opensAt);
        clock.run();
        const used = process.cpuUsage(cpu);
        log.info('sandbox history synced', { days: s.caughtUpDays, cycles, ms: options.clock.now() - started, cpuMs: Math.round((used.user + used.system) / 1000) });
      }
      const session: Session = {
        mode: 'sandbox',
        core,
        service: sync,
        mirakl: runtime.ctx.mirakl,
        problem: null,
        sandbox,
        close: async () => {
          await sync.stop();
          await receiver?.close();
          await sandbox.close();
          store.close();
          await runtime.lock.release();
        },
        abandon: async () => {
          store.close();
          await runtime.lock.release();
        },
      };
      holder.session = session;
      log.info('sandbox mode', { mirakl: sandbox.mirakl.baseUrl, rebound: sandbox.rebound.baseUrl, speed: s.speed, seed: s.seed, folder: dir });
      return session;
    } catch (error) {
      await receiver?.close();
      await sandbox.close();
      throw error;
    }
  }

  async function openLive(): Promise<Session> {
    const holder: { session: Session | null } = { session: null };
    const core = buildCore(main, options.clock, 'live', join(options.dataDir, 'mappings'), holder);
    const session: Session = { mode: 'live', core, service: null, mirakl: null, problem: null, sandbox: null, close: async () => {}, abandon: async () => main.close() };
    holder.session = session;
    const stored = readConnectionSettings(settings);
    let apiKey: string | null = null;
    let clientSecret: string | null = null;
    try {
      [apiKey, clientSecret] = await Promise.all([options.secrets.get(secretAccounts.miraklApiKey), options.secrets.get(secretAccounts.reboundClientSecret)]);
    } catch (error) {
      session.problem = (error as Error).message;
    }
    if (!session.problem && (!stored.mirakl.baseUrl || !stored.rebound.baseUrl || !stored.rebound.clientId || !apiKey || !clientSecret)) {
      session.problem = 'The connections are incomplete: Settings needs both addresses, the ReBound client id and both secrets.';
    }
    if (session.problem) {
      log.warn('live mode without a sync service', { problem: session.problem });
      return session;
    }
    // Read once per start: a change of secret in Settings restarts the service, which reads them again.
    const key = apiKey as string;
    const secret = clientSecret as string;
    const connections: Connections = {
      mirakl: { baseUrl: stored.mirakl.baseUrl as string, ...(stored.mirakl.shopId !== null ? { shopId: stored.mirakl.shopId } : {}), apiKey: async () => key },
      rebound: {
        baseUrl: stored.rebound.baseUrl as string,
        clientId: stored.rebound.clientId as string,
        clientSecret: async () => secret,
        ...(stored.rebound.flowKey ? { flowKey: stored.rebound.flowKey } : {}),
      },
    };
    // The folder may be another process's engine's: then wait for it in the background, with the data on view.
    const waiting = new AbortController();
    let lock: FolderLock | null = null;
    let isBusy = false;
    let toldBusy = () => {};
    const busyNoticed = new Promise<'busy'>((resolve) => (toldBusy = () => resolve('busy')));
    const building = service(core, connections, 'live', null, {
      wait: true,
      signal: waiting.signal,
      onBusy: (busy) => {
        isBusy = true;
        session.problem = `${describeBusy(busy)} This app shows the data but does not sync it meanwhile; it starts syncing by itself once that engine stops.`;
        log.warn('live sync waits for the data folder', { folder: busy.dir, holder: busy.holder, isHolderGone: busy.isHolderGone });
        announceStopped(session);
        toldBusy();
      },
      onLost: (error) => lostLock(session, error),
    });
    const settled = building.then(
      async (built) => {
        if (waiting.signal.aborted) return built.runtime.lock.release();
        lock = built.runtime.lock;
        session.service = built.sync;
        session.mirakl = built.runtime.ctx.mirakl;
        session.problem = null;
        // Found free at once, the caller starts it; after a wait, nobody else will.
        if (!isBusy) return;
        log.info('live sync starts: the data folder is free now', { folder: options.dataDir, tookOver: built.runtime.lock.tookOver });
        if (options.autoStart ?? true) built.sync.start();
      },
      (error: unknown) => {
        // Before any wait the caller gets the error itself, as from any other failure to open.
        if (waiting.signal.aborted || !isBusy) return;
        session.problem = `The sync service did not start: ${(error as Error).message}`;
        log.error('live sync could not start', { error: (error as Error).message });
        announceStopped(session);
      },
    );
    const first = await Promise.race([building.then(() => 'built' as const), busyNoticed]);
    if (first === 'built') await settled;
    session.close = async () => {
      waiting.abort(new Error('the workbench closed'));
      await settled;
      await session.service?.stop();
      await lock?.release();
    };
    session.abandon = async () => {
      waiting.abort(new Error('the workbench closed'));
      main.close();
      await lock?.release();
    };
    log.info('live mode', { mirakl: stored.mirakl.baseUrl, rebound: stored.rebound.baseUrl, waitsForFolder: isBusy });
    return session;
  }

  /** The sync status changed without the service saying so (none runs, or it was stopped from here). */
  function announceStopped(s: Session): void {
    events.emit('sync.stateChanged', { state: 'stopped', mode: s.mode, lastCycleAt: null, lastError: s.problem });
  }

  /** Another process took the data folder's lock over (this one stalled past its staleness): stop syncing here. */
  function lostLock(s: Session | null, error: Error): void {
    if (!s) return;
    s.problem = `This app stopped syncing: another process took over the data folder's lock (${error.message}). Restart the app to sync here again.`;
    log.error('the data folder lock was lost; the sync service stops', { error: error.message });
    // Nor is Mirakl read from here any more (the other engine's budgets would be ours to break).
    s.mirakl = null;
    void s.service?.stop().then(() => announceStopped(s));
  }

  const open = (mode: Mode) => (mode === 'sandbox' ? openSandbox() : openLive());

  async function reconfigure(): Promise<Reconfigured> {
    const next = await resolveMode(settings, options.secrets, log);
    if (next === 'sandbox' && session.mode === 'sandbox') {
      return {
        mode: 'sandbox',
        restarted: false,
        message: 'Saved. Live mode starts once both addresses, the ReBound client id and both secrets are set; until then the app stays in Sandbox mode.',
      };
    }
    const from = session.mode;
    let release = () => {};
    restarting = new Promise<void>((resolve) => (release = resolve));
    try {
      await session.close();
      session = await open(next);
      if (options.autoStart ?? true) session.service?.start();
    } finally {
      release();
    }
    events.emit('data.changed', { tables: ['returns', 'recon_verdicts', 'exceptions', 'feeds', 'settings', 'mappings', 'audit_log'] });
    const problem = session.problem ? ` The sync service did not start: ${session.problem}` : '';
    return {
      mode: next,
      restarted: true,
      message:
        from === next
          ? `Saved. The sync service restarted in ${next} mode with the new connections.${problem}`
          : `Saved. The sync service restarted in ${next} mode: the workbench now shows ${next === 'live' ? 'live data (Sandbox data is left behind)' : 'the sandbox'}.${problem}`,
    };
  }

  try {
    session = await open(await resolveMode(settings, options.secrets, log));
  } catch (error) {
    main.close();
    throw error;
  }
  if (options.autoStart ?? true) session.service?.start();

  // Requests wait while a switch of mode swaps the core; the one that asked for it has already entered.
  const dispatch: Dispatch = async (command, input) => {
    await restarting;
    return session.core.dispatch(command, input);
  };

  return {
    dispatch,
    events,
    /** The data folder's own database (connections, accounts): the same in both modes. */
    mainDb: main.db,
    get mode(): Mode {
      return session.mode;
    },
    get core(): Core {
      return session.core;
    },
    get sync(): SyncService | null {
      return session.service;
    },
    /** The simulated systems in Sandbox mode (tests read their ground truth), null in live mode. */
    get sandbox(): Sandbox | null {
      return session.sandbox;
    },
    startSync: () => session.service?.start(),
    info: () => ({ mode: session.mode, dataDir: options.dataDir, databaseFile: session.core.store.file }),
    /**
     * For a quit whose cycle did not finish in time: closes the engine's database under the cycle still out (with it
     * closed, no intent can be marked `sending`, so no further call can go out) and frees the data folder for the
     * next engine. The process is expected to exit next.
     */
    abandon: () => session.abandon(),
    /** Lets the cycle in flight finish, stops the sandbox, closes both databases. */
    async close(): Promise<void> {
      await restarting;
      await session.close();
      main.close();
    },
  };
}

export type Workbench = Awaited<ReturnType<typeof startWorkbench>>;

/** An empty sandbox folder for this process; folders left by processes that have ended are removed. */
function freshSandboxFolder(dataDir: string): string {
  const root = join(dataDir, 'sandbox');
  mkdirSync(root, { recursive: true });
  for (const name of readdirSync(root)) {
    const pid = Number(name);
    const folder = join(root, name);
    // Only folders Sandbox mode made (they carry the marker) and whose process is gone.
    if (!Number.isInteger(pid) || pid === process.pid || !existsSync(join(folder, ownerMarker)) || isAlive(pid)) continue;
    rmSync(folder, { recursive: true, force: true });
  }
  const mine = join(root, String(process.pid));
  rmSync(mine, { recursive: true, force: true });
  mkdirSync(mine, { recursive: true });
  writeFileSync(
    join(mine, ownerMarker),
    'Sandbox mode data: simulated returns that exist only while this process runs. Removed at the next launch.\n',
  );
  return mine;
}

/**
 * Runs the sync engine over the sandbox's past up to `until`: each step moves sandbox time on, lets both simulators
 * catch up with it (returns requested, parcels moved, refunds paid), runs one cycle, and waits for the notifications
 * it sent. Returns the number of cycles.
 */
async function catchUp(clock: SandboxClock, sandbox: Sandbox, sync: SyncService, until: number): Promise<number> {
  let cycles = 0;
  while (clock.now() < until) {
    clock.catchUpTo(Math.min(until, clock.now() + catchUpStepMs));
    sandbox.advance();
    await sync.runCycle();
    await sandbox.flush();
    cycles++;
  }
  return cycles;
}

/** Injected faults hit the subscription calls too; a few immediate retries get through them. */
async function withRetries<T>(call: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (error) {
      if (i >= attempts) throw error;
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

import { join } from 'node:path';
import { afterEach } from 'vitest';
import { createFakeClock, type FakeClock } from '../../core/adapters/fake-clock';
import { silentLogger } from '../../core/adapters/logger';
import { loadMappings, shippedMappingsDir, type Mappings } from '../../core/mappings/load';
import { createMiraklClient } from '../../core/mirakl/client';
import { fetchHttp, type HttpPort } from '../../core/net/http';
import { createReboundClient } from '../../core/rebound/client';
import type { FaultProfiles } from '../../core/sandbox/http/faults';
import { defaultScenario, startSandbox, type Sandbox, type Scenario } from '../../core/sandbox/index';
import { createRng } from '../../core/sandbox/rng';
import { createSqliteBudgetStore } from '../../core/store/budget-repo';
import { openStore, type Store } from '../../core/store/db';
import { createSqliteJournal } from '../../core/store/journal-repo';
import { sourceMigrationsDir } from '../../core/store/paths';
import { createEngineContext, type EngineContext } from '../../core/sync/context';
import { createEngine, type Engine } from '../../core/sync/engine';
import { startWebhookReceiver, subscribeToNotifications, type WebhookReceiver } from '../../core/sync/webhook-receiver';
import { createMemoryBudgetStore } from '../../core/net/budget-guard';
import { memoryJournal } from '../../core/net/journal';
import { makeTempDir } from './temp-dir';

// The real engine on a real SQLite file against the sandbox, on a fake clock. `reopen()` drops every bit of
// in-process state and builds the engine again from the database, as after a crash.

export interface HarnessOptions {
  seed: number;
  dataDir: string;
  scenario?: Partial<Scenario>;
  miraklFaults?: FaultProfiles;
  reboundFaults?: FaultProfiles;
  mappings?: Mappings;
  crash?: (point: string) => void;
  /** Receive ReBound notifications on a local receiver (as Sandbox mode does) instead of polling only. */
  webhooks?: boolean;
  /** This machine's per-user state folder the engine keeps its lease figures in (default: `<dataDir>/state`, never the real one). */
  engineStateDir?: string;
  /** The engine's HTTP port (default: fetch): a test may act at the moment a call goes out, as the chaos harness does. */
  http?: HttpPort;
}

export interface Harness {
  clock: FakeClock;
  sandbox: Sandbox;
  store: Store;
  ctx: EngineContext;
  engine: Engine;
  /** Moves sandbox time on, lets both systems catch up, runs one engine cycle. */
  step(ms: number): Promise<void>;
  /** Drops everything in memory and builds the engine again from the database; `engineStateDir` as on another machine. */
  reopen(options?: { engineStateDir?: string }): void;
  close(): Promise<void>;
}

/** What the engine needs to know of a sandbox (or of any Mirakl and ReBound): where they are and its credentials. */
export type EngineTargets = Pick<Sandbox, 'mirakl'> & { rebound: Pick<Sandbox['rebound'], 'baseUrl' | 'clientId' | 'clientSecret'> };

export interface EngineParts {
  store: Store;
  ctx: EngineContext;
  engine: Engine;
}

/**
 * The engine as the app builds it, on a real SQLite file in `dataDir`, reaching the APIs through `http`. `random`
 * is the engine's seeded stream (kept across rebuilds, so a replay draws the same jitter).
 */
export function buildEngine(options: {
  dataDir: string;
  clock: FakeClock;
  http: HttpPort;
  targets: EngineTargets;
  random: { float(): number };
  mappings: Mappings;
  webhook: { url: string; secret: string } | null;
  crash?: (point: string) => void;
  /** How the engine names itself in its lease (default: this process). */
  holder?: string;
  /** This machine's per-user state folder (lease-marker.ts); tests give a folder of their own, never the real one. */
  engineStateDir?: string;
}): EngineParts {
  const { clock, targets } = options;
  const store = openStore({ dataDir: join(options.dataDir, 'data'), migrationsDir: sourceMigrationsDir, clock });
  const common = { clock, http: options.http, journal: createSqliteJournal(store.db), budgets: createSqliteBudgetStore(store.db), timeoutMs: 10_000 };
  const ctx = createEngineContext({
    db: store.db,
    clock,
    random: { next: () => options.random.float() },
    log: silentLogger,
    events: null,
    mirakl: createMiraklClient({ ...common, baseUrl: targets.mirakl.baseUrl, apiKey: async () => targets.mirakl.apiKey, shopId: targets.mirakl.shopId }),
    rebound: createReboundClient({ ...common, baseUrl: targets.rebound.baseUrl, clientId: targets.rebound.clientId, clientSecret: async () => targets.rebound.clientSecret }),
    mappings: () => options.mappings,
    webhook: options.webhook,
    ...(options.crash ? { crash: options.crash } : {}),
    ...(options.engineStateDir ? { engineStateDir: options.engineStateDir } : {}),
  });
  return { store, ctx, engine: createEngine(ctx, options.holder ? { holder: options.holder } : {}) };
}

/**
 * A notification receiver on loopback that records into whichever engine context `current()` returns (it is
 * rebuilt after a crash), subscribed to every ReBound notification type.
 */
export async function startSubscribedReceiver(options: {
  current: () => EngineContext;
  secret: string;
  clock: FakeClock;
  http: HttpPort;
  targets: EngineTargets;
}): Promise<WebhookReceiver> {
  const receiver = await startWebhookReceiver(
    new Proxy({} as EngineContext, { get: (_t, key) => options.current()[key as keyof EngineContext] }),
    options.secret,
  );
  const subscriber = createReboundClient({
    baseUrl: options.targets.rebound.baseUrl,
    clientId: options.targets.rebound.clientId,
    clientSecret: async () => options.targets.rebound.clientSecret,
    clock: options.clock,
    http: options.http,
    journal: memoryJournal(),
    budgets: createMemoryBudgetStore(),
  });
  await subscribeToNotifications((type, target) => subscriber.subscribeWebhook(type, target), receiver.url, options.secret);
  return receiver;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const clock = createFakeClock((options.scenario?.startMs ?? defaultScenario.startMs) + 60_000);
  const sandbox = await startSandbox({
    seed: options.seed,
    clock,
    ...(options.scenario ? { scenario: options.scenario } : {}),
    ...(options.miraklFaults ? { miraklFaults: options.miraklFaults } : {}),
    ...(options.reboundFaults ? { reboundFaults: options.reboundFaults } : {}),
  });
  const mappings = options.mappings ?? loadMappings(shippedMappingsDir);
  const random = createRng(options.seed).fork('engine');
  const webhookSecret = `whsec-${options.seed}`;
  let receiver: WebhookReceiver | null = null;
  let webhookUrl: string | null = null;
  let engineStateDir = options.engineStateDir ?? join(options.dataDir, 'state');

  const build = () =>
    buildEngine({
      dataDir: options.dataDir,
      clock,
      http: options.http ?? fetchHttp,
      targets: sandbox,
      random,
      mappings,
      webhook: webhookUrl ? { url: webhookUrl, secret: webhookSecret } : null,
      ...(options.crash ? { crash: options.crash } : {}),
      engineStateDir,
    });

  let current = build();
  if (options.webhooks) {
    receiver = await startSubscribedReceiver({ current: () => current.ctx, secret: webhookSecret, clock, http: fetchHttp, targets: sandbox });
    webhookUrl = receiver.url;
    current.store.close();
    current = build();
  }
  const harness: Harness = {
    clock,
    sandbox,
    get store() {
      return current.store;
    },
    get ctx() {
      return current.ctx;
    },
    get engine() {
      return current.engine;
    },
    async step(ms) {
      clock.advance(ms);
      sandbox.advance();
      await current.engine.runCycle();
      await sandbox.flush();
    },
    reopen(reopenOptions) {
      // Everything in memory is dropped; only the database file survives, as after a crash.
      if (reopenOptions?.engineStateDir) engineStateDir = reopenOptions.engineStateDir;
      try {
        current.store.close();
      } catch {
        // already closed
      }
      current = build();
    },
    async close() {
      await receiver?.close();
      current.store.close();
      await sandbox.close();
    },
  };
  return harness;
}

/**
 * One harness per test, each on a folder of its own, closed and removed after the test (registers the afterEach).
 * `start` takes what startHarness does but the folder.
 */
export function harnessPerTest(): { start(options: Omit<HarnessOptions, 'dataDir'>): Promise<Harness> } {
  let temp: ReturnType<typeof makeTempDir> | null = null;
  let current: Harness | null = null;
  afterEach(async () => {
    await current?.close();
    current = null;
    temp?.remove();
    temp = null;
  });
  return {
    async start(options) {
      temp = makeTempDir();
      current = await startHarness({ ...options, dataDir: temp.dir });
      return current;
    },
  };
}

const hourMs = 3_600_000;

/**
 * A day of orders whose returns come back within hours, with none of the drawn divergences (late orders, unmapped
 * reasons, parcels never sent, short receipts, wrong SKUs, unexpected items): a test adds the one it studies.
 */
export function quickCleanWorld(overrides: Partial<Scenario> = {}): Partial<Scenario> {
  return {
    historyDays: 0,
    ordersPerDay: 40,
    ordersUntilMs: defaultScenario.startMs + 24 * hourMs,
    returnRate: 0.6,
    returnAfterDays: [0, 1],
    orderVisibleLateRate: 0,
    unmappedReasonRate: 0,
    parcelNeverSentRate: 0,
    shortReceiptRate: 0,
    wrongSkuRate: 0,
    unexpectedItemRate: 0,
    hoursToNetwork: [1, 12],
    hoursToHub: [4, 24],
    hoursToRegistered: [1, 6],
    hoursToProcessed: [12, 24],
    ...overrides,
  };
}

/**
 * A world that moves fast, with the drawn divergences left in: returns asked for within a day of delivery, through
 * the hub within hours, refunds paid within 90 minutes. `days` of orders from the scenario's start (after
 * `historyDays` of history), `ordersPerDay` of them.
 */
export function fastWorld(options: { historyDays: number; ordersPerDay: number; days: number }): Partial<Scenario> {
  return {
    historyDays: options.historyDays,
    ordersPerDay: options.ordersPerDay,
    ordersUntilMs: defaultScenario.startMs + options.days * 24 * hourMs,
    returnRate: 0.4,
    returnAfterDays: [0, 1],
    hoursToNetwork: [1, 8],
    hoursToHub: [2, 10],
    hoursToRegistered: [1, 4],
    hoursToProcessed: [1, 8],
    refundSettleMinutes: [5, 90],
  };
}

import { createHash } from 'node:crypto';
import { copyFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { createFakeClock } from '../../core/adapters/fake-clock';
import { createAuditLog } from '../../core/audit/log';
import { createResolutions } from '../../core/reconcile/resolutions';
import { silentLogger } from '../../core/adapters/logger';
import { createMiraklClient } from '../../core/mirakl/client';
import { createMemoryBudgetStore } from '../../core/net/budget-guard';
import { fetchHttp } from '../../core/net/http';
import { memoryJournal } from '../../core/net/journal';
import type { Clock } from '../../core/ports';
import { createReboundClient } from '../../core/rebound/client';
import type { FaultProfile, ShapeVariant } from '../../core/sandbox/http/faults';
import { defaultScenario, startSandbox, type Sandbox, type Scenario } from '../../core/sandbox/index';
import type { TaxMode } from '../../core/sandbox/scenario';
import { createRng, type Rng } from '../../core/sandbox/rng';
import { createSqliteBudgetStore } from '../../core/store/budget-repo';
import { databaseFileName, openStore, type Store } from '../../core/store/db';
import { acquireFolderLock, FolderBusyError, type FolderLock } from '../../core/store/folder-lock';
import { createSqliteJournal } from '../../core/store/journal-repo';
import { sourceMigrationsDir } from '../../core/store/paths';
import { createEngineContext, type EngineContext } from '../../core/sync/context';
import { createEngine, type Engine } from '../../core/sync/engine';
import { SimulatedCrash } from '../../core/sync/execute';
import { startWebhookReceiver, subscribeToNotifications, type WebhookReceiver } from '../../core/sync/webhook-receiver';
import { makeTempDir } from '../support/temp-dir';
import { createChaosHttp, type CallRecord, type ChaosHttpDeps, type LostCall, type PushRejection } from './chaos-http';
import { createDiskFaults } from './disk';
import { checkQuietInvariants } from './invariants';
import { createMappingsDir, type MappingEdit } from './mapping-edits';
import { createNotificationChaos } from './notifications';
import { armed, drawPlan, faultKinds, type FaultKind, type PlannedFault } from './plan';
import { MiraklRejection } from '../../core/sandbox/world/mirakl-world';
import { openSecondEngine, type SecondEngine, type SecondEngineWrites } from './second-engine';
import { stateHash, tableHashes } from './state-hash';

// One chaos run: the real sync engine, on a real SQLite file, against the sandbox, with faults drawn from the seed.
// Sandbox time is a fake clock moved step by step; the engine's local clock is that time plus a skew the faults
// change. Everything that could interleave (notifications, a second instance) is sequenced here, so a seed replays
// to the same state. A killed process is abandoned where it stands (its connection closed at once, so it writes
// nothing more) and a fresh engine is built from the file at the next step, as after a crash and a restart.

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

export const chaosStartMs = defaultScenario.startMs;

/**
 * A small, busy world: one day of orders, four days before the engine first looks, so most returns are waiting for
 * it on the first poll and the rest trickle in over the next days; returns within half a day of delivery, frequent
 * anomalies. No order is placed once the engine runs, so Mirakl's stock moves only by what the engine restocks.
 */
export const chaosScenario: Partial<Scenario> = {
  historyDays: 4,
  ordersPerDay: 28,
  ordersUntilMs: chaosStartMs - 3 * day,
  returnRate: 0.5,
  returnAfterDays: [0, 0.5],
  orderVisibleLateRate: 0.1,
  orderVisibleLateMinutes: [5, 120],
  unmappedReasonRate: 0.05,
  autoAcceptRate: 0.6,
  parcelNeverSentRate: 0.03,
  shortReceiptRate: 0.08,
  // Half the returns of several units of a line come in two parcels: the late unit arrives when a lateUnit fault says.
  heldBackUnitRate: 0.5,
  unexpectedItemRate: 0.05,
  wrongSkuRate: 0.05,
  damagedRate: 0.1,
  nonSellableRate: 0.1,
  hoursToNetwork: [1, 12],
  hoursToHub: [4, 24],
  hoursToRegistered: [1, 6],
  hoursToProcessed: [1, 12],
  duplicateNotificationRate: 0.1,
  outOfOrderNotificationRate: 0.1,
  lateNotificationMinutes: [10, 240],
  refundSettleMinutes: [5, 120],
  stockImportSeconds: [5, 60],
};

/** Low-rate faults the sandbox draws on every call, beside the planned ones. */
export const backgroundFaults: FaultProfile = {
  serverErrorRate: 0.02,
  resetRate: 0.01,
  lostResponseRate: 0.01,
  rateLimitStormRate: 0.002,
  rateLimitStormSeconds: 120,
  unknownEnumRate: 0.01,
  extraFieldsRate: 0.05,
  shapesRate: 0.1,
};

/** Share of seeds whose shop works in TAX_EXCLUDED (amounts net of tax, tax in taxes[]), the rest TAX_INCLUDED. */
export const taxExcludedShare = 0.3;

/** The shop's tax mode for a seed, from a stream of its own so the rest of the run draws exactly as before. */
export const taxModeFor = (seed: number): TaxMode => (createRng(seed).fork('tax-mode').chance(taxExcludedShare) ? 'TAX_EXCLUDED' : 'TAX_INCLUDED');

export interface RunResult {
  seed: number;
  drawn: number;
  /** Planned faults that fired, by kind. */
  fired: Partial<Record<FaultKind, number>>;
  /** Faults the sandbox drew on its own, by kind. */
  background: Record<string, number>;
  /** Records the shapes fault reshaped (planned and background), by variant, on both servers. */
  shapes: Partial<Record<ShapeVariant, number>>;
  /** The shop's default order_tax_mode in this run. */
  taxMode: TaxMode;
  cycles: number;
  restarts: number;
  simDays: number;
  violations: string[];
  tables: Record<string, string>;
  hash: string;
  stats: Record<string, number>;
}

interface Instance {
  name: string;
  store: Store;
  db: Database;
  ctx: EngineContext;
  engine: Engine;
  /** The data folder's engine lock (core/store/folder-lock.ts), taken as createSyncRuntime takes it. */
  lock: FolderLock;
  isDead: boolean;
}

export const faultWindowMs = 4.5 * day;
const quietStepMs = 3 * hour;
/** Unchanged for a day of sandbox time: every poll, probe and retry cadence has come round several times. */
const quietStepsNeeded = 8;
const maxQuietMs = 30 * day;

export interface RunOptions {
  trace?: (line: string) => void;
  /** Receives the final ground truth and database, to compare two runs that should have been identical. */
  inspect?: (final: { truth: unknown; db: Database }) => void;
  /** Runs once the engine is quiet, just before the invariants are checked (the harness's own tests plant faults here). */
  beforeCheck?: (end: { sandbox: Sandbox; db: Database }) => void;
}

export async function runSeed(seed: number, options: RunOptions = {}): Promise<RunResult> {
  const trace = options.trace ?? (() => undefined);
  const temp = makeTempDir('rw-chaos-');
  const chaos = createRng(seed).fork('chaos');
  const planRng = chaos.fork('plan');
  // Armed in the first two thirds of the window, so a fault waiting for a rarer call (a refund, a stock import) still meets one.
  const plan = drawPlan(planRng, { fromMs: chaosStartMs + hour, toMs: chaosStartMs + (2 / 3) * faultWindowMs }, planRng.int(30, 36));
  const violations: string[] = [];
  const stats: Record<string, number> = {};
  const bump = (key: string, n = 1) => {
    stats[key] = (stats[key] ?? 0) + n;
  };
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);

  const worldClock = createFakeClock(chaosStartMs + minute);
  let skewMs = 0;
  const localClock: Clock = { now: () => worldClock.now() + skewMs };
  const notifications = createNotificationChaos();
  const taxMode = taxModeFor(seed);
  const sandbox = await startSandbox({ seed, clock: worldClock, scenario: { ...chaosScenario, taxMode }, webhookTransport: notifications.transport });
  const disk = createDiskFaults();
  const dataDir = join(temp.dir, 'data');
  const mappingsDir = createMappingsDir(dataDir);
  const lostCalls: LostCall[] = [];
  const webhookSecret = `whsec-chaos-${seed}`;

  // The first instance (restarted after each kill) and, for a while after a secondInstance fault, a second one.
  const procs: { a: Instance | null; b: { instance: Instance; stepsLeft: number } | null } = { a: null, b: null };
  let starts = 0;
  let receiver: WebhookReceiver | null = null;

  const take = (kind: FaultKind, where: string, fits: (f: PlannedFault) => boolean = () => true): PlannedFault | null => {
    const now = worldClock.now();
    // Nothing planned fires once the faults have stopped: the engine must then settle on its own.
    if (now >= chaosStartMs + faultWindowMs) return null;
    const fault = plan.find((f) => f.kind === kind && f.firedAt === null && f.at <= now && fits(f));
    if (!fault) return null;
    fault.firedAt = now;
    fault.where = where;
    trace(`${new Date(now).toISOString()} fault ${kind}${fault.variant ? ` (${fault.variant})` : ''} at ${where}`);
    return fault;
  };
  const rearm = (fault: PlannedFault) => {
    fault.firedAt = null;
    fault.where = null;
  };
  const kill = (name: string, where: string) => {
    const instance = name === 'A' ? procs.a : procs.b?.instance;
    if (!instance || instance.isDead) return;
    instance.isDead = true;
    instance.store.db.close();
    releaseLock(instance);
    trace(`${new Date(worldClock.now()).toISOString()} process ${name} killed ${where}`);
  };
  // A killed process's lock goes stale 10 s after its last sign of life and the next engine takes it over; a step
  // is minutes of sandbox time, so the harness releases it at once (and waits for that before the next start).
  const releases: Promise<void>[] = [];
  const releaseLock = (instance: Instance) => void releases.push(instance.lock.release());
  // A refusal counts once the cycle that received it ended alive with every write made: a process killed, or whose
  // disk failed, right after the answer never recorded it, and its later retry is answered afresh.
  const pushRejections: PushRejection[] = [];
  const pushRejectionsSeen: PushRejection[] = [];
  const sent: Record<string, number> = {};
  const backOfficeRefunds = new Set<string>();
  const calls: CallRecord[] = [];
  /** What second installations (secondEngineOwnDb) wrote to Mirakl, and the one open now. */
  const secondWrites: SecondEngineWrites = { refunds: new Set(), imports: new Set(), returnOrders: new Set() };
  const colleague: { open: { engine: SecondEngine; stepsLeft: number; isBeforeA: boolean; rng: Rng } | null } = { open: null };
  const shared = { isNested: false, paging: false };
  const deps: ChaosHttpDeps = {
    sandbox,
    worldClock,
    rng: chaos.fork('http'),
    background: backgroundFaults,
    take,
    rearm,
    kill,
    isDead: (name) => (name === 'A' ? (procs.a?.isDead ?? true) : (procs.b?.instance.isDead ?? true)),
    hasSecondInstance: () => procs.b !== null,
    openSecondInstance: async (fault) => {
      let instance: Instance;
      try {
        instance = await open('B');
      } catch (error) {
        if (error instanceof FolderBusyError) bump('secondInstanceRefused');
        else bump('secondInstanceFailed');
        trace(`second instance refused: ${(error as Error).message}`);
        return;
      }
      // A's call is in flight, so A is alive and holds the folder: a second engine must never get this far.
      violations.push(`TWO ENGINES: a second engine took the lock of ${dataDir} while the first was running`);
      bump('secondInstanceOpened');
      procs.b = { instance, stepsLeft: fault.amount };
      await runCycleOf(instance);
    },
    strikeStorage: (fault) => {
      if (fault.kind === 'ioError') armIoError(fault);
      else startDiskFull(fault);
    },
    lostCalls,
    pushRejections,
    sent,
    calls,
    isPausedByForeignWrite: (name) => {
      const instance = name === 'A' ? procs.a : procs.b?.instance;
      if (!instance || instance.isDead || !instance.store.db.open) return false;
      return instance.store.db.prepare(`SELECT 1 FROM exceptions WHERE type = 'FOREIGN_WRITE' AND state != 'resolved' LIMIT 1`).get() !== undefined;
    },
    trace,
  };

  async function open(name: string): Promise<Instance> {
    await Promise.all(releases.splice(0));
    const store = openStore({ dataDir, migrationsDir: sourceMigrationsDir, clock: localClock });
    let lock: FolderLock | null = null;
    try {
      lock = await acquireFolderLock(dirname(store.db.name), { command: `chaos engine ${name}` });
      const db = disk.wrap(store.db);
      const random = chaos.fork(`engine:${++starts}`);
      const http = createChaosHttp(deps, name, shared);
      const common = { clock: localClock, http, journal: createSqliteJournal(db), budgets: createSqliteBudgetStore(db), timeoutMs: 10_000 };
      const ctx = createEngineContext({
        db,
        clock: localClock,
        random: { next: () => random.float() },
        log: silentLogger,
        events: null,
        mirakl: createMiraklClient({ ...common, baseUrl: sandbox.mirakl.baseUrl, apiKey: async () => sandbox.mirakl.apiKey, shopId: sandbox.mirakl.shopId }),
        rebound: createReboundClient({ ...common, baseUrl: sandbox.rebound.baseUrl, clientId: sandbox.rebound.clientId, clientSecret: async () => sandbox.rebound.clientSecret }),
        mappings: () => mappingsDir.current(),
        webhook: name === 'A' && receiver ? { url: receiver.url, secret: webhookSecret } : null,
        // This machine's per-user state folder: the run's own, outside the data folder, never the real one.
        engineStateDir: join(temp.dir, 'machine-state'),
        crash: (point) => {
          if (take('killAtCrashPoint', `${name} ${point}`, (f) => f.variant === point)) {
            kill(name, `at ${point}`);
            throw new SimulatedCrash(point);
          }
        },
      });
      return { name, store, db, ctx, engine: createEngine(ctx), lock, isDead: false };
    } catch (error) {
      if (lock) await lock.release();
      closeStore(store);
      throw error;
    }
  }

  /** Runs one cycle; a kill or an error that escapes the cycle ends the process (the CLI exits on it). */
  /**
   * A person answers FOREIGN_WRITE (someone else refunded the shop, here the back office) an hour or more after it was
   * raised, through the same resolution the app's button runs: refunds and stock updates, paused meanwhile, go on.
   */
  function acknowledgeForeignWrites(instance: Instance): void {
    const before = new Date(worldClock.now() - hour).toISOString();
    const ids = (instance.db.prepare(`SELECT id FROM exceptions WHERE type = 'FOREIGN_WRITE' AND state != 'resolved' AND detected_at <= ?`).all(before) as { id: number }[]).map((r) => r.id);
    if (ids.length === 0) return;
    const resolutions = createResolutions(instance.ctx, createAuditLog(instance.db, instance.ctx.clock));
    let results: ReturnType<typeof resolutions.act>;
    try {
      results = resolutions.act(ids, { action: 'acknowledge', reason: 'goodwill refund made in the back office, agreed by customer service' }, 'chaos person');
    } catch (error) {
      // The disk is full or failing (a storage fault): the app answers the person with an error; they try again later.
      const code = (error as { code?: string }).code ?? '';
      if (code !== 'SQLITE_FULL' && code !== 'SQLITE_IOERR') throw error;
      trace(`  a person's acknowledgement failed (${code}); tried again next step`);
      return;
    }
    for (const r of results) if (!r.ok) violations.push(`FOREIGN_WRITE NOT ACKNOWLEDGED: exception ${r.id}: ${JSON.stringify(r)}`);
    bump('foreignWritesAcknowledged', ids.length);
    trace(`  a person acknowledged ${ids.length} FOREIGN_WRITE exception(s)`);
  }

  async function runCycleOf(instance: Instance): Promise<void> {
    const failedWritesBefore = disk.failedWrites;
    try {
      await instance.engine.runCycle();
      if (!instance.isDead && disk.failedWrites === failedWritesBefore) pushRejectionsSeen.push(...pushRejections.filter((p) => p.instance === instance.name));
    } catch (error) {
      if (!instance.isDead) {
        const code = (error as { code?: string }).code ?? '';
        const isStorage = code === 'SQLITE_FULL' || code === 'SQLITE_IOERR';
        if (!isStorage && !(error instanceof SimulatedCrash)) violations.push(`ENGINE ERROR: a cycle of ${instance.name} threw ${(error as Error).message}`);
        bump('cyclesEndedByError');
        trace(`${new Date(worldClock.now()).toISOString()} ${instance.name}'s cycle threw (${(error as Error).message}); the process exits`);
        instance.isDead = true;
        instance.store.db.close();
        releaseLock(instance);
      }
    } finally {
      const others = pushRejections.filter((p) => p.instance !== instance.name);
      pushRejections.splice(0, pushRejections.length, ...others);
    }
  }

  const forwardOnly = { units: new Map<string, number>(), orders: new Map<string, number>(), confirmed: new Set<number>() };
  function observeForwardOnly(db: Database): void {
    for (const u of db.prepare('SELECT id, stage_rank FROM units').all() as { id: string; stage_rank: number }[]) {
      const before = forwardOnly.units.get(u.id) ?? -1;
      if (u.stage_rank < before) violations.push(`MOVED BACK: unit ${u.id} went from stage rank ${before} to ${u.stage_rank}`);
      forwardOnly.units.set(u.id, Math.max(before, u.stage_rank));
    }
    for (const o of db.prepare('SELECT rebound_order_id AS id, status_rank FROM rebound_return_orders').all() as { id: string; status_rank: number }[]) {
      const before = forwardOnly.orders.get(o.id) ?? -1;
      if (o.status_rank < before) violations.push(`MOVED BACK: return order ${o.id} went from status rank ${before} to ${o.status_rank}`);
      forwardOnly.orders.set(o.id, Math.max(before, o.status_rank));
    }
    const confirmed = new Set((db.prepare(`SELECT id FROM intents WHERE state = 'confirmed'`).all() as { id: number }[]).map((r) => r.id));
    for (const id of forwardOnly.confirmed) if (!confirmed.has(id)) violations.push(`MOVED BACK: intent ${id} was confirmed and no longer is`);
    for (const id of confirmed) forwardOnly.confirmed.add(id);
  }

  function checkIntegrity(db: Database, when: string): void {
    const result = db.pragma('integrity_check', { simple: true });
    if (result !== 'ok') violations.push(`INTEGRITY: ${when}: ${String(result)}`);
  }

  async function restartA(): Promise<void> {
    if (procs.a && !procs.a.isDead) return;
    try {
      procs.a = await open('A');
      // The engine learns of a restore when it starts on the database put back: refunds made before then, the others'
      // too, cannot be told from its earlier copy's (refunds.ts detectForeignWrites).
      if (isRestoredNotStarted) {
        lastRestoreAt = worldClock.now();
        isRestoredNotStarted = false;
        for (const r of restores) if (r.startedAt === null) r.startedAt = lastRestoreAt;
      }
      checkIntegrity(procs.a.db, 'after a restart');
      if (starts > 1) bump('restarts');
    } catch (error) {
      procs.a = null;
      bump('failedStarts');
      trace(`${new Date(worldClock.now()).toISOString()} A could not start: ${(error as Error).message}`);
    }
  }

  let skewStepsLeft = 0;
  let diskFullStepsLeft = 0;
  /** A backup taken by a restoreBackup fault, put back over the live database once its steps have passed. */
  let pendingRestore: { path: string; stepsLeft: number; backupAt: number } | null = null;
  /** Each restore: when its backup was taken, and when an engine started on the database put back (null: not yet). */
  const restores: { backupAt: number; startedAt: number | null }[] = [];
  /** When an engine last started on a database put back from a backup (sandbox time); null: never. */
  let lastRestoreAt: number | null = null;
  /** A database was put back and no engine has started on it yet. */
  let isRestoredNotStarted = false;
  /**
   * restoreBackup: a backup of A's database now (VACUUM INTO, as a backup tool would copy it); `amount` steps later A is
   * stopped, the backup put back over its database (the -wal and -shm removed, as a restored file has none) and A
   * started again on it. The folder's engine-lease.json stays: the restored database is behind it.
   */
  function restoreFault(): void {
    if (pendingRestore) {
      if (--pendingRestore.stepsLeft > 0) return;
      const { path, backupAt } = pendingRestore;
      pendingRestore = null;
      restores.push({ backupAt, startedAt: null });
      kill('A', 'to restore its database from a backup');
      const file = join(dataDir, databaseFileName);
      for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
      copyFileSync(path, file);
      // The database is back at the backup on purpose: what it had moved forward since, and the notifications it had
      // stored since, are gone from it by design (the quarantine reads them again); forward-only is watched afresh.
      forwardOnly.units.clear();
      forwardOnly.orders.clear();
      forwardOnly.confirmed.clear();
      notifications.acknowledged.clear();
      // So are the refusals of status pushes it had recorded: a push it still has to make is refused and raised again.
      pushRejectionsSeen.splice(0);
      isRestoredNotStarted = true;
      bump('restoredFromBackup');
      trace(`${new Date(worldClock.now()).toISOString()} A's database put back from the backup`);
      return;
    }
    const a = procs.a;
    if (!a || a.isDead) return;
    const fault = take('restoreBackup', 'between cycles');
    if (!fault) return;
    const path = join(temp.dir, `backup-${fault.id}.sqlite`);
    try {
      a.store.db.prepare('VACUUM INTO ?').run(path);
    } catch (error) {
      // A full disk or an I/O error of another fault: no backup this time.
      trace(`  backup failed: ${(error as Error).message}`);
      return;
    }
    pendingRestore = { path, stepsLeft: fault.amount, backupAt: worldClock.now() };
    trace(`  A's database backed up; put back in ${fault.amount} step(s)`);
  }
  /**
   * secondEngineOwnDb: a colleague's installation (C) with Live credentials and a database of its own starts on a fresh
   * data folder, syncs the shop for `amount` steps (its cycle just before or just after A's in each), then its owner
   * closes the laptop. Nothing tells it about A, nor A about it, but what each reads in Mirakl.
   */
  function startSecondEngine(): void {
    if (colleague.open) return;
    const fault = take('secondEngineOwnDb', 'between cycles');
    if (!fault) return;
    const engine = openSecondEngine({
      dataDir: join(temp.dir, `colleague-${fault.id}`),
      sandbox,
      clock: worldClock,
      random: chaos.fork(`colleague-engine:${fault.id}`),
      calls,
      writes: secondWrites,
      name: 'C',
    });
    colleague.open = { engine, stepsLeft: fault.amount, isBeforeA: fault.variant === 'beforeA', rng: chaos.fork(`colleague:${fault.id}`) };
    bump('secondEnginesStarted');
    trace(`${new Date(worldClock.now()).toISOString()} a second installation (C) with its own database starts syncing the shop for ${fault.amount} step(s), ${fault.variant}`);
  }
  /**
   * Runs C's cycle, some minutes apart from A's (after it, or before it): the two share the shop's API rate limits
   * (RT11 allows one first page per 5 minutes), and two laptops never sync at the same second.
   */
  async function runSecondEngine(): Promise<void> {
    const current = colleague.open;
    if (!current) return;
    const apart = () => {
      worldClock.advance(current.rng.int(5, 15) * minute);
      sandbox.advance();
    };
    if (!current.isBeforeA) apart();
    bump('secondEngineCycles');
    try {
      await current.engine.runCycle();
    } catch (error) {
      violations.push(`ENGINE ERROR: a cycle of the second installation (C) threw ${(error as Error).message}`);
      current.stepsLeft = 0;
    }
    if (current.isBeforeA) apart();
    if (--current.stepsLeft <= 0) stopSecondEngine('its owner closed the laptop');
  }
  function stopSecondEngine(why: string): void {
    if (!colleague.open) return;
    closeStore(colleague.open.engine.store);
    colleague.open = null;
    trace(`${new Date(worldClock.now()).toISOString()} the second installation (C) stops: ${why}`);
  }
  function startDiskFull(fault: PlannedFault): void {
    disk.setFull(true);
    diskFullStepsLeft = fault.amount;
  }
  function armIoError(fault: PlannedFault): void {
    disk.armIoError(fault.amount, (sql) => trace(`  I/O error on ${sql.replace(/\s+/g, ' ').slice(0, 80)}`));
  }
  /**
   * Someone refunds a return line in Mirakl's back office, outside the app: what is left of it (on top of ours), only
   * its shipping, or part of what is left. Lines Mirakl will not refund (closed, already refunded) are passed over.
   */
  function backOfficeRefund(fault: PlannedFault): boolean {
    const lines = sandbox.truth().mirakl.returns.flatMap((r) => r.lines.map((l) => l.orderLineId));
    const refunded = new Set(Object.keys(sandbox.truth().mirakl.refundsByLine));
    // Half the time a line we already refunded, when there is one: the back office paying it again.
    const preferred = chaos.chance(0.5) ? lines.filter((l) => refunded.has(l)) : [];
    const candidates = preferred.length ? preferred : lines;
    for (let tries = 0; tries < 5 && candidates.length; tries++) {
      const line = sandbox.world.findLine(chaos.pick(candidates))?.line;
      if (!line) continue;
      const leftAmount = line.priceMinor - line.refunds.reduce((s, r) => s + r.amountMinor, 0);
      const leftShipping = line.shippingMinor - line.refunds.reduce((s, r) => s + r.shippingMinor, 0);
      const amount = fault.variant === 'shipping' ? 0 : fault.variant === 'full' ? leftAmount : Math.floor((leftAmount * fault.amount) / 100);
      const shipping = fault.variant === 'partial' ? 0 : leftShipping;
      if (amount <= 0 && shipping <= 0) continue;
      try {
        const [made] = sandbox.world.refund([{ order_line_id: line.orderLineId, amount: amount / 100, shipping_amount: shipping / 100, reason_code: '11' }], 'TAX_INCLUDED');
        if (!made) continue;
        backOfficeRefunds.add(made.id);
        trace(`  back office refunded ${line.orderLineId}: ${amount} + shipping ${shipping} (refund ${made.id}, ${fault.variant})`);
        return true;
      } catch (error) {
        if (!(error instanceof MiraklRejection)) throw error;
      }
    }
    return false;
  }

  /**
   * Where ReBound can register a late unit: a unit the customer asked to return, missing when the parcel's contents were
   * registered, on a line whose refund for the units that did arrive the engine has already planned (or sent, or seen
   * confirmed), of a return it has not closed.
   */
  function lateUnitCandidates(): { returnId: string; lineId: string; ro: string; states: string[] }[] {
    const a = procs.a;
    if (!a || a.isDead) return [];
    const refunded = new Map<string, string[]>();
    for (const i of a.db.prepare(`SELECT subject, payload, state FROM intents WHERE kind = 'mirakl.refund' ORDER BY id`).all() as { subject: string; payload: string; state: string }[]) {
      const key = `${i.subject}|${(JSON.parse(i.payload) as { order_line_id: string }).order_line_id}`;
      refunded.set(key, [...(refunded.get(key) ?? []), i.state]);
    }
    const closing = new Set((a.db.prepare(`SELECT subject FROM intents WHERE kind = 'mirakl.close'`).all() as { subject: string }[]).map((r) => r.subject));
    const orders = a.db.prepare(`SELECT rebound_order_id AS id, return_id FROM rebound_return_orders ORDER BY rebound_order_id`).all() as { id: string; return_id: string }[];
    const ros = new Map(sandbox.rebound.sim.truth().returnOrders.map((ro) => [ro.reboundOrderId, ro]));
    const candidates: { returnId: string; lineId: string; ro: string; states: string[] }[] = [];
    for (const o of orders) {
      const ro = ros.get(o.id);
      if (!ro || closing.has(o.return_id) || ro.flow !== 'STANDARD' || !['ITEMS_REGISTERED', 'PROCESSED'].includes(ro.status)) continue;
      for (const lineId of [...new Set(ro.units.filter((u) => u.fate === 'notSent').map((u) => u.clientItemId))].sort()) {
        const states = refunded.get(`${o.return_id}|${lineId}`);
        if (states && ro.units.some((u) => u.clientItemId === lineId && u.isReceived)) candidates.push({ returnId: o.return_id, lineId, ro: o.id, states });
      }
    }
    return candidates;
  }

  /**
   * ReBound registers a late unit on one of the candidates (a lateUnit fault), once the step's time has passed, so its
   * notifications leave now and reach the engine before its next cycle (unless other faults hold them up). Lines are
   * looked for only while a lateUnit fault is armed, and the fault is taken only when one fits.
   */
  function lateUnitFault(): void {
    if (armed(plan, worldClock.now(), 'lateUnit').length === 0) return;
    const candidates = lateUnitCandidates();
    const fault = candidates.length ? take('lateUnit', 'the start of a step') : null;
    if (!fault) return;
    const c = chaos.pick(candidates);
    const result = sandbox.rebound.sim.simLateUnit(c.ro, { clientItemId: c.lineId, arrival: fault.variant });
    if (!result.ok) {
      violations.push(`HARNESS: ReBound refused a late unit on ${c.ro} (${c.lineId}): ${result.error.message}`);
      return;
    }
    bump(c.states.includes('confirmed') ? 'lateUnitsAfterRefundConfirmed' : 'lateUnitsWhileRefundPlanned');
    trace(`  ReBound registered a late unit of ${c.lineId} on ${c.ro} (return ${c.returnId}, ${fault.variant}); the line's refund intent(s): ${c.states.join(', ')}`);
  }

  function boundaryFaults(): void {
    const where = 'between cycles';
    const sleep = take('sleep', where);
    if (sleep) {
      worldClock.advance(sleep.amount);
      sandbox.advance();
    }
    const skew = take('clockSkew', where);
    if (skew) {
      skewMs = skew.amount;
      skewStepsLeft = Number(skew.variant);
    } else if (skewStepsLeft > 0 && --skewStepsLeft === 0) skewMs = 0;
    const full = take('diskFull', where, (f) => f.variant === 'between');
    if (full) startDiskFull(full);
    else if (diskFullStepsLeft > 0 && --diskFullStepsLeft === 0) disk.setFull(false);
    const io = take('ioError', where, (f) => f.variant === 'between');
    if (io) armIoError(io);
    restoreFault();
    const refund = take('backOfficeRefund', where);
    if (refund && !backOfficeRefund(refund)) rearm(refund);
    const edit = take('mappingEdit', where);
    if (edit) {
      const sold = [...new Set(sandbox.truth().mirakl.returns.flatMap((r) => r.lines.map((l) => sandbox.world.findLine(l.orderLineId)?.line.shopSku ?? '')))].filter(Boolean).sort();
      const outcome = mappingsDir.apply(edit.variant as MappingEdit, sold, (items) => chaos.pick(items));
      trace(`  mapping edit: ${outcome.applied}`);
      if (outcome.violation) violations.push(outcome.violation);
    }
  }

  function calm(): void {
    skewMs = 0;
    skewStepsLeft = 0;
    disk.setFull(false);
    diskFullStepsLeft = 0;
    sandbox.setFaults('mirakl', {});
    sandbox.setFaults('rebound', {});
    if (procs.b) {
      closeStore(procs.b.instance.store);
      releaseLock(procs.b.instance);
      procs.b = null;
    }
    stopSecondEngine('the faults stopped');
  }

  function fingerprint(db: Database): string {
    const parts = [
      `SELECT id, state, attempts FROM intents ORDER BY id`,
      `SELECT id, stage, grade FROM units ORDER BY id`,
      `SELECT unit_id, state FROM stock_increments ORDER BY unit_id`,
      `SELECT id, state FROM exceptions ORDER BY id`,
      `SELECT id, state FROM mirakl_returns ORDER BY id`,
      `SELECT id, refund_state FROM mirakl_refunds ORDER BY id`,
      `SELECT rebound_order_id, status FROM rebound_return_orders ORDER BY rebound_order_id`,
      `SELECT return_id, stage FROM return_intake ORDER BY return_id`,
      `SELECT count(*) FROM rebound_events`,
    ].map((sql) => JSON.stringify(db.prepare(sql).raw().all()));
    const truth = sandbox.truth();
    parts.push(
      JSON.stringify([
        Object.values(truth.mirakl.refundsByLine).flat().filter((r) => r.state !== 'REFUNDED').length,
        truth.mirakl.stockImports.filter((i) => i.status !== 'COMPLETE' && i.status !== 'FAILED').length,
        truth.rebound.notifications.filter((n) => n.outcome === 'pending').length,
        truth.rebound.returnOrders.map((ro) => ro.status),
      ]),
    );
    return createHash('sha256').update(parts.join('|')).digest('hex');
  }

  let cycles = 0;
  let result: RunResult | null = null;
  try {
    receiver = await startWebhookReceiver(
      new Proxy({} as EngineContext, {
        get: (_t, key) => {
          if (!procs.a || procs.a.isDead) throw new Error('the engine is not running');
          return procs.a.ctx[key as keyof EngineContext];
        },
      }),
      webhookSecret,
    );
    const subscriber = createReboundClient({
      baseUrl: sandbox.rebound.baseUrl,
      clientId: sandbox.rebound.clientId,
      clientSecret: async () => sandbox.rebound.clientSecret,
      clock: worldClock,
      http: fetchHttp,
      journal: memoryJournal(),
      budgets: createMemoryBudgetStore(),
    });
    await subscribeToNotifications((type, target) => subscriber.subscribeWebhook(type, target), receiver.url, webhookSecret);
    sandbox.setFaults('mirakl', { '*': backgroundFaults });
    sandbox.setFaults('rebound', { '*': backgroundFaults });
    await restartA();

    const faultsEnd = chaosStartMs + faultWindowMs;
    const stepRng = chaos.fork('steps');
    let isCalm = false;
    const quiet = { print: '', steps: 0 };
    let quietStartedAt = 0;
    for (;;) {
      const inFaults = worldClock.now() < faultsEnd;
      if (inFaults) boundaryFaults();
      else if (!isCalm) {
        calm();
        isCalm = true;
        quietStartedAt = worldClock.now();
      }
      worldClock.advance(inFaults ? stepRng.int(40, 160) * minute : quietStepMs);
      sandbox.advance();
      if (inFaults) lateUnitFault();
      await restartA();
      await notifications.deliver({ isReceiverUp: Boolean(procs.a && !procs.a.isDead), take });
      if (inFaults) startSecondEngine();
      if (colleague.open?.isBeforeA) await runSecondEngine();
      const current = procs.a;
      if (current) {
        cycles++;
        await runCycleOf(current);
        if (!current.isDead) observeForwardOnly(current.db);
        if (!current.isDead) acknowledgeForeignWrites(current);
      }
      if (colleague.open && !colleague.open.isBeforeA) await runSecondEngine();
      const second = procs.b;
      if (second) {
        await runCycleOf(second.instance);
        if (second.instance.isDead || --second.stepsLeft <= 0) {
          if (!second.instance.isDead) {
            closeStore(second.instance.store);
            releaseLock(second.instance);
          }
          procs.b = null;
        }
      }
      if (!isCalm) continue;
      const live = procs.a;
      if (!live || live.isDead) continue;
      const print = fingerprint(live.db);
      quiet.steps = quiet.print === print ? quiet.steps + 1 : 0;
      quiet.print = print;
      if (quiet.steps >= quietStepsNeeded) break;
      if (worldClock.now() - quietStartedAt > maxQuietMs) {
        violations.push(`NEVER QUIET: the engine kept changing state ${maxQuietMs / day} days after the faults stopped`);
        break;
      }
    }

    const final = procs.a;
    if (!final || final.isDead) throw new Error('the engine could not be started again after the faults stopped');
    options.beforeCheck?.({ sandbox, db: final.db });
    if (sent.B) violations.push(`SECOND ENGINE SENT: a second engine on ${dataDir} sent ${sent.B} call(s)`);
    const checked = checkQuietInvariants({
      sandbox,
      db: final.db,
      mappings: mappingsDir.current(),
      lostCalls,
      acknowledged: notifications.acknowledged,
      backOfficeRefunds,
      pushRejections: pushRejectionsSeen,
      lastRestoreAt,
      restores,
      secondEngine: secondWrites,
      calls,
    });
    violations.push(...checked.violations);
    Object.assign(stats, checked.stats);
    for (const reason of unhandled) violations.push(`UNHANDLED REJECTION: ${reason instanceof Error ? reason.message : String(reason)}`);
    options.inspect?.({ truth: sandbox.truth(), db: final.db });
    const tables = tableHashes(final.db, temp.dir);
    const fired: Partial<Record<FaultKind, number>> = {};
    for (const kind of faultKinds) {
      const n = plan.filter((f) => f.kind === kind && f.firedAt !== null).length;
      if (n) fired[kind] = n;
    }
    result = {
      seed,
      drawn: plan.length,
      fired,
      background: backgroundCounts(sandbox, fired),
      shapes: shapeCounts(sandbox),
      taxMode,
      cycles,
      restarts: stats.restarts ?? 0,
      simDays: Math.round((worldClock.now() - chaosStartMs) / day),
      violations: [...new Set(violations)],
      tables,
      hash: stateHash(tables, truthHash(sandbox)),
      stats: {
        ...stats,
        lostCalls: lostCalls.length,
        notificationsWithheld: notifications.withheld.size,
        failedWrites: disk.failedWrites,
        lateUnitsDrawn: plan.filter((f) => f.kind === 'lateUnit').length,
        secondEngineRefunds: secondWrites.refunds.size,
        secondEngineImports: secondWrites.imports.size,
      },
    };
  } finally {
    process.off('unhandledRejection', onUnhandled);
    notifications.refuseAll();
    await receiver?.close();
    disk.setFull(false);
    for (const instance of [procs.a, procs.b?.instance]) {
      if (instance && !instance.isDead) {
        closeStore(instance.store);
        releaseLock(instance);
      }
    }
    if (colleague.open) closeStore(colleague.open.engine.store);
    await Promise.all(releases.splice(0));
    await sandbox.close();
    temp.remove();
  }
  return result;
}

/** Store.close() runs PRAGMA optimize first, which fails on a full disk; the connection is closed regardless. */
function closeStore(store: Store): void {
  try {
    store.close();
  } catch {
    if (store.db.open) store.db.close();
  }
}

/** The sandbox's ground truth, less the receiver's address (a port the OS picks anew for every run). */
function truthHash(sandbox: Sandbox): string {
  const truth = sandbox.truth();
  const subscriptions = truth.rebound.subscriptions.map((s) => ({ ...s, url: new URL(s.url).pathname }));
  return createHash('sha256')
    .update(JSON.stringify({ ...truth, rebound: { ...truth.rebound, subscriptions } }))
    .digest('hex');
}

/** What the sandbox injected on its own: its fault counters less the planned faults it carried out for us. */
function backgroundCounts(sandbox: Sandbox, fired: Partial<Record<FaultKind, number>>): Record<string, number> {
  const planned: Record<string, number> = {
    reset: fired.connectionReset ?? 0,
    serverError: fired.serverError ?? 0,
    lostResponse: fired.lostResponse ?? 0,
    rateLimitStorm: fired.rateLimitStorm ?? 0,
    unknownEnum: fired.unknownEnum ?? 0,
    shapes: fired.shapes ?? 0,
  };
  const counts: Record<string, number> = {};
  for (const server of [sandbox.miraklServer, sandbox.reboundServer]) {
    for (const c of Object.values(server.counters)) {
      for (const [kind, n] of Object.entries(c.faults)) if (kind !== 'extraFields') counts[kind] = (counts[kind] ?? 0) + (n ?? 0);
    }
  }
  for (const [kind, n] of Object.entries(planned)) if (counts[kind] !== undefined) counts[kind] = Math.max(0, counts[kind] - n);
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
}

/** Records reshaped by the shapes fault on either server, by variant. */
function shapeCounts(sandbox: Sandbox): Partial<Record<ShapeVariant, number>> {
  const counts: Partial<Record<ShapeVariant, number>> = {};
  for (const server of [sandbox.miraklServer, sandbox.reboundServer]) {
    for (const c of Object.values(server.counters)) {
      for (const [variant, n] of Object.entries(c.shapes) as [ShapeVariant, number][]) counts[variant] = (counts[variant] ?? 0) + n;
    }
  }
  return counts;
}

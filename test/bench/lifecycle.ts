// Benchmark: the real sync engine taking returns through their whole life against the sandbox (no faults, no
// injected latency), on sandbox time, with ReBound notifications on (as Sandbox mode runs). The sandbox runs on a
// stepped clock outside the engine — in a child process (sandbox-process.ts), or for the CPU figure on a thread whose
// own CPU is taken out (sandbox-thread.ts) — so what this process is charged is the engine's. Three runs:
//   - backlog: N returns already waiting in Mirakl when the engine starts, every physical and payment delay
//     compressed to nothing, so only the engine and the call budgets decide how fast they go from requested through
//     received, refunded and restocked to closed. The engine talks to the sandbox over loopback HTTP, as in the app.
//     Gives the drain time next to the floor the budgets allow (baselines.ts derives it per operation), Mirakl calls
//     per return next to that floor and to a naive client, wall-clock time per return, and the engine's peak RSS.
//   - cpu: the same backlog over the in-process transport: the sandbox on a thread of this process, each request
//     handed to its pipeline through a shared buffer (no socket, no HTTP), for the engine's CPU per return lifecycle:
//     this process's CPU less the sandbox thread's own (sandbox-thread.ts).
//   - steady: a flow of returns with short but real physical delays, to time ReBound's receipt (ITEMS_REGISTERED in
//     ReBound's history) to Mirakl's RECEIVED (Mirakl's history), both on the sandbox clock, and to count calls per
//     day and per return next to their floor.
// Time moves in steps of at most 10 sandbox seconds, landing exactly on the next ReBound event (a parcel moves, a
// notification is due) and the next feed due, so a latency under a minute can show. Not a unit test:
// `npx tsx test/bench/lifecycle.ts [--backlog 10000] [--quick] [--transport loopback|in-process]` (in-process wants
// `node --single-threaded --import tsx`); test/bench/all.ts runs the three as parts.

import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createFakeClock, type FakeClock } from '../../core/adapters/fake-clock';
import { loadMappings, shippedMappingsDir } from '../../core/mappings/load';
import { defaultScenario, type Scenario } from '../../core/sandbox/index';
import { defaultMiraklBudgets } from '../../core/sandbox/mirakl/server';
import { defaultReboundBudgets, REBOUND_CLIENT_BUDGET } from '../../core/sandbox/rebound/index';
import { createRng } from '../../core/sandbox/rng';
import { feeds } from '../../core/sync/engine';
import type { WebhookReceiver } from '../../core/sync/webhook-receiver';
import { buildEngine, startSubscribedReceiver, type EngineParts } from '../support/engine-harness';
import { makeTempDir } from '../support/temp-dir';
import {
  backlogFloor,
  naiveMiraklCalls,
  percentile,
  steadyFloor,
  type BacklogFloor,
  type BacklogWork,
  type MiraklActions,
  type SteadyEvents,
  type SteadyFloor,
} from './baselines';
import { startSandboxProcess, type SandboxHost, type Transport } from './sandbox-process';
import { startSandboxThread } from './sandbox-thread';

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;

/** The longest step of sandbox time between two engine cycles. */
export const maxStepMs = 10 * second;
/** A backlog not drained in this many times its OR11 floor is called not drained (the target is 1.1×). */
export const capFloorMultiple = 4;
const miraklWrites = new Set(['RT21', 'RT04', 'RT25', 'RT26', 'RT27', 'OR28', 'STO01']);
const floorBudgets = { mirakl: defaultMiraklBudgets, rebound: defaultReboundBudgets()[REBOUND_CLIENT_BUDGET] ?? { kind: 'window', max: 300, windowMs: minute } } as const;

type Log = (line: string) => void;

// --- The engine against a sandbox process ---------------------------------------------------------------------

interface BenchRig {
  clock: FakeClock;
  sandbox: SandboxHost;
  parts: EngineParts;
  /** Moves time to the next step (≤ maxStepMs, or sooner to the next ReBound event or feed due), runs a cycle. */
  step(): Promise<void>;
  /** CPU (µs) this process spent choosing steps: the bench's, not the engine's. */
  readonly stepBookkeepingUs: number;
  /** Control calls made to the sandbox (one /_sim/clock per step). */
  readonly controlCalls: number;
  close(): Promise<void>;
}

async function startRig(options: { seed: number; scenario: Partial<Scenario>; transport: Transport; dataDir: string; stepMs?: number }): Promise<BenchRig> {
  const stepMs = options.stepMs ?? maxStepMs;
  const startMs = (options.scenario.startMs ?? defaultScenario.startMs) + minute;
  const sandbox =
    options.transport === 'loopback'
      ? await startSandboxProcess({ seed: options.seed, scenario: options.scenario })
      : await startSandboxThread({ seed: options.seed, scenario: options.scenario });
  const clock = createFakeClock(startMs);
  let nextEventAt = (await sandbox.moveTo(startMs)).nextEventAt;
  let receiver: WebhookReceiver | null = null;
  try {
    const mappings = loadMappings(shippedMappingsDir);
    const random = createRng(options.seed).fork('engine');
    const secret = `whsec-${options.seed}`;
    // The receiver is started first (the engine subscribes to it), so it records into the engine built after it.
    let parts: EngineParts | null = null;
    receiver = await startSubscribedReceiver({
      current: () => {
        if (!parts) throw new Error('a notification arrived before the engine was built');
        return parts.ctx;
      },
      secret,
      clock,
      http: sandbox.http,
      targets: sandbox.targets,
    });
    const built = buildEngine({ dataDir: options.dataDir, clock, http: sandbox.http, targets: sandbox.targets, random, mappings, webhook: { url: receiver.url, secret } });
    parts = built;
    let stepBookkeepingUs = 0;
    let controlCalls = 1;
    return {
      clock,
      sandbox,
      parts: built,
      async step() {
        const cpu0 = process.cpuUsage();
        const now = clock.now();
        let next = now + stepMs;
        if (nextEventAt !== null && nextEventAt > now && nextEventAt < next) next = nextEventAt;
        for (const f of feeds) {
          const due = built.ctx.feeds.schedule(f.feed).nextRunAt;
          const at = due ? Date.parse(due) : Number.NaN;
          if (at > now && at < next) next = at;
        }
        const used = process.cpuUsage(cpu0);
        stepBookkeepingUs += used.user + used.system;
        clock.set(next);
        const moved = await sandbox.moveTo(next);
        controlCalls++;
        if (moved.now !== next) throw new Error(`the sandbox is at ${moved.now}, the engine at ${next}`);
        nextEventAt = moved.nextEventAt;
        await built.engine.runCycle();
      },
      get stepBookkeepingUs() {
        return stepBookkeepingUs;
      },
      get controlCalls() {
        return controlCalls;
      },
      async close() {
        await receiver?.close();
        built.store.close();
        await sandbox.close();
      },
    };
  } catch (error) {
    await receiver?.close();
    await sandbox.close();
    throw error;
  }
}

/**
 * The CPU (µs) this process's own side spends on one round trip to the sandbox (`call`), the sandbox's side taken out
 * when it runs in this process.
 */
async function roundTripCpuUs(sandbox: SandboxHost, call: () => Promise<unknown>, rounds = 500): Promise<number> {
  for (let i = 0; i < 50; i++) await call();
  const sandbox0 = sandbox.isSameProcess ? await sandbox.sandboxCpuMs() : 0;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < rounds; i++) await call();
  const used = process.cpuUsage(cpu0);
  const sandboxMs = sandbox.isSameProcess ? (await sandbox.sandboxCpuMs()) - sandbox0 : 0;
  return Math.max(0, used.user + used.system - sandboxMs * 1000) / rounds;
}

// --- Backlog ------------------------------------------------------------------------------------------------

/**
 * Orders placed on one day, 7 days before the engine starts, each with one return requested the same day: all are
 * waiting when the engine first looks. No anomaly (every return can close), parcels arrive, are registered and
 * graded the moment ReBound creates them, refunds settle at once.
 */
export function backlogScenario(seed: number, returns: number): Partial<Scenario> {
  const historyDays = 7;
  return {
    historyDays,
    ordersUntilMs: defaultScenario.startMs - (historyDays - 1) * day,
    ordersPerDay: ordersPerDayFor(seed, returns, historyDays),
    returnRate: 1,
    returnAfterDays: [0, 0],
    orderVisibleLateRate: 0,
    unmappedReasonRate: 0,
    parcelNeverSentRate: 0,
    shortReceiptRate: 0,
    unexpectedItemRate: 0,
    wrongSkuRate: 0,
    hoursToNetwork: [0, 0],
    hoursToHub: [0, 0],
    hoursToRegistered: [0, 0],
    hoursToProcessed: [0, 0],
    refundSettleMinutes: [0, 0],
    stockImportSeconds: [5, 5],
  };
}

/**
 * The world draws each day's order count as ordersPerDay × (0.9 to 1.1) from the day's own stream; this reads that
 * draw (as the world does: seed → 'mirakl' → 'day:N') so the one day of orders comes to exactly `returns`. Should the
 * world draw differently one day, the backlog is only a few percent off, and the figures print its real size.
 */
function ordersPerDayFor(seed: number, returns: number, historyDays: number): number {
  const dayIndex = Math.floor(defaultScenario.startMs / day) - historyDays;
  const factor = 0.9 + createRng(seed).fork('mirakl').fork(`day:${dayIndex}`).float() * 0.2;
  const guess = Math.round(returns / factor);
  for (const candidate of [guess, guess - 1, guess + 1, guess - 2, guess + 2]) if (Math.round(candidate * factor) === returns) return candidate;
  return guess;
}

export interface BacklogFigures {
  transport: Transport;
  returns: number;
  closed: number;
  isDrained: boolean;
  /** Sandbox time from the first cycle until every return was closed and every restock applied (or the cap). */
  simMs: number;
  wallMs: number;
  /** This process's CPU over the run: the engine, its notification receiver, the transport, the bench's share, and the sandbox thread's (in-process). */
  processCpuMs: number;
  /** The sandbox thread's CPU over the run, when it runs in this process (else 0: it is another process's). */
  sandboxCpuMs: number;
  /** The bench's share, taken out: choosing steps, checking progress, and its control calls to the sandbox. */
  benchCpuMs: number;
  /**
   * processCpuMs − sandboxCpuMs − benchCpuMs, less (in-process only) the transport's fixed cost per request
   * (transportCpuMs): what the engine itself spent. Over loopback, HTTP is the engine's own cost, as in the app.
   */
  engineCpuMs: number;
  /** In-process only: engineApiCalls × apiRoundTripUs, the shared-buffer handoff the app never pays. */
  transportCpuMs: number;
  /** Whether V8 ran without helper threads (--single-threaded), so that GC is charged to the thread it collects for. */
  isSingleThreaded: boolean;
  /** This process's CPU for one request on the engine's transport (calibrated on /_sim/clock reads), µs. */
  apiRoundTripUs: number;
  /** The same for one control call (IPC to a sandbox process, a message to a sandbox thread), µs: taken out per step. */
  controlRoundTripUs: number;
  /** Sandbox time the run was allowed before it was called not drained. */
  capMs: number;
  /** The engine's API calls. */
  engineApiCalls: number;
  /** Peak RSS of this process when the backlog drained (before the bench read any ground truth). */
  maxRssKb: number;
  sandboxProcess: { maxRssKb: number; cpuMs: number };
  cycles: number;
  miraklCalls: Record<string, number>;
  reboundCalls: Record<string, number>;
  miraklTotal: number;
  miraklWrites: number;
  reboundTotal: number;
  actions: MiraklActions;
  naiveCalls: number;
  work: BacklogWork;
  floor: BacklogFloor;
  exceptions: Record<string, number>;
  /** Per intent kind: sandbox minutes from the start until half, and all, of them were confirmed (where time went). */
  stages: Record<string, { halfMin: number; allMin: number; count: number }>;
}

/** What a perfect client must do for these returns, from the sandbox's ground truth. */
export function backlogWork(returns: { orderId: string; lines: { orderLineId: string }[]; history: string[] }[]): BacklogWork {
  return {
    orders: new Set(returns.map((r) => r.orderId)).size,
    returns: returns.length,
    toAccept: returns.filter((r) => (r.history[0] ?? '').includes('>WAITING_ACCEPTANCE ')).length,
    refundLines: new Set(returns.flatMap((r) => r.lines.map((l) => l.orderLineId))).size,
  };
}

export async function runBacklog(options: {
  returns: number;
  transport?: Transport;
  seed?: number;
  maxSimHours?: number;
  /** Longest step (ms); the default is maxStepMs. Only to compare with the old 60-s steps. */
  stepMs?: number;
  log?: Log;
}): Promise<BacklogFigures> {
  const seed = options.seed ?? 7;
  const transport = options.transport ?? 'loopback';
  const log = options.log ?? ((line: string) => console.log(line));
  const temp = makeTempDir('rw-bench-backlog-');
  const rig = await startRig({
    seed,
    scenario: backlogScenario(seed, options.returns),
    transport,
    dataDir: temp.dir,
    ...(options.stepMs !== undefined ? { stepMs: options.stepMs } : {}),
  });
  try {
    const worldReturns = (await rig.sandbox.summary()).returns;
    // Unless told: 4× the OR11 floor (2 reads per order, 100 a call, one a minute), at least 6 hours.
    const maxSimMs = options.maxSimHours !== undefined ? options.maxSimHours * hour : Math.max(6 * hour, capFloorMultiple * 2 * Math.ceil(worldReturns / 100) * minute);
    const controlUs = await roundTripCpuUs(rig.sandbox, () => rig.sandbox.ping(), 1000);
    const clockUrl = `${rig.sandbox.targets.mirakl.baseUrl}/_sim/clock`;
    const apiUs = await roundTripCpuUs(rig.sandbox, () => rig.sandbox.http({ method: 'GET', url: clockUrl }), 2000);
    // In-process, V8's helper threads (concurrent GC, compilers) serve the engine's and the sandbox's heaps alike;
    // without them each thread's CPU is its own (all.ts starts the cpu part so).
    const isSingleThreaded = process.execArgv.includes('--single-threaded');
    if (transport === 'in-process' && !isSingleThreaded) log(`  NOTE: not started with node --single-threaded: the sandbox's GC on V8's helper threads counts as the engine's`);
    log(
      `backlog over ${transport === 'loopback' ? 'loopback HTTP, the sandbox in its own process' : 'the in-process transport, the sandbox on a thread'}: ` +
        `${worldReturns.toLocaleString('en-GB')} returns waiting in Mirakl; steps of ≤ ${(options.stepMs ?? maxStepMs) / second} sandbox s, for at most ` +
        `${(maxSimMs / hour).toFixed(1)} h; a request costs this process ${apiUs.toFixed(0)} µs of CPU on this transport, a control call ${controlUs.toFixed(0)} µs`,
    );
    const db = rig.parts.store.db;
    // Cheap enough to ask after every cycle (the drain time is exact to the cycle): two look-ups on indexes.
    const known = db.prepare('SELECT count(*) AS n FROM return_intake');
    const unfinished = db.prepare(`SELECT EXISTS (SELECT 1 FROM return_intake WHERE stage NOT IN ('done', 'skipped'))
      OR EXISTS (SELECT 1 FROM stock_increments WHERE state IN ('pending', 'importing')) AS busy`);
    const progress = db.prepare(`SELECT (SELECT count(*) FROM return_intake WHERE stage = 'done') AS closed,
      (SELECT count(*) FROM return_intake WHERE stage NOT IN ('done', 'skipped')) AS open`);
    const simStart = rig.clock.now();
    const controlCalls0 = rig.controlCalls;
    const bookkeeping0 = rig.stepBookkeepingUs;
    let progressUs = 0;
    const sandboxCpu0 = rig.sandbox.isSameProcess ? await rig.sandbox.sandboxCpuMs() : 0;
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    let cycles = 0;
    let isKnown = false;
    let isDrained = false;
    let nextLogAt = simStart + hour;
    while (rig.clock.now() - simStart < maxSimMs) {
      await rig.step();
      cycles++;
      const p0 = process.cpuUsage();
      isKnown ||= (known.get() as { n: number }).n >= worldReturns;
      isDrained = isKnown && (unfinished.get() as { busy: number }).busy === 0;
      const isLogDue = rig.clock.now() >= nextLogAt;
      const now = isLogDue ? (progress.get() as { closed: number; open: number }) : null;
      const p = process.cpuUsage(p0);
      progressUs += p.user + p.system;
      if (isDrained) break;
      if (now) {
        nextLogAt += hour;
        log(
          `  ${Math.round((rig.clock.now() - simStart) / hour)} h of sandbox time: ${now.closed.toLocaleString('en-GB')} closed, ` +
            `${now.open.toLocaleString('en-GB')} open (${((performance.now() - wall0) / 1000).toFixed(0)} s, ${cycles} cycles)`,
        );
      }
    }
    const wallMs = performance.now() - wall0;
    const used = process.cpuUsage(cpu0);
    const maxRssKb = process.resourceUsage().maxRSS;
    const sandboxCpuMs = rig.sandbox.isSameProcess ? (await rig.sandbox.sandboxCpuMs()) - sandboxCpu0 : 0;
    const simMs = rig.clock.now() - simStart;
    const processCpuMs = (used.user + used.system) / 1000;
    const benchCpuMs = (rig.stepBookkeepingUs - bookkeeping0 + progressUs + (rig.controlCalls - controlCalls0) * controlUs) / 1000;
    const closed = (progress.get() as { closed: number }).closed;
    const apiCalls = (db.prepare('SELECT count(*) AS n FROM request_journal').get() as { n: number }).n;
    const transportCpuMs = transport === 'in-process' ? (apiCalls * apiUs) / 1000 : 0;

    const calls = db.prepare('SELECT system, operation, count(*) AS n FROM request_journal GROUP BY system, operation').all() as { system: string; operation: string; n: number }[];
    const miraklCalls = Object.fromEntries(calls.filter((c) => c.system === 'mirakl').map((c) => [c.operation, c.n]));
    const reboundCalls = Object.fromEntries(calls.filter((c) => c.system === 'rebound').map((c) => [c.operation, c.n]));
    const confirmed = (kind: string) => (db.prepare(`SELECT count(*) AS n FROM intents WHERE kind = ? AND state = 'confirmed'`).get(kind) as { n: number }).n;
    const actions: MiraklActions = {
      accepts: confirmed('mirakl.accept'),
      labelPushes: confirmed('mirakl.patch'),
      receipts: confirmed('mirakl.receive'),
      compliance: confirmed('mirakl.compliance'),
      closes: confirmed('mirakl.close'),
      refunds: confirmed('mirakl.refund'),
      stockUpdates: (
        db
          .prepare(`SELECT count(*) AS n FROM (SELECT DISTINCT u.return_id, s.offer_sku FROM stock_increments s JOIN units u ON u.id = s.unit_id WHERE s.state = 'applied')`)
          .get() as { n: number }
      ).n,
    };
    const exceptions = Object.fromEntries(
      (db.prepare('SELECT type, count(*) AS n FROM exceptions GROUP BY type').all() as { type: string; n: number }[]).map((r) => [r.type, r.n]),
    );
    const stages: BacklogFigures['stages'] = {};
    const confirmations = db.prepare(`SELECT kind, updated_at AS at FROM intents WHERE state = 'confirmed' ORDER BY kind, updated_at`).all() as { kind: string; at: string }[];
    for (const kind of new Set(confirmations.map((c) => c.kind))) {
      const times = confirmations.filter((c) => c.kind === kind).map((c) => (Date.parse(c.at) - simStart) / minute);
      stages[kind] = { halfMin: times[Math.floor((times.length - 1) / 2)] ?? 0, allMin: times[times.length - 1] ?? 0, count: times.length };
    }
    const work = backlogWork((await rig.sandbox.miraklTruth()).returns);
    const floor = backlogFloor(work, floorBudgets);
    const sum = (x: Record<string, number>) => Object.values(x).reduce((s, n) => s + n, 0);
    const figures: BacklogFigures = {
      transport,
      returns: worldReturns,
      closed,
      isDrained,
      simMs,
      wallMs,
      processCpuMs,
      benchCpuMs,
      sandboxCpuMs,
      engineCpuMs: processCpuMs - sandboxCpuMs - benchCpuMs - transportCpuMs,
      transportCpuMs,
      isSingleThreaded,
      apiRoundTripUs: apiUs,
      controlRoundTripUs: controlUs,
      capMs: maxSimMs,
      engineApiCalls: sum(miraklCalls) + sum(reboundCalls),
      maxRssKb,
      sandboxProcess: await rig.sandbox.processStats(),
      cycles,
      miraklCalls,
      reboundCalls,
      miraklTotal: sum(miraklCalls),
      miraklWrites: Object.entries(miraklCalls).reduce((s, [op, n]) => s + (miraklWrites.has(op) ? n : 0), 0),
      reboundTotal: sum(reboundCalls),
      actions,
      naiveCalls: naiveMiraklCalls(actions),
      work,
      floor,
      exceptions,
      stages,
    };
    const per = Math.max(1, figures.closed);
    log(
      `backlog ${isDrained ? 'drained' : `NOT drained (cap ${(maxSimMs / hour).toFixed(1)} h)`}: ${closed.toLocaleString('en-GB')} of ${worldReturns.toLocaleString('en-GB')} closed in ` +
        `${(simMs / minute).toFixed(1)} sandbox min (floor ${(floor.ms / minute).toFixed(0)}), ${cycles} cycles, ${(wallMs / 1000).toFixed(1)} s wall; ` +
        `engine CPU ${(figures.engineCpuMs / 1000).toFixed(1)} s = ${(figures.engineCpuMs / per).toFixed(2)} ms a return (bench's share ${(benchCpuMs / 1000).toFixed(1)} s taken out); ` +
        `peak RSS ${(maxRssKb / 1024).toFixed(0)} MB (sandbox process ${(figures.sandboxProcess.maxRssKb / 1024).toFixed(0)} MB)`,
    );
    log(`  Mirakl calls: ${Object.entries(miraklCalls).map(([op, n]) => `${op} ${n}`).join(', ')}`);
    log(`  ReBound calls: ${Object.entries(reboundCalls).map(([op, n]) => `${op} ${n}`).join(', ')}`);
    log(`  confirmed by sandbox minute (half / all): ${Object.entries(stages).map(([k, v]) => `${k} ${v.halfMin.toFixed(0)}/${v.allMin.toFixed(0)}`).join(', ')}`);
    log(`  actions: ${Object.entries(actions).map(([k, n]) => `${k} ${n}`).join(', ')}; exceptions raised: ${JSON.stringify(exceptions)}`);
    return figures;
  } finally {
    await rig.close();
    temp.remove();
  }
}

// --- Steady flow: receipt → RECEIVED, calls per day ---------------------------------------------------------

/** A steady flow of returns with parcels that take hours rather than days; default anomalies and notification quirks. */
export function steadyScenario(ordersPerDay: number): Partial<Scenario> {
  return {
    historyDays: 4,
    ordersPerDay,
    returnRate: 0.25,
    returnAfterDays: [0, 1],
    hoursToNetwork: [0.5, 3],
    hoursToHub: [1, 6],
    hoursToRegistered: [0.5, 2],
    hoursToProcessed: [0.5, 4],
  };
}

export interface LatencyFigures {
  /** Receipts in the measured window. */
  samples: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** Receipts in the window whose return was still not RECEIVED in Mirakl at the end (counted as never). */
  pending: number;
  windowHours: number;
  cycles: number;
  /** Calls the engine made in the window, per API. */
  calls: { mirakl: number; rebound: number; miraklByOperation: Record<string, number>; reboundByOperation: Record<string, number> };
  /** Returns requested in Mirakl in the window (the per-return denominator). */
  returns: number;
  floor: SteadyFloor;
}

type MiraklTruth = Awaited<ReturnType<SandboxHost['miraklTruth']>>;
type ReboundTruth = Awaited<ReturnType<SandboxHost['reboundTruth']>>;

/** The window's events a perfect client acts on, from the sandbox's ground truth. */
export function steadyEvents(mirakl: MiraklTruth, rebound: ReboundTruth, from: number, to: number, sellableGrades: readonly string[]): SteadyEvents {
  const inWindow = (at: number) => at >= from && at < to;
  const events: SteadyEvents = { from, to, returns: [], registered: [], processed: [], restocked: [] };
  for (const r of mirakl.returns) {
    const at = Date.parse(r.createdAt);
    if (inWindow(at)) events.returns.push({ at, orderId: r.orderId, isWaitingAcceptance: (r.history[0] ?? '').includes('>WAITING_ACCEPTANCE '), lines: r.lines.length });
  }
  for (const ro of rebound.returnOrders) {
    const registered = receiptAt(ro);
    if (registered !== null && inWindow(registered)) events.registered.push(registered);
    const processed = ro.statusHistory.find((s) => s.status === 'PROCESSED');
    const processedAt = processed ? Date.parse(processed.at) : Number.NaN;
    if (!inWindow(processedAt)) continue;
    events.processed.push(processedAt);
    if (ro.units.some((u) => u.isReceived && sellableGrades.includes(u.grade))) events.restocked.push(processedAt);
  }
  return events;
}

/** When ReBound registered a unit of the return at its hub (a receipt that can make the return RECEIVED), or null. */
function receiptAt(ro: ReboundTruth['returnOrders'][number]): number | null {
  // Only receipts with a unit of the return in them: an empty or all-wrong parcel never makes the return RECEIVED.
  if (!ro.units.some((u) => u.isReceived && u.fate === 'announced')) return null;
  const registered = ro.statusHistory.find((s) => s.status === 'ITEMS_REGISTERED' || s.status === 'PROCESSED');
  return registered ? Date.parse(registered.at) : null;
}

export async function runLatency(options: {
  ordersPerDay: number;
  warmupHours: number;
  windowHours: number;
  tailHours: number;
  seed?: number;
  log?: Log;
}): Promise<LatencyFigures> {
  const seed = options.seed ?? 11;
  const log = options.log ?? ((line: string) => console.log(line));
  const temp = makeTempDir('rw-bench-latency-');
  const rig = await startRig({ seed, scenario: steadyScenario(options.ordersPerDay), transport: 'loopback', dataDir: temp.dir });
  try {
    const start = rig.clock.now();
    const from = start + options.warmupHours * hour;
    const to = from + options.windowHours * hour;
    const end = to + options.tailHours * hour;
    const wall0 = performance.now();
    let cycles = 0;
    while (rig.clock.now() < end) {
      await rig.step();
      cycles++;
    }
    const [mirakl, rebound] = [await rig.sandbox.miraklTruth(), await rig.sandbox.reboundTruth()];
    const db = rig.parts.store.db;
    const returnOf = new Map(
      (db.prepare('SELECT rebound_order_id, return_id FROM rebound_return_orders').all() as { rebound_order_id: string; return_id: string }[]).map((r) => [
        r.rebound_order_id,
        r.return_id,
      ]),
    );
    const receivedAt = new Map<string, number>();
    for (const r of mirakl.returns) {
      const entry = r.history.find((e) => e.includes('>RECEIVED '));
      if (entry) receivedAt.set(r.id, Date.parse(entry.split(' ')[0] ?? ''));
    }
    const latencies: number[] = [];
    for (const ro of rebound.returnOrders) {
      const at = receiptAt(ro);
      if (at === null || !(at >= from && at < to)) continue;
      const returnId = returnOf.get(ro.reboundOrderId);
      const received = returnId === undefined ? undefined : receivedAt.get(returnId);
      latencies.push(received === undefined ? Number.POSITIVE_INFINITY : Math.max(0, received - at));
    }
    const window = db
      .prepare('SELECT system, operation, count(*) AS n FROM request_journal WHERE at >= ? AND at < ? GROUP BY system, operation')
      .all(new Date(from).toISOString(), new Date(to).toISOString()) as { system: string; operation: string; n: number }[];
    const byOp = (system: string) => Object.fromEntries(window.filter((c) => c.system === system).map((c) => [c.operation, c.n]));
    const events = steadyEvents(mirakl, rebound, from, to, loadMappings(shippedMappingsDir).policy.stock.sellableGrades);
    const floor = steadyFloor(events);
    const figures: LatencyFigures = {
      samples: latencies.length,
      p50Ms: percentile(latencies, 50),
      p95Ms: percentile(latencies, 95),
      maxMs: percentile(latencies, 100),
      pending: latencies.filter((l) => !Number.isFinite(l)).length,
      windowHours: options.windowHours,
      cycles,
      calls: {
        mirakl: window.filter((c) => c.system === 'mirakl').reduce((s, c) => s + c.n, 0),
        rebound: window.filter((c) => c.system === 'rebound').reduce((s, c) => s + c.n, 0),
        miraklByOperation: byOp('mirakl'),
        reboundByOperation: byOp('rebound'),
      },
      returns: events.returns.length,
      floor,
    };
    const sec = (ms: number) => (Number.isFinite(ms) ? `${(ms / second).toFixed(0)} s` : 'never');
    log(
      `steady flow, ${options.windowHours} sandbox h measured (after ${options.warmupHours} h of warm-up, ${cycles} cycles, ${((performance.now() - wall0) / 1000).toFixed(1)} s wall): ` +
        `${figures.samples} receipts → RECEIVED p50 ${sec(figures.p50Ms)}, p95 ${sec(figures.p95Ms)}, max ${sec(figures.maxMs)}, ` +
        `${figures.pending} not RECEIVED ${options.tailHours} h after the window`,
    );
    log(
      `  ${figures.returns} returns requested in the window; Mirakl calls ${figures.calls.mirakl} (floor ${floor.miraklCalls}): ${Object.entries(figures.calls.miraklByOperation).map(([op, n]) => `${op} ${n}`).join(', ')}`,
    );
    log(`  ReBound calls ${figures.calls.rebound} (floor ${floor.reboundCalls}): ${Object.entries(figures.calls.reboundByOperation).map(([op, n]) => `${op} ${n}`).join(', ')}`);
    return figures;
  } finally {
    await rig.close();
    temp.remove();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { backlog: { type: 'string' }, quick: { type: 'boolean', default: false }, transport: { type: 'string', default: 'loopback' } },
  });
  const returns = Number(values.backlog ?? (values.quick ? 2000 : 10_000));
  if (!Number.isInteger(returns) || returns < 10) throw new Error(`--backlog must be an integer ≥ 10, got ${values.backlog}`);
  if (values.transport !== 'loopback' && values.transport !== 'in-process') throw new Error('--transport must be loopback or in-process');
  await runBacklog({ returns, transport: values.transport });
  await runLatency(values.quick ? quickLatency : fullLatency);
}

export const fullLatency = { ordersPerDay: 1200, warmupHours: 6, windowHours: 18, tailHours: 6 };
export const quickLatency = { ordersPerDay: 600, warmupHours: 4, windowHours: 6, tailHours: 4 };

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();

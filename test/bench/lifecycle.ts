// Benchmark: the real sync engine taking returns through their whole life against a zero-latency sandbox (no
// faults, no injected latency), on the sandbox's fake clock with ReBound notifications on (as Sandbox mode runs).
// Two runs:
//   - backlog: N returns already waiting in Mirakl when the engine starts, with every physical and payment delay
//     compressed to nothing, so only the engine and the call budgets decide how fast they go from opened through
//     received, refunded and restocked to closed. Gives the throughput (returns per wall-clock second), Mirakl calls
//     per return next to a naive one-call-per-action client, and the drain time in sandbox time next to the floor
//     the default budgets allow.
//   - steady: a flow of returns with short but real physical delays, to time ReBound's receipt (ITEMS_REGISTERED in
//     ReBound's history) to Mirakl's RECEIVED (Mirakl's history), both on the sandbox clock.
// The engine runs one cycle per 60 sandbox seconds, OR11's budget interval: every feed whose cadence is a minute
// or more runs in every cycle it is due. Not a unit test: `npx tsx test/bench/lifecycle.ts [--backlog 10000] [--quick]`;
// test/bench/all.ts runs both through runBacklog and runLatency.

import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { miraklCallBudgets } from '../../core/mirakl/client';
import { defaultScenario, faultProfiles, type Scenario } from '../../core/sandbox/index';
import { defaultReboundBudgets, REBOUND_CLIENT_BUDGET } from '../../core/sandbox/rebound/index';
import { createRng } from '../../core/sandbox/rng';
import { startHarness } from '../support/engine-harness';
import { makeTempDir } from '../support/temp-dir';
import { drainFloor, naiveMiraklCalls, neededCalls, percentile, type MiraklActions, type NeededCalls } from './baselines';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

export const engineCycleMs = minute;
const miraklWrites = new Set(['RT21', 'RT04', 'RT25', 'RT26', 'RT27', 'OR28', 'STO01']);

type Log = (line: string) => void;

// --- Backlog ------------------------------------------------------------------------------------------------

/**
 * Orders placed on one day, 7 days before the engine starts, each with one return requested within about 5 days of
 * it: all are waiting when the engine first looks. No anomaly (every return can close), parcels arrive, are
 * registered and graded the moment ReBound creates them, refunds settle at once.
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
  returns: number;
  closed: number;
  isDrained: boolean;
  /** Sandbox time from the first cycle until every return was closed and every restock applied (or the cap). */
  simMs: number;
  wallMs: number;
  cpuMs: number;
  cycles: number;
  stepMs: number;
  miraklCalls: Record<string, number>;
  reboundCalls: Record<string, number>;
  miraklTotal: number;
  miraklWrites: number;
  actions: MiraklActions;
  naiveCalls: number;
  work: { orders: number; returns: number };
  needed: NeededCalls[];
  floorMs: number;
  binding: string;
  exceptions: Record<string, number>;
  /** Per intent kind: sandbox minutes from the start until half, and all, of them were confirmed (where time went). */
  stages: Record<string, { halfMin: number; allMin: number; count: number }>;
}

export async function runBacklog(options: { returns: number; seed?: number; maxSimHours?: number; log?: Log }): Promise<BacklogFigures> {
  const seed = options.seed ?? 7;
  const log = options.log ?? ((line: string) => console.log(line));
  const maxSimMs = (options.maxSimHours ?? 48) * hour;
  const temp = makeTempDir('rw-bench-backlog-');
  const h = await startHarness({
    seed,
    dataDir: temp.dir,
    scenario: backlogScenario(seed, options.returns),
    miraklFaults: faultProfiles.none,
    reboundFaults: faultProfiles.none,
    webhooks: true,
  });
  try {
    const worldReturns = h.sandbox.world.truth().returns.length;
    log(`backlog: ${worldReturns.toLocaleString('en-GB')} returns waiting in Mirakl; one engine cycle per ${engineCycleMs / 1000} sandbox s`);
    const db = h.store.db;
    const progress = db.prepare(`SELECT (SELECT count(*) FROM return_intake) AS known,
      (SELECT count(*) FROM return_intake WHERE stage = 'done') AS closed,
      (SELECT count(*) FROM return_intake WHERE stage NOT IN ('done', 'skipped')) AS open,
      (SELECT count(*) FROM stock_increments WHERE state IN ('pending', 'importing')) AS restocking`);
    type Progress = { known: number; closed: number; open: number; restocking: number };
    const simStart = h.clock.now();
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    let cycles = 0;
    let now: Progress = { known: 0, closed: 0, open: 0, restocking: 0 };
    let isDrained = false;
    while (h.clock.now() - simStart < maxSimMs) {
      await h.step(engineCycleMs);
      cycles++;
      now = progress.get() as Progress;
      isDrained = now.known >= worldReturns && now.open === 0 && now.restocking === 0;
      if (isDrained) break;
      if (cycles % 60 === 0) {
        log(`  ${cycles / 60} h of sandbox time: ${now.closed.toLocaleString('en-GB')} closed, ${now.open.toLocaleString('en-GB')} open (${((performance.now() - wall0) / 1000).toFixed(0)} s)`);
      }
    }
    const wallMs = performance.now() - wall0;
    const used = process.cpuUsage(cpu0);
    const simMs = h.clock.now() - simStart;

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
    const work = db.prepare('SELECT count(DISTINCT order_id) AS orders, count(*) AS returns FROM mirakl_returns').get() as { orders: number; returns: number };
    const needed = neededCalls(work, {
      or11: { kind: 'interval', minIntervalMs: miraklCallBudgets.OR11 ?? minute },
      rebound: defaultReboundBudgets()[REBOUND_CLIENT_BUDGET] ?? { kind: 'window', max: 300, windowMs: minute },
    });
    const floor = drainFloor(needed);
    const exceptions = Object.fromEntries(
      (db.prepare('SELECT type, count(*) AS n FROM exceptions GROUP BY type').all() as { type: string; n: number }[]).map((r) => [r.type, r.n]),
    );
    const stages: BacklogFigures['stages'] = {};
    const confirmations = db.prepare(`SELECT kind, updated_at AS at FROM intents WHERE state = 'confirmed' ORDER BY kind, updated_at`).all() as { kind: string; at: string }[];
    for (const kind of new Set(confirmations.map((c) => c.kind))) {
      const times = confirmations.filter((c) => c.kind === kind).map((c) => (Date.parse(c.at) - simStart) / minute);
      stages[kind] = { halfMin: times[Math.floor((times.length - 1) / 2)] ?? 0, allMin: times[times.length - 1] ?? 0, count: times.length };
    }
    const miraklTotal = Object.values(miraklCalls).reduce((s, n) => s + n, 0);
    const figures: BacklogFigures = {
      returns: worldReturns,
      closed: now.closed,
      isDrained,
      simMs,
      wallMs,
      cpuMs: (used.user + used.system) / 1000,
      cycles,
      stepMs: engineCycleMs,
      miraklCalls,
      reboundCalls,
      miraklTotal,
      miraklWrites: Object.entries(miraklCalls).reduce((s, [op, n]) => s + (miraklWrites.has(op) ? n : 0), 0),
      actions,
      naiveCalls: naiveMiraklCalls(actions),
      work,
      needed,
      floorMs: floor.ms,
      binding: floor.binding ? `${floor.binding.name}: ${floor.binding.calls.toLocaleString('en-GB')} calls, ${floor.binding.why}` : '',
      exceptions,
      stages,
    };
    log(
      `backlog ${isDrained ? 'drained' : `NOT drained (cap ${maxSimMs / hour} h)`}: ${now.closed.toLocaleString('en-GB')} of ${worldReturns.toLocaleString('en-GB')} closed in ` +
        `${(simMs / minute).toFixed(0)} sandbox min, ${cycles} cycles, ${(wallMs / 1000).toFixed(1)} s wall (CPU ${(figures.cpuMs / 1000).toFixed(1)} s)`,
    );
    log(`  Mirakl calls: ${Object.entries(miraklCalls).map(([op, n]) => `${op} ${n}`).join(', ')}`);
    log(`  ReBound calls: ${Object.entries(reboundCalls).map(([op, n]) => `${op} ${n}`).join(', ')}`);
    log(`  confirmed by sandbox minute (half / all): ${Object.entries(stages).map(([k, v]) => `${k} ${v.halfMin.toFixed(0)}/${v.allMin.toFixed(0)}`).join(', ')}`);
    log(`  actions: ${Object.entries(actions).map(([k, n]) => `${k} ${n}`).join(', ')}; exceptions raised: ${JSON.stringify(exceptions)}`);
    return figures;
  } finally {
    await h.close();
    temp.remove();
  }
}

// --- Steady flow: receipt → RECEIVED ------------------------------------------------------------------------

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
  stepMs: number;
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
  const h = await startHarness({
    seed,
    dataDir: temp.dir,
    scenario: steadyScenario(options.ordersPerDay),
    miraklFaults: faultProfiles.none,
    reboundFaults: faultProfiles.none,
    webhooks: true,
  });
  try {
    const start = h.clock.now();
    const from = start + options.warmupHours * hour;
    const to = from + options.windowHours * hour;
    const end = to + options.tailHours * hour;
    const wall0 = performance.now();
    while (h.clock.now() < end) await h.step(engineCycleMs);
    const truth = h.sandbox.truth();
    const returnOf = new Map(
      (h.store.db.prepare('SELECT rebound_order_id, return_id FROM rebound_return_orders').all() as { rebound_order_id: string; return_id: string }[]).map((r) => [
        r.rebound_order_id,
        r.return_id,
      ]),
    );
    const receivedAt = new Map<string, number>();
    for (const r of truth.mirakl.returns) {
      const entry = r.history.find((e) => e.includes('>RECEIVED '));
      if (entry) receivedAt.set(r.id, Date.parse(entry.split(' ')[0] ?? ''));
    }
    const latencies: number[] = [];
    for (const ro of truth.rebound.returnOrders) {
      // Only receipts with a unit of the return in them: an empty or all-wrong parcel never makes the return RECEIVED.
      if (!ro.units.some((u) => u.isReceived && u.fate === 'announced')) continue;
      const registered = ro.statusHistory.find((s) => s.status === 'ITEMS_REGISTERED' || s.status === 'PROCESSED');
      const at = registered ? Date.parse(registered.at) : Number.NaN;
      if (!(at >= from && at < to)) continue;
      const returnId = returnOf.get(ro.reboundOrderId);
      const received = returnId === undefined ? undefined : receivedAt.get(returnId);
      latencies.push(received === undefined ? Number.POSITIVE_INFINITY : Math.max(0, received - at));
    }
    const figures: LatencyFigures = {
      samples: latencies.length,
      p50Ms: percentile(latencies, 50),
      p95Ms: percentile(latencies, 95),
      maxMs: percentile(latencies, 100),
      pending: latencies.filter((l) => !Number.isFinite(l)).length,
      windowHours: options.windowHours,
      stepMs: engineCycleMs,
    };
    const min = (ms: number) => (Number.isFinite(ms) ? `${(ms / minute).toFixed(1)} min` : 'never');
    log(
      `receipt → RECEIVED over ${options.windowHours} sandbox h (after ${options.warmupHours} h of warm-up): ${figures.samples} receipts, p50 ${min(figures.p50Ms)}, ` +
        `p95 ${min(figures.p95Ms)}, max ${min(figures.maxMs)}, ${figures.pending} not RECEIVED ${options.tailHours} h after the window (${((performance.now() - wall0) / 1000).toFixed(1)} s wall)`,
    );
    return figures;
  } finally {
    await h.close();
    temp.remove();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { backlog: { type: 'string' }, quick: { type: 'boolean', default: false } } });
  const returns = Number(values.backlog ?? (values.quick ? 2000 : 10_000));
  if (!Number.isInteger(returns) || returns < 10) throw new Error(`--backlog must be an integer ≥ 10, got ${values.backlog}`);
  await runBacklog({ returns });
  await runLatency(values.quick ? quickLatency : fullLatency);
}

export const fullLatency = { ordersPerDay: 1200, warmupHours: 6, windowHours: 18, tailHours: 6 };
export const quickLatency = { ordersPerDay: 600, warmupHours: 4, windowHours: 6, tailHours: 4 };

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();

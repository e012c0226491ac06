import { isApiError } from '../net/api-error';
import type { Policy } from '../mappings/schemas';
import type { EngineContext } from './context';
import { isoAt } from './context';
import { recoverUnrecorded, SimulatedCrash } from './execute';
import { runIntake } from './feeds/intake';
import { pollReturns, refreshOrders } from './feeds/mirakl-reads';
import { planCloses, planMiraklPushes, sendMiraklPushes } from './feeds/mirakl-push';
import { syncRebound } from './feeds/rebound-sync';
import { planRefunds, probeUncertainRefunds, sendRefunds } from './feeds/refunds';
import { flushStock, planStockIncrements } from './feeds/stock';

// The scheduler: every feed on its own cadence, one at a time (one writer), in an order that lets one cycle carry
// a return as far as the facts allow. A failing feed records its error and never stops the others; a failing
// item never stops the items behind it (each feed handles items one by one or per batch item).

export const unsafeIntentKinds = ['mirakl.refund', 'rebound.createReturn', 'stock.import'] as const;

interface Feed {
  feed: string;
  label: string;
  cadenceSeconds: (p: Policy) => number;
  run: (ctx: EngineContext) => Promise<unknown>;
}

export const feeds: Feed[] = [
  { feed: 'mirakl.returns', label: 'Mirakl returns (RT11)', cadenceSeconds: (p) => p.cadences.returnsPollSeconds, run: pollReturns },
  {
    feed: 'mirakl.orders',
    label: 'Mirakl orders and refunds (OR11)',
    cadenceSeconds: (p) => p.cadences.ordersPollSeconds,
    run: async (ctx) => {
      await refreshOrders(ctx);
      probeUncertainRefunds(ctx);
    },
  },
  { feed: 'intake', label: 'Return intake (ReBound returns, labels)', cadenceSeconds: () => 0, run: runIntake },
  {
    feed: 'rebound',
    label: 'ReBound parcels and grading',
    cadenceSeconds: (p) => p.cadences.reboundPollSeconds,
    run: (ctx) => syncRebound(ctx),
  },
  {
    feed: 'mirakl.push',
    label: 'Receipts, compliance and closing (RT25, RT26, RT27)',
    cadenceSeconds: () => 0,
    run: async (ctx) => {
      planMiraklPushes(ctx);
      planCloses(ctx);
      await sendMiraklPushes(ctx);
    },
  },
  {
    feed: 'refunds',
    label: 'Refunds (OR28)',
    cadenceSeconds: () => 0,
    run: async (ctx) => {
      planRefunds(ctx);
      await sendRefunds(ctx);
    },
  },
  {
    feed: 'stock',
    label: 'Stock (STO01, STO02, STO03)',
    cadenceSeconds: (p) => p.cadences.stockStatusSeconds,
    run: async (ctx) => {
      planStockIncrements(ctx);
      const last = ctx.cursors.get('stock.last_flush');
      const flushEvery = ctx.mappings().policy.cadences.stockFlushSeconds * 1000;
      if (!last || ctx.clock.now() - Date.parse(last) >= flushEvery) {
        await flushStock(ctx);
        ctx.cursors.set('stock.last_flush', isoAt(ctx.clock.now()));
      }
    },
  },
  {
    feed: 'reconcile',
    label: 'Divergence checks (exceptions)',
    cadenceSeconds: () => 300,
    run: async (ctx) => {
      const report = ctx.reconciler.run(ctx.mappings().policy);
      if (report.raised || report.resolved || report.reopened) {
        ctx.log.info('reconciled', { raised: report.raised, resolved: report.resolved, reopened: report.reopened, ms: Math.round(report.ms) });
      }
    },
  },
];

export interface CycleReport {
  ran: string[];
  failed: { feed: string; error: string }[];
}

/** Far longer than any call may be out (HTTP calls time out after 30 s): older `sending` intents are orphans. */
const orphanAfterMs = 10 * 60_000;

export function createEngine(ctx: EngineContext) {
  const repo = ctx.feeds;
  const policy = () => ctx.mappings().policy;
  for (const f of feeds) repo.register({ feed: f.feed, label: f.label, cadenceSeconds: f.cadenceSeconds(policy()) });
  ctx.intents.recoverOrphans(unsafeIntentKinds);
  let isPaused = false;
  let isRunning = false;


  async function runFeed(f: Feed, force: boolean): Promise<{ ran: boolean; error: string | null }> {
    const now = ctx.clock.now();
    const row = repo.schedule(f.feed);
    if (!force && (row.isPaused || (row.nextRunAt && Date.parse(row.nextRunAt) > now))) return { ran: false, error: null };
    ctx.events?.emit('sync.progressed', { feed: f.feed, phase: 'started', at: isoAt(now) });
    let error: string | null = null;
    let next = now + f.cadenceSeconds(policy()) * 1000;
    try {
      // Each feed is one command on the queue people's actions share: nothing they do lands between its reads and
      // its sends.
      await ctx.queue.run(`feed:${f.feed}`, () => f.run(ctx));
    } catch (e) {
      if (e instanceof SimulatedCrash) throw e;
      error = (e as Error).message;
      if (isApiError(e) && e.retryAfterMs) next = Math.max(next, ctx.clock.now() + e.retryAfterMs);
      if (isApiError(e) && e.kind === 'auth') {
        ctx.exceptions.raise({ type: 'CREDENTIALS_INVALID', subjectKey: e.system, cause: `${e.system} refused our credentials while reading (${f.label}): ${error}` });
      }
      ctx.log.warn('feed failed', { feed: f.feed, error });
    }
    repo.recordRun(f.feed, isoAt(ctx.clock.now()), isoAt(next), error);
    ctx.events?.emit('sync.progressed', { feed: f.feed, phase: error ? 'failed' : 'finished', at: isoAt(ctx.clock.now()), ...(error ? { message: error } : {}) });
    return { ran: true, error };
  }

  return {
    /** Runs every feed that is due. */
    async runCycle(options: { force?: boolean } = {}): Promise<CycleReport> {
      const report: CycleReport = { ran: [], failed: [] };
      if (isPaused && !options.force) return report;
      if (isRunning) return report;
      isRunning = true;
      try {
        // Only a cycle sends, one at a time, so none of this process's calls is out now: an intent it left `sending`
        // lost its outcome to a write that failed after the call (disk full, I/O error). One left `sending` long ago
        // belongs to a process that died or stopped mid-call (a second instance on the same folder). Left alone,
        // either would wait, unprobed and unseen, for the next restart. Calls another live process has out now are
        // younger than orphanAfterMs and are not touched.
        recoverUnrecorded(ctx, unsafeIntentKinds);
        ctx.intents.recoverOrphans(unsafeIntentKinds, { sentBefore: ctx.clock.now() - orphanAfterMs });
        for (const f of feeds) {
          const { ran, error } = await runFeed(f, options.force ?? false);
          if (ran) report.ran.push(f.feed);
          if (error) report.failed.push({ feed: f.feed, error });
        }
      } finally {
        isRunning = false;
      }
      return report;
    },
    pause: () => {
      isPaused = true;
    },
    resume: () => {
      isPaused = false;
    },
    get state(): 'idle' | 'running' | 'paused' {
      return isPaused ? 'paused' : isRunning ? 'running' : 'idle';
    },
  };
}

export type Engine = ReturnType<typeof createEngine>;

import { hostname } from 'node:os';
import { LeaseLostError } from '../ledger/lease';
import { isApiError } from '../net/api-error';
import type { Policy } from '../mappings/schemas';
import type { EngineContext } from './context';
import { isoAt } from './context';
import { recoverUnrecorded, SimulatedCrash } from './execute';
import { endQuarantineWhenSettled, quarantineIfRestored } from './restore';
import { runIntake } from './feeds/intake';
import { isOrdersReadBusy, pollReturns, refreshOrders } from './feeds/mirakl-reads';
import { planCloses, planMiraklPushes, sendMiraklPushes } from './feeds/mirakl-push';
import { syncRebound } from './feeds/rebound-sync';
import { detectForeignWrites, isPausedByForeignWrite, planRefunds, probeUncertainRefunds, sendRefunds } from './feeds/refunds';
import { flushStock, followStockImport, planStockIncrements } from './feeds/stock';

// The scheduler: every feed on its own cadence, one at a time (one writer), in an order that lets one cycle carry
// a return as far as the facts allow. A failing feed records its error and never stops the others; a failing
// item never stops the items behind it (each feed handles items one by one or per batch item). Something a feed must
// act on (a ReBound notification) brings its next run forward; nextDueAt says when a cycle next has work.

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
      ctx.transaction(() => probeUncertainRefunds(ctx));
    },
  },
  // Before intake: reading what moved in ReBound comes before spending its budget on creating more.
  {
    feed: 'rebound',
    label: 'ReBound parcels and grading',
    cadenceSeconds: (p) => p.cadences.reboundPollSeconds,
    run: (ctx) => syncRebound(ctx),
  },
  { feed: 'intake', label: 'Return intake (ReBound returns, labels)', cadenceSeconds: () => 0, run: runIntake },
  {
    feed: 'mirakl.push',
    label: 'Receipts, compliance and closing (RT25, RT26, RT27)',
    cadenceSeconds: () => 0,
    run: async (ctx) => {
      // What the planners decide is one write.
      ctx.transaction(() => {
        planMiraklPushes(ctx);
        planCloses(ctx);
      });
      await sendMiraklPushes(ctx);
    },
  },
  {
    feed: 'refunds',
    label: 'Refunds (OR28)',
    cadenceSeconds: () => 0,
    run: async (ctx) => {
      ctx.transaction(() => {
        planRefunds(ctx);
        detectForeignWrites(ctx);
      });
      await sendRefunds(ctx);
    },
  },
  {
    feed: 'stock',
    label: 'Stock (STO01, STO02, STO03)',
    cadenceSeconds: (p) => Math.min(p.cadences.stockStatusSeconds, 60),
    run: async (ctx) => {
      if (!isStockFlushDue(ctx)) {
        // An import in flight is followed once a minute between flushes (STO02 allows every 15 s).
        const lastFollow = ctx.cursors.get('stock.last_follow');
        if (lastFollow && ctx.clock.now() - Date.parse(lastFollow) < 60_000 && ctx.clock.now() >= Date.parse(lastFollow)) return;
        try {
          if (await followStockImport(ctx)) ctx.cursors.set('stock.last_follow', isoAt(ctx.clock.now()));
        } catch (error) {
          // The next flush follows it anyway.
          if (!isApiError(error) || !error.isTransient) throw error;
        }
        return;
      }
      // Increments are planned just before a flush: planning them sooner would only make them wait here.
      planStockIncrements(ctx);
      const { isDeferred } = await flushStock(ctx);
      // A flush a call budget turned away runs again next cycle (the orders feed then yields OR11 to it once).
      if (!isDeferred) ctx.cursors.set('stock.last_flush', isoAt(ctx.clock.now()));
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

/**
 * While OR11 is busy reading the orders of waiting returns (its last call was full), every stock flush costs those
 * returns a minute of OR11 (the stock feed reads its sales there): stock then waits this many flush periods.
 */
const busyFlushFactor = 4;

/** The stock flush is due at its cadence, less often while OR11 is busy with waiting orders. */
export function isStockFlushDue(ctx: EngineContext): boolean {
  const last = ctx.cursors.get('stock.last_flush');
  if (!last) return true;
  const since = ctx.clock.now() - Date.parse(last);
  const every = ctx.mappings().policy.cadences.stockFlushSeconds * 1000;
  if (since < every) return false;
  return since >= busyFlushFactor * every || !isOrdersReadBusy(ctx);
}

export interface CycleReport {
  ran: string[];
  failed: { feed: string; error: string }[];
}

/** Far longer than any call may be out (HTTP calls time out after 30 s): older `sending` intents are orphans. */
const orphanAfterMs = 10 * 60_000;

export interface EngineOptions {
  /** How this engine names itself in the lease, for the one it supersedes to say who took over (default: pid and host). */
  holder?: string;
}

export function createEngine(ctx: EngineContext, options: EngineOptions = {}) {
  const repo = ctx.feeds;
  const policy = () => ctx.mappings().policy;
  for (const f of feeds) repo.register({ feed: f.feed, label: f.label, cadenceSeconds: f.cadenceSeconds(policy()) });
  // This engine's epoch: from now on an older engine on this database claims nothing (core/ledger/lease.ts). Its calls
  // left `sending` are then orphans, whether it died or is only paused: they are probed, never sent again blindly.
  ctx.lease.acquire(options.holder ?? `pid ${process.pid} on ${hostname()}`);
  ctx.intents.recoverOrphans(unsafeIntentKinds);
  // A database put back from a backup or copied in: refunds and stock imports wait until Mirakl is read again (restore.ts).
  quarantineIfRestored(ctx);
  let isPaused = false;
  let isRunning = false;
  /** Set once another engine has started on this database: this one never runs a feed again. */
  let fencedBy: LeaseLostError | null = null;

  function fence(error: LeaseLostError, report: CycleReport, feed: string): void {
    if (fencedBy === null) ctx.log.error('engine superseded: another engine started on this database; this one stops', { error: error.message });
    fencedBy = error;
    report.failed.push({ feed, error: error.message });
  }


  async function runFeed(f: Feed, force: boolean): Promise<{ ran: boolean; error: string | null }> {
    const now = ctx.clock.now();
    const row = repo.schedule(f.feed);
    if (!force && (row.isPaused || (row.nextRunAt && Date.parse(row.nextRunAt) > now))) return { ran: false, error: null };
    ctx.events?.emit('sync.progressed', { feed: f.feed, phase: 'started', at: isoAt(now) });
    let error: string | null = null;
    let next = now + f.cadenceSeconds(policy()) * 1000;
    // The next run is set before this one starts, so that a notification arriving while it runs can bring it forward.
    const scheduled = f.cadenceSeconds(policy()) > 0 ? isoAt(next) : row.nextRunAt;
    if (scheduled !== row.nextRunAt && scheduled !== null) repo.beginRun(f.feed, scheduled);
    try {
      // Each feed is one command on the queue people's actions share: nothing they do lands between its reads and
      // its sends.
      await ctx.queue.run(`feed:${f.feed}`, () => f.run(ctx));
    } catch (e) {
      if (e instanceof SimulatedCrash || e instanceof LeaseLostError) throw e;
      error = (e as Error).message;
      if (isApiError(e) && e.retryAfterMs) next = Math.max(next, ctx.clock.now() + e.retryAfterMs);
      if (isApiError(e) && e.kind === 'auth') {
        ctx.exceptions.raise({ type: 'CREDENTIALS_INVALID', subjectKey: e.system, cause: `${e.system} refused our credentials while reading (${f.label}): ${error}` });
      }
      ctx.log.warn('feed failed', { feed: f.feed, error });
    }
    // Something the feed must act on arrived while it ran (a notification brought its next run forward): kept.
    const after = repo.schedule(f.feed);
    if (after.nextRunAt !== scheduled && after.nextRunAt !== null && Date.parse(after.nextRunAt) < next) next = Date.parse(after.nextRunAt);
    // A feed that runs in every cycle is recorded at most once a minute while all is well: its status says when it last
    // ran to within that, and a cycle with nothing to do writes nothing.
    const sinceRecorded = after.lastRunAt === null ? Infinity : ctx.clock.now() - Date.parse(after.lastRunAt);
    const isQuietRepeat = f.cadenceSeconds(policy()) === 0 && error === null && after.lastError === null && sinceRecorded >= 0 && sinceRecorded < 60_000;
    if (!isQuietRepeat) repo.recordRun(f.feed, isoAt(ctx.clock.now()), isoAt(next), error);
    ctx.events?.emit('sync.progressed', { feed: f.feed, phase: error ? 'failed' : 'finished', at: isoAt(ctx.clock.now()), ...(error ? { message: error } : {}) });
    return { ran: true, error };
  }

  return {
    /** Runs every feed that is due. */
    async runCycle(options: { force?: boolean } = {}): Promise<CycleReport> {
      const report: CycleReport = { ran: [], failed: [] };
      if (fencedBy !== null) return report;
      if (isPaused && !options.force) return report;
      if (isRunning) return report;
      isRunning = true;
      try {
        // Woken after another engine started on this database (this one was paused past its folder lock): not one
        // more write, not even settling orphans — they are the other engine's now.
        ctx.lease.assertHeld();
        // Only a cycle sends, one at a time, so none of this process's calls is out now: an intent it left `sending`
        // lost its outcome to a write that failed after the call (disk full, I/O error). One left `sending` long ago
        // belongs to a process that died or stopped mid-call (a second instance on the same folder). Left alone,
        // either would wait, unprobed and unseen, for the next restart. Calls another live process has out now are
        // younger than orphanAfterMs and are not touched.
        recoverUnrecorded(ctx, unsafeIntentKinds);
        ctx.intents.recoverOrphans(unsafeIntentKinds, { sentBefore: ctx.clock.now() - orphanAfterMs });
        for (const f of feeds) {
          let outcome: { ran: boolean; error: string | null };
          try {
            outcome = await runFeed(f, options.force ?? false);
          } catch (e) {
            if (!(e instanceof LeaseLostError)) throw e;
            fence(e, report, f.feed);
            break;
          }
          if (outcome.ran) report.ran.push(f.feed);
          if (outcome.error) report.failed.push({ feed: f.feed, error: outcome.error });
        }
        if (fencedBy === null) await ctx.queue.run('restore:end', () => endQuarantineWhenSettled(ctx));
      } catch (e) {
        if (!(e instanceof LeaseLostError)) throw e;
        fence(e, report, 'engine');
      } finally {
        isRunning = false;
      }
      return report;
    },
    /**
     * The earliest moment (on the engine's clock) at which a cycle has something to do: a feed's cadence, a return or a
     * call due again, a batch whose window closes, ReBound's budget freeing up for waiting calls. Before it, a cycle
     * would find nothing to do; a notification or a person's action can bring it forward (runBy, nudge).
     */
    nextDueAt: (): number => nextDueAt(ctx),
    pause: () => {
      isPaused = true;
    },
    resume: () => {
      isPaused = false;
    },
    /** `fenced`: another engine started on this database, and this one has stopped for good (restart it to take over). */
    get state(): 'idle' | 'running' | 'paused' | 'fenced' {
      return fencedBy !== null ? 'fenced' : isPaused ? 'paused' : isRunning ? 'running' : 'idle';
    },
  };
}

export type Engine = ReturnType<typeof createEngine>;

/** Intent kinds the feeds send in every cycle, and whether a call of theirs spends ReBound's budget. */
const sentEveryCycle: { kind: string; isRebound: boolean }[] = [
  { kind: 'mirakl.accept', isRebound: false },
  { kind: 'mirakl.patch', isRebound: false },
  { kind: 'mirakl.receive', isRebound: false },
  { kind: 'mirakl.compliance', isRebound: false },
  { kind: 'mirakl.close', isRebound: false },
  { kind: 'mirakl.refund', isRebound: false },
  { kind: 'rebound.salesOrder', isRebound: true },
  { kind: 'rebound.createReturn', isRebound: true },
];

function nextDueAt(ctx: EngineContext): number {
  const now = ctx.clock.now();
  const at: number[] = [];
  const feedsAt = ctx.feeds.earliestNextRun();
  if (feedsAt) at.push(Date.parse(feedsAt));
  const intakeAt = ctx.intake.nextDue();
  if (intakeAt !== null) at.push(intakeAt);
  const reboundFreeAt = ctx.reboundCalls.freeAt(now);
  // Frozen, calls waiting to be sent give a cycle nothing to do.
  // Quarantined after a restore, refunds waiting give a cycle nothing to do either (the reads it waits for have cadences).
  // So do refunds and stock imports paused by someone else's write (FOREIGN_WRITE): a person's acknowledgement wakes them.
  const isQuarantined = ctx.restore.isActive() || isPausedByForeignWrite(ctx);
  for (const { kind, isRebound } of ctx.writes.current() ? [] : sentEveryCycle) {
    if (isQuarantined && kind === 'mirakl.refund') continue;
    const due = ctx.intents.nextDue(kind);
    if (due === null) continue;
    const held = ctx.holds.get(kind);
    at.push(Math.max(due, held ?? due, isRebound ? reboundFreeAt : due));
  }
  return Math.max(now, Math.min(...at, Number.POSITIVE_INFINITY));
}

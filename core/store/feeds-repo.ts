import type { Database } from 'better-sqlite3';
import type { FeedStatus } from '../contract';

interface FeedRow {
  feed: string;
  label: string;
  cadence_seconds: number;
  is_paused: number;
  last_run_at: string | null;
  last_success_at: string | null;
  last_error: string | null;
  next_run_at: string | null;
}

export function createFeedsRepo(db: Database) {
  const list = db.prepare('SELECT * FROM feeds ORDER BY feed');
  const upsert = db.prepare(`
    INSERT INTO feeds (feed, label, cadence_seconds) VALUES (@feed, @label, @cadenceSeconds)
    ON CONFLICT (feed) DO UPDATE SET label = excluded.label, cadence_seconds = excluded.cadence_seconds`);
  const recordRun = db.prepare(`UPDATE feeds SET last_run_at = @now, next_run_at = @next,
    last_success_at = CASE WHEN @error IS NULL THEN @now ELSE last_success_at END, last_error = @error WHERE feed = @feed`);
  const schedule = db.prepare('SELECT next_run_at, is_paused, last_run_at, last_error FROM feeds WHERE feed = ?');
  const runBy = db.prepare('UPDATE feeds SET next_run_at = @at WHERE feed = @feed AND (next_run_at IS NULL OR next_run_at > @at)');
  const setNext = db.prepare('UPDATE feeds SET next_run_at = @at WHERE feed = @feed');
  const nextRuns = db.prepare('SELECT min(next_run_at) AS at FROM feeds WHERE is_paused = 0 AND cadence_seconds > 0');
  return {
    /** A run has begun: its next one is at `at`, unless something brings that forward meanwhile (runBy). */
    beginRun: (feed: string, at: string): void => void setNext.run({ feed, at }),
    /** The feed runs no later than `at` (something it should act on happened); a sooner run is kept. */
    runBy: (feed: string, at: string): void => void runBy.run({ feed, at }),
    /** The earliest next run of the feeds that run on a cadence (the others run in every cycle). */
    earliestNextRun: (): string | null => (nextRuns.get() as { at: string | null }).at,
    /** When the feed may run next, whether a person paused it, and how its last run went. */
    schedule: (feed: string): { nextRunAt: string | null; isPaused: boolean; lastRunAt: string | null; lastError: string | null } => {
      const row = schedule.get(feed) as { next_run_at: string | null; is_paused: number; last_run_at: string | null; last_error: string | null } | undefined;
      return { nextRunAt: row?.next_run_at ?? null, isPaused: row?.is_paused === 1, lastRunAt: row?.last_run_at ?? null, lastError: row?.last_error ?? null };
    },
    /** A run of the feed ended, with its error if it failed, and when it is due again. */
    recordRun: (feed: string, at: string, next: string, error: string | null): void => void recordRun.run({ feed, now: at, next, error }),
    list(): FeedStatus[] {
      return (list.all() as FeedRow[]).map((r) => ({
        feed: r.feed,
        label: r.label,
        cadenceSeconds: r.cadence_seconds,
        isPaused: r.is_paused === 1,
        lastRunAt: r.last_run_at,
        lastSuccessAt: r.last_success_at,
        lastError: r.last_error,
        nextRunAt: r.next_run_at,
      }));
    },
    register(feed: { feed: string; label: string; cadenceSeconds: number }): void {
      upsert.run(feed);
    },
  };
}
export type FeedsRepo = ReturnType<typeof createFeedsRepo>;

/**
 * What the background sync service reads between cycles: when any feed last ran, whether a cycle wrote anything or
 * called out (to tell the app), each feed's next run, and when an operation was last called (its budget).
 */
export function createSyncServiceRepo(db: Database) {
  const lastRunAt = db.prepare('SELECT max(last_run_at) AS at FROM feeds');
  const feedRows = db.prepare('SELECT feed, next_run_at FROM feeds');
  const setNextRun = db.prepare('UPDATE feeds SET next_run_at = ? WHERE feed = ?');
  const lastCall = db.prepare('SELECT last_call_at FROM api_budgets WHERE key = ?');
  return {
    lastRunAt: (): string | null => (lastRunAt.get() as { at: string | null }).at ?? null,
    nextRuns: (): { feed: string; next_run_at: string | null }[] => feedRows.all() as { feed: string; next_run_at: string | null }[],
    /** A feed may run sooner than it was scheduled (a person asked, or its budget allows it already). */
    bringForward: (feed: string, at: string): void => void setNextRun.run(at, feed),
    lastCallAt: (budgetKey: string): number | undefined => (lastCall.get(budgetKey) as { last_call_at: number } | undefined)?.last_call_at,
  };
}

/** The figures `npm run sync` prints after a pass, and the calls still out when it stops. */
export function createSyncSummaryRepo(db: Database) {
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  return {
    totals: () => ({
      returns: count('SELECT count(*) AS n FROM mirakl_returns'),
      inReBound: count('SELECT count(*) AS n FROM rebound_return_orders'),
      refundsConfirmed: count(`SELECT count(*) AS n FROM intents WHERE kind = 'mirakl.refund' AND state = 'confirmed'`),
      unitsRestocked: count(`SELECT count(*) AS n FROM stock_increments WHERE state = 'applied'`),
      openExceptions: count(`SELECT count(*) AS n FROM exceptions WHERE state != 'resolved'`),
    }),
    callsInFlight: (): number => count(`SELECT count(*) AS n FROM intents WHERE state = 'sending'`),
  };
}

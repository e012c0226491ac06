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
  const schedule = db.prepare('SELECT next_run_at, is_paused FROM feeds WHERE feed = ?');
  return {
    /** When the feed may run next, and whether a person paused it. */
    schedule: (feed: string): { nextRunAt: string | null; isPaused: boolean } => {
      const row = schedule.get(feed) as { next_run_at: string | null; is_paused: number } | undefined;
      return { nextRunAt: row?.next_run_at ?? null, isPaused: row?.is_paused === 1 };
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

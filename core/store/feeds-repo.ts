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
  return {
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

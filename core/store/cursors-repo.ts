import type { Database } from 'better-sqlite3';
import type { Clock } from '../ports';

// High-water marks per feed (e.g. the last RT11 `last_updated` seen), kept across restarts.
export function createCursors(db: Database, clock: Clock) {
  const get = db.prepare('SELECT value FROM sync_cursors WHERE feed = ?');
  const put = db.prepare(`INSERT INTO sync_cursors (feed, value, updated_at) VALUES (?, ?, ?)
    ON CONFLICT (feed) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`);
  return {
    get: (feed: string): string | null => (get.get(feed) as { value: string } | undefined)?.value ?? null,
    set: (feed: string, value: string) => void put.run(feed, value, new Date(clock.now()).toISOString()),
  };
}
export type Cursors = ReturnType<typeof createCursors>;

import type { Database } from 'better-sqlite3';
import type { Clock } from '../ports';

export function createSettingsRepo(db: Database, clock: Clock) {
  const get = db.prepare('SELECT value FROM settings WHERE key = ?');
  const put = db.prepare(`
    INSERT INTO settings (key, value, updated_at) VALUES (@key, @value, @updatedAt)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`);
  return {
    get(key: string): string | null {
      const row = get.get(key) as { value: string } | undefined;
      return row?.value ?? null;
    },
    set(key: string, value: string): void {
      put.run({ key, value, updatedAt: new Date(clock.now()).toISOString() });
    },
  };
}
export type SettingsRepo = ReturnType<typeof createSettingsRepo>;

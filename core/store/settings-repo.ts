import type { Database } from 'better-sqlite3';
import type { Clock } from '../ports';

// Settings the user changes in the app. Never secrets: those live only in the OS keychain (SecretStore).
export function createSettingsRepo(db: Database, clock: Clock) {
  const get = db.prepare('SELECT value FROM settings WHERE key = ?');
  const put = db.prepare(`
    INSERT INTO settings (key, value, updated_at) VALUES (@key, @value, @updatedAt)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`);
  const remove = db.prepare('DELETE FROM settings WHERE key = ?');
  return {
    get(key: string): string | null {
      const row = get.get(key) as { value: string } | undefined;
      return row?.value ?? null;
    },
    set(key: string, value: string): void {
      put.run({ key, value, updatedAt: new Date(clock.now()).toISOString() });
    },
    /** Sets the value, or removes the key when the value is null (an optional setting left empty). */
    setOrClear(key: string, value: string | null): void {
      if (value === null) remove.run(key);
      else put.run({ key, value, updatedAt: new Date(clock.now()).toISOString() });
    },
    /** Several changes in one transaction: a half-saved connection never exists. */
    transaction<T>(fn: () => T): T {
      return db.transaction(fn)();
    },
  };
}
export type SettingsRepo = ReturnType<typeof createSettingsRepo>;

import type { Database } from 'better-sqlite3';
import type { Clock } from '../ports';
import { createSettingsRepo, type SettingsRepo } from './settings-repo';

// The write freeze (DESIGN row 27): while set, no call that changes Mirakl or ReBound is sent; reads go on. It is kept
// with the installation's settings (the main database), so it holds across restarts and in both modes, and says who
// set it, when and why. The engine reads it before every send (core/sync/execute.ts).

export interface WriteFreeze {
  at: string;
  by: string;
  reason: string;
}

const key = 'writes.freeze';

export function createWriteFreezeRepo(settings: SettingsRepo) {
  return {
    /** The freeze in force, or null. Read on every send: one indexed lookup. An unreadable value counts as frozen. */
    current(): WriteFreeze | null {
      const value = settings.get(key);
      if (value === null) return null;
      try {
        const parsed = JSON.parse(value) as Partial<WriteFreeze>;
        return { at: String(parsed.at ?? ''), by: String(parsed.by ?? 'unknown'), reason: String(parsed.reason ?? '') };
      } catch {
        return { at: '', by: 'unknown', reason: 'the stored freeze could not be read' };
      }
    },
    set(freeze: WriteFreeze | null): void {
      settings.setOrClear(key, freeze === null ? null : JSON.stringify(freeze));
    },
  };
}
export type WriteFreezeRepo = ReturnType<typeof createWriteFreezeRepo>;

/** The freeze kept in this database's settings (what an engine on the main database reads by itself). */
export const writeFreezeOf = (db: Database, clock: Clock): WriteFreezeRepo => createWriteFreezeRepo(createSettingsRepo(db, clock));

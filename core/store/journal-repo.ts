import type { Database } from 'better-sqlite3';
import type { RequestJournal } from '../net/journal';

// The request journal's rows (core/net/journal.ts says what is kept, and what is left out on purpose).
export function createSqliteJournal(db: Database): RequestJournal {
  const insert = db.prepare(`INSERT INTO request_journal (at, system, operation, method, path, status, duration_ms, outcome)
    VALUES (@at, @system, @operation, @method, @path, @status, @durationMs, @outcome)`);
  return { record: (e) => void insert.run({ ...e, at: new Date(e.at).toISOString() }) };
}

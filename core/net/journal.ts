import type { Database } from 'better-sqlite3';

// Every API call is journalled (method, path, status, duration) for the integration owner's health view.
// Query strings and bodies are left out on purpose: they can carry customer data, and headers carry secrets.
export interface JournalEntry {
  at: number;
  system: 'mirakl' | 'rebound';
  operation: string;
  method: string;
  path: string;
  status: number | null;
  durationMs: number;
  outcome: string;
}

export interface RequestJournal {
  record(entry: JournalEntry): void;
}

export function createSqliteJournal(db: Database): RequestJournal {
  const insert = db.prepare(`INSERT INTO request_journal (at, system, operation, method, path, status, duration_ms, outcome)
    VALUES (@at, @system, @operation, @method, @path, @status, @durationMs, @outcome)`);
  return { record: (e) => void insert.run({ ...e, at: new Date(e.at).toISOString() }) };
}

export const memoryJournal = (): RequestJournal & { entries: JournalEntry[] } => {
  const entries: JournalEntry[] = [];
  return { entries, record: (e) => void entries.push(e) };
};

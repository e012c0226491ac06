import type { Database } from 'better-sqlite3';

// Writes announce the tables they changed (the way Bruno's collection writes announce themselves): every statement a
// connection prepares that writes a table marks that table in the connection's change log when it changed at least
// one row. The command queue takes the log after each command and tells the windows once (`data.changed`), so no
// code path has to remember to announce what it wrote, and nothing is announced that was not written.

export interface ChangeLog {
  /** Records that `table` changed (the tracker does this for every write statement; exported for tests). */
  mark(table: string): void;
  /** The tables changed since the last take, in the order first changed; empties the log. */
  take(): string[];
  /** Calls `listener` after each mark that found the log empty (the first change after a take). */
  onFirstChange(listener: () => void): void;
}

/**
 * The engine's own bookkeeping: what it called, what a budget allows, where a poll stands, what the next pass must
 * judge. Their changes are not data a person looks at (the sync status has its own event), so they are not announced.
 */
const bookkeeping = new Set(['request_journal', 'api_budgets', 'sync_cursors', 'recon_dirty', 'feeds', 'schema_migrations']);

const writeStatement = /\b(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+("?)([\w.]+)\1/i;

/** The table a write statement changes, or null for a read, a statement on a temporary table, or bookkeeping. */
export function writtenTable(sql: string): string | null {
  // Comments may name tables; SELECT bodies (a CTE, INSERT … SELECT) come after the target or hold no write keyword.
  const text = sql.replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ');
  const match = writeStatement.exec(text);
  if (!match) return null;
  const name = match[2]!.toLowerCase();
  if (name.startsWith('temp.') || name.startsWith('snap.')) return null;
  const table = name.startsWith('main.') ? name.slice(5) : name;
  return bookkeeping.has(table) ? null : table;
}

const logs = new WeakMap<Database, ChangeLog>();

/**
 * The change log of this connection, tracking every write statement it prepares from now on (idempotent: one log per
 * connection, whoever asks first). Called where connections are opened, before any repository prepares a statement.
 */
export function trackWrites(db: Database): ChangeLog {
  const existing = logs.get(db);
  if (existing) return existing;
  const changed = new Set<string>();
  const listeners: (() => void)[] = [];
  const log: ChangeLog = {
    mark(table) {
      const first = changed.size === 0;
      changed.add(table);
      if (first) for (const listener of listeners) listener();
    },
    take() {
      const tables = [...changed];
      changed.clear();
      return tables;
    },
    onFirstChange(listener) {
      listeners.push(listener);
    },
  };
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const statement = prepare(sql);
    const table = statement.reader ? null : writtenTable(sql);
    if (table === null) return statement;
    const run = statement.run.bind(statement);
    statement.run = ((...params: unknown[]) => {
      const info = run(...params);
      if (info.changes > 0) log.mark(table);
      return info;
    }) as typeof statement.run;
    return statement;
  }) as typeof db.prepare;
  logs.set(db, log);
  return log;
}

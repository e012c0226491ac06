import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Clock } from '../ports';
import { trackWrites } from './changes';
import { startCheckpointer } from './checkpointer';
import { loadMigrations, migrate } from './migrate';

// The only module that opens the database. If opening or migrating fails, the user's file is copied aside
// (with its -wal and -shm) and a blocking error is raised: never deleted, never swapped for an in-memory db.

export const databaseFileName = 'workbench.sqlite';

/**
 * How much memory a connection may hold, the same in every process that opens the database (the desktop core, the
 * sync and web commands, the checkpoint thread). A desktop app shares the machine: a memory map of the file counts as
 * the process's own memory once read (a 2 GB map made a full pass over a year of returns look like 2 GB), so there is
 * none; SQLite keeps a bounded cache of pages instead, and its temporary tables and sorts spill to a file rather
 * than grow in memory during a big pass.
 */
/**
 * The log's file is cut back to this size when the writer starts it again from its beginning (journal_size_limit, on
 * the main connection): the first commit after the checkpoint thread has folded all of it back. Without it the file
 * keeps the largest size it ever reached (a writer that never paused, a sandbox month run flat out, once left 6 GB).
 * Not emptied from the checkpoint thread: a TRUNCATE checkpoint holds the write lock, and a main-connection transaction
 * that had begun by reading then fails at once with SQLITE_BUSY instead of waiting.
 */
export const walLimitBytes = 64 * 1024 * 1024;

export const memoryPragmas: readonly string[] = ['cache_size = -65536', 'mmap_size = 0', 'temp_store = FILE'];

export interface OpenStoreOptions {
  dataDir: string;
  migrationsDir: string;
  clock: Clock;
  /** Path of a better-sqlite3 binary built for the running runtime (Electron uses its own ABI). */
  nativeBinding?: string;
  readonly?: boolean;
}

export interface Store {
  db: Database.Database;
  file: string;
  schemaVersion: number;
  close(): void;
}

export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
  constructor(
    message: string,
    readonly file: string,
    readonly keptCopies: string[],
    readonly causeMessage: string,
  ) {
    super(message);
  }
}

export function openStore(options: OpenStoreOptions): Store {
  mkdirSync(options.dataDir, { recursive: true });
  const file = join(options.dataDir, databaseFileName);
  let db: Database.Database | undefined;
  try {
    const migrations = loadMigrations(options.migrationsDir);
    assertSqliteHeader(file);
    db = new Database(file, {
      readonly: options.readonly ?? false,
      ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}),
    });
    // Every write this connection makes from now on announces the table it changed (core/store/changes.ts).
    trackWrites(db);
    if (!options.readonly) db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = NORMAL');
    for (const pragma of memoryPragmas) db.pragma(pragma);
    if (!options.readonly) db.pragma(`journal_size_limit = ${walLimitBytes}`);
    const schemaVersion = options.readonly ? currentVersion(db) : migrate(db, migrations, options.clock);
    const opened = db;
    const checkpointer = options.readonly
      ? null
      : startCheckpointer({ file, pragmas: memoryPragmas, ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}) }, (pages) => {
          if (opened.open) opened.pragma(`wal_autocheckpoint = ${pages}`);
        });
    return {
      db: opened,
      file,
      schemaVersion,
      close: () => {
        checkpointer?.stop();
        if (!options.readonly) {
          // Both are housekeeping, not data: another process writing (an engine beside `npm run report`) may hold
          // the write lock, and then they are left for a later close instead of failing this one after its work.
          opened.pragma('busy_timeout = 1000');
          // Keeps the planner's statistics current for the queries this connection ran (cheap; SQLite's advice).
          whenNotBusy(() => opened.pragma('optimize'));
          // Folds the write-ahead log back and empties it, also when another process still has the database open
          // (only the last connection to close does that by itself): a copied or backed-up folder then holds the
          // whole database in one file. A reader or writer in the way costs at most a second; the log is then kept, intact.
          whenNotBusy(() => opened.pragma('wal_checkpoint(TRUNCATE)'));
        }
        opened.close();
      },
    };
  } catch (error) {
    const causeMessage = (error as Error).message;
    // Copy before closing: closing the last connection lets SQLite checkpoint or delete the -wal and -shm files.
    const keptCopies = existsSync(file) ? keepAside(file, options.clock) : [];
    try {
      db?.close();
    } catch {
      // The handle may already be unusable; the copies above are what protect the data.
    }
    const where = keptCopies.length ? ` A copy of the database was kept at ${keptCopies[0]}.` : '';
    throw new StoreOpenError(
      `Returns Workbench could not open its database ${file}: ${causeMessage}.${where} Nothing was deleted; ` +
        'restore the copy or contact support before starting again.',
      file,
      keptCopies,
      causeMessage,
    );
  }
}

/** Runs `work` unless another connection holds the lock it needs (SQLITE_BUSY / SQLITE_LOCKED): then skips it. */
function whenNotBusy(work: () => unknown): void {
  try {
    work();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || !/^SQLITE_(BUSY|LOCKED)/.test(code)) throw error;
  }
}

const sqliteMagic = Buffer.from('SQLite format 3\0', 'latin1');

// Refuse a file that is not SQLite before SQLite touches it: a failed open followed by close can delete the -wal.
function assertSqliteHeader(file: string): void {
  if (!existsSync(file) || statSync(file).size === 0) return;
  const header = Buffer.alloc(sqliteMagic.length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!header.equals(sqliteMagic)) throw new Error('file is not a database (it does not start with the SQLite header)');
}

function currentVersion(db: Database.Database): number {
  const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null } | undefined;
  return row?.v ?? 0;
}

function keepAside(file: string, clock: Clock): string[] {
  const stamp = new Date(clock.now()).toISOString().replace(/[:.]/g, '-');
  const kept: string[] = [];
  for (const suffix of ['', '-wal', '-shm']) {
    const source = file + suffix;
    if (!existsSync(source)) continue;
    const target = `${file}.failed-${stamp}${suffix}`;
    copyFileSync(source, target);
    kept.push(target);
  }
  return kept;
}

import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../../ports';
import { loadMigrations, migrate } from '../migrate';
import { refillKeptMoney } from '../money-figures';
import { sourceMigrationsDir } from '../paths';
import { explainSnapshotChange, withAppIndexes } from './snapshot';

// An evidence bundle's snapshot as a file the app opens: read-only with its schema untrusted when the bundle opener
// checks it (a bundle is hostile input), and as a private copy with the app's indexes when the viewer shows it.

/** Opens a snapshot file read-only, schema untrusted, for `read`, then closes it. */
function readUntrusted<T>(file: string, nativeBinding: string | undefined, read: (db: Database.Database) => T): T {
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, ...(nativeBinding ? { nativeBinding } : {}) });
    db.pragma('trusted_schema = OFF');
    return read(db);
  } finally {
    db?.close();
  }
}

/** SQLite's quick_check of a snapshot file: 'ok' when it is sound. Throws when the file cannot be read as a database. */
export function quickCheckSnapshot(file: string, nativeBinding?: string): unknown {
  return readUntrusted(file, nativeBinding, (db) => db.pragma('quick_check', { simple: true }));
}

/** What changed in the altered snapshot written at `file` (explainSnapshotChange). Throws when it cannot be read as a database. */
export function explainSnapshotFileChange(
  file: string,
  data: Uint8Array,
  recorded: { tables: Record<string, number>; pageSize: number; pages: string[] },
  nativeBinding?: string,
): string[] {
  return readUntrusted(file, nativeBinding, (db) => explainSnapshotChange(db, data, recorded));
}

/**
 * The database the viewer reads: a private copy of the snapshot with the app's indexes built on it, then opened
 * read-only. The bundle and its extracted snapshot are never written to.
 */
export function openViewerCopy(snapshotFile: string, dir: string, log: Logger, paths: { migrationsDir?: string; nativeBinding?: string }): Database.Database {
  const file = join(dir, 'viewer.sqlite');
  copyFileSync(snapshotFile, file);
  const driver = paths.nativeBinding ? { nativeBinding: paths.nativeBinding } : {};
  const appSchema = new Database(':memory:', driver);
  const copy = new Database(file, driver);
  copy.pragma('trusted_schema = OFF');
  try {
    migrate(appSchema, loadMigrations(paths.migrationsDir ?? sourceMigrationsDir), { now: () => 0 });
    const isOlder = withKeptMoneyTables(copy, appSchema);
    const failed = withAppIndexes(copy, appSchema);
    if (isOlder) refillKeptMoney(copy, 'main');
    if (failed.length) log.warn('some indexes could not be built on the bundle snapshot', { failed });
  } finally {
    copy.close();
    appSchema.close();
  }
  const viewer = new Database(file, { readonly: true, fileMustExist: true, ...driver });
  viewer.pragma('trusted_schema = OFF');
  return viewer;
}

/**
 * A bundle made before migration 0020 has no kept money tables (money_lines, money_paid_days), which the money figures
 * read: made here from the app's own definition, to be filled from the snapshot's rows. True when they were missing.
 */
function withKeptMoneyTables(db: Database.Database, appSchema: Database.Database): boolean {
  const kept = ['money_lines', 'money_paid_days'];
  const present = new Set((db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name));
  const missing = kept.filter((name) => !present.has(name));
  if (missing.length === 0) return false;
  const definition = appSchema.prepare(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?`);
  db.transaction(() => {
    for (const name of missing) db.exec((definition.get(name) as { sql: string }).sql);
  })();
  return true;
}

/** The viewer's reads that no other repository makes. Prepared when used: a bundle's snapshot may lack the table. */
export function createViewerReads(db: Database.Database) {
  return {
    exceptionNotes: (exceptionId: number) =>
      db.prepare('SELECT id, at, author, body FROM exception_notes WHERE exception_id = ? ORDER BY id').all(exceptionId) as { id: number; at: string; author: string; body: string }[],
  };
}

import Database from 'better-sqlite3';
import { explainSnapshotChange } from './snapshot';

// An evidence bundle's snapshot as a file the app opens: read-only with its schema untrusted when the bundle opener
// checks it (a bundle is hostile input).

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

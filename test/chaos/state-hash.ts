import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';

// A canonical hash of what the engine stored: every row of every table, rows sorted, columns by name. Every
// timestamp comes from the run's fake clock, so nothing is excluded but the migration bookkeeping, the reconciler's
// transient work queue (recon_dirty, emptied by each pass) and a database's random id. The run's temporary data directory, which
// messages may name (a mapping file's path), is written as <dataDir>. Two runs of one seed must agree on the hash.

const excluded = new Set(['schema_migrations', 'recon_dirty', 'sqlite_sequence', 'sqlite_stat1', 'sqlite_stat4']);
/**
 * Columns random by design: a database's id (engine_lease.database_id) is a fresh UUID, so a copy from another machine is
 * never taken for the folder's own (core/ledger/lease.ts). Everything else of the row is hashed.
 */
const randomColumns: Record<string, readonly string[]> = { engine_lease: ['database_id'] };

export function tableHashes(db: Database, dataDir: string): Record<string, string> {
  const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[])
    .map((t) => t.name)
    .filter((name) => !excluded.has(name));
  const hashes: Record<string, string> = {};
  for (const table of tables) {
    const skip = new Set(randomColumns[table] ?? []);
    const rows = (db.prepare(`SELECT * FROM "${table}"`).all() as Record<string, unknown>[]).map((row) =>
      JSON.stringify(
        Object.keys(row)
          .filter((k) => !skip.has(k))
          .sort()
          .map((k) => [k, row[k]]),
      )
        .split(dataDir)
        .join('<dataDir>'),
    );
    rows.sort();
    hashes[table] = createHash('sha256').update(rows.join('\n')).digest('hex').slice(0, 16);
  }
  return hashes;
}

export function stateHash(tables: Record<string, string>, sandboxTruthHash: string): string {
  return createHash('sha256')
    .update(JSON.stringify(Object.entries(tables)))
    .update(sandboxTruthHash)
    .digest('hex')
    .slice(0, 16);
}

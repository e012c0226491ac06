import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../../adapters/fake-clock';
import { makeTempDir } from '../../../test/support/temp-dir';
import { openStore, type Store } from '../db';
import { sourceMigrationsDir } from '../paths';
import { snapshotRowSources } from './snapshot';

// An evidence bundle's snapshot copies each table's rows driven by a small set of keys (the period's returns, their
// lines and orders, the rows already copied): each copied row must be found in the app's table by an index. Without
// one, SQLite reads the whole table once per key; it may build a temporary index by itself, but whether it does
// depends on the other indexes the table has — an index added for the engine (FOREIGN_WRITE's, migration 0029) made
// it stop, and the 100,000-return month's bundle went from 16 s to 294 s (`npm run bench`).

let temp: ReturnType<typeof makeTempDir> | undefined;
let store: Store | undefined;
afterEach(() => {
  store?.close();
  temp?.remove();
});

describe('the snapshot of an evidence bundle', () => {
  it('finds the rows it copies for each key by an index of the table, never by reading the table once per key', () => {
    temp = makeTempDir();
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock: createFakeClock() });
    const db = store.db;
    db.exec(`ATTACH ':memory:' AS snap;
      CREATE TEMP TABLE sn_returns (id TEXT PRIMARY KEY); CREATE TEMP TABLE sn_orders (id TEXT PRIMARY KEY);
      CREATE TEMP TABLE sn_lines (id TEXT PRIMARY KEY); CREATE TEMP TABLE rp_exceptions (id INTEGER PRIMARY KEY);`);
    // The snapshot's tables while rows are copied: the app's, with their keys and no other index.
    const tables = db.prepare(`SELECT name, sql FROM main.sqlite_schema WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' AND name NOT LIKE 'sqlite_%'`).all() as { name: string; sql: string }[];
    for (const t of tables) {
      try {
        db.exec(t.sql.replace(/^CREATE TABLE\s+/i, 'CREATE TABLE snap.'));
      } catch {
        // FTS shadow tables and the like: never a snapshot source.
      }
    }
    const perKeyScans: string[] = [];
    for (const [table, sources] of Object.entries(snapshotRowSources)) {
      for (const source of sources) {
        if (!/CROSS JOIN/.test(source)) continue; // a read of one table, once
        const plan = (db.prepare(`EXPLAIN QUERY PLAN SELECT t.* FROM ${source}`).all({ period: '2026-10', auditFrom: 0 }) as { detail: string }[]).map((r) => r.detail);
        if (plan.some((d) => /^SCAN t\b/.test(d))) perKeyScans.push(`${table}: ${source}\n    ${plan.join('\n    ')}`);
      }
    }
    expect(perKeyScans, perKeyScans.join('\n')).toEqual([]);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { makeTempDir } from '../../test/support/temp-dir';
import { openStore, type Store } from './db';
import { keptMoneyRefill } from './money-figures';
import { sourceMigrationsDir } from './paths';

// The kept money of an evidence bundle's snapshot is filled from its rows (core/store/report/snapshot.ts). The
// snapshot has its tables' keys and none of their other indexes: a statement that looked rows up by order line there
// read the whole table once per line, and the bundle of a 100,000-return month never finished (`npm run bench`).

let temp: ReturnType<typeof makeTempDir> | undefined;
let store: Store | undefined;
afterEach(() => {
  store?.close();
  temp?.remove();
});

/** Each step of SQLite's plan, with whether it runs once per row of an outer query (under a correlated subquery). */
function planSteps(store: Store, sql: string): { detail: string; isPerRow: boolean }[] {
  const rows = store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { id: number; parent: number; detail: string }[];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return rows.map((r) => {
    let isPerRow = false;
    for (let at = byId.get(r.parent); at; at = byId.get(at.parent)) if (at.detail.startsWith('CORRELATED')) isPerRow = true;
    return { detail: r.detail, isPerRow };
  });
}

describe('refilling the kept money of a snapshot', () => {
  it('reads each table of a database with only its keys once, never a whole table per order line', () => {
    temp = makeTempDir();
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock: createFakeClock() });
    // A snapshot's shape: the app's tables, their keys, no other index.
    store.db.exec(`ATTACH ':memory:' AS snap`);
    const tables = store.db.prepare(`SELECT sql FROM main.sqlite_schema WHERE type = 'table' AND name IN ('units', 'mirakl_refunds', 'mirakl_order_lines', 'mirakl_orders', 'money_lines', 'money_paid_days')`).pluck().all() as string[];
    for (const sql of tables) store.db.exec(sql.replace(/^CREATE TABLE (IF NOT EXISTS )?/i, 'CREATE TABLE snap.'));
    const refill = keptMoneyRefill('snap');
    for (const sql of [refill.lines, refill.days]) {
      const scansPerRow = planSteps(store, sql).filter((s) => s.isPerRow && /^SCAN /.test(s.detail));
      expect(scansPerRow, sql).toEqual([]);
    }
  });
});

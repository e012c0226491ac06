import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { makeTempDir } from '../../test/support/temp-dir';
import { openStore, StoreOpenError } from './db';
import { dumpSchema, loadMigrations, MigrationError } from './migrate';
import { sourceMigrationsDir } from './paths';

const snapshotFile = new URL('./schema.snapshot.sql', import.meta.url);

describe('migrations', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let migrationsDir: string;
  const clock = createFakeClock();

  beforeEach(() => {
    temp = makeTempDir();
    migrationsDir = join(temp.dir, 'migrations');
    cpSync(sourceMigrationsDir, migrationsDir, { recursive: true });
  });
  afterEach(() => temp.remove());

  const open = () => openStore({ dataDir: join(temp.dir, 'data'), migrationsDir, clock });

  /** A database migrated up to 0030 (foreign keys off) for `arrange` to fill; then 0031 runs: each increment's unit_id and held. */
  function heldAfter0031(arrange: (db: Database.Database) => void): unknown[] {
    const held = join(temp.dir, '0031_restock_held.sql');
    cpSync(join(migrationsDir, '0031_restock_held.sql'), held);
    rmSync(join(migrationsDir, '0031_restock_held.sql'));
    const before = open();
    before.db.pragma('foreign_keys = OFF');
    arrange(before.db);
    before.close();
    cpSync(held, join(migrationsDir, '0031_restock_held.sql'));
    const after = open();
    const rows = after.db.prepare('SELECT unit_id, held FROM stock_increments ORDER BY unit_id').all();
    after.close();
    return rows;
  }

  it('migrates an empty database to the committed schema snapshot', () => {
    const store = open();
    const schema = dumpSchema(store.db);
    store.close();
    if (process.env.RW_UPDATE_SNAPSHOT === '1') writeFileSync(snapshotFile, schema);
    expect(schema).toBe(readFileSync(snapshotFile, 'utf8'));
  });

  it('records every applied migration with its sha256 and applies nothing twice', () => {
    const first = open();
    const rows = first.db.prepare('SELECT version, sha256 FROM schema_migrations').all() as { version: number; sha256: string }[];
    first.close();
    const migrations = loadMigrations(migrationsDir);
    expect(rows).toEqual(migrations.map((m) => ({ version: m.version, sha256: m.sha256 })));
    const second = open();
    expect(second.schemaVersion).toBe(migrations.length);
    second.close();
  });

  it('0031 marks the increments already held for a person, and not the ones Mirakl refused', () => {
    const rows = heldAfter0031((db) => {
      const t = '2026-11-01T10:00:00.000Z';
      const unit = db.prepare(`INSERT INTO units (id, return_id, order_line_id, offer_sku, stage, stage_rank, updated_at, restock_in_doubt) VALUES (?, 'R', 'L', 'SKU', 'graded', 5, ?, ?)`);
      const inc = db.prepare(`INSERT INTO stock_increments (unit_id, offer_sku, state, note, skipped_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`);
      for (const n of [1, 2, 4, 5, 6, 7]) unit.run(`u${n}`, t, null);
      unit.run('u3', t, 'restored database: made by an earlier copy');
      for (const n of [8, 9]) unit.run(`u${n}`, t, 'restored database: made by an earlier copy');
      inc.run('u1', 'SKU', 'rejected', 'restored database: not shown as already on sale (judged); waiting for a person', null, t, t);
      inc.run('u2', 'SKU', 'rejected', 'marked not applied by ops after a restore; waiting for a person', null, t, t);
      inc.run('u3', 'SKU', 'rejected', 'restored database: made by an earlier copy; waiting for a person', null, t, t);
      inc.run('u4', 'SKU', 'rejected', 'Offer not found', null, t, t);
      inc.run('u5', 'SKU-N', 'skipped', 'sku-offers mapping: never restocked', 'mapping', t, t);
      inc.run('u6', 'SKU-N', 'skipped', 'sku-offers mapping: never restocked', 'mapping', t, '2026-10-01T00:00:00.000Z');
      inc.run('u7', 'SKU-M', 'skipped', 'sku-offers mapping: never restocked', 'mapping', t, t);
      // Units in doubt the mapping skipped: planSellableUnits holds them 'earlier_copy' now, whatever the offer's question.
      inc.run('u8', 'SKU', 'skipped', 'sku-offers mapping: never restocked', 'mapping', t, t);
      inc.run('u9', 'SKU-N', 'skipped', 'sku-offers mapping: never restocked', 'mapping', t, t);
      db.prepare(`INSERT INTO restore_quarantines (id, started_at, cause, stock_basis) VALUES (1, '2026-10-31T00:00:00.000Z', 'restored', '{}')`).run();
      const exception = db.prepare(`INSERT INTO exceptions (type, subject_key, severity, owner_team, state, offer_sku, cause, next_action, detected_at, sla_due_at, updated_at)
        VALUES ('RESTOCK_UNCERTAIN', ?, 'high', 'ops', 'open', ?, 'cause', 'next', ?, ?, ?)`);
      exception.run('SKU-N:restore-1:never-restock-unknown', 'SKU-N', t, t, t);
      exception.run('SKU-M:restore-1:never-restock-on-sale', 'SKU-M', t, t, t);
    });
    expect(rows).toEqual([
      { unit_id: 'u1', held: 'restore' },
      { unit_id: 'u2', held: 'restore' },
      { unit_id: 'u3', held: 'earlier_copy' },
      { unit_id: 'u4', held: null },
      { unit_id: 'u5', held: 'never_restock' },
      { unit_id: 'u6', held: null },
      { unit_id: 'u7', held: null },
      { unit_id: 'u8', held: 'earlier_copy' },
      { unit_id: 'u9', held: 'earlier_copy' },
    ]);
  });

  it('0031 holds never_restock only units the mapping skipped before their question was asked, as holdSkippedForPerson did', () => {
    const rows = heldAfter0031((db) => {
      const t = '2026-11-01T10:00:00.000Z';
      const later = '2026-11-05T10:00:00.000Z';
      const unit = db.prepare(`INSERT INTO units (id, return_id, order_line_id, offer_sku, stage, stage_rank, updated_at) VALUES (?, 'R', 'L', 'SKU-N', 'graded', 5, ?)`);
      const inc = db.prepare(`INSERT INTO stock_increments (unit_id, offer_sku, state, note, skipped_by, created_at, updated_at) VALUES (?, 'SKU-N', 'skipped', 'sku-offers mapping: never restocked', 'mapping', ?, ?)`);
      unit.run('u1', t);
      unit.run('u2', later);
      inc.run('u1', t, t);
      // Graded and skipped by the mapping days after the settlement asked: no earlier copy knew of it.
      inc.run('u2', later, later);
      db.prepare(`INSERT INTO restore_quarantines (id, started_at, cause, stock_basis) VALUES (1, '2026-10-31T00:00:00.000Z', 'restored', '{}')`).run();
      db.prepare(`INSERT INTO exceptions (type, subject_key, severity, owner_team, state, offer_sku, cause, next_action, detected_at, sla_due_at, updated_at)
        VALUES ('RESTOCK_UNCERTAIN', 'SKU-N:restore-1:never-restock-unknown', 'high', 'ops', 'open', 'SKU-N', 'cause', 'next', ?, ?, ?)`).run(t, t, t);
    });
    expect(rows).toEqual([
      { unit_id: 'u1', held: 'never_restock' },
      { unit_id: 'u2', held: null },
    ]);
  });

  it('refuses to start when an applied migration was edited', () => {
    open().close();
    const file = join(migrationsDir, '0001_init.sql');
    writeFileSync(file, readFileSync(file, 'utf8') + '\n-- an innocent-looking edit\n');
    expect(open).toThrow(StoreOpenError);
    expect(open).toThrow(/0001_init\.sql was changed after it was applied/);
  });

  it('refuses a gap in the numbering', () => {
    const skipped = `${String(loadMigrations(migrationsDir).length + 2).padStart(4, '0')}_skipped_one.sql`;
    writeFileSync(join(migrationsDir, skipped), 'CREATE TABLE t (x INTEGER);');
    expect(() => loadMigrations(migrationsDir)).toThrow(MigrationError);
    expect(open).toThrow(new RegExp(`gap or duplicate.*${skipped.replace('.', '\\.')}`));
  });

  it('refuses a database migrated by a newer version', () => {
    const nextVersion = loadMigrations(migrationsDir).length + 1;
    const name = `${String(nextVersion).padStart(4, '0')}_from_the_future.sql`;
    writeFileSync(join(migrationsDir, name), 'CREATE TABLE future_things (x INTEGER);');
    open().close();
    cpSync(sourceMigrationsDir, migrationsDir, { recursive: true, force: true });
    rmSync(join(migrationsDir, name));
    expect(open).toThrow(/migrated by a newer Returns Workbench/);
  });

  it('rolls back a failing migration as a whole and keeps the file', () => {
    open().close();
    const nextVersion = loadMigrations(migrationsDir).length + 1;
    writeFileSync(
      join(migrationsDir, `${String(nextVersion).padStart(4, '0')}_half_broken.sql`),
      'CREATE TABLE half_done (x INTEGER);\nTHIS IS NOT SQL;',
    );
    expect(open).toThrow(/half_broken\.sql failed and was rolled back/);
    const db = new Database(join(temp.dir, 'data', 'workbench.sqlite'), { readonly: true });
    const table = db.prepare("SELECT name FROM sqlite_schema WHERE name = 'half_done'").get();
    const version = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number };
    db.close();
    expect(table).toBeUndefined();
    expect(version.v).toBe(nextVersion - 1);
    expect(existsSync(join(temp.dir, 'data', 'workbench.sqlite'))).toBe(true);
  });
});

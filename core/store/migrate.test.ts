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

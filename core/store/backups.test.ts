import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { silentLogger } from '../adapters/logger';
import { makeTempDir } from '../../test/support/temp-dir';
import { restoreBackup, RestoreError, serverLockDir, startBackups } from './backups';
import { databaseFileName, openStore, type Store } from './db';
import { acquireFolderLock } from './folder-lock';
import { sourceMigrationsDir } from './paths';

// A team server's backups (online, while the engine writes) and their restore (only with the engine stopped).

describe('backups and restore', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  const clock = createFakeClock(Date.UTC(2026, 11, 6, 12));
  const dataDir = () => join(temp.dir, 'data');
  const settingsCount = (db: Database.Database) => (db.prepare('SELECT count(*) AS n FROM settings').get() as { n: number }).n;

  beforeEach(() => {
    temp = makeTempDir();
    store = openStore({ dataDir: dataDir(), migrationsDir: sourceMigrationsDir, clock });
    store.db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('person.name', 'before the backup', '2026-12-06')").run();
  });
  afterEach(() => {
    if (store.db.open) store.close();
    temp.remove();
  });

  it('takes a consistent copy while the database is open, and keeps the last 14', async () => {
    const backups = startBackups({ db: store.db, dataDir: dataDir(), everyHours: 0, log: silentLogger, clock });
    const first = await backups.backupNow();
    expect(first).not.toBeNull();
    const copy = new Database(first!, { readonly: true });
    expect(settingsCount(copy)).toBe(settingsCount(store.db));
    copy.close();
    for (let i = 0; i < 15; i++) {
      clock.advance(60_000);
      await backups.backupNow();
    }
    expect(readdirSync(backups.dir).filter((n) => n.startsWith('workbench-'))).toHaveLength(14);
    expect(existsSync(first!)).toBe(false);
  });

  it('restores only with no engine on the folder, only a database of this app that passes its integrity check, and keeps the one it replaces', async () => {
    const backup = (await startBackups({ db: store.db, dataDir: dataDir(), everyHours: 0, log: silentLogger, clock }).backupNow())!;
    store.db.prepare("UPDATE settings SET value = 'after the backup' WHERE key = 'person.name'").run();

    const lock = await acquireFolderLock(dataDir(), { command: 'npm run serve' });
    await expect(restoreBackup({ dataDir: dataDir(), from: backup, clock })).rejects.toThrow(/Stop the server first.*npm run serve/s);
    await lock.release();
    const server = await acquireFolderLock(serverLockDir(dataDir()), { command: 'npm run serve' });
    await expect(restoreBackup({ dataDir: dataDir(), from: backup, clock })).rejects.toThrow(/Stop the server first.*npm run serve/s);
    await server.release();
    await expect(restoreBackup({ dataDir: dataDir(), from: join(dataDir(), databaseFileName), clock })).rejects.toThrow(/the data folder's database itself/);
    store.close();

    const garbage = join(temp.dir, 'garbage.sqlite');
    writeFileSync(garbage, 'not a database at all, just text');
    await expect(restoreBackup({ dataDir: dataDir(), from: garbage, clock })).rejects.toThrow(RestoreError);
    const foreign = join(temp.dir, 'foreign.sqlite');
    const other = new Database(foreign);
    other.exec('CREATE TABLE t (x)');
    other.close();
    await expect(restoreBackup({ dataDir: dataDir(), from: foreign, clock })).rejects.toThrow(/not one of Returns Workbench/);
    await expect(restoreBackup({ dataDir: dataDir(), from: join(temp.dir, 'missing.sqlite'), clock })).rejects.toThrow(/no backup file/);

    const { replaced } = await restoreBackup({ dataDir: dataDir(), from: backup, clock });
    // The WAL of the database it replaced (with changes made after the backup) must not be replayed into the backup.
    expect(existsSync(join(dataDir(), `${databaseFileName}-wal`))).toBe(false);
    const restored = new Database(join(dataDir(), databaseFileName), { readonly: true });
    expect(restored.prepare("SELECT value FROM settings WHERE key = 'person.name'").get()).toEqual({ value: 'before the backup' });
    restored.close();
    const kept = new Database(replaced!, { readonly: true });
    expect(kept.prepare("SELECT value FROM settings WHERE key = 'person.name'").get()).toEqual({ value: 'after the backup' });
    kept.close();
  });
});

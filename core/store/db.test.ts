import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { makeTempDir } from '../../test/support/temp-dir';
import { openStore, StoreOpenError } from './db';
import { sourceMigrationsDir } from './paths';

describe('openStore', () => {
  let temp: ReturnType<typeof makeTempDir>;
  const clock = createFakeClock(Date.UTC(2026, 10, 26, 12, 0, 0));
  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(() => temp.remove());

  it('opens in WAL mode with foreign keys and a busy timeout', () => {
    const store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.db.pragma('busy_timeout', { simple: true })).toBe(5000);
    store.close();
  });

  it('holds a bounded amount of memory: no memory map, a 64 MB page cache, temporary data spilled to a file', () => {
    const store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    expect(store.db.pragma('mmap_size', { simple: true })).toBe(0);
    expect(store.db.pragma('cache_size', { simple: true })).toBe(-65536);
    // 1 = FILE.
    expect(store.db.pragma('temp_store', { simple: true })).toBe(1);
    store.close();
  });

  it('closing folds the -wal back and empties it, also while another connection still has the database open', () => {
    const store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    const reader = new Database(store.file, { readonly: true });
    try {
      // SQLite opens the file at the first statement.
      reader.prepare('SELECT count(*) AS n FROM settings').get();
      const insert = store.db.prepare(`INSERT INTO settings (key, value, updated_at) VALUES (?, 'x', 'now')`);
      for (let i = 0; i < 200; i++) insert.run(`key-${i}`);
      expect(statSync(`${store.file}-wal`).size).toBeGreaterThan(0);
      store.close();
      // Not the last connection, so SQLite would have left the log as it was.
      expect(statSync(`${store.file}-wal`).size).toBe(0);
      expect(reader.prepare('SELECT count(*) AS n FROM settings').get()).toEqual({ n: 200 });
    } finally {
      reader.close();
    }
  });

  it('closes without an error while another process is writing: the log is then kept for a later checkpoint', () => {
    // `npm run report` beside a running engine wrote its files, then died here with "database is locked".
    const store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    store.db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('k', 'v', '2026-11-26T12:00:00Z')").run();
    const writer = new Database(store.file);
    try {
      writer.pragma('busy_timeout = 0');
      writer.exec('BEGIN IMMEDIATE');
      writer.prepare("UPDATE settings SET value = 'w' WHERE key = 'k'").run();
      expect(() => store.close()).not.toThrow();
      expect(store.db.open).toBe(false);
      writer.exec('COMMIT');
    } finally {
      writer.close();
    }
  });

  it('keeps a corrupt database aside with its -wal and -shm, deletes nothing and says what happened', () => {
    const file = join(temp.dir, 'workbench.sqlite');
    const garbage = Buffer.from('this is not an SQLite database, it is a spreadsheet someone renamed'.repeat(80));
    writeFileSync(file, garbage);
    writeFileSync(file + '-wal', 'wal bytes');
    writeFileSync(file + '-shm', 'shm bytes');

    let error: unknown;
    try {
      openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreOpenError);
    const failure = error as StoreOpenError;
    expect(failure.message).toMatch(/could not open its database .*workbench\.sqlite: file is not a database/);
    expect(failure.message).toMatch(/Nothing was deleted/);
    expect(failure.keptCopies).toHaveLength(3);
    expect(failure.message).toContain(failure.keptCopies[0]);

    // The original is untouched, and the copies hold the database and WAL bytes as they were.
    expect(readFileSync(file)).toEqual(garbage);
    expect(readFileSync(file + '-wal', 'utf8')).toBe('wal bytes');
    expect(readFileSync(file + '-shm', 'utf8')).toBe('shm bytes');
    expect(readFileSync(failure.keptCopies[0] ?? '')).toEqual(garbage);
    expect(readFileSync(failure.keptCopies[1] ?? '', 'utf8')).toBe('wal bytes');
    expect(readFileSync(failure.keptCopies[2] ?? '', 'utf8')).toBe('shm bytes');
    expect(readdirSync(temp.dir).filter((f) => f.includes('.failed-'))).toHaveLength(3);
  });

  it('keeps a database aside when SQLite itself reports corruption', () => {
    const file = join(temp.dir, 'workbench.sqlite');
    // A valid header followed by garbage: only SQLite can tell this one is broken.
    writeFileSync(file, Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(4096, 0x5a)]));
    expect(() => openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock })).toThrow(StoreOpenError);
    expect(existsSync(file)).toBe(true);
    expect(readdirSync(temp.dir).some((f) => /workbench\.sqlite\.failed-.*[^lm]$/.test(f))).toBe(true);
  });

  it('does not invent a database when the migrations cannot be read', () => {
    expect(() => openStore({ dataDir: temp.dir, migrationsDir: join(temp.dir, 'nowhere'), clock })).toThrow(StoreOpenError);
    expect(existsSync(join(temp.dir, 'workbench.sqlite'))).toBe(false);
  });
});

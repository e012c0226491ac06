import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Clock, Logger } from '../ports';
import { databaseFileName } from './db';
import { acquireFolderLock, describeBusy, FolderBusyError, type FolderLock } from './folder-lock';

// A team server's backups: SQLite's online backup of the data folder's database, every few hours, into
// <data folder>/backups, the last 14 kept. A backup is a consistent copy taken while the engine runs (better-sqlite3's
// backup API copies page by page between the engine's own writes). Off-site copies are Litestream's job (README).
//
// Restoring one (npm run restore, with the server stopped) puts it in place of the database and keeps the database it
// replaces beside the backups. The next engine start sees a database behind its folder's engine-lease.json and starts
// quarantined (core/ledger/restore-quarantine.ts): no refund and no stock import goes out until Mirakl's refunds and
// the stock have been read again, so nothing made after the backup is made twice.

export const backupsDirName = 'backups';
const keep = 14;

export function startBackups(options: { db: Database.Database; dataDir: string; everyHours: number; log: Logger; clock: Clock }) {
  const dir = join(options.dataDir, backupsDirName);
  let running: Promise<string | null> | null = null;
  let timer: NodeJS.Timeout | null = null;

  async function backupNow(): Promise<string | null> {
    if (running) return running;
    running = (async () => {
      mkdirSync(dir, { recursive: true });
      const stamp = new Date(options.clock.now()).toISOString().replace(/[:.]/g, '-');
      const file = join(dir, `workbench-${stamp}.sqlite`);
      try {
        await options.db.backup(file);
        prune(dir);
        options.log.info('backup written', { file, bytes: statSync(file).size });
        return file;
      } catch (error) {
        rmSync(file, { force: true });
        options.log.error('backup failed', { file, error: (error as Error).message });
        return null;
      } finally {
        running = null;
      }
    })();
    return running;
  }

  if (options.everyHours > 0) {
    const everyMs = options.everyHours * 3_600_000;
    const last = latestBackup(dir);
    const dueInMs = last ? Math.max(60_000, everyMs - (options.clock.now() - last.at)) : 60_000;
    const schedule = (ms: number) => {
      timer = setTimeout(() => void backupNow().finally(() => schedule(everyMs)), ms);
      timer.unref();
    };
    schedule(dueInMs);
  }

  return {
    dir,
    backupNow,
    stop(): void {
      if (timer) clearTimeout(timer);
    },
  };
}

function backupFiles(dir: string): { file: string; at: number }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /^workbench-.*\.sqlite$/.test(name))
    .sort() // the names carry the time they were taken (ISO, sortable)
    .map((name) => ({ file: join(dir, name), at: statSync(join(dir, name)).mtimeMs }));
}

function latestBackup(dir: string): { file: string; at: number } | undefined {
  return backupFiles(dir).at(-1);
}

function prune(dir: string): void {
  const files = backupFiles(dir);
  for (const old of files.slice(0, Math.max(0, files.length - keep))) {
    // With what opening a copy leaves beside it.
    for (const suffix of ['', '-wal', '-shm']) rmSync(old.file + suffix, { force: true });
  }
}

export class RestoreError extends Error {
  override name = 'RestoreError';
}

/**
 * Puts the backup `from` in place of `dataDir`'s database, with no engine running on the folder. The backup is checked
 * first (a SQLite database of this app that passes its integrity check); the database it replaces is kept as
 * backups/replaced-<time>.sqlite. Answers where that copy went.
 */
export async function restoreBackup(options: { dataDir: string; from: string; clock: Clock }): Promise<{ replaced: string | null }> {
  if (!existsSync(options.from)) throw new RestoreError(`There is no backup file ${options.from}.`);
  const target = join(options.dataDir, databaseFileName);
  if (resolve(options.from) === resolve(target)) throw new RestoreError(`${options.from} is the data folder's database itself, not a backup of it.`);
  // Neither an engine nor a team server (which keeps the folder's database open in both modes) may run meanwhile.
  const locks: FolderLock[] = [];
  try {
    for (const dir of [options.dataDir, serverLockDir(options.dataDir)]) locks.push(await acquireFolderLock(dir, { command: 'npm run restore' }));
  } catch (error) {
    for (const lock of locks) await lock.release();
    if (error instanceof FolderBusyError) throw new RestoreError(`Stop the server first: ${describeBusy(error.busy)}`);
    throw error;
  }
  try {
    checkBackup(options.from);
    let replaced: string | null = null;
    if (existsSync(target)) {
      // Fold the WAL into the database so the copy kept aside is whole on its own.
      const current = new Database(target);
      current.pragma('wal_checkpoint(TRUNCATE)');
      current.close();
      const dir = join(options.dataDir, backupsDirName);
      mkdirSync(dir, { recursive: true });
      replaced = join(dir, `replaced-${new Date(options.clock.now()).toISOString().replace(/[:.]/g, '-')}.sqlite`);
      renameSync(target, replaced);
    }
    for (const suffix of ['-wal', '-shm']) rmSync(target + suffix, { force: true });
    const staging = `${target}.restoring`;
    copyFileSync(options.from, staging);
    renameSync(staging, target);
    return { replaced };
  } finally {
    for (const lock of locks) await lock.release();
  }
}

/** Where a team server keeps its own lock, held while it runs: one server per data folder, and no restore under it. */
export function serverLockDir(dataDir: string): string {
  return join(dataDir, 'team-server');
}

function checkBackup(file: string): void {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw new RestoreError(`${basename(file)} fails SQLite's integrity check (${String(integrity)}): it cannot be restored.`);
    const hasMigrations = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
    if (!hasMigrations) throw new RestoreError(`${basename(file)} is a SQLite database but not one of Returns Workbench (it has no schema_migrations table).`);
  } catch (error) {
    if (error instanceof RestoreError) throw error;
    throw new RestoreError(`${basename(file)} is not a database that can be restored: ${(error as Error).message}`);
  } finally {
    db?.close();
  }
}

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test/support/temp-dir';
import { acquireFolderLock, describeThisProcess, FolderBusyError, holderFileName, lockDirName, readLockHolder, type BusyFolder, type FolderLock } from './folder-lock';

// The data folder's engine lock within one process (the real processes are in test/integration/engine-lock.test.ts):
// a second taker refuses and names the holder, or waits; a dead holder's lock is taken over once stale; a lock taken
// from under its holder is reported lost.

let temp: ReturnType<typeof makeTempDir>;
const held: FolderLock[] = [];
afterEach(async () => {
  for (const lock of held.splice(0)) await lock.release();
  temp?.remove();
});
const take = async (...args: Parameters<typeof acquireFolderLock>) => {
  const lock = await acquireFolderLock(...args);
  held.push(lock);
  return lock;
};

/** A pid that no process has: one that just ended. */
function deadPid(): number {
  const result = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(result.stdout);
}

/** The lock and holder file a process leaves when it is killed: mtime `ageMs` old. */
function leaveLock(dir: string, pid: number, ageMs: number) {
  mkdirSync(join(dir, lockDirName), { recursive: true });
  writeFileSync(join(dir, holderFileName), JSON.stringify({ pid, host: hostname(), command: 'npm run sync -- --watch', since: '2026-12-01T10:00:00.000Z' }));
  const at = new Date(Date.now() - ageMs);
  utimesSync(join(dir, lockDirName), at, at);
}

describe('folder lock', () => {
  it('names its holder beside the lock; a second taker refuses, naming it; after release it is free again', async () => {
    temp = makeTempDir();
    const first = await take(temp.dir, { command: 'npm run sync -- --watch' });
    expect(readLockHolder(temp.dir)).toEqual({ pid: process.pid, host: hostname(), command: 'npm run sync -- --watch', since: first.holder.since });
    expect(first.tookOver).toBeNull();

    const refused = await acquireFolderLock(temp.dir).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FolderBusyError);
    expect((refused as FolderBusyError).message).toBe(
      `Another sync engine is running on ${temp.dir}: pid ${process.pid} on ${hostname()}, since ${first.holder.since.slice(0, 10)} ${first.holder.since.slice(11, 19)} UTC: npm run sync -- --watch.`,
    );

    await first.release();
    expect(existsSync(join(temp.dir, lockDirName))).toBe(false);
    expect(existsSync(join(temp.dir, holderFileName))).toBe(false);
    const again = await take(temp.dir);
    expect(again.tookOver).toBeNull();
  });

  it('waits, says once whom for, and takes the folder when the holder releases it; a wait can be called off', async () => {
    temp = makeTempDir();
    const first = await take(temp.dir, { command: 'first' });
    const told: BusyFolder[] = [];
    const waiting = acquireFolderLock(temp.dir, { wait: true, pollMs: 20, onBusy: (b) => told.push(b) });
    await until(() => told.length > 0);
    expect(told[0]).toMatchObject({ holder: { command: 'first', pid: process.pid }, isHolderGone: false });
    await first.release();
    const second = await waiting;
    held.push(second);
    expect(told).toHaveLength(1);
    expect(readLockHolder(temp.dir)?.since).toBe(second.holder.since);

    const controller = new AbortController();
    const calledOff = acquireFolderLock(temp.dir, { wait: true, pollMs: 20, signal: controller.signal });
    controller.abort(new Error('stopped waiting'));
    await expect(calledOff).rejects.toThrow('stopped waiting');
  });

  it('takes over the lock of a holder that ended without releasing it, and says whose it was', async () => {
    temp = makeTempDir();
    const pid = deadPid();
    leaveLock(temp.dir, pid, 60_000);
    const lock = await take(temp.dir);
    expect(lock.tookOver).toEqual({ holder: expect.objectContaining({ pid, command: 'npm run sync -- --watch' }) as unknown });
    expect(readLockHolder(temp.dir)?.pid).toBe(process.pid);
  });

  it('waits out a dead holder whose lock is still fresh, even without `wait`, then takes it over', async () => {
    temp = makeTempDir();
    const pid = deadPid();
    leaveLock(temp.dir, pid, 0);
    const told: BusyFolder[] = [];
    const started = Date.now();
    const lock = await take(temp.dir, { staleMs: 2_000, pollMs: 50, onBusy: (b) => told.push(b) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(told[0]?.isHolderGone).toBe(true);
    expect(lock.tookOver?.holder?.pid).toBe(pid);
  });

  it('says whose lock it took over even when the lock went stale between its look and its take', async () => {
    // CI, loaded: the lock was 1 ms short of stale when looked at, and stale when proper-lockfile took it. A clock
    // that lags real time makes that instant deterministic: the take judges by real time, as the files are stamped.
    temp = makeTempDir();
    const pid = deadPid();
    leaveLock(temp.dir, pid, 2_500);
    const lagging = { now: () => Date.now() - 1_000 };
    const lock = await take(temp.dir, { staleMs: 2_000, pollMs: 50, clock: lagging });
    expect(lock.tookOver?.holder?.pid).toBe(pid);
  });

  it('reports the lock lost when another process takes it from under its holder', async () => {
    temp = makeTempDir();
    let lost: Error | null = null;
    const lock = await take(temp.dir, { staleMs: 2_000, onLost: (e) => (lost = e) });
    // What a takeover does to the lock: its mtime is no longer the holder's.
    const at = new Date(Date.now() + 5_000);
    utimesSync(join(temp.dir, lockDirName), at, at);
    await until(() => lost !== null, 5_000);
    expect(lock.isLost()).toBe(true);
  });

  it('describes how the process was started, as its user typed it', () => {
    const argv = ['/usr/bin/node', '/repo/core/cli/sync.ts', '--watch', '--data-dir', '/d'];
    expect(describeThisProcess(argv, { npm_lifecycle_event: 'sync', npm_lifecycle_script: 'node --import tsx core/cli/sync.ts' }, '/repo')).toBe(
      'npm run sync -- --watch --data-dir /d',
    );
    // An npm script further up (npm test running a test that starts the CLI) is not how this one was started.
    expect(describeThisProcess(argv, { npm_lifecycle_event: 'test', npm_lifecycle_script: 'tsx test/run-all.ts' }, '/repo')).toBe(
      'node core/cli/sync.ts --watch --data-dir /d',
    );
  });
});

async function until(probe: () => boolean, timeoutMs = 2_000): Promise<void> {
  const started = Date.now();
  while (!probe()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join, relative } from 'node:path';
import { lock } from 'proper-lockfile';
import { systemClock } from '../adapters/system';
import type { Clock } from '../ports';

// One engine per data folder (DESIGN.md): two engines on one database would send the same calls twice and take each
// other's calls in flight for orphans. Whichever process runs the engine holds its folder's lock: a directory made
// with mkdir (atomic on every file system, network ones too) whose mtime the holder refreshes every 2 s. A holder
// that died without releasing it (SIGKILL, a crash, power loss) leaves a lock that goes stale 10 s after its last
// sign of life, and the next engine takes it over. Beside it, engine.lock.json names the holder (pid, host, command,
// since when) so that a second engine can say who holds the folder. Read-only viewers take no lock.

export const lockDirName = 'engine.lock';
export const holderFileName = 'engine.lock.json';
/** A lock whose mtime is older than this is a dead holder's. Long enough for an event loop stalled by a big pass. */
export const lockStaleMs = 10_000;
const updateMs = 2_000;

export interface LockHolder {
  pid: number;
  host: string;
  /** How the holder was started, e.g. `npm run sync -- --watch`. */
  command: string;
  /** ISO time it took the lock. */
  since: string;
}

export interface BusyFolder {
  dir: string;
  /** Null when the lock has no readable holder file beside it. */
  holder: LockHolder | null;
  /** The holder ran on this machine and its process has ended: its lock will go stale. */
  isHolderGone: boolean;
  staleMs: number;
}

export class FolderBusyError extends Error {
  override name = 'FolderBusyError';
  constructor(readonly busy: BusyFolder) {
    super(describeBusy(busy));
  }
}

export interface FolderLockOptions {
  /** How this process describes itself to a second one (default: how it was started). */
  command?: string;
  /** Wait for the holder to stop (or for its lock to go stale) instead of refusing. */
  wait?: boolean;
  /** Stops a wait: the call then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Told when the folder is busy: once, and again whenever the holder changes. */
  onBusy?: (busy: BusyFolder) => void;
  /** The lock was lost while held (another process took it over as stale, or it was removed): stop the engine. */
  onLost?: (error: Error) => void;
  /** Real time, for `since` (locks are between processes: never a sandbox's clock). */
  clock?: Clock;
  pollMs?: number;
  /** Tests only: proper-lockfile's minimum is 2 s. */
  staleMs?: number;
}

export interface FolderLock {
  dir: string;
  holder: LockHolder;
  /** Set when this took over a stale lock: its holder (null if it left no holder file) ended without releasing it. */
  tookOver: { holder: LockHolder | null } | null;
  isLost(): boolean;
  /** Removes the holder file and the lock. Safe to call twice. */
  release(): Promise<void>;
}

/** Takes `dir`'s engine lock, refusing (FolderBusyError) or waiting while another process holds it. */
export async function acquireFolderLock(dir: string, options: FolderLockOptions = {}): Promise<FolderLock> {
  const clock = options.clock ?? systemClock;
  const staleMs = options.staleMs ?? lockStaleMs;
  const pollMs = options.pollMs ?? 500;
  const lockPath = join(dir, lockDirName);
  mkdirSync(dir, { recursive: true });
  let lastSeen: string | null = null;
  let firstBusyAt: number | null = null;
  for (;;) {
    options.signal?.throwIfAborted();
    // proper-lockfile removes a stale lock without a word: note whose it was first, to say so once it is taken.
    const before = lockMtime(lockPath);
    const holderBefore = before === null ? null : readLockHolder(dir);
    let lost: Error | null = null;
    try {
      const unlock = await lock(dir, {
        lockfilePath: lockPath,
        realpath: false,
        stale: staleMs,
        update: Math.min(updateMs, staleMs / 2),
        retries: 0,
        onCompromised: (error) => {
          lost = error;
          options.onLost?.(error);
        },
      });
      const holder: LockHolder = { pid: process.pid, host: hostname(), command: options.command ?? describeThisProcess(), since: new Date(clock.now()).toISOString() };
      try {
        writeHolder(dir, holder);
      } catch (error) {
        await unlock();
        throw error;
      }
      // Judged after the take, by real time as proper-lockfile judges (the files are stamped in it): a lock that went
      // stale between the look and the take was taken over too. A live holder stamps it every 2 s, so a lock seen
      // that old is one that was stale, not one its holder released meanwhile.
      const tookOver = before !== null && Date.now() - before > staleMs ? { holder: holderBefore } : null;
      let isReleased = false;
      return {
        dir,
        holder,
        tookOver,
        isLost: () => lost !== null,
        release: async () => {
          if (isReleased) return;
          isReleased = true;
          const current = readLockHolder(dir);
          if (current?.pid === holder.pid && current.since === holder.since) rmSync(join(dir, holderFileName), { force: true });
          // A lost lock is someone else's now: leave it to them.
          if (!lost) await unlock().catch(() => undefined);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    }
    const busy = busyFolder(dir, staleMs);
    firstBusyAt ??= clock.now();
    // A holder that has ended is waited out even without `wait`: its lock goes stale within staleMs.
    const isWaitingOutTheDead = busy.isHolderGone && clock.now() - firstBusyAt < staleMs + 2 * updateMs;
    if (!options.wait && !isWaitingOutTheDead) throw new FolderBusyError(busy);
    const seen = JSON.stringify([busy.holder, busy.isHolderGone]);
    if (seen !== lastSeen) {
      lastSeen = seen;
      options.onBusy?.(busy);
    }
    await pause(pollMs, options.signal);
  }
}

/**
 * No lock at all: a stand-in for tests that must put two engines on one folder to prove the engine lease fences them
 * (issue 25). Nothing is written beside the folder; a real second engine is not refused. Never for users.
 */
export function unlockedFolder(dir: string, options: Pick<FolderLockOptions, 'command' | 'clock'> = {}): FolderLock {
  const holder: LockHolder = { pid: process.pid, host: hostname(), command: options.command ?? describeThisProcess(), since: new Date((options.clock ?? systemClock).now()).toISOString() };
  return { dir, holder, tookOver: null, isLost: () => false, release: async () => undefined };
}

/** The holder named beside `dir`'s lock, or null (no lock file, or unreadable). */
export function readLockHolder(dir: string): LockHolder | null {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, holderFileName), 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string' || typeof parsed.command !== 'string' || typeof parsed.since !== 'string') return null;
    return { pid: parsed.pid, host: parsed.host, command: parsed.command, since: parsed.since };
  } catch {
    return null;
  }
}

export function describeHolder(holder: LockHolder | null): string {
  if (!holder) return `an engine that left no ${holderFileName} beside its lock`;
  const since = holder.since.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return `pid ${holder.pid} on ${holder.host}, since ${since}: ${holder.command}`;
}

export function describeBusy(busy: BusyFolder): string {
  if (busy.isHolderGone) {
    return (
      `The sync engine that held ${busy.dir} (${describeHolder(busy.holder)}) is no longer running and did not release it; ` +
      `its lock is taken over once it has shown no sign of life for ${busy.staleMs / 1000} s.`
    );
  }
  return `Another sync engine is running on ${busy.dir}: ${describeHolder(busy.holder)}.`;
}

/** How this process was started, as a person would type it: `npm run sync -- --watch`, or the node command line. */
export function describeThisProcess(argv = process.argv, env = process.env, cwd = process.cwd()): string {
  if (process.versions.electron) return 'Returns Workbench desktop app';
  const script = argv[1] ? relative(cwd, argv[1]) : '';
  const args = argv.slice(2).join(' ');
  const event = env.npm_lifecycle_event;
  if (event && script && (env.npm_lifecycle_script ?? '').includes(script)) return `npm run ${event}${args ? ` -- ${args}` : ''}`;
  return [basename(argv[0] ?? 'node'), script, args].filter(Boolean).join(' ');
}

function busyFolder(dir: string, staleMs: number): BusyFolder {
  const holder = readLockHolder(dir);
  return { dir, holder, isHolderGone: holder !== null && holder.host === hostname() && !isAlive(holder.pid), staleMs };
}

function writeHolder(dir: string, holder: LockHolder): void {
  // Written aside and renamed, so a reader never sees half a file.
  const temporary = join(dir, `${holderFileName}.${process.pid}.tmp`);
  writeFileSync(temporary, JSON.stringify(holder, null, 2) + '\n');
  renameSync(temporary, join(dir, holderFileName));
}

/** When the lock last showed a sign of life (real time, ms); null when there is no lock. */
function lockMtime(lockPath: string): number | null {
  try {
    return statSync(lockPath).mtimeMs;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted() {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    }
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../core/adapters/system';
import type { FaultProfiles } from '../../core/sandbox/http/faults';
import { startSandbox, type Sandbox } from '../../core/sandbox/index';

// The CLIs as a user starts them: `npm run <script> -- <args>` in a process group of its own (as a terminal gives
// each command), with stdout and stderr collected line by line so a test waits for what the program says, never for
// a fixed time. Linux only where it reads /proc (which process in the group is the engine).

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when it exited. */
  at: number;
}

export interface CliRun {
  child: ChildProcess;
  /** The npm process: also the id of the process group every process it started is in. */
  pid: number;
  stdout(): string[];
  stderr(): string;
  /** Resolves with the first line (of either stream) matching `pattern`; rejects after `timeoutMs` or at exit. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Resolves at exit; rejects after `timeoutMs`. */
  exited(timeoutMs: number): Promise<Exit>;
  isRunning(): boolean;
  /** SIGKILL to the whole group (cleanup: also reaches a process its parent left behind). */
  killGroup(): void;
}

export function startNpm(script: string, args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const child = spawn('npm', ['run', script, '--', ...args], {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const out: string[] = [];
  let err = '';
  let pending = { out: '', err: '' };
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  const lines: string[] = [];
  const onLine = (line: string) => {
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.pattern.test(line)) {
        waiters.delete(w);
        w.resolve(line);
      }
    }
  };
  const feed = (stream: 'out' | 'err', chunk: string) => {
    const text = pending[stream] + chunk;
    const parts = text.split('\n');
    pending = { ...pending, [stream]: parts.pop() ?? '' };
    for (const line of parts) {
      if (stream === 'out') out.push(line);
      onLine(line);
    }
  };
  child.stdout?.setEncoding('utf8').on('data', (c: string) => feed('out', c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    err += c;
    feed('err', c);
  });
  let exit: Exit | null = null;
  const exitListeners = new Set<(e: Exit) => void>();
  child.on('exit', (code, signal) => {
    exit = { code, signal, at: Date.now() };
    for (const l of exitListeners) l(exit);
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`npm run ${script} did not start`);

  const describe = () => `npm run ${script} ${args.join(' ')}\n--- stdout (last lines) ---\n${out.slice(-5).join('\n')}\n--- stderr ---\n${err.slice(-3000)}`;
  return {
    child,
    pid,
    stdout: () => [...out],
    stderr: () => err,
    waitFor(pattern, timeoutMs) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = { pattern, resolve: (line: string) => done(() => resolve(line)) };
        const timer = setTimeout(() => done(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms from ${describe()}`))), timeoutMs);
        const onExit = (e: Exit) => done(() => reject(new Error(`exited (code ${e.code}, signal ${e.signal}) before a line matching ${pattern} from ${describe()}`)));
        function done(settle: () => void) {
          clearTimeout(timer);
          waiters.delete(waiter);
          exitListeners.delete(onExit);
          settle();
        }
        waiters.add(waiter);
        if (exit) onExit(exit);
        else exitListeners.add(onExit);
      });
    },
    exited(timeoutMs) {
      if (exit) return Promise.resolve(exit);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          exitListeners.delete(onExit);
          reject(new Error(`still running after ${timeoutMs} ms: ${describe()}`));
        }, timeoutMs);
        const onExit = (e: Exit) => {
          clearTimeout(timer);
          exitListeners.delete(onExit);
          resolve(e);
        };
        exitListeners.add(onExit);
      });
    },
    isRunning: () => groupMembers(pid).length > 0,
    killGroup() {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    },
  };
}

/** Processes whose process group is `pgid` (a parent that died leaves its children in the group). */
export function groupMembers(pgid: number): { pid: number; ppid: number; cmdline: string[] }[] {
  const found: { pid: number; ppid: number; cmdline: string[] }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid || fields[0] === 'Z') continue;
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      found.push({ pid: Number(name), ppid: Number(fields[1]), cmdline });
    } catch {
      // It ended while we looked.
    }
  }
  return found;
}

/** The process in the group that runs `entry` itself: not the shell npm starts, nor a wrapper that starts it. */
export function enginePid(pgid: number, entry: string): number | null {
  const candidates = groupMembers(pgid).filter(
    (p) => p.cmdline.some((a) => a.endsWith(entry)) && p.cmdline[0] !== 'sh' && !p.cmdline.some((a) => a.includes('.bin/tsx')),
  );
  return candidates.at(-1)?.pid ?? null;
}

/** The stdout lines that are JSON objects (the sync CLI prints one per cycle), parsed. */
export function jsonLines(lines: string[]): Record<string, unknown>[] {
  return lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * A standalone sandbox, as `npm run sandbox` starts one, on real time, and the live-mode config file `npm run sync
 * -- --config` takes to reach it (secrets through the environment, as in a headless run). Its world begins now, with
 * a few days of orders behind it, so the first cycle finds returns and sends calls.
 */
export async function startStandalone(dir: string, faults: { rebound?: FaultProfiles; mirakl?: FaultProfiles } = {}) {
  const sandbox: Sandbox = await startSandbox({
    seed: 7,
    clock: systemClock,
    scenario: { startMs: systemClock.now(), historyDays: 3, ordersPerDay: 40, returnRate: 0.4, returnAfterDays: [0, 1] },
    ...(faults.mirakl ? { miraklFaults: faults.mirakl } : {}),
    ...(faults.rebound ? { reboundFaults: faults.rebound } : {}),
    tickMs: 250,
  });
  const configFile = join(dir, 'live.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      mirakl: { baseUrl: sandbox.mirakl.baseUrl, shopId: sandbox.mirakl.shopId },
      rebound: { baseUrl: sandbox.rebound.baseUrl, clientId: sandbox.rebound.clientId },
    }),
  );
  const env = { RW_MIRAKL_API_KEY: sandbox.mirakl.apiKey, RW_REBOUND_CLIENT_SECRET: sandbox.rebound.clientSecret };
  return { sandbox, configFile, env };
}

import type { Result } from '../../core/contract';
import type { Logger } from '../../core/ports';
import { parseFromCore, type CoreBootConfig, type ShutdownReport, type ToCore } from '../core-process/protocol';

// The core (database, sync engine, keychain) runs in its own process so a long sync step or a crash never freezes
// the window. This supervisor starts it, waits for its ready handshake, routes commands and events, restarts it
// with backoff when it dies, and on quit lets the cycle in flight finish (bounded) before the process goes.
// It knows the child only through `ChildHandle`: Electron's utilityProcess in the app, child_process.fork in tests.

export interface ChildHandle {
  postMessage(message: ToCore): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (code: number | null) => void): void;
  kill(): void;
  readonly pid?: number | undefined;
}

export type SupervisorState = 'idle' | 'starting' | 'ready' | 'restarting' | 'failed' | 'stopping' | 'stopped';

export interface Timers {
  now(): number;
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: Timers = {
  now: () => Date.now(),
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface SupervisorOptions {
  launch: () => ChildHandle;
  config: CoreBootConfig;
  log: Logger;
  onEvent: (name: string, payload: unknown) => void;
  onStateChange?: (state: SupervisorState, detail: string | null) => void;
  /** Opening and migrating a large database takes a while: this is how long a start may take. */
  readyTimeoutMs?: number;
  /** Restart delays double from `initialMs` up to `maxMs`, and start again from `initialMs` after a stable run. */
  backoff?: { initialMs: number; maxMs: number };
  stableAfterMs?: number;
  /** Give up (state `failed`) after this many crashes inside `crashWindowMs`: something needs a person. */
  maxCrashes?: number;
  crashWindowMs?: number;
  /** How long a command waits for a (re)starting core before it is answered with an error. */
  waitForReadyMs?: number;
  timers?: Timers;
}

export interface ShutdownOutcome {
  /** What the core reported: whether the cycle in flight finished, and how many calls were recorded as interrupted. */
  report: ShutdownReport | null;
  /** The core did not stop in time and was killed. */
  wasKilled: boolean;
}

const failure = (code: 'INTERNAL' | 'UPSTREAM', message: string): Result<never> => ({ ok: false, error: { code, message } });

export function createSupervisor(options: SupervisorOptions) {
  const timers = options.timers ?? realTimers;
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const backoff = options.backoff ?? { initialMs: 1_000, maxMs: 30_000 };
  const stableAfterMs = options.stableAfterMs ?? 60_000;
  const maxCrashes = options.maxCrashes ?? 5;
  const crashWindowMs = options.crashWindowMs ?? 10 * 60_000;
  const waitForReadyMs = options.waitForReadyMs ?? 30_000;
  const { log } = options;
  let config = options.config;

  let state: SupervisorState = 'idle';
  let detail: string | null = null;
  let child: ChildHandle | null = null;
  let generation = 0;
  let readyTimer: unknown = null;
  let restartTimer: unknown = null;
  let readySince: number | null = null;
  let restartAttempt = 0;
  let crashTimes: number[] = [];
  let lastProblem: string | null = null;
  let nextId = 1;
  const pending = new Map<number, { command: string; resolve: (r: Result<unknown>) => void }>();
  let readyWaiters: (() => void)[] = [];
  let onStopped: ((report: ShutdownReport) => void) | null = null;
  let onExited: (() => void) | null = null;

  function setState(next: SupervisorState, why: string | null = null): void {
    state = next;
    detail = why;
    options.onStateChange?.(next, why);
    if (next === 'ready' || next === 'failed' || next === 'stopping' || next === 'stopped') {
      const waiters = readyWaiters;
      readyWaiters = [];
      waiters.forEach((w) => w());
    }
  }

  function spawn(): void {
    restartTimer = null;
    const mine = ++generation;
    setState(restartAttempt === 0 ? 'starting' : 'restarting', lastProblem);
    let handle: ChildHandle;
    try {
      handle = options.launch();
    } catch (error) {
      crashed(`the background service could not be launched: ${(error as Error).message}`);
      return;
    }
    child = handle;
    handle.onMessage((raw) => {
      if (mine === generation) receive(raw);
    });
    handle.onExit((code) => {
      if (mine === generation) exited(code);
    });
    readyTimer = timers.set(() => {
      readyTimer = null;
      lastProblem = `the background service did not become ready within ${Math.round(readyTimeoutMs / 1000)} s`;
      log.error('core process start timed out', { readyTimeoutMs });
      handle.kill();
    }, readyTimeoutMs);
  }

  function receive(raw: unknown): void {
    const message = parseFromCore(raw);
    if (!message) {
      log.warn('ignored a malformed message from the core process');
      return;
    }
    switch (message.type) {
      case 'hello':
        child?.postMessage({ type: 'boot', config });
        return;
      case 'ready':
        clearReadyTimer();
        readySince = timers.now();
        lastProblem = null;
        log.info('core process ready', { mode: message.mode, restarts: restartAttempt });
        setState('ready');
        return;
      case 'bootFailed':
        clearReadyTimer();
        lastProblem = message.message;
        log.error('core process could not start', { message: message.message, isPermanent: message.isPermanent });
        if (message.isPermanent) {
          setState('failed', message.message);
          child?.kill();
        }
        // Otherwise the process exits and is restarted like after a crash.
        return;
      case 'result': {
        const call = pending.get(message.id);
        if (!call) return;
        pending.delete(message.id);
        call.resolve(message.result);
        return;
      }
      case 'event':
        options.onEvent(message.name, message.payload);
        return;
      case 'stopped':
        onStopped?.(message.report);
        return;
    }
  }

  function clearReadyTimer(): void {
    if (readyTimer !== null) timers.clear(readyTimer);
    readyTimer = null;
  }

  function failPending(message: (command: string) => string): void {
    for (const [id, call] of pending) {
      pending.delete(id);
      call.resolve(failure('INTERNAL', message(call.command)));
    }
  }

  function exited(code: number | null): void {
    clearReadyTimer();
    child = null;
    if (state === 'stopping' || state === 'stopped') {
      onExited?.();
      return;
    }
    failPending(
      (command) =>
        `The background service stopped while running ${command}, and is restarting. Check the result (for example the return's timeline) before trying again.`,
    );
    if (state === 'failed') return;
    crashed(lastProblem ?? `the background service stopped unexpectedly (exit code ${code ?? 'none'})`);
  }

  function crashed(why: string): void {
    const now = timers.now();
    if (readySince !== null && now - readySince >= stableAfterMs) restartAttempt = 0;
    readySince = null;
    crashTimes = [...crashTimes.filter((t) => now - t < crashWindowMs), now];
    lastProblem = why;
    if (crashTimes.length > maxCrashes) {
      const message = `The background service stopped ${crashTimes.length} times in ${Math.round(crashWindowMs / 60_000)} minutes and will not be restarted again; the last problem: ${why}. Restart the app; if it happens again, send the log file from the logs folder to support.`;
      log.error('core process keeps crashing; giving up', { crashes: crashTimes.length, why });
      setState('failed', message);
      return;
    }
    const delay = Math.min(backoff.initialMs * 2 ** restartAttempt, backoff.maxMs);
    restartAttempt += 1;
    log.warn('core process stopped; restarting', { why, delayMs: delay, attempt: restartAttempt });
    setState('restarting', why);
    restartTimer = timers.set(spawn, delay);
  }

  function waitUntilSettled(): Promise<boolean> {
    if (state === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = timers.set(() => {
        readyWaiters = readyWaiters.filter((w) => w !== done);
        resolve(false);
      }, waitForReadyMs);
      const done = () => {
        timers.clear(timer);
        resolve(state === 'ready');
      };
      readyWaiters.push(done);
    });
  }

  const api = {
    get state(): SupervisorState {
      return state;
    },
    /** Why the service is restarting or failed, in words for the user. */
    get detail(): string | null {
      return detail;
    },

    start(): void {
      if (state !== 'idle') throw new Error(`the supervisor was already started (state ${state})`);
      spawn();
    },

    /** Sends one contract command to the core; answers with a contract error when the core cannot take it. */
    async invoke(command: string, input: unknown): Promise<Result<unknown>> {
      const refusal = (): Result<never> | null => {
        if (state === 'stopping' || state === 'stopped') return failure('INTERNAL', 'The app is closing; the command was not run.');
        if (state === 'failed') return failure('INTERNAL', detail ?? 'The background service could not start.');
        return null;
      };
      const before = refusal();
      if (before) return before;
      if (!(await waitUntilSettled()) || !child) {
        return refusal() ?? failure('INTERNAL', 'The background service is still starting; try again in a moment.');
      }
      const id = nextId++;
      const target = child;
      return new Promise((resolve) => {
        pending.set(id, { command, resolve });
        try {
          target.postMessage({ type: 'invoke', id, command, input });
        } catch (error) {
          pending.delete(id);
          resolve(failure('INTERNAL', `The command could not reach the background service (${(error as Error).message}).`));
        }
      });
    },

    /**
     * Asks the core to stop: it stops scheduling, lets the cycle in flight finish for up to `drainMs`, records any
     * call still in flight as interrupted, closes the database and exits. Killed if it has not exited `graceMs` later.
     */
    async shutdown(drainMs: number, graceMs = 5_000): Promise<ShutdownOutcome> {
      if (restartTimer !== null) timers.clear(restartTimer);
      restartTimer = null;
      const running = child;
      const wasReady = state === 'ready';
      setState('stopping');
      failPending((command) => `The app is closing; ${command} may not have finished.`);
      if (!running) {
        setState('stopped');
        return { report: null, wasKilled: false };
      }
      if (!wasReady) {
        // Still starting: nothing has run yet, and opening the database is one transaction per migration.
        running.kill();
        setState('stopped');
        return { report: null, wasKilled: true };
      }
      let report: ShutdownReport | null = null;
      let wasKilled = false;
      await new Promise<void>((resolve) => {
        const killTimer = timers.set(() => {
          wasKilled = true;
          log.error('core process did not stop in time; killing it', { drainMs, graceMs });
          running.kill();
          resolve();
        }, drainMs + graceMs);
        onStopped = (r) => {
          report = r;
        };
        onExited = () => {
          timers.clear(killTimer);
          resolve();
        };
        running.postMessage({ type: 'shutdown', drainMs });
      });
      onStopped = null;
      onExited = null;
      child = null;
      setState('stopped');
      return { report, wasKilled };
    },

    /**
     * Stops the core the way quitting does (the cycle in flight finishes or is recorded) and starts it again with
     * `next`: how the desktop app opens an evidence bundle read-only, and goes back to its own data.
     */
    async reboot(next: CoreBootConfig, drainMs: number): Promise<ShutdownOutcome> {
      const outcome = await api.shutdown(drainMs);
      config = next;
      restartAttempt = 0;
      crashTimes = [];
      lastProblem = null;
      readySince = null;
      spawn();
      return outcome;
    },
  };
  return api;
}

export type Supervisor = ReturnType<typeof createSupervisor>;

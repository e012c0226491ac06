import type { Clock } from '../ports';

/**
 * Sandbox time for Sandbox mode, in two phases. First the catch-up: time stands still except when `catchUpTo` moves
 * it, so the sync engine can be run over a past stretch of the world in steps, as fast as it goes, before anything is
 * shown (a new user finds a finished month with receipts, refunds and restocks in it). Then, from `run()` on, it
 * follows real time from where the catch-up left it: `warmupSpeed` times real time for the first `warmupMs` of real
 * time, so the first returns of the new month reach every stage within a minute or so, then `speed` times real time,
 * a pace the sync keeps up with on a laptop for as long as the app stays open. It never goes backwards.
 */
export interface SandboxClock extends Clock {
  /** During the catch-up: moves sandbox time forward to `ms`. */
  catchUpTo(ms: number): void;
  /** Ends the catch-up: sandbox time runs with real time from here on (calling it again changes nothing). */
  run(): void;
  readonly isRunning: boolean;
}

export function createSandboxClock(base: Clock, fromMs: number, options: { speed: number; warmupSpeed: number; warmupMs: number }): SandboxClock {
  let caughtUpTo = fromMs;
  let runningSince: number | null = null;
  return {
    now: () => {
      if (runningSince === null) return caughtUpTo;
      const real = Math.max(0, base.now() - runningSince);
      const fast = Math.min(real, options.warmupMs);
      return Math.floor(caughtUpTo + fast * options.warmupSpeed + (real - fast) * options.speed);
    },
    catchUpTo: (ms) => {
      if (runningSince !== null) throw new Error('the sandbox clock runs with real time now: the catch-up is over');
      if (!Number.isFinite(ms) || ms < caughtUpTo) throw new RangeError(`sandbox time only moves forward (now ${new Date(caughtUpTo).toISOString()}, asked ${ms})`);
      caughtUpTo = ms;
    },
    run: () => {
      runningSince ??= base.now();
    },
    get isRunning() {
      return runningSince !== null;
    },
  };
}

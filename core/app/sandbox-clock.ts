import type { Clock } from '../ports';

/**
 * Sandbox time for Sandbox mode: `warmupSpeed` times real time for the first `warmupMs` of real time, so the first
 * returns reach every stage (received, refunded, restocked) within a minute or so, then `speed` times real time, a
 * pace the sync keeps up with on a laptop for as long as the app stays open. Never goes backwards.
 */
export function createWarmupClock(base: Clock, startMs: number, options: { speed: number; warmupSpeed: number; warmupMs: number }): Clock {
  const baseStart = base.now();
  return {
    now: () => {
      const real = Math.max(0, base.now() - baseStart);
      const fast = Math.min(real, options.warmupMs);
      return Math.floor(startMs + fast * options.warmupSpeed + (real - fast) * options.speed);
    },
  };
}

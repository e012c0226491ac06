import type { Clock } from '../ports';

/** Sandbox time for demos: starts at `startMs` and runs `speed` times faster than the base clock. */
export function createScaledClock(base: Clock, startMs: number, speed: number): Clock {
  const baseStart = base.now();
  return { now: () => Math.floor(startMs + (base.now() - baseStart) * speed) };
}

/** Sandbox time that moves only when told to, and only forward: a bench or a test drives it over /_sim/clock. */
export interface SteppedClock extends Clock {
  moveTo(ms: number): void;
}

export function createSteppedClock(startMs: number): SteppedClock {
  let current = startMs;
  return {
    now: () => current,
    moveTo: (ms) => {
      if (!Number.isFinite(ms) || ms < current) throw new RangeError(`sandbox time only moves forward (now ${new Date(current).toISOString()}, asked ${ms})`);
      current = ms;
    },
  };
}

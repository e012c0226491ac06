import type { Clock } from '../ports';

/** Sandbox time for demos: starts at `startMs` and runs `speed` times faster than the base clock. */
export function createScaledClock(base: Clock, startMs: number, speed: number): Clock {
  const baseStart = base.now();
  return { now: () => Math.floor(startMs + (base.now() - baseStart) * speed) };
}

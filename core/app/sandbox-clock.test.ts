import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { createSandboxClock } from './sandbox-clock';

// Sandbox mode's clock: still while the engine catches up on the past (moved only by the catch-up), then running with
// real time from where the catch-up left it, fast for the warm-up and at the set speed after.

const hour = 3_600_000;
const from = Date.UTC(2026, 8, 24);

describe('the sandbox clock', () => {
  it('stands still during the catch-up and moves only forward, when told', () => {
    const real = createFakeClock(Date.UTC(2026, 11, 6));
    const clock = createSandboxClock(real, from, { speed: 600, warmupSpeed: 7200, warmupMs: 75_000 });
    real.advance(10_000);
    expect(clock.now()).toBe(from);
    clock.catchUpTo(from + 3 * hour);
    expect(clock.now()).toBe(from + 3 * hour);
    expect(() => clock.catchUpTo(from + hour)).toThrow(/only moves forward/);
    expect(clock.isRunning).toBe(false);
  });

  it('runs from where the catch-up left it: warm-up speed first, then the set speed', () => {
    const real = createFakeClock(Date.UTC(2026, 11, 6));
    const clock = createSandboxClock(real, from, { speed: 600, warmupSpeed: 7200, warmupMs: 75_000 });
    const opening = from + 7 * 24 * hour;
    clock.catchUpTo(opening);
    real.advance(30_000); // the catch-up's own real time is not sandbox time
    clock.run();
    expect(clock.now()).toBe(opening);
    real.advance(75_000);
    expect(clock.now()).toBe(opening + 75_000 * 7200);
    real.advance(1_000);
    expect(clock.now()).toBe(opening + 75_000 * 7200 + 600_000);
    clock.run(); // a second call changes nothing
    expect(clock.now()).toBe(opening + 75_000 * 7200 + 600_000);
    expect(() => clock.catchUpTo(clock.now() + hour)).toThrow(/catch-up is over/);
  });
});

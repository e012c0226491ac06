import { describe, expect, it } from 'vitest';
import { budgetFloorMs, drainFloor, naiveMiraklCalls, neededCalls, percentile } from './baselines';

// The yardsticks of `npm run bench`: a wrong floor or baseline would make every ratio in the table wrong.
describe('bench baselines', () => {
  it('counts one naive call per action', () => {
    expect(naiveMiraklCalls({ accepts: 2, labelPushes: 10, receipts: 10, compliance: 10, closes: 10, refunds: 13, stockUpdates: 9 })).toBe(64);
  });

  it('spaces calls by an interval budget and batches them by a window budget', () => {
    const minute = 60_000;
    expect(budgetFloorMs(0, { kind: 'interval', minIntervalMs: minute })).toBe(0);
    expect(budgetFloorMs(1, { kind: 'interval', minIntervalMs: minute })).toBe(0);
    expect(budgetFloorMs(200, { kind: 'interval', minIntervalMs: minute })).toBe(199 * minute);
    expect(budgetFloorMs(300, { kind: 'window', max: 300, windowMs: minute })).toBe(0);
    expect(budgetFloorMs(301, { kind: 'window', max: 300, windowMs: minute })).toBe(minute);
    expect(budgetFloorMs(40_000, { kind: 'window', max: 300, windowMs: minute })).toBe(133 * minute);
  });

  it('takes the slowest budget as the drain floor', () => {
    const budgets = { or11: { kind: 'interval', minIntervalMs: 60_000 }, rebound: { kind: 'window', max: 300, windowMs: 60_000 } } as const;
    const needed = neededCalls({ orders: 10_000, returns: 10_000 }, budgets);
    expect(needed.map((x) => x.calls)).toEqual([200, 40_000]);
    const floor = drainFloor(needed);
    expect(floor.ms).toBe(199 * 60_000);
    expect(floor.binding?.name).toBe('mirakl OR11');
  });

  it('ranks percentiles with unfinished samples last', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([1, 2, Number.POSITIVE_INFINITY], 95)).toBe(Number.POSITIVE_INFINITY);
    expect(percentile([], 50)).toBeNaN();
  });
});

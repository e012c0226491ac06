import { describe, expect, it } from 'vitest';
import { backlogFloor, budgetFloorMs, coverCalls, describeFloor, naiveMiraklCalls, percentile, slotCalls, steadyFloor, type FloorBudgets } from './baselines';

// The yardsticks of `npm run bench`: a wrong floor or baseline would make every ratio in the table wrong.
describe('bench baselines', () => {
  it('counts one naive call per action', () => {
    expect(naiveMiraklCalls({ accepts: 2, labelPushes: 10, receipts: 10, compliance: 10, closes: 10, refunds: 13, stockUpdates: 9 })).toBe(64);
  });

  it('spaces calls by an interval budget and batches them by a window budget', () => {
    expect(budgetFloorMs(0, { kind: 'interval', minIntervalMs: minute })).toBe(0);
    expect(budgetFloorMs(1, { kind: 'interval', minIntervalMs: minute })).toBe(0);
    expect(budgetFloorMs(200, { kind: 'interval', minIntervalMs: minute })).toBe(199 * minute);
    expect(budgetFloorMs(300, { kind: 'window', max: 300, windowMs: minute })).toBe(0);
    expect(budgetFloorMs(301, { kind: 'window', max: 300, windowMs: minute })).toBe(minute);
    expect(budgetFloorMs(40_000, { kind: 'window', max: 300, windowMs: minute })).toBe(133 * minute);
  });

  const minute = 60_000;
  const budgets = {
    mirakl: { RT11: { kind: 'interval', minIntervalMs: 5 * minute }, OR11: { kind: 'interval', minIntervalMs: minute }, STO01: { kind: 'interval', minIntervalMs: minute } },
    rebound: { kind: 'window', max: 300, windowMs: minute },
  } satisfies FloorBudgets;

  it('counts the least calls per operation for a backlog, and OR11 by id binds at 10,000 returns', () => {
    const floor = backlogFloor({ orders: 10_000, returns: 10_000, toAccept: 2_030, refundLines: 13_590 }, budgets);
    const calls = Object.fromEntries(floor.operations.map((o) => [`${o.api} ${o.operation}`, o.calls]));
    expect(calls).toMatchObject({
      'Mirakl RT11': 100,
      'Mirakl OR11 by id': 200,
      'Mirakl RT21': 21,
      'Mirakl RT04': 100,
      'Mirakl RT25': 100,
      'Mirakl RT26': 100,
      'Mirakl RT27': 100,
      'Mirakl OR28': 136,
      'Mirakl STO01': 1,
      'ReBound all operations (one client budget)': 30_000,
    });
    // OR11: 200 calls a minute apart, the first at once. ReBound: 30,000 calls at 300 a minute = 99 minutes.
    expect(floor.binding.operation).toBe('OR11 by id');
    expect(floor.ms).toBe(199 * minute);
    expect(floor.operations.find((o) => o.api === 'ReBound')?.ms).toBe(99 * minute);
    // RT11's 100 pages are one poll: only the first page is budgeted.
    expect(floor.operations.find((o) => o.operation === 'RT11')).toMatchObject({ chargedCalls: 1, ms: 0 });
    expect(floor.miraklCalls).toBe(100 + 200 + 21 + 4 * 100 + 136 + 5);
    expect(floor.miraklCalls / 10_000).toBeCloseTo(0.0862, 4);
    // 199 min of tokens at 30 min each.
    expect(floor.reboundCalls).toBe(30_000 + 7);
    const lines = describeFloor(floor);
    expect(lines.filter((l) => l.endsWith('← binds'))).toEqual([
      'Mirakl OR11 by id: 2 reads × ⌈10,000 orders / 100⌉ (lines, then refunds REFUNDED) = 200 calls, one per minute → 199 min  ← binds',
    ]);
  });

  it('lets ReBound bind when the orders come many returns each', () => {
    const floor = backlogFloor({ orders: 1_000, returns: 20_000, toAccept: 0, refundLines: 20_000 }, budgets);
    expect(floor.binding.api).toBe('ReBound');
    expect(floor.ms).toBe((Math.ceil(41_000 / 300) - 1) * minute);
  });

  it('covers actions with the fewest windows, at most a batch each', () => {
    expect(coverCalls([], 60_000, 100)).toBe(0);
    expect(coverCalls([0, 59_000, 60_000, 61_000], 60_000, 100)).toBe(2);
    expect(coverCalls([5, 1, 3], 60_000, 2)).toBe(2);
    expect(slotCalls([0, 1, 899_999, 900_000], 0, 900_000, 100)).toBe(2);
    expect(slotCalls([0, 1, 2], 0, 900_000, 2)).toBe(2);
  });

  it('counts a steady flow per day and per return: polls, batches and one call per receipt a minute apart', () => {
    const from = 0;
    const to = 18 * 60 * minute;
    // 4 returns in the first quarter hour (one order has two), 1 in the second; receipts 10 s and 5 min apart.
    const returns = [
      { at: 1 * minute, orderId: 'A', isWaitingAcceptance: true, lines: 1 },
      { at: 2 * minute, orderId: 'A', isWaitingAcceptance: false, lines: 1 },
      { at: 3 * minute, orderId: 'B', isWaitingAcceptance: false, lines: 2 },
      { at: 4 * minute, orderId: 'C', isWaitingAcceptance: false, lines: 1 },
      { at: 20 * minute, orderId: 'D', isWaitingAcceptance: true, lines: 1 },
    ];
    const registered = [100 * minute, 100 * minute + 10_000, 105 * minute, 300 * minute];
    const floor = steadyFloor({ from, to, returns, registered, processed: [101 * minute, 400 * minute], restocked: [101 * minute] });
    const calls = Object.fromEntries(floor.operations.map((o) => [o.operation, o.calls]));
    expect(calls).toEqual({
      RT11: 72, // 18 h / 15 min, one page each
      RT21: 2,
      RT04: 2,
      'OR11 by id': 2 + 2, // orders found by two polls; two refund batches (100–105 min, 300 min)
      RT25: 3, // 100 min and +10 s share a call; 105 min and 300 min do not
      OR28: 2,
      RT26: 2,
      RT27: 2,
      'OF52, OF53, OF54, STO01, STO02': 5,
      'sales orders, creates, reads': 4 + 10,
      'oauth.token': 36,
    });
    expect(floor.miraklCalls).toBe(72 + 2 + 2 + 4 + 3 + 2 + 2 + 2 + 5);
    expect(floor.miraklPerDay).toBeCloseTo((94 * 24) / 18, 6);
    expect(floor.miraklPerReturn).toBeCloseTo(94 / 5, 6);
    expect(floor.reboundPerReturn).toBeCloseTo(50 / 5, 6);
  });

  it('ranks percentiles with unfinished samples last', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([1, 2, Number.POSITIVE_INFINITY], 95)).toBe(Number.POSITIVE_INFINITY);
    expect(percentile([], 50)).toBeNaN();
  });
});

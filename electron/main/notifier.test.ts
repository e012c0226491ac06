import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../../core/adapters/fake-clock';
import { commands } from '../../core/contract';
import { exceptionTypes } from '../../core/exceptions/catalogue';
import { createNotifier, criticalExceptionsQuery, type CriticalExceptionSeen } from './notifier';

const minute = 60_000;
const refundWithoutReceipt = (id: number, returnId = `R-${id}`): CriticalExceptionSeen => ({
  id,
  type: 'REFUND_WITHOUT_RECEIPT',
  title: exceptionTypes.REFUND_WITHOUT_RECEIPT.title,
  returnId,
});
const credentialsRefused = (id: number): CriticalExceptionSeen => ({
  id,
  type: 'CREDENTIALS_INVALID',
  title: exceptionTypes.CREDENTIALS_INVALID.title,
  returnId: null,
});

function setup() {
  const clock = createFakeClock();
  const notifier = createNotifier({ now: clock.now, criticalIntervalMs: 10 * minute, failuresInARow: 3, syncFailingIntervalMs: 60 * minute });
  return { clock, notifier };
}

describe('notifications for critical exceptions', () => {
  it('the catalogue marks the exceptions this is about as critical, and main asks for them in a valid query', () => {
    expect(exceptionTypes.REFUND_WITHOUT_RECEIPT.severity).toBe('critical');
    expect(exceptionTypes.CREDENTIALS_INVALID.severity).toBe('critical');
    expect(commands['exceptions.list'].input.safeParse(criticalExceptionsQuery).success).toBe(true);
  });

  it('stays quiet about what was already open when the app started, then notifies for a new one at once', () => {
    const { notifier } = setup();
    expect(notifier.observeCritical([refundWithoutReceipt(1), refundWithoutReceipt(2)])).toEqual([]);
    expect(notifier.observeCritical([refundWithoutReceipt(1), refundWithoutReceipt(2)])).toEqual([]);
    expect(notifier.observeCritical([refundWithoutReceipt(1), refundWithoutReceipt(2), refundWithoutReceipt(3, 'R-77')])).toEqual([
      { kind: 'critical', title: 'Critical: Refund without a verified receipt', body: expect.stringContaining('Return R-77'), opens: 'exceptions' },
    ]);
  });

  it('gathers what arrives inside the quiet interval into one summary at its end', () => {
    const { clock, notifier } = setup();
    notifier.observeCritical([]);
    expect(notifier.observeCritical([refundWithoutReceipt(1)])).toHaveLength(1);

    clock.advance(2 * minute);
    expect(notifier.observeCritical([refundWithoutReceipt(1), refundWithoutReceipt(2)])).toEqual([]);
    clock.advance(2 * minute);
    expect(notifier.observeCritical([refundWithoutReceipt(2), refundWithoutReceipt(3), credentialsRefused(4)])).toEqual([]);
    expect(notifier.nextFlushAt()).toBe(clock.now() + 6 * minute);

    clock.advance(5 * minute);
    expect(notifier.flush()).toEqual([]);
    clock.advance(1 * minute);
    expect(notifier.flush()).toEqual([
      {
        kind: 'critical',
        title: '3 new critical exceptions',
        body: '2 × Refund without a verified receipt; 1 × Credentials refused',
        opens: 'exceptions',
      },
    ]);
    expect(notifier.flush()).toEqual([]);
    expect(notifier.nextFlushAt()).toBeNull();
  });

  it('never notifies twice for the same exception, even after it leaves and re-enters the list', () => {
    const { clock, notifier } = setup();
    notifier.observeCritical([]);
    expect(notifier.observeCritical([refundWithoutReceipt(5)])).toHaveLength(1);
    clock.advance(30 * minute);
    expect(notifier.observeCritical([])).toEqual([]);
    expect(notifier.observeCritical([refundWithoutReceipt(5)])).toEqual([]);
    expect(notifier.flush()).toEqual([]);
  });
});

describe('notifications for sync failing repeatedly', () => {
  const rt11 = { feed: 'mirakl.returns', label: 'Mirakl returns (RT11)' };
  const rebound = { feed: 'rebound', label: 'ReBound parcels and grading' };
  const fail = (message: string) => ({ isFailure: true, message });
  const ok = { isFailure: false };

  it('says nothing about a failure or two, only once the same feed failed three times in a row', () => {
    const { notifier } = setup();
    expect(notifier.observeFeed(rt11.feed, rt11.label, fail('503 Service Unavailable'))).toEqual([]);
    expect(notifier.observeFeed(rt11.feed, rt11.label, ok)).toEqual([]);
    expect(notifier.observeFeed(rt11.feed, rt11.label, fail('503'))).toEqual([]);
    expect(notifier.observeFeed(rt11.feed, rt11.label, fail('503'))).toEqual([]);
    expect(notifier.observeFeed(rt11.feed, rt11.label, fail('connect ECONNREFUSED 10.0.0.1:443'))).toEqual([
      {
        kind: 'syncFailing',
        title: 'Sync failing: Mirakl returns (RT11)',
        body: 'Failed 3 times in a row: connect ECONNREFUSED 10.0.0.1:443',
        opens: 'dashboard',
      },
    ]);
    expect(notifier.observeFeed(rt11.feed, rt11.label, fail('503'))).toEqual([]);
  });

  it('waits out the interval before warning about another feed, then names every failing feed', () => {
    const { clock, notifier } = setup();
    for (let i = 0; i < 3; i++) notifier.observeFeed(rt11.feed, rt11.label, fail('503'));
    for (let i = 0; i < 5; i++) expect(notifier.observeFeed(rebound.feed, rebound.label, fail('timeout'))).toEqual([]);
    clock.advance(61 * minute);
    expect(notifier.observeFeed(rebound.feed, rebound.label, fail('timeout'))).toEqual([
      {
        kind: 'syncFailing',
        title: 'Sync failing: 2 feeds',
        body: 'Mirakl returns (RT11) (3 failures in a row); ReBound parcels and grading (6 failures in a row)',
        opens: 'dashboard',
      },
    ]);
  });

  it('says once that sync works again when the last failing feed goes through', () => {
    const { notifier } = setup();
    for (let i = 0; i < 3; i++) notifier.observeFeed(rt11.feed, rt11.label, fail('503'));
    for (let i = 0; i < 3; i++) notifier.observeFeed(rebound.feed, rebound.label, fail('timeout'));
    expect(notifier.observeFeed(rt11.feed, rt11.label, ok)).toEqual([]);
    expect(notifier.observeFeed(rebound.feed, rebound.label, ok)).toEqual([
      { kind: 'syncRecovered', title: 'Sync is working again', body: 'ReBound parcels and grading went through.', opens: 'dashboard' },
    ]);
    expect(notifier.observeFeed(rebound.feed, rebound.label, ok)).toEqual([]);
  });

  it('keeps a long error message short enough for a notification', () => {
    const { notifier } = setup();
    let notices: ReturnType<typeof notifier.observeFeed> = [];
    for (let i = 0; i < 3; i++) notices = notifier.observeFeed(rt11.feed, rt11.label, fail('x'.repeat(5000)));
    expect(notices[0]?.body.length).toBeLessThanOrEqual(240);
    expect(notices[0]?.body.endsWith('…')).toBe(true);
  });
});

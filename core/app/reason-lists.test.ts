import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '../adapters/fake-clock';
import { silentLogger } from '../adapters/logger';
import { createCommandQueue } from '../ledger/queue';
import { ApiError } from '../net/api-error';
import { openStore, type Store } from '../store/db';
import { createMiraklReasonsRepo, type MiraklReason } from '../store/mirakl-reasons-repo';
import { sourceMigrationsDir } from '../store/paths';
import { makeTempDir } from '../../test/support/temp-dir';
import { createReasonLists, type ReadReasons } from './reason-lists';

// Mirakl's reason lists for the mapping editor: read through the client when never read or a day old (or when
// asked), kept for offline use, and a read that fails says why while the lists read before stay in use.

const refund = (code: string, label: string, isShopRight = true): MiraklReason => ({ type: 'REFUND', code, label, isShopRight });
const hour = 3_600_000;

describe('reason lists', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let clock: FakeClock;
  let calls: number;
  let answer: () => Promise<MiraklReason[]>;
  let connected: boolean;

  beforeEach(() => {
    temp = makeTempDir();
    clock = createFakeClock(Date.UTC(2026, 10, 1));
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    calls = 0;
    connected = true;
    answer = async () => [refund('11', 'Item returned by customer'), refund('19', 'Goodwill gesture', false), { type: 'RETURN', code: '21', label: 'Too small', isShopRight: true }];
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });

  const queue = createCommandQueue();
  /** What was queued (a read behind an answer) has run. */
  const settled = () => queue.run('test', () => undefined);
  const lists = () => {
    const read: ReadReasons = async () => {
      calls++;
      return answer();
    };
    return createReasonLists({ repo: createMiraklReasonsRepo(store.db), read: () => (connected ? read : null), clock, queue, log: silentLogger });
  };

  it('reads RE01 once, then answers from the store; a day later, reads it again behind its answer', async () => {
    const service = lists();
    const first = await service.current();
    expect(first.refund).toEqual([
      { code: '11', label: 'Item returned by customer', isShopRight: true },
      { code: '19', label: 'Goodwill gesture', isShopRight: false },
    ]);
    // Mirakl's RETURN reasons first, then the seller spec's enum.
    expect(first.returns[0]).toEqual({ code: '21', label: 'Too small', source: 'mirakl', returnLines: 0 });
    expect(first.returns.some((r) => r.code === 'RETURN_PDNT_TOO_SMALL' && r.source === 'spec')).toBe(true);
    expect(first.readAt).toBe(new Date(clock.now()).toISOString());
    clock.advance(23 * hour);
    await service.current();
    await settled();
    expect(calls).toBe(1);
    clock.advance(2 * hour);
    answer = async () => [refund('11', 'Returned by the customer')];
    // The stored lists answer at once; the new ones are read behind.
    expect((await service.current()).refund).toHaveLength(2);
    await settled();
    expect(calls).toBe(2);
    expect((await service.current()).refund).toEqual([{ code: '11', label: 'Returned by the customer', isShopRight: true }]);
  });

  it('keeps the lists read before, offline and when a read fails, and says why', async () => {
    await lists().current();
    connected = false;
    const offline = await lists().current({ refresh: true });
    expect(offline.refund.map((r) => r.code)).toEqual(['11', '19']);
    expect(offline.problem).toMatch(/No Mirakl connection/);
    connected = true;
    answer = async () => {
      throw new ApiError('mirakl', 'RE01', 'rate_limited', 'call budget: wait 600 s', undefined, 600_000);
    };
    const refused = await lists().current({ refresh: true });
    expect(refused.problem).toMatch(/about once a day.*lists read on 2026-11-01 00:00 UTC are used/);
    expect(refused.refund).toHaveLength(2);
  });

  it('a read that failed by itself is not tried again by itself for ten minutes', async () => {
    answer = async () => {
      throw new Error('socket hang up');
    };
    const service = lists();
    expect((await service.current()).problem).toMatch(/could not be read: socket hang up/);
    await service.current();
    expect(calls).toBe(1);
    clock.advance(11 * 60_000);
    await service.current();
    expect(calls).toBe(2);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseLostError } from '../../core/ledger/lease';
import { loadMappings, shippedMappingsDir } from '../../core/mappings/load';
import { fetchHttp } from '../../core/net/http';
import { createRng } from '../../core/sandbox/rng';
import { buildEngine, startHarness, type EngineParts, type Harness } from '../support/engine-harness';
import { makeTempDir } from '../support/temp-dir';

// Fencing (issue 25, step 1): the folder lock keeps a second engine off a data folder, but a paused engine (SIGSTOP, a
// laptop lid) whose lock went stale wakes up believing it still holds it. Every engine start takes a new epoch of the
// database's engine lease; claiming a call (intent → sending) and claiming units for a stock import check that epoch in
// the same transaction. Here the lock is bypassed on purpose: A runs, B starts on the same database, A wakes up.
// (The stock claim's fence is proven in core/ledger/lease.test.ts, on units ready to be restocked.)

const minute = 60_000;
const seed = 7;

/** Operations that change something in Mirakl or ReBound, as the sandbox counts them. */
const writeOperations = ['mirakl:RT04', 'mirakl:RT21', 'mirakl:RT25', 'mirakl:RT26', 'mirakl:RT27', 'mirakl:RT29', 'mirakl:OR28', 'mirakl:STO01',
  'rebound:salesOrders.create', 'rebound:returnOrders.create', 'rebound:returnOrders.cancel'];

describe('an engine another one has taken over from claims nothing', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let h: Harness;
  let b: EngineParts;

  const writes = () => {
    let n = 0;
    for (const [op, c] of Object.entries(h.sandbox.miraklServer.counters)) if (writeOperations.includes(`mirakl:${op}`)) n += c.calls;
    for (const [op, c] of Object.entries(h.sandbox.reboundServer.counters)) if (writeOperations.includes(`rebound:${op}`)) n += c.calls;
    return n;
  };

  beforeAll(async () => {
    temp = makeTempDir();
    h = await startHarness({ seed, dataDir: temp.dir, scenario: { historyDays: 20 } });
    for (let i = 0; i < 12; i++) await h.step(10 * minute);
    // B starts on the same database while A is "paused" (the lock bypassed: this is what fencing is for).
    b = buildEngine({
      dataDir: temp.dir,
      clock: h.clock,
      http: fetchHttp,
      targets: h.sandbox,
      random: createRng(seed).fork('engine-b'),
      mappings: loadMappings(shippedMappingsDir),
      webhook: null,
    });
  }, 120_000);

  afterAll(async () => {
    b.store.close();
    await h.close();
    temp.remove();
  });

  it('takes a higher epoch at every engine start', () => {
    expect(b.ctx.lease.epoch()).toBeGreaterThan(h.ctx.lease.epoch() ?? Infinity);
    expect(b.ctx.lease.isHeld()).toBe(true);
    expect(h.ctx.lease.isHeld()).toBe(false);
  });

  it("refuses the stale engine's claim of a call, changing no row; the new engine's goes through", () => {
    const planned = h.ctx.intents.plan({ kind: 'mirakl.receive', key: 'fencing-test:1', subject: 'fencing-test', payload: {} });
    expect(() => h.ctx.intents.markSending([planned.id])).toThrow(LeaseLostError);
    expect(h.ctx.intents.get(planned.id)?.state).toBe('planned');
    expect(h.ctx.intents.get(planned.id)?.attempts).toBe(0);
    b.ctx.intents.markSending([planned.id]);
    expect(b.ctx.intents.get(planned.id)?.state).toBe('sending');
    b.ctx.intents.fail(planned.id, 'test intent, never sent', null);
  });

  it("sends nothing from the stale engine's cycle, and says why; what it left waiting goes out from the new engine", async () => {
    h.clock.advance(30 * minute);
    h.sandbox.advance();
    const before = writes();
    const report = await h.engine.runCycle({ force: true });
    await h.sandbox.flush();
    expect(writes()).toBe(before);
    expect(report.failed.map((f) => f.error).join('\n')).toMatch(/another engine started on this database/);
    expect(h.engine.state).toBe('fenced');
    // The stale engine keeps refusing: a later cycle does nothing at all.
    expect((await h.engine.runCycle({ force: true })).ran).toEqual([]);

    await b.engine.runCycle();
    await h.sandbox.flush();
    expect(writes()).toBeGreaterThan(before);
  });
});

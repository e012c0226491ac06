import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMappings, shippedMappingsDir } from '../../core/mappings/load';
import { fetchHttp } from '../../core/net/http';
import { defaultScenario } from '../../core/sandbox/scenario';
import { createRng } from '../../core/sandbox/rng';
import { buildEngine, startHarness, type EngineParts, type Harness } from '../support/engine-harness';
import { checkInvariants } from '../support/invariants';
import { makeTempDir } from '../support/temp-dir';

// Two installations of the app, each with its own database, syncing one shop (issue 25, FOREIGN_WRITE): a colleague
// put Live credentials into a second desktop. Neither engine's caps see the other's refunds until they are in Mirakl's
// ledger, so both can refund the same unit. Each must notice the other's first refund it reads and pause refunds and
// stock updates for the shop until a person has looked; the sandbox's ground truth then shows no refund after that.

const minute = 60_000;
const hour = 60 * minute;
const start = defaultScenario.startMs;

const fastWorld = {
  historyDays: 2,
  ordersPerDay: 60,
  ordersUntilMs: start + 4 * 24 * hour,
  returnRate: 0.4,
  returnAfterDays: [0, 1] as [number, number],
  hoursToNetwork: [1, 8] as [number, number],
  hoursToHub: [2, 10] as [number, number],
  hoursToRegistered: [1, 4] as [number, number],
  hoursToProcessed: [1, 8] as [number, number],
  refundSettleMinutes: [5, 90] as [number, number],
};

describe('two installations syncing one shop, each with its own database', () => {
  const tempA = makeTempDir();
  const tempB = makeTempDir();
  let h: Harness;
  let b: EngineParts;
  const refundCalls = () => h.sandbox.miraklServer.counters.OR28?.calls ?? 0;
  const importCalls = () => h.sandbox.miraklServer.counters.STO01?.calls ?? 0;
  const isPaused = (parts: Pick<EngineParts, 'store'>) =>
    parts.store.db.prepare(`SELECT 1 FROM exceptions WHERE type = 'FOREIGN_WRITE' AND state != 'resolved'`).get() !== undefined;
  let bStartedAt = 0;
  /** Cycles (each engine runs one per step) from B's start until each engine was paused; null: never. */
  const pausedAfter: { a: number | null; b: number | null } = { a: null, b: null };
  /** Calls after both were paused (null: they never both were). */
  let afterBothPaused: { refunds: number; imports: number } | null = null;
  /** OR28 calls from B's start until both were paused: the refunds that could be duplicates before anyone noticed. */
  let beforeBothPaused = 0;
  let duplicates: string[] = [];

  beforeAll(async () => {
    h = await startHarness({ seed: 23, dataDir: tempA.dir, scenario: fastWorld });
    for (let i = 0; i < 48; i++) await h.step(30 * minute);
    b = buildEngine({
      dataDir: tempB.dir,
      clock: h.clock,
      http: fetchHttp,
      targets: h.sandbox,
      random: createRng(23).fork('engine-b'),
      mappings: loadMappings(shippedMappingsDir),
      webhook: null,
    });
    bStartedAt = h.clock.now();
    const refundsAtB = refundCalls();
    let both: { refunds: number; imports: number } | null = null;
    for (let cycle = 1; cycle <= 6 * 48; cycle++) {
      await h.step(10 * minute);
      await b.engine.runCycle();
      await h.sandbox.flush();
      if (pausedAfter.a === null && isPaused(h)) pausedAfter.a = cycle;
      if (pausedAfter.b === null && isPaused(b)) pausedAfter.b = cycle;
      if (!both && pausedAfter.a !== null && pausedAfter.b !== null) both = { refunds: refundCalls(), imports: importCalls() };
    }
    if (both) afterBothPaused = { refunds: refundCalls() - both.refunds, imports: importCalls() - both.imports };
    beforeBothPaused = (both?.refunds ?? refundCalls()) - refundsAtB;
    duplicates = checkInvariants(h.sandbox, h.store.db).violations.filter((v) => v.startsWith('DUPLICATE REFUND'));
    console.info(JSON.stringify({ pausedAfter, afterBothPaused, beforeBothPaused, duplicates, bStartedAt: new Date(bStartedAt).toISOString() }));
  }, 900_000);

  afterAll(async () => {
    b?.store.close();
    await h?.close();
    tempA.remove();
    tempB.remove();
  });

  it("pauses both engines within a bounded number of cycles of the other's first refund", () => {
    expect(pausedAfter.a).not.toBeNull();
    expect(pausedAfter.b).not.toBeNull();
    // Each reads the other's refunds with its order (OR11), at most every 30 minutes for an order with refunds in
    // flight: a few cycles of 10 minutes, not days.
    expect(Math.max(pausedAfter.a ?? Infinity, pausedAfter.b ?? Infinity)).toBeLessThanOrEqual(36);
  });

  it('sends no refund and no stock update once both are paused', () => {
    expect(afterBothPaused).toEqual({ refunds: 0, imports: 0 });
  });

  it('leaves no more duplicate refunds in Mirakl than refund calls went out before both were paused', () => {
    expect(duplicates.length).toBeLessThanOrEqual(beforeBothPaused);
  });

  it('names the refund, the line and what to do in the exception', () => {
    const e = h.store.db.prepare(`SELECT cause, next_action, severity FROM exceptions WHERE type = 'FOREIGN_WRITE' ORDER BY id LIMIT 1`).get() as
      | { cause: string; next_action: string; severity: string }
      | undefined;
    expect(e?.severity).toBe('critical');
    expect(e?.cause).toMatch(/^Mirakl shows refund \S+ of \d+\.\d{2} on line \S+ .*that this app did not send/);
    expect(e?.next_action).toMatch(/acknowledge/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultProfiles } from '../../core/sandbox/index';
import { defaultScenario } from '../../core/sandbox/scenario';
import { checkInvariants, type InvariantReport } from '../support/invariants';
import { startHarness, type Harness } from '../support/engine-harness';
import { makeTempDir } from '../support/temp-dir';

const minute = 60_000;
const day = 24 * 60 * minute;
const days = Number(process.env.RW_MONTH_DAYS ?? 30);

// A seeded sandbox month under the default fault profile, run until quiet, then checked against ground truth.
describe(`a sandbox month (${days} days of orders) under faults`, () => {
  let temp: ReturnType<typeof makeTempDir>;
  let h: Harness;
  let report: InvariantReport;

  beforeAll(async () => {
    temp = makeTempDir();
    const start = defaultScenario.startMs;
    h = await startHarness({
      seed: 20261126,
      dataDir: temp.dir,
      scenario: { historyDays: 0, ordersUntilMs: start + days * day },
      miraklFaults: faultProfiles.default,
      reboundFaults: faultProfiles.default,
      webhooks: true,
    });
    // Returns come up to ~25 days after their order and parcels take up to ~9 days: 40 days after the last order
    // the world is quiet. The engine runs every 30 sandbox minutes here (the app runs it every few seconds), which
    // is still within every Mirakl budget and keeps this test to a few minutes.
    const end = start + (days + 40) * day;
    const started = Date.now();
    while (h.clock.now() < end) await h.step(30 * minute);
    report = checkInvariants(h.sandbox, h.store.db, { isQuiet: true });
    const calls = h.sandbox.miraklServer.counters;
    const perOperation = Object.fromEntries(Object.entries(calls).map(([op, c]) => [op, c.calls]));
    const lifecycles = report.stats.returnsEligible ?? 1;
    console.info(
      JSON.stringify({ wallSeconds: Math.round((Date.now() - started) / 1000), ...report.stats, miraklCalls: perOperation, miraklCallsPerReturn: Object.values(perOperation).reduce((a, b) => a + b, 0) / lifecycles }),
    );
  }, 1_200_000);
  afterAll(async () => {
    await h?.close();
    temp?.remove();
  });

  it('has at least 2,000 returns', () => {
    expect(report.stats.returns ?? 0).toBeGreaterThanOrEqual(days >= 30 ? 2000 : 1);
  });

  it('holds every money and stock invariant against ground truth', () => {
    expect(report.violations).toEqual([]);
  });

  it('stays within every Mirakl call budget', () => {
    for (const [op, c] of Object.entries(h.sandbox.miraklServer.counters)) {
      expect({ op, overBudget: c.overBudget }).toEqual({ op, overBudget: 0 });
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMappings } from '../../core/mappings/load';
import { faultProfiles } from '../../core/sandbox/index';
import { defaultScenario } from '../../core/sandbox/scenario';
import { checkInvariants, stockDiagnosis, type InvariantReport } from '../support/invariants';
import { startHarness, type Harness } from '../support/engine-harness';
import { makeTempDir } from '../support/temp-dir';

const minute = 60_000;
const day = 24 * 60 * minute;
const days = Number(process.env.RW_MONTH_DAYS ?? 30);

// A seeded sandbox month under the default fault profile (reshaped answers included), run until quiet, then checked
// against ground truth — in a TAX_EXCLUDED shop whose lines carry two tax codes, with a share of OR28 answers lost
// after Mirakl made the refund: the harder of Mirakl's two tax modes (the crash and chaos runs cover both).
describe(`a sandbox month (${days} days of orders) in a TAX_EXCLUDED shop, under faults`, () => {
  let temp: ReturnType<typeof makeTempDir>;
  let h: Harness;
  let report: InvariantReport;

  beforeAll(async () => {
    temp = makeTempDir();
    const start = defaultScenario.startMs;
    const shipped = loadMappings();
    h = await startHarness({
      seed: 20261126,
      dataDir: temp.dir,
      scenario: { historyDays: 0, ordersUntilMs: start + days * day, taxMode: 'TAX_EXCLUDED', taxCodes: ['tax1', 'tax2'] },
      mappings: { ...shipped, policy: { ...shipped.policy, mirakl: { orderTaxMode: 'TAX_EXCLUDED' } } },
      miraklFaults: { ...faultProfiles.default, OR28: { ...faultProfiles.default['*'], lostResponseRate: 0.15 } },
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
    // What paused refunds and stock for the shop, if anything did: the first thing to read when the invariants fail.
    const pauses = h.store.db.prepare(`SELECT type, subject_key, state, detected_at, cause FROM exceptions WHERE type IN ('FOREIGN_WRITE', 'RESTORED_DATABASE')`).all();
    if (pauses.length) console.info(JSON.stringify({ pauses }, null, 1));
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
    // A failure ends with where the stock pipeline stood: the end of the output is what a CI log keeps.
    expect(report.violations.length === 0 ? [] : [...report.violations, stockDiagnosis(h.store.db)]).toEqual([]);
  });

  it('raises no FOREIGN_WRITE: nothing but this engine writes to the shop\'s stock or refunds', () => {
    // A false one pauses every refund and stock update for the rest of the month (what a stale export taken for a
    // fresh one raised once: 3fe1faf).
    const raised = h.store.db.prepare(`SELECT subject_key, cause FROM exceptions WHERE type = 'FOREIGN_WRITE'`).all();
    expect(raised).toEqual([]);
  });

  it('refunds in the shop\'s mode: what Mirakl recorded is what was asked, the verified units\' net price', () => {
    const rows = h.store.db
      .prepare(
        `SELECT i.payload, f.amount_minor, f.tax_mode, l.price_unit_minor FROM intents i
         JOIN mirakl_refunds f ON f.id = i.refund_id JOIN mirakl_order_lines l ON l.order_line_id = f.order_line_id
         WHERE i.kind = 'mirakl.refund' AND i.state = 'confirmed'`,
      )
      .all() as { payload: string; amount_minor: number; tax_mode: string; price_unit_minor: number }[];
    expect(rows.length).toBeGreaterThan(500);
    const wrong = rows.filter((r) => {
      const p = JSON.parse(r.payload) as { amountMinor: number; units: string[]; taxMode?: string };
      // n net unit prices, to within the cent per unit that rounding the unit price (not the line's) can move.
      const n = p.units.length;
      return r.tax_mode !== 'TAX_EXCLUDED' || p.taxMode !== 'TAX_EXCLUDED' || r.amount_minor !== p.amountMinor || Math.abs(p.amountMinor - r.price_unit_minor * n) > n;
    });
    expect(wrong).toEqual([]);
    // And never an exception for a cut that is only that rounding.
    const capped = h.store.db.prepare(`SELECT count(*) AS n FROM exceptions WHERE type = 'REFUND_AMOUNT_MISMATCH' AND cause LIKE '%still refundable%'`).get() as { n: number };
    expect(capped.n).toBe(0);
  });

  it('finds every refund whose OR28 answer was lost in Mirakl\'s ledger, and sends none again', () => {
    const lost = h.sandbox.miraklServer.counters.OR28?.faults.lostResponse ?? 0;
    expect(lost).toBeGreaterThan(5);
    const probed = h.store.db
      .prepare(`SELECT count(*) AS n FROM intents WHERE kind = 'mirakl.refund' AND state = 'confirmed' AND json_extract(outcome, '$.via') = 'probe'`)
      .get() as { n: number };
    expect(probed.n).toBeGreaterThan(0);
    // Never sent again: no line refunded twice, none refunded beyond its verified units (the invariants), and no
    // refund Mirakl holds that no intent of ours claims.
    const unclaimed = Object.values(h.sandbox.truth().mirakl.refundsByLine)
      .flat()
      .filter((r) => !h.store.db.prepare(`SELECT 1 FROM intents WHERE kind = 'mirakl.refund' AND state = 'confirmed' AND refund_id = ?`).get(r.id));
    expect(unclaimed).toEqual([]);
  });

  it('stays within every Mirakl call budget', () => {
    for (const [op, c] of Object.entries(h.sandbox.miraklServer.counters)) {
      expect({ op, overBudget: c.overBudget }).toEqual({ op, overBudget: 0 });
    }
  });
});

import { describe, expect, it } from 'vitest';
import { defaultScenario } from '../../core/sandbox/scenario';
import { createMoneyFigures } from '../../core/store/money-figures';
import { harnessPerTest, quickCleanWorld, type Harness } from '../support/engine-harness';

// Contradictory physical facts (issue 24): ReBound registered a return's units, then reported its return order EXPIRED
// (nothing came back) — seen in the field, where a return was accrued for 3 verified units while its panel said
// "0 arrived, 3 missing", and its timeline logged both at the same minute. ReBound owns physical facts and its latest
// one wins: the units count as lost, and only as lost, in every figure; and the contradiction is raised, with the
// money already refunded for them named, because that money is at risk.

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

const scenario = quickCleanWorld({ ordersPerDay: 60 });

/** Units of a return counted both as received (a verified receipt) and as not arrived. */
function countedBothWays(h: Harness, returnId: string): number {
  return h.store.db
    .prepare(`SELECT count(*) FROM units WHERE return_id = ? AND registered_at IS NOT NULL AND stage IN ('missing', 'lost')`)
    .pluck()
    .get(returnId) as number;
}

describe('contradictory physical facts: registered, then reported lost', () => {
  const harness = harnessPerTest();

  it('counts the units as lost only, in every figure, and raises the contradiction naming the refund already sent', async () => {
    const h = await harness.start({ seed: 24, scenario });
    const db = h.store.db;
    const sim = h.sandbox.rebound.sim;
    // (a) a return whose registration the engine has seen and refunded; (b) one ReBound registers and expires between
    // two reads of the engine, so one read shows it EXPIRED with its items received.
    type Subject = { returnId: string; reboundOrderId: string } | undefined;
    let seen: Subject;
    let unseen: Subject;
    const isFound = () => seen !== undefined && unseen !== undefined;
    while (h.clock.now() < defaultScenario.startMs + 3 * day && !isFound()) {
      await h.step(30 * minute);
      await h.sandbox.flush();
      if (!seen) {
        seen = db
          .prepare(
            `SELECT o.return_id AS returnId, o.rebound_order_id AS reboundOrderId FROM rebound_return_orders o
            WHERE o.status = 'ITEMS_REGISTERED' AND EXISTS (SELECT 1 FROM intents i WHERE i.kind = 'mirakl.refund' AND i.subject = o.return_id AND i.state = 'confirmed')
            ORDER BY o.rebound_order_id LIMIT 1`,
          )
          .get() as Subject;
        if (seen) {
          const expired = sim.simExpireRegistered(seen.reboundOrderId);
          if (!expired.ok) throw new Error(expired.error.message);
        }
      }
      if (!unseen) {
        unseen = db
          .prepare(`SELECT return_id AS returnId, rebound_order_id AS reboundOrderId FROM rebound_return_orders WHERE status = 'AT_HUB' ORDER BY rebound_order_id LIMIT 1`)
          .get() as Subject;
        if (unseen) {
          // ReBound may have registered it already since the engine's last read: either way, expired now.
          sim.simAdvanceReturnOrder(unseen.reboundOrderId, { event: 'ITEMS_REGISTERED' });
          if (!sim.simExpireRegistered(unseen.reboundOrderId).ok) unseen = undefined;
        }
      }
    }
    expect(seen, 'a registered and refunded return to expire').toBeDefined();
    expect(unseen, 'a return at the hub to register and expire').toBeDefined();
    for (let i = 0; i < 6; i++) {
      await h.step(30 * minute);
      await h.sandbox.flush();
    }

    for (const subject of [seen!, unseen!]) {
      const units = db.prepare(`SELECT stage, registered_at FROM units WHERE return_id = ?`).all(subject.returnId) as { stage: string; registered_at: string | null }[];
      expect(units.length, subject.returnId).toBeGreaterThan(0);
      // The latest fact wins: lost, and never also a verified receipt.
      expect(countedBothWays(h, subject.returnId), subject.returnId).toBe(0);
      expect(units.map((u) => u.stage), subject.returnId).toEqual(units.map(() => 'lost'));
      const raised = db
        .prepare(`SELECT type, severity, owner_team, cause FROM exceptions WHERE return_id = ? AND type = 'UNIT_FACTS_CONTRADICT' AND state != 'resolved'`)
        .all(subject.returnId) as { type: string; severity: string; owner_team: string; cause: string }[];
      expect(raised, subject.returnId).toHaveLength(1);
      expect(raised[0]).toMatchObject({ severity: 'high', owner_team: 'finance' });
      expect(raised[0]?.cause).toMatch(/registered .* then .*EXPIRED/);
    }
    // The refund already sent for the seen return is named in its exception: money to be looked at.
    const cause = db.prepare(`SELECT cause FROM exceptions WHERE return_id = ? AND type = 'UNIT_FACTS_CONTRADICT'`).pluck().get(seen!.returnId) as string;
    expect(cause).toMatch(/refunded|refund .* sent/i);

    // No figure counts them as received: the dashboard's money now equals the figure from the base tables, and neither
    // owes money for a lost unit.
    const now = new Date(h.clock.now()).toISOString();
    const figures = createMoneyFigures(db);
    expect(figures.at(now, now.slice(0, 8) + '01T00:00:00.000Z')).toEqual(figures.atFromBaseTables(now, now.slice(0, 8) + '01T00:00:00.000Z'));
    const verifiedOnLines = db
      .prepare(`SELECT COALESCE(sum(m.verified), 0) FROM money_lines m WHERE m.order_line_id IN (SELECT order_line_id FROM units WHERE return_id IN (?, ?))`)
      .pluck()
      .get(seen!.returnId, unseen!.returnId);
    expect(verifiedOnLines).toBe(0);
  }, 300_000);
});

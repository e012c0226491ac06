import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultScenario, type Scenario } from '../scenario';
import type { ReboundTruth } from './model';
import type { WebhookTransport } from './transport';
import { DAY, HOUR, buildSim, salesOrder } from './test-kit';

// One seed and one scenario determine the ReBound world: the same seed gives the same ground truth, a different
// seed a different one, and what happens to a return does not depend on the order the client created returns in.

const stormyScenario: Scenario = {
  ...defaultScenario,
  parcelNeverSentRate: 0.1,
  shortReceiptRate: 0.15,
  unexpectedItemRate: 0.15,
  wrongSkuRate: 0.15,
  damagedRate: 0.15,
  nonSellableRate: 0.15,
  duplicateNotificationRate: 0.2,
  outOfOrderNotificationRate: 0.2,
};

async function runWorld(seed: number, order: 'forward' | 'reverse' = 'forward'): Promise<ReboundTruth> {
  // A receiver that fails some deliveries, chosen by delivery id so that the failures are part of the seed's world.
  const transport: WebhookTransport = async (request) => ({ status: /^[0-3]/.test(request.headers['x-rebound-delivery-id'] ?? '') ? 500 : 200 });
  const { sim, clock } = buildSim({ seed, scenario: stormyScenario, transport });
  for (const type of ['trackingUpdate', 'refundTrigger', 'itemProcessed']) sim.putWebhookSubscription(type, { url: 'http://receiver.invalid/hook', secret: 'whsec' });

  const orders = Array.from({ length: 40 }, (_, i) => ({
    id: `ASOS-${1000 + i}`,
    lines: Array.from({ length: 1 + (i % 3) }, (_, l) => ({ clientItemId: `L${l + 1}`, sku: `SKU-${(i * 7 + l) % 23}-${l}`, quantity: String(1 + ((i + l) % 2)) })),
  }));
  for (const o of orders) sim.createSalesOrder(salesOrder(o.id, o.lines), { flowKey: null, overwrite: false });
  const returning = order === 'forward' ? orders : [...orders].reverse();
  for (const o of returning) {
    const created = sim.createReturnOrder({ clientOrderId: o.id, items: o.lines.map((l) => ({ clientItemId: l.clientItemId, quantity: l.quantity, reasonCode: 'Too large' })) }, { flowKey: null });
    expect(created.ok).toBe(true);
  }
  for (let t = 0; t < 40 * DAY; t += HOUR) {
    clock.advance(HOUR);
    sim.advance();
    await sim.flushDeliveries();
  }
  return sim.truth();
}

const hashOf = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

describe('ReBound sandbox: determinism', () => {
  it('gives identical ground truth for the same seed and a different one for another seed', async () => {
    const first = await runWorld(1);
    const again = await runWorld(1);
    const other = await runWorld(2);
    expect(hashOf(again)).toBe(hashOf(first));
    expect(hashOf(other)).not.toBe(hashOf(first));
    expect(first.counters.notifications.attempts).toBeGreaterThan(first.counters.notifications.created);
  });

  it('decides each return order from its own key, whatever order the client creates them in', async () => {
    const forward = await runWorld(3, 'forward');
    const reverse = await runWorld(3, 'reverse');
    const byOrder = (t: ReboundTruth) => [...t.returnOrders].sort((a, b) => a.clientOrderId.localeCompare(b.clientOrderId));
    expect(byOrder(reverse)).toEqual(byOrder(forward));
  });

  it('produces every physical anomaly the scenario asks for, with consistent unit counts', async () => {
    const truth = await runWorld(4);
    const anomalies = new Set(truth.returnOrders.flatMap((r) => r.anomalies));
    expect([...anomalies].sort()).toEqual(['damaged', 'nonSellable', 'parcelNeverSent', 'shortReceipt', 'unexpectedItem', 'wrongSku']);
    for (const ro of truth.returnOrders) {
      for (const line of ro.lines) {
        expect(line.sent).toBeLessThanOrEqual(line.requested);
        expect(line.received).toBeLessThanOrEqual(line.sent);
        expect(line.sellable).toBeLessThanOrEqual(line.received);
      }
      if (!ro.isParcelSent) expect(ro.status).toBe('EXPIRED');
      else expect(['PROCESSED', 'DELIVERED_TO_CLIENT']).toContain(ro.status);
    }
    const wrong = truth.returnOrders.flatMap((r) => r.extraUnits).find((e) => e.cause === 'wrongSku');
    expect(wrong?.sku).toMatch(/-OTHER-/);
    expect(wrong?.replacesReboundItemId).toMatch(/^\(00\)987/);
  });
});

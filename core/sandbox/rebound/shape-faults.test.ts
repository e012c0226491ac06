import { describe, expect, it } from 'vitest';
import { returnEventsSchema, returnOrderSchema, salesOrderSchema } from '../../rebound/schemas';
import { createRng } from '../rng';
import { reboundShapeHooks } from './shape-faults';
import { DAY, buildSim, salesOrder } from './test-kit';

// ReBound's lighter shapes: null where our client reads a field as optional, numbers where ReBound writes strings,
// fields nobody announced. The client's own schemas must still read every reshaped answer, to the same ids, SKUs,
// reasons, quantities, receipts and grades.

describe('ReBound shapes fault', () => {
  it('draws each variant and keeps what the engine acts on', () => {
    const { sim, clock } = buildSim();
    const lines = [
      { clientItemId: 'LINE-1', sku: 'SKU-1', quantity: '2' },
      { clientItemId: 'LINE-2', sku: 'SKU-2', quantity: '1' },
    ];
    sim.createSalesOrder(salesOrder('ASOS-S1', lines), { flowKey: null, overwrite: false });
    const created = sim.createReturnOrder(
      { clientOrderId: 'ASOS-S1', items: lines.map((l) => ({ clientItemId: l.clientItemId, quantity: l.quantity, reasonCode: 'Too small' })) },
      { flowKey: null },
    );
    if (!created.ok) throw new Error(created.error.message);
    clock.advance(10 * DAY);
    sim.advance();
    const id = created.value.reboundOrderId;

    const rng = createRng(3);
    const applied = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const got = sim.getReturnOrder(id);
      const events = sim.listReturnOrderEvents(id);
      const order = sim.getSalesOrder('ASOS-S1');
      if (!got.ok || !events.ok || !order.ok) throw new Error('the sim refused a read');
      const before = returnOrderSchema.parse(structuredClone(got.value));
      const body = structuredClone(got.value);
      for (const v of reboundShapeHooks['returnOrders.get']?.(body, rng) ?? []) applied.add(v);
      const after = returnOrderSchema.parse(body);
      expect(after.items.map((it) => [it.reboundItemId, it.clientItemId, it.sku, it.reasonCode, it.quantity, it.received, it.grade, it.disposition])).toEqual(
        before.items.map((it) => [it.reboundItemId, it.clientItemId, it.sku, it.reasonCode, it.quantity, it.received, it.grade, it.disposition]),
      );
      expect([after.reboundOrderId, after.clientOrderId, after.status, after.parcels.map((p) => p.trackingNumber)]).toEqual([
        before.reboundOrderId,
        before.clientOrderId,
        before.status,
        before.parcels.map((p) => p.trackingNumber),
      ]);

      const eventsBody = structuredClone(events.value);
      reboundShapeHooks['returnOrders.events']?.(eventsBody, rng);
      expect(returnEventsSchema.parse(eventsBody).events.map((e) => [e.eventId, e.status, e.timestamp])).toEqual(
        returnEventsSchema.parse(events.value).events.map((e) => [e.eventId, e.status, e.timestamp]),
      );
      const orderBody = structuredClone(order.value);
      reboundShapeHooks['salesOrders.get']?.(orderBody, rng);
      expect(salesOrderSchema.parse(orderBody).salesItems.map((s) => [s.clientItemId, s.sku, s.quantity])).toEqual(lines.map((l) => [l.clientItemId, l.sku, Number(l.quantity)]));
    }
    expect([...applied].sort()).toEqual(['nullOptional', 'numericForms', 'unknownValues']);
  });
});

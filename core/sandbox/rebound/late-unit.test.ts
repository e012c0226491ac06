import { afterEach, describe, expect, it } from 'vitest';
import type { SimServer } from '../http/sim-server';
import type { ReturnOrderView } from './model';
import { startReboundServer } from './server';
import { HOUR, buildSim, calmScenario, salesOrder } from './test-kit';

// Late units (issue 20): a unit the customer asked to return that was missing when the hub registered the order's
// contents, and reaches the hub afterwards — in a parcel of its own or found later — is registered (and graded) then,
// with ReBound's usual notifications. ReBound never registers more units than were requested.

const servers: SimServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A return of 3 units of L1 and 1 of L2, one unit of L1 held back by the customer for a later parcel. */
function heldBackReturn(options: Parameters<typeof buildSim>[0] = {}) {
  const built = buildSim({ scenario: { ...calmScenario, heldBackUnitRate: 1 }, physical: { minorWearRate: 0, deliveredToClientRate: 0 }, ...options });
  const { sim } = built;
  for (const type of ['trackingUpdate', 'refundTrigger', 'itemProcessed']) sim.putWebhookSubscription(type, { url: 'http://receiver.invalid/hook', secret: 'whsec' });
  sim.createSalesOrder(
    salesOrder('ASOS-L1', [
      { clientItemId: 'L1', sku: 'SKU-A', quantity: '3' },
      { clientItemId: 'L2', sku: 'SKU-B', quantity: '1' },
    ]),
    { flowKey: null, overwrite: false },
  );
  const created = sim.createReturnOrder(
    {
      clientOrderId: 'ASOS-L1',
      items: [
        { clientItemId: 'L1', quantity: '3', reasonCode: 'Too large' },
        { clientItemId: 'L2', quantity: '1', reasonCode: 'Too large' },
      ],
    },
    { flowKey: null },
  );
  if (!created.ok) throw new Error(created.error.message);
  return { ...built, id: created.value.reboundOrderId };
}

const view = (sim: ReturnType<typeof buildSim>['sim'], id: string): ReturnOrderView => {
  const got = sim.getReturnOrder(id);
  if (!got.ok) throw new Error(got.error.message);
  return got.value;
};

describe('ReBound sandbox: late units', () => {
  it('holds one unit of a several-unit line back for a later parcel, when the scenario says so', () => {
    const { sim, id } = heldBackReturn();
    expect(sim.simAdvanceReturnOrder(id, { event: 'PROCESSED' }).ok).toBe(true);
    const ro = view(sim, id);
    expect(ro.items.map((i) => [i.clientItemId, i.received])).toEqual(
      expect.arrayContaining([
        ['L1', '0'],
        ['L2', '1'],
      ]),
    );
    expect(ro.items.filter((i) => i.clientItemId === 'L1' && i.received === '1')).toHaveLength(2);
    const truth = sim.truth().returnOrders[0];
    expect(truth?.anomalies).toEqual(['shortReceipt']);
    expect(truth?.lines).toEqual([
      { clientItemId: 'L1', sku: 'SKU-A', requested: 3, sent: 2, received: 2, sellable: 2 },
      { clientItemId: 'L2', sku: 'SKU-B', requested: 1, sent: 1, received: 1, sellable: 1 },
    ]);
  });

  it('registers and grades a late unit of a processed order, in a parcel of its own, and tells the client', () => {
    const { sim, clock, id } = heldBackReturn();
    sim.simAdvanceReturnOrder(id, { event: 'PROCESSED' });
    const before = view(sim, id);
    const missing = before.items.find((i) => i.received === '0');
    const notificationsBefore = sim.truth().notifications.length;
    clock.advance(30 * HOUR);

    const late = sim.simLateUnit(id, {});
    if (!late.ok) throw new Error(late.error.message);
    expect(late.value.status).toBe('PROCESSED');
    expect(Date.parse(late.value.updatedAt)).toBe(clock.now());
    expect(late.value.parcels).toHaveLength(2);
    expect(late.value.parcels[1]?.trackingNumber).not.toBe(before.parcels[0]?.trackingNumber);
    const unit = late.value.items.find((i) => i.reboundItemId === missing?.reboundItemId);
    expect(unit).toMatchObject({ clientItemId: 'L1', received: '1', grade: 'A_SELLABLE', disposition: 'RESTOCK' });

    const sent = sim.truth().notifications.slice(notificationsBefore);
    expect(sent.map((n) => `${n.type}:${n.event}`)).toEqual(['trackingUpdate:hubArrival', 'refundTrigger:itemRegistration', 'itemProcessed:processed']);
    const [arrival, registration, processed] = sent.map((n) => n.body as { order: Record<string, unknown> & { items?: { reboundItemId: string }[] }; items?: { reboundItemId: string }[] });
    expect(arrival?.order.trackingNumber).toBe(late.value.parcels[1]?.trackingNumber);
    expect(arrival?.items?.map((i) => i.reboundItemId)).toEqual([missing?.reboundItemId]);
    expect(registration?.order.items?.map((i) => i.reboundItemId)).toEqual([missing?.reboundItemId]);
    expect(processed?.order.items).toEqual([expect.objectContaining({ reboundItemId: missing?.reboundItemId, quantity: '1', grade: 'A_SELLABLE' })]);
    // New notifications, not duplicates of the first parcel's: each has a delivery id of its own.
    const ids = sim.truth().notifications.map((n) => n.deliveryId);
    expect(new Set(ids).size).toBe(ids.length);

    const truth = sim.truth().returnOrders[0];
    expect(truth?.anomalies).toEqual(['lateUnit']);
    expect(truth?.lines[0]).toMatchObject({ clientItemId: 'L1', requested: 3, sent: 3, received: 3 });
    const lateTruth = truth?.units.find((u) => u.reboundItemId === missing?.reboundItemId);
    expect(lateTruth).toMatchObject({ isLate: true, isReceived: true, registeredAt: new Date(clock.now()).toISOString(), gradedAt: new Date(clock.now()).toISOString() });
    const onTime = truth?.units.find((u) => u.clientItemId === 'L2');
    expect(onTime).toMatchObject({ isLate: false, registeredAt: truth?.statusHistory.find((h) => h.status === 'ITEMS_REGISTERED')?.at });
  });

  it('never registers more units than the customer asked to return', () => {
    const { sim, id } = heldBackReturn();
    expect(sim.simLateUnit(id, {})).toMatchObject({ ok: false, error: { status: 422, message: expect.stringMatching(/not registered yet/) } });
    sim.simAdvanceReturnOrder(id, { event: 'ITEMS_REGISTERED' });
    expect(sim.simLateUnit(id, { clientItemId: 'L2' })).toMatchObject({ ok: false, error: { status: 422, message: expect.stringMatching(/never registers more units than were requested/) } });
    const arrived = view(sim, id).items.find((i) => i.received === '1');
    expect(sim.simLateUnit(id, { reboundItemId: arrived?.reboundItemId })).toMatchObject({ ok: false, error: { status: 422, details: [{ field: 'reboundItemId', issue: 'already registered' }] } });
    expect(sim.simLateUnit(id, { clientItemId: 'L1' }).ok).toBe(true);
    expect(sim.simLateUnit(id, {})).toMatchObject({ ok: false, error: { status: 422 } });
    expect(sim.simLateUnit('(00)687999999999999999', {})).toMatchObject({ ok: false, error: { status: 404 } });
    expect(sim.simLateUnit(id, { quantity: 2 })).toMatchObject({ ok: false, error: { status: 422 } });
  });

  it('grades a unit registered late, before the order was processed, with the rest', () => {
    const { sim, clock, id } = heldBackReturn();
    sim.simAdvanceReturnOrder(id, { event: 'ITEMS_REGISTERED' });
    clock.advance(HOUR);
    const late = sim.simLateUnit(id, { arrival: 'foundAtHub', grade: 'D_DAMAGED' });
    if (!late.ok) throw new Error(late.error.message);
    expect(late.value.parcels).toHaveLength(1);
    expect(late.value.items.filter((i) => i.received === '1')).toHaveLength(4);
    expect(late.value.items.every((i) => i.grade === null)).toBe(true);
    expect(sim.truth().notifications.at(-1)).toMatchObject({ type: 'refundTrigger', event: 'itemRegistration' });

    clock.advance(HOUR);
    sim.simAdvanceReturnOrder(id, { event: 'PROCESSED' });
    const processed = sim.truth().notifications.at(-1);
    expect(processed).toMatchObject({ type: 'itemProcessed' });
    expect((processed?.body as { order: { items: unknown[] } }).order.items).toHaveLength(4);
    const truth = sim.truth().returnOrders[0];
    const lateTruth = truth?.units.find((u) => u.isLate);
    expect(lateTruth).toMatchObject({ grade: 'D_DAMAGED', disposition: 'DESTROY', gradedAt: new Date(clock.now()).toISOString() });
    expect(Date.parse(lateTruth?.registeredAt ?? '')).toBe(clock.now() - HOUR);
  });

  it('refuses DTR orders, which no hub registers', () => {
    const { sim } = buildSim({ flows: { direct: 'DTR' }, scenario: { ...calmScenario, heldBackUnitRate: 1 } });
    sim.createSalesOrder(salesOrder('ASOS-L2', [{ clientItemId: 'L1', sku: 'SKU-A', quantity: '2' }]), { flowKey: 'direct', overwrite: false });
    const created = sim.createReturnOrder({ clientOrderId: 'ASOS-L2', items: [{ clientItemId: 'L1', quantity: '2', reasonCode: 'Faulty' }] }, { flowKey: null });
    if (!created.ok) throw new Error(created.error.message);
    expect(sim.simLateUnit(created.value.reboundOrderId, {})).toMatchObject({ ok: false, error: { status: 422, message: expect.stringMatching(/DTR/) } });
  });

  it('serves the hook over HTTP at POST /_sim/return-orders/<id>/late-unit, with or without a body', async () => {
    const { sim, id } = heldBackReturn();
    const server = await startReboundServer(sim, { faults: () => ({ '*': { serverErrorRate: 1 } }) });
    servers.push(server);
    const url = `${server.url}/_sim/return-orders/${encodeURIComponent(id)}/late-unit`;
    const early = await fetch(url, { method: 'POST' });
    expect(early.status).toBe(422);
    expect(((await early.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
    sim.simAdvanceReturnOrder(id, { event: 'PROCESSED' });
    const late = await fetch(url, { method: 'POST' });
    expect(late.status).toBe(200);
    expect(((await late.json()) as ReturnOrderView).items.every((i) => i.received === '1')).toBe(true);
    const again = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientItemId: 'L1' }) });
    expect(again.status).toBe(422);
  });
});

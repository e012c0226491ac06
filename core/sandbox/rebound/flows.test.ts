import { afterEach, describe, expect, it } from 'vitest';
import type { SimServer } from '../http/sim-server';
import type { ReturnOrderView } from './model';
import { startReboundServer } from './server';
import { DAY, HOUR, buildSim, calmScenario, credentials, salesOrder } from './test-kit';

// The side roads: DTR returns that skip the hub, parcels that are never sent, flowKeys the client does not have,
// and the HTTP faults the engine must survive (test hooks stay reliable under them).

const servers: SimServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('ReBound sandbox: flows', () => {
  it('takes a DTR return straight from the carrier to the client, with no hub events, and refuses unknown flowKeys', () => {
    // Every notification of the order's life is checked, including those older than the outbox keeps them.
    const { sim, clock } = buildSim({ flows: { main: 'STANDARD', direct: 'DTR' }, keepSettledNotificationsMs: Infinity });
    expect(sim.createSalesOrder(salesOrder('ASOS-D1'), { flowKey: 'nope', overwrite: false })).toMatchObject({ ok: false, error: { status: 403, code: 'forbidden' } });
    expect(sim.createSalesOrder(salesOrder('ASOS-D1'), { flowKey: 'direct', overwrite: false }).ok).toBe(true);
    const created = sim.createReturnOrder({ clientOrderId: 'ASOS-D1', items: [{ clientItemId: 'LINE-1', quantity: '1', reasonCode: 'Faulty' }] }, { flowKey: null });
    if (!created.ok) throw new Error(created.error.message);
    expect(created.value).toMatchObject({ flow: 'DTR', flowKey: 'direct' });

    clock.advance(10 * DAY);
    const truth = sim.truth();
    expect(truth.returnOrders[0]?.statusHistory.map((h) => h.status)).toEqual(['CREATED', 'LABEL_ISSUED', 'IN_CARRIER_NETWORK', 'DELIVERED_TO_CLIENT']);
    expect(truth.notifications.map((n) => n.event)).toEqual(['returnOrderCreated', 'postalIncoming', 'instantRefund', 'deliveredToClient']);
    const ro = sim.getReturnOrder(created.value.reboundOrderId);
    expect(ro.ok && ro.value.items[0]?.received).toBeNull();
  });

  it('expires a return order whose parcel is never sent, after the configured number of days', () => {
    const { sim, clock } = buildSim({ scenario: { ...calmScenario, parcelNeverSentRate: 1 }, physical: { expireAfterDays: 28 }, keepSettledNotificationsMs: Infinity });
    sim.createSalesOrder(salesOrder('ASOS-E1'), { flowKey: null, overwrite: false });
    const created = sim.createReturnOrder({ clientOrderId: 'ASOS-E1', items: [{ clientItemId: 'LINE-1', quantity: '1', reasonCode: 'Faulty' }] }, { flowKey: null });
    if (!created.ok) throw new Error(created.error.message);
    clock.advance(28 * DAY - HOUR);
    expect(sim.getReturnOrder(created.value.reboundOrderId)).toMatchObject({ value: { status: 'LABEL_ISSUED' } });
    clock.advance(HOUR);
    expect(sim.getReturnOrder(created.value.reboundOrderId)).toMatchObject({ value: { status: 'EXPIRED' } });
    const truth = sim.truth();
    expect(truth.returnOrders[0]).toMatchObject({ isParcelSent: false, anomalies: ['parcelNeverSent'], lines: [{ requested: 1, sent: 0, received: 0 }] });
    expect(truth.notifications.map((n) => n.event)).toEqual(['returnOrderCreated', 'expired']);
    // An expired return no longer holds its unit, so the customer can return it again.
    expect(sim.createReturnOrder({ clientOrderId: 'ASOS-E1', items: [{ clientItemId: 'LINE-1', quantity: '1', reasonCode: 'Faulty' }] }, { flowKey: null }).ok).toBe(true);
  });
});

describe('ReBound sandbox: HTTP faults', () => {
  it('can answer with a status the client has never seen without changing the stored order, and never faults the test hooks', async () => {
    const { sim } = buildSim();
    const server = await startReboundServer(sim, { faults: () => ({ '*': { serverErrorRate: 1 }, 'returnOrders.get': { serverErrorRate: 0, unknownEnumRate: 1 } }) });
    servers.push(server);
    sim.createSalesOrder(salesOrder('ASOS-F1'), { flowKey: null, overwrite: false });
    const created = sim.createReturnOrder({ clientOrderId: 'ASOS-F1', items: [{ clientItemId: 'LINE-1', quantity: '1', reasonCode: 'Faulty' }] }, { flowKey: null });
    if (!created.ok) throw new Error(created.error.message);
    const id = encodeURIComponent(created.value.reboundOrderId);

    const tokenRes = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: credentials.clientId, client_secret: credentials.clientSecret }).toString(),
    });
    expect(tokenRes.status).toBeGreaterThanOrEqual(500);
    const token = sim.issueToken({ grantType: 'client_credentials', clientId: credentials.clientId, clientSecret: credentials.clientSecret });
    if (!token.ok) throw new Error('no token');
    const auth = { authorization: `Bearer ${token.value.access_token}` };

    const odd = (await (await fetch(`${server.url}/return-orders/${id}`, { headers: auth })).json()) as ReturnOrderView;
    expect(odd.status).toBe('HELD_AT_CUSTOMS');
    expect(sim.getReturnOrder(created.value.reboundOrderId)).toMatchObject({ value: { status: 'LABEL_ISSUED' } });
    expect((await fetch(`${server.url}/return-orders?clientOrderId=ASOS-F1`, { headers: auth })).status).toBeGreaterThanOrEqual(500);

    const truth = await fetch(`${server.url}/_sim/truth`);
    expect(truth.status).toBe(200);
    const advanced = await fetch(`${server.url}/_sim/return-orders/${id}/advance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ event: 'AT_HUB' }) });
    expect(advanced.status).toBe(200);
    expect(((await advanced.json()) as ReturnOrderView).status).toBe('AT_HUB');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { fetchHttp } from '../../net/http';
import { createMemoryBudgetStore } from '../../net/budget-guard';
import { memoryJournal } from '../../net/journal';
import { isApiError } from '../../net/api-error';
import { createReboundClient } from '../../rebound/client';
import type { SimServer } from '../http/sim-server';
import { startReboundServer } from './server';
import { HOUR, buildSim, calmScenario, credentials, salesOrder } from './test-kit';

// §6.2 `GET /return-orders?updatedFrom=`: what changed in ReBound, for a client no notification reaches, through the
// engine's own client against the simulator on loopback. It shares its path with the list by clientOrderId, told apart
// by the query.

const servers: SimServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start() {
  const { sim, clock } = buildSim({ scenario: { ...calmScenario, hoursToNetwork: [2, 2], hoursToHub: [2, 2], hoursToRegistered: [2, 2], hoursToProcessed: [2, 2] } });
  const server = await startReboundServer(sim);
  servers.push(server);
  const client = createReboundClient({
    baseUrl: server.url,
    clientId: credentials.clientId,
    clientSecret: async () => credentials.clientSecret,
    clock,
    http: fetchHttp,
    journal: memoryJournal(),
    budgets: createMemoryBudgetStore(),
  });
  return { sim, clock, client };
}

describe('ReBound sandbox: the return orders changed since a moment', () => {
  it('lists what changed (ids, status, updatedAt), oldest change first, a page of 100 at a time', async () => {
    const { clock, client } = await start();
    const createdAt = clock.now();
    for (let i = 0; i < 150; i++) {
      const order = `ORD-${String(i).padStart(3, '0')}`;
      await client.createSalesOrder(salesOrder(order));
      await client.createReturnOrder({ clientOrderId: order, items: [{ clientItemId: 'LINE-1', quantity: '1', reasonCode: 'Too small', wish: 'REFUND' }] });
      clock.advance(1000);
    }
    const first = await client.changedReturnOrders(new Date(createdAt).toISOString());
    expect(first.changes).toHaveLength(100);
    expect(first.nextPage).toBe(2);
    expect(first.changes[0]).toMatchObject({ clientOrderId: 'ORD-000', status: 'LABEL_ISSUED', updatedAt: new Date(createdAt).toISOString() });
    const second = await client.changedReturnOrders(new Date(createdAt).toISOString(), 2);
    expect(second.changes).toHaveLength(50);
    expect(second.nextPage).toBeNull();
    const all = [...first.changes, ...second.changes].map((c) => c.updatedAt);
    expect(all).toEqual([...all].sort());

    // Two hours on, every parcel has entered the carrier network: each shows once, with its new status.
    const before = clock.now();
    clock.advance(2 * HOUR + 200_000);
    const moved = await client.changedReturnOrders(new Date(before).toISOString());
    expect(moved.changes.length).toBe(100);
    expect(new Set(moved.changes.map((c) => c.status))).toEqual(new Set(['IN_CARRIER_NETWORK']));
    // Nothing changed after the last change: an empty page.
    const last = [...moved.changes].pop()?.updatedAt ?? '';
    const rest = await client.changedReturnOrders(new Date(Date.parse(last) + 1).toISOString(), 2);
    expect(rest.changes).toEqual([]);
  });

  it('keeps the list by clientOrderId on the same path, and refuses an updatedFrom that is not a date', async () => {
    const { client } = await start();
    await client.createSalesOrder(salesOrder('ORD-1'));
    await client.createReturnOrder({ clientOrderId: 'ORD-1', items: [{ clientItemId: 'LINE-1', quantity: '1', reasonCode: 'Too small', wish: 'REFUND' }] });
    expect(await client.listReturnOrders('ORD-1')).toHaveLength(1);
    const refused = await client.changedReturnOrders('yesterday').catch((error: unknown) => error);
    expect(isApiError(refused) && refused.kind).toBe('rejected');
  });
});

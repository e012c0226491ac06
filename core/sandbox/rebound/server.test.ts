import { afterEach, describe, expect, it } from 'vitest';
import type { Budgets } from '../http/budgets';
import type { SimServer } from '../http/sim-server';
import type { ReturnEventView, ReturnOrderView, SalesOrderView } from './model';
import { REBOUND_CLIENT_BUDGET, startReboundServer } from './server';
import { DAY, HOUR, buildSim, calmScenario, credentials, salesOrder } from './test-kit';

// The simulated ReBound API over real HTTP on loopback, driven by a fake clock: auth, the return-order lifecycle,
// the rules the bridge relies on (pre-advised orders, ordered quantities, cancel before the first scan) and the
// per-client rate limit.

interface Answer<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

const servers: SimServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: Parameters<typeof buildSim>[0] = {}, budgets?: () => Budgets) {
  const { sim, clock } = buildSim(options);
  const server = await startReboundServer(sim, budgets ? { budgets } : {});
  servers.push(server);
  const token = async (secret = credentials.clientSecret) => {
    const res = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: credentials.clientId, client_secret: secret }).toString(),
    });
    return { status: res.status, body: (await res.json()) as { access_token: string; token_type: string; expires_in: number; error?: { code: string } } };
  };
  const raw = async <T = unknown>(method: string, path: string, init: { token?: string | null; json?: unknown }): Promise<Answer<T>> => {
    const headers: Record<string, string> = {};
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${server.url}${path}`, { method, headers, ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
  };
  // Like the clients ReBound's docs describe: one session token, renewed once when a call answers 401.
  let session: string | null = null;
  const call = async <T = unknown>(method: string, path: string, init: { token?: string | null; json?: unknown } = {}): Promise<Answer<T>> => {
    if (init.token !== undefined) return raw<T>(method, path, init);
    session ??= (await token()).body.access_token;
    const first = await raw<T>(method, path, { ...init, token: session });
    if (first.status !== 401) return first;
    session = (await token()).body.access_token;
    return raw<T>(method, path, { ...init, token: session });
  };
  return { sim, clock, server, call, token };
}

describe('ReBound sandbox: authentication', () => {
  it('issues 30-minute bearer tokens on sandbox time and refuses calls without a valid one', async () => {
    const { clock, call, token } = await start();

    const refused = await token('wrong');
    expect(refused.status).toBe(401);
    expect(refused.body.error?.code).toBe('unauthorized');

    const missing = await call<{ error: { code: string } }>('GET', '/sales-orders/X', { token: null });
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('unauthorized');
    expect((await call('GET', '/sales-orders/X', { token: 'rb_madeup' })).status).toBe(401);

    const issued = await token();
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ token_type: 'Bearer', expires_in: 1800 });
    const bearer = issued.body.access_token;
    expect((await call('GET', '/sales-orders/X', { token: bearer })).status).toBe(404);

    clock.advance(29 * 60_000);
    expect((await call('GET', '/sales-orders/X', { token: bearer })).status).toBe(404);
    clock.advance(60_000);
    const expired = await call<{ error: { code: string; message: string } }>('GET', '/sales-orders/X', { token: bearer });
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toMatch(/expired/);
  });
});

describe('ReBound sandbox: sales orders and return orders', () => {
  it('moves a return order through every status on the sandbox clock and lists its events', async () => {
    const { clock, call } = await start({ physical: { deliveredToClientRate: 1, minorWearRate: 0 } });

    const so = await call<SalesOrderView>('POST', '/sales-orders?flowKey=main', { json: salesOrder('ASOS-1') });
    expect(so.status).toBe(201);
    expect(so.body).toMatchObject({ clientOrderId: 'ASOS-1', flowKey: 'main', salesItems: [{ clientItemId: 'LINE-1', quantity: '1', commercialValue: '19.99' }] });
    expect((await call<SalesOrderView>('GET', '/sales-orders/ASOS-1')).body.clientOrderId).toBe('ASOS-1');

    const created = await call<ReturnOrderView>('POST', '/return-orders', {
      json: { clientOrderId: 'ASOS-1', items: [{ clientItemId: 'LINE-1', quantity: '1', reasonCode: 'Too large' }] },
    });
    expect(created.status).toBe(201);
    const ro = created.body;
    expect(ro.reboundOrderId).toMatch(/^\(00\)687\d{15}$/);
    expect(ro.status).toBe('LABEL_ISSUED');
    expect(ro.flowKey).toBe('main');
    expect(ro.items).toHaveLength(1);
    expect(ro.items[0]).toMatchObject({ clientItemId: 'LINE-1', sku: 'SKU-1', quantity: '1', reasonCode: 'Too large', wish: 'REFUND', received: null, grade: null });
    expect(ro.items[0]?.reboundItemId).toMatch(/^\(00\)987\d{15}$/);
    const parcel = ro.parcels[0];
    expect(parcel?.trackingNumber).toMatch(/^RB\d{9}GB$/);
    expect(Buffer.from(parcel?.label.base64 ?? '', 'base64').toString('utf8')).toMatch(/^%PDF-/);

    const path = `/return-orders/${encodeURIComponent(ro.reboundOrderId)}`;
    const seen: string[] = [];
    for (let hour = 0; hour < 20 * 24 && seen.at(-1) !== 'DELIVERED_TO_CLIENT'; hour++) {
      clock.advance(HOUR);
      const now = await call<ReturnOrderView>('GET', path);
      if (seen.at(-1) !== now.body.status) seen.push(now.body.status);
    }
    expect(seen).toEqual(['LABEL_ISSUED', 'IN_CARRIER_NETWORK', 'AT_HUB', 'ITEMS_REGISTERED', 'PROCESSED', 'DELIVERED_TO_CLIENT']);

    const final = await call<ReturnOrderView>('GET', path);
    expect(final.body.items[0]).toMatchObject({ received: '1', grade: 'A_SELLABLE', disposition: 'RESTOCK' });

    const events = await call<{ events: ReturnEventView[] }>('GET', `${path}/events`);
    expect(events.body.events.map((e) => e.status)).toEqual([
      'CREATED',
      'LABEL_ISSUED',
      'IN_CARRIER_NETWORK',
      'AT_HUB',
      'ITEMS_REGISTERED',
      'PROCESSED',
      'DELIVERED_TO_CLIENT',
    ]);
    expect(events.body.events.find((e) => e.status === 'IN_CARRIER_NETWORK')?.statusDescription).toBe('postalIncoming');
    const times = events.body.events.map((e) => Date.parse(e.timestamp));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('refuses a return for an order that was never pre-advised, and more units than were ordered', async () => {
    const { call } = await start();

    const unknown = await call<{ error: { code: string; details: { field: string }[] } }>('POST', '/return-orders', {
      json: { clientOrderId: 'NEVER-SENT', items: [{ clientItemId: 'LINE-1', quantity: '1', reasonCode: 'Too large' }] },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.code).toBe('validation_failed');
    expect(unknown.body.error.details[0]?.field).toBe('clientOrderId');

    await call('POST', '/sales-orders', { json: salesOrder('ASOS-2', [{ clientItemId: 'L1', sku: 'SKU-A', quantity: '2' }]) });
    const returnOf = (quantity: string) =>
      call<ReturnOrderView & { error: { message: string; details: { field: string; issue: string }[] } }>('POST', '/return-orders', {
          json: { clientOrderId: 'ASOS-2', items: [{ clientItemId: 'L1', quantity, reasonCode: 'Too small' }] },
      });
    expect((await returnOf('3')).status).toBe(422);
    const first = await returnOf('1');
    expect(first.status).toBe(201);
    const over = await returnOf('2');
    expect(over.status).toBe(422);
    expect(over.body.error.details[0]).toMatchObject({ field: 'items[0].quantity' });
    expect(over.body.error.details[0]?.issue).toContain(first.body.reboundOrderId);

    // A cancelled return no longer holds its unit.
    expect((await call('POST', `/return-orders/${encodeURIComponent(first.body.reboundOrderId)}/cancel`)).status).toBe(200);
    expect((await returnOf('2')).status).toBe(201);
  });

  it('answers 409 for a second sales order with the same id unless overwrite=true, and 422 with details for a bad body', async () => {
    const { call } = await start();
    expect((await call('POST', '/sales-orders', { json: salesOrder('ASOS-3') })).status).toBe(201);
    const again = await call<{ error: { code: string } }>('POST', '/sales-orders', { json: salesOrder('ASOS-3') });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('duplicate_client_order_id');
    const replaced = await call<SalesOrderView>('POST', '/sales-orders?overwrite=true', {
      json: salesOrder('ASOS-3', [{ clientItemId: 'LINE-9', sku: 'SKU-9', quantity: '4' }]),
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.salesItems.map((i) => i.clientItemId)).toEqual(['LINE-9']);

    const bad = await call<{ error: { code: string; details: { field: string }[] } }>('POST', '/sales-orders', {
      json: { clientOrderId: '', salesItems: [{ clientItemId: 'A', sku: 'S', quantity: 'one' }] },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d) => d.field)).toEqual(expect.arrayContaining(['clientOrderId', 'salesItems[0].quantity']));
  });

  it('cancels only before the first carrier scan', async () => {
    const { clock, call } = await start();
    await call('POST', '/sales-orders', { json: salesOrder('ASOS-4', [{ clientItemId: 'L1', sku: 'SKU-A', quantity: '2' }]) });
    const create = () =>
      call<ReturnOrderView>('POST', '/return-orders', { json: { clientOrderId: 'ASOS-4', items: [{ sku: 'SKU-A', quantity: '1', reasonCode: 'Changed mind' }] } });

    const early = (await create()).body;
    const cancelled = await call<ReturnOrderView>('POST', `/return-orders/${encodeURIComponent(early.reboundOrderId)}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('CANCELLED');
    // Cancelling again answers the same, so a retry after a lost answer is safe.
    expect((await call('POST', `/return-orders/${encodeURIComponent(early.reboundOrderId)}/cancel`)).status).toBe(200);
    clock.advance(10 * DAY);
    expect((await call<ReturnOrderView>('GET', `/return-orders/${encodeURIComponent(early.reboundOrderId)}`)).body.status).toBe('CANCELLED');

    const late = (await create()).body;
    clock.advance(calmScenario.hoursToNetwork[1] * HOUR);
    const refused = await call<{ error: { code: string; message: string } }>('POST', `/return-orders/${encodeURIComponent(late.reboundOrderId)}/cancel`);
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toMatch(/only before the first carrier scan/);
  });

  it('lists return orders for a client order newest first', async () => {
    const { clock, call } = await start();
    await call('POST', '/sales-orders', { json: salesOrder('ASOS-5', [{ clientItemId: 'L1', sku: 'SKU-A', quantity: '3' }]) });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const ro = await call<ReturnOrderView>('POST', '/return-orders', { json: { clientOrderId: 'ASOS-5', items: [{ clientItemId: 'L1', quantity: '1', reasonCode: 'Faulty' }] } });
      ids.push(ro.body.reboundOrderId);
      clock.advance(60_000);
    }
    const list = await call<{ returnOrders: ReturnOrderView[] }>('GET', '/return-orders?clientOrderId=ASOS-5');
    expect(list.body.returnOrders.map((r) => r.reboundOrderId)).toEqual([...ids].reverse());
    expect((await call<{ returnOrders: unknown[] }>('GET', '/return-orders?clientOrderId=NOPE')).body.returnOrders).toEqual([]);
  });

  it('lets a test force what arrives through the /_sim advance hook', async () => {
    const { server, call, sim } = await start();
    await call('POST', '/sales-orders', { json: salesOrder('ASOS-6', [{ clientItemId: 'L1', sku: 'SKU-A', quantity: '2' }]) });
    const ro = (await call<ReturnOrderView>('POST', '/return-orders', { json: { clientOrderId: 'ASOS-6', items: [{ clientItemId: 'L1', quantity: '2', reasonCode: 'Faulty' }] } })).body;
    const [kept, lost] = ro.items;
    const advanced = await fetch(`${server.url}/_sim/return-orders/${encodeURIComponent(ro.reboundOrderId)}/advance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'PROCESSED', items: [{ reboundItemId: lost?.reboundItemId, received: false }, { reboundItemId: kept?.reboundItemId, grade: 'D_DAMAGED' }, { unexpected: true }] }),
    });
    expect(advanced.status).toBe(200);
    const body = (await advanced.json()) as ReturnOrderView;
    expect(body.status).toBe('PROCESSED');
    expect(body.items.map((i) => [i.clientItemId, i.received, i.grade])).toEqual([
      ['L1', '1', 'D_DAMAGED'],
      ['L1', '0', 'NOT_RECEIVED'],
      ['Not available', '1', 'UNEXPECTED'],
    ]);
    const truth = sim.truth().returnOrders[0];
    expect(truth?.anomalies).toEqual(['shortReceipt', 'unexpectedItem', 'damaged']);
    expect(truth?.lines).toEqual([{ clientItemId: 'L1', sku: 'SKU-A', requested: 2, sent: 1, received: 1, sellable: 0 }]);

    const truthOverHttp = (await (await fetch(`${server.url}/_sim/truth`)).json()) as { returnOrders: { reboundOrderId: string }[] };
    expect(truthOverHttp.returnOrders[0]?.reboundOrderId).toBe(ro.reboundOrderId);
  });
});

describe('ReBound sandbox: rate limit', () => {
  it('answers 429 with Retry-After past the per-client window, across operations, until the window moves on', async () => {
    const { clock, call } = await start({}, () => ({ [REBOUND_CLIENT_BUDGET]: { kind: 'window', max: 5, windowMs: 60_000 } }));
    for (let i = 0; i < 3; i++) expect((await call('GET', `/sales-orders/X${i}`)).status).toBe(404);
    for (let i = 0; i < 2; i++) expect((await call('GET', '/return-orders?clientOrderId=X')).status).toBe(200);
    const limited = await call<{ error: { code: string } }>('GET', '/sales-orders/X9');
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    clock.advance(60_000);
    expect((await call('GET', '/sales-orders/X9')).status).toBe(404);
  });

  it('allows 300 requests a minute by default', async () => {
    const { call } = await start();
    const statuses: number[] = [];
    for (let i = 0; i < 301; i++) statuses.push((await call('GET', '/return-orders?clientOrderId=X')).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(300);
    expect(statuses.at(-1)).toBe(429);
  });
});

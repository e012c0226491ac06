import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '../adapters/fake-clock';
import type { Clock } from '../ports';
import { ApiError } from '../net/api-error';
import { createMemoryBudgetStore } from '../net/budget-guard';
import { fetchHttp, type HttpPort, type HttpRequest } from '../net/http';
import { memoryJournal } from '../net/journal';
import { defaultScenario, startSandbox, type Sandbox } from '../sandbox';
import { createReboundClient, type ReboundSalesOrderRequest } from './client';
import { NOT_AVAILABLE, itemProcessedSchema, refundTriggerSchema, returnOrderSchema, trackingUpdateSchema } from './schemas';

// The ReBound client against the sandbox's ReBound over real HTTP: token reuse and renewal, the 409 that means
// "already known", and each failure surfacing as the ApiError kind the engine decides on.

const calm = {
  ordersPerDay: 5,
  historyDays: 1,
  parcelNeverSentRate: 0,
  shortReceiptRate: 0,
  unexpectedItemRate: 0,
  wrongSkuRate: 0,
  damagedRate: 0,
  nonSellableRate: 0,
  duplicateNotificationRate: 0,
  outOfOrderNotificationRate: 0,
};

const sandboxes: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((s) => s.close()));
});

async function setup(options: { flowKey?: string; clientClock?: (clock: FakeClock) => Clock } = {}) {
  const clock = createFakeClock(defaultScenario.startMs);
  const sandbox = await startSandbox({ seed: 7, clock, scenario: calm });
  sandboxes.push(sandbox);
  const journal = memoryJournal();
  const sent: HttpRequest[] = [];
  const http: HttpPort = (request) => {
    sent.push(request);
    return fetchHttp(request);
  };
  const client = createReboundClient({
    baseUrl: sandbox.rebound.baseUrl,
    http,
    clock: options.clientClock?.(clock) ?? clock,
    journal,
    budgets: createMemoryBudgetStore(),
    clientId: sandbox.rebound.clientId,
    clientSecret: async () => sandbox.rebound.clientSecret,
    ...(options.flowKey !== undefined ? { flowKey: options.flowKey } : {}),
  });
  const counters = () => sandbox.truth().rebound.counters;
  const tokenCalls = () => journal.entries.filter((e) => e.operation === 'oauth.token').length;
  return { clock, sandbox, journal, sent, client, counters, tokenCalls };
}

function salesOrder(clientOrderId: string, quantity = 2): ReboundSalesOrderRequest {
  return {
    clientOrderId,
    clientOrderCreatedDate: '2026-09-20T10:00:00Z',
    businessUnit: 'asos-marketplace',
    customerAddress: { name: 'A Customer', line1: '1 High St', city: 'Northampton', postcode: 'NN1 1AA', countryCode: 'GB' },
    salesItems: [{ clientItemId: 'LINE-1', sku: 'SKU-1', ean: '5000000000001', articleDescription: 'Shirt', quantity, commercialValue: '19.99', commercialValueCurrency: 'GBP' }],
    clientMetadata: [{ key: 'miraklShopId', value: '2001' }],
  };
}

async function caught(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected an ApiError');
}

describe('ReBound client: OAuth2 client credentials', () => {
  it('obtains one token, form-encoded, and reuses it for every call until it is near expiry', async () => {
    const { client, sent, counters, tokenCalls, journal, sandbox } = await setup();
    await client.createSalesOrder(salesOrder('ASOS-T1'));
    await client.getSalesOrder('ASOS-T1');
    await client.listReturnOrders('ASOS-T1');

    expect(tokenCalls()).toBe(1);
    expect(counters().tokensIssued).toBe(1);
    const [tokenRequest, ...apiRequests] = sent;
    expect(tokenRequest?.headers?.['content-type']).toBe('application/x-www-form-urlencoded');
    expect(new URLSearchParams(String(tokenRequest?.body)).get('grant_type')).toBe('client_credentials');
    const bearers = new Set(apiRequests.map((r) => r.headers?.authorization));
    expect(bearers.size).toBe(1);
    expect([...bearers][0]).toMatch(/^Bearer \S+$/);

    // Neither the client secret nor the token reaches the journal, and paths carry no query string.
    const journalled = JSON.stringify(journal.entries);
    expect(journalled).not.toContain(sandbox.rebound.clientSecret);
    expect(journalled).not.toContain(String([...bearers][0]).slice('Bearer '.length));
    expect(journal.entries.every((e) => !e.path.includes('?'))).toBe(true);
  });

  it('gets a new token once the old one has expired on the injected clock, without a 401 first', async () => {
    const { client, clock, sandbox, counters, tokenCalls } = await setup();
    await client.listReturnOrders('ASOS-T2');
    clock.advance(1801 * 1000);
    sandbox.advance();
    await client.listReturnOrders('ASOS-T2');
    expect(tokenCalls()).toBe(2);
    expect(counters().unauthorizedCalls).toBe(0);
  });

  it('on a 401 drops the token, authenticates again and retries the call once', async () => {
    // The client's clock lags ReBound's, so it keeps a token ReBound has already expired: a real 401.
    let lagMs = 0;
    const { client, clock, sandbox, counters, tokenCalls, journal } = await setup({ clientClock: (c) => ({ now: () => c.now() - lagMs }) });
    await client.createSalesOrder(salesOrder('ASOS-T3'));
    lagMs = 2 * 3_600_000;
    clock.advance(1900 * 1000);
    sandbox.advance();

    const so = await client.getSalesOrder('ASOS-T3');
    expect(so?.clientOrderId).toBe('ASOS-T3');
    expect(tokenCalls()).toBe(2);
    expect(counters().unauthorizedCalls).toBe(1);
    expect(journal.entries.filter((e) => e.operation === 'salesOrders.get').map((e) => e.outcome)).toEqual(['auth', 'ok']);
  });

  it('retries a 401 only once, and refuses wrong credentials as auth', async () => {
    const clock = createFakeClock();
    const journal = memoryJournal();
    const alwaysUnauthorized: HttpPort = async (request) =>
      request.url.endsWith('/oauth/token')
        ? { status: 200, headers: {}, body: JSON.stringify({ access_token: `t${journal.entries.length}`, token_type: 'Bearer', expires_in: 1800 }) }
        : { status: 401, headers: {}, body: JSON.stringify({ error: { code: 'unauthorized', message: 'Unknown access token' } }) };
    const client = createReboundClient({ baseUrl: 'http://rebound.invalid', http: alwaysUnauthorized, clock, journal, budgets: createMemoryBudgetStore(), clientId: 'c', clientSecret: async () => 's' });
    const error = await caught(client.createReturnOrder({ clientOrderId: 'X', items: [{ clientItemId: 'L', quantity: 1, reasonCode: 'Too large' }] }));
    expect(error.kind).toBe('auth');
    expect(journal.entries.map((e) => e.operation)).toEqual(['oauth.token', 'returnOrders.create', 'oauth.token', 'returnOrders.create']);

    const { sandbox } = await setup();
    const wrong = createReboundClient({
      baseUrl: sandbox.rebound.baseUrl,
      http: fetchHttp,
      clock,
      journal: memoryJournal(),
      budgets: createMemoryBudgetStore(),
      clientId: sandbox.rebound.clientId,
      clientSecret: async () => 'not-the-secret',
    });
    const refused = await caught(wrong.listReturnOrders('ASOS-T4'));
    expect(refused.kind).toBe('auth');
    expect(refused.operation).toBe('oauth.token');
    expect(refused.message).not.toContain('not-the-secret');
  });
});

describe('ReBound client: orders', () => {
  it('creates a sales order, and reports a duplicate as already known rather than as an error', async () => {
    const { client } = await setup();
    const first = await client.createSalesOrder(salesOrder('ASOS-S1'));
    expect(first.created).toBe(true);
    expect(first.created && first.salesOrder.salesItems[0]?.quantity).toBe(2);
    expect(await client.createSalesOrder(salesOrder('ASOS-S1'))).toEqual({ created: false });
    expect((await client.getSalesOrder('ASOS-S1'))?.clientMetadata).toEqual([{ key: 'miraklShopId', value: '2001' }]);
    expect(await client.getSalesOrder('ASOS-NOPE')).toBeNull();
  });

  it('creates a return order and reads it back by id, by client order and as events', async () => {
    const { client } = await setup();
    await client.createSalesOrder(salesOrder('ASOS-R1'));
    const created = await client.createReturnOrder({ clientOrderId: 'ASOS-R1', items: [{ clientItemId: 'LINE-1', quantity: 2, reasonCode: 'Too large', wish: 'REFUND' }] });
    expect(created.reboundOrderId).toMatch(/^\(00\)\d{18}$/);
    expect(created.status).toBe('LABEL_ISSUED');
    expect(created.items).toHaveLength(2);
    expect(created.items.every((i) => i.quantity === 1 && i.clientItemId === 'LINE-1' && i.received === null && i.grade === null)).toBe(true);
    expect(created.parcels[0]?.label?.format).toBe('PDF');

    expect(await client.getReturnOrder(created.reboundOrderId)).toEqual(created);
    expect(await client.getReturnOrder('(00)687999999999999999')).toBeNull();
    const listed = await client.listReturnOrders('ASOS-R1');
    expect(listed.map((r) => r.reboundOrderId)).toEqual([created.reboundOrderId]);
    expect(await client.listReturnOrders('ASOS-NONE')).toEqual([]);
    const events = await client.returnOrderEvents(created.reboundOrderId);
    expect(events.map((e) => e.status)).toEqual(['CREATED', 'LABEL_ISSUED']);

    const cancelled = await client.cancelReturnOrder(created.reboundOrderId);
    expect(cancelled.status).toBe('CANCELLED');
  });

  it('sends flowKey on writes only', async () => {
    const { client, sent } = await setup({ flowKey: 'uk-main' });
    await client.createSalesOrder(salesOrder('ASOS-F1'));
    const ro = await client.createReturnOrder({ clientOrderId: 'ASOS-F1', items: [{ clientItemId: 'LINE-1', quantity: 1, reasonCode: 'Too large' }] });
    await client.getReturnOrder(ro.reboundOrderId);
    expect(ro.flowKey).toBe('uk-main');
    const queries = sent.map((r) => `${r.method} ${new URL(r.url).pathname} ${new URL(r.url).searchParams.get('flowKey') ?? '-'}`);
    expect(queries).toEqual(['POST /oauth/token -', 'POST /sales-orders uk-main', 'POST /return-orders uk-main', `GET /return-orders/${ro.reboundOrderId} -`]);
  });
});

describe('ReBound client: failures the engine decides on', () => {
  it('surfaces a return for an unknown client order as rejected, naming the problem', async () => {
    const { client } = await setup();
    const error = await caught(client.createReturnOrder({ clientOrderId: 'ASOS-GHOST', items: [{ clientItemId: 'LINE-1', quantity: 1, reasonCode: 'Too large' }] }));
    expect(error.kind).toBe('rejected');
    expect(error.status).toBe(422);
    expect(error.message).toContain('validation_failed');
    expect(error.message).toContain('No sales order ASOS-GHOST was pre-advised');
  });

  it('reports a create whose answer was lost as uncertain, sends it once only, and the return order exists', async () => {
    const { client, sandbox } = await setup();
    await client.createSalesOrder(salesOrder('ASOS-L1'));
    sandbox.setFaults('rebound', { 'returnOrders.create': { lostResponseRate: 1 } });
    const error = await caught(client.createReturnOrder({ clientOrderId: 'ASOS-L1', items: [{ clientItemId: 'LINE-1', quantity: 1, reasonCode: 'Too large' }] }));
    expect(error.kind).toBe('uncertain');
    expect(sandbox.reboundServer.counters['returnOrders.create']?.calls).toBe(1);

    sandbox.setFaults('rebound', {});
    const listed = await client.listReturnOrders('ASOS-L1');
    expect(listed).toHaveLength(1);
    expect(listed[0]?.items.map((i) => i.clientItemId)).toEqual(['LINE-1']);
  });

  it('surfaces a lost answer on a sales order as network, because repeating it is safe', async () => {
    const { client, sandbox } = await setup();
    sandbox.setFaults('rebound', { 'salesOrders.create': { lostResponseRate: 1 } });
    expect((await caught(client.createSalesOrder(salesOrder('ASOS-L2')))).kind).toBe('network');
    sandbox.setFaults('rebound', {});
    expect(await client.createSalesOrder(salesOrder('ASOS-L2'))).toEqual({ created: false });
  });

  it('surfaces 429 as rate_limited with the Retry-After delay', async () => {
    const { client, sandbox } = await setup();
    sandbox.setFaults('rebound', { 'returnOrders.list': { rateLimitStormRate: 1, rateLimitStormSeconds: 20 } });
    const error = await caught(client.listReturnOrders('ASOS-Q1'));
    expect(error.kind).toBe('rate_limited');
    expect(error.status).toBe(429);
    expect(error.retryAfterMs).toBe(20_000);
    expect(error.isTransient).toBe(true);
  });

  it('accepts unknown enum values and ignores fields it does not know', async () => {
    const { client, sandbox } = await setup();
    await client.createSalesOrder(salesOrder('ASOS-E1'));
    const created = await client.createReturnOrder({ clientOrderId: 'ASOS-E1', items: [{ clientItemId: 'LINE-1', quantity: 1, reasonCode: 'Too large' }] });
    sandbox.setFaults('rebound', { '*': { unknownEnumRate: 1, extraFieldsRate: 1 } });
    const read = await client.getReturnOrder(created.reboundOrderId);
    expect(read?.status).toBe('HELD_AT_CUSTOMS');
    expect(read && Object.keys(read)).not.toContain('sandbox_extra_field');
    expect(read?.items[0] && Object.keys(read.items[0])).not.toContain('sandbox_extra_field');
    const listed = await client.listReturnOrders('ASOS-E1');
    expect(listed[0]?.status).toBe('HELD_AT_CUSTOMS');
    expect((await client.returnOrderEvents(created.reboundOrderId)).length).toBe(2);
  });
});

describe('ReBound schemas', () => {
  it('read quantities and money as strings or numbers, unknown enums, placeholders, and drop extra fields', () => {
    const ro = returnOrderSchema.parse({
      reboundOrderId: '(00)687000000000000001',
      clientOrderId: 'ASOS-1',
      status: 'HELD_AT_CUSTOMS',
      createdAt: '2026-10-01T00:00:00.000Z',
      updatedAt: '2026-10-01T00:00:00.000Z',
      location: 'CC_XXX_Name',
      parcels: [{ trackingNumber: 'ZZ1GB', carrier: 'NEW_CARRIER', label: { format: 'ZPL', base64: 'eA==' }, extra: 1 }],
      items: [
        { reboundItemId: '(00)987000000000000001', clientItemId: 'L1', sku: 'S1', ean: '5', quantity: 1, reasonCode: 'Too large', commercialValue: 19.99, received: 1, grade: 'Z_NEW_GRADE', disposition: 'UPCYCLE', newField: true },
        { reboundItemId: '(00)987000000000000002', clientItemId: NOT_AVAILABLE, sku: NOT_AVAILABLE, ean: NOT_AVAILABLE, quantity: '1', reasonCode: NOT_AVAILABLE, commercialValue: NOT_AVAILABLE, received: '1', grade: 'UNEXPECTED', disposition: null },
        { reboundItemId: '(00)987000000000000003', clientItemId: null, quantity: '1' },
      ],
      somethingNew: { nested: true },
    });
    expect(ro.status).toBe('HELD_AT_CUSTOMS');
    expect(ro).not.toHaveProperty('somethingNew');
    expect(ro.parcels[0]).toEqual({ trackingNumber: 'ZZ1GB', carrier: 'NEW_CARRIER', label: { format: 'ZPL', base64: 'eA==' }, qrCodeUrl: null });
    expect(ro.items[0]).toMatchObject({ quantity: 1, commercialValue: 19.99, received: '1', grade: 'Z_NEW_GRADE', disposition: 'UPCYCLE' });
    expect(ro.items[0]).not.toHaveProperty('newField');
    expect(ro.items[1]).toMatchObject({ clientItemId: NOT_AVAILABLE, sku: NOT_AVAILABLE, reasonCode: NOT_AVAILABLE, commercialValue: null, received: '1' });
    expect(ro.items[2]).toMatchObject({ clientItemId: NOT_AVAILABLE, sku: NOT_AVAILABLE, received: null, grade: null });
    expect(returnOrderSchema.safeParse({ ...ro, items: [{ reboundItemId: 'x', quantity: 'one' }] }).success).toBe(false);

    const tracking = trackingUpdateSchema.parse({
      order: { clientOrderId: 'A', reboundOrderId: 'R', location: null, trackingNumber: 'T', statusDescription: 'parcelWeighed', timestamp: '2026-10-01T00:00:00Z' },
      items: [{ reboundItemId: 'I', clientItemId: 'L1', ean: '5', sku: 'S1', reasonCode: 'Too large', quantity: '1', commercialValue: '19.99' }],
    });
    expect(tracking.order.statusDescription).toBe('parcelWeighed');
    expect(tracking.items[0]?.commercialValue).toBe(19.99);

    const trigger = refundTriggerSchema.parse({ order: { reboundOrderId: 'R', clientOrderId: 'A', location: 'CC_XXX_Name', items: [{ reboundItemId: 'I', clientItemId: NOT_AVAILABLE, sku: NOT_AVAILABLE, reasonCode: NOT_AVAILABLE, quantity: '1' }] } });
    expect(trigger.order.triggerType).toBeNull();
    expect(trigger.order.items[0]?.clientItemId).toBe(NOT_AVAILABLE);

    const processed = itemProcessedSchema.parse({
      order: { reboundOrderId: 'R', clientOrderId: 'A', location: 'CC_XXX_Name', triggerType: 'somethingElse', items: [{ reboundItemId: 'I', clientItemId: 'L1', sku: 'S1', reasonCode: 'x', quantity: 0, grade: 'E_NEW', disposition: 'UPCYCLE', inspectedAt: '2026-10-01T00:00:00Z' }] },
    });
    expect(processed.order.items[0]).toMatchObject({ quantity: 0, grade: 'E_NEW', disposition: 'UPCYCLE', images: [] });
  });
});

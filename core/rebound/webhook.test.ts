import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '../adapters/fake-clock';
import { createMemoryBudgetStore } from '../net/budget-guard';
import { fetchHttp } from '../net/http';
import { memoryJournal } from '../net/journal';
import { defaultScenario, startSandbox, type Sandbox } from '../sandbox';
import { createReboundClient, type ReboundClient } from './client';
import { NOT_AVAILABLE } from './schemas';
import { verifyReboundWebhook } from './webhook';

// Notifications from the sandbox's ReBound, subscribed through our client and received by a real loopback server,
// pass the verifier with the subscription's secret; tampered, mis-keyed and replayed deliveries do not.

const HOUR = 3_600_000;
const SECRET = 'whsec-test-1';

interface Delivery {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
  /** The receiver's clock at arrival: what a real receiver would verify against. */
  receivedAt: number;
}

const servers: Server[] = [];
const sandboxes: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((s) => s.close()));
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

async function startReceiver(clock: FakeClock): Promise<{ url: string; deliveries: Delivery[] }> {
  const deliveries: Delivery[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, rawBody: Buffer.concat(chunks), receivedAt: clock.now() });
      res.writeHead(204).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/rebound`, deliveries };
}

async function setup(): Promise<{ clock: FakeClock; sandbox: Sandbox; client: ReboundClient; deliveries: Delivery[] }> {
  const clock = createFakeClock(defaultScenario.startMs);
  const sandbox = await startSandbox({
    seed: 11,
    clock,
    scenario: {
      ordersPerDay: 5,
      historyDays: 1,
      parcelNeverSentRate: 0,
      shortReceiptRate: 0,
      unexpectedItemRate: 0,
      wrongSkuRate: 0,
      duplicateNotificationRate: 0,
      outOfOrderNotificationRate: 0,
    },
  });
  sandboxes.push(sandbox);
  const client = createReboundClient({
    baseUrl: sandbox.rebound.baseUrl,
    http: fetchHttp,
    clock,
    journal: memoryJournal(),
    budgets: createMemoryBudgetStore(),
    clientId: sandbox.rebound.clientId,
    clientSecret: async () => sandbox.rebound.clientSecret,
  });
  const receiver = await startReceiver(clock);
  for (const type of ['trackingUpdate', 'refundTrigger', 'itemProcessed'] as const) {
    const subscription = await client.subscribeWebhook(type, { url: receiver.url, secret: SECRET });
    expect(subscription).toMatchObject({ type, url: receiver.url, hasSecret: true });
  }
  await client.createSalesOrder({
    clientOrderId: 'ASOS-W1',
    salesItems: [{ clientItemId: 'LINE-1', sku: 'SKU-1', quantity: 2, commercialValue: '19.99', commercialValueCurrency: 'GBP' }],
  });
  return { clock, sandbox, client, deliveries: receiver.deliveries };
}

const sign = (secret: string, timestamp: string, body: string) => createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('base64');

describe('verifyReboundWebhook against the sandbox', () => {
  it('accepts every notification a return order produces, with its typed body', async () => {
    const { clock, sandbox, client, deliveries } = await setup();
    const ro = await client.createReturnOrder({ clientOrderId: 'ASOS-W1', items: [{ clientItemId: 'LINE-1', quantity: 2, reasonCode: 'Too large' }] });
    await sandbox.flush();
    expect(deliveries).toHaveLength(1);

    const isProcessed = () => deliveries.some((d) => d.headers['x-rebound-event'] === 'itemProcessed');
    for (let hours = 0; hours < 30 * 24 && !isProcessed(); hours += 6) {
      clock.advance(6 * HOUR);
      sandbox.advance();
      await sandbox.flush();
    }
    expect(isProcessed()).toBe(true);

    const verified = deliveries.map((d) => verifyReboundWebhook({ headers: d.headers, rawBody: d.rawBody, secret: SECRET, now: d.receivedAt }));
    const events: string[] = [];
    for (const v of verified) {
      if (!v.ok) throw new Error(`${v.reason}: ${v.message}`);
      expect(v.deliveryId).toMatch(/^[0-9a-f-]{36}$/);
      switch (v.eventType) {
        case 'trackingUpdate':
          expect(v.body.order.reboundOrderId).toBe(ro.reboundOrderId);
          expect(v.body.items.map((i) => i.quantity)).toEqual([1, 1]);
          events.push(`trackingUpdate:${v.body.order.statusDescription}`);
          break;
        case 'refundTrigger':
          expect(v.body.order.items.every((i) => i.clientItemId === 'LINE-1')).toBe(true);
          events.push(`refundTrigger:${v.body.order.triggerType ?? '-'}`);
          break;
        case 'itemProcessed':
          expect(v.body.order.items.map((i) => i.quantity)).toEqual([1, 1]);
          expect(v.body.order.items.every((i) => i.grade !== null && i.inspectedAt !== null)).toBe(true);
          events.push('itemProcessed');
          break;
      }
    }
    expect(events.slice(0, 6)).toEqual([
      'trackingUpdate:returnOrderCreated',
      'trackingUpdate:postalIncoming',
      'refundTrigger:instantRefund',
      'trackingUpdate:hubArrival',
      'refundTrigger:itemRegistration',
      'itemProcessed',
    ]);
  });

  it('parses the "Not available" placeholders of an item nobody announced', async () => {
    const { sandbox, client, deliveries } = await setup();
    const ro = await client.createReturnOrder({ clientOrderId: 'ASOS-W1', items: [{ clientItemId: 'LINE-1', quantity: 1, reasonCode: 'Too large' }] });
    const advance = (body: unknown) =>
      fetch(`${sandbox.rebound.baseUrl}/_sim/return-orders/${encodeURIComponent(ro.reboundOrderId)}/advance`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await advance({ event: 'ITEMS_REGISTERED', items: [{ unexpected: true }] })).status).toBe(200);
    expect((await advance({ event: 'PROCESSED' })).status).toBe(200);
    await sandbox.flush();

    const byType = new Map<string, ReturnType<typeof verifyReboundWebhook>>();
    for (const d of deliveries) byType.set(String(d.headers['x-rebound-event']), verifyReboundWebhook({ headers: d.headers, rawBody: d.rawBody, secret: SECRET, now: d.receivedAt }));
    const registered = byType.get('refundTrigger');
    const processed = byType.get('itemProcessed');
    if (registered?.ok !== true || registered.eventType !== 'refundTrigger') throw new Error('no verified refundTrigger');
    if (processed?.ok !== true || processed.eventType !== 'itemProcessed') throw new Error('no verified itemProcessed');
    expect(registered.body.order.triggerType).toBe('itemRegistration');
    expect(registered.body.order.items.map((i) => [i.clientItemId, i.sku, i.reasonCode])).toEqual([
      ['LINE-1', 'SKU-1', 'Too large'],
      [NOT_AVAILABLE, NOT_AVAILABLE, NOT_AVAILABLE],
    ]);
    expect(processed.body.order.items[1]).toMatchObject({ clientItemId: NOT_AVAILABLE, grade: 'UNEXPECTED', quantity: 1 });

    const api = await client.getReturnOrder(ro.reboundOrderId);
    expect(api?.items.map((i) => i.clientItemId)).toEqual(['LINE-1', NOT_AVAILABLE]);
  });

  it('refuses a tampered body, a wrong secret, a replay outside the window and missing headers', async () => {
    const { sandbox, client, deliveries } = await setup();
    await client.createReturnOrder({ clientOrderId: 'ASOS-W1', items: [{ clientItemId: 'LINE-1', quantity: 1, reasonCode: 'Too large' }] });
    await sandbox.flush();
    const [d] = deliveries;
    if (!d) throw new Error('no delivery');
    const verify = (patch: Partial<{ headers: Delivery['headers']; rawBody: string | Buffer; secret: string; now: number }>) =>
      verifyReboundWebhook({ headers: d.headers, rawBody: d.rawBody, secret: SECRET, now: d.receivedAt, ...patch });

    expect(verify({}).ok).toBe(true);
    expect(verify({ rawBody: d.rawBody.toString('utf8').replace('"LINE-1"', '"LINE-2"') })).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(verify({ secret: 'someone-elses-secret' })).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(verify({ now: d.receivedAt + 300_000 }).ok).toBe(true);
    expect(verify({ now: d.receivedAt + 301_000 })).toMatchObject({ ok: false, reason: 'timestamp_out_of_window' });
    expect(verify({ now: d.receivedAt - 301_000 })).toMatchObject({ ok: false, reason: 'timestamp_out_of_window' });
    expect(verifyReboundWebhook({ headers: d.headers, rawBody: d.rawBody, secret: SECRET, now: d.receivedAt + 3_600_000, toleranceSeconds: 7200 }).ok).toBe(true);

    // A fresh timestamp on old bytes is caught by the signature, which covers the timestamp.
    const moved = { ...d.headers, 'x-rebound-timestamp': String(Number(d.headers['x-rebound-timestamp']) + 600) };
    expect(verify({ headers: moved, now: d.receivedAt + 600_000 })).toMatchObject({ ok: false, reason: 'bad_signature' });

    const withoutSignature = { ...d.headers };
    delete withoutSignature['x-rebound-signature'];
    expect(verify({ headers: withoutSignature })).toMatchObject({ ok: false, reason: 'missing_header', message: 'missing X-Rebound-Signature' });

    // Header names are matched whatever their case.
    const shouting = Object.fromEntries(Object.entries(d.headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verify({ headers: shouting }).ok).toBe(true);
  });
});

describe('verifyReboundWebhook on hand-made deliveries', () => {
  const now = Date.UTC(2026, 9, 1, 12, 0, 0);
  const timestamp = String(now / 1000);
  const deliver = (event: string, body: string, at = timestamp) => ({
    headers: {
      'X-Rebound-Event': event,
      'X-Rebound-Delivery-Id': '8f14e45f-ceea-467a-9af2-6d5b1c1e0f11',
      'X-Rebound-Timestamp': at,
      'X-Rebound-Signature': sign(SECRET, at, body),
    },
    rawBody: body,
    secret: SECRET,
    now,
  });

  it('refuses an unknown event type, a body that does not fit its type and a timestamp that is no time, even when signed', () => {
    expect(verifyReboundWebhook(deliver('parcelWeighed', '{"order":{}}'))).toMatchObject({ ok: false, reason: 'unknown_event_type' });
    expect(verifyReboundWebhook(deliver('trackingUpdate', '{"order":{}}'))).toMatchObject({ ok: false, reason: 'invalid_body' });
    expect(verifyReboundWebhook(deliver('refundTrigger', 'not json'))).toMatchObject({ ok: false, reason: 'invalid_body', message: 'the body is not JSON' });
    expect(verifyReboundWebhook(deliver('trackingUpdate', '{}', 'yesterday'))).toMatchObject({ ok: false, reason: 'timestamp_out_of_window' });
  });

  it('accepts a signed body with unknown values and extra fields', () => {
    const body = JSON.stringify({
      order: { clientOrderId: 'A', reboundOrderId: 'R', location: 'CC_XXX_Name', trackingNumber: 'T', statusDescription: 'parcelWeighed', timestamp: '2026-10-01T12:00:00Z', extra: 1 },
      items: [{ reboundItemId: 'I', clientItemId: NOT_AVAILABLE, ean: NOT_AVAILABLE, sku: NOT_AVAILABLE, reasonCode: NOT_AVAILABLE, quantity: '1', surprise: true }],
    });
    const result = verifyReboundWebhook(deliver('trackingUpdate', body));
    if (!result.ok || result.eventType !== 'trackingUpdate') throw new Error(result.ok ? result.eventType : result.message);
    expect(result.timestamp).toBe(now / 1000);
    expect(result.body.order.statusDescription).toBe('parcelWeighed');
    expect(result.body.items[0]).not.toHaveProperty('surprise');
  });

  it('refuses a repeated security header rather than choose one', () => {
    const d = deliver('trackingUpdate', '{}');
    expect(verifyReboundWebhook({ ...d, headers: { ...d.headers, 'X-Rebound-Signature': [d.headers['X-Rebound-Signature'], 'other'] } })).toMatchObject({
      ok: false,
      reason: 'missing_header',
    });
  });
});

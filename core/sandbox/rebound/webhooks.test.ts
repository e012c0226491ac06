import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReturnOrderView } from './model';
import { retryDelaysMs, retryWindowMs } from './outbox';
import { signReboundPayload, verifyReboundSignature } from './signature';
import { DAY, HOUR, buildSim, calmScenario, salesOrder } from './test-kit';

// Notifications leave the simulator as real HTTP POSTs to a receiver on loopback: signed, with the §1.8 bodies,
// retried on the sandbox clock until acknowledged, and (when the scenario says so) duplicated or held back.

interface Received {
  headers: Record<string, string>;
  rawBody: string;
}

const receivers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    receivers.splice(0).map(
      (r) =>
        new Promise<void>((resolve) => {
          r.closeAllConnections();
          r.close(() => resolve());
        }),
    ),
  );
});

/** Answers each POST with the next scripted status (the last one repeats). */
async function startReceiver(statuses: number[] = [200]): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      received.push({ headers, rawBody: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(statuses[Math.min(received.length - 1, statuses.length - 1)] ?? 200).end();
    });
  });
  receivers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/rebound`, received };
}

function orderAndReturn(sim: ReturnType<typeof buildSim>['sim'], clientOrderId: string, quantity = '1'): ReturnOrderView {
  const so = sim.createSalesOrder(salesOrder(clientOrderId, [{ clientItemId: 'L1', sku: 'SKU-A', quantity }]), { flowKey: null, overwrite: false });
  expect(so.ok).toBe(true);
  const ro = sim.createReturnOrder({ clientOrderId, items: [{ clientItemId: 'L1', quantity, reasonCode: 'Too large' }] }, { flowKey: null });
  if (!ro.ok) throw new Error(ro.error.message);
  return ro.value;
}

describe('ReBound sandbox: webhook signatures', () => {
  it('signs every notification so that verifyReboundSignature accepts it, and rejects a tampered body', async () => {
    const { sim, clock } = buildSim({ physical: { minorWearRate: 0 } });
    const receiver = await startReceiver();
    for (const type of ['trackingUpdate', 'refundTrigger', 'itemProcessed']) {
      expect(sim.putWebhookSubscription(type, { url: receiver.url, secret: 'whsec-1', authorizationHeader: 'Bearer static-123' }).ok).toBe(true);
    }
    const ro = orderAndReturn(sim, 'ASOS-W1');
    for (let day = 0; day < 10; day++) {
      clock.advance(DAY);
      sim.advance();
      await sim.flushDeliveries();
    }

    const events = receiver.received.map((r) => `${r.headers['x-rebound-event']}:${eventOf(JSON.parse(r.rawBody))}`);
    expect(events).toEqual([
      'trackingUpdate:returnOrderCreated',
      'trackingUpdate:postalIncoming',
      'refundTrigger:instantRefund',
      'trackingUpdate:hubArrival',
      'refundTrigger:itemRegistration',
      'itemProcessed:(items)',
    ]);
    for (const r of receiver.received) {
      const { 'x-rebound-timestamp': timestamp = '', 'x-rebound-signature': signature = '' } = r.headers;
      expect(verifyReboundSignature('whsec-1', timestamp, r.rawBody, signature)).toBe(true);
      expect(verifyReboundSignature('whsec-1', timestamp, r.rawBody.replace('"L1"', '"L2"'), signature)).toBe(false);
      expect(verifyReboundSignature('whsec-1', String(Number(timestamp) + 1), r.rawBody, signature)).toBe(false);
      expect(verifyReboundSignature('other-secret', timestamp, r.rawBody, signature)).toBe(false);
      expect(r.headers.authorization).toBe('Bearer static-123');
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-rebound-delivery-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }

    // The bodies mirror ReBound's published shapes (NOTES §1.8).
    const [created, postal, instant, , registered, processed] = receiver.received.map((r) => JSON.parse(r.rawBody) as Record<string, unknown>);
    expect(created).toEqual({
      order: {
        clientOrderId: 'ASOS-W1',
        reboundOrderId: ro.reboundOrderId,
        location: null,
        trackingNumber: ro.parcels[0]?.trackingNumber,
        statusDescription: 'returnOrderCreated',
        timestamp: ro.createdAt,
      },
      items: [
        {
          reboundItemId: ro.items[0]?.reboundItemId,
          clientItemId: 'L1',
          ean: '5000000000001',
          sku: 'SKU-A',
          reasonCode: 'Too large',
          articleDescription: 'Item SKU-A',
          commercialValue: '19.99',
          commercialValueCurrency: 'GBP',
          quantity: '1',
        },
      ],
    });
    expect(postal).toMatchObject({ order: { statusDescription: 'postalIncoming', location: 'GB_RML_CarrierNetwork' } });
    expect(instant).toEqual({
      order: {
        reboundOrderId: ro.reboundOrderId,
        clientOrderId: 'ASOS-W1',
        location: 'GB_RML_CarrierNetwork',
        triggerType: 'instantRefund',
        items: [{ reboundItemId: ro.items[0]?.reboundItemId, clientItemId: 'L1', ean: '5000000000001', sku: 'SKU-A', reasonCode: 'Too large', quantity: '1' }],
      },
    });
    expect(registered).toMatchObject({ order: { triggerType: 'itemRegistration', items: [{ clientItemId: 'L1', quantity: '1' }] } });
    expect(processed).toMatchObject({ order: { items: [{ clientItemId: 'L1', quantity: '1', grade: 'A_SELLABLE', disposition: 'RESTOCK', images: [] }] } });
  });

  it('verifies a signature computed the documented way, byte for byte', () => {
    const body = '{"order":{"reboundOrderId":"(00)687000000000000001"}}';
    const signature = signReboundPayload('s3cret', 1767225600, body);
    expect(verifyReboundSignature('s3cret', '1767225600', Buffer.from(body), signature)).toBe(true);
    expect(verifyReboundSignature('s3cret', '1767225600', body, `${signature}x`)).toBe(false);
    expect(verifyReboundSignature('s3cret', '1767225600', body, '')).toBe(false);
  });
});

describe('ReBound sandbox: webhook delivery', () => {
  it('retries a failed delivery with the same delivery id after at least one simulated minute', async () => {
    const { sim, clock } = buildSim();
    const receiver = await startReceiver([500, 200]);
    sim.putWebhookSubscription('trackingUpdate', { url: receiver.url, secret: 'whsec-2' });
    orderAndReturn(sim, 'ASOS-W2');
    await sim.flushDeliveries();
    expect(receiver.received).toHaveLength(1);

    clock.advance(59_000);
    sim.advance();
    await sim.flushDeliveries();
    expect(receiver.received).toHaveLength(1);

    clock.advance(1_000);
    sim.advance();
    await sim.flushDeliveries();
    expect(receiver.received).toHaveLength(2);
    const [first, second] = receiver.received;
    expect(second?.headers['x-rebound-delivery-id']).toBe(first?.headers['x-rebound-delivery-id']);
    expect(second?.rawBody).toBe(first?.rawBody);
    expect(Number(second?.headers['x-rebound-timestamp']) - Number(first?.headers['x-rebound-timestamp'])).toBeGreaterThanOrEqual(60);

    const [notification] = sim.truth().notifications;
    expect(notification?.outcome).toBe('delivered');
    expect(notification?.attempts.map((a) => [a.kind, a.status, a.isAck])).toEqual([
      ['delivery', 500, false],
      ['retry', 200, true],
    ]);
  });

  it('keeps retrying a receiver that is down on the 1 m, 5 m, 30 m, 2 h, then daily schedule and gives up after that', async () => {
    const { sim, clock } = buildSim();
    const receiver = await startReceiver([503]);
    sim.putWebhookSubscription('trackingUpdate', { url: receiver.url });
    orderAndReturn(sim, 'ASOS-W3');
    await sim.flushDeliveries();
    // Jump straight to each scheduled retry of the first notification.
    for (let i = 0; i < 20; i++) {
      const next = sim.truth().notifications[0]?.nextAttemptAt;
      if (!next) break;
      clock.set(Date.parse(next));
      sim.advance();
      await sim.flushDeliveries();
    }
    const truth = sim.truth().notifications.find((n) => n.event === 'returnOrderCreated');
    expect(truth?.outcome).toBe('abandoned');
    expect(truth?.attempts).toHaveLength(1 + retryDelaysMs.length);
    const gaps = (truth?.attempts ?? []).map((a) => Date.parse(a.at)).map((at, i, all) => at - (all[i - 1] ?? at)).slice(1);
    expect(gaps.slice(0, 4)).toEqual([60_000, 300_000, 1_800_000, 7_200_000]);
    expect(gaps.slice(4).every((g) => g === DAY)).toBe(true);
    expect(new Set(receiver.received.filter((r) => r.headers['x-rebound-event'] === 'trackingUpdate' && r.rawBody.includes('returnOrderCreated')).map((r) => r.headers['x-rebound-delivery-id'])).size).toBe(1);
    expect(receiver.received.every((r) => r.headers['x-rebound-signature'] === undefined)).toBe(true);
  });

  it('treats a refused connection as a failed attempt and retries it', async () => {
    const { sim, clock } = buildSim();
    sim.putWebhookSubscription('trackingUpdate', { url: 'http://127.0.0.1:1/nobody-listens' });
    orderAndReturn(sim, 'ASOS-W4');
    await sim.flushDeliveries();
    const receiver = await startReceiver([200]);
    sim.putWebhookSubscription('trackingUpdate', { url: receiver.url });
    clock.advance(60_000);
    sim.advance();
    await sim.flushDeliveries();
    const [n] = sim.truth().notifications;
    expect(n?.attempts[0]).toMatchObject({ kind: 'delivery', status: null, isAck: false });
    expect(n?.attempts[0]?.error).toBeTruthy();
    expect(n?.attempts[1]).toMatchObject({ kind: 'retry', status: 200, isAck: true });
  });

  it('re-sends some delivered notifications under the same delivery id when the scenario asks for duplicates', async () => {
    const { sim, clock } = buildSim({ scenario: { ...calmScenario, duplicateNotificationRate: 1 } });
    const receiver = await startReceiver([200]);
    sim.putWebhookSubscription('trackingUpdate', { url: receiver.url });
    orderAndReturn(sim, 'ASOS-W5');
    await sim.flushDeliveries();
    clock.advance(calmScenario.lateNotificationMinutes[1] * 60_000);
    sim.advance();
    await sim.flushDeliveries();
    const created = receiver.received.filter((r) => r.rawBody.includes('returnOrderCreated'));
    expect(created).toHaveLength(2);
    expect(created[1]?.headers['x-rebound-delivery-id']).toBe(created[0]?.headers['x-rebound-delivery-id']);
    expect(created[1]?.rawBody).toBe(created[0]?.rawBody);
    expect(sim.truth().notifications[0]?.attempts.map((a) => a.kind)).toEqual(['delivery', 'duplicate']);
  });

  it('holds some notifications back until a later one for the same return order has gone out', async () => {
    const { sim, clock } = buildSim({ seed: 7, scenario: { ...calmScenario, outOfOrderNotificationRate: 0.4 } });
    const receiver = await startReceiver([200]);
    for (const type of ['trackingUpdate', 'refundTrigger', 'itemProcessed']) sim.putWebhookSubscription(type, { url: receiver.url });
    for (let i = 0; i < 8; i++) orderAndReturn(sim, `ASOS-OOO-${i}`);
    // Until every notification is out (held ones wait at most 7 days), and no longer: the outbox drops what was
    // delivered more than its retry window ago.
    for (let t = 0; t < 20 * DAY; t += 10 * 60_000) {
      clock.advance(10 * 60_000);
      sim.advance();
      await sim.flushDeliveries();
      if (t > DAY && sim.truth().counters.notifications.pending === 0) break;
    }
    const truth = sim.truth();
    expect(truth.counters.notifications.created).toBe(truth.notifications.length);
    const held = truth.notifications.filter((n) => n.isHeldBack);
    expect(held.length).toBeGreaterThan(0);
    expect(truth.notifications.every((n) => n.outcome === 'delivered')).toBe(true);
    let overtaken = 0;
    for (const n of held) {
      const firstAttempt = Date.parse(n.attempts[0]?.at ?? '');
      const sameOrder = truth.notifications.filter((o) => o.reboundOrderId === n.reboundOrderId);
      const later = sameOrder.slice(sameOrder.indexOf(n) + 1);
      if (later.some((o) => Date.parse(o.attempts[0]?.at ?? '') <= firstAttempt)) overtaken++;
      else expect(later).toEqual([]);
    }
    expect(overtaken).toBeGreaterThan(0);
  });
});

describe('ReBound sandbox: what the outbox keeps', () => {
  it('drops a delivered notification once it is older than the retry window, and still counts it', async () => {
    const { sim, clock } = buildSim({ physical: { minorWearRate: 0 } });
    const receiver = await startReceiver([200]);
    for (const type of ['trackingUpdate', 'refundTrigger', 'itemProcessed']) sim.putWebhookSubscription(type, { url: receiver.url });
    const run = async (days: number) => {
      for (let t = 0; t < days * DAY; t += HOUR) {
        clock.advance(HOUR);
        sim.advance();
        await sim.flushDeliveries();
      }
    };
    const first = orderAndReturn(sim, 'ASOS-OLD');
    await run(6);
    const early = sim.truth();
    const ofFirst = early.notifications.filter((n) => n.reboundOrderId === first.reboundOrderId);
    expect(ofFirst.length).toBeGreaterThan(3);
    expect(ofFirst.every((n) => n.outcome === 'delivered')).toBe(true);

    const second = orderAndReturn(sim, 'ASOS-NEW');
    await run(9);
    const late = sim.truth();
    // The first order's last delivery was more than 9 days ago (> retryWindowMs); the second's about 4.
    expect(late.notifications.some((n) => n.reboundOrderId === first.reboundOrderId)).toBe(false);
    expect(late.notifications.some((n) => n.reboundOrderId === second.reboundOrderId)).toBe(true);
    // Every notification was delivered once (no duplicates, no failures here), dropped or not.
    expect(late.notifications.length).toBeLessThan(receiver.received.length - ofFirst.length + 1);
    expect(late.counters.notifications).toMatchObject({ created: receiver.received.length, delivered: receiver.received.length, attempts: receiver.received.length, pending: 0 });
    expect(retryWindowMs).toBeGreaterThan(7 * DAY);
  });
});

function eventOf(body: { order: { statusDescription?: string; triggerType?: string } }): string {
  return body.order.statusDescription ?? body.order.triggerType ?? '(items)';
}

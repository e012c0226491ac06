import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryBudgetStore } from '../../core/net/budget-guard';
import { fetchHttp } from '../../core/net/http';
import { memoryJournal } from '../../core/net/journal';
import { createReboundClient } from '../../core/rebound/client';
import { defaultScenario } from '../../core/sandbox/scenario';
import { startWebhookReceiver, subscribeToNotifications, type WebhookReceiver } from '../../core/sync/webhook-receiver';
import { checkInvariants } from '../support/invariants';
import { startHarness, type Harness } from '../support/engine-harness';
import { makeTempDir } from '../support/temp-dir';

const minute = 60_000;
const day = 24 * 60 * minute;

describe('ReBound notifications reach the engine', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let h: Harness;
  let receiver: WebhookReceiver;

  beforeEach(async () => {
    temp = makeTempDir();
    h = await startHarness({
      seed: 77,
      dataDir: temp.dir,
      scenario: {
        historyDays: 0,
        ordersPerDay: 30,
        ordersUntilMs: defaultScenario.startMs + 2 * day,
        returnRate: 0.5,
        returnAfterDays: [0, 1],
        duplicateNotificationRate: 0.4,
        outOfOrderNotificationRate: 0.4,
      },
    });
    receiver = await startWebhookReceiver(h.ctx, 'whsec-test-secret');
    const client = createReboundClient({
      baseUrl: h.sandbox.rebound.baseUrl,
      clientId: h.sandbox.rebound.clientId,
      clientSecret: async () => h.sandbox.rebound.clientSecret,
      clock: h.clock,
      http: fetchHttp,
      journal: memoryJournal(),
      budgets: createMemoryBudgetStore(),
    });
    await subscribeToNotifications((type, target) => client.subscribeWebhook(type, target), receiver.url, 'whsec-test-secret');
  });
  afterEach(async () => {
    await receiver.close();
    await h.close();
    temp.remove();
  });

  it('records each delivery once, applies them forward-only, and the invariants hold', async () => {
    while (h.clock.now() < defaultScenario.startMs + 14 * day) await h.step(10 * minute);
    const db = h.store.db;
    const truth = h.sandbox.truth().rebound;
    // The counters, not the list: the outbox drops what it delivered more than its retry window (7 days) ago.
    const { delivered, duplicatesSent } = truth.counters.notifications;
    const recorded = db.prepare(`SELECT count(*) AS n FROM rebound_events WHERE source = 'webhook'`).get() as { n: number };
    expect(delivered).toBeGreaterThan(20);
    expect(duplicatesSent).toBeGreaterThan(0);
    // Every acknowledged delivery is stored exactly once, duplicates included (a notification is delivered once acknowledged).
    expect(recorded.n).toBe(delivered);
    const pending = db.prepare(`SELECT count(*) AS n FROM rebound_events WHERE outcome = 'pending' AND rebound_order_id IN (SELECT rebound_order_id FROM rebound_return_orders)`).get() as { n: number };
    expect(pending.n).toBe(0);
    expect(checkInvariants(h.sandbox, db, { isQuiet: true }).violations).toEqual([]);
  }, 300_000);

  it('refuses a notification with a bad signature', async () => {
    const res = await fetch(receiver.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-rebound-event': 'trackingUpdate',
        'x-rebound-delivery-id': 'forged-1',
        'x-rebound-timestamp': String(Math.floor(h.clock.now() / 1000)),
        'x-rebound-signature': 'bm90IGEgc2lnbmF0dXJl',
      },
      body: JSON.stringify({ order: { reboundOrderId: 'x' }, items: [] }),
    });
    expect(res.status).toBe(401);
    expect(h.store.db.prepare(`SELECT count(*) AS n FROM rebound_events WHERE key = 'forged-1'`).get()).toEqual({ n: 0 });
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '../../adapters/fake-clock';
import { silentLogger } from '../../adapters/logger';
import { loadMappings } from '../../mappings/load';
import type { MiraklClient } from '../../mirakl/client';
import type { MiraklOrderDto } from '../../mirakl/schemas';
import { signReboundPayload } from '../../sandbox/rebound/signature';
import { openStore, type Store } from '../../store/db';
import { sourceMigrationsDir } from '../../store/paths';
import { makeTempDir } from '../../../test/support/temp-dir';
import { createEngineContext, type EngineContext } from '../context';
import { createEngine } from '../engine';
import type { ReboundApi } from '../rebound-api';
import { startWebhookReceiver } from '../webhook-receiver';
import { runIntake } from './intake';
import { refreshOrders } from './mirakl-reads';

// Issue 22: how the engine paces its reads, against a real SQLite file with the API clients stubbed, on a fake clock:
// OR11 runs at its budget while orders wait (100 a call, the oldest waiting first), a return backs off only after a
// read that did not find its order, a refund's order is read again at the next call, and a ReBound notification is
// acted on within seconds.

const second = 1000;
const minute = 60 * second;
const iso = (ms: number) => new Date(ms).toISOString();

describe('pacing of the engine’s reads', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let clock: FakeClock;
  let mirakl: Partial<MiraklClient>;
  let rebound: Partial<ReboundApi>;
  let ctx: EngineContext;
  const sql = (text: string, ...params: unknown[]) => store.db.prepare(text).run(...params);
  const count = (text: string, ...params: unknown[]) => (store.db.prepare(text).get(...params) as { n: number }).n;

  beforeEach(() => {
    temp = makeTempDir();
    clock = createFakeClock(Date.UTC(2026, 10, 2, 9));
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    mirakl = {};
    rebound = {};
    ctx = createEngineContext({
      db: store.db,
      clock,
      log: silentLogger,
      events: null,
      mappings: () => loadMappings(),
      random: { next: () => 0.5 },
      mirakl: new Proxy(mirakl, { get: (t, k) => t[k as keyof MiraklClient] ?? (() => Promise.reject(new Error(`unexpected Mirakl call ${String(k)}`))) }) as MiraklClient,
      rebound: new Proxy(rebound, { get: (t, k) => t[k as keyof ReboundApi] ?? (() => Promise.reject(new Error(`unexpected ReBound call ${String(k)}`))) }) as ReboundApi,
      webhook: null,
    });
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });

  /** A return waiting for its order (first seen `seenAgo` before now), as RT11 leaves it. */
  const waitingReturn = (id: string, orderId: string, seenAt: number) => {
    sql(`INSERT INTO mirakl_returns (id, order_id, commercial_id, state, method_code, date_created, last_updated, first_seen_at, synced_at)
      VALUES (?, ?, ?, 'IN_PROGRESS', 'BY_MAIL', ?, ?, ?, ?)`, id, orderId, `C-${orderId}`, iso(seenAt), iso(seenAt), iso(seenAt), iso(seenAt));
    sql(`INSERT INTO mirakl_return_lines (return_id, order_line_id, quantity, reason_code) VALUES (?, ?, 1, 'RETURN_PDNT_TOO_SMALL')`, id, `${orderId}-1`);
    sql(`INSERT INTO return_intake (return_id, stage, updated_at) VALUES (?, 'awaiting_order', ?)`, id, iso(seenAt));
  };
  const orderDto = (orderId: string): MiraklOrderDto =>
    ({
      order_id: orderId,
      commercial_id: `C-${orderId}`,
      order_state: 'SHIPPED',
      currency_iso_code: 'GBP',
      created_date: iso(clock.now() - 10 * 24 * 60 * minute),
      last_updated_date: iso(clock.now() - 10 * 24 * 60 * minute),
      customer: { customer_id: 'CU', firstname: 'Ann', lastname: 'Lee', shipping_address: null },
      order_lines: [
        {
          order_line_id: `${orderId}-1`,
          offer_id: 1,
          offer_sku: 'SKU-1',
          product_sku: 'P',
          product_title: 'Shirt',
          quantity: 1,
          price_unit: 25,
          price: 25,
          shipping_price: 0,
          taxes: [],
          shipping_taxes: [],
          order_line_state: 'SHIPPED',
          can_refund: true,
          refunds: [],
        },
      ],
    }) as unknown as MiraklOrderDto;

  it('reads the orders of waiting returns 100 a call, oldest waiting first, every minute until none waits', async () => {
    // 250 returns waiting, seen a second apart; Mirakl has every order but one.
    const start = clock.now();
    for (let i = 0; i < 250; i++) waitingReturn(`R-${String(i).padStart(3, '0')}`, `O-${String(i).padStart(3, '0')}`, start - (300 - i) * second);
    waitingReturn('R-MISSING', 'O-MISSING', start - 400 * second);
    const asked: string[][] = [];
    mirakl.ordersById = async (ids: string[]) => {
      asked.push(ids);
      return { orders: ids.filter((id) => id !== 'O-MISSING').map(orderDto), quarantined: [] };
    };
    rebound.createSalesOrder = async () => ({ created: true as const });
    for (let m = 0; m < 3; m++) {
      await refreshOrders(ctx);
      await runIntake(ctx).catch(() => undefined);
      clock.advance(minute);
    }
    expect(asked.map((ids) => ids.length)).toEqual([100, 100, 52]);
    // The one waiting longest went first, and the rest in the order they were first seen.
    expect(asked[0]?.[0]).toBe('O-MISSING');
    expect(asked[0]?.[1]).toBe('O-000');
    expect(asked[1]?.slice(0, 2)).toEqual(['O-MISSING', 'O-099']);
    // Every order Mirakl has is stored three minutes in: none waited for a backoff it never needed.
    expect(count('SELECT count(*) AS n FROM mirakl_orders')).toBe(250);
    expect(count(`SELECT count(*) AS n FROM return_intake WHERE stage = 'awaiting_order'`)).toBe(1);
    // The one OR11 did not find backed off after each read that missed it: asked at minute 0, then 1 minute later,
    // then 2 minutes after that.
    expect(asked.filter((ids) => ids.includes('O-MISSING')).length).toBe(2);
  });

  it('reads the order of a refund at the next OR11 call after the refund is confirmed, not half an hour later', async () => {
    const orderId = 'O-1';
    mirakl.ordersById = async (ids: string[]) => ({ orders: ids.map(orderDto), quarantined: [] });
    waitingReturn('R-1', orderId, clock.now());
    await refreshOrders(ctx);
    // The refund goes out after that read, in the same minute, and Mirakl confirms it.
    sql(`INSERT INTO intents (kind, key, subject, payload, state, attempts, outcome, created_at, updated_at)
      VALUES ('mirakl.refund', 'refund:R-1:O-1-1', 'R-1', ?, 'confirmed', 1, ?, ?, ?)`,
      JSON.stringify({ returnId: 'R-1', order_line_id: 'O-1-1', units: ['u'], amountMinor: 2500 }),
      JSON.stringify({ refundId: 'F-1', amountMinor: 2500, via: 'OR28' }),
      iso(clock.now()),
      iso(clock.now()));
    clock.advance(minute);
    const asked: string[][] = [];
    mirakl.ordersById = async (ids: string[]) => {
      asked.push(ids);
      return { orders: ids.map(orderDto), quarantined: [] };
    };
    await refreshOrders(ctx);
    expect(asked).toEqual([[orderId]]);
  });

  it('acts on a ReBound notification within the debounce, even one that arrives while the ReBound feed is running', async () => {
    const engine = createEngine(ctx);
    // Nothing is due: the ReBound feed's next run is its cadence away.
    rebound.changedReturnOrders = async () => ({ changes: [], nextPage: null });
    await engine.runCycle({ force: true }).catch(() => undefined);
    const cadence = loadMappings().policy.cadences.reboundPollSeconds * second;
    expect(Date.parse(ctx.feeds.schedule('rebound').nextRunAt ?? '')).toBe(clock.now() + cadence);

    const secret = 'whsec-test';
    const receiver = await startWebhookReceiver(ctx, secret);
    try {
      const notify = async (deliveryId: string) => {
        const body = JSON.stringify({
          order: { clientOrderId: 'O-1', reboundOrderId: 'RO-1', statusDescription: 'hubArrival', timestamp: iso(clock.now()) },
          items: [],
        });
        const timestamp = String(Math.floor(clock.now() / 1000));
        const res = await fetch(receiver.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-rebound-event': 'trackingUpdate',
            'x-rebound-delivery-id': deliveryId,
            'x-rebound-timestamp': timestamp,
            'x-rebound-signature': signReboundPayload(secret, timestamp, body),
          },
          body,
        });
        expect(res.status).toBe(200);
      };
      clock.advance(10 * second);
      await notify('d-1');
      const debounce = loadMappings().policy.cadences.eventDebounceSeconds * second;
      expect(debounce).toBeLessThanOrEqual(10 * second);
      expect(Date.parse(ctx.feeds.schedule('rebound').nextRunAt ?? '')).toBe(clock.now() + debounce);

      // The ReBound feed runs; a notification lands while it waits on ReBound: its run still comes within the debounce.
      clock.advance(debounce);
      rebound.changedReturnOrders = async () => {
        await notify('d-2');
        return { changes: [], nextPage: null };
      };
      await engine.runCycle();
      expect(Date.parse(ctx.feeds.schedule('rebound').nextRunAt ?? '')).toBe(clock.now() + debounce);
    } finally {
      await receiver.close();
    }
  });
});

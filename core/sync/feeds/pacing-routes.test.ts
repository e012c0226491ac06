import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stubEngineContext } from '../../../test/support/engine-context';
import { createFakeClock, type FakeClock } from '../../adapters/fake-clock';
import { loadMappings } from '../../mappings/load';
import type { MiraklClient } from '../../mirakl/client';
import type { MiraklOrderDto, MiraklReturnDto } from '../../mirakl/schemas';
import { signReboundPayload } from '../../sandbox/rebound/signature';
import { openStore, type Store } from '../../store/db';
import { sourceMigrationsDir } from '../../store/paths';
import { makeTempDir } from '../../../test/support/temp-dir';
import type { EngineContext } from '../context';
import { createEngine } from '../engine';
import type { ReboundApi } from '../rebound-api';
import { startWebhookReceiver } from '../webhook-receiver';
import { ApiError } from '../../net/api-error';
import type { ReturnOrderSnapshot } from '../../ledger/units';
import { runIntake } from './intake';
import { pollReturns, refreshOrders } from './mirakl-reads';
import { planMiraklPushes } from './mirakl-push';
import { applyAndRecord, syncRebound } from './rebound-sync';

// Issue 22: how the engine paces its reads, against a real SQLite file with the API clients stubbed, on a fake clock:
// OR11 runs at its budget while orders wait (100 a call, the oldest waiting first), a return backs off only after a
// read that did not find its order, a refund's order is read again at the next call, and a ReBound notification is
// acted on within seconds.

const second = 1000;
const minute = 60 * second;
const iso = (ms: number) => new Date(ms).toISOString();
const hourMs = 60 * 60 * 1000;

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
    ctx = stubEngineContext(store.db, clock, { mirakl, rebound });
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

  /** A return of ours in flight with its ReBound return order as last read (status, ReBound's updatedAt). */
  const inReBound = (n: number, status: string, rank: number, updatedAt: number) => {
    const id = `R-${n}`;
    const ro = `RO-${n}`;
    waitingReturn(id, `O-${n}`, clock.now());
    sql(`UPDATE return_intake SET stage = 'in_flight' WHERE return_id = ?`, id);
    sql(`INSERT INTO rebound_return_orders (rebound_order_id, client_order_id, return_id, status, status_rank, created_at, updated_at, synced_at, is_open)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)`, ro, `O-${n}`, id, status, rank, iso(updatedAt), iso(updatedAt), iso(clock.now()));
    return ro;
  };
  const snapshot = (ro: string, status: string, updatedAt: number): ReturnOrderSnapshot => ({
    reboundOrderId: ro,
    clientOrderId: ro.replace('RO', 'O'),
    status,
    createdAt: iso(updatedAt),
    updatedAt: iso(updatedAt),
    parcels: [],
    items: [],
  });

  it('reads, in the same run, the return orders ReBound lists as changed since the last look, and only those', async () => {
    const before = clock.now() - 10 * minute;
    const moved = inReBound(1, 'AT_HUB', 3, before);
    const still = inReBound(2, 'AT_HUB', 3, before);
    const read: string[] = [];
    const registeredAt = clock.now();
    rebound.changedReturnOrders = async () => ({
      changes: [
        { reboundOrderId: moved, clientOrderId: 'O-1', status: 'ITEMS_REGISTERED', updatedAt: iso(registeredAt) },
        // Read before at this very update: nothing new.
        { reboundOrderId: still, clientOrderId: 'O-2', status: 'AT_HUB', updatedAt: iso(before) },
        // Not one of ours.
        { reboundOrderId: 'RO-OTHER', clientOrderId: 'O-X', status: 'PROCESSED', updatedAt: iso(clock.now()) },
      ],
      nextPage: null,
    });
    rebound.getReturnOrder = async (id: string) => {
      read.push(id);
      return snapshot(id, 'ITEMS_REGISTERED', registeredAt);
    };
    const result = await syncRebound(ctx);
    expect(result).toEqual({ refreshed: 1, changed: 1 });
    expect(read).toEqual([moved]);
    // The next look starts from the last change seen (less an overlap), and lists it again. Stamped the very instant
    // of our read, it may have come just after it (issue 20: a unit registered in the same second): read once more.
    read.length = 0;
    clock.advance(minute);
    await syncRebound(ctx);
    expect(read).toEqual([moved]);
    // Read after it now: the same change is not read a third time.
    read.length = 0;
    clock.advance(minute);
    await syncRebound(ctx);
    expect(read).toEqual([]);
  });

  it('reads the parcels at the hub every run when ReBound cannot list what changed and no notification reaches us', async () => {
    const atHub = inReBound(1, 'AT_HUB', 3, clock.now() - hourMs);
    inReBound(2, 'IN_CARRIER_NETWORK', 2, clock.now() - hourMs);
    let asked = 0;
    rebound.changedReturnOrders = async () => {
      asked++;
      throw new ApiError('rebound', 'returnOrders.changes', 'rejected', '422 validation_failed clientOrderId is required', 422);
    };
    const read: string[] = [];
    rebound.getReturnOrder = async (id: string) => {
      read.push(id);
      return snapshot(id, 'AT_HUB', clock.now() - hourMs);
    };
    clock.advance(minute);
    await syncRebound(ctx);
    clock.advance(minute);
    await syncRebound(ctx);
    expect(read).toEqual([atHub, atHub]);
    // Asked once: ReBound is asked again for the list a day later, not every run.
    expect(asked).toBe(1);
  });

  it('looks at a return for its receipt as soon as its label push is confirmed, when ReBound registered its parcel first', async () => {
    // In a backlog, ReBound can register a parcel before Mirakl has its label (RT04 waiting for its call to fill): the
    // read touches a return the planners do not take yet (it is not in flight), so entering flight must touch it again,
    // or its receipt waits for the planners' 15-minute sweep.
    planMiraklPushes(ctx); // the first look after a start sweeps every return in flight: there is none yet
    const id = 'R-1';
    waitingReturn(id, 'O-1', clock.now());
    sql(`UPDATE return_intake SET stage = 'push_label' WHERE return_id = ?`, id);
    ctx.physical.createUnits(id, [{ orderLineId: 'O-1-1', quantity: 1, offerSku: 'SKU-1' }]);
    const registered = {
      ...snapshot('RO-1', 'PROCESSED', clock.now()),
      clientOrderId: 'O-1',
      parcels: [{ trackingNumber: 'T-1', carrier: 'EVRI' }],
      items: [{ reboundItemId: 'I-1', clientItemId: 'O-1-1', sku: 'SKU-1', quantity: '1', reasonCode: 'TOO_SMALL', received: '1', grade: 'A_SELLABLE', disposition: 'RESTOCK' }],
    };
    applyAndRecord(ctx, id, registered);
    planMiraklPushes(ctx);
    expect(count(`SELECT count(*) AS n FROM intents WHERE key = 'rt25:R-1'`)).toBe(0);
    mirakl.patch = async (items) => ({ return_success: items.map((i) => ({ id: i.id })), return_errors: [] });
    await runIntake(ctx);
    expect(count(`SELECT count(*) AS n FROM return_intake WHERE return_id = ? AND stage = 'in_flight'`, id)).toBe(1);
    clock.advance(10 * second);
    planMiraklPushes(ctx);
    expect(count(`SELECT count(*) AS n FROM intents WHERE key = 'rt25:R-1'`)).toBe(1);
  });

  it('shares ReBound’s budget: reads what moved first, and creates returns only with what is left', async () => {
    const policy = loadMappings().policy;
    const perMinute = policy.rebound.callsPerMinute;
    // Most of this minute's budget is spent already.
    for (let i = 0; i < perMinute - 3; i++) ctx.reboundCalls.spend(clock.now());
    const hinted = inReBound(1, 'AT_HUB', 3, clock.now() - hourMs);
    ctx.repo.recordEvent({ key: 'd-1', source: 'webhook', type: 'trackingUpdate', reboundOrderId: hinted, status: 'itemsRegistered', occurredAt: iso(clock.now()), payload: {}, outcome: 'pending' });
    rebound.changedReturnOrders = async () => ({ changes: [], nextPage: null });
    rebound.getReturnOrder = async (id: string) => snapshot(id, 'ITEMS_REGISTERED', clock.now());
    await syncRebound(ctx);
    expect(count(`SELECT count(*) AS n FROM rebound_events WHERE outcome = 'pending'`)).toBe(0);
    // One call left this minute: a create needs two (the look-up first), so intake waits for the next minute.
    expect(ctx.reboundCalls.left(clock.now())).toBe(1);
    sql(`INSERT INTO intents (kind, key, subject, payload, state, created_at, updated_at) VALUES ('rebound.createReturn', 'rebound-return:R-9', 'R-9', ?, 'planned', ?, ?)`,
      JSON.stringify({ returnId: 'R-9', clientOrderId: 'O-9', items: [] }), iso(clock.now()), iso(clock.now()));
    let looked = 0;
    rebound.listReturnOrders = async () => {
      looked++;
      return [];
    };
    await runIntake(ctx);
    expect(looked).toBe(0);
    clock.advance(minute);
    rebound.createReturnOrder = async () => snapshot('RO-9', 'LABEL_ISSUED', clock.now());
    waitingReturn('R-9', 'O-9', clock.now());
    await runIntake(ctx);
    expect(looked).toBe(1);
  });

  it('asks RT11 for new returns every 15 minutes and for every change every 30, and skips records it already holds', async () => {
    const asked: { updatedFrom?: string; createdFrom?: string }[] = [];
    const record = (id: string, created: number, updated: number): MiraklReturnDto =>
      ({
        id,
        state: 'IN_PROGRESS',
        order_id: `O-${id}`,
        order_commercial_id: `C-${id}`,
        method_code: 'BY_MAIL',
        date_created: iso(created),
        last_updated: iso(updated),
        return_lines: [{ order_line_id: `O-${id}-1`, quantity: 1, reason_code: 'RETURN_PDNT_TOO_SMALL' }],
      }) as unknown as MiraklReturnDto;
    const t0 = clock.now();
    let records = [record('R-1', t0 - hourMs, t0 - hourMs)];
    mirakl.listReturns = async (params) => {
      asked.push({ ...(params.updatedFrom ? { updatedFrom: params.updatedFrom } : {}), ...(params.createdFrom ? { createdFrom: params.createdFrom } : {}) });
      return { data: records, quarantined: [], next_page_token: undefined };
    };
    await pollReturns(ctx);
    const synced = () => (store.db.prepare(`SELECT synced_at FROM mirakl_returns WHERE id = 'R-1'`).get() as { synced_at: string }).synced_at;
    const firstSync = synced();
    clock.advance(15 * minute);
    // A new return, and R-1 read again unchanged.
    records = [record('R-1', t0 - hourMs, t0 - hourMs), record('R-2', t0 + 10 * minute, t0 + 10 * minute)];
    const between = await pollReturns(ctx);
    clock.advance(15 * minute);
    await pollReturns(ctx);
    // The look at every change starts from the last one's newest update: the new returns read in between are read
    // again there (their updates since are what it is for).
    const from = iso(t0 - hourMs - 2 * minute).replace('.000Z', 'Z');
    expect(asked).toEqual([{}, { createdFrom: from }, { updatedFrom: from }]);
    expect(between).toMatchObject({ seen: 2, added: 1 });
    // Read again unchanged: not saved again.
    expect(synced()).toBe(firstSync);
    expect(count('SELECT count(*) AS n FROM return_intake')).toBe(2);
  });
});

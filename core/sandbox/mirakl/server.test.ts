import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '../../adapters/fake-clock';
import type { FaultProfiles } from '../http/faults';
import type { SimServer } from '../http/sim-server';
import { createRng } from '../rng';
import { defaultScenario } from '../scenario';
import { createMiraklWorld, type MiraklWorld } from '../world/mirakl-world';
import { defaultMiraklBudgets, startMiraklServer } from './server';

const apiKey = 'sandbox-shop-key-123';
const minute = 60_000;

describe('Mirakl simulator', () => {
  let clock: FakeClock;
  let world: MiraklWorld;
  let server: SimServer;
  let faults: FaultProfiles;

  beforeEach(async () => {
    const scenario = { ...defaultScenario, ordersPerDay: 60, returnRate: 0.3, returnAfterDays: [0, 2] as [number, number], orderVisibleLateRate: 0 };
    clock = createFakeClock(scenario.startMs);
    faults = {};
    world = createMiraklWorld({ clock, rng: createRng(7), scenario, shopId: 2001 });
    world.advance();
    server = await startMiraklServer({
      world,
      clock,
      rng: createRng(7).fork('faults'),
      apiKey,
      startMs: scenario.startMs,
      faults: () => faults,
      budgets: () => defaultMiraklBudgets,
    });
  });
  afterEach(() => server.close());

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: apiKey, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  };

  it('refuses a missing or wrong API key and a foreign shop_id', async () => {
    expect((await call('GET', '/api/returns', undefined, { authorization: 'nope' })).status).toBe(401);
    expect((await call('GET', '/api/returns?shop_id=9999')).status).toBe(403);
    expect((await call('GET', '/api/version', undefined, { authorization: '' })).status).toBe(200);
  });

  it('pages RT11 with seek tokens that carry the filters, and filters by last update', async () => {
    const all: { id: string; date_created: string }[] = [];
    let res = await call('GET', '/api/returns?limit=25&sort=date_created,ASC');
    expect(res.status).toBe(200);
    for (;;) {
      all.push(...res.body.data);
      if (!res.body.next_page_token) break;
      // Other parameters are ignored when page_token is present, so a different limit changes nothing.
      res = await call('GET', `/api/returns?limit=3&page_token=${encodeURIComponent(res.body.next_page_token)}`);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(25);
    }
    expect(all.length).toBe(world.returnsList().length);
    expect(all.length).toBeGreaterThan(25);
    expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
    const dates = all.map((r) => r.date_created);
    expect([...dates].sort()).toEqual(dates);

    clock.advance(5 * minute);
    const target = all[3]?.id ?? '';
    await call('PUT', '/api/returns', { returns: [{ id: target, rma: 'RMA-1' }] });
    const since = new Date(clock.now() - 1000).toISOString();
    const changed = await call('GET', `/api/returns?return_last_updated_from=${encodeURIComponent(since)}&limit=100`);
    expect(changed.body.data.map((r: { id: string }) => r.id)).toContain(target);
    expect(changed.body.data.every((r: { last_updated: string }) => r.last_updated >= since.replace(/\.\d{3}Z$/, 'Z'))).toBe(true);
  });

  it('answers batch calls with per-item errors and applies the good items', async () => {
    const open = world.returnsList().find((r) => r.state === 'IN_PROGRESS');
    const waiting = world.returnsList().find((r) => r.state === 'WAITING_ACCEPTANCE');
    expect(open && waiting).toBeTruthy();
    const res = await call('PUT', '/api/returns/receive', { returns: [{ id: open?.id }, { id: waiting?.id }, { id: 'missing' }] });
    expect(res.status).toBe(200);
    expect(res.body.return_success).toEqual([{ id: open?.id }]);
    expect(res.body.return_errors).toEqual([
      { id: waiting?.id, message: 'Return is in invalid state' },
      { id: 'missing', message: 'The return does not exist.' },
    ]);
    expect(world.getReturn(open?.id ?? '')?.state).toBe('RECEIVED');

    const tooMany = await call('PUT', '/api/returns/receive', { returns: Array.from({ length: 101 }, (_, i) => ({ id: `r${i}` })) });
    expect(tooMany.status).toBe(400);

    const partial = await call('PUT', '/api/returns/compliance', { returns: [{ id: open?.id, return_lines: [] }] });
    expect(partial.body.return_errors[0].message).toMatch(/Compliance is missing/);
    const full = await call('PUT', '/api/returns/compliance', {
      returns: [{ id: open?.id, return_lines: open?.lines.map((l) => ({ order_line_id: l.orderLineId, compliant: true })) }],
    });
    expect(full.body.return_success).toEqual([{ id: open?.id }]);
    expect((await call('PUT', '/api/returns/close', { returns: [{ id: open?.id }] })).body.return_success).toHaveLength(1);
    expect(world.getReturn(open?.id ?? '')?.state).toBe('CLOSED');
  });

  it('records OR28 refunds in OR11 refunds[] and settles them over sandbox time; refuses over-refunds', async () => {
    const ret = world.returnsList()[0];
    const lineId = ret?.lines[0]?.orderLineId ?? '';
    const line = world.findLine(lineId)?.line;
    expect(line).toBeDefined();
    const price = (line?.priceMinor ?? 0) / 100;

    const first = await call('PUT', '/api/orders/refund', { refunds: [{ order_line_id: lineId, amount: price / 2, shipping_amount: 0, reason_code: '11', quantity: 1 }] });
    expect(first.status).toBe(200);
    expect(first.body.refunds[0]).toMatchObject({ order_line_id: lineId, amount: price / 2 });

    const orderId = world.findLine(lineId)?.order.orderId ?? '';
    let orders = await call('GET', `/api/orders?order_ids=${orderId}`);
    let refunds = orders.body.orders[0].order_lines.find((l: { order_line_id: string }) => l.order_line_id === lineId).refunds;
    expect(refunds).toHaveLength(1);
    expect(refunds[0].refund_state).toBe('WAITING_REFUND');

    const over = await call('PUT', '/api/orders/refund', { refunds: [{ order_line_id: lineId, amount: price, shipping_amount: 0, reason_code: '11' }] });
    expect(over.status).toBe(400);
    expect(over.body).toEqual({ status: 400, message: expect.stringMatching(/exceeds the refundable amount/) });

    const wrongReason = await call('PUT', '/api/orders/refund', { refunds: [{ order_line_id: lineId, amount: 1, shipping_amount: 0, reason_code: '21' }] });
    expect(wrongReason.status).toBe(400);

    clock.advance(11 * 60 * minute);
    orders = await call('GET', `/api/orders?order_ids=${orderId}`);
    refunds = orders.body.orders[0].order_lines.find((l: { order_line_id: string }) => l.order_line_id === lineId).refunds;
    expect(refunds[0].refund_state).toBe('REFUNDED');
  });

  it('refuses refunds on a closed order line', async () => {
    const ret = world.returnsList()[0];
    const lineId = ret?.lines[0]?.orderLineId ?? '';
    clock.advance(90 * 24 * 60 * minute);
    const res = await call('PUT', '/api/orders/refund', { refunds: [{ order_line_id: lineId, amount: 1, shipping_amount: 0, reason_code: '11' }] });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/cannot be refunded in state CLOSED/);
  });

  it('imports stock with STO01, reports progress with STO02 and the bad line with STO03', async () => {
    const offer = world.offers()[0];
    const csv = `"offer-sku";"quantity";"warehouse-code";"update-delete"\n"${offer?.shopSku}";"77";"";""\n"NO-SUCH-SKU";"5";"";""\n`;
    const form = new FormData();
    form.append('file', new Blob([csv], { type: 'text/csv' }), 'stock.csv');
    const created = await fetch(`${server.url}/api/offers/stock/imports`, { method: 'POST', headers: { authorization: apiKey }, body: form });
    expect(created.status).toBe(201);
    const { import_id } = (await created.json()) as { import_id: string };

    const status1 = await call('GET', `/api/offers/stock/imports/${import_id}/status`);
    expect(status1.body.status).toBe('WAITING');
    clock.advance(2 * minute);
    const status2 = await call('GET', `/api/offers/stock/imports/${import_id}/status`);
    expect(status2.body).toMatchObject({ status: 'COMPLETE', lines_in_success: 1, lines_in_error: 1, has_error_report: true });
    expect(world.offerBySku(offer?.shopSku ?? '')?.quantity).toBe(77);

    const report = await call('GET', `/api/offers/stock/imports/${import_id}/error_report`);
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toMatch(/text\/csv/);
    expect(report.body).toContain('"3";"The offer with sku ""NO-SUCH-SKU"" does not exist";"NO-SUCH-SKU";"5"');
  });

  it('answers 429 with Retry-After when an operation is called more often than its budget', async () => {
    expect((await call('GET', '/api/returns')).status).toBe(200);
    const limited = await call('GET', '/api/returns');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBe(300);
    clock.advance(5 * minute);
    expect((await call('GET', '/api/returns')).status).toBe(200);
    expect(server.counters.RT11?.rateLimited).toBe(1);
  });

  it('serves one return unreadable in RT11 on request, and whole again, each time as a fresh update', async () => {
    const target = world.returnsList()[5];
    expect(target).toBeDefined();
    const id = target?.id ?? '';
    const rt11Since = async (since: string) => {
      clock.advance(5 * minute);
      const res = await call('GET', `/api/returns?limit=100&return_last_updated_from=${encodeURIComponent(since)}`);
      expect(res.status).toBe(200);
      return (res.body.data as Record<string, unknown>[]).find((r) => r.id === id);
    };
    const hook = (path: string, body?: unknown) => fetch(`${server.url}/_sim/returns/${id}/${path}`, { method: 'POST', ...(body ? { body: JSON.stringify(body) } : {}) });

    let since = new Date(clock.now()).toISOString();
    const broken = await hook('unreadable', { how: 'quantityWord' });
    expect(broken.status).toBe(200);
    expect(await broken.json()).toMatchObject({ id, unreadable: 'quantityWord' });
    const served = await rt11Since(since);
    expect((served?.return_lines as { quantity: unknown }[])[0]?.quantity).toBe('two');

    since = new Date(clock.now()).toISOString();
    expect((await hook('unreadable', { how: 'missingOrderId' })).status).toBe(200);
    const withoutOrder = await rt11Since(since);
    expect(withoutOrder).toBeDefined();
    expect(withoutOrder && 'order_id' in withoutOrder).toBe(false);

    since = new Date(clock.now()).toISOString();
    expect((await hook('readable')).status).toBe(200);
    const mended = await rt11Since(since);
    expect(mended?.order_id).toBe(target?.orderId);
    expect((mended?.return_lines as { quantity: unknown }[])[0]?.quantity).toBe(target?.lines[0]?.quantity);

    expect((await hook('unreadable', { how: 'sideways' })).status).toBe(400);
    expect((await fetch(`${server.url}/_sim/returns/no-such-return/readable`, { method: 'POST' })).status).toBe(404);
  });

  it('sells units of an offer now on request: an order OR11 shows at once, and the stock goes down', async () => {
    const offer = world.offers()[3];
    const sku = offer?.shopSku ?? '';
    const before = offer?.quantity ?? 0;
    const soldBefore = world.truth().stock[sku]?.sold ?? 0;
    const since = new Date(clock.now()).toISOString();
    const sell = (body?: unknown, target = sku) => fetch(`${server.url}/_sim/offers/${target}/sell`, { method: 'POST', ...(body ? { body: JSON.stringify(body) } : {}) });

    const sold = await sell({ quantity: 2 });
    expect(sold.status).toBe(200);
    const answer = (await sold.json()) as { order_id: string; quantity: number };
    expect(answer.quantity).toBe(before - 2);
    expect(world.offerBySku(sku)?.quantity).toBe(before - 2);
    expect(world.truth().stock[sku]?.sold).toBe(soldBefore + 2);

    const orders = await call('GET', `/api/orders?start_date=${encodeURIComponent(since)}&max=100`);
    const order = (orders.body.orders as { order_id: string; created_date: string; order_lines: { offer_sku: string; quantity: number }[] }[]).find((o) => o.order_id === answer.order_id);
    expect(order?.order_lines).toEqual([expect.objectContaining({ offer_sku: sku, quantity: 2 })]);
    expect(Date.parse(order?.created_date ?? '')).toBe(clock.now());

    expect((await sell()).status).toBe(200);
    expect(world.offerBySku(sku)?.quantity).toBe(before - 3);
    expect((await sell({ quantity: before })).status).toBe(409);
    expect((await sell({ quantity: 0 })).status).toBe(409);
    expect((await sell({ quantity: 1 }, 'NO-SUCH-SKU')).status).toBe(404);
  });

  it('lists a sale in OR11 only listedAfterMinutes after it took the units off the offer, when asked', async () => {
    const offer = world.offers()[4];
    const sku = offer?.shopSku ?? '';
    const before = offer?.quantity ?? 0;
    const since = new Date(clock.now()).toISOString();
    const sell = (body: unknown) => fetch(`${server.url}/_sim/offers/${sku}/sell`, { method: 'POST', body: JSON.stringify(body) });
    const listed = async () =>
      ((await call('GET', `/api/orders?start_date=${encodeURIComponent(since)}&max=100`)).body.orders as { order_id: string; created_date: string }[]).map((o) => o.order_id);

    const sold = await sell({ quantity: 1, listedAfterMinutes: 8 });
    expect(sold.status).toBe(200);
    const orderId = ((await sold.json()) as { order_id: string }).order_id;
    expect(world.offerBySku(sku)?.quantity).toBe(before - 1);
    expect(await listed()).not.toContain(orderId);
    // OR11 takes a call a minute: each read below is a minute or more after the last.
    clock.advance(8 * 60_000 - 1000);
    expect(await listed()).not.toContain(orderId);
    clock.advance(60_000);
    expect(await listed()).toContain(orderId);
    // Listed late, it is still the order placed then: its created_date is the sale's.
    clock.advance(60_000);
    const order = ((await call('GET', `/api/orders?order_ids=${orderId}`)).body.orders as { created_date: string }[])[0];
    expect(Date.parse(order?.created_date ?? '')).toBe(clock.now() - 10 * 60_000 + 1000);

    expect((await sell({ quantity: 1, listedAfterMinutes: -1 })).status).toBe(409);
    expect((await sell({ quantity: 1, listedAfterMinutes: 'soon' })).status).toBe(409);
  });

  it('serves a corrupt offer as a failing OF21 page until it is mended, and the others as usual', async () => {
    const [broken, other] = world.offers();
    const hook = (path: string) => fetch(`${server.url}/_sim/offers/${broken?.shopSku}/${path}`, { method: 'POST' });
    expect((await hook('unreadable')).status).toBe(200);
    expect((await call('GET', `/api/offers?sku=${broken?.shopSku}`)).status).toBe(500);
    expect((await call('GET', `/api/offers?sku=${other?.shopSku}`)).body.offers[0].shop_sku).toBe(other?.shopSku);
    expect((await hook('readable')).status).toBe(200);
    expect((await call('GET', `/api/offers?sku=${broken?.shopSku}`)).body.offers[0].quantity).toBe(broken?.quantity);
  });

  it('exports the offers in bulk: OF52 asks, OF53 answers with links once the files are written, the links serve them', async () => {
    const exportOf = async (body: unknown) => call('POST', '/api/offers/export/async', body);
    const statusOf = async (id: string) => call('GET', `/api/offers/export/async/status/${id}`);
    const files = async (urls: string[]) =>
      Promise.all(urls.map(async (u) => (await (await fetch(u, { headers: { authorization: apiKey } })).json()) as Record<string, unknown>[]));

    const asked = await exportOf({ export_type: 'application/json', include_fields: ['shop_sku', 'quantity', 'deleted'], include_inactive_offers: true, items_per_chunk: 100 });
    expect(asked.status).toBe(200);
    expect(Date.parse(asked.headers.get('date') ?? '')).toBe(Math.floor(clock.now() / 1000) * 1000);
    const id = asked.body.tracking_id as string;
    expect((await statusOf(id)).body).toEqual({ status: 'PENDING', last_updated: new Date(clock.now()).toISOString() });
    // An identical request while it stands is the same export.
    clock.advance(minute);
    expect((await exportOf({ export_type: 'application/json', include_fields: ['shop_sku', 'quantity', 'deleted'], include_inactive_offers: true, items_per_chunk: 100 })).body.tracking_id).toBe(id);

    clock.advance(10_000);
    const done = await statusOf(id);
    expect(done.body.status).toBe('COMPLETED');
    expect(done.body.urls).toHaveLength(Math.ceil(world.offers().length / 100));
    for (const url of done.body.urls as string[]) expect(new URL(url).origin).toBe(server.url);
    const all = (await files(done.body.urls as string[])).flat();
    expect(all).toHaveLength(world.offers().length);
    expect(all[0]).toEqual({ shop_sku: world.offers()[0]?.shopSku, quantity: world.offers()[0]?.quantity, deleted: false });
    expect((await fetch(`${server.url}/api/offers/export/async/file/${id}?file=of52-export%2Foffers%2F0.json`)).status).toBe(401);

    // A new full export within a day is refused; a differential one carries only what changed since.
    clock.advance(minute);
    const again = await exportOf({ export_type: 'application/json', include_fields: ['shop_sku', 'quantity'] });
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(23 * 3600);
    const since = new Date(clock.now()).toISOString();
    const [sold, broken] = world.offers();
    world.sellNow(sold?.shopSku ?? '', 1);
    world.setOfferUnreadable(broken?.shopSku ?? '', true);
    clock.advance(minute);
    expect((await exportOf({ export_type: 'application/json', include_inactive_offers: true, last_request_date: since })).status).toBe(400);
    clock.advance(minute);
    const diff = await exportOf({ export_type: 'application/json', include_fields: ['shop_sku', 'quantity'], last_request_date: since });
    clock.advance(minute);
    const diffDone = await statusOf(diff.body.tracking_id as string);
    const changed = (await files(diffDone.body.urls as string[])).flat();
    expect(changed).toEqual(expect.arrayContaining([{ shop_sku: sold?.shopSku, quantity: sold?.quantity }, { shop_sku: broken?.shopSku, quantity: null }]));
    // Only offers changed since then: the two above, and those the world's own orders sold meanwhile.
    const changedSince = world.offers().filter((o) => o.lastUpdated >= Date.parse(since)).map((o) => o.shopSku);
    expect(changed.map((r) => r.shop_sku).sort()).toEqual(changedSince.sort());
    expect(changed.length).toBeLessThan(world.offers().length);
    clock.advance(10_000);
    expect((await statusOf('no-such-export')).status).toBe(404);
  });

  it('applies a change whose response is lost', async () => {
    faults = { OR28: { lostResponseRate: 1 } };
    const lineId = world.returnsList()[0]?.lines[0]?.orderLineId ?? '';
    await expect(
      fetch(`${server.url}/api/orders/refund`, {
        method: 'PUT',
        headers: { authorization: apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ refunds: [{ order_line_id: lineId, amount: 1, shipping_amount: 0, reason_code: '11' }] }),
      }),
    ).rejects.toThrow();
    expect(world.findLine(lineId)?.line.refunds).toHaveLength(1);
    expect(server.counters.OR28?.faults.lostResponse).toBe(1);
  });
});

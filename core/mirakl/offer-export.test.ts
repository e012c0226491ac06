import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { isApiError } from '../net/api-error';
import { createMemoryBudgetStore, type BudgetStore } from '../net/budget-guard';
import { fetchHttp, type HttpRequest, type HttpResponse } from '../net/http';
import { memoryJournal } from '../net/journal';
import { defaultScenario, startSandbox, type Sandbox } from '../sandbox/index';
import { createMiraklClient, type MiraklClient } from './client';

// The stock reads of the Mirakl client: the bulk offer export (OF52 → OF53 → its files) and sales by creation date
// (OR11), against the sandbox; and, against a stub, what the client refuses: a file link on another origin (the API
// key is never sent there), an unreadable offer or order (held aside, never a whole file), OR11's shared budget.

const minute = 60_000;

describe('Mirakl client: stock reads', () => {
  let sandbox: Sandbox;
  let client: MiraklClient;
  let budgets: BudgetStore;
  const clock = createFakeClock(defaultScenario.startMs + minute);

  beforeEach(async () => {
    sandbox = await startSandbox({ seed: 5, clock, scenario: { ordersPerDay: 0, historyDays: 0 } });
    budgets = createMemoryBudgetStore();
    client = createMiraklClient({
      baseUrl: sandbox.mirakl.baseUrl,
      apiKey: async () => sandbox.mirakl.apiKey,
      shopId: sandbox.mirakl.shopId,
      clock,
      http: fetchHttp,
      journal: memoryJournal(),
      budgets,
    });
  });
  afterEach(() => sandbox.close());

  it('exports every offer, then what changed, with Mirakl\'s clock; one full export a day, charged once taken', async () => {
    const full = await client.requestOfferExport({});
    expect(full.serverTime).toBe(Math.floor(clock.now() / 1000) * 1000);
    expect((await client.offerExportStatus(full.trackingId)).status).toBe('PENDING');
    clock.advance(minute);
    const done = await client.offerExportStatus(full.trackingId);
    expect(done.status).toBe('COMPLETED');
    const files = await Promise.all(done.urls.map((u) => client.offerExportFile(u)));
    const offers = files.flatMap((f) => f.offers);
    expect(offers).toHaveLength(sandbox.world.offers().length);
    const first = sandbox.world.offers()[0];
    expect(offers[0]).toEqual({ shop_sku: first?.shopSku, offer_id: String(first?.offerId), quantity: first?.quantity, active: true, deleted: false });

    const again = await client.requestOfferExport({}).catch((e: unknown) => e);
    expect(isApiError(again) && again.kind).toBe('rate_limited');
    expect(sandbox.miraklServer.counters.OF52?.calls).toBe(1);

    const since = new Date(clock.now()).toISOString();
    sandbox.world.sellNow(first?.shopSku ?? '', 3);
    const diff = await client.requestOfferExport({ since });
    clock.advance(minute);
    const diffDone = await client.offerExportStatus(diff.trackingId);
    const changed = (await Promise.all(diffDone.urls.map((u) => client.offerExportFile(u)))).flatMap((f) => f.offers);
    expect(changed).toEqual([expect.objectContaining({ shop_sku: first?.shopSku, quantity: (first?.quantity ?? 0) })]);
  });

  it('holds aside an offer that cannot be read, and reads the rest of its file', async () => {
    const [broken] = sandbox.world.offers();
    sandbox.world.setOfferUnreadable(broken?.shopSku ?? '', true);
    const exp = await client.requestOfferExport({});
    clock.advance(minute);
    const { urls } = await client.offerExportStatus(exp.trackingId);
    const [file] = await Promise.all(urls.map((u) => client.offerExportFile(u)));
    expect(file?.offers).toHaveLength(sandbox.world.offers().length - 1);
    expect(file?.quarantined).toEqual([expect.objectContaining({ operation: 'OF52', key: broken?.shopSku, problem: expect.stringMatching(/quantity/) })]);
  });

  it('reads the orders placed since a date as sales, with Mirakl\'s clock', async () => {
    const [a, b] = sandbox.world.offers();
    const since = new Date(clock.now()).toISOString();
    sandbox.world.sellNow(a?.shopSku ?? '', 2);
    clock.advance(5_000);
    sandbox.world.sellNow(b?.shopSku ?? '', 1);
    const read = await client.ordersCreatedSince(since);
    expect(read.serverTime).toBe(Math.floor(clock.now() / 1000) * 1000);
    expect(read.sales.map((s) => [s.offer_sku, s.quantity])).toEqual([
      [a?.shopSku, 2],
      [b?.shopSku, 1],
    ]);
    expect(read.unreadable).toEqual([]);
  });
});

describe('Mirakl client: what the stock reads refuse', () => {
  const clock = createFakeClock(defaultScenario.startMs);
  const sent: HttpRequest[] = [];
  let answer: (request: HttpRequest) => HttpResponse;
  let budgets: BudgetStore;
  let client: MiraklClient;

  beforeEach(() => {
    sent.length = 0;
    budgets = createMemoryBudgetStore();
    answer = () => ({ status: 200, headers: {}, body: '[]' });
    client = createMiraklClient({
      baseUrl: 'https://shop.mirakl.test/',
      apiKey: async () => 'secret-key',
      clock,
      http: async (request) => {
        sent.push(request);
        return answer(request);
      },
      journal: memoryJournal(),
      budgets,
    });
  });

  it('never sends the API key to a file link on another origin', async () => {
    for (const url of ['https://elsewhere.test/api/offers/export/async/file/x?file=0.json', 'http://shop.mirakl.test/api/file', 'https://shop.mirakl.test:8443/api/file', 'not a url']) {
      const error = await client.offerExportFile(url).catch((e: unknown) => e);
      expect(isApiError(error), url).toBe(true);
    }
    expect(sent).toEqual([]);
    await client.offerExportFile('https://shop.mirakl.test/api/offers/export/async/file/x?file=of52-export%2Foffers%2F0.json');
    expect(sent.map((r) => [r.url, r.headers?.authorization])).toEqual([['https://shop.mirakl.test/api/offers/export/async/file/x?file=of52-export%2Foffers%2F0.json', 'secret-key']]);
  });

  it('reads an export file sent as an object too, and refuses one that holds no list', async () => {
    answer = () => ({ status: 200, headers: {}, body: JSON.stringify({ offers: [{ shop_sku: 'A', quantity: '4' }, { shop_sku: 'B', deleted: true }, { shop_sku: 'C' }] }) });
    const file = await client.offerExportFile('https://shop.mirakl.test/f');
    expect(file.offers.map((o) => [o.shop_sku, o.quantity, o.deleted])).toEqual([
      ['A', 4, false],
      ['B', null, true],
    ]);
    expect(file.quarantined.map((q) => q.key)).toEqual(['C']);
    answer = () => ({ status: 200, headers: {}, body: '{"status":"ok"}' });
    const error = await client.offerExportFile('https://shop.mirakl.test/f').catch((e: unknown) => e);
    expect(isApiError(error) && error.kind).toBe('invalid_response');
  });

  it('holds aside an order it cannot read as a sale, with what can still be told of it', async () => {
    answer = () => ({
      status: 200,
      headers: { date: 'Thu, 01 Oct 2026 00:00:07 GMT' },
      body: JSON.stringify({
        orders: [
          { order_id: 'O-1', created_date: '2026-10-01T00:00:01Z', order_lines: [{ order_line_id: 'O-1-1', offer_sku: 'A', quantity: 1 }] },
          { order_id: 'O-2', created_date: '2026-10-01T00:00:02Z', order_lines: [{ order_line_id: 'O-2-1', offer_sku: 'B', quantity: 'two' }] },
          { order_id: 'O-3', order_lines: 'lost' },
        ],
        total_count: 3,
      }),
    });
    const read = await client.ordersCreatedSince('2026-10-01T00:00:00Z');
    expect(read.serverTime).toBe(Date.parse('2026-10-01T00:00:07Z'));
    expect(read.sales).toEqual([{ order_id: 'O-1', order_line_id: 'O-1-1', offer_sku: 'A', quantity: 1, created_date: '2026-10-01T00:00:01Z' }]);
    expect(read.unreadable.map((u) => [u.record.key, u.createdDate, u.skus])).toEqual([
      ['O-2', '2026-10-01T00:00:02Z', ['B']],
      ['O-3', null, [null]],
    ]);
  });

  it('shares OR11 between the orders and the stock readers: one turned away by the budget is served next', async () => {
    answer = () => ({ status: 200, headers: {}, body: JSON.stringify({ orders: [], total_count: 0 }) });
    const orders = () => client.ordersById(['O-1'], 'TAX_INCLUDED').then(() => 'orders read', (e: unknown) => (isApiError(e) ? e.kind : 'error'));
    const stock = () => client.ordersCreatedSince('2026-10-01T00:00:00Z').then(() => 'stock read', (e: unknown) => (isApiError(e) ? e.kind : 'error'));
    expect(await orders()).toBe('orders read');
    expect(await stock()).toBe('rate_limited');
    clock.advance(minute);
    // The orders reader yields its turn once; the stock reader, turned away before, reads.
    expect(await orders()).toBe('rate_limited');
    expect(await stock()).toBe('stock read');
    clock.advance(minute);
    // Nobody is waiting now: whoever asks first reads.
    expect(await orders()).toBe('orders read');
    clock.advance(minute);
    expect(await orders()).toBe('orders read');
    expect(sent.filter((r) => r.url.includes('/api/orders'))).toHaveLength(4);
  });
});

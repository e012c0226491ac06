import { describe, expect, it } from 'vitest';
import { fetchHttp, type HttpPort } from '../../core/net/http';
import type { FaultProfiles } from '../../core/sandbox/http/faults';
import type { Harness } from '../support/engine-harness';
import { incrementState, minute, plantPending, sell, stepUntil, stockOf, useQuietStockWorld } from '../support/quiet-stock-world';

// Issue 20, item 4: stock is decided from facts, in the quiet stock world (test/support/quiet-stock-world.ts): each test
// checks Mirakl's own ground truth, what the offer holds against initial − sold + units restocked.

describe('stock decided from facts (issue 20, item 4)', () => {
  const world = useQuietStockWorld();
  const start = (seed: number, miraklFaults?: FaultProfiles) => world.start(seed, miraklFaults ? { miraklFaults } : {});
  const pending = plantPending;

  const openExceptions = (h: Harness, type: string) =>
    h.store.db.prepare(`SELECT subject_key, offer_sku, cause FROM exceptions WHERE type = ? AND state != 'resolved' ORDER BY id`).all(type) as {
      subject_key: string;
      offer_sku: string | null;
      cause: string;
    }[];

  const importsApplying = (h: Harness, sku: string) =>
    h.sandbox.truth().mirakl.stockImports.filter((i) => i.status === 'COMPLETE' && i.applied.some((a) => a.shopSku === sku)).length;

  it('restocks exactly once when the import was applied, its answer lost, and a unit sold before the read-back', async () => {
    const h = await start(4101, { STO01: { lostResponseRate: 1 } });
    const sku = h.sandbox.world.offers()[0]?.shopSku ?? '';
    pending(h, 'R-1:L-1:1', sku);

    // Mirakl applies the import; its answer never reaches the engine.
    await stepUntil(h, 'the stock import was applied in Mirakl', () => importsApplying(h, sku) === 1, 20);
    h.sandbox.setFaults('mirakl', {});
    expect(h.store.db.prepare(`SELECT state FROM intents WHERE kind = 'stock.import'`).all()).toEqual([{ state: 'uncertain' }]);
    // A customer buys one unit before the engine reads the quantity back.
    await sell(h, sku, 1);

    await stepUntil(h, 'the restock was settled', () => incrementState(h, 'R-1:L-1:1') !== 'importing', 60);
    // Long enough for a second import, if one were planned, to go out and be applied.
    for (let i = 0; i < 15; i++) await h.step(minute);

    const s = stockOf(h, sku);
    expect(incrementState(h, 'R-1:L-1:1')).toBe('applied');
    expect(importsApplying(h, sku)).toBe(1);
    expect(s.quantity).toBe(s.initial - s.sold + 1);
    expect(openExceptions(h, 'OUTCOME_UNKNOWN')).toEqual([]);
  }, 120_000);

  it('does not let 100 SKUs Mirakl has no offer for hold back the 101st', async () => {
    const h = await start(4102);
    const start0 = h.clock.now() - 60 * minute;
    for (let i = 0; i < 100; i++) pending(h, `R-${i}:L-1:1`, `GONE-${String(i).padStart(3, '0')}`, start0 + i * 1000);
    const sku = h.sandbox.world.offers()[1]?.shopSku ?? '';
    pending(h, 'R-101:L-1:1', sku);

    await stepUntil(h, `the unit of ${sku} was restocked`, () => incrementState(h, 'R-101:L-1:1') === 'applied', 30);
    const s = stockOf(h, sku);
    expect(s.quantity).toBe(s.initial - s.sold + 1);
    expect(openExceptions(h, 'OFFER_NOT_FOUND').map((e) => e.subject_key).sort()).toEqual(Array.from({ length: 100 }, (_, i) => `GONE-${String(i).padStart(3, '0')}`));
  }, 120_000);

  it('does not let one SKU whose stock cannot be read stop the flush of the others', async () => {
    const h = await start(4103);
    const [a, b, c] = h.sandbox.world.offers().slice(2, 5).map((o) => o.shopSku);
    if (!a || !b || !c) throw new Error('the catalogue has fewer than 5 offers');
    const hook = (path: string) => fetch(`${h.sandbox.mirakl.baseUrl}/_sim/offers/${b}/${path}`, { method: 'POST' });
    expect((await hook('unreadable')).status).toBe(200);
    pending(h, 'R-B:L-1:1', b, h.clock.now() - 10 * minute);
    pending(h, 'R-A:L-1:1', a);
    pending(h, 'R-C:L-1:1', c);

    await stepUntil(h, `the units of ${a} and ${c} were restocked`, () => incrementState(h, 'R-A:L-1:1') === 'applied' && incrementState(h, 'R-C:L-1:1') === 'applied', 30);
    expect(incrementState(h, 'R-B:L-1:1')).toBe('pending');
    expect(stockOf(h, b).quantity).toBe(stockOf(h, b).initial - stockOf(h, b).sold);
    expect(openExceptions(h, 'MALFORMED_RECORD').some((e) => e.subject_key.endsWith(b))).toBe(true);

    // Mended in Mirakl: its unit follows, and the record is no longer held aside.
    expect((await hook('readable')).status).toBe(200);
    await stepUntil(h, `the unit of ${b} was restocked once its offer could be read`, () => incrementState(h, 'R-B:L-1:1') === 'applied', 30);
    for (const sku of [a, b, c]) expect(stockOf(h, sku).quantity).toBe(stockOf(h, sku).initial - stockOf(h, sku).sold + 1);
    expect(openExceptions(h, 'MALFORMED_RECORD')).toEqual([]);
  }, 120_000);

  it('raises STOCK_OVERWRITTEN with the units to correct when units sell between the read and the import', async () => {
    const h = await start(4104);
    const sku = h.sandbox.world.offers()[5]?.shopSku ?? '';
    pending(h, 'R-1:L-1:1', sku);

    // The import is on its way (Mirakl has it, waiting to run): two units sell now, and the import will set the
    // quantity read before them.
    await stepUntil(h, 'a stock import was sent', () => h.sandbox.world.importsList().length > 0, 20);
    expect(h.sandbox.world.importsList()[0]?.status).toBe('WAITING');
    await sell(h, sku, 2);

    await stepUntil(h, 'STOCK_OVERWRITTEN was raised', () => openExceptions(h, 'STOCK_OVERWRITTEN').length > 0, 30);
    const [raised, ...others] = openExceptions(h, 'STOCK_OVERWRITTEN');
    expect(others).toEqual([]);
    expect(raised?.offer_sku).toBe(sku);
    expect(raised?.cause).toMatch(/\b2 unit\(s\)/);
    // The two phantom units the exception names are really there for sale.
    const s = stockOf(h, sku);
    expect(incrementState(h, 'R-1:L-1:1')).toBe('applied');
    expect(s.quantity).toBe(s.initial - s.sold + 1 + 2);
  }, 120_000);

  it('restocks from differential exports while Mirakl refuses a second full export the same day (a full export\'s answer was lost)', async () => {
    const h = await start(4105);
    const [a, b, c] = h.sandbox.world.offers().slice(6, 9).map((o) => o.shopSku);
    if (!a || !b || !c) throw new Error('the catalogue has fewer than 9 offers');
    pending(h, 'R-A:L-1:1', a);
    await stepUntil(h, `the unit of ${a} was restocked`, () => incrementState(h, 'R-A:L-1:1') === 'applied', 30);
    // A day on, a full export is due again. A unit restocked then is read back with one: Mirakl takes the request, but
    // its answer never comes back. Then OF52 fails before reaching Mirakl for over an hour, so the next request is not
    // the same one repeated (which Mirakl would answer with the same export): it is a second full export the same day,
    // which Mirakl refuses (429).
    for (let i = 0; i < 25; i++) await h.step(60 * minute);
    const asked = () => h.sandbox.miraklServer.counters.OF52?.faults.lostResponse ?? 0;
    h.sandbox.setFaults('mirakl', { OF52: { lostResponseRate: 1 } });
    pending(h, 'R-B:L-1:1', b);
    await stepUntil(h, 'a full export was asked for, its answer lost', () => asked() > 0, 30);
    h.sandbox.setFaults('mirakl', { OF52: { serverErrorRate: 1 } });
    for (let i = 0; i < 61; i++) await h.step(minute);
    h.sandbox.setFaults('mirakl', {});

    // Differential exports are allowed once a minute all day: a unit graded now goes back on sale within minutes, not
    // the next day.
    pending(h, 'R-C:L-1:1', c);
    await stepUntil(h, `the unit of ${c} was restocked`, () => incrementState(h, 'R-C:L-1:1') === 'applied', 30);
    for (const sku of [a, b, c]) expect(stockOf(h, sku).quantity).toBe(stockOf(h, sku).initial - stockOf(h, sku).sold + 1);
  }, 180_000);

  it('gives up an export whose status Mirakl no longer answers, and restocks from the next one', async () => {
    // Mirakl answers OF53 for one export with 404 from some moment on (an export it no longer keeps): what the sandbox,
    // which keeps every export, never does; a stand-in in front of it does.
    let forgotten: string | null = null;
    const http: HttpPort = (request) =>
      forgotten !== null && new URL(request.url).pathname.endsWith(`/export/async/status/${forgotten}`)
        ? Promise.resolve({ status: 404, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 404, message: `Export ${forgotten} does not exist` }) })
        : fetchHttp(request);
    const h = await world.start(4106, { http });
    const [a, b] = h.sandbox.world.offers().slice(9, 11).map((o) => o.shopSku);
    if (!a || !b) throw new Error('the catalogue has fewer than 11 offers');
    pending(h, 'R-A:L-1:1', a);
    await stepUntil(h, `the unit of ${a} was restocked`, () => incrementState(h, 'R-A:L-1:1') === 'applied', 30);
    const requested = () => h.store.db.prepare(`SELECT tracking_id FROM offer_exports WHERE state = 'requested'`).get() as { tracking_id: string } | undefined;
    pending(h, 'R-B:L-1:1', b);
    await stepUntil(h, 'an export was asked for', () => requested() !== undefined, 30);
    forgotten = requested()?.tracking_id ?? null;

    // Given up once it is over half an hour old, like an export that never completes; the next one restocks the unit.
    await stepUntil(h, `the unit of ${b} was restocked`, () => incrementState(h, 'R-B:L-1:1') === 'applied', 60);
    const given = h.store.db.prepare(`SELECT state, error FROM offer_exports WHERE tracking_id = ?`).get(forgotten) as { state: string; error: string };
    expect(given.state).toBe('failed');
    expect(given.error).toMatch(/status could not be read: .*404/);
    expect(stockOf(h, b).quantity).toBe(stockOf(h, b).initial - stockOf(h, b).sold + 1);
  }, 180_000);
});

import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../../adapters/fake-clock';
import type { SimServer } from '../http/sim-server';
import { createRng } from '../rng';
import { defaultScenario, type Scenario, type TaxMode } from '../scenario';
import { includedVat } from '../world/money';
import { createMiraklWorld, type MiraklWorld } from '../world/mirakl-world';
import { startMiraklServer } from './server';

// Both kinds of shop: the world keeps gross amounts, and OR11 and OR28 speak the tax mode asked for (or the shop's).

const apiKey = 'tax-key';
type Rec = Record<string, unknown>;
const list = (value: unknown): Rec[] => (Array.isArray(value) ? (value as Rec[]) : []);
const minor = (value: unknown) => Math.round(Number(value) * 100);
const taxMinor = (value: unknown) => list(value).reduce((s, t) => s + minor(t.amount), 0);

const servers: SimServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function shop(overrides: Partial<Scenario> = {}, seed = 31) {
  const scenario = { ...defaultScenario, ordersPerDay: 60, returnRate: 0.4, returnAfterDays: [0, 2] as [number, number], orderVisibleLateRate: 0, ...overrides };
  const clock = createFakeClock(scenario.startMs);
  const world = createMiraklWorld({ clock, rng: createRng(seed), scenario, shopId: 2001 });
  world.advance();
  const server = await startMiraklServer({ world, clock, rng: createRng(seed), apiKey, startMs: scenario.startMs, faults: () => ({}), budgets: () => ({}) });
  servers.push(server);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: apiKey, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Rec };
  };
  return { world, clock, call };
}

const refundedLines = (world: MiraklWorld, n: number) => world.returnsList().slice(0, n).map((r) => world.findLine(r.lines[0]?.orderLineId ?? ''));

describe('tax modes', () => {
  it('OR11 in TAX_EXCLUDED: every price plus its taxes is the TAX_INCLUDED price, refunds too', async () => {
    const { world, call } = await shop();
    for (const found of refundedLines(world, 20)) {
      if (found) world.refund([{ order_line_id: found.line.orderLineId, amount: found.line.priceUnitMinor / 100, shipping_amount: found.line.shippingMinor / 100, reason_code: '11' }]);
    }
    const ids = [...new Set(world.returnsList().slice(0, 20).map((r) => r.orderId))].join(',');
    const included = list((await call('GET', `/api/orders?order_ids=${ids}&max=100&order_tax_mode=TAX_INCLUDED`)).body.orders);
    const excluded = list((await call('GET', `/api/orders?order_ids=${ids}&max=100&order_tax_mode=TAX_EXCLUDED`)).body.orders);
    expect(excluded.map((o) => o.order_id)).toEqual(included.map((o) => o.order_id));
    let refunds = 0;
    excluded.forEach((order, i) => {
      const gross = included[i] as Rec;
      expect([order.order_tax_mode, gross.order_tax_mode]).toEqual(['TAX_EXCLUDED', 'TAX_INCLUDED']);
      const orderTax = list(order.order_taxes).reduce((s, t) => s + minor(t.total_amount), 0);
      expect(minor(order.total_price) + orderTax).toBe(minor(gross.total_price));
      expect(minor(order.price) + minor(order.shipping_price) + orderTax).toBe(minor(gross.price) + minor(gross.shipping_price));
      list(order.order_lines).forEach((line, j) => {
        const g = list(gross.order_lines)[j] as Rec;
        expect(minor(line.price) + taxMinor(line.taxes)).toBe(minor(g.price));
        expect(minor(line.shipping_price) + taxMinor(line.shipping_taxes)).toBe(minor(g.shipping_price));
        expect(minor(line.total_price) + taxMinor(line.taxes) + taxMinor(line.shipping_taxes)).toBe(minor(g.total_price));
        expect(minor(line.price_unit)).toBe(minor(g.price_unit) - includedVat(minor(g.price_unit), 20));
        expect(taxMinor(line.taxes)).toBe(taxMinor(g.taxes));
        list(line.refunds).forEach((refund, k) => {
          const r = list(g.refunds)[k] as Rec;
          expect(minor(refund.amount) + taxMinor(refund.taxes)).toBe(minor(r.amount));
          expect(minor(refund.shipping_amount) + taxMinor(refund.shipping_taxes)).toBe(minor(r.shipping_amount));
          refunds++;
        });
      });
    });
    expect(refunds).toBeGreaterThanOrEqual(15);
  });

  it("OR11 without order_tax_mode answers in the shop's mode, and says which", async () => {
    for (const taxMode of ['TAX_INCLUDED', 'TAX_EXCLUDED'] as const) {
      const { world, call } = await shop({ taxMode });
      const order = list((await call('GET', `/api/orders?order_ids=${world.returnsList()[0]?.orderId}`)).body.orders)[0];
      expect(order?.order_tax_mode).toBe(taxMode);
      const line = world.findLine(list(order?.order_lines)[0]?.order_line_id as string)?.line;
      const expected = taxMode === 'TAX_INCLUDED' ? line?.priceMinor : (line?.priceMinor ?? 0) - includedVat(line?.priceMinor ?? 0, 20);
      expect(minor(list(order?.order_lines)[0]?.price)).toBe(expected);
    }
    const { call } = await shop();
    expect((await call('GET', '/api/orders?order_tax_mode=TAX_FREE')).status).toBe(400);
  });

  it('OR28 refunds the same gross in either mode, with taxes given or worked out', async () => {
    const gross: number[][] = [];
    const cases: { mode: TaxMode | undefined; shop: TaxMode; withTaxes: boolean }[] = [
      { mode: 'TAX_INCLUDED', shop: 'TAX_INCLUDED', withTaxes: true },
      { mode: 'TAX_INCLUDED', shop: 'TAX_EXCLUDED', withTaxes: false },
      { mode: 'TAX_EXCLUDED', shop: 'TAX_INCLUDED', withTaxes: true },
      { mode: 'TAX_EXCLUDED', shop: 'TAX_INCLUDED', withTaxes: false },
      { mode: undefined, shop: 'TAX_EXCLUDED', withTaxes: false },
    ];
    for (const c of cases) {
      const { world, call } = await shop({ taxMode: c.shop });
      const lines = refundedLines(world, 8).flatMap((f) => (f ? [f.line] : []));
      const isNet = (c.mode ?? c.shop) === 'TAX_EXCLUDED';
      const refunds = lines.map((line) => {
        // A whole line and its shipping, or one unit of it.
        const grossAmount = line.quantity > 1 ? line.priceUnitMinor : line.priceMinor;
        const tax = line.quantity > 1 ? includedVat(line.priceUnitMinor, 20) : world.lineTaxes(line).taxes.reduce((s, t) => s + t.amountMinor, 0);
        const shippingTax = world.lineTaxes(line).shippingTaxes.reduce((s, t) => s + t.amountMinor, 0);
        return {
          order_line_id: line.orderLineId,
          amount: (isNet ? grossAmount - tax : grossAmount) / 100,
          shipping_amount: (isNet ? line.shippingMinor - shippingTax : line.shippingMinor) / 100,
          reason_code: '11',
          ...(c.withTaxes ? { taxes: [{ code: 'VAT', amount: (tax / 100).toFixed(2) }], shipping_taxes: shippingTax > 0 ? [{ code: 'VAT', amount: shippingTax / 100 }] : [] } : {}),
        };
      });
      const res = await call('PUT', '/api/orders/refund', { ...(c.mode ? { order_tax_mode: c.mode } : {}), refunds });
      expect(res.status).toBe(200);
      expect(res.body.order_tax_mode).toBe(c.mode ?? c.shop);
      // The answer speaks the mode it was asked in: the amounts sent come back.
      expect(list(res.body.refunds).map((r) => [minor(r.amount), minor(r.shipping_amount)])).toEqual(refunds.map((r) => [minor(r.amount), minor(r.shipping_amount)]));
      const truth = world.truth().refundsByLine;
      gross.push(lines.map((l) => (truth[l.orderLineId] ?? []).reduce((s, r) => s + r.amountMinor + r.shippingMinor, 0)));
    }
    const [reference = []] = gross;
    expect(reference.every((n) => n > 0)).toBe(true);
    gross.forEach((g, i) => {
      // Taxes worked out in proportion to a unit's net amount may round a cent away from the unit's own VAT.
      if (cases[i]?.withTaxes || cases[i]?.mode === 'TAX_INCLUDED') expect(g).toEqual(reference);
      else g.forEach((n, j) => expect(Math.abs(n - (reference[j] ?? 0))).toBeLessThanOrEqual(1));
    });
  });

  it('refuses a gross amount sent as the net one: with its tax added it exceeds the line', async () => {
    const { world, call } = await shop({ taxMode: 'TAX_EXCLUDED' });
    const line = refundedLines(world, 1)[0]?.line;
    const res = await call('PUT', '/api/orders/refund', { refunds: [{ order_line_id: line?.orderLineId, amount: (line?.priceMinor ?? 0) / 100, shipping_amount: 0, reason_code: '11' }] });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/exceeds the refundable amount/);
    expect((await call('PUT', '/api/orders/refund', { order_tax_mode: 'NET', refunds: [] })).status).toBe(400);
  });

  it('splits each line tax over the shop tax codes, and keeps the codes a refund was sent with', async () => {
    const { world, call } = await shop({ taxMode: 'TAX_EXCLUDED', taxCodes: ['tax1', 'tax2'] });
    const line = refundedLines(world, 1)[0]?.line;
    const order = list((await call('GET', `/api/orders?order_ids=${world.returnsList()[0]?.orderId}`)).body.orders)[0];
    const answered = list(order?.order_lines).find((l) => l.order_line_id === line?.orderLineId);
    expect(list(answered?.taxes).map((t) => [t.code, t.rate])).toEqual([
      ['tax1', 10],
      ['tax2', 10],
    ]);
    const taxes = [
      { code: 'tax1', amount: '1.00' },
      { code: 'tax2', amount: '0.50' },
    ];
    const res = await call('PUT', '/api/orders/refund', { refunds: [{ order_line_id: line?.orderLineId, amount: 5, shipping_amount: 0, reason_code: '11', taxes }] });
    expect(res.status).toBe(200);
    expect(list(list(res.body.refunds)[0]?.taxes)).toEqual([
      { code: 'tax1', amount: 1 },
      { code: 'tax2', amount: 0.5 },
    ]);
    expect(world.truth().refundsByLine[line?.orderLineId ?? '']?.[0]).toMatchObject({ amountMinor: 650, taxMinor: 150 });
  });
});

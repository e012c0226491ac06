import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '../../adapters/fake-clock';
import type { SimServer } from '../http/sim-server';
import { createRng } from '../rng';
import { defaultScenario } from '../scenario';
import { createMiraklWorld, type MiraklWorld } from '../world/mirakl-world';
import { miraklDeviations } from './deviations';
import type { JsonObject } from './openapi/json';
import { loadMiraklSubset } from './openapi/validator';
import { startMiraklServer } from './server';
import { recordSpecs, type RecordSpec } from './shape-faults';

const apiKey = 'shapes-key';
const minute = 60_000;

type Rec = Record<string, unknown>;

describe('shape specs against the derived OpenAPI subset', () => {
  const schemas = (loadMiraklSubset().components as JsonObject).schemas as Record<string, { properties?: Record<string, unknown>; required?: string[] }>;

  function check(operation: string, spec: RecordSpec, problems: string[]): void {
    const schema = schemas[spec.schema];
    if (!schema) {
      problems.push(`${operation}: no schema ${spec.schema}`);
      return;
    }
    const declared = new Set(Object.keys(schema.properties ?? {}));
    const required = new Set(schema.required ?? []);
    const named = [...spec.keep, ...(spec.exampleOmits ?? []), ...(spec.exampleNulls ?? []), ...(spec.nullWhenAbsent ?? []), ...Object.keys(spec.children ?? {})];
    for (const field of named) if (!declared.has(field)) problems.push(`${spec.schema}.${field} is not declared`);
    const untouched = new Set([...spec.keep, ...(spec.exampleOmits ?? []), ...(spec.exampleNulls ?? [])]);
    for (const field of required) if (!untouched.has(field)) problems.push(`${spec.schema}.${field} is required but may be left out or nulled`);
    for (const field of spec.nullWhenAbsent ?? []) if (required.has(field)) problems.push(`${spec.schema}.${field} is required, so never "absent"`);
    const listed = (keyword: string, field: string, value?: string) =>
      miraklDeviations.some((d) => d.operationId === operation && d.keyword === keyword && d.at.endsWith(`/${field}`) && (value === undefined || d.value === value));
    for (const field of spec.exampleOmits ?? []) {
      if (!required.has(field)) problems.push(`${spec.schema}.${field} is optional: leaving it out needs no exampleOmits`);
      if (!listed('required', field)) problems.push(`${operation}: leaving out ${field} is not in deviations.ts`);
    }
    for (const field of spec.exampleNulls ?? []) {
      if (!required.has(field)) problems.push(`${spec.schema}.${field} is optional: nulling it needs no exampleNulls`);
      if (!listed('type', field, 'null')) problems.push(`${operation}: a null ${field} is not in deviations.ts`);
    }
    for (const child of Object.values(spec.children ?? {})) check(operation, child, problems);
  }

  it('keeps every required field unless a listed deviation drops it, and names only declared fields', () => {
    const problems: string[] = [];
    for (const [operation, spec] of Object.entries(recordSpecs)) check(operation, spec, problems);
    expect(problems).toEqual([]);
  });
});

describe('the shapes fault', () => {
  let clock: FakeClock;
  let world: MiraklWorld;
  let plain: SimServer;
  let shaped: SimServer;

  beforeEach(async () => {
    const scenario = { ...defaultScenario, ordersPerDay: 60, returnRate: 0.4, returnAfterDays: [0, 2] as [number, number], orderVisibleLateRate: 0 };
    clock = createFakeClock(scenario.startMs);
    world = createMiraklWorld({ clock, rng: createRng(21), scenario, shopId: 2001 });
    world.advance();
    const common = { world, clock, apiKey, startMs: scenario.startMs, budgets: () => ({}) };
    plain = await startMiraklServer({ ...common, rng: createRng(1), faults: () => ({}) });
    shaped = await startMiraklServer({ ...common, rng: createRng(21).fork('faults'), faults: () => ({ '*': { shapesRate: 1 } }) });
  });
  afterEach(async () => {
    await plain.close();
    await shaped.close();
  });

  const call = async (server: SimServer, method: string, path: string, body?: unknown): Promise<Rec> => {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: apiKey, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    expect(res.status).toBeLessThan(300);
    return (await res.json()) as Rec;
  };
  const both = async (method: string, path: string) => [await call(plain, method, path), await call(shaped, method, path)] as const;
  const list = (value: unknown): Rec[] => (Array.isArray(value) ? (value as Rec[]) : []);
  const num = (value: unknown) => (typeof value === 'string' ? Number(value) : value);
  const byKey = (records: Rec[], key: string) => new Map(records.map((r) => [r[key], r]));
  const taxTotal = (value: unknown) => list(value).reduce((s, t) => s + Number(num(t.amount)), 0);

  it('draws every variant for a seed, and never loses what the engine needs to act', async () => {
    const returns = world.returnsList().slice(0, 30);
    for (const ret of returns) world.refund([{ order_line_id: ret.lines[0]?.orderLineId ?? '', amount: 1, shipping_amount: 0, reason_code: '11' }]);

    // RT11: ids, states, lines, quantities and each line's reason (on the line or, moved, on the return).
    const [rt11Plain, rt11Shaped] = await both('GET', '/api/returns?limit=100');
    const plainReturns = byKey(list(rt11Plain.data), 'id');
    expect(list(rt11Shaped.data)).toHaveLength(plainReturns.size);
    for (const ret of list(rt11Shaped.data)) {
      const before = plainReturns.get(ret.id);
      expect(before).toBeDefined();
      for (const key of ['order_id', 'order_commercial_id', 'state', 'last_updated', 'date_created']) expect(ret[key]).toEqual(before?.[key]);
      const beforeLines = list(before?.return_lines);
      expect(list(ret.return_lines).map((l) => [l.order_line_id, num(l.quantity), l.reason_code ?? ret.reason_code])).toEqual(
        beforeLines.map((l) => [l.order_line_id, l.quantity, l.reason_code]),
      );
    }
    expect(rt11Shaped.next_page_token).toEqual(rt11Plain.next_page_token);

    // OR11: order and line ids, currency, quantities, prices, taxes, refunds and their amounts.
    const orderIds = [...new Set(returns.map((r) => r.orderId))].join(',');
    const [or11Plain, or11Shaped] = await both('GET', `/api/orders?order_ids=${orderIds}&max=100`);
    const plainOrders = byKey(list(or11Plain.orders), 'order_id');
    for (const order of list(or11Shaped.orders)) {
      const before = plainOrders.get(order.order_id);
      for (const key of ['commercial_id', 'currency_iso_code', 'order_tax_mode', 'order_state']) expect(order[key]).toEqual(before?.[key]);
      const lines = byKey(list(before?.order_lines), 'order_line_id');
      for (const line of list(order.order_lines)) {
        const b = lines.get(line.order_line_id);
        for (const key of ['quantity', 'price', 'price_unit', 'shipping_price', 'total_price']) expect(num(line[key])).toEqual(b?.[key]);
        expect(line.offer_sku).toEqual(b?.offer_sku);
        expect(taxTotal(line.taxes)).toBeCloseTo(taxTotal(b?.taxes), 6);
        expect(taxTotal(line.shipping_taxes)).toBeCloseTo(taxTotal(b?.shipping_taxes), 6);
        const refunds = byKey(list(b?.refunds), 'id');
        for (const refund of list(line.refunds)) {
          const r = refunds.get(refund.id);
          expect([num(refund.amount), num(refund.shipping_amount), refund.order_refund_id]).toEqual([r?.amount, r?.shipping_amount, r?.order_refund_id]);
          expect(taxTotal(refund.taxes)).toBeCloseTo(taxTotal(r?.taxes), 6);
          expect(['WAITING_REFUND', 'WAITING_REFUND_PAYMENT']).toContain(refund.refund_state ?? refund.state);
        }
      }
    }

    // OR28, OF21, STO02, RE01, and a batch answer.
    const line = world.findLine(world.returnsList()[40]?.lines[0]?.orderLineId ?? '');
    const or28 = await call(shaped, 'PUT', '/api/orders/refund', { refunds: [{ order_line_id: line?.line.orderLineId, amount: 2.5, shipping_amount: 0, reason_code: '11', quantity: 1 }] });
    const [result] = list(or28.refunds);
    expect([result?.order_line_id, num(result?.amount), num(result?.shipping_amount), num(result?.quantity), result?.currency_iso_code]).toEqual([line?.line.orderLineId, 2.5, 0, 1, line?.order.currency]);
    expect(result?.refund_id).toEqual(line?.line.refunds.at(-1)?.id);
    const sku = line?.line.shopSku ?? '';
    const [of21Plain, of21Shaped] = await both('GET', `/api/offers?sku=${sku}`);
    const pick = (page: Rec) => list(page.offers).map((o) => [o.offer_id, o.shop_sku, num(o.quantity)]);
    expect(pick(of21Shaped)).toEqual(pick(of21Plain));
    const imp = world.importStock([['offer-sku', 'quantity'], [sku, '5'], ['NO-SUCH', '1']]);
    clock.advance(2 * minute);
    world.advance();
    const [sto02Plain, sto02Shaped] = await both('GET', `/api/offers/stock/imports/${imp.importId}/status`);
    const status = (s: Rec) => [s.import_id, s.status, s.has_error_report, num(s.lines_in_error), num(s.lines_in_success)];
    expect(status(sto02Shaped)).toEqual(status(sto02Plain));
    const reasons = await call(shaped, 'GET', '/api/reasons');
    expect(list(reasons.reasons).map((r) => [r.code, r.type])).toEqual(world.reasons().map((r) => [r.code, r.type]));
    const receivable = world.returnsList().filter((r) => r.state === 'IN_PROGRESS').slice(0, 10).map((r) => r.id);
    const received = await call(shaped, 'PUT', '/api/returns/receive', { returns: [...receivable, 'missing-1', 'missing-2'].map((id) => ({ id })) });
    expect(list(received.return_success).map((r) => r.id)).toEqual(receivable);
    expect(list(received.return_errors).map((r) => r.id)).toEqual(['missing-1', 'missing-2']);

    const variants = new Set(Object.values(shaped.counters).flatMap((c) => Object.keys(c.shapes)));
    expect([...variants].sort()).toEqual(['deprecatedOnly', 'nullOptional', 'numericStrings', 'olderPlacement', 'omitOptional', 'unknownValues']);
    expect(shaped.counters.RT11?.faults.shapes).toBe(1);
    expect(Object.values(plain.counters).every((c) => Object.keys(c.shapes).length === 0)).toBe(true);
  });

  it('reshapes the same way for the same seed', async () => {
    const answer = async () => {
      const scenario = { ...defaultScenario, ordersPerDay: 40, returnAfterDays: [0, 2] as [number, number] };
      const c = createFakeClock(scenario.startMs);
      const w = createMiraklWorld({ clock: c, rng: createRng(5), scenario, shopId: 2001 });
      w.advance();
      const server = await startMiraklServer({ world: w, clock: c, apiKey, startMs: scenario.startMs, budgets: () => ({}), rng: createRng(5), faults: () => ({ '*': { shapesRate: 1 } }) });
      try {
        return JSON.stringify(await call(server, 'GET', '/api/returns?limit=50'));
      } finally {
        await server.close();
      }
    };
    expect(await answer()).toBe(await answer());
  });
});

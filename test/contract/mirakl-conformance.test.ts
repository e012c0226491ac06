import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '../../core/adapters/fake-clock';
import { createMiraklClient, type MiraklClient } from '../../core/mirakl/client';
import { createMemoryBudgetStore } from '../../core/net/budget-guard';
import { fetchHttp, type HttpPort } from '../../core/net/http';
import { memoryJournal } from '../../core/net/journal';
import type { SimServer } from '../../core/sandbox/http/sim-server';
import { MIRAKL_OPERATIONS, type MiraklOperationId } from '../../core/sandbox/mirakl/openapi/operations';
import { createMiraklSpecValidator, formatIssue, type ValidationIssue } from '../../core/sandbox/mirakl/openapi/validator';
import { defaultMiraklBudgets, startMiraklServer } from '../../core/sandbox/mirakl/server';
import { createRng } from '../../core/sandbox/rng';
import { defaultScenario } from '../../core/sandbox/scenario';
import { createMiraklWorld, type MiraklWorld } from '../../core/sandbox/world/mirakl-world';

// Every request our Mirakl client sends and every answer the sandbox gives is validated against the OpenAPI file
// derived from Mirakl's own (core/sandbox/mirakl/openapi): undeclared fields, wrong types, missing required
// fields or undocumented enum values fail here, so neither side can drift from the real API.

const validator = createMiraklSpecValidator();

function operationFor(method: string, path: string): MiraklOperationId {
  for (const [id, op] of Object.entries(MIRAKL_OPERATIONS)) {
    const pattern = new RegExp(`^${op.path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (op.method === method.toLowerCase() && pattern.test(path)) return id as MiraklOperationId;
  }
  throw new Error(`no Mirakl operation for ${method} ${path}`);
}

describe('Mirakl sandbox and client conform to the seller OpenAPI', () => {
  const apiKey = 'conformance-key';
  let clock: FakeClock;
  let world: MiraklWorld;
  let server: SimServer;
  let client: MiraklClient;
  const issues: ValidationIssue[] = [];
  const seen = new Set<MiraklOperationId>();

  const validating: HttpPort = async (request) => {
    const url = new URL(request.url);
    const operation = operationFor(request.method, url.pathname);
    seen.add(operation);
    issues.push(...validator.validateQuery(operation, url.searchParams));
    if (request.body !== undefined) {
      issues.push(...validator.validateRequestBody(operation, request.headers?.['content-type'] ?? (typeof request.body === 'string' ? 'application/json' : 'multipart/form-data'), request.body));
    }
    const response = await fetchHttp(request);
    issues.push(...validator.validateResponse(operation, response.status, response.headers['content-type'], response.body === '' ? undefined : response.body));
    return response;
  };

  beforeAll(async () => {
    const scenario = { ...defaultScenario, ordersPerDay: 80, returnAfterDays: [0, 3] as [number, number], orderVisibleLateRate: 0, autoAcceptRate: 0.5 };
    clock = createFakeClock(scenario.startMs);
    world = createMiraklWorld({ clock, rng: createRng(11), scenario, shopId: 2001 });
    world.advance();
    server = await startMiraklServer({ world, clock, rng: createRng(11), apiKey, startMs: scenario.startMs, faults: () => ({}), budgets: () => defaultMiraklBudgets });
    client = createMiraklClient({
      baseUrl: server.url,
      http: validating,
      clock,
      journal: memoryJournal(),
      budgets: createMemoryBudgetStore(),
      apiKey: async () => apiKey,
      shopId: 2001,
    });
  });
  afterAll(() => server.close());

  it('validates a full return lifecycle through every operation the engine uses', async () => {
    const waiting = world.returnsList().find((r) => r.state === 'WAITING_ACCEPTANCE');
    const open = world.returnsList().find((r) => r.state === 'IN_PROGRESS' && r.lines.length > 1) ?? world.returnsList().find((r) => r.state === 'IN_PROGRESS');
    expect(waiting && open).toBeTruthy();
    if (!waiting || !open) return;

    // Reads.
    const firstPage = await client.listReturns({ limit: 5 });
    expect(firstPage.data).toHaveLength(5);
    expect(firstPage.next_page_token).toBeDefined();
    await client.listReturns({ pageToken: firstPage.next_page_token ?? '' });
    const { orders } = await client.ordersById([open.orderId, waiting.orderId], 'TAX_INCLUDED');
    expect(orders.map((o) => o.order_id).sort()).toEqual([open.orderId, waiting.orderId].sort());
    expect((await client.reasons()).some((r) => r.type === 'REFUND')).toBe(true);
    const sku = orders[0]?.order_lines[0]?.offer_sku ?? '';
    const offer = await client.offerBySku(sku);
    expect(offer?.shop_sku).toBe(sku);

    // The lifecycle: accept, label back to Mirakl, receive, compliance, refund, close; and a cancel.
    expect((await client.accept([{ id: waiting.id, accepted: true }])).return_success).toHaveLength(1);
    await client.patch([{ id: open.id, rma: 'RMA-42', label_url: 'https://labels.example/42.pdf', tracking: { carrier_code: 'RM', carrier_name: 'Royal Mail', tracking_number: 'ZZ123456789GB' } }]);
    expect((await client.receive([open.id])).return_success).toEqual([{ id: open.id }]);
    await client.compliance([{ id: open.id, return_lines: open.lines.map((l, i) => ({ order_line_id: l.orderLineId, compliant: i === 0, ...(i === 0 ? {} : { non_compliance_reason_code: 'RETURN_NON_COMPLIANT_DAMAGED_PRODUCT' }) })) }]);
    const line = orders.find((o) => o.order_id === open.orderId)?.order_lines[0];
    const refund = await client.refund([
      {
        order_line_id: line?.order_line_id ?? '',
        amount: line?.price_unit ?? 0,
        shipping_amount: 0,
        reason_code: '11',
        quantity: 1,
        currency_iso_code: orders.find((o) => o.order_id === open.orderId)?.currency_iso_code ?? 'GBP',
        taxes: [{ code: 'VAT', amount: Math.round(((line?.price_unit ?? 0) / 6) * 100) / 100 }],
        shipping_taxes: [],
      },
    ], 'TAX_INCLUDED');
    expect(refund.refunds).toHaveLength(1);
    clock.advance(61_000);
    const withRefund = await client.ordersById([open.orderId], 'TAX_INCLUDED');
    expect(withRefund.orders[0]?.order_lines[0]?.refunds).toHaveLength(1);
    expect((await client.close([open.id])).return_success).toHaveLength(1);
    await client.accept([{ id: 'does-not-exist', accepted: false, rejection_reason_code: 'RETURN_REJECTION_NOT_ELIGIBLE' }]);

    // Stock: import with one bad line, status, error report.
    const importId = await client.importStock([
      { sku, quantity: 9 },
      { sku: 'NOT-A-SKU', quantity: 1 },
    ]);
    clock.advance(2 * 60_000);
    const status = await client.importStatus(importId);
    expect(status).toMatchObject({ status: 'COMPLETE', has_error_report: true, lines_in_error: 1 });
    clock.advance(60_000);
    expect(await client.importErrors(importId)).toEqual([{ line: 3, reason: 'The offer with sku "NOT-A-SKU" does not exist', sku: 'NOT-A-SKU' }]);

    expect(issues.map(formatIssue)).toEqual([]);
  });

  it('also conforms for the operations the engine does not call (A01, V01, RT29)', async () => {
    const res = await validating({ method: 'GET', url: `${server.url}/api/account`, headers: { authorization: apiKey } });
    expect(res.status).toBe(200);
    await validating({ method: 'GET', url: `${server.url}/api/version`, headers: {} });
    const cancellable = world.returnsList().find((r) => r.state === 'IN_PROGRESS' || r.state === 'WAITING_ACCEPTANCE');
    await validating({
      method: 'PUT',
      url: `${server.url}/api/returns/cancel`,
      headers: { authorization: apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ returns: [{ id: cancellable?.id }] }),
    });
    expect(issues.map(formatIssue)).toEqual([]);
  });

  it('covered every operation the sandbox serves', () => {
    expect([...seen].sort()).toEqual(Object.keys(MIRAKL_OPERATIONS).sort());
  });

  it('fails on a deviation (the check itself can fail)', () => {
    const bad = validator.validateResponse('RT11', 200, 'application/json', { data: [{ id: 'x', state: 'IN_PROGRESS', invented_field: 1 }] });
    expect(bad.length).toBeGreaterThan(0);
  });
});

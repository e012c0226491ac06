import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '../../core/adapters/fake-clock';
import { createMiraklClient, type MiraklClient } from '../../core/mirakl/client';
import { createMemoryBudgetStore } from '../../core/net/budget-guard';
import { fetchHttp, type HttpPort } from '../../core/net/http';
import { memoryJournal } from '../../core/net/journal';
import type { FaultProfiles } from '../../core/sandbox/http/faults';
import type { SimServer } from '../../core/sandbox/http/sim-server';
import { miraklDeviations } from '../../core/sandbox/mirakl/deviations';
import { MIRAKL_OPERATIONS, type MiraklOperationId } from '../../core/sandbox/mirakl/openapi/operations';
import { createMiraklSpecValidator, formatIssue, type ValidationIssue, type ValidationOptions } from '../../core/sandbox/mirakl/openapi/validator';
import { defaultMiraklBudgets, startMiraklServer } from '../../core/sandbox/mirakl/server';
import { createRng } from '../../core/sandbox/rng';
import { defaultScenario, type Scenario, type TaxMode } from '../../core/sandbox/scenario';
import { createMiraklWorld, type MiraklWorld } from '../../core/sandbox/world/mirakl-world';

// Every answer the sandbox gives, and every request our Mirakl client sends, is validated against the OpenAPI file
// derived from Mirakl's own (core/sandbox/mirakl/openapi): undeclared fields, wrong types, missing required fields
// or undocumented enum values fail here. Without faults the sandbox must follow the schemas exactly; with the
// `shapes` fault on every call it may leave them only in the ways core/sandbox/mirakl/deviations.ts lists (each one
// something Mirakl's own examples do), and in no other.

const validator = createMiraklSpecValidator();
const apiKey = 'conformance-key';
const shopId = 2001;
const minute = 60_000;

function operationFor(method: string, path: string): MiraklOperationId {
  for (const [id, op] of Object.entries(MIRAKL_OPERATIONS)) {
    const pattern = new RegExp(`^${op.path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (op.method === method.toLowerCase() && pattern.test(path)) return id as MiraklOperationId;
  }
  throw new Error(`no Mirakl operation for ${method} ${path}`);
}

const scenario = (overrides: Partial<Scenario> = {}): Scenario => ({
  ...defaultScenario,
  ordersPerDay: 80,
  returnAfterDays: [0, 3],
  orderVisibleLateRate: 0,
  autoAcceptRate: 0.5,
  ...overrides,
});

interface Harness {
  clock: FakeClock;
  world: MiraklWorld;
  server: SimServer;
  issues: ValidationIssue[];
  seen: Set<MiraklOperationId>;
  /** Calls the sandbox directly and validates the query, the body and the answer. */
  call(method: string, pathAndQuery: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

async function startHarness(options: { scenario?: Partial<Scenario>; faults?: FaultProfiles; answers?: ValidationOptions; seed?: number }): Promise<Harness> {
  const s = scenario(options.scenario);
  const clock = createFakeClock(s.startMs);
  const world = createMiraklWorld({ clock, rng: createRng(options.seed ?? 11), scenario: s, shopId });
  world.advance();
  const server = await startMiraklServer({ world, clock, rng: createRng(options.seed ?? 11).fork('faults'), apiKey, startMs: s.startMs, faults: () => options.faults ?? {}, budgets: () => ({}) });
  const issues: ValidationIssue[] = [];
  const seen = new Set<MiraklOperationId>();
  return {
    clock,
    world,
    server,
    issues,
    seen,
    async call(method, pathAndQuery, body) {
      const url = new URL(server.url + pathAndQuery);
      const operation = operationFor(method, url.pathname);
      seen.add(operation);
      issues.push(...validator.validateQuery(operation, url.searchParams));
      const isForm = body instanceof FormData;
      if (body !== undefined) issues.push(...validator.validateRequestBody(operation, isForm ? 'multipart/form-data' : 'application/json', body));
      const res = await fetch(url, {
        method,
        headers: { authorization: apiKey, ...(body !== undefined && !isForm ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: isForm ? body : JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      const contentType = res.headers.get('content-type') ?? undefined;
      issues.push(...validator.validateResponse(operation, res.status, contentType, text === '' ? undefined : text, options.answers));
      return { status: res.status, body: text !== '' && contentType?.includes('json') ? (JSON.parse(text) as unknown) : text };
    },
    close: () => server.close(),
  };
}

/** The returns the lifecycle acts on. */
function picks(world: MiraklWorld) {
  const waiting = world.returnsList().find((r) => r.state === 'WAITING_ACCEPTANCE');
  const open = world.returnsList().find((r) => r.state === 'IN_PROGRESS' && r.lines.length > 1) ?? world.returnsList().find((r) => r.state === 'IN_PROGRESS');
  const cancellable = world.returnsList().find((r) => r.state === 'IN_PROGRESS' && r.id !== open?.id);
  return { waiting, open, cancellable };
}

/** One pass through every operation the sandbox serves, reading ids from the world so that reshaped answers do not matter. */
async function lifecycle(h: Harness, taxMode: TaxMode): Promise<void> {
  const { world, clock, call } = h;
  const q = `shop_id=${shopId}`;
  const { waiting, open, cancellable } = picks(world);
  expect(waiting && open && cancellable).toBeTruthy();
  if (!waiting || !open || !cancellable) return;

  // Reads.
  expect((await call('GET', '/api/version')).status).toBe(200);
  expect((await call('GET', `/api/account?${q}`)).status).toBe(200);
  expect((await call('GET', `/api/reasons?${q}`)).status).toBe(200);
  const first = (await call('GET', `/api/returns?${q}&limit=5&sort=date_created,ASC`)).body as { next_page_token?: string };
  expect(first.next_page_token).toBeTruthy();
  await call('GET', `/api/returns?page_token=${encodeURIComponent(first.next_page_token ?? '')}`);
  await call('GET', `/api/returns?${q}&limit=100&return_last_updated_from=${encodeURIComponent(new Date(clock.now() - 86_400_000).toISOString())}`);
  const orderIds = [open.orderId, waiting.orderId].join(',');
  await call('GET', `/api/orders?${q}&order_ids=${orderIds}&order_tax_mode=${taxMode}&max=100&offset=0`);
  await call('GET', `/api/orders?${q}&order_ids=${orderIds}`);
  const line = world.findLine(open.lines[0]?.orderLineId ?? '');
  expect(line).toBeDefined();
  if (!line) return;
  await call('GET', `/api/offers?${q}&sku=${encodeURIComponent(line.line.shopSku)}&max=10`);

  // The lifecycle: accept, label back to Mirakl, receive, compliance, refund, close; a cancel; a refusal by id.
  await call('PUT', `/api/returns/accept?${q}`, { returns: [{ id: waiting.id, accepted: true }] });
  await call('PUT', `/api/returns?${q}`, {
    returns: [{ id: open.id, rma: 'RMA-42', label_url: 'https://labels.example/42.pdf', tracking: { carrier_code: 'RM', carrier_name: 'Royal Mail', tracking_number: 'ZZ123456789GB' } }],
  });
  await call('PUT', `/api/returns/receive?${q}`, { returns: [{ id: open.id }] });
  await call('PUT', `/api/returns/compliance?${q}`, {
    returns: [
      {
        id: open.id,
        return_lines: open.lines.map((l, i) => ({ order_line_id: l.orderLineId, compliant: i === 0, ...(i === 0 ? {} : { non_compliance_reason_code: 'RETURN_NON_COMPLIANT_DAMAGED_PRODUCT' }) })),
      },
    ],
  });
  const [tax] = world.lineTaxes({ ...line.line, priceMinor: line.line.priceUnitMinor }).taxes;
  const taxMinor = tax?.amountMinor ?? 0;
  const refunded = await call('PUT', `/api/orders/refund?${q}`, {
    order_tax_mode: taxMode,
    refunds: [
      {
        order_line_id: line.line.orderLineId,
        amount: (taxMode === 'TAX_EXCLUDED' ? line.line.priceUnitMinor - taxMinor : line.line.priceUnitMinor) / 100,
        shipping_amount: 0,
        reason_code: '11',
        quantity: 1,
        currency_iso_code: line.order.currency,
        taxes: [{ code: tax?.code ?? 'VAT', amount: taxMinor / 100 }],
        shipping_taxes: [],
      },
    ],
  });
  expect(refunded.status).toBe(200);
  clock.advance(61_000);
  await call('GET', `/api/orders?${q}&order_ids=${open.orderId}&order_tax_mode=${taxMode}`);
  await call('PUT', `/api/returns/close?${q}`, { returns: [{ id: open.id }] });
  await call('PUT', `/api/returns/cancel?${q}`, { returns: [{ id: cancellable.id }] });
  await call('PUT', `/api/returns/accept?${q}`, { returns: [{ id: 'does-not-exist', accepted: false, rejection_reason_code: 'RETURN_REJECTION_NOT_ELIGIBLE' }] });

  // Offers in bulk: a full export, its status until it completes, one of its files; then a differential export.
  // The file ("OF54" in Mirakl's docs) is not in the spec: it is fetched, never validated.
  const exportBody = { export_type: 'application/json', include_fields: ['offer_id', 'shop_sku', 'quantity', 'active', 'deleted'] };
  const full = (await call('POST', `/api/offers/export/async?${q}`, { ...exportBody, include_inactive_offers: true })).body as { tracking_id: string };
  await call('GET', `/api/offers/export/async/status/${full.tracking_id}?${q}`);
  clock.advance(minute);
  await call('GET', `/api/offers/export/async/status/${full.tracking_id}?${q}`);
  expect(world.getExport(full.tracking_id)?.status).toBe('COMPLETED');
  const file = await fetch(`${h.server.url}/api/offers/export/async/file/${full.tracking_id}?file=${encodeURIComponent('of52-export/offers/0.json')}`, { headers: { authorization: apiKey } });
  expect((JSON.parse(await file.text()) as unknown[]).length).toBe(world.offers().length);
  await call('POST', `/api/offers/export/async?${q}`, { ...exportBody, last_request_date: new Date(clock.now() - minute).toISOString() });

  // Stock: an import with one bad line, its status, its error report.
  const form = new FormData();
  form.append('file', new Blob([`"offer-sku";"quantity";"warehouse-code";"update-delete"\n"${line.line.shopSku}";"9";"";""\n"NOT-A-SKU";"1";"";""\n`]), 'stock.csv');
  const created = (await call('POST', `/api/offers/stock/imports?${q}`, form)).body as { import_id: string };
  await call('GET', `/api/offers/stock/imports/${created.import_id}/status?${q}`);
  clock.advance(2 * minute);
  await call('GET', `/api/offers/stock/imports/${created.import_id}/status?${q}`);
  const report = await call('GET', `/api/offers/stock/imports/${created.import_id}/error_report?${q}`);
  expect(report.status).toBe(200);
}

describe('Mirakl sandbox answers conform to the seller OpenAPI', () => {
  for (const taxMode of ['TAX_INCLUDED', 'TAX_EXCLUDED'] as const) {
    it(`follows the schemas exactly without faults, for a ${taxMode} shop, through every operation`, async () => {
      const h = await startHarness({ scenario: { taxMode, taxCodes: taxMode === 'TAX_EXCLUDED' ? ['tax1', 'tax2'] : ['VAT'] } });
      try {
        await lifecycle(h, taxMode);
        expect(h.issues.map(formatIssue)).toEqual([]);
        expect([...h.seen].sort()).toEqual(Object.keys(MIRAKL_OPERATIONS).sort());
      } finally {
        await h.close();
      }
    });
  }

  it('with the shapes fault on every call, leaves the schemas only in the ways deviations.ts lists', async () => {
    const faults: FaultProfiles = { '*': { shapesRate: 1, unknownEnumRate: 0.5, extraFieldsRate: 0.5 } };
    for (const seed of [11, 12, 13]) {
      const accepted = await startHarness({ seed, faults, answers: { deviations: miraklDeviations } });
      const strict = await startHarness({ seed, faults });
      try {
        // Refunds in the world first, so OR11 has refunds to reshape.
        const used = new Set(Object.values(picks(accepted.world)).map((r) => r?.id));
        const refunded = accepted.world.returnsList().filter((r) => !used.has(r.id)).slice(0, 20);
        for (const ret of refunded) {
          const lineId = ret.lines[0]?.orderLineId ?? '';
          accepted.world.refund([{ order_line_id: lineId, amount: 1, shipping_amount: 0, reason_code: '11' }]);
          strict.world.refund([{ order_line_id: lineId, amount: 1, shipping_amount: 0, reason_code: '11' }]);
        }
        const withRefunds = `/api/orders?order_ids=${refunded.map((r) => r.orderId).join(',')}&max=100`;
        await accepted.call('GET', withRefunds);
        await strict.call('GET', withRefunds);
        await lifecycle(accepted, 'TAX_EXCLUDED');
        await lifecycle(strict, 'TAX_EXCLUDED');
        expect(accepted.issues.map(formatIssue)).toEqual([]);
        // The same answers, read strictly: the shapes really do leave the schemas.
        expect(new Set(strict.issues.map((i) => i.keyword))).toEqual(new Set(['type', 'required', 'unknownProperty', 'undocumentedEnum']));
        const variants = new Set(Object.values(accepted.server.counters).flatMap((c) => Object.keys(c.shapes)));
        expect([...variants].sort()).toEqual(['deprecatedOnly', 'nullOptional', 'numericStrings', 'olderPlacement', 'omitOptional', 'unknownValues']);
      } finally {
        await accepted.close();
        await strict.close();
      }
    }
  });

  it('still rejects any deviation the list does not name', () => {
    const options = { deviations: miraklDeviations };
    const ret = {
      id: 'f61b5db8-d8f5-4715-b05f-aa4432c0e9e2',
      state: 'IN_PROGRESS',
      date_created: '2025-01-01T09:00:00Z',
      last_updated: '2025-01-02T10:00:00Z',
      order_id: 'A1-A',
      order_commercial_id: 'A1',
      method_code: 'RETURN_METHOD_BY_MAIL',
      return_address: { street1: '1 Road', city: 'Leeds', zip_code: 'LS1', country_iso_code: 'GBR' },
      return_lines: [{ order_line_id: 'A1-A-1', quantity: 1, reason_code: 'RETURN_PDNT_TOO_SMALL' }],
    };
    const rt11 = (r: Record<string, unknown>) => validator.validateResponse('RT11', 200, 'application/json', { data: [r] }, options).map((i) => [i.at, i.keyword]);
    // Listed: accepted.
    expect(rt11({ ...ret, label_url: null, tracking: { carrierCode: 'UPS' }, method_code: 'RETURN_METHOD_DROP_OFF', return_lines: [{ order_line_id: 'A1-A-1', quantity: '1' }] })).toEqual([]);
    // Not listed: each still reported.
    expect(rt11({ ...ret, invented_field: 1 })).toEqual([['/data/0/invented_field', 'unknownProperty']]);
    expect(rt11({ ...ret, id: null })).toEqual([['/data/0/id', 'type']]);
    expect(rt11({ ...ret, order_id: undefined })).toEqual([['/data/0/order_id', 'required']]);
    expect(rt11({ ...ret, state: 'LOST' })).toEqual([['/data/0/state', 'undocumentedEnum']]);
    expect(rt11({ ...ret, method_code: 'RETURN_METHOD_DROPOFF' })).toEqual([['/data/0/method_code', 'undocumentedEnum']]);
    expect(rt11({ ...ret, return_lines: [{ order_line_id: 'A1-A-1', quantity: 'two', reason_code: 'RETURN_OTHER' }] })).toEqual([['/data/0/return_lines/0/quantity', 'type']]);
    expect(rt11({ ...ret, return_lines: [{ order_line_id: 'A1-A-1', reason_code: 'RETURN_OTHER' }] })).toEqual([['/data/0/return_lines/0/quantity', 'required']]);
    // A deviation listed for one operation is not accepted on another.
    const reasons = (body: unknown) => validator.validateResponse('RE01', 200, 'application/json', body, options).map((i) => [i.at, i.keyword]);
    expect(reasons({ reasons: [] })).toEqual([]);
    expect(validator.validateResponse('OF21', 200, 'application/json', { offers: [] }, options).map((i) => [i.at, i.keyword])).toEqual([['/total_count', 'required']]);
    expect(reasons({ reasons: [{ code: '11', label: 'x', type: 'REFUND', is_shop_right: true, quantity: '2' }] })).toEqual([['/reasons/0/quantity', 'unknownProperty']]);
  });
});

describe('Mirakl client requests conform to the seller OpenAPI', () => {
  let clock: FakeClock;
  let world: MiraklWorld;
  let server: SimServer;
  let client: MiraklClient;
  const issues: ValidationIssue[] = [];

  // Only the client's requests are its own: the answers come from the sandbox and are checked above.
  const validating: HttpPort = async (request) => {
    const url = new URL(request.url);
    // An export file ("OF54" in Mirakl's docs) is not in the spec: there is nothing to validate it against.
    if (url.pathname.startsWith('/api/offers/export/async/file/')) return fetchHttp(request);
    const operation = operationFor(request.method, url.pathname);
    issues.push(...validator.validateQuery(operation, url.searchParams));
    if (request.body !== undefined) {
      issues.push(...validator.validateRequestBody(operation, request.headers?.['content-type'] ?? (typeof request.body === 'string' ? 'application/json' : 'multipart/form-data'), request.body));
    }
    return fetchHttp(request);
  };

  beforeAll(async () => {
    const s = scenario();
    clock = createFakeClock(s.startMs);
    world = createMiraklWorld({ clock, rng: createRng(11), scenario: s, shopId });
    world.advance();
    server = await startMiraklServer({ world, clock, rng: createRng(11), apiKey, startMs: s.startMs, faults: () => ({}), budgets: () => defaultMiraklBudgets });
    client = createMiraklClient({ baseUrl: server.url, http: validating, clock, journal: memoryJournal(), budgets: createMemoryBudgetStore(), apiKey: async () => apiKey, shopId });
  });
  afterAll(() => server.close());

  it('sends only what the spec declares, through every call the engine makes', async () => {
    const waiting = world.returnsList().find((r) => r.state === 'WAITING_ACCEPTANCE');
    const open = world.returnsList().find((r) => r.state === 'IN_PROGRESS');
    expect(waiting && open).toBeTruthy();
    if (!waiting || !open) return;
    const firstPage = await client.listReturns({ limit: 5 });
    await client.listReturns({ pageToken: firstPage.next_page_token ?? '' });
    await client.ordersById([open.orderId, waiting.orderId], 'TAX_INCLUDED');
    await client.reasons();
    const line = world.findLine(open.lines[0]?.orderLineId ?? '');
    await client.offerBySku(line?.line.shopSku ?? '');
    await client.accept([{ id: waiting.id, accepted: true }]);
    await client.patch([{ id: open.id, rma: 'RMA-42', label_url: 'https://labels.example/42.pdf', tracking: { carrier_code: 'RM', carrier_name: 'Royal Mail', tracking_number: 'ZZ123456789GB' } }]);
    await client.receive([open.id]);
    await client.compliance([{ id: open.id, return_lines: open.lines.map((l) => ({ order_line_id: l.orderLineId, compliant: true })) }]);
    const unit = line?.line.priceUnitMinor ?? 0;
    await client.refund(
      [
        {
          order_line_id: line?.line.orderLineId ?? '',
          amount: unit / 100,
          shipping_amount: 0,
          reason_code: '11',
          quantity: 1,
          currency_iso_code: line?.order.currency ?? 'GBP',
          taxes: [{ code: 'VAT', amount: Math.round(unit / 6) / 100 }],
          shipping_taxes: [],
        },
      ],
      'TAX_INCLUDED',
    );
    await client.close([open.id]);
    const importId = await client.importStock([{ sku: line?.line.shopSku ?? '', quantity: 9 }]);
    clock.advance(2 * minute);
    await client.importStatus(importId);
    await client.ordersCreatedSince(new Date(clock.now() - 60 * minute).toISOString());
    const full = await client.requestOfferExport({});
    clock.advance(minute);
    const status = await client.offerExportStatus(full.trackingId);
    expect((await Promise.all(status.urls.map((u) => client.offerExportFile(u)))).flatMap((f) => f.offers)).toHaveLength(world.offers().length);
    await client.requestOfferExport({ since: new Date(clock.now() - minute).toISOString() });
    expect(issues.map(formatIssue)).toEqual([]);
  });
});

import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { Clock } from '../../ports';
import type { Budgets } from '../http/budgets';
import type { FaultProfiles } from '../http/faults';
import { BadRequest, type Route, type SimRequest, type SimResponse } from '../http/router';
import { startSimServer, type SimServer } from '../http/sim-server';
import type { Rng } from '../rng';
import type { TaxMode } from '../scenario';
import {
  MiraklRejection,
  MiraklTooSoon,
  unreadableHows,
  type MiraklReturn,
  type MiraklWorld,
  type OfferExport,
  type OfferExportRequest,
  type PushOperation,
  type RefundItem,
  type UnreadableHow,
} from '../world/mirakl-world';
import { miraklShapeHooks, unannouncedValue } from './shape-faults';
import { accountJson, importStatusJson, offerJson, orderJson, refundResultJson, returnJson, rt11ReturnJson } from './shapes';

const isPush = (operation: string): operation is PushOperation => operation === 'RT04' || operation === 'RT26' || operation === 'RT27';

// The Mirakl seller API subset the engine uses, served from the shared world. Paths, parameters, field names and
// status codes follow the seller OpenAPI file and specs NOTES §1–§8; conformance tests validate every answer. Under
// the `shapes` fault (shape-faults.ts) answers leave the schemas only as Mirakl's own examples do (deviations.ts).

const minute = 60_000;

/** Maximum call frequencies from specs NOTES §3 ("treat the Maximum as a hard budget"). */
export const defaultMiraklBudgets: Budgets = {
  RT11: { kind: 'interval', minIntervalMs: 5 * minute },
  OR11: { kind: 'interval', minIntervalMs: 1 * minute },
  STO01: { kind: 'interval', minIntervalMs: 1 * minute },
  STO02: { kind: 'interval', minIntervalMs: 15_000 },
  STO03: { kind: 'interval', minIntervalMs: 1 * minute },
  // OF52 differential at most once a minute (a full export at most once a day: see world.requestExport); OF53 every 10 s.
  OF52: { kind: 'interval', minIntervalMs: 1 * minute },
  OF53: { kind: 'interval', minIntervalMs: 10_000 },
  RE01: { kind: 'interval', minIntervalMs: 24 * 60 * minute },
  A01: { kind: 'interval', minIntervalMs: 24 * 60 * minute },
};

/** Mirakl's error body as its Java SDK parses it (specs NOTES §3): `{status, message}`. */
export const miraklError = (status: number, message: string) => ({ status, message });

export interface MiraklServerOptions {
  world: MiraklWorld;
  clock: Clock;
  rng: Rng;
  apiKey: string;
  startMs: number;
  faults: () => FaultProfiles;
  budgets: () => Budgets;
  /** Extra routes served beside the API (the /_sim/ ground-truth endpoints). */
  extraRoutes?: Route<MiraklWorld>[];
  port?: number;
}

export function startMiraklServer(options: MiraklServerOptions): Promise<SimServer> {
  const { world } = options;
  return startSimServer<MiraklWorld>({
    routes: [...miraklRoutes(options), ...(options.extraRoutes ?? [])],
    ctx: world,
    clock: options.clock,
    rng: options.rng,
    faults: options.faults,
    budgets: options.budgets,
    errorBody: miraklError,
    beforeEach: () => world.advance(),
    authenticate: (req) => {
      // The raw shop API key, with no "Bearer" prefix (specs NOTES §1).
      if (req.headers.authorization !== options.apiKey) return { status: 401, body: miraklError(401, 'Unauthorized') };
      const shopId = req.query.get('shop_id');
      if (shopId !== null && shopId !== String(world.shopId)) {
        return { status: 403, body: miraklError(403, `You are not allowed to act on shop ${shopId}`) };
      }
      return null;
    },
  });
}

function miraklRoutes(options: MiraklServerOptions): Route<MiraklWorld>[] {
  const ok = (body: unknown, status = 200): SimResponse => ({ status, body });

  const routes: Route<MiraklWorld>[] = [
    { operation: 'V01', method: 'GET', pattern: '/api/version', isPublic: true, handler: () => ({ status: 200 }) },
    { operation: 'A01', method: 'GET', pattern: '/api/account', handler: (_r, w) => ok(accountJson(w.shopId, options.startMs)) },
    {
      operation: 'RE01',
      method: 'GET',
      pattern: '/api/reasons',
      handler: (_r, w) => {
        const reasons = w.reasons().map((r) => ({ code: r.code, label: r.label, type: r.type, is_shop_right: r.isShopRight }));
        return ok({ reasons, total_count: reasons.length });
      },
    },
    {
      operation: 'RT11',
      method: 'GET',
      pattern: '/api/returns',
      isContinuation: (req) => req.query.has('page_token'),
      withUnknownEnum: (body) => {
        const first = (body as { data: { state: string }[] }).data[0];
        if (first) first.state = unannouncedValue;
      },
      handler: (req, w) => listReturns(req, w),
    },
    batchRoute('RT04', 'PUT', '/api/returns', (items, w) => {
      const result = w.patchReturns(items as Parameters<MiraklWorld['patchReturns']>[0]);
      return { success: result.success.map(returnJson), errors: result.errors };
    }),
    batchRoute('RT21', 'PUT', '/api/returns/accept', (items, w) => w.acceptReturns(items as Parameters<MiraklWorld['acceptReturns']>[0])),
    batchRoute('RT25', 'PUT', '/api/returns/receive', (items, w) => w.receiveReturns(ids(items))),
    batchRoute('RT26', 'PUT', '/api/returns/compliance', (items, w) => {
      for (const item of items) {
        if (!Array.isArray((item as { return_lines?: unknown }).return_lines)) throw new BadRequest(`returns[].return_lines is required`);
      }
      return w.complianceReturns(items as Parameters<MiraklWorld['complianceReturns']>[0]);
    }),
    batchRoute('RT27', 'PUT', '/api/returns/close', (items, w) => w.closeReturns(ids(items))),
    batchRoute('RT29', 'PUT', '/api/returns/cancel', (items, w) => w.cancelReturns(ids(items))),
    {
      operation: 'OR11',
      method: 'GET',
      pattern: '/api/orders',
      isContinuation: (req) => Number(req.query.get('offset') ?? '0') > 0,
      withUnknownEnum: (body) => {
        const orders = (body as { orders: { order_state: string; order_lines: { refunds: { refund_state: string }[] }[] }[] }).orders;
        const refund = orders.flatMap((o) => o.order_lines.flatMap((l) => l.refunds))[0];
        if (refund) refund.refund_state = unannouncedValue;
        else if (orders[0]) orders[0].order_state = unannouncedValue;
      },
      handler: (req, w) => listOrders(req, w),
    },
    {
      operation: 'OR28',
      method: 'PUT',
      pattern: '/api/orders/refund',
      handler: (req, w) => {
        const body = req.json() as { refunds?: unknown; order_tax_mode?: unknown };
        if (!Array.isArray(body.refunds)) throw new BadRequest('refunds is required');
        // Without order_tax_mode the shop's default applies (the spec: "the default order tax mode of the platform").
        const mode = taxMode(body.order_tax_mode ?? null, w, 'order_tax_mode');
        body.refunds.forEach((r: unknown, i: number) => {
          const item = r as Record<string, unknown>;
          for (const field of ['order_line_id', 'reason_code']) {
            if (typeof item[field] !== 'string') throw new BadRequest(`refunds[${i}].${field} is required`);
          }
          for (const field of ['amount', 'shipping_amount']) {
            if (typeof item[field] !== 'number') throw new BadRequest(`refunds[${i}].${field} is required and must be a number`);
          }
          for (const field of ['taxes', 'shipping_taxes']) {
            const taxes = item[field];
            if (taxes === undefined) continue;
            // Tax amounts may be decimal strings: the spec's own OR28 example sends "1".
            const isTax = (t: unknown) =>
              typeof (t as { code?: unknown })?.code === 'string' && ['number', 'string'].includes(typeof (t as { amount?: unknown }).amount);
            if (!Array.isArray(taxes) || !taxes.every(isTax)) throw new BadRequest(`refunds[${i}].${field} must be a list of {code, amount}`);
          }
        });
        try {
          const created = w.refund(body.refunds as RefundItem[], mode);
          const currency = (lineId: string) => w.findLine(lineId)?.order.currency ?? 'GBP';
          return ok({ order_tax_mode: mode, refunds: created.map((r) => refundResultJson(r, mode, currency(r.orderLineId))) });
        } catch (error) {
          if (error instanceof MiraklRejection) throw new BadRequest(error.message);
          throw error;
        }
      },
    },
    {
      operation: 'OF21',
      method: 'GET',
      pattern: '/api/offers',
      isContinuation: (req) => Number(req.query.get('offset') ?? '0') > 0,
      handler: (req, w) => {
        const { max, offset } = offsetPaging(req);
        const sku = req.query.get('sku');
        const all = w.offers().filter((o) => sku === null || o.shopSku === sku);
        const page = all.slice(offset, offset + max);
        // A corrupt offer (a test hook) fails the whole page, as a server that cannot serialise one record does.
        if (page.some((o) => w.isOfferUnreadable(o.shopSku))) return { status: 500, body: miraklError(500, 'Internal error') };
        return ok({ offers: page.map((o) => offerJson(o, 'GBP')), total_count: all.length });
      },
    },
    {
      operation: 'OF52',
      method: 'POST',
      pattern: '/api/offers/export/async',
      handler: (req, w) => {
        const body = req.json();
        if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BadRequest('The request body must be a JSON object');
        const request = body as Record<string, unknown>;
        const strings = (name: string) => {
          const v = request[name];
          if (v !== undefined && (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))) throw new BadRequest(`${name} must be a list of strings`);
        };
        strings('include_fields');
        strings('channel_codes');
        for (const name of ['include_inactive_offers'] as const) {
          if (request[name] !== undefined && typeof request[name] !== 'boolean') throw new BadRequest(`${name} must be true or false`);
        }
        for (const name of ['items_per_chunk', 'megabytes_per_chunk'] as const) {
          if (request[name] !== undefined && typeof request[name] !== 'number') throw new BadRequest(`${name} must be a number`);
        }
        if (request.last_request_date !== undefined && typeof request.last_request_date !== 'string') throw new BadRequest('last_request_date must be a date-time');
        try {
          const exp = w.requestExport(request as OfferExportRequest);
          return ok({ tracking_id: exp.trackingId });
        } catch (error) {
          if (error instanceof MiraklRejection) throw new BadRequest(error.message);
          if (error instanceof MiraklTooSoon) {
            return { status: 429, headers: { 'retry-after': String(error.retryAfterSeconds) }, body: miraklError(429, error.message) };
          }
          throw error;
        }
      },
    },
    {
      operation: 'OF53',
      method: 'GET',
      pattern: '/api/offers/export/async/status/:tracking_id',
      withUnknownEnum: (body) => {
        (body as { status: string }).status = unannouncedValue;
      },
      handler: (req, w) => {
        const exp = w.getExport(req.params.tracking_id ?? '');
        if (!exp) return { status: 404, body: miraklError(404, `Export ${req.params.tracking_id} does not exist`) };
        return ok(exportStatusJson(exp, originOf(req)));
      },
    },
    {
      // "OF54" in Mirakl's documentation: the file an OF53 answer links to. It is not in the seller OpenAPI file, so
      // its shape here is the sandbox's reading of the docs (one JSON array, or one CSV, per chunk) and no
      // conformance test covers it. It needs the shop's API key like any other call.
      operation: 'OF54',
      method: 'GET',
      pattern: '/api/offers/export/async/file/:tracking_id',
      handler: (req, w) => {
        const exp = w.getExport(req.params.tracking_id ?? '');
        const index = /^of52-export\/offers\/(\d+)\.(json|csv)$/.exec(req.query.get('file') ?? '');
        const file = exp && exp.status === 'COMPLETED' && index ? exp.files[Number(index[1])] : undefined;
        if (!exp || file === undefined) return { status: 404, body: miraklError(404, `No such export file: ${req.query.get('file') ?? '(none)'}`) };
        return { status: 200, body: file, contentType: exp.format === 'application/json' ? 'application/json' : 'text/csv; charset=utf-8' };
      },
    },
    {
      operation: 'STO01',
      method: 'POST',
      pattern: '/api/offers/stock/imports',
      handler: async (req, w) => {
        if (!String(req.headers['content-type'] ?? '').startsWith('multipart/form-data')) {
          return { status: 415, body: miraklError(415, 'Send the stock file as multipart/form-data') };
        }
        const file = (await req.form()).get('file');
        if (!file || typeof file === 'string') throw new BadRequest('The multipart part "file" is required');
        let rows: string[][];
        try {
          rows = parse(await file.text(), { delimiter: ';', relax_column_count: true, skip_empty_lines: true, bom: true }) as string[][];
        } catch (error) {
          throw new BadRequest(`The stock file is not a valid CSV: ${(error as Error).message}`);
        }
        if (rows.length === 0) throw new BadRequest('The stock file is empty');
        const imp = w.importStock(rows);
        return { status: 201, body: { import_id: imp.importId }, headers: { location: `/api/offers/stock/imports/${imp.importId}/status` } };
      },
    },
    {
      operation: 'STO02',
      method: 'GET',
      pattern: '/api/offers/stock/imports/:import_id/status',
      withUnknownEnum: (body) => {
        (body as { status: string }).status = unannouncedValue;
      },
      handler: (req, w) => {
        const imp = w.getImport(req.params.import_id ?? '');
        if (!imp) return { status: 404, body: miraklError(404, `Import ${req.params.import_id} does not exist`) };
        return ok(importStatusJson(imp, w.shopId));
      },
    },
    {
      operation: 'STO03',
      method: 'GET',
      pattern: '/api/offers/stock/imports/:import_id/error_report',
      handler: (req, w) => {
        const imp = w.getImport(req.params.import_id ?? '');
        if (!imp) return { status: 404, body: miraklError(404, `Import ${req.params.import_id} does not exist`) };
        if (imp.errors.length === 0) return { status: 404, body: miraklError(404, `Import ${imp.importId} has no error report`) };
        const csv = stringify(
          [['line-number', 'error-message', ...imp.header], ...imp.errors.map((e) => [String(e.line), e.reason, ...e.row])],
          { delimiter: ';', quoted: true },
        );
        return { status: 200, body: csv, contentType: 'text/csv; charset=utf-8' };
      },
    },
    ...simRoutes(),
  ];
  return routes.map((route) => {
    const withShapes = miraklShapeHooks[route.operation];
    return withShapes && !route.isTestHook ? { ...route, withShapes } : route;
  });

  function batchRoute(
    operation: string,
    method: string,
    pattern: string,
    apply: (items: Record<string, unknown>[], w: MiraklWorld) => { success: unknown[]; errors: { id: string; message: string }[] },
  ): Route<MiraklWorld> {
    return {
      operation,
      method,
      pattern,
      handler: (req, w) => {
        const body = req.json() as { returns?: unknown };
        if (!Array.isArray(body.returns)) throw new BadRequest('returns is required');
        if (body.returns.length === 0) throw new BadRequest('returns must not be empty');
        if (body.returns.length > 100) throw new BadRequest(`At most 100 returns per call (got ${body.returns.length})`);
        body.returns.forEach((r: unknown, i: number) => {
          if (typeof (r as { id?: unknown })?.id !== 'string') throw new BadRequest(`returns[${i}].id is required`);
        });
        // A refusal armed by a test hook answers for its return; the other returns of the batch are applied.
        const items = body.returns as Record<string, unknown>[];
        const refused = isPush(operation) ? items.flatMap((r) => {
          const message = w.takePushRejection(operation, r.id as string);
          return message === null ? [] : [{ id: r.id as string, message }];
        }) : [];
        const rest = items.filter((r) => !refused.some((x) => x.id === r.id));
        const result = rest.length ? apply(rest, w) : { success: [], errors: [] };
        return ok({ return_success: result.success, return_errors: [...refused, ...result.errors] });
      },
    };
  }

  /**
   * Test hooks (no credentials, budget or faults) that break one return in RT11 answers and mend it again:
   *   POST /_sim/returns/:id/unreadable  body {"how": "quantityWord" | "missingOrderId"}: return_lines[0].quantity
   *        becomes "two", or order_id is left out, in every RT11 answer until mended;
   *   POST /_sim/returns/:id/readable    serves it whole again.
   * Both move the return's last_updated, so an incremental RT11 poll (return_last_updated_from) sees it again.
   * And for offers:
   *   POST /_sim/offers/:sku/sell        body {"quantity": n, "listedAfterMinutes": m}: a customer buys n units now
   *        (the stock goes down at once; OR11 lists the order m minutes later, default 0), 409 when fewer are in stock;
   *   POST /_sim/offers/:sku/unreadable  the offer is corrupt in Mirakl's store until /readable mends it.
   */
  function simRoutes(): Route<MiraklWorld>[] {
    const offerAnswer = (offer: { shopSku: string; quantity: number } | undefined, sku: string, extra: Record<string, unknown> = {}): SimResponse =>
      offer
        ? { status: 200, body: { offer_sku: offer.shopSku, quantity: offer.quantity, ...extra } }
        : { status: 404, body: miraklError(404, `The offer with sku "${sku}" does not exist`) };
    const answer = (ret: MiraklReturn | undefined, id: string): SimResponse =>
      ret
        ? { status: 200, body: { id: ret.id, unreadable: ret.unreadable ?? null, last_updated: new Date(ret.lastUpdated).toISOString() } }
        : { status: 404, body: miraklError(404, `Return ${id} does not exist`) };
    return [
      {
        operation: '_sim.unreadable',
        method: 'POST',
        pattern: '/_sim/returns/:id/unreadable',
        isTestHook: true,
        handler: (req, w) => {
          let how: unknown = 'quantityWord';
          try {
            if (req.body.length > 0) how = (req.json() as { how?: unknown }).how ?? how;
          } catch (error) {
            if (error instanceof BadRequest) return { status: 400, body: miraklError(400, error.message) };
            throw error;
          }
          if (!unreadableHows.includes(how as UnreadableHow)) {
            return { status: 400, body: miraklError(400, `how must be one of ${unreadableHows.join(', ')}`) };
          }
          const id = req.params.id ?? '';
          return answer(w.setUnreadable(id, how as UnreadableHow), id);
        },
      },
      {
        operation: '_sim.readable',
        method: 'POST',
        pattern: '/_sim/returns/:id/readable',
        isTestHook: true,
        handler: (req, w) => {
          const id = req.params.id ?? '';
          return answer(w.setUnreadable(id, null), id);
        },
      },
      {
        // A customer buys units of an offer now: body {"quantity": n} (default 1). OR11 lists the order at once, or
        // "listedAfterMinutes" later: the order listing may lag the sale's effect on the stock (see sellNow).
        operation: '_sim.sell',
        method: 'POST',
        pattern: '/_sim/offers/:sku/sell',
        isTestHook: true,
        handler: (req, w) => {
          const sku = req.params.sku ?? '';
          let quantity: unknown = 1;
          let listedAfterMinutes: unknown = 0;
          try {
            if (req.body.length > 0) {
              const body = req.json() as { quantity?: unknown; listedAfterMinutes?: unknown };
              quantity = body.quantity ?? quantity;
              listedAfterMinutes = body.listedAfterMinutes ?? listedAfterMinutes;
            }
          } catch (error) {
            if (error instanceof BadRequest) return { status: 400, body: miraklError(400, error.message) };
            throw error;
          }
          if (!w.offerBySku(sku)) return offerAnswer(undefined, sku);
          try {
            const order = w.sellNow(sku, quantity as number, listedAfterMinutes as number);
            return offerAnswer(w.offerBySku(sku), sku, { order_id: order.orderId, sold: quantity });
          } catch (error) {
            if (error instanceof MiraklRejection) return { status: 409, body: miraklError(409, error.message) };
            throw error;
          }
        },
      },
      {
        // A refund made in Mirakl's back office (an operator's goodwill refund), not through our OR28: nothing we wrote
        // explains it, so the matcher can only suggest the return line it belongs to. Body {"amount": 1.5} (default 1).
        operation: '_sim.backOfficeRefund',
        method: 'POST',
        pattern: '/_sim/order-lines/:id/refund',
        isTestHook: true,
        handler: (req, w) => {
          let amount: unknown = 1;
          try {
            if (req.body.length > 0) amount = (req.json() as { amount?: unknown }).amount ?? amount;
          } catch (error) {
            if (error instanceof BadRequest) return { status: 400, body: miraklError(400, error.message) };
            throw error;
          }
          if (typeof amount !== 'number' || !(amount > 0)) return { status: 400, body: miraklError(400, 'amount must be a positive number') };
          const reason = w.reasons().find((r) => r.type === 'REFUND' && r.isShopRight);
          if (!reason) return { status: 409, body: miraklError(409, 'no refund reason the shop may use') };
          try {
            const [refund] = w.refund([{ order_line_id: req.params.id ?? '', amount, shipping_amount: 0, reason_code: reason.code, quantity: 1 }]);
            return { status: 201, body: { refund_id: refund?.id ?? null, order_line_id: req.params.id } };
          } catch (error) {
            if (error instanceof MiraklRejection) return { status: 409, body: miraklError(409, error.message) };
            throw error;
          }
        },
      },
      {
        operation: '_sim.offerUnreadable',
        method: 'POST',
        pattern: '/_sim/offers/:sku/unreadable',
        isTestHook: true,
        handler: (req, w) => offerAnswer(w.setOfferUnreadable(req.params.sku ?? '', true), req.params.sku ?? '', { unreadable: true }),
      },
      {
        operation: '_sim.offerReadable',
        method: 'POST',
        pattern: '/_sim/offers/:sku/readable',
        isTestHook: true,
        handler: (req, w) => offerAnswer(w.setOfferUnreadable(req.params.sku ?? '', false), req.params.sku ?? '', { unreadable: false }),
      },
    ];
  }

  function listReturns(req: SimRequest, w: MiraklWorld): SimResponse {
    const token = req.query.get('page_token');
    const cursor: ReturnsCursor = token ? decodeCursor(token) : { filters: returnFilters(req), sort: returnSort(req), limit: limit(req) };
    const filtered = w.returnsList().filter((r) => matchesReturn(r, cursor.filters));
    const direction = cursor.sort === 'DESC' ? -1 : 1;
    const compare = (a: MiraklReturn, b: MiraklReturn) => direction * (a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    filtered.sort(compare);
    const key = (r: MiraklReturn): [number, string] => [r.createdAt, r.id];
    const isAfter = (r: MiraklReturn, k: [number, string]) => direction * (r.createdAt - k[0] || (r.id < k[1] ? -1 : r.id > k[1] ? 1 : 0)) > 0;
    let page: MiraklReturn[];
    let hasMoreAfter: boolean;
    if (cursor.before) {
      const before = cursor.before;
      const earlier = filtered.filter((r) => !isAfter(r, before) && !(r.createdAt === before[0] && r.id === before[1]));
      page = earlier.slice(-cursor.limit);
      hasMoreAfter = true;
    } else {
      const after = cursor.after;
      const rest = after ? filtered.filter((r) => isAfter(r, after)) : filtered;
      page = rest.slice(0, cursor.limit);
      hasMoreAfter = rest.length > cursor.limit;
    }
    const first = page[0];
    const last = page[page.length - 1];
    const hasPrevious = first !== undefined && filtered[0] !== first;
    const base = { filters: cursor.filters, sort: cursor.sort, limit: cursor.limit };
    return ok({
      data: page.map(rt11ReturnJson),
      ...(hasMoreAfter && last ? { next_page_token: encodeCursor({ ...base, after: key(last) }) } : {}),
      ...(hasPrevious && first ? { previous_page_token: encodeCursor({ ...base, before: key(first) }) } : {}),
    });
  }

  function listOrders(req: SimRequest, w: MiraklWorld): SimResponse {
    const { max, offset } = offsetPaging(req);
    const list = (name: string) => (req.query.get(name) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const orderIds = new Set(list('order_ids'));
    const states = new Set(list('order_state_codes'));
    // Mirakl subtracts a safety delta from start_update_date, so overlapping results are expected (NOTES §2).
    const safetyDeltaMs = 5 * minute;
    const updatedFrom = optionalDate(req, 'start_update_date');
    const updatedTo = optionalDate(req, 'end_update_date');
    const createdFrom = optionalDate(req, 'start_date');
    const createdTo = optionalDate(req, 'end_date');
    const descending = (req.query.get('order') ?? 'asc').toLowerCase() === 'desc';
    // order_ids is how the engine reads orders: look them up rather than scan the whole history.
    const source = orderIds.size > 0 ? [...orderIds].map((id) => w.visibleOrder(id)).filter((o) => o !== undefined) : w.ordersList();
    const matching = source
      .filter((o) => states.size === 0 || states.has(w.orderState(o)))
      .filter((o) => updatedFrom === null || w.orderLastUpdated(o) >= updatedFrom - safetyDeltaMs)
      .filter((o) => updatedTo === null || w.orderLastUpdated(o) <= updatedTo)
      .filter((o) => createdFrom === null || o.createdAt >= createdFrom)
      .filter((o) => createdTo === null || o.createdAt <= createdTo)
      .sort((a, b) => (descending ? -1 : 1) * (a.createdAt - b.createdAt || (a.orderId < b.orderId ? -1 : 1)));
    const mode = taxMode(req.query.get('order_tax_mode'), w, 'order_tax_mode');
    return ok({ orders: matching.slice(offset, offset + max).map((o) => orderJson(w, o, mode)), total_count: matching.length });
  }

  function optionalDate(req: SimRequest, name: string): number | null {
    const value = req.query.get(name);
    if (value === null) return null;
    const ms = Date.parse(value);
    if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) throw new BadRequest(`${name} must be an ISO 8601 date-time, got "${value}"`);
    return ms;
  }

  function returnFilters(req: SimRequest): ReturnFilters {
    const all = (name: string) => req.query.getAll(name);
    return {
      ids: all('return_id'),
      states: all('return_state'),
      commercialIds: all('order_commercial_id'),
      lineIds: all('order_line_id'),
      rmas: all('return_rma'),
      customerIds: all('customer_id'),
      createdFrom: optionalDate(req, 'return_creation_date_from'),
      createdTo: optionalDate(req, 'return_creation_date_to'),
      updatedFrom: optionalDate(req, 'return_last_updated_from'),
      updatedTo: optionalDate(req, 'return_last_updated_to'),
    };
  }

  function returnSort(req: SimRequest): 'ASC' | 'DESC' {
    const sort = req.query.get('sort');
    if (sort === null) return 'ASC';
    const match = /^date_created,(ASC|DESC)$/i.exec(sort);
    if (!match) throw new BadRequest(`sort must be "date_created,ASC" or "date_created,DESC", got "${sort}"`);
    return (match[1] ?? 'ASC').toUpperCase() as 'ASC' | 'DESC';
  }

}

/** Where this server is reached, as the client called it: export file links point back here. */
function originOf(req: SimRequest): string {
  return `http://${String(req.headers.host ?? '127.0.0.1')}`;
}

/** OF53: the urls only once COMPLETED, the error only once FAILED. */
function exportStatusJson(exp: OfferExport, origin: string) {
  const iso = (ms: number) => new Date(ms).toISOString();
  const extension = exp.format === 'application/json' ? 'json' : 'csv';
  return {
    status: exp.status,
    last_updated: iso(exp.lastUpdated),
    ...(exp.status === 'COMPLETED'
      ? { urls: exp.files.map((_, i) => `${origin}/api/offers/export/async/file/${exp.trackingId}?file=${encodeURIComponent(`of52-export/offers/${i}.${extension}`)}`) }
      : {}),
    ...(exp.status === 'FAILED' ? { error: { code: '1', detail: 'Internal error' } } : {}),
  };
}

function taxMode(value: unknown, w: MiraklWorld, name: string): TaxMode {
  if (value === null) return w.taxMode;
  if (value === 'TAX_INCLUDED' || value === 'TAX_EXCLUDED') return value;
  throw new BadRequest(`${name} must be TAX_INCLUDED or TAX_EXCLUDED, got ${JSON.stringify(value)}`);
}

interface ReturnFilters {
  ids: string[];
  states: string[];
  commercialIds: string[];
  lineIds: string[];
  rmas: string[];
  customerIds: string[];
  createdFrom: number | null;
  createdTo: number | null;
  updatedFrom: number | null;
  updatedTo: number | null;
}

interface ReturnsCursor {
  filters: ReturnFilters;
  sort: 'ASC' | 'DESC';
  limit: number;
  after?: [number, string];
  before?: [number, string];
}

function matchesReturn(r: MiraklReturn, f: ReturnFilters): boolean {
  const within = (values: string[], value: string | null) => values.length === 0 || (value !== null && values.includes(value));
  return (
    within(f.ids, r.id) &&
    within(f.states, r.state) &&
    within(f.commercialIds, r.commercialId) &&
    (f.lineIds.length === 0 || r.lines.some((l) => f.lineIds.includes(l.orderLineId))) &&
    within(f.rmas, r.rma) &&
    within(f.customerIds, r.customerId) &&
    (f.createdFrom === null || r.createdAt >= f.createdFrom) &&
    (f.createdTo === null || r.createdAt <= f.createdTo) &&
    (f.updatedFrom === null || r.lastUpdated >= f.updatedFrom) &&
    (f.updatedTo === null || r.lastUpdated <= f.updatedTo)
  );
}

// Seek tokens carry the original filters: every other parameter is ignored when page_token is present (NOTES §2).
function encodeCursor(cursor: ReturnsCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(token: string): ReturnsCursor {
  try {
    const cursor = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ReturnsCursor;
    if (!cursor.filters || !cursor.limit) throw new Error('incomplete');
    return cursor;
  } catch {
    throw new BadRequest('page_token is not valid');
  }
}

function limit(req: SimRequest): number {
  const raw = req.query.get('limit');
  if (raw === null) return 10;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new BadRequest(`limit must be a whole number from 1 to 100, got "${raw}"`);
  return n;
}

function offsetPaging(req: SimRequest): { max: number; offset: number } {
  const maxRaw = req.query.get('max');
  const offsetRaw = req.query.get('offset');
  const max = maxRaw === null ? 10 : Number(maxRaw);
  const offset = offsetRaw === null ? 0 : Number(offsetRaw);
  if (!Number.isInteger(max) || max < 1 || max > 100) throw new BadRequest(`max must be a whole number from 1 to 100, got "${maxRaw}"`);
  if (!Number.isInteger(offset) || offset < 0) throw new BadRequest(`offset must be a whole number of 0 or more, got "${offsetRaw}"`);
  return { max, offset };
}

function ids(items: Record<string, unknown>[]): string[] {
  return items.map((i) => String(i.id));
}

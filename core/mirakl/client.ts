import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { stringify } from 'csv-stringify/sync';
import { callApi, parseJson, type ApiContext } from '../net/api-call';
import { ApiError } from '../net/api-error';
import { budgetWait } from '../net/budget-guard';
import type { HttpResponse } from '../net/http';
import { rawId, readRecords, type QuarantinedRecord } from '../net/tolerant';
import {
  batchFailureSchema,
  batchResultSchema,
  batchSuccessSchema,
  exportCreatedSchema,
  exportedOfferSchema,
  exportStatusSchema,
  importCreatedSchema,
  importStatusSchema,
  offerSchema,
  offersPageSchema,
  orderSchema,
  ordersPageSchema,
  reasonSchema,
  reasonsSchema,
  refundResultItemSchema,
  refundResultSchema,
  returnSchema,
  returnsPageSchema,
  saleOrderSchema,
  type ExportedOfferDto,
  type MiraklOrderDto,
  type OrderTaxMode,
} from './schemas';

// The Mirakl seller API as the engine uses it (specs NOTES §1–§8). Auth is the raw shop key in Authorization;
// every operation is charged against its published maximum frequency before it is sent.

const minute = 60_000;

/** Minimum interval between first-page calls per operation: Mirakl's "Maximum usage" (specs NOTES §3). */
export const miraklCallBudgets: Record<string, number> = {
  RT11: 5 * minute,
  OR11: 1 * minute,
  STO01: 1 * minute,
  STO02: 15_000,
  STO03: 1 * minute,
  RE01: 24 * 60 * minute,
  A01: 24 * 60 * minute,
  // The offer export: a differential OF52 at most once a minute, OF53 every 10 s (a full OF52: fullExportEveryMs).
  OF52: 1 * minute,
  OF53: 10_000,
};

/** A full offer export (OF52 without last_request_date) at most once a day. */
export const fullExportEveryMs = 24 * 60 * minute;

/** The fields an offer export is asked for: what a restock is decided from, nothing else. */
const exportFields = ['offer_id', 'shop_sku', 'quantity', 'active', 'deleted'];

/**
 * OR11 is one budget (once a minute) that two readers share: the orders feed (the orders of returns, their refunds)
 * and the stock feed (sales). A reader the budget turned away is served next: the other yields it one turn.
 */
export type OrdersReader = 'orders' | 'stock';
const ordersReaders: readonly OrdersReader[] = ['orders', 'stock'];

/** Mirakl's clock when it answered, from the Date header (RFC 9110); null when the server sent none. */
export function serverTimeOf(res: HttpResponse): number | null {
  const raw = res.headers.date;
  const at = raw === undefined ? Number.NaN : Date.parse(raw);
  return Number.isNaN(at) ? null : at;
}

/** A sale that could not be read: held aside, with what could still be told of it (when, which offers). */
export interface UnreadableSale {
  record: QuarantinedRecord;
  createdDate: string | null;
  /** The offer SKU of each line, null where it cannot be read (or when the lines themselves cannot). */
  skus: (string | null)[];
}

export interface MiraklClientOptions extends Omit<ApiContext, 'system'> {
  apiKey: () => Promise<string>;
  shopId?: number;
  budgets: ApiContext['budgets'];
  /** Overrides of miraklCallBudgets (ms), e.g. for the "External Partner" persona's slower OR11. */
  callBudgets?: Record<string, number>;
}

export interface RefundRequest {
  order_line_id: string;
  amount: number;
  shipping_amount: number;
  reason_code: string;
  quantity: number;
  currency_iso_code: string;
  taxes: { code: string; amount: number }[];
  shipping_taxes: { code: string; amount: number }[];
}

export interface ComplianceRequest {
  id: string;
  return_lines: { order_line_id: string; compliant: boolean; non_compliance_reason_code?: string; non_compliance_additional_info?: string }[];
}

export interface PatchReturnRequest {
  id: string;
  rma?: string;
  label_url?: string;
  tracking?: { carrier_code?: string; carrier_name?: string; tracking_number?: string; tracking_url?: string };
}

export function createMiraklClient(options: MiraklClientOptions) {
  const ctx: ApiContext = { ...options, system: 'mirakl' };
  const budgets = { ...miraklCallBudgets, ...(options.callBudgets ?? {}) };

  async function call(spec: Parameters<typeof callApi>[1]) {
    const query = new URLSearchParams(spec.query);
    if (options.shopId !== undefined) query.set('shop_id', String(options.shopId));
    const minIntervalMs = budgets[spec.operation];
    return callApi(ctx, {
      ...spec,
      query,
      ...(minIntervalMs !== undefined ? { minIntervalMs } : {}),
      headers: { authorization: await options.apiKey(), ...(spec.body && typeof spec.body === 'string' ? { 'content-type': 'application/json' } : {}), ...(spec.headers ?? {}) },
    });
  }

  /** Takes `reader`'s turn at an operation readers share, or throws rate_limited (see OrdersReader). */
  function takeTurn(operation: string, reader: OrdersReader): void {
    const waitingKey = (r: OrdersReader) => `mirakl:${operation}:waiting:${r}`;
    const isWaiting = (r: OrdersReader) => (options.budgets.lastCall(waitingKey(r)) ?? 0) > 0;
    const now = options.clock.now();
    const wait = budgetWait(options.budgets, `mirakl:${operation}`, budgets[operation], now);
    if (wait > 0) {
      if (!isWaiting(reader)) options.budgets.record(waitingKey(reader), now);
      throw new ApiError('mirakl', operation, 'rate_limited', `call budget: wait ${Math.ceil(wait / 1000)} s`, undefined, wait);
    }
    const other = ordersReaders.find((r) => r !== reader && isWaiting(r));
    if (other) {
      // One turn only: the other reader is served next if it still asks; if it no longer does, nobody waits on it.
      options.budgets.record(waitingKey(other), 0);
      throw new ApiError('mirakl', operation, 'rate_limited', `call budget: the ${other} reader was turned away last time and reads first`);
    }
    options.budgets.record(waitingKey(reader), 0);
  }

  // Every item of a batch answer is checked (specs README); an item whose id cannot be read decides nothing, and the
  // caller treats a return missing from both lists as not done.
  async function batch(operation: string, path: string, returns: unknown[]) {
    if (returns.length > 100) throw new Error(`${operation} takes at most 100 returns per call`);
    const res = await call({ operation, method: 'PUT', path, body: JSON.stringify({ returns }) });
    const answer = parseJson(ctx, operation, res, batchResultSchema);
    return {
      return_success: readRecords(operation, 'success item', answer.return_success, batchSuccessSchema, (r) => rawId(r, 'id')).records,
      return_errors: readRecords(operation, 'error item', answer.return_errors, batchFailureSchema, (r) => rawId(r, 'id')).records.map((e) => ({
        id: e.id,
        message: e.message ?? 'Mirakl gave no message',
      })),
    };
  }

  return {
    /** RT11, one page. Pass `pageToken` for the next page: the token carries the original filters. */
    async listReturns(params: { updatedFrom?: string; createdFrom?: string; pageToken?: string; limit?: number; returnIds?: string[] }) {
      const query = new URLSearchParams();
      if (params.pageToken) query.set('page_token', params.pageToken);
      else {
        query.set('limit', String(params.limit ?? 100));
        query.set('sort', 'date_created,ASC');
        if (params.updatedFrom) query.set('return_last_updated_from', params.updatedFrom);
        if (params.createdFrom) query.set('return_creation_date_from', params.createdFrom);
        for (const id of params.returnIds ?? []) query.append('return_id', id);
      }
      const res = await call({ operation: 'RT11', method: 'GET', path: '/api/returns', query, isContinuation: Boolean(params.pageToken) });
      const page = parseJson(ctx, 'RT11', res, returnsPageSchema);
      const { records, quarantined } = readRecords('RT11', 'return', page.data, returnSchema, (r) => rawId(r, 'id'));
      return { data: records, quarantined, next_page_token: page.next_page_token };
    },

    /**
     * OR11 by order ids (comma list, ≤ 100), following offset pages, with amounts in the shop's tax mode (asked for
     * explicitly: without it Mirakl answers in the platform's default, which may not be the one we refund in).
     */
    async ordersById(orderIds: string[], taxMode: OrderTaxMode) {
      if (orderIds.length > 100) throw new Error('OR11 takes at most 100 order ids per call');
      takeTurn('OR11', 'orders');
      const orders: MiraklOrderDto[] = [];
      const quarantined: QuarantinedRecord[] = [];
      for (let offset = 0; ; offset += 100) {
        const query = new URLSearchParams({ order_ids: orderIds.join(','), order_tax_mode: taxMode, max: '100', offset: String(offset) });
        const res = await call({ operation: 'OR11', method: 'GET', path: '/api/orders', query, isContinuation: offset > 0 });
        const page = parseJson(ctx, 'OR11', res, ordersPageSchema);
        const read = readRecords('OR11', 'order', page.orders, orderSchema, (o) => rawId(o, 'order_id'));
        orders.push(...read.records);
        quarantined.push(...read.quarantined);
        if (offset + page.orders.length >= page.total_count || page.orders.length === 0) break;
      }
      return { orders, quarantined };
    },

    /**
     * OR28 in the shop's tax mode. Never retried here: an uncertain refund is probed through OR11 by the caller. A
     * refund whose item in the answer cannot be read is left out of the result, so the caller probes it too.
     */
    async refund(refunds: RefundRequest[], taxMode: OrderTaxMode) {
      const res = await call({
        operation: 'OR28',
        method: 'PUT',
        path: '/api/orders/refund',
        body: JSON.stringify({ order_tax_mode: taxMode, refunds }),
        isUnsafeWrite: true,
      });
      const answer = parseJson(ctx, 'OR28', res, refundResultSchema, { isUnsafeWrite: true });
      return { refunds: readRecords('OR28', 'refund', answer.refunds, refundResultItemSchema, (r) => rawId(r, 'refund_id')).records };
    },

    accept: (items: { id: string; accepted: boolean; rejection_reason_code?: string }[]) => batch('RT21', '/api/returns/accept', items),
    patch: (items: PatchReturnRequest[]) => batch('RT04', '/api/returns', items),
    receive: (ids: string[]) => batch('RT25', '/api/returns/receive', ids.map((id) => ({ id }))),
    compliance: (items: ComplianceRequest[]) => batch('RT26', '/api/returns/compliance', items),
    close: (ids: string[]) => batch('RT27', '/api/returns/close', ids.map((id) => ({ id }))),

    async reasons() {
      const res = await call({ operation: 'RE01', method: 'GET', path: '/api/reasons' });
      return readRecords('RE01', 'reason', parseJson(ctx, 'RE01', res, reasonsSchema).reasons, reasonSchema, (r) => rawId(r, 'code')).records;
    },

    /** OF21 for one shop SKU: the fresh read a stock increment is computed from. */
    async offerBySku(sku: string) {
      const res = await call({ operation: 'OF21', method: 'GET', path: '/api/offers', query: new URLSearchParams({ sku, max: '10' }) });
      const read = readRecords('OF21', 'offer', parseJson(ctx, 'OF21', res, offersPageSchema).offers, offerSchema, (o) => rawId(o, 'shop_sku'));
      const offer = read.records.find((o) => o.shop_sku === sku);
      if (offer) return offer;
      // The offer we need is there but unreadable: its quantity cannot be trusted, so nothing may be computed from it.
      const unreadable = read.quarantined.find((q) => q.key === sku);
      if (unreadable) throw new ApiError('mirakl', 'OF21', 'invalid_response', unreadable.problem, res.status, undefined, unreadable);
      return null;
    },

    /**
     * OR11 by creation date: every order placed since `since` (ISO), oldest first, following offset pages, read as sales
     * of stock (which offer, how many units, when). An order that cannot be read is held aside with what can still be
     * told of it. `serverTime` is Mirakl's clock when it answered the first page (its Date header).
     */
    async ordersCreatedSince(since: string) {
      takeTurn('OR11', 'stock');
      const sales: { order_id: string; order_line_id: string; offer_sku: string; quantity: number; created_date: string }[] = [];
      const unreadable: UnreadableSale[] = [];
      let serverTime: number | null = null;
      for (let offset = 0; ; offset += 100) {
        const query = new URLSearchParams({ start_date: since, sort: 'dateCreated', order: 'asc', max: '100', offset: String(offset) });
        const res = await call({ operation: 'OR11', method: 'GET', path: '/api/orders', query, isContinuation: offset > 0 });
        if (offset === 0) serverTime = serverTimeOf(res);
        const page = parseJson(ctx, 'OR11', res, ordersPageSchema);
        const read = readRecords('OR11', 'order', page.orders, saleOrderSchema, (o) => rawId(o, 'order_id'));
        for (const o of read.records) {
          for (const l of o.order_lines) sales.push({ order_id: o.order_id, order_line_id: l.order_line_id, offer_sku: l.offer_sku, quantity: l.quantity, created_date: o.created_date });
        }
        read.quarantined.forEach((record) => {
          const raw = page.orders.find((o) => rawId(o, 'order_id') === record.key) ?? null;
          unreadable.push({ record, ...saleHints(raw) });
        });
        if (offset + page.orders.length >= page.total_count || page.orders.length === 0) break;
      }
      return { sales, unreadable, serverTime };
    },

    /**
     * OF52: asks for an export of the shop's offers as JSON files; differential (the offers updated since `since`, active
     * or not, deleted ones marked) when `since` is given, otherwise full (every offer, inactive ones too) — at most once
     * a day, charged only once Mirakl has taken the request. `serverTime` is Mirakl's clock when it answered.
     */
    async requestOfferExport(params: { since?: string }) {
      const isFull = params.since === undefined;
      const asked = options.clock.now();
      if (isFull) {
        const wait = budgetWait(options.budgets, 'mirakl:OF52.full', fullExportEveryMs, asked);
        if (wait > 0) throw new ApiError('mirakl', 'OF52', 'rate_limited', `call budget: one full export a day, wait ${Math.ceil(wait / 1000)} s`, undefined, wait);
      }
      const body = { export_type: 'application/json', include_fields: exportFields, ...(isFull ? { include_inactive_offers: true } : { last_request_date: params.since }) };
      let res: HttpResponse;
      try {
        res = await call({ operation: 'OF52', method: 'POST', path: '/api/offers/export/async', body: JSON.stringify(body) });
      } catch (error) {
        // Mirakl refused a full export (once a day: one was taken whose answer never came back, or by someone else).
        // The next full waits as long as Mirakl said (a day if it did not), so the flushes meanwhile ask for what
        // changed instead of being refused again, each refusal using up the minute a differential export needs.
        if (isFull && error instanceof ApiError && error.kind === 'rate_limited' && error.status === 429) {
          options.budgets.record('mirakl:OF52.full', asked - fullExportEveryMs + (error.retryAfterMs ?? fullExportEveryMs));
        }
        throw error;
      }
      const answer = parseJson(ctx, 'OF52', res, exportCreatedSchema);
      if (isFull) options.budgets.record('mirakl:OF52.full', asked);
      return { trackingId: answer.tracking_id, serverTime: serverTimeOf(res) };
    },

    /** OF53: the export's status; the files' urls once COMPLETED. */
    async offerExportStatus(trackingId: string) {
      const res = await call({ operation: 'OF53', method: 'GET', path: `/api/offers/export/async/status/${encodeURIComponent(trackingId)}` });
      const answer = parseJson(ctx, 'OF53', res, exportStatusSchema);
      return { status: answer.status, lastUpdated: answer.last_updated ?? null, urls: answer.urls, error: answer.error ?? null, serverTime: serverTimeOf(res) };
    },

    /**
     * One file of a completed export, from a url OF53 gave. The shop's API key goes only to the Mirakl address itself:
     * a url on any other origin is refused before anything is sent. Each offer is read on its own; one that cannot be
     * read is held aside and the others are returned.
     *
     * ASSUMPTION, kept here alone: this download ("OF54" in Mirakl's docs) is not in the seller OpenAPI file. It is read
     * as an authenticated GET answering one JSON array of offers per file (the fields asked for in OF52); an object
     * holding that array under `offers` or `data` is read too. Nothing else in the app depends on its shape.
     */
    async offerExportFile(url: string) {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        throw new ApiError('mirakl', 'OF54', 'invalid_response', `the export file link is not a url: ${url.slice(0, 200)}`);
      }
      const home = new URL(ctx.baseUrl);
      if (target.origin !== home.origin) {
        throw new ApiError('mirakl', 'OF54', 'rejected', `the export file is at ${target.origin}, not at the Mirakl address ${home.origin}: it was not fetched, so the API key never left for another server`);
      }
      const res = await callApi(
        { ...ctx, baseUrl: target.origin },
        { operation: 'OF54', method: 'GET', path: target.pathname, query: target.searchParams, headers: { authorization: await options.apiKey() }, isContinuation: true },
      );
      const body = parseJson(ctx, 'OF54', res, z.unknown());
      const items = Array.isArray(body) ? body : exportItems(body);
      if (!items) throw new ApiError('mirakl', 'OF54', 'invalid_response', 'the export file is not a list of offers', res.status);
      const read = readRecords('OF52', 'offer', items, exportedOfferSchema, (o) => rawId(o, 'shop_sku'));
      return { offers: read.records as ExportedOfferDto[], quarantined: read.quarantined };
    },

    /** STO01 with absolute quantities (global, no warehouse). */
    async importStock(lines: { sku: string; quantity: number }[]) {
      const csv = stringify(
        [['offer-sku', 'quantity', 'warehouse-code', 'update-delete'], ...lines.map((l) => [l.sku, String(l.quantity), '', ''])],
        { delimiter: ';', quoted: true },
      );
      const form = new FormData();
      form.append('file', new Blob([csv], { type: 'text/csv' }), 'stock.csv');
      const res = await call({ operation: 'STO01', method: 'POST', path: '/api/offers/stock/imports', body: form, isUnsafeWrite: true });
      return parseJson(ctx, 'STO01', res, importCreatedSchema, { isUnsafeWrite: true }).import_id;
    },

    async importStatus(importId: string) {
      const res = await call({ operation: 'STO02', method: 'GET', path: `/api/offers/stock/imports/${encodeURIComponent(importId)}/status` });
      return parseJson(ctx, 'STO02', res, importStatusSchema);
    },

    /** STO03: line number, reason, then the original columns. */
    async importErrors(importId: string) {
      const res = await call({ operation: 'STO03', method: 'GET', path: `/api/offers/stock/imports/${encodeURIComponent(importId)}/error_report` });
      const rows = parse(res.body, { delimiter: ';', relax_column_count: true, skip_empty_lines: true, bom: true }) as string[][];
      const [header, ...data] = rows;
      const skuColumn = (header ?? []).indexOf('offer-sku');
      if (skuColumn < 0) throw new ApiError('mirakl', 'STO03', 'invalid_response', 'the error report has no offer-sku column');
      return data.map((row) => ({ line: Number(row[0]), reason: row[1] ?? '', sku: row[skuColumn] ?? '' }));
    },
  };
}

export type MiraklClient = ReturnType<typeof createMiraklClient>;

/** What can still be told of an order that cannot be read: when it was placed, and the offer of each line. */
function saleHints(raw: unknown): { createdDate: string | null; skus: (string | null)[] } {
  const record = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const created = typeof record.created_date === 'string' && !Number.isNaN(Date.parse(record.created_date)) ? record.created_date : null;
  const lines = Array.isArray(record.order_lines) ? (record.order_lines as unknown[]) : null;
  const skus = lines && lines.length > 0 ? lines.map((l) => rawId(l, 'offer_sku') ?? null) : [null];
  return { createdDate: created, skus };
}

/** The offers of an export file sent as an object rather than a bare list (see offerExportFile). */
function exportItems(body: unknown): unknown[] | null {
  if (body === null || typeof body !== 'object') return null;
  const record = body as Record<string, unknown>;
  for (const key of ['offers', 'data']) if (Array.isArray(record[key])) return record[key] as unknown[];
  return null;
}

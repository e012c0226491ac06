import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { callApi, parseJson, type ApiContext } from '../net/api-call';
import { ApiError } from '../net/api-error';
import { rawId, readRecords, type QuarantinedRecord } from '../net/tolerant';
import {
  batchFailureSchema,
  batchResultSchema,
  batchSuccessSchema,
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
};

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
    async listReturns(params: { updatedFrom?: string; pageToken?: string; limit?: number; returnIds?: string[] }) {
      const query = new URLSearchParams();
      if (params.pageToken) query.set('page_token', params.pageToken);
      else {
        query.set('limit', String(params.limit ?? 100));
        query.set('sort', 'date_created,ASC');
        if (params.updatedFrom) query.set('return_last_updated_from', params.updatedFrom);
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

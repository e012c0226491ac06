import type { ReboundResult } from './model';
import type { ReturnOrderState } from './return-order';
import { validationFailed } from './requests';

// `GET /return-orders?updatedFrom=&updatedTo=&page=` (specs/rebound NOTES §6.2, a PROPOSAL): the return orders changed
// in a window of time, as ids, status and updatedAt only, oldest change first, a page at a time. It is how a client
// that no notification can reach (a desktop behind NAT) learns what to read, with one call instead of one per order.

export interface ReturnOrderChangeView {
  reboundOrderId: string;
  clientOrderId: string;
  status: string;
  updatedAt: string;
}

export interface ReturnOrderChangesPage {
  returnOrders: ReturnOrderChangeView[];
  page: number;
  /** The next page's number, null on the last page. */
  nextPage: number | null;
}

export const changesPageSize = 100;

/** The answer for a query string's updatedFrom (inclusive), updatedTo (exclusive) and page (from 1). */
export function listChangedReturnOrders(orders: Iterable<ReturnOrderState>, query: URLSearchParams): ReboundResult<ReturnOrderChangesPage> {
  const from = Date.parse(query.get('updatedFrom') ?? '');
  if (Number.isNaN(from)) return { ok: false, error: validationFailed('updatedFrom must be an ISO 8601 date-time', [{ field: 'updatedFrom', issue: 'not a date-time' }]) };
  const toParam = query.get('updatedTo');
  const to = toParam === null || toParam === '' ? Number.POSITIVE_INFINITY : Date.parse(toParam);
  if (Number.isNaN(to)) return { ok: false, error: validationFailed('updatedTo must be an ISO 8601 date-time', [{ field: 'updatedTo', issue: 'not a date-time' }]) };
  const pageParam = query.get('page');
  const page = pageParam === null || pageParam === '' ? 1 : Number(pageParam);
  if (!Number.isInteger(page) || page < 1) return { ok: false, error: validationFailed('page must be a whole number from 1', [{ field: 'page', issue: 'not a page number' }]) };
  const changed = [...orders].filter((ro) => ro.updatedAt >= from && ro.updatedAt < to).sort((a, b) => a.updatedAt - b.updatedAt || a.seq - b.seq);
  const slice = changed.slice((page - 1) * changesPageSize, page * changesPageSize);
  return {
    ok: true,
    status: 200,
    value: {
      returnOrders: slice.map((ro) => ({ reboundOrderId: ro.reboundOrderId, clientOrderId: ro.clientOrderId, status: ro.status, updatedAt: new Date(ro.updatedAt).toISOString() })),
      page,
      nextPage: page * changesPageSize < changed.length ? page + 1 : null,
    },
  };
}

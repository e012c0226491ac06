import { callApi, parseJson, readOne, type ApiContext, type CallSpec } from '../net/api-call';
import { rawId, readRecords } from '../net/tolerant';
import { ApiError, isApiError } from '../net/api-error';
import type { HttpResponse } from '../net/http';
import {
  returnEventsSchema,
  returnOrderChangeSchema,
  returnOrderChangesSchema,
  returnOrderListSchema,
  returnOrderSchema,
  salesOrderSchema,
  tokenResponseSchema,
  webhookSubscriptionSchema,
  type ReboundNotificationType,
} from './schemas';

// The ReBound API as the engine uses it (specs/rebound NOTES §1.2, §6). Auth is OAuth2 client credentials; the
// token is cached on the injected clock and never leaves this closure (the journal records paths only).
// A return order has no idempotency key, so a create whose answer was lost is reported `uncertain` and never
// re-sent here: the caller lists the order's return orders before it may create one again.

export interface ReboundClientOptions extends Omit<ApiContext, 'system'> {
  clientId: string;
  clientSecret: () => Promise<string>;
  /** Selects a sub-flow configured in "My ReBound" (NOTES §1.2); empty means the main flow. */
  flowKey?: string;
}

export interface ReboundCustomerAddress {
  name?: string;
  email?: string;
  phone?: string;
  line1?: string;
  line2?: string;
  city?: string;
  postcode?: string;
  countryCode?: string;
}

export interface ReboundSalesOrderRequest {
  clientOrderId: string;
  clientOrderCreatedDate?: string;
  businessUnit?: string;
  rmaNumber?: string | null;
  premiumOrder?: boolean;
  labelBase64Enabled?: boolean;
  customerAddress?: ReboundCustomerAddress;
  salesItems: {
    clientItemId: string;
    sku: string;
    ean?: string;
    articleDescription?: string;
    /** Sent as a string, as ReBound writes quantities (NOTES §1.8). */
    quantity: number | string;
    /** A decimal string such as "19.99", as ReBound writes money (NOTES §1.8). */
    commercialValue?: string;
    commercialValueCurrency?: string;
    hsCode?: string;
    countryOfOrigin?: string;
  }[];
  clientMetadata?: { key: string; value: string }[];
}

export interface ReboundReturnOrderRequest {
  clientOrderId: string;
  items: { clientItemId?: string; sku?: string; quantity: number | string; reasonCode: string; wish?: string; comment?: string | null }[];
  customerAddress?: ReboundCustomerAddress;
  carrierOption?: string;
}

export interface ReboundWebhookTarget {
  url: string;
  /** The HMAC key ReBound signs each notification with (X-Rebound-Signature). */
  secret: string;
  /** A static Authorization header ReBound sends with each notification, if the receiver wants one. */
  authorizationHeader?: string;
}

/** Refresh this long before expiry, so a token never runs out between our check and ReBound's. */
const tokenMarginMs = 60_000;

/** The client-credentials token request (also what Settings' "test connection" makes). */
export async function requestReboundToken(ctx: ApiContext, clientId: string, clientSecret: string) {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret });
  const res = await callApi(ctx, {
    operation: 'oauth.token',
    method: 'POST',
    path: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  return { ...parseJson(ctx, 'oauth.token', res, tokenResponseSchema), status: res.status };
}

export function createReboundClient(options: ReboundClientOptions) {
  const { clientId, clientSecret, flowKey, ...api } = options;
  const ctx: ApiContext = { ...api, system: 'rebound' };
  let cached: { value: string; refreshAt: number } | null = null;
  let inFlight: Promise<string> | null = null;

  async function requestToken(): Promise<string> {
    const token = await requestReboundToken(ctx, clientId, await clientSecret());
    const lifetimeMs = token.expires_in * 1000;
    cached = { value: token.access_token, refreshAt: ctx.clock.now() + lifetimeMs - Math.min(tokenMarginMs, lifetimeMs / 2) };
    return token.access_token;
  }

  /** One token request at a time: concurrent calls share it rather than each spending a token. */
  function accessToken(): Promise<string> {
    if (cached && ctx.clock.now() < cached.refreshAt) return Promise.resolve(cached.value);
    inFlight ??= requestToken().finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  async function call(spec: CallSpec & { isWrite?: boolean }): Promise<HttpResponse> {
    const { isWrite, ...rest } = spec;
    const query = new URLSearchParams(rest.query);
    if (isWrite && flowKey) query.set('flowKey', flowKey);
    const send = (token: string) =>
      callApi(ctx, {
        ...rest,
        query,
        headers: { authorization: `Bearer ${token}`, ...(typeof rest.body === 'string' ? { 'content-type': 'application/json' } : {}), ...(rest.headers ?? {}) },
      });
    const token = await accessToken();
    try {
      return await send(token);
    } catch (error) {
      // A 401 is a definite refusal before anything was applied, so even an unsafe write may be sent once more
      // with a fresh token (DigitalGenius does the same, NOTES §1.2). Any ambiguous failure was thrown above.
      if (!isApiError(error) || error.status !== 401) throw error;
      if (cached?.value === token) cached = null;
      return send(await accessToken());
    }
  }

  const notFoundAsNull = async <T>(read: () => Promise<T>): Promise<T | null> => {
    try {
      return await read();
    } catch (error) {
      if (isApiError(error) && error.kind === 'not_found') return null;
      throw error;
    }
  };

  return {
    /**
     * Pre-advises an order (NOTES §1.4). Safe to repeat: a second create for the same clientOrderId is refused with
     * 409 duplicate_client_order_id, which means ReBound already knows the order and is reported as `created: false`.
     */
    async createSalesOrder(order: ReboundSalesOrderRequest) {
      const body = {
        ...order,
        salesItems: order.salesItems.map((item) => ({ ...item, quantity: String(item.quantity) })),
      };
      try {
        const res = await call({ operation: 'salesOrders.create', method: 'POST', path: '/sales-orders', body: JSON.stringify(body), isWrite: true });
        return { created: true as const, salesOrder: parseJson(ctx, 'salesOrders.create', res, salesOrderSchema) };
      } catch (error) {
        if (isApiError(error) && error.status === 409 && /\bduplicate_client_order_id\b/.test(error.message)) return { created: false as const };
        throw error;
      }
    },

    getSalesOrder: (clientOrderId: string) =>
      notFoundAsNull(async () => {
        const res = await call({ operation: 'salesOrders.get', method: 'GET', path: `/sales-orders/${encodeURIComponent(clientOrderId)}` });
        return parseJson(ctx, 'salesOrders.get', res, salesOrderSchema);
      }),

    /** Never retried here: an uncertain create is probed through listReturnOrders(clientOrderId) by the caller. */
    async createReturnOrder(request: ReboundReturnOrderRequest) {
      const body = { ...request, items: request.items.map((item) => ({ ...item, quantity: String(item.quantity) })) };
      const res = await call({
        operation: 'returnOrders.create',
        method: 'POST',
        path: '/return-orders',
        body: JSON.stringify(body),
        isUnsafeWrite: true,
        isWrite: true,
      });
      return parseJson(ctx, 'returnOrders.create', res, returnOrderSchema, { isUnsafeWrite: true });
    },

    /** Every return order of a client order, newest first (NOTES §1.5). */
    async listReturnOrders(clientOrderId: string) {
      const res = await call({ operation: 'returnOrders.list', method: 'GET', path: '/return-orders', query: new URLSearchParams({ clientOrderId }) });
      const list = parseJson(ctx, 'returnOrders.list', res, returnOrderListSchema).returnOrders;
      const read = readRecords('returnOrders.list', 'return order', list, returnOrderSchema, (r) => rawId(r, 'reboundOrderId'));
      // This list is how an uncertain create is probed: one unreadable record might be the one we created, so the
      // answer as a whole cannot settle anything.
      const [unreadable] = read.quarantined;
      if (unreadable) throw new ApiError('rebound', 'returnOrders.list', 'invalid_response', unreadable.problem, res.status, undefined, unreadable);
      return read.records;
    },

    /**
     * One page of the return orders changed since `updatedFrom` (NOTES §6.2, a modelled endpoint), oldest change first. An
     * entry that cannot be read is left out: it names no return order to read, and the next look's overlap sees it again.
     */
    async changedReturnOrders(updatedFrom: string, page = 1) {
      const query = new URLSearchParams({ updatedFrom, page: String(page) });
      const res = await call({ operation: 'returnOrders.changes', method: 'GET', path: '/return-orders', query });
      const answer = parseJson(ctx, 'returnOrders.changes', res, returnOrderChangesSchema);
      const read = readRecords('returnOrders.changes', 'changed return order', answer.returnOrders, returnOrderChangeSchema, (r) => rawId(r, 'reboundOrderId'));
      return {
        changes: read.records.map((c) => ({ reboundOrderId: c.reboundOrderId, clientOrderId: c.clientOrderId ?? null, status: c.status, updatedAt: c.updatedAt })),
        nextPage: answer.nextPage ?? null,
      };
    },

    getReturnOrder: (reboundOrderId: string) =>
      notFoundAsNull(async () => {
        const res = await call({ operation: 'returnOrders.get', method: 'GET', path: `/return-orders/${encodeURIComponent(reboundOrderId)}` });
        return readOne(ctx, 'returnOrders.get', 'return order', res, returnOrderSchema, (r) => rawId(r, 'reboundOrderId') ?? reboundOrderId);
      }),

    async returnOrderEvents(reboundOrderId: string) {
      const res = await call({ operation: 'returnOrders.events', method: 'GET', path: `/return-orders/${encodeURIComponent(reboundOrderId)}/events` });
      return parseJson(ctx, 'returnOrders.events', res, returnEventsSchema).events;
    },

    /** Only before the first carrier scan; a repeated cancel answers like the first, so it is a safe write. */
    async cancelReturnOrder(reboundOrderId: string) {
      const res = await call({ operation: 'returnOrders.cancel', method: 'POST', path: `/return-orders/${encodeURIComponent(reboundOrderId)}/cancel`, isWrite: true });
      return parseJson(ctx, 'returnOrders.cancel', res, returnOrderSchema);
    },

    /** Registers (or replaces) the receiver for one notification type. */
    async subscribeWebhook(type: ReboundNotificationType, target: ReboundWebhookTarget) {
      const body = { url: target.url, secret: target.secret, ...(target.authorizationHeader !== undefined ? { authorizationHeader: target.authorizationHeader } : {}) };
      const res = await call({
        operation: 'webhookSubscriptions.put',
        method: 'PUT',
        path: `/webhook-subscriptions/${encodeURIComponent(type)}`,
        body: JSON.stringify(body),
        isWrite: true,
      });
      return parseJson(ctx, 'webhookSubscriptions.put', res, webhookSubscriptionSchema);
    },
  };
}

export type ReboundClient = ReturnType<typeof createReboundClient>;

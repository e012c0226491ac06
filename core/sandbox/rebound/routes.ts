import type { Route, SimRequest, SimResponse } from '../http/router';
import type { ReboundApiError, ReboundResult } from './model';
import { reboundShapeHooks } from './shape-faults';
import type { ReboundSim } from './sim';

// The HTTP face of the simulator (NOTES §6.1–6.2). Handlers only translate: every rule lives in the sim, so the
// world can drive the same behaviour without a socket. `/_sim/` routes are test hooks, never the modelled API.

export function reboundErrorBody(error: Pick<ReboundApiError, 'code' | 'message' | 'details'>): { error: { code: string; message: string; details?: unknown } } {
  return { error: error.details ? { code: error.code, message: error.message, details: error.details } : { code: error.code, message: error.message } };
}

/** The §6.6 code for a status the HTTP layer produces on its own (404 route, 429, injected 5xx, bad JSON). */
export function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 422:
      return 'validation_failed';
    case 429:
      return 'rate_limited';
    default:
      return 'internal';
  }
}

export function toResponse<T>(result: ReboundResult<T>): SimResponse {
  if (result.ok) return { status: result.status, body: result.value };
  const headers: Record<string, string> | undefined = result.error.status === 401 ? { 'www-authenticate': 'Bearer error="invalid_token"' } : undefined;
  return { status: result.error.status, body: reboundErrorBody(result.error), ...(headers ? { headers } : {}) };
}

const flowKeyOf = (req: SimRequest) => req.query.get('flowKey') || null;
const param = (req: SimRequest, name: string) => req.params[name] ?? '';

/** A status the client has never seen, for the unknown-enum fault: clients must keep such an order, not crash. */
function withUnknownStatus(body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  const record = body as Record<string, unknown>;
  const target = Array.isArray(record.returnOrders) ? (record.returnOrders[0] as Record<string, unknown> | undefined) : record;
  if (target && typeof target.status === 'string') target.status = 'HELD_AT_CUSTOMS';
}

async function tokenRequest(req: SimRequest): Promise<{ grantType: string | null; clientId: string | null; clientSecret: string | null }> {
  let fields: FormData | null = null;
  try {
    fields = await req.form();
  } catch {
    fields = null;
  }
  const field = (name: string) => {
    const value = fields?.get(name);
    return typeof value === 'string' ? value : null;
  };
  let clientId = field('client_id');
  let clientSecret = field('client_secret');
  // RFC 6749 also lets the client authenticate with HTTP Basic instead of form fields.
  const basic = /^Basic\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
  if (basic?.[1] && clientId === null) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      clientId = decodeURIComponent(decoded.slice(0, colon));
      clientSecret = decodeURIComponent(decoded.slice(colon + 1));
    }
  }
  return { grantType: field('grant_type'), clientId, clientSecret };
}

const routes: Route<ReboundSim>[] = [
  {
    operation: 'oauth.token',
    method: 'POST',
    pattern: '/oauth/token',
    isPublic: true,
    handler: async (req, sim) => toResponse(sim.issueToken(await tokenRequest(req))),
  },
  {
    operation: 'salesOrders.create',
    method: 'POST',
    pattern: '/sales-orders',
    handler: (req, sim) => toResponse(sim.createSalesOrder(req.json(), { flowKey: flowKeyOf(req), overwrite: req.query.get('overwrite') === 'true' })),
  },
  {
    operation: 'salesOrders.get',
    method: 'GET',
    pattern: '/sales-orders/:clientOrderId',
    handler: (req, sim) => toResponse(sim.getSalesOrder(param(req, 'clientOrderId'))),
  },
  {
    operation: 'returnOrders.create',
    method: 'POST',
    pattern: '/return-orders',
    handler: (req, sim) => toResponse(sim.createReturnOrder(req.json(), { flowKey: flowKeyOf(req) })),
    withUnknownEnum: withUnknownStatus,
  },
  {
    // §6.2: the same path, told apart by its query (updatedFrom): what changed, for clients no notification reaches.
    operation: 'returnOrders.changes',
    method: 'GET',
    pattern: '/return-orders',
    when: (req) => req.query.has('updatedFrom'),
    handler: (req, sim) => toResponse(sim.listChangedReturnOrders(req.query)),
    withUnknownEnum: withUnknownStatus,
  },
  {
    operation: 'returnOrders.list',
    method: 'GET',
    pattern: '/return-orders',
    handler: (req, sim) => toResponse(sim.listReturnOrders(req.query.get('clientOrderId'))),
    withUnknownEnum: withUnknownStatus,
  },
  {
    operation: 'returnOrders.get',
    method: 'GET',
    pattern: '/return-orders/:reboundOrderId',
    handler: (req, sim) => toResponse(sim.getReturnOrder(param(req, 'reboundOrderId'))),
    withUnknownEnum: withUnknownStatus,
  },
  {
    operation: 'returnOrders.events',
    method: 'GET',
    pattern: '/return-orders/:reboundOrderId/events',
    handler: (req, sim) => toResponse(sim.listReturnOrderEvents(param(req, 'reboundOrderId'))),
  },
  {
    operation: 'returnOrders.cancel',
    method: 'POST',
    pattern: '/return-orders/:reboundOrderId/cancel',
    handler: (req, sim) => toResponse(sim.cancelReturnOrder(param(req, 'reboundOrderId'))),
    withUnknownEnum: withUnknownStatus,
  },
  {
    operation: 'webhookSubscriptions.put',
    method: 'PUT',
    pattern: '/webhook-subscriptions/:type',
    handler: (req, sim) => toResponse(sim.putWebhookSubscription(param(req, 'type'), req.json())),
  },
  {
    operation: '_sim.advance',
    method: 'POST',
    pattern: '/_sim/return-orders/:reboundOrderId/advance',
    isPublic: true,
    handler: (req, sim) => toResponse(sim.simAdvanceReturnOrder(param(req, 'reboundOrderId'), req.json())),
  },
  {
    // A unit missing when the contents were registered reaches the hub now (body optional: { reboundItemId?,
    // clientItemId?, arrival?: 'separateParcel' | 'foundAtHub', grade?, disposition? }).
    operation: '_sim.lateUnit',
    method: 'POST',
    pattern: '/_sim/return-orders/:reboundOrderId/late-unit',
    isPublic: true,
    handler: (req, sim) => toResponse(sim.simLateUnit(param(req, 'reboundOrderId'), req.body.length === 0 ? {} : req.json())),
  },
  {
    // ReBound reports an order whose contents it registered as EXPIRED (contradictory facts; no body).
    operation: '_sim.expireRegistered',
    method: 'POST',
    pattern: '/_sim/return-orders/:reboundOrderId/expire-registered',
    isPublic: true,
    handler: (req, sim) => toResponse(sim.simExpireRegistered(param(req, 'reboundOrderId'))),
  },
  {
    operation: '_sim.truth',
    method: 'GET',
    pattern: '/_sim/truth',
    isPublic: true,
    // ?notifications=none leaves out the notification log (the largest part) when only the world's state is wanted.
    handler: (req, sim) => {
      const truth = sim.truth();
      return { status: 200, body: req.query.get('notifications') === 'none' ? { ...truth, notifications: [] } : truth };
    },
  },
];

export const reboundRoutes: Route<ReboundSim>[] = routes.map((route) => {
  const withShapes = reboundShapeHooks[route.operation];
  return withShapes ? { ...route, withShapes } : route;
});

/** Operations that are test hooks: exempt from injected faults and budgets. */
export const simOnlyOperations: readonly string[] = ['_sim.advance', '_sim.lateUnit', '_sim.truth'];

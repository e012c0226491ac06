import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../ports';
import type { Route } from '../http/router';
import type { Rng } from '../rng';
import type { Scenario } from '../scenario';
import { opaqueToken, ssccId, trackingNumber } from './ids';
import {
  notificationTypes,
  type MilestoneStatus,
  type NotificationType,
  type ReboundApiError,
  type ReboundCounters,
  type ReboundFlow,
  type ReboundResult,
  type ReboundTruth,
  type RefundTriggerType,
  type ReturnEventView,
  type ReturnOrderStatus,
  type ReturnOrderView,
  type SalesItemView,
  type SalesOrderView,
  type StatusDescription,
  type TokenResponse,
  type WebhookSubscriptionView,
} from './model';
import { listChangedReturnOrders, type ReturnOrderChangesPage } from './changes';
import { createOutbox, type Subscription } from './outbox';
import { defaultDisposition, defaultPhysicalTuning, flowPath, planPhysical, scheduleAfter, type PhysicalTuning } from './physical';
import {
  parseBody,
  returnOrderRequest,
  salesOrderRequest,
  simAdvanceRequest,
  simLateUnitRequest,
  validationFailed,
  webhookSubscriptionRequest,
  type SimAdvanceRequest,
  type SimLateUnitRequest,
} from './requests';
import {
  eventViews,
  holdsUnits,
  isTerminal,
  itemProcessedBody,
  locationFor,
  placeholderLabel,
  refundTriggerBody,
  returnOrderTruth,
  returnOrderView,
  trackingUpdateBody,
  type ExtraState,
  type ReturnOrderState,
  type UnitState,
} from './return-order';
import { reboundRoutes } from './routes';
import { httpWebhookTransport, type WebhookTransport } from './transport';

// The simulated ReBound: state and behaviour with no HTTP in it. Everything happens on the injected clock; the
// world catches up lazily in advance(), which every API call runs first, so a fake clock jumping a week moves
// every parcel through the milestones it passed in that week, in time order.
// ReBound creates returns only against pre-advised sales orders and never for more units than were ordered
// (counting earlier live returns): the bridge relies on both, so both are enforced here.

export interface ReboundSimOptions {
  clock: Clock;
  rng: Rng;
  scenario: Scenario;
  credentials: { clientId: string; clientSecret: string };
  /** A plausible different SKU for a wrong-SKU parcel (the world knows the catalogue). */
  pickOtherSku(rng: Rng, notSku: string): string;
  /** flowKey → flow. When given, any other flowKey is refused with 403; no flowKey means the main (STANDARD) flow. */
  flows?: Record<string, ReboundFlow>;
  /** Which refund-trigger variants the client has configured (§1.8). Defaults to both. */
  refundTriggerTypes?: readonly RefundTriggerType[];
  physical?: Partial<PhysicalTuning>;
  /** 1800 by default (§6.1). */
  tokenLifetimeSeconds?: number;
  /** Real milliseconds a receiver has to answer before the attempt counts as failed (10 s, §6.5). */
  webhookTimeoutMs?: number;
  transport?: WebhookTransport;
  /** How long a notification that will never be sent again stays in the truth (default: the retry window, §6.5). */
  keepSettledNotificationsMs?: number;
}

export interface ReboundSim {
  readonly clock: Clock;
  /** Stream for HTTP-level draws (faults), kept apart so they never shift the world's own streams. */
  readonly httpRng: Rng;
  readonly routes: Route<ReboundSim>[];
  /** Catches up with the clock: moves parcels, creates notifications and starts every delivery that is due. */
  advance(): void;
  /** Waits for the webhook POSTs already started. Retries wait for the sandbox clock and the next advance(). */
  flushDeliveries(): Promise<void>;
  /**
   * The next sandbox time at which ReBound does something on its own: a parcel moves (and may notify) or a delivery
   * is due. Null when nothing is scheduled. What a client learns only by asking is not an event here.
   */
  nextEventAt(): number | null;
  truth(): ReboundTruth;

  issueToken(request: { grantType: string | null; clientId: string | null; clientSecret: string | null }): ReboundResult<TokenResponse>;
  /** Checks an Authorization header; the value names the client the token was issued to. */
  authenticate(authorization: string | undefined): ReboundResult<{ clientId: string }>;
  createSalesOrder(body: unknown, options: { flowKey: string | null; overwrite: boolean }): ReboundResult<SalesOrderView>;
  getSalesOrder(clientOrderId: string): ReboundResult<SalesOrderView>;
  createReturnOrder(body: unknown, options: { flowKey: string | null }): ReboundResult<ReturnOrderView>;
  getReturnOrder(reboundOrderId: string): ReboundResult<ReturnOrderView>;
  listReturnOrders(clientOrderId: string | null): ReboundResult<{ returnOrders: ReturnOrderView[] }>;
  /** §6.2 `GET /return-orders?updatedFrom=`: the return orders changed in a window (ids, status, updatedAt), a page at a time. */
  listChangedReturnOrders(query: URLSearchParams): ReboundResult<ReturnOrderChangesPage>;
  listReturnOrderEvents(reboundOrderId: string): ReboundResult<{ reboundOrderId: string; events: ReturnEventView[] }>;
  cancelReturnOrder(reboundOrderId: string): ReboundResult<ReturnOrderView>;
  putWebhookSubscription(type: string, body: unknown): ReboundResult<WebhookSubscriptionView>;
  /** Test hook (§6.2 `/_sim/…/advance`): moves one order to `event` now, optionally changing what arrives. */
  simAdvanceReturnOrder(reboundOrderId: string, body: unknown): ReboundResult<ReturnOrderView>;
  /**
   * Test hook (`/_sim/…/late-unit`): a unit the customer asked to return, missing when the order's contents were
   * registered, reaches the hub now and is registered (and graded, when the order was already processed), with the
   * notifications ReBound sends for it. Never more units than were requested: without one missing, 422.
   */
  simLateUnit(reboundOrderId: string, body: unknown): ReboundResult<ReturnOrderView>;
  /**
   * Test hook (`/_sim/…/expire-registered`): ReBound contradicts itself — an order whose contents it registered is
   * reported EXPIRED now (nothing came back), while its items still show received. Seen in the field (issue 24); the
   * bridge must raise it, never count those units both as received and as lost.
   */
  simExpireRegistered(reboundOrderId: string): ReboundResult<ReturnOrderView>;
}

interface SalesOrderState {
  view: SalesOrderView;
  createdAt: number;
  updatedAt: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const fail = (status: number, code: string, message: string): { ok: false; error: ReboundApiError } => ({ ok: false, error: { status, code, message } });
const clone = <T>(value: T): T => structuredClone(value);

export function createReboundSim(options: ReboundSimOptions): ReboundSim {
  const { clock, rng, scenario } = options;
  const tuning: PhysicalTuning = { ...defaultPhysicalTuning, ...options.physical };
  const refundTriggerTypes = options.refundTriggerTypes ?? ['instantRefund', 'itemRegistration'];
  const tokenLifetimeMs = (options.tokenLifetimeSeconds ?? 1800) * 1000;

  const tokens = new Map<string, { clientId: string; expiresAt: number }>();
  const salesOrders = new Map<string, SalesOrderState>();
  const returnOrders = new Map<string, ReturnOrderState>();
  const returnOrdersByClientOrder = new Map<string, ReturnOrderState[]>();
  const active = new Set<ReturnOrderState>();
  const usedIds = new Set<string>();
  const usedTrackingNumbers = new Set<string>();
  const itemsKeyCounts = new Map<string, number>();
  const subscriptions = new Map<NotificationType, Subscription>();
  const counters: Omit<ReboundCounters, 'returnOrdersByStatus' | 'notifications'> = {
    tokensIssued: 0,
    tokenRequestsRefused: 0,
    unauthorizedCalls: 0,
    salesOrders: 0,
    salesOrderOverwrites: 0,
    returnOrders: 0,
    returnOrdersRefused: 0,
  };

  const outbox = createOutbox({
    clock,
    rng: rng.fork('notifications'),
    scenario,
    transport: options.transport ?? httpWebhookTransport,
    timeoutMs: options.webhookTimeoutMs ?? 10_000,
    ...(options.keepSettledNotificationsMs !== undefined ? { keepSettledMs: options.keepSettledNotificationsMs } : {}),
    subscription: (type) => subscriptions.get(type),
    isOrderSettled: (id) => (returnOrders.get(id)?.pending.length ?? 0) === 0,
  });

  function newId(prefix: '687' | '987', stream: Rng): string {
    let id = ssccId(prefix, stream);
    while (usedIds.has(id)) id = ssccId(prefix, stream);
    usedIds.add(id);
    return id;
  }

  function newTrackingNumber(stream: Rng): string {
    let tn = trackingNumber(stream);
    while (usedTrackingNumbers.has(tn)) tn = trackingNumber(stream);
    usedTrackingNumbers.add(tn);
    return tn;
  }

  function checkFlowKey(flowKey: string | null): { ok: false; error: ReboundApiError } | null {
    if (flowKey === null || !options.flows || flowKey in options.flows) return null;
    return fail(403, 'forbidden', `flowKey ${flowKey} is not configured for this client`);
  }

  function flowOf(flowKey: string | null): ReboundFlow {
    return (flowKey !== null ? options.flows?.[flowKey] : undefined) ?? 'STANDARD';
  }

  function notify(ro: ReturnOrderState, type: NotificationType, event: StatusDescription | RefundTriggerType, at: number, body: unknown): void {
    outbox.enqueue({ type, reboundOrderId: ro.reboundOrderId, event, at, body });
  }

  function setStatus(ro: ReturnOrderState, status: ReturnOrderStatus, at: number): void {
    ro.status = status;
    ro.location = locationFor(ro, status);
    ro.updatedAt = at;
    ro.history.push({ status, at, location: ro.location });
  }

  function applyMilestone(ro: ReturnOrderState, status: MilestoneStatus, at: number): void {
    setStatus(ro, status, at);
    switch (status) {
      case 'IN_CARRIER_NETWORK':
        ro.plan.isParcelSent = true;
        notify(ro, 'trackingUpdate', 'postalIncoming', at, trackingUpdateBody(ro, 'postalIncoming', at));
        if (refundTriggerTypes.includes('instantRefund')) notify(ro, 'refundTrigger', 'instantRefund', at, refundTriggerBody(ro, 'instantRefund'));
        return;
      case 'AT_HUB':
        notify(ro, 'trackingUpdate', 'hubArrival', at, trackingUpdateBody(ro, 'hubArrival', at));
        return;
      case 'ITEMS_REGISTERED':
        ro.registeredAt = at;
        if (refundTriggerTypes.includes('itemRegistration')) notify(ro, 'refundTrigger', 'itemRegistration', at, refundTriggerBody(ro, 'itemRegistration'));
        return;
      case 'PROCESSED':
        ro.processedAt = at;
        notify(ro, 'itemProcessed', 'processed', at, itemProcessedBody(ro, at));
        return;
      case 'DELIVERED_TO_CLIENT':
        notify(ro, 'trackingUpdate', 'deliveredToClient', at, trackingUpdateBody(ro, 'deliveredToClient', at));
        return;
      case 'EXPIRED':
        ro.plan.isParcelSent = false;
        notify(ro, 'trackingUpdate', 'expired', at, trackingUpdateBody(ro, 'expired', at));
        return;
    }
  }

  function advance(): void {
    const now = clock.now();
    const due: { ro: ReturnOrderState; status: MilestoneStatus; at: number }[] = [];
    for (const ro of active) {
      for (const m of ro.pending) {
        if (m.at > now) break;
        due.push({ ro, status: m.status, at: m.at });
      }
    }
    // Across orders in time order, so notifications are created in the order the world produced them.
    due.sort((a, b) => a.at - b.at || a.ro.seq - b.ro.seq);
    for (const step of due) {
      step.ro.pending.shift();
      applyMilestone(step.ro, step.status, step.at);
      if (step.ro.pending.length === 0) active.delete(step.ro);
    }
    outbox.dispatchDue();
  }

  function findReturnOrder(id: string): ReturnOrderState | { ok: false; error: ReboundApiError } {
    return returnOrders.get(id) ?? fail(404, 'not_found', `No return order ${id}`);
  }

  function createReturnOrder(body: unknown, flowKeyParam: string | null): ReboundResult<ReturnOrderView> {
    const parsed = parseBody(returnOrderRequest, body);
    if (!parsed.ok) return parsed;
    const request = parsed.value;
    const salesOrder = salesOrders.get(request.clientOrderId);
    if (!salesOrder) {
      return {
        ok: false,
        error: validationFailed(`No sales order ${request.clientOrderId} was pre-advised: ReBound creates return orders only against a known sales order`, [
          { field: 'clientOrderId', issue: 'unknown clientOrderId; POST /sales-orders first' },
        ]),
      };
    }
    const flowKey = flowKeyParam ?? salesOrder.view.flowKey;
    const refused = checkFlowKey(flowKey);
    if (refused) return refused;

    const lines: { line: SalesItemView; quantity: number; reasonCode: string; wish: string | null; comment: string | null }[] = [];
    const details: { field: string; issue: string }[] = [];
    request.items.forEach((item, index) => {
      const byId = item.clientItemId !== undefined ? salesOrder.view.salesItems.find((s) => s.clientItemId === item.clientItemId) : undefined;
      const bySku = item.sku !== undefined ? salesOrder.view.salesItems.filter((s) => s.sku === item.sku) : [];
      let line: SalesItemView | undefined;
      if (item.clientItemId !== undefined) {
        if (!byId) details.push({ field: `items[${index}].clientItemId`, issue: `no item ${item.clientItemId} on sales order ${request.clientOrderId}` });
        else if (item.sku !== undefined && item.sku !== byId.sku) details.push({ field: `items[${index}].sku`, issue: `item ${byId.clientItemId} has SKU ${byId.sku}, not ${item.sku}` });
        else line = byId;
      } else if (bySku.length === 0) details.push({ field: `items[${index}].sku`, issue: `no item with SKU ${item.sku ?? ''} on sales order ${request.clientOrderId}` });
      else if (bySku.length > 1) details.push({ field: `items[${index}].sku`, issue: `SKU ${item.sku ?? ''} is on several lines; give clientItemId` });
      else line = bySku[0];
      if (line) lines.push({ line, quantity: Number(item.quantity), reasonCode: item.reasonCode, wish: item.wish ?? 'REFUND', comment: item.comment ?? null });
    });
    if (details.length === 0) {
      const earlier = (returnOrdersByClientOrder.get(request.clientOrderId) ?? []).filter(holdsUnits);
      const requested = new Map<string, number>();
      for (const l of lines) requested.set(l.line.clientItemId, (requested.get(l.line.clientItemId) ?? 0) + l.quantity);
      request.items.forEach((_, index) => {
        const l = lines[index];
        if (!l) return;
        const id = l.line.clientItemId;
        const ordered = Number(l.line.quantity);
        const onReturn = earlier.flatMap((ro) => ro.units.filter((u) => u.line.clientItemId === id).map(() => ro.reboundOrderId));
        const wanted = requested.get(id) ?? 0;
        if (onReturn.length + wanted > ordered) {
          const where = onReturn.length > 0 ? ` and ${onReturn.length} already on return order(s) ${[...new Set(onReturn)].join(', ')}` : '';
          details.push({ field: `items[${index}].quantity`, issue: `${wanted} requested for ${id}, but ${ordered} ordered${where}` });
        }
      });
    }
    if (details.length > 0) {
      counters.returnOrdersRefused++;
      return { ok: false, error: validationFailed('The return order cannot be created', details) };
    }

    const now = clock.now();
    const itemsKey = lines
      .map((l) => `${l.line.clientItemId}x${l.quantity}`)
      .sort()
      .join(',');
    const keyBase = `${request.clientOrderId}|${itemsKey}`;
    const ordinal = itemsKeyCounts.get(keyBase) ?? 0;
    itemsKeyCounts.set(keyBase, ordinal + 1);
    // Keyed by what is returned (and how many times the same return was made), never by arrival order.
    const fork = rng.fork(`returnOrder:${keyBase}#${ordinal}`);
    const ids = fork.fork('ids');
    const reboundOrderId = newId('687', ids);
    const units: UnitState[] = lines.flatMap((l) =>
      Array.from({ length: l.quantity }, () => ({
        reboundItemId: newId('987', ids),
        line: l.line,
        reasonCode: l.reasonCode,
        wish: l.wish,
        comment: l.comment,
        fate: 'announced' as const,
        grade: 'NOT_RECEIVED' as const,
        disposition: null,
        late: null,
      })),
    );
    const tn = newTrackingNumber(ids);
    const plan = planPhysical({
      rng: fork,
      scenario,
      tuning,
      units: units.map((u) => ({ reboundItemId: u.reboundItemId, clientItemId: u.line.clientItemId, sku: u.line.sku })),
      pickOtherSku: options.pickOtherSku,
      newItemId: (stream) => newId('987', stream),
    });
    plan.units.forEach((p, i) => {
      const unit = units[i];
      if (!unit) return;
      unit.fate = p.fate;
      unit.grade = p.grade;
      unit.disposition = p.disposition;
    });
    const extras: ExtraState[] = plan.extras.map((e) => ({
      reboundItemId: e.reboundItemId,
      cause: e.cause,
      sku: e.sku,
      matchedLine: e.sku !== null ? (salesOrder.view.salesItems.find((s) => s.sku === e.sku) ?? null) : null,
      replacesReboundItemId: e.replacesReboundItemId,
      grade: e.grade,
      disposition: e.disposition,
    }));
    const flow = flowOf(flowKey);
    const ro: ReturnOrderState = {
      seq: returnOrders.size,
      reboundOrderId,
      clientOrderId: request.clientOrderId,
      flowKey,
      flow,
      currency: salesOrder.view.salesItems[0]?.commercialValueCurrency ?? 'GBP',
      createdAt: now,
      updatedAt: now,
      status: 'CREATED',
      location: null,
      history: [{ status: 'CREATED', at: now, location: null }],
      pending: [],
      parcel: { trackingNumber: tn, carrier: plan.carrier, labelBase64: placeholderLabel(tn, reboundOrderId) },
      lateParcels: [],
      units,
      extras,
      plan,
      registeredAt: null,
      processedAt: null,
    };
    setStatus(ro, 'LABEL_ISSUED', now);
    ro.pending = scheduleAfter(flow, plan, 'LABEL_ISSUED', now);
    returnOrders.set(reboundOrderId, ro);
    returnOrdersByClientOrder.set(request.clientOrderId, [...(returnOrdersByClientOrder.get(request.clientOrderId) ?? []), ro]);
    if (ro.pending.length > 0) active.add(ro);
    counters.returnOrders++;
    notify(ro, 'trackingUpdate', 'returnOrderCreated', now, trackingUpdateBody(ro, 'returnOrderCreated', now));
    outbox.dispatchDue();
    return { ok: true, status: 201, value: returnOrderView(ro) };
  }

  function simAdvance(ro: ReturnOrderState, request: SimAdvanceRequest): ReboundResult<ReturnOrderView> {
    const now = clock.now();
    const target = request.event;
    if (isTerminal(ro.status)) return { ok: false, error: validationFailed(`Return order ${ro.reboundOrderId} is ${ro.status} and cannot move any more`) };
    let steps: MilestoneStatus[];
    if (target === 'EXPIRED') {
      if (ro.status !== 'LABEL_ISSUED') return { ok: false, error: validationFailed(`Only an order whose parcel was never scanned can expire; this one is ${ro.status}`) };
      steps = ['EXPIRED'];
    } else {
      const path = flowPath(ro.flow, ro.plan.isDeliveredToClient || target === 'DELIVERED_TO_CLIENT');
      const from = ro.status === 'LABEL_ISSUED' ? -1 : path.indexOf(ro.status as MilestoneStatus);
      const to = path.indexOf(target);
      if (to < 0) return { ok: false, error: validationFailed(`A ${ro.flow} return order never reaches ${target}`) };
      if (to <= from) return { ok: false, error: validationFailed(`Return order ${ro.reboundOrderId} is already ${ro.status}, at or past ${target}`) };
      steps = path.slice(from + 1, to + 1);
    }

    const overrides = request.items ?? [];
    const details: { field: string; issue: string }[] = [];
    overrides.forEach((o, index) => {
      if ('unexpected' in o) {
        if (ro.registeredAt !== null) details.push({ field: `items[${index}]`, issue: 'the contents were already registered' });
        return;
      }
      if (!ro.units.some((u) => u.reboundItemId === o.reboundItemId)) details.push({ field: `items[${index}].reboundItemId`, issue: `not an item of ${ro.reboundOrderId}` });
      if (o.received !== undefined && ro.registeredAt !== null) details.push({ field: `items[${index}].received`, issue: 'the contents were already registered' });
      if ((o.grade !== undefined || o.disposition !== undefined) && ro.processedAt !== null) details.push({ field: `items[${index}].grade`, issue: 'the items were already graded' });
    });
    if (details.length > 0) return { ok: false, error: validationFailed('The advance request cannot be applied', details) };

    const salesItems = salesOrders.get(ro.clientOrderId)?.view.salesItems ?? [];
    const extraIds = rng.fork(`sim-advance:${ro.reboundOrderId}:${ro.extras.length}`);
    for (const o of overrides) {
      if ('unexpected' in o) {
        const sku = o.sku ?? null;
        ro.extras.push({
          reboundItemId: newId('987', extraIds),
          cause: 'unexpectedItem',
          sku,
          matchedLine: sku !== null ? (salesItems.find((s) => s.sku === sku) ?? null) : null,
          replacesReboundItemId: null,
          grade: 'UNEXPECTED',
          disposition: 'RESALE_HOLD',
        });
        continue;
      }
      const unit = ro.units.find((u) => u.reboundItemId === o.reboundItemId);
      if (!unit) continue;
      if (o.received !== undefined) {
        ro.extras = ro.extras.filter((e) => e.replacesReboundItemId !== unit.reboundItemId);
        unit.fate = o.received ? 'announced' : 'notSent';
      }
      if (o.grade !== undefined) {
        unit.grade = o.grade;
        unit.disposition = o.disposition ?? defaultDisposition(o.grade);
      } else if (o.disposition !== undefined) {
        unit.disposition = o.disposition;
      }
    }

    if (target === 'DELIVERED_TO_CLIENT') ro.plan.isDeliveredToClient = true;
    ro.pending = [];
    for (const status of steps) applyMilestone(ro, status, now);
    ro.pending = target === 'EXPIRED' ? [] : scheduleAfter(ro.flow, ro.plan, target, now);
    if (ro.pending.length > 0) active.add(ro);
    else active.delete(ro);
    outbox.dispatchDue();
    return { ok: true, status: 200, value: returnOrderView(ro) };
  }

  /**
   * A late unit reaches the hub. ReBound registers only what was asked for: a unit of this order that was missing when
   * the contents were registered (anything else that turns up is an unexpected item, see simAdvance). It keeps its
   * item id, so the order's items show it received; the order's status stays where it is (its updatedAt moves), and
   * ReBound tells the client as for any parcel: hubArrival for a parcel of its own, itemRegistration, and itemProcessed
   * when the order was already processed (otherwise it is graded with the rest when the order is processed).
   */
  function simLateUnit(ro: ReturnOrderState, request: SimLateUnitRequest): ReboundResult<ReturnOrderView> {
    const refuse = (message: string, field?: string, issue?: string): ReboundResult<ReturnOrderView> => ({
      ok: false,
      error: validationFailed(message, field && issue ? [{ field, issue }] : undefined),
    });
    if (ro.flow === 'DTR') return refuse(`Return order ${ro.reboundOrderId} is DTR: its parcel goes straight to the client and no hub registers its units`);
    if (isTerminal(ro.status)) return refuse(`Return order ${ro.reboundOrderId} is ${ro.status}: no unit can be registered on it any more`);
    if (ro.registeredAt === null) {
      return refuse(`The contents of return order ${ro.reboundOrderId} (${ro.status}) are not registered yet, so no unit can be late: make it arrive with the rest (advance with received: true)`);
    }
    if (request.clientItemId !== undefined && !ro.units.some((u) => u.line.clientItemId === request.clientItemId)) {
      return refuse(`Return order ${ro.reboundOrderId} has no item ${request.clientItemId}`, 'clientItemId', `not an item of ${ro.reboundOrderId}`);
    }
    let unit: UnitState | undefined;
    if (request.reboundItemId !== undefined) {
      unit = ro.units.find((u) => u.reboundItemId === request.reboundItemId);
      if (!unit) return refuse(`Return order ${ro.reboundOrderId} has no unit ${request.reboundItemId}`, 'reboundItemId', `not a unit of ${ro.reboundOrderId}`);
      if (unit.fate === 'announced') return refuse(`Unit ${unit.reboundItemId} is registered already`, 'reboundItemId', 'already registered');
      if (unit.fate === 'wrongSku') return refuse(`A different SKU arrived in place of unit ${unit.reboundItemId}; it is an unexpected item`, 'reboundItemId', 'arrived as a different SKU');
      if (request.clientItemId !== undefined && unit.line.clientItemId !== request.clientItemId) {
        return refuse(`Unit ${unit.reboundItemId} is on ${unit.line.clientItemId}, not ${request.clientItemId}`, 'clientItemId', `unit is on ${unit.line.clientItemId}`);
      }
    } else {
      unit = ro.units.find((u) => u.fate === 'notSent' && (request.clientItemId === undefined || u.line.clientItemId === request.clientItemId));
      if (!unit) {
        const where = request.clientItemId !== undefined ? ` of ${request.clientItemId}` : '';
        return refuse(`Every unit${where} the customer asked to return on ${ro.reboundOrderId} is registered already (or arrived as another SKU): ReBound never registers more units than were requested`);
      }
    }

    const now = clock.now();
    let trackingNumber: string | null = null;
    if ((request.arrival ?? 'separateParcel') === 'separateParcel') {
      trackingNumber = newTrackingNumber(rng.fork(`late-parcel:${ro.reboundOrderId}:${ro.lateParcels.length}`));
      ro.lateParcels.push({ trackingNumber, carrier: ro.parcel.carrier, labelBase64: placeholderLabel(trackingNumber, ro.reboundOrderId) });
    }
    unit.fate = 'announced';
    unit.late = { registeredAt: now, trackingNumber };
    if (request.grade !== undefined) {
      unit.grade = request.grade;
      unit.disposition = request.disposition ?? defaultDisposition(request.grade);
    } else if (request.disposition !== undefined) {
      unit.disposition = request.disposition;
    }
    ro.updatedAt = now;
    const scope = { trackingNumber, itemIds: new Set([unit.reboundItemId]) };
    if (trackingNumber !== null) notify(ro, 'trackingUpdate', 'hubArrival', now, trackingUpdateBody(ro, 'hubArrival', now, scope));
    if (refundTriggerTypes.includes('itemRegistration')) notify(ro, 'refundTrigger', 'itemRegistration', now, refundTriggerBody(ro, 'itemRegistration', scope));
    if (ro.processedAt !== null) notify(ro, 'itemProcessed', 'processed', now, itemProcessedBody(ro, now, scope));
    outbox.dispatchDue();
    return { ok: true, status: 200, value: returnOrderView(ro) };
  }

  function simExpireRegistered(ro: ReturnOrderState): ReboundResult<ReturnOrderView> {
    if (isTerminal(ro.status)) return { ok: false, error: validationFailed(`Return order ${ro.reboundOrderId} is ${ro.status} and cannot move any more`) };
    if (ro.registeredAt === null) {
      return { ok: false, error: validationFailed(`The contents of return order ${ro.reboundOrderId} (${ro.status}) are not registered: expire it with advance (event EXPIRED)`) };
    }
    ro.pending = [];
    active.delete(ro);
    applyMilestone(ro, 'EXPIRED', clock.now());
    outbox.dispatchDue();
    return { ok: true, status: 200, value: returnOrderView(ro) };
  }

  function truth(): ReboundTruth {
    const notifications = outbox.truth();
    const byStatus: ReboundCounters['returnOrdersByStatus'] = {};
    for (const ro of returnOrders.values()) byStatus[ro.status] = (byStatus[ro.status] ?? 0) + 1;
    return {
      at: iso(clock.now()),
      salesOrders: [...salesOrders.values()].map((s) => ({
        clientOrderId: s.view.clientOrderId,
        flowKey: s.view.flowKey,
        lines: s.view.salesItems.map((i) => ({ clientItemId: i.clientItemId, sku: i.sku, quantity: Number(i.quantity) })),
        createdAt: iso(s.createdAt),
        updatedAt: iso(s.updatedAt),
      })),
      returnOrders: [...returnOrders.values()].map(returnOrderTruth),
      notifications,
      subscriptions: [...subscriptions.entries()].map(([type, s]) => ({ type, url: s.url, hasSecret: s.secret !== null, hasAuthorizationHeader: s.authorizationHeader !== null })),
      counters: {
        ...counters,
        returnOrdersByStatus: byStatus,
        notifications: outbox.counts(),
      },
    };
  }

  const sim: ReboundSim = {
    clock,
    httpRng: rng.fork('http'),
    routes: reboundRoutes,
    advance,
    flushDeliveries: () => outbox.flush(),
    nextEventAt() {
      let next = outbox.nextDueAt();
      for (const ro of active) {
        const at = ro.pending[0]?.at;
        if (at !== undefined && (next === null || at < next)) next = at;
      }
      return next;
    },
    truth() {
      advance();
      return truth();
    },

    issueToken({ grantType, clientId, clientSecret }) {
      if (grantType !== 'client_credentials') {
        counters.tokenRequestsRefused++;
        return fail(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
      }
      if (clientId !== options.credentials.clientId || clientSecret === null || !sameSecret(clientSecret, options.credentials.clientSecret)) {
        counters.tokenRequestsRefused++;
        return fail(401, 'unauthorized', 'Unknown client_id or wrong client_secret');
      }
      const now = clock.now();
      for (const [token, t] of tokens) if (t.expiresAt <= now) tokens.delete(token);
      counters.tokensIssued++;
      let token = opaqueToken(rng.fork(`token:${counters.tokensIssued}`));
      while (tokens.has(token)) token = opaqueToken(rng.fork(`token:${counters.tokensIssued}:${token}`));
      tokens.set(token, { clientId, expiresAt: now + tokenLifetimeMs });
      return { ok: true, status: 200, value: { access_token: token, token_type: 'Bearer', expires_in: Math.floor(tokenLifetimeMs / 1000) } };
    },

    authenticate(authorization) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
      const refuse = (message: string) => {
        counters.unauthorizedCalls++;
        return fail(401, 'unauthorized', message);
      };
      if (!match?.[1]) return refuse('Send Authorization: Bearer <access token> (POST /oauth/token)');
      const token = tokens.get(match[1]);
      if (!token) return refuse('Unknown access token');
      if (token.expiresAt <= clock.now()) {
        tokens.delete(match[1]);
        return refuse('The access token has expired; request a new one');
      }
      return { ok: true, status: 200, value: { clientId: token.clientId } };
    },

    createSalesOrder(body, { flowKey, overwrite }) {
      advance();
      const refused = checkFlowKey(flowKey);
      if (refused) return refused;
      const parsed = parseBody(salesOrderRequest, body);
      if (!parsed.ok) return parsed;
      const o = parsed.value;
      const existing = salesOrders.get(o.clientOrderId);
      if (existing && !overwrite) {
        return fail(409, 'duplicate_client_order_id', `Sales order ${o.clientOrderId} already exists; send ?overwrite=true to replace it`);
      }
      const now = clock.now();
      const createdAt = existing?.createdAt ?? now;
      const view: SalesOrderView = {
        clientOrderId: o.clientOrderId,
        flowKey,
        clientOrderCreatedDate: o.clientOrderCreatedDate ?? null,
        rmaNumber: o.rmaNumber ?? null,
        businessUnit: o.businessUnit ?? null,
        premiumOrder: o.premiumOrder ?? false,
        labelBase64Enabled: o.labelBase64Enabled ?? false,
        customerAddress: o.customerAddress ? clone(o.customerAddress) : null,
        salesItems: o.salesItems.map((i) => ({
          clientItemId: i.clientItemId,
          sku: i.sku,
          ean: i.ean ?? '',
          articleDescription: i.articleDescription ?? '',
          quantity: i.quantity,
          commercialValue: i.commercialValue ?? '0.00',
          commercialValueCurrency: i.commercialValueCurrency ?? 'GBP',
          hsCode: i.hsCode ?? '',
          countryOfOrigin: i.countryOfOrigin ?? '',
        })),
        clientMetadata: (o.clientMetadata ?? []).map((m) => ({ key: m.key, value: m.value })),
        createdAt: iso(createdAt),
        updatedAt: iso(now),
      };
      salesOrders.set(o.clientOrderId, { view, createdAt, updatedAt: now });
      if (existing) counters.salesOrderOverwrites++;
      else counters.salesOrders++;
      return { ok: true, status: existing ? 200 : 201, value: clone(view) };
    },

    getSalesOrder(clientOrderId) {
      const found = salesOrders.get(clientOrderId);
      return found ? { ok: true, status: 200, value: clone(found.view) } : fail(404, 'not_found', `No sales order ${clientOrderId}`);
    },

    createReturnOrder(body, { flowKey }) {
      advance();
      return createReturnOrder(body, flowKey);
    },

    getReturnOrder(id) {
      advance();
      const ro = findReturnOrder(id);
      return 'ok' in ro ? ro : { ok: true, status: 200, value: returnOrderView(ro) };
    },

    listReturnOrders(clientOrderId) {
      advance();
      if (clientOrderId === null || clientOrderId === '') return { ok: false, error: validationFailed('clientOrderId is required', [{ field: 'clientOrderId', issue: 'query parameter is required' }]) };
      const list = [...(returnOrdersByClientOrder.get(clientOrderId) ?? [])].sort((a, b) => b.createdAt - a.createdAt || b.seq - a.seq);
      return { ok: true, status: 200, value: { returnOrders: list.map(returnOrderView) } };
    },

    listChangedReturnOrders(query) {
      advance();
      return listChangedReturnOrders(returnOrders.values(), query);
    },

    listReturnOrderEvents(id) {
      advance();
      const ro = findReturnOrder(id);
      return 'ok' in ro ? ro : { ok: true, status: 200, value: { reboundOrderId: ro.reboundOrderId, events: eventViews(ro) } };
    },

    cancelReturnOrder(id) {
      advance();
      const ro = findReturnOrder(id);
      if ('ok' in ro) return ro;
      // Cancelling twice answers like the first time: a client whose first answer was lost may safely retry.
      if (ro.status === 'CANCELLED') return { ok: true, status: 200, value: returnOrderView(ro) };
      if (ro.status !== 'CREATED' && ro.status !== 'LABEL_ISSUED') {
        const scan = ro.history.find((h) => h.status === 'IN_CARRIER_NETWORK');
        const why = scan
          ? `its parcel was scanned into the carrier network at ${iso(scan.at)} (now ${ro.status})`
          : `it is ${ro.status}`;
        return {
          ok: false,
          error: validationFailed(`Return order ${id} cannot be cancelled: ${why}. A return order can be cancelled only before the first carrier scan.`, [
            { field: 'status', issue: `${ro.status} is past the first carrier scan` },
          ]),
        };
      }
      const now = clock.now();
      setStatus(ro, 'CANCELLED', now);
      ro.pending = [];
      active.delete(ro);
      notify(ro, 'trackingUpdate', 'cancelled', now, trackingUpdateBody(ro, 'cancelled', now));
      outbox.dispatchDue();
      return { ok: true, status: 200, value: returnOrderView(ro) };
    },

    putWebhookSubscription(type, body) {
      advance();
      if (!isNotificationType(type)) {
        return { ok: false, error: validationFailed(`Unknown notification type ${type}`, [{ field: 'type', issue: `must be one of ${notificationTypes.join(', ')}` }]) };
      }
      const parsed = parseBody(webhookSubscriptionRequest, body);
      if (!parsed.ok) return parsed;
      const now = clock.now();
      const subscription: Subscription = { url: parsed.value.url, secret: parsed.value.secret ?? null, authorizationHeader: parsed.value.authorizationHeader ?? null, updatedAt: now };
      subscriptions.set(type, subscription);
      return {
        ok: true,
        status: 200,
        value: { type, url: subscription.url, hasSecret: subscription.secret !== null, hasAuthorizationHeader: subscription.authorizationHeader !== null, updatedAt: iso(now) },
      };
    },

    simAdvanceReturnOrder(id, body) {
      advance();
      const ro = findReturnOrder(id);
      if ('ok' in ro) return ro;
      const parsed = parseBody(simAdvanceRequest, body);
      if (!parsed.ok) return parsed;
      return simAdvance(ro, parsed.value);
    },

    simLateUnit(id, body) {
      advance();
      const ro = findReturnOrder(id);
      if ('ok' in ro) return ro;
      const parsed = parseBody(simLateUnitRequest, body ?? {});
      if (!parsed.ok) return parsed;
      return simLateUnit(ro, parsed.value);
    },
    simExpireRegistered(id) {
      advance();
      const ro = findReturnOrder(id);
      return 'ok' in ro ? ro : simExpireRegistered(ro);
    },
  };
  return sim;
}

function isNotificationType(value: string): value is NotificationType {
  return (notificationTypes as readonly string[]).includes(value);
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

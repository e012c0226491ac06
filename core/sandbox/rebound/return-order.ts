import type {
  Disposition,
  ExtraUnitTruth,
  Grade,
  LineTruth,
  MilestoneStatus,
  PhysicalAnomaly,
  ReboundFlow,
  ReturnEventView,
  ReturnItemView,
  ReturnOrderStatus,
  ReturnOrderTruth,
  ReturnOrderView,
  SalesItemView,
  StatusDescription,
  UnitTruth,
} from './model';
import { NOT_AVAILABLE } from './model';
import type { PhysicalPlan } from './physical';

// One return order's state and every way it is shown: API views, notification bodies (which mirror the confirmed
// §1.8 payloads field for field) and ground truth. Views are fresh objects each time, because the HTTP layer may
// decorate an answer (unknown enums, extra fields) and must never reach the state.

export interface UnitState {
  reboundItemId: string;
  line: SalesItemView;
  reasonCode: string;
  wish: string | null;
  comment: string | null;
  fate: 'announced' | 'notSent' | 'wrongSku';
  grade: Grade;
  disposition: Disposition | null;
  /**
   * Set for a late unit: one the customer asked to return that was missing when the order's contents were registered
   * and reached the hub afterwards (in a parcel of its own, or found later at the hub), registered then.
   */
  late: { registeredAt: number; trackingNumber: string | null } | null;
}

export interface ExtraState {
  reboundItemId: string;
  cause: 'wrongSku' | 'unexpectedItem';
  sku: string | null;
  /** The sales-order line whose SKU it matched, when ReBound could match it at all. */
  matchedLine: SalesItemView | null;
  replacesReboundItemId: string | null;
  grade: Grade;
  disposition: Disposition | null;
}

export interface ReturnOrderState {
  seq: number;
  reboundOrderId: string;
  clientOrderId: string;
  flowKey: string | null;
  flow: ReboundFlow;
  currency: string;
  createdAt: number;
  updatedAt: number;
  status: ReturnOrderStatus;
  location: string | null;
  history: { status: ReturnOrderStatus; at: number; location: string | null }[];
  pending: { status: MilestoneStatus; at: number }[];
  parcel: { trackingNumber: string; carrier: string; labelBase64: string };
  /** Parcels that brought late units, after the first one's contents were registered. */
  lateParcels: { trackingNumber: string; carrier: string; labelBase64: string }[];
  units: UnitState[];
  extras: ExtraState[];
  plan: PhysicalPlan;
  registeredAt: number | null;
  processedAt: number | null;
}

export const CARRIER_LOCATION = 'GB_RML_CarrierNetwork';
export const CLIENT_LOCATION = 'GB_CLI_ClientWarehouse';

export const statusDescriptions: Record<ReturnOrderStatus, StatusDescription> = {
  CREATED: 'returnOrderCreated',
  LABEL_ISSUED: 'labelIssued',
  IN_CARRIER_NETWORK: 'postalIncoming',
  AT_HUB: 'hubArrival',
  ITEMS_REGISTERED: 'itemsRegistered',
  PROCESSED: 'processed',
  DELIVERED_TO_CLIENT: 'deliveredToClient',
  CANCELLED: 'cancelled',
  EXPIRED: 'expired',
};

export function isTerminal(status: ReturnOrderStatus): boolean {
  return status === 'CANCELLED' || status === 'EXPIRED' || status === 'DELIVERED_TO_CLIENT';
}

/** Whether this order still holds units against its sales order (for the ordered-quantity check). */
export function holdsUnits(ro: ReturnOrderState): boolean {
  return ro.status !== 'CANCELLED' && ro.status !== 'EXPIRED';
}

export function locationFor(ro: ReturnOrderState, status: ReturnOrderStatus): string | null {
  switch (status) {
    case 'IN_CARRIER_NETWORK':
      return CARRIER_LOCATION;
    case 'AT_HUB':
    case 'ITEMS_REGISTERED':
    case 'PROCESSED':
      return ro.plan.hub;
    case 'DELIVERED_TO_CLIENT':
      return CLIENT_LOCATION;
    default:
      return ro.location;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

function unitView(ro: ReturnOrderState, unit: UnitState): ReturnItemView {
  const isRegistered = ro.registeredAt !== null;
  const isProcessed = ro.processedAt !== null;
  const isReceived = unit.fate === 'announced';
  return {
    reboundItemId: unit.reboundItemId,
    clientItemId: unit.line.clientItemId,
    sku: unit.line.sku,
    ean: unit.line.ean,
    articleDescription: unit.line.articleDescription,
    commercialValue: unit.line.commercialValue,
    commercialValueCurrency: unit.line.commercialValueCurrency,
    quantity: '1',
    reasonCode: unit.reasonCode,
    wish: unit.wish,
    comment: unit.comment,
    received: isRegistered ? (isReceived ? '1' : '0') : null,
    grade: isProcessed ? (isReceived ? unit.grade : 'NOT_RECEIVED') : null,
    disposition: isProcessed && isReceived ? unit.disposition : null,
  };
}

function extraView(ro: ReturnOrderState, extra: ExtraState): ReturnItemView {
  const line = extra.matchedLine;
  return {
    reboundItemId: extra.reboundItemId,
    clientItemId: line?.clientItemId ?? NOT_AVAILABLE,
    sku: extra.sku ?? NOT_AVAILABLE,
    ean: line?.ean ?? NOT_AVAILABLE,
    articleDescription: line?.articleDescription ?? NOT_AVAILABLE,
    commercialValue: line?.commercialValue ?? '0.00',
    commercialValueCurrency: line?.commercialValueCurrency ?? ro.currency,
    quantity: '1',
    reasonCode: NOT_AVAILABLE,
    wish: null,
    comment: null,
    received: '1',
    grade: ro.processedAt !== null ? extra.grade : null,
    disposition: ro.processedAt !== null ? extra.disposition : null,
  };
}

/** Items as the API shows them: the announced units, plus what the hub found that nobody announced. */
export function itemViews(ro: ReturnOrderState): ReturnItemView[] {
  const announced = ro.units.map((u) => unitView(ro, u));
  return ro.registeredAt === null ? announced : [...announced, ...ro.extras.map((e) => extraView(ro, e))];
}

export function returnOrderView(ro: ReturnOrderState): ReturnOrderView {
  return {
    reboundOrderId: ro.reboundOrderId,
    clientOrderId: ro.clientOrderId,
    flowKey: ro.flowKey,
    flow: ro.flow,
    status: ro.status,
    createdAt: iso(ro.createdAt),
    updatedAt: iso(ro.updatedAt),
    location: ro.location,
    parcels: [ro.parcel, ...ro.lateParcels].map((p) => ({ trackingNumber: p.trackingNumber, carrier: p.carrier, label: { format: 'PDF' as const, base64: p.labelBase64 }, qrCodeUrl: null })),
    items: itemViews(ro),
  };
}

export function eventViews(ro: ReturnOrderState): ReturnEventView[] {
  return ro.history.map((h, i) => ({
    eventId: `${ro.reboundOrderId}-${String(i + 1).padStart(3, '0')}`,
    status: h.status,
    statusDescription: statusDescriptions[h.status],
    location: h.location,
    timestamp: iso(h.at),
  }));
}

// Notification bodies (§1.8 / §6.5).

function trackingItem(item: ReturnItemView) {
  return {
    reboundItemId: item.reboundItemId,
    clientItemId: item.clientItemId,
    ean: item.ean,
    sku: item.sku,
    reasonCode: item.reasonCode,
    articleDescription: item.articleDescription,
    commercialValue: item.commercialValue,
    commercialValueCurrency: item.commercialValueCurrency,
    quantity: item.quantity,
  };
}

function refundItem(item: ReturnItemView, quantity: string) {
  return { reboundItemId: item.reboundItemId, clientItemId: item.clientItemId, ean: item.ean, sku: item.sku, reasonCode: item.reasonCode, quantity };
}

/**
 * Which parcel a notification is about: the order's own (every item), or a later parcel or find that brought only
 * some units (a late unit), whose notifications list just those.
 */
export interface NotificationScope {
  trackingNumber: string | null;
  itemIds: ReadonlySet<string>;
}

function scopedItems(ro: ReturnOrderState, scope: NotificationScope | undefined): ReturnItemView[] {
  const items = itemViews(ro);
  return scope ? items.filter((i) => scope.itemIds.has(i.reboundItemId)) : items;
}

export function trackingUpdateBody(ro: ReturnOrderState, statusDescription: StatusDescription, at: number, scope?: NotificationScope) {
  return {
    order: {
      clientOrderId: ro.clientOrderId,
      reboundOrderId: ro.reboundOrderId,
      location: ro.location,
      trackingNumber: scope?.trackingNumber ?? ro.parcel.trackingNumber,
      statusDescription,
      timestamp: iso(at),
    },
    items: scopedItems(ro, scope).map(trackingItem),
  };
}

/** instantRefund lists the announced units (nothing is registered yet); itemRegistration lists what arrived. */
export function refundTriggerBody(ro: ReturnOrderState, triggerType: 'instantRefund' | 'itemRegistration', scope?: NotificationScope) {
  const items = scopedItems(ro, scope).filter((i) => triggerType === 'instantRefund' || i.received === '1');
  return {
    order: {
      reboundOrderId: ro.reboundOrderId,
      clientOrderId: ro.clientOrderId,
      location: ro.location,
      triggerType,
      items: items.map((i) => refundItem(i, '1')),
    },
  };
}

/** Every unit with its grade; a unit that never arrived is listed with quantity "0" and grade NOT_RECEIVED. */
export function itemProcessedBody(ro: ReturnOrderState, at: number, scope?: NotificationScope) {
  return {
    order: {
      reboundOrderId: ro.reboundOrderId,
      clientOrderId: ro.clientOrderId,
      location: ro.location,
      items: scopedItems(ro, scope).map((i) => ({
        ...refundItem(i, i.received === '1' ? '1' : '0'),
        grade: i.grade,
        disposition: i.disposition,
        inspectedAt: iso(at),
        images: i.received === '1' && i.grade !== 'A_SELLABLE' ? [`https://images.rebound.invalid/${encodeURIComponent(i.reboundItemId)}/1.jpg`] : [],
      })),
    },
  };
}

// Ground truth.

export function returnOrderTruth(ro: ReturnOrderState): ReturnOrderTruth {
  const isSent = ro.plan.isParcelSent;
  const isRegistered = ro.registeredAt !== null;
  const units: UnitTruth[] = ro.units.map((u) => {
    const isReceived = isRegistered && u.fate === 'announced';
    const registeredAt = u.late?.registeredAt ?? ro.registeredAt;
    return {
      reboundItemId: u.reboundItemId,
      clientItemId: u.line.clientItemId,
      sku: u.line.sku,
      fate: u.fate,
      isReceived,
      registeredAt: isReceived && registeredAt !== null ? iso(registeredAt) : null,
      // A late unit registered after the order was processed is graded there and then.
      gradedAt: isReceived && registeredAt !== null && ro.processedAt !== null ? iso(Math.max(registeredAt, ro.processedAt)) : null,
      isLate: u.late !== null,
      grade: isSent && u.fate === 'announced' ? u.grade : 'NOT_RECEIVED',
      disposition: isSent && u.fate === 'announced' ? u.disposition : null,
    };
  });
  const extraUnits: ExtraUnitTruth[] = ro.extras.map((e) => ({
    reboundItemId: e.reboundItemId,
    cause: e.cause,
    sku: e.sku,
    matchedClientItemId: e.matchedLine?.clientItemId ?? null,
    replacesReboundItemId: e.replacesReboundItemId,
    isReceived: isRegistered,
    grade: e.grade,
    disposition: e.disposition,
  }));
  const lines = new Map<string, LineTruth>();
  for (const u of ro.units) {
    const line = lines.get(u.line.clientItemId) ?? { clientItemId: u.line.clientItemId, sku: u.line.sku, requested: 0, sent: 0, received: 0, sellable: 0 };
    const isArriving = isSent && u.fate === 'announced';
    line.requested++;
    if (isArriving) line.sent++;
    if (isArriving && isRegistered) line.received++;
    if (isArriving && isRegistered && (u.grade === 'A_SELLABLE' || u.grade === 'B_SELLABLE_MINOR')) line.sellable++;
    lines.set(u.line.clientItemId, line);
  }
  return {
    reboundOrderId: ro.reboundOrderId,
    clientOrderId: ro.clientOrderId,
    flowKey: ro.flowKey,
    flow: ro.flow,
    createdAt: iso(ro.createdAt),
    status: ro.status,
    statusHistory: ro.history.map((h) => ({ status: h.status, at: iso(h.at), location: h.location })),
    plannedMilestones: ro.pending.map((p) => ({ status: p.status, at: iso(p.at) })),
    hub: ro.plan.hub,
    parcels: [ro.parcel, ...ro.lateParcels].map((p) => ({ trackingNumber: p.trackingNumber, carrier: p.carrier })),
    isParcelSent: isSent,
    anomalies: anomaliesOf(ro),
    lines: [...lines.values()],
    units,
    extraUnits,
  };
}

function anomaliesOf(ro: ReturnOrderState): PhysicalAnomaly[] {
  if (!ro.plan.isParcelSent) return ['parcelNeverSent'];
  const found = new Set<PhysicalAnomaly>();
  for (const u of ro.units) {
    if (u.fate === 'notSent') found.add('shortReceipt');
    if (u.late) found.add('lateUnit');
    if (u.fate === 'wrongSku') found.add('wrongSku');
    if (u.fate === 'announced' && u.grade === 'D_DAMAGED') found.add('damaged');
    if (u.fate === 'announced' && u.grade === 'C_NON_SELLABLE') found.add('nonSellable');
  }
  if (ro.extras.some((e) => e.cause === 'unexpectedItem')) found.add('unexpectedItem');
  const order: PhysicalAnomaly[] = ['parcelNeverSent', 'shortReceipt', 'lateUnit', 'wrongSku', 'unexpectedItem', 'damaged', 'nonSellable'];
  return order.filter((a) => found.has(a));
}

/** A one-page PDF naming the parcel: enough for a client to store and show, not a real carrier label. */
export function placeholderLabel(trackingNumber: string, reboundOrderId: string): string {
  const text = `ReBound sandbox label ${trackingNumber} ${reboundOrderId}`.replace(/[()\\]/g, '');
  const stream = `BT /F1 12 Tf 36 120 Td (${text}) Tj ET`;
  const pdf = [
    '%PDF-1.4',
    '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
    '2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj',
    '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >> endobj',
    `4 0 obj << /Length ${stream.length} >> stream\n${stream}\nendstream endobj`,
    '5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj',
    'trailer << /Root 1 0 R >>',
    '%%EOF',
  ].join('\n');
  return Buffer.from(pdf, 'utf8').toString('base64');
}

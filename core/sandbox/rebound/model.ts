// The simulated ReBound API's vocabulary (specs/rebound/NOTES.md §6). Wire shapes are camelCase with quantities
// and money as strings, as in the confirmed v2 payloads (§1.8); everything else here is the §6 proposal.

export const returnOrderStatuses = [
  'CREATED',
  'LABEL_ISSUED',
  'IN_CARRIER_NETWORK',
  'AT_HUB',
  'ITEMS_REGISTERED',
  'PROCESSED',
  'DELIVERED_TO_CLIENT',
  'CANCELLED',
  'EXPIRED',
] as const;
export type ReturnOrderStatus = (typeof returnOrderStatuses)[number];

/** A status reached by the parcel moving (or not), as opposed to the client creating or cancelling. */
export type MilestoneStatus = 'IN_CARRIER_NETWORK' | 'AT_HUB' | 'ITEMS_REGISTERED' | 'PROCESSED' | 'DELIVERED_TO_CLIENT' | 'EXPIRED';
export const milestoneStatuses: readonly MilestoneStatus[] = ['IN_CARRIER_NETWORK', 'AT_HUB', 'ITEMS_REGISTERED', 'PROCESSED', 'DELIVERED_TO_CLIENT', 'EXPIRED'];

export const grades = ['A_SELLABLE', 'B_SELLABLE_MINOR', 'C_NON_SELLABLE', 'D_DAMAGED', 'NOT_RECEIVED', 'UNEXPECTED'] as const;
export type Grade = (typeof grades)[number];
export const dispositions = ['RESTOCK', 'REFURBISH', 'RESALE_HOLD', 'RECYCLE', 'DONATE', 'DESTROY', 'RETURN_TO_CUSTOMER'] as const;
export type Disposition = (typeof dispositions)[number];

/** STANDARD goes through a ReBound hub; DTR (direct to retailer) skips every hub step (§1.1, §6.4). */
export type ReboundFlow = 'STANDARD' | 'DTR';

export const notificationTypes = ['trackingUpdate', 'refundTrigger', 'itemProcessed'] as const;
export type NotificationType = (typeof notificationTypes)[number];
export type RefundTriggerType = 'instantRefund' | 'itemRegistration';
export type StatusDescription =
  | 'returnOrderCreated'
  | 'labelIssued'
  | 'postalIncoming'
  | 'hubArrival'
  | 'itemsRegistered'
  | 'processed'
  | 'deliveredToClient'
  | 'cancelled'
  | 'expired';

/** §1.8: what ReBound writes where it could not match a registered item to the order. */
export const NOT_AVAILABLE = 'Not available';

export interface ApiErrorDetail {
  field: string;
  issue: string;
}
export interface ReboundApiError {
  status: number;
  code: string;
  message: string;
  details?: ApiErrorDetail[];
}
export type ReboundResult<T> = { ok: true; status: number; value: T } | { ok: false; error: ReboundApiError };

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

export interface CustomerAddress {
  name?: string;
  email?: string;
  phone?: string;
  line1?: string;
  line2?: string;
  city?: string;
  postcode?: string;
  countryCode?: string;
}

export interface SalesItemView {
  clientItemId: string;
  sku: string;
  ean: string;
  articleDescription: string;
  quantity: string;
  commercialValue: string;
  commercialValueCurrency: string;
  hsCode: string;
  countryOfOrigin: string;
}

export interface SalesOrderView {
  clientOrderId: string;
  flowKey: string | null;
  clientOrderCreatedDate: string | null;
  rmaNumber: string | null;
  businessUnit: string | null;
  premiumOrder: boolean;
  labelBase64Enabled: boolean;
  customerAddress: CustomerAddress | null;
  salesItems: SalesItemView[];
  clientMetadata: { key: string; value: string }[];
  createdAt: string;
  updatedAt: string;
}

export interface ParcelView {
  trackingNumber: string;
  carrier: string;
  label: { format: 'PDF'; base64: string };
  qrCodeUrl: string | null;
}

export interface ReturnItemView {
  reboundItemId: string;
  clientItemId: string;
  sku: string;
  ean: string;
  articleDescription: string;
  commercialValue: string;
  commercialValueCurrency: string;
  quantity: string;
  reasonCode: string;
  wish: string | null;
  comment: string | null;
  /** Null until the hub registers the parcel's contents, then "1" or "0". */
  received: string | null;
  grade: Grade | null;
  disposition: Disposition | null;
}

export interface ReturnOrderView {
  reboundOrderId: string;
  clientOrderId: string;
  flowKey: string | null;
  flow: ReboundFlow;
  status: ReturnOrderStatus;
  createdAt: string;
  updatedAt: string;
  location: string | null;
  parcels: ParcelView[];
  items: ReturnItemView[];
}

export interface ReturnEventView {
  eventId: string;
  status: ReturnOrderStatus;
  statusDescription: StatusDescription;
  location: string | null;
  timestamp: string;
}

export interface WebhookSubscriptionView {
  type: NotificationType;
  url: string;
  hasSecret: boolean;
  hasAuthorizationHeader: boolean;
  updatedAt: string;
}

// Ground truth: what physically happened and what was sent, for tests, the chaos harness and the reconciliation
// checks. Never part of the modelled API.

/** `lateUnit`: a unit the hub registered after the rest of the order's contents (a later parcel, or found later). */
export type PhysicalAnomaly = 'parcelNeverSent' | 'shortReceipt' | 'lateUnit' | 'wrongSku' | 'unexpectedItem' | 'damaged' | 'nonSellable';

export interface UnitTruth {
  reboundItemId: string;
  clientItemId: string;
  sku: string;
  /** What the customer put in the parcel for this announced unit ('announced' too for a late unit once it arrived). */
  fate: 'announced' | 'notSent' | 'wrongSku';
  /** True once the hub registered it (only units whose fate is 'announced' ever are). */
  isReceived: boolean;
  /** When the hub registered it: with the rest of the order's contents, or later for a late unit. */
  registeredAt: string | null;
  /** When the hub graded it (null until the order is processed; at once for a unit registered after that). */
  gradedAt: string | null;
  /** Registered after the rest of the order's contents (POST /_sim/return-orders/<id>/late-unit). */
  isLate: boolean;
  /** The grade the hub will give (or gave) it; NOT_RECEIVED when it never arrives. */
  grade: Grade;
  disposition: Disposition | null;
}

export interface ExtraUnitTruth {
  reboundItemId: string;
  cause: 'wrongSku' | 'unexpectedItem';
  /** The SKU that physically arrived; null for an item nobody could identify. */
  sku: string | null;
  /** The sales-order line ReBound matched it to by SKU, if any. */
  matchedClientItemId: string | null;
  /** For a wrong SKU: the announced unit it arrived instead of. */
  replacesReboundItemId: string | null;
  isReceived: boolean;
  grade: Grade;
  disposition: Disposition | null;
}

export interface LineTruth {
  clientItemId: string;
  sku: string;
  requested: number;
  sent: number;
  received: number;
  sellable: number;
}

export interface ReturnOrderTruth {
  reboundOrderId: string;
  clientOrderId: string;
  flowKey: string | null;
  flow: ReboundFlow;
  createdAt: string;
  status: ReturnOrderStatus;
  statusHistory: { status: ReturnOrderStatus; at: string; location: string | null }[];
  /** Milestones still to come, on sandbox time. */
  plannedMilestones: { status: MilestoneStatus; at: string }[];
  hub: string;
  parcels: { trackingNumber: string; carrier: string }[];
  isParcelSent: boolean;
  anomalies: PhysicalAnomaly[];
  lines: LineTruth[];
  units: UnitTruth[];
  extraUnits: ExtraUnitTruth[];
}

export interface DeliveryAttemptTruth {
  at: string;
  kind: 'delivery' | 'retry' | 'duplicate';
  /** HTTP status, or null when the connection failed. */
  status: number | null;
  error: string | null;
  isAck: boolean;
}

export interface NotificationTruth {
  deliveryId: string;
  type: NotificationType;
  reboundOrderId: string;
  event: StatusDescription | RefundTriggerType;
  createdAt: string;
  isHeldBack: boolean;
  isDuplicated: boolean;
  outcome: 'unsubscribed' | 'pending' | 'delivered' | 'abandoned';
  nextAttemptAt: string | null;
  attempts: DeliveryAttemptTruth[];
  body: unknown;
}

export interface ReboundCounters {
  tokensIssued: number;
  tokenRequestsRefused: number;
  unauthorizedCalls: number;
  salesOrders: number;
  salesOrderOverwrites: number;
  returnOrders: number;
  returnOrdersRefused: number;
  returnOrdersByStatus: Partial<Record<ReturnOrderStatus, number>>;
  notifications: {
    created: number;
    unsubscribed: number;
    pending: number;
    delivered: number;
    abandoned: number;
    attempts: number;
    failedAttempts: number;
    duplicatesSent: number;
    heldBack: number;
  };
}

export interface ReboundTruth {
  at: string;
  salesOrders: { clientOrderId: string; flowKey: string | null; lines: { clientItemId: string; sku: string; quantity: number }[]; createdAt: string; updatedAt: string }[];
  returnOrders: ReturnOrderTruth[];
  notifications: NotificationTruth[];
  subscriptions: { type: NotificationType; url: string; hasSecret: boolean; hasAuthorizationHeader: boolean }[];
  counters: ReboundCounters;
}

import { z } from 'zod';
import { moneyFiguresSchema } from './money';

// What the grids and the dashboard ask for. Every list is paged, sorted and filtered by the database, so a page
// costs the same with a thousand returns or a million. Money is integer minor units with its currency.

export const ownerTeams = ['finance', 'cs', 'warehouse', 'ops'] as const;
export const severities = ['critical', 'high', 'medium', 'low'] as const;
export const exceptionStates = ['open', 'in_review', 'snoozed', 'resolved'] as const;
export const ageBuckets = ['under_1d', '1_3d', '3_7d', 'over_7d'] as const;
export const refundStatuses = ['none', 'pending', 'partial', 'refunded', 'over'] as const;
export const driftFields = ['state', 'tracking', 'quantity', 'refund'] as const;
/**
 * The tables a row of the returns grid is read from (the recon_returns view: the base tables side by side, plus what a
 * reconciliation pass judged in recon_verdicts). A `data.changed` naming any of them changes what the grid shows.
 */
export const returnsGridTables = [
  'mirakl_returns',
  'mirakl_return_lines',
  'mirakl_orders',
  'rebound_return_orders',
  'units',
  'stock_increments',
  'recon_verdicts',
  'exceptions',
] as const;
export type ReturnsGridTable = (typeof returnsGridTables)[number];

const page = z
  .object({
    offset: z.number().int().nonnegative().max(10_000_000).default(0),
    limit: z.number().int().min(1).max(500).default(100),
  })
  .strict()
  .default({ offset: 0, limit: 100 });
const direction = z.enum(['asc', 'desc']);
/** ISO date or date-time, compared with the stored ISO timestamps. */
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?$/, 'expected an ISO date such as 2026-11-01');

export const returnSortFields = ['dateCreated', 'returnId', 'commercialId', 'miraklState', 'reboundStatus', 'refundStatus', 'refundedMinor', 'expectedRefundMinor'] as const;

export const returnsListInput = z
  .object({
    page,
    sort: z.object({ field: z.enum(returnSortFields), direction }).strict().default({ field: 'dateCreated', direction: 'desc' }),
    filter: z
      .object({
        /** A return id, order (commercial) id, RMA, tracking number, offer SKU or ReBound order id: exact match. */
        search: z.string().trim().min(1).max(200).optional(),
        miraklState: z.string().min(1).max(40).optional(),
        reboundStatus: z.string().min(1).max(40).optional(),
        refundStatus: z.enum(refundStatuses).optional(),
        drift: z.boolean().optional(),
        createdFrom: isoDate.optional(),
        createdTo: isoDate.optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export const returnRowSchema = z.object({
  returnId: z.string(),
  orderId: z.string(),
  commercialId: z.string(),
  rma: z.string().nullable(),
  dateCreated: z.string(),
  currency: z.string().nullable(),
  mirakl: z.object({ state: z.string(), trackingNumber: z.string().nullable(), requestedUnits: z.number().int() }),
  rebound: z.object({
    orderId: z.string().nullable(),
    status: z.string().nullable(),
    trackingNumber: z.string().nullable(),
    unitsArrived: z.number().int(),
    unitsMissing: z.number().int(),
    unitsSellable: z.number().int(),
  }),
  unitsRestocked: z.number().int(),
  expectedRefundMinor: z.number().int(),
  refundedMinor: z.number().int(),
  refundStatus: z.enum(refundStatuses),
  drift: z.boolean(),
  driftFields: z.array(z.enum(driftFields)),
  openExceptions: z.number().int(),
  /** The customer's name masked ("Z** H************"): to check it is the right person, never to show who. */
  customer: z.string().nullable(),
  /** The customer's email as Mirakl gives it (its anonymised forwarding address), masked the same way ("no**…@notification.mirakl.net"). */
  customerEmail: z.string().nullable(),
});
export type ReturnRow = z.infer<typeof returnRowSchema>;

/** `total` counts at most `totalCap` rows; `totalIsCapped` says there are more. */
const pageOf = <T extends z.ZodType>(row: T) =>
  z.object({ rows: z.array(row), total: z.number().int().nonnegative(), totalIsCapped: z.boolean(), offset: z.number().int() });

export const returnsListOutput = pageOf(returnRowSchema);

export const exceptionSortFields = ['detectedAt', 'severity', 'type', 'owner', 'slaDueAt', 'updatedAt'] as const;

export const exceptionsListInput = z
  .object({
    page,
    sort: z.object({ field: z.enum(exceptionSortFields), direction }).strict().default({ field: 'detectedAt', direction: 'asc' }),
    filter: z
      .object({
        /** Defaults to everything not resolved. */
        states: z.array(z.enum(exceptionStates)).min(1).max(4).optional(),
        type: z.string().min(1).max(60).optional(),
        owner: z.enum(ownerTeams).optional(),
        severity: z.enum(severities).optional(),
        assignee: z.string().min(1).max(120).optional(),
        unassigned: z.boolean().optional(),
        ageBucket: z.enum(ageBuckets).optional(),
        returnId: z.string().min(1).max(120).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export const exceptionRowSchema = z.object({
  id: z.number().int(),
  type: z.string(),
  title: z.string(),
  subjectKey: z.string(),
  severity: z.enum(severities),
  owner: z.enum(ownerTeams),
  assignee: z.string().nullable(),
  state: z.enum(exceptionStates),
  returnId: z.string().nullable(),
  /** The order id the customer knows (Mirakl's commercial id) of the exception's return. */
  orderId: z.string().nullable(),
  orderLineId: z.string().nullable(),
  offerSku: z.string().nullable(),
  cause: z.string(),
  nextAction: z.string(),
  detectedAt: z.string(),
  slaDueAt: z.string().nullable(),
  ageBucket: z.enum(ageBuckets),
  snoozedUntil: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  resolvedBy: z.string().nullable(),
  resolution: z.string().nullable(),
  notes: z.number().int(),
  /** MALFORMED_RECORD only (one exception's detail): the record as Mirakl or ReBound sent it. */
  rawRecord: z.string().optional(),
});
export type ExceptionRow = z.infer<typeof exceptionRowSchema>;

export const exceptionsListOutput = pageOf(exceptionRowSchema);

export const kpisOutput = z.object({
  at: z.string(),
  openByType: z.array(z.object({ type: z.string(), title: z.string(), owner: z.enum(ownerTeams), count: z.number().int() })),
  openByOwner: z.array(z.object({ owner: z.enum(ownerTeams), count: z.number().int(), critical: z.number().int() })),
  ageing: z.array(z.object({ bucket: z.enum(ageBuckets), count: z.number().int() })),
  /** Every money figure per currency, each with one definition shared with the report and the bundle (./money.ts). */
  money: z.array(moneyFiguresSchema),
  /** Refunds requested or accepted by Mirakl and not paid yet (money's requested + awaitingPayment), per currency. */
  refundsPending: z.array(z.object({ currency: z.string(), count: z.number().int(), amountMinor: z.number().int() })),
  /** money's receiptsNotRefunded and refundsWithoutReceipt, per currency with either non-zero. */
  moneyAtRisk: z.array(z.object({ currency: z.string(), receiptsNotRefundedMinor: z.number().int(), refundsWithoutReceiptMinor: z.number().int() })),
  returns: z.object({ total: z.number().int(), drifting: z.number().int(), awaitingRefund: z.number().int() }),
  freshness: z.array(
    z.object({ feed: z.string(), label: z.string(), lastSuccessAt: z.string().nullable(), ageSeconds: z.number().nullable(), lastError: z.string().nullable(), isStale: z.boolean() }),
  ),
});
export type Kpis = z.infer<typeof kpisOutput>;

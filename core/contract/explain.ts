import { z } from 'zod';
import { lineActionSchema } from './actions';

// What the explainer answers a customer-service lead: one timeline for a return across Mirakl, ReBound, the bridge,
// exceptions and people; and, for one return line, why its refund did or did not go out. Money is integer minor units.

export const timelineSources = ['mirakl', 'rebound', 'bridge', 'exception', 'user'] as const;
export type TimelineSource = (typeof timelineSources)[number];

export const timelineEntrySchema = z.object({
  /** ISO 8601, UTC. */
  at: z.string(),
  source: z.enum(timelineSources),
  /** Stable machine name of the fact (`mirakl.state`, `intent.confirmed`, `exception.raised`, …). */
  kind: z.string(),
  /** Plain English for a customer-service lead. */
  title: z.string(),
  detail: z.string().nullable(),
  /** The record behind the entry (intent key, refund id, `exception:<id>`, `audit:<seq>`, …). */
  ref: z.string().nullable(),
  /** API codes and raw states (RT25, OR28, WAITING_REFUND…), for a tooltip: never in the title a CS lead reads. */
  technical: z.string().nullable().default(null),
});
export type TimelineEntry = z.infer<typeof timelineEntrySchema>;

export const returnSummarySchema = z.object({
  orderId: z.string(),
  commercialId: z.string(),
  rma: z.string().nullable(),
  miraklState: z.string(),
  reboundOrderId: z.string().nullable(),
  reboundStatus: z.string().nullable(),
  trackingNumber: z.string().nullable(),
  unitsExpected: z.number().int().nonnegative(),
  /** Registered or graded by ReBound (whatever the SKU). */
  unitsArrived: z.number().int().nonnegative(),
  unitsMissing: z.number().int().nonnegative(),
  currency: z.string().nullable(),
  /** Mirakl's ledger for this return's order lines: REFUNDED, and any other state. */
  refundedMinor: z.number().int(),
  refundPendingMinor: z.number().int(),
  openExceptions: z.number().int().nonnegative(),
});
export type ReturnSummary = z.infer<typeof returnSummarySchema>;

/** Sorted by `at` ascending; entries at the same instant keep a fixed order (Mirakl, ReBound, bridge, exceptions, people). */
/** A line of the return as the customer asked for it: every one, whether or not ReBound has registered a unit of it. */
export const returnLineSchema = z.object({
  orderLineId: z.string(),
  /** The product's title, or "line <id>" when the order line has not been read. */
  product: z.string(),
  quantity: z.number().int().nonnegative(),
  reasonCode: z.string(),
});
export type ReturnLineView = z.infer<typeof returnLineSchema>;

export const returnTimelineSchema = z.object({
  returnId: z.string(),
  summary: returnSummarySchema,
  /** The return's lines, in Mirakl's order: what the refund checks are asked about. */
  lines: z.array(returnLineSchema).default([]),
  entries: z.array(timelineEntrySchema),
  /** Plain text a CS lead can copy to the customer: when it arrived, what was refunded and when (issue 24). */
  reply: z.string().default(''),
});
export type ReturnTimeline = z.infer<typeof returnTimelineSchema>;

export const guardConditionSchema = z.object({
  name: z.string(),
  holds: z.boolean(),
  detail: z.string(),
});
export type GuardConditionView = z.infer<typeof guardConditionSchema>;

export const refundIntentViewSchema = z.object({
  state: z.enum(['planned', 'sending', 'confirmed', 'failed', 'uncertain']),
  attempts: z.number().int().nonnegative(),
  lastError: z.string().nullable(),
  /** When a failed refund is retried by itself; null when a person must act. */
  nextAttemptAt: z.string().nullable(),
  amountMinor: z.number().int(),
  refundId: z.string().nullable(),
});
export type RefundIntentView = z.infer<typeof refundIntentViewSchema>;

export const refundGuardSchema = z.object({
  returnId: z.string(),
  orderLineId: z.string(),
  allowed: z.boolean(),
  conditions: z.array(guardConditionSchema),
  intent: refundIntentViewSchema.nullable(),
  /** One sentence: what the refund is waiting for, or where it stands once planned. */
  verdict: z.string(),
});
export type RefundGuard = z.infer<typeof refundGuardSchema>;

/** What `refunds.explainGuard` answers: the guard, and what a person can do about the line now (and why not). */
export const refundLineSchema = refundGuardSchema.extend({ actions: z.array(lineActionSchema) });
export type RefundLine = z.infer<typeof refundLineSchema>;

export const explainReturnInputSchema = z.object({ returnId: z.string().min(1) }).strict();
export const explainRefundGuardInputSchema = z.object({ returnId: z.string().min(1), orderLineId: z.string().min(1) }).strict();

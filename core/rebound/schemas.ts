import { z } from 'zod';

// What we read from ReBound, and only that (specs/rebound NOTES §1.8, §6.3–6.5). Like the Mirakl schemas: enums
// are plain strings (status, grade, disposition, statusDescription and triggerType are all still proposals and
// will change under NDA docs) and unknown fields are dropped, never rejected. ReBound's confirmed payloads carry
// quantities and money as strings; numbers are accepted too.

/** ReBound's placeholder for what it could not match to the order (§1.8): never a real id, SKU or reason. */
export const NOT_AVAILABLE = 'Not available';

const date = z.string();
const optionalText = z
  .string()
  .nullish()
  .transform((v) => v ?? null);

/**
 * An identifier ReBound may not know for an unmatched item. Kept as ReBound writes it (the engine checks for the
 * placeholder); an empty or missing value becomes the placeholder too, so there is one spelling of "unknown".
 */
const matchable = z
  .string()
  .nullish()
  .transform((v) => (v === undefined || v === null || v.trim() === '' ? NOT_AVAILABLE : v));

/** Units decide refunds and restocks, so a quantity we cannot read is an invalid answer, never a guess. */
const quantity = z
  .union([z.number().int().nonnegative(), z.string().trim().regex(/^\d+$/, 'expected a whole number')])
  .transform((v) => Number(v));

/** Informational only (refund amounts come from Mirakl): an unreadable value is kept as null rather than refused. */
const money = z
  .union([z.number(), z.string()])
  .nullish()
  .transform((v) => {
    if (v === undefined || v === null) return null;
    if (typeof v === 'number') return v;
    return /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : null;
  });

/** "1"/"0" as on the wire, null until the hub registers the parcel; booleans and numbers are read the same way. */
const received = z
  .union([z.boolean(), z.number(), z.string()])
  .nullish()
  .transform((v) => {
    if (v === true || v === 1 || v === '1' || v === 'true') return '1' as const;
    if (v === false || v === 0 || v === '0' || v === 'false') return '0' as const;
    return null;
  });

export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  // RFC 6749 only recommends expires_in; without it we assume ReBound's documented 30 minutes (NOTES §1.2).
  expires_in: z
    .union([z.number(), z.string().regex(/^\d+$/).transform(Number)])
    .optional()
    .transform((v) => v ?? 1800),
});

const salesItemSchema = z.object({
  clientItemId: z.string(),
  sku: z.string(),
  ean: optionalText,
  articleDescription: optionalText,
  quantity,
  commercialValue: money,
  commercialValueCurrency: optionalText,
});

export const salesOrderSchema = z.object({
  clientOrderId: z.string(),
  flowKey: optionalText,
  clientOrderCreatedDate: optionalText,
  businessUnit: optionalText,
  rmaNumber: optionalText,
  salesItems: z.array(salesItemSchema),
  clientMetadata: z
    .array(z.object({ key: z.string(), value: z.string() }))
    .nullish()
    .transform((v) => v ?? []),
  createdAt: optionalText,
  updatedAt: optionalText,
});
export type ReboundSalesOrderDto = z.output<typeof salesOrderSchema>;

const parcelSchema = z.object({
  trackingNumber: z.string(),
  carrier: optionalText,
  label: z
    .object({ format: z.string(), base64: z.string() })
    .nullish()
    .transform((v) => v ?? null),
  qrCodeUrl: optionalText,
});

/** One unit per item (`quantity` is "1"), plus whatever the hub found that nobody announced. */
export const returnItemSchema = z.object({
  reboundItemId: z.string(),
  clientItemId: matchable,
  sku: matchable,
  ean: optionalText,
  articleDescription: optionalText,
  quantity,
  reasonCode: matchable,
  commercialValue: money,
  commercialValueCurrency: optionalText,
  received,
  grade: optionalText,
  disposition: optionalText,
});
export type ReboundReturnItemDto = z.output<typeof returnItemSchema>;

export const returnOrderSchema = z.object({
  reboundOrderId: z.string(),
  clientOrderId: z.string(),
  flowKey: optionalText,
  flow: optionalText,
  status: z.string(),
  createdAt: date,
  updatedAt: date,
  location: optionalText,
  parcels: z.array(parcelSchema),
  items: z.array(returnItemSchema),
});
export type ReboundReturnOrderDto = z.output<typeof returnOrderSchema>;

/** Each return order of a list is read on its own (readRecords). */
export const returnOrderListSchema = z.object({ returnOrders: z.array(z.unknown()) });

/** One entry of the list of changed return orders (NOTES §6.2: ids, status and updatedAt, no items). */
export const returnOrderChangeSchema = z.object({
  reboundOrderId: z.string(),
  clientOrderId: optionalText,
  status: z.string(),
  updatedAt: date,
});
/** A page of changed return orders; `nextPage` is absent or null on the last page. */
export const returnOrderChangesSchema = z.object({ returnOrders: z.array(z.unknown()), nextPage: z.number().int().positive().nullish() });

export const returnEventSchema = z.object({
  eventId: optionalText,
  status: z.string(),
  statusDescription: optionalText,
  location: optionalText,
  timestamp: date,
});
export type ReboundReturnEventDto = z.output<typeof returnEventSchema>;

export const returnEventsSchema = z.object({ reboundOrderId: optionalText, events: z.array(returnEventSchema) });

export const webhookSubscriptionSchema = z.object({
  type: z.string(),
  url: z.string(),
  hasSecret: z.boolean().optional(),
  hasAuthorizationHeader: z.boolean().optional(),
  updatedAt: optionalText,
});

// Notification bodies (§1.8, §6.5). They mirror ReBound's published payloads, where trackingUpdate keeps items
// beside `order` and the refund-style bodies nest them inside it.

const notifiedItemSchema = z.object({
  reboundItemId: z.string(),
  clientItemId: matchable,
  ean: optionalText,
  sku: matchable,
  reasonCode: matchable,
  quantity,
});

export const trackingUpdateSchema = z.object({
  order: z.object({
    clientOrderId: z.string(),
    reboundOrderId: z.string(),
    location: optionalText,
    trackingNumber: optionalText,
    statusDescription: z.string(),
    timestamp: date,
  }),
  items: z
    .array(
      notifiedItemSchema.extend({
        articleDescription: optionalText,
        commercialValue: money,
        commercialValueCurrency: optionalText,
      }),
    )
    .nullish()
    .transform((v) => v ?? []),
});
export type ReboundTrackingUpdate = z.output<typeof trackingUpdateSchema>;

const refundOrderSchema = z.object({
  reboundOrderId: z.string(),
  clientOrderId: z.string(),
  location: optionalText,
  /** Which refund-trigger variant fired (§6.5; the field name is a proposal, so it may be absent). */
  triggerType: optionalText,
});

export const refundTriggerSchema = z.object({
  order: refundOrderSchema.extend({ items: z.array(notifiedItemSchema) }),
});
export type ReboundRefundTrigger = z.output<typeof refundTriggerSchema>;

export const itemProcessedSchema = z.object({
  order: refundOrderSchema.extend({
    items: z.array(
      notifiedItemSchema.extend({
        grade: optionalText,
        disposition: optionalText,
        inspectedAt: optionalText,
        images: z
          .array(z.string())
          .nullish()
          .transform((v) => v ?? []),
      }),
    ),
  }),
});
export type ReboundItemProcessed = z.output<typeof itemProcessedSchema>;

export const reboundNotificationTypes = ['trackingUpdate', 'refundTrigger', 'itemProcessed'] as const;
export type ReboundNotificationType = (typeof reboundNotificationTypes)[number];

export const notificationSchemas = {
  trackingUpdate: trackingUpdateSchema,
  refundTrigger: refundTriggerSchema,
  itemProcessed: itemProcessedSchema,
} satisfies Record<ReboundNotificationType, z.ZodType>;

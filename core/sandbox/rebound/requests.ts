import { z } from 'zod';
import { dispositions, type ApiErrorDetail, type ReboundApiError } from './model';

// Request bodies the simulated API accepts. Unknown fields are ignored, as a tolerant API would; a field that is
// present but wrong gets 422 validation_failed with one detail per problem (§6.6).

const text = (max = 255) => z.string().max(max);
const required = (max = 255) => z.string().min(1, 'must not be empty').max(max);

/** Quantities travel as strings (§1.8); a JSON integer is accepted and stored as its string. */
const quantity = z
  .union([z.string().regex(/^\d+$/, 'must be a whole number as a string, e.g. "1"'), z.number().int('must be a whole number')])
  .transform((v) => String(v))
  .refine((v) => Number(v) >= 1, 'must be at least 1');

const money = z
  .union([z.string().regex(/^-?\d+(\.\d{1,4})?$/, 'must be a decimal as a string, e.g. "19.99"'), z.number()])
  .transform((v) => (typeof v === 'number' ? v.toFixed(2) : v));

const address = z.looseObject({
  name: text().optional(),
  email: text().optional(),
  phone: text().optional(),
  line1: text().optional(),
  line2: text().optional(),
  city: text().optional(),
  postcode: text().optional(),
  countryCode: text(2).optional(),
});

export const salesOrderRequest = z
  .looseObject({
    clientOrderId: required(),
    clientOrderCreatedDate: z.iso.datetime({ offset: true }).nullable().optional(),
    customerAddress: address.nullable().optional(),
    businessUnit: text().nullable().optional(),
    rmaNumber: text().nullable().optional(),
    premiumOrder: z.boolean().optional(),
    labelBase64Enabled: z.boolean().optional(),
    salesItems: z
      .array(
        z.looseObject({
          clientItemId: required(),
          sku: required(),
          ean: text().optional(),
          articleDescription: text().optional(),
          quantity,
          commercialValue: money.optional(),
          commercialValueCurrency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code').optional(),
          hsCode: text().optional(),
          countryOfOrigin: text(2).optional(),
        }),
      )
      .min(1, 'a sales order needs at least one item'),
    clientMetadata: z.array(z.looseObject({ key: required(), value: text() })).optional(),
  })
  .superRefine((order, ctx) => {
    const seen = new Set<string>();
    order.salesItems.forEach((item, index) => {
      if (seen.has(item.clientItemId)) ctx.addIssue({ code: 'custom', path: ['salesItems', index, 'clientItemId'], message: `duplicates clientItemId ${item.clientItemId}` });
      seen.add(item.clientItemId);
    });
  });
export type SalesOrderRequest = z.infer<typeof salesOrderRequest>;

export const returnOrderRequest = z.looseObject({
  clientOrderId: required(),
  items: z
    .array(
      z
        .looseObject({
          clientItemId: required().optional(),
          sku: required().optional(),
          quantity,
          reasonCode: required(),
          wish: required(64).optional(),
          comment: text().nullable().optional(),
        })
        .refine((item) => item.clientItemId !== undefined || item.sku !== undefined, 'clientItemId or sku is required'),
    )
    .min(1, 'a return order needs at least one item'),
  customerAddress: address.nullable().optional(),
  carrierOption: text().nullable().optional(),
});
export type ReturnOrderRequest = z.infer<typeof returnOrderRequest>;

export const webhookSubscriptionRequest = z.looseObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  secret: required(512).nullable().optional(),
  authorizationHeader: required(1024).nullable().optional(),
});

const physicalGrade = z.enum(['A_SELLABLE', 'B_SELLABLE_MINOR', 'C_NON_SELLABLE', 'D_DAMAGED']);
export const simAdvanceRequest = z.looseObject({
  event: z.enum(['IN_CARRIER_NETWORK', 'AT_HUB', 'ITEMS_REGISTERED', 'PROCESSED', 'DELIVERED_TO_CLIENT', 'EXPIRED']),
  items: z
    .array(
      z.union([
        z.strictObject({
          reboundItemId: required(),
          received: z.boolean().optional(),
          grade: physicalGrade.optional(),
          disposition: z.enum(dispositions).optional(),
        }),
        z.strictObject({ unexpected: z.literal(true), sku: required().optional() }),
      ]),
    )
    .optional(),
});
export type SimAdvanceRequest = z.infer<typeof simAdvanceRequest>;

/**
 * A late unit (test hook): one unit the customer asked to return, missing when the order's contents were registered,
 * reaches the hub now — in a parcel of its own (the default) or found later at the hub — and is registered; graded too
 * when the order was already processed. Without reboundItemId, the first such unit (of clientItemId, if given).
 */
export const simLateUnitRequest = z.strictObject({
  reboundItemId: required().optional(),
  clientItemId: required().optional(),
  arrival: z.enum(['separateParcel', 'foundAtHub']).optional(),
  grade: physicalGrade.optional(),
  disposition: z.enum(dispositions).optional(),
});
export type SimLateUnitRequest = z.infer<typeof simLateUnitRequest>;

export function parseBody<T>(schema: z.ZodType<T>, body: unknown): { ok: true; value: T } | { ok: false; error: ReboundApiError } {
  const parsed = schema.safeParse(body);
  if (parsed.success) return { ok: true, value: parsed.data };
  const details: ApiErrorDetail[] = parsed.error.issues.map((issue) => ({ field: fieldPath(issue.path), issue: issue.message }));
  return { ok: false, error: validationFailed('The request body is not valid', details) };
}

export function validationFailed(message: string, details?: ApiErrorDetail[]): ReboundApiError {
  return details ? { status: 422, code: 'validation_failed', message, details } : { status: 422, code: 'validation_failed', message };
}

function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(body)';
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

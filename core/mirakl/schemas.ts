import { z } from 'zod';
import {
  decimal,
  flag,
  identifier,
  list,
  optionalDecimal,
  optionalId,
  optionalText,
  positiveWholeNumber,
  wholeNumber,
} from '../net/tolerant';

// What we read from Mirakl, and only that, read the way Mirakl answers rather than the way its schemas say: the
// spec's own examples send `null` for whatever is not set yet, older field placements and deprecated fields alone
// (see core/sandbox/mirakl/deviations.ts). Enums are plain strings and unknown fields are dropped. What the engine
// needs to act — ids, quantities, amounts, currency — is required; every other field is optional and nullable.

export const orderTaxModes = ['TAX_INCLUDED', 'TAX_EXCLUDED'] as const;
export type OrderTaxMode = (typeof orderTaxModes)[number];

const date = z.string().min(1);

const trackingSchema = z
  .object({
    carrier_code: optionalText,
    carrier_name: optionalText,
    // Older placements, as in the spec's RT11 example.
    carrierCode: optionalText,
    carrierName: optionalText,
    tracking_number: optionalText,
    tracking_url: optionalText,
  })
  .transform((t) => ({
    carrier_code: t.carrier_code ?? t.carrierCode,
    carrier_name: t.carrier_name ?? t.carrierName,
    tracking_number: t.tracking_number,
    tracking_url: t.tracking_url,
  }));

export const returnSchema = z
  .object({
    id: z.string().min(1),
    state: z.string().min(1),
    order_id: z.string().min(1),
    order_commercial_id: z.string().min(1),
    method_code: optionalText,
    reason_code: optionalText,
    date_created: date,
    last_updated: date,
    rma: optionalText,
    label_url: optionalText,
    customer_id: optionalText,
    tracking: trackingSchema.nullish().transform((v) => v ?? undefined),
    return_lines: z
      .array(z.object({ order_line_id: z.string().min(1), quantity: positiveWholeNumber, reason_code: optionalText }))
      .min(1, 'a return has at least one line'),
  })
  .transform((r, ctx) => {
    // The spec's RT11 example carries the reason on the return rather than on each line (an older placement).
    const lines = r.return_lines.map((line, i) => {
      const reason = line.reason_code ?? r.reason_code;
      if (reason === undefined) {
        ctx.addIssue({ code: 'custom', path: ['return_lines', i, 'reason_code'], message: 'no reason_code on the line nor on the return' });
      }
      return { order_line_id: line.order_line_id, quantity: line.quantity, reason_code: reason ?? '' };
    });
    return { ...r, return_lines: lines };
  });
export type MiraklReturnDto = z.output<typeof returnSchema>;

/** A page of RT11: each record is read on its own (see readRecords), so the page itself only needs its list. */
export const returnsPageSchema = z.object({
  data: z.array(z.unknown()),
  next_page_token: optionalText,
});

const taxSchema = z.object({ code: optionalText, amount: decimal, rate: optionalDecimal });
export type MiraklTaxDto = z.output<typeof taxSchema>;

export const refundSchema = z
  .object({
    id: identifier,
    order_refund_id: optionalId,
    created_date: optionalText,
    amount: decimal,
    shipping_amount: optionalDecimal,
    quantity: wholeNumber,
    reason_code: optionalText,
    refund_state: optionalText,
    // Deprecated, and the only state in the spec's OR11 example.
    state: optionalText,
    taxes: list(taxSchema),
    shipping_taxes: list(taxSchema),
  })
  .transform((r, ctx) => {
    const state = r.refund_state ?? r.state;
    if (state === undefined) ctx.addIssue({ code: 'custom', path: ['refund_state'], message: 'no refund_state nor state' });
    return {
      id: r.id,
      order_refund_id: r.order_refund_id ?? r.id,
      created_date: r.created_date,
      amount: r.amount,
      shipping_amount: r.shipping_amount ?? 0,
      quantity: r.quantity,
      reason_code: r.reason_code ?? '',
      refund_state: state ?? '',
      taxes: r.taxes,
      shipping_taxes: r.shipping_taxes,
    };
  });
export type MiraklRefundDto = z.output<typeof refundSchema>;

export const orderLineSchema = z.object({
  order_line_id: z.string().min(1),
  order_line_state: z.string().min(1),
  offer_id: z
    .union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)])
    .nullish()
    .transform((v) => v ?? null),
  offer_sku: z.string().min(1),
  product_sku: optionalText,
  product_title: optionalText,
  quantity: wholeNumber,
  price_unit: decimal,
  price: decimal,
  shipping_price: optionalDecimal,
  can_refund: flag(true),
  taxes: list(taxSchema),
  shipping_taxes: list(taxSchema),
  refunds: list(refundSchema),
});
export type MiraklOrderLineDto = z.output<typeof orderLineSchema>;

const addressSchema = z.object({
  street_1: optionalText,
  city: optionalText,
  zip_code: optionalText,
  country_iso_code: optionalText,
});

export const orderSchema = z.object({
  order_id: z.string().min(1),
  commercial_id: z.string().min(1),
  order_state: z.string().min(1),
  created_date: date,
  last_updated_date: date,
  currency_iso_code: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 currency code such as GBP'),
  order_tax_mode: optionalText,
  /** Mirakl's anonymised address forwarding to the customer: the only email a shop gets (absent on older orders). */
  customer_notification_email: optionalText,
  customer: z
    .object({
      customer_id: optionalText,
      firstname: optionalText,
      lastname: optionalText,
      shipping_address: addressSchema.nullish().transform((v) => v ?? undefined),
    })
    .nullish()
    .transform((v) => v ?? { customer_id: undefined, firstname: undefined, lastname: undefined, shipping_address: undefined }),
  order_lines: z.array(orderLineSchema),
});
export type MiraklOrderDto = z.output<typeof orderSchema>;

export const ordersPageSchema = z.object({ orders: z.array(z.unknown()), total_count: wholeNumber });

const batchErrorSchema = z.object({ id: z.string().min(1), message: optionalText });

/** RT04/21/25/26/27: the ids in each list decide the engine's next step; items without an id are ignored. */
export const batchResultSchema = z.object({
  return_success: list(z.unknown()),
  return_errors: list(z.unknown()),
});
export const batchSuccessSchema = z.object({ id: z.string().min(1) });
export const batchFailureSchema = batchErrorSchema;

/** One refund of an OR28 answer. */
export const refundResultItemSchema = z.object({
  refund_id: identifier,
  order_refund_id: optionalText,
  order_line_id: z.string().min(1),
  amount: optionalDecimal,
  shipping_amount: optionalDecimal,
});
export const refundResultSchema = z.object({ order_tax_mode: optionalText, refunds: z.array(z.unknown()) });

export const reasonSchema = z.object({
  code: z.string().min(1),
  label: optionalText,
  type: z.string().min(1),
  is_shop_right: flag(true),
});
export const reasonsSchema = z.object({ reasons: z.array(z.unknown()) });

export const offerSchema = z.object({ offer_id: identifier, shop_sku: z.string().min(1), quantity: wholeNumber, active: flag(true) });
export const offersPageSchema = z.object({ offers: z.array(z.unknown()), total_count: optionalDecimal });

export const importCreatedSchema = z.object({ import_id: identifier });

export const importStatusSchema = z.object({
  import_id: identifier,
  status: z.string().min(1),
  has_error_report: flag(false),
  lines_in_success: wholeNumber.nullish().transform((v) => v ?? undefined),
  lines_in_error: wholeNumber.nullish().transform((v) => v ?? undefined),
});

/** OF52's answer: the export's tracking id. */
export const exportCreatedSchema = z.object({ tracking_id: z.string().min(1) });

/** OF53: PENDING, COMPLETED (with the files' urls) or FAILED (with an error); read as plain strings. */
export const exportStatusSchema = z.object({
  status: z.string().min(1),
  last_updated: optionalText,
  urls: list(z.string().min(1)),
  error: z
    .object({ code: optionalText, detail: optionalText })
    .nullish()
    .transform((v) => v ?? undefined),
});

/**
 * One offer of an export file: its shop SKU and quantity decide a restock, so both are required, except that an offer
 * marked deleted (differential exports carry them) needs no quantity.
 */
export const exportedOfferSchema = z
  .object({
    shop_sku: z.string().min(1),
    offer_id: identifier.nullish().transform((v) => v ?? undefined),
    quantity: wholeNumber.nullish().transform((v) => v ?? null),
    active: flag(true),
    deleted: flag(false),
  })
  .superRefine((o, ctx) => {
    if (!o.deleted && o.quantity === null) ctx.addIssue({ code: 'custom', path: ['quantity'], message: 'no quantity for an offer that is not deleted' });
  });
export type ExportedOfferDto = z.output<typeof exportedOfferSchema>;

/** An order as a sale of stock: when it was placed, and how many units of which offer each line took. */
export const saleOrderSchema = z.object({
  order_id: z.string().min(1),
  created_date: date,
  order_lines: z.array(z.object({ order_line_id: z.string().min(1), offer_sku: z.string().min(1), quantity: wholeNumber })),
});

import { z } from 'zod';

// What we read from Mirakl, and only that. Enums are plain strings (Mirakl adds values without notice) and
// unknown fields are dropped, never rejected (specs README: tolerate unknown values and extra fields).

const money = z.number();
const date = z.string();

export const returnSchema = z.object({
  id: z.string(),
  state: z.string(),
  order_id: z.string(),
  order_commercial_id: z.string(),
  method_code: z.string(),
  reason_code: z.string().optional(),
  date_created: date,
  last_updated: date,
  rma: z.string().optional(),
  label_url: z.string().optional(),
  customer_id: z.string().optional(),
  tracking: z
    .object({ carrier_code: z.string().optional(), carrier_name: z.string().optional(), tracking_number: z.string().optional(), tracking_url: z.string().optional() })
    .optional(),
  return_lines: z.array(z.object({ order_line_id: z.string(), quantity: z.number().int(), reason_code: z.string() })),
});
export type MiraklReturnDto = z.output<typeof returnSchema>;

export const returnsPageSchema = z.object({
  data: z.array(returnSchema),
  next_page_token: z.string().optional(),
});

const taxSchema = z.object({ code: z.string(), amount: money, rate: z.number().optional() });

export const refundSchema = z.object({
  id: z.string(),
  order_refund_id: z.string(),
  created_date: date,
  amount: money.optional(),
  shipping_amount: money.optional(),
  quantity: z.number().int(),
  reason_code: z.string(),
  refund_state: z.string(),
});
export type MiraklRefundDto = z.output<typeof refundSchema>;

export const orderLineSchema = z.object({
  order_line_id: z.string(),
  order_line_state: z.string(),
  offer_id: z.number(),
  offer_sku: z.string(),
  product_sku: z.string(),
  product_title: z.string(),
  quantity: z.number().int(),
  price_unit: money,
  price: money,
  shipping_price: money,
  can_refund: z.boolean(),
  taxes: z.array(taxSchema).optional(),
  shipping_taxes: z.array(taxSchema).optional(),
  refunds: z.array(refundSchema),
});
export type MiraklOrderLineDto = z.output<typeof orderLineSchema>;

export const orderSchema = z.object({
  order_id: z.string(),
  commercial_id: z.string(),
  order_state: z.string(),
  created_date: date,
  last_updated_date: date,
  currency_iso_code: z.string(),
  customer: z.object({
    customer_id: z.string(),
    firstname: z.string(),
    lastname: z.string(),
    shipping_address: z
      .object({ street_1: z.string(), city: z.string(), zip_code: z.string().optional(), country_iso_code: z.string() })
      .optional(),
  }),
  order_lines: z.array(orderLineSchema),
});
export type MiraklOrderDto = z.output<typeof orderSchema>;

export const ordersPageSchema = z.object({ orders: z.array(orderSchema), total_count: z.number().int() });

export const batchResultSchema = z.object({
  return_success: z.array(z.object({ id: z.string() })),
  return_errors: z.array(z.object({ id: z.string(), message: z.string() })),
});

export const refundResultSchema = z.object({
  refunds: z.array(
    z.object({ refund_id: z.string(), order_refund_id: z.string(), order_line_id: z.string(), amount: money, shipping_amount: money }),
  ),
});

export const reasonsSchema = z.object({
  reasons: z.array(z.object({ code: z.string(), label: z.string(), type: z.string(), is_shop_right: z.boolean() })),
});

export const offersPageSchema = z.object({
  offers: z.array(z.object({ offer_id: z.number(), shop_sku: z.string(), quantity: z.number().int(), active: z.boolean() })),
  total_count: z.number().int(),
});

export const importCreatedSchema = z.object({ import_id: z.union([z.string(), z.number()]).transform(String) });

export const importStatusSchema = z.object({
  import_id: z.union([z.string(), z.number()]).transform(String),
  status: z.string(),
  has_error_report: z.boolean(),
  lines_in_success: z.number().int().optional(),
  lines_in_error: z.number().int().optional(),
});

import { addExtraFields, type ShapeVariant } from '../http/faults';
import type { Rng } from '../rng';

// The `shapes` fault: an answer reshaped record by record the way Mirakl's own published examples differ from its
// schemas (optional fields left out or null, the return reason on the return rather than its lines, tracking with
// carrierCode, a refund's deprecated `state` alone, amounts as decimal strings…), so the sandbox cannot agree with
// our client by construction. Every deviation from the schema made here is listed, with the example it comes
// from, in deviations.ts, and the conformance test accepts exactly those.
//
// What the engine needs to act safely is never removed or nulled: ids, order and order line ids, quantities,
// amounts, taxes and currency stay present (amounts and quantities possibly as decimal strings).

/** An enum value no client has seen: Mirakl adds values without notice (specs NOTES §1, "Compatibility"). */
export const unannouncedValue = 'SANDBOX_UNANNOUNCED_VALUE';

type Rec = Record<string, unknown>;

const isRecord = (value: unknown): value is Rec => typeof value === 'object' && value !== null && !Array.isArray(value);

/** How one kind of record may be reshaped. A unit test checks every spec against the derived OpenAPI subset. */
export interface RecordSpec {
  /** The schema in mirakl-seller-subset.json this record follows. */
  schema: string;
  /** Never left out or nulled: the schema's required fields, and whatever else the engine needs to act safely. */
  keep: readonly string[];
  /** Required by the schema, yet absent from Mirakl's own example (deviations.ts): only ever left out. */
  exampleOmits?: readonly string[];
  /** Required by the schema, yet null in Mirakl's own example (deviations.ts): only ever nulled. */
  exampleNulls?: readonly string[];
  /** Optional fields Mirakl's examples send as null when they have no value, rather than leaving them out. */
  nullWhenAbsent?: readonly string[];
  /** Nested records (objects, or arrays of objects), by field. */
  children?: Readonly<Record<string, RecordSpec>>;
}

type Variant = (record: Rec, rng: Rng) => boolean;
type RecordVariants = Partial<Record<'olderPlacement' | 'deprecatedOnly' | 'unknownValues' | 'numericStrings', Variant>>;

function forEachChild(record: Rec, spec: RecordSpec, fn: (child: Rec, childSpec: RecordSpec) => void): void {
  for (const [field, childSpec] of Object.entries(spec.children ?? {})) {
    const value = record[field];
    if (Array.isArray(value)) value.filter(isRecord).forEach((item) => fn(item, childSpec));
    else if (isRecord(value)) fn(value, childSpec);
  }
}

function omitOptional(record: Rec, spec: RecordSpec): boolean {
  let changed = false;
  for (const key of Object.keys(record)) {
    if (spec.keep.includes(key) || spec.exampleNulls?.includes(key)) continue;
    delete record[key];
    changed = true;
  }
  forEachChild(record, spec, (child, childSpec) => {
    changed = omitOptional(child, childSpec) || changed;
  });
  return changed;
}

function nullOptional(record: Rec, spec: RecordSpec): boolean {
  let changed = false;
  for (const key of Object.keys(record)) {
    if (spec.keep.includes(key) || spec.exampleOmits?.includes(key) || record[key] === null) continue;
    record[key] = null;
    changed = true;
  }
  for (const key of spec.nullWhenAbsent ?? []) {
    if (key in record) continue;
    record[key] = null;
    changed = true;
  }
  forEachChild(record, spec, (child, childSpec) => {
    changed = nullOptional(child, childSpec) || changed;
  });
  return changed;
}

/** Each record gets its own draw: left out or null (or neither), then each other variant at even odds. */
function reshapeRecords(records: unknown, spec: RecordSpec, rng: Rng, variants: RecordVariants): ShapeVariant[] {
  const applied: ShapeVariant[] = [];
  if (!Array.isArray(records)) return applied;
  for (const record of records) {
    if (!isRecord(record)) continue;
    const optional = rng.pick(['omitOptional', 'nullOptional', null] as const);
    if (optional === 'omitOptional' && omitOptional(record, spec)) applied.push(optional);
    if (optional === 'nullOptional' && nullOptional(record, spec)) applied.push(optional);
    for (const name of ['olderPlacement', 'deprecatedOnly', 'unknownValues', 'numericStrings'] as const) {
      const variant = variants[name];
      if (variant && rng.chance(0.5) && variant(record, rng)) applied.push(name);
    }
  }
  return applied;
}

/** The answer's own fields (page tokens, counts): left out or null like a record's, never recursed into. */
function reshapeEnvelope(body: Rec, spec: RecordSpec, rng: Rng): ShapeVariant[] {
  const flat: RecordSpec = { ...spec, children: {} };
  const optional = rng.pick(['omitOptional', 'nullOptional', null] as const);
  if (optional === 'omitOptional' && omitOptional(body, flat)) return [optional];
  if (optional === 'nullOptional' && nullOptional(body, flat)) return [optional];
  return [];
}

// ---- numbers as the spec's examples write them ---------------------------------------------------------------------

const moneyFields = new Set([
  'amount',
  'commission_amount',
  'commission_fee',
  'commission_tax_amount',
  'commission_total_amount',
  'commission_vat',
  'min_shipping_price',
  'min_shipping_price_additional',
  'price',
  'price_unit',
  'shipping_amount',
  'shipping_price',
  'total_amount',
  'total_commission',
  'total_price',
  'unit_discount_price',
  'unit_origin_price',
]);
const decimalFields = new Set(['rate', 'commission_rate_vat']);
const countFields = new Set(['quantity', 'quantity_threshold', 'lines_in_error', 'lines_in_success']);

/** Amounts as "12.50", rates as "20", quantities as "2": OR28's example sends tax amounts as strings. */
function numericStrings(value: unknown): boolean {
  let changed = false;
  if (Array.isArray(value)) {
    for (const item of value) changed = numericStrings(item) || changed;
    return changed;
  }
  if (!isRecord(value)) return false;
  for (const [key, field] of Object.entries(value)) {
    if (typeof field === 'number') {
      if (moneyFields.has(key)) value[key] = field.toFixed(2);
      else if (decimalFields.has(key) || (countFields.has(key) && Number.isInteger(field))) value[key] = String(field);
      else continue;
      changed = true;
    } else changed = numericStrings(field) || changed;
  }
  return changed;
}

const extraFields: Variant = (record) => {
  addExtraFields(record);
  return true;
};

// ---- returns (RT11, and RT04's return_success) -----------------------------------------------------------------

function returnSpec(prefix: 'RT11_Response_200_Data' | 'RT04_Response_200_ReturnSuccess'): RecordSpec {
  return {
    schema: prefix,
    keep: ['id', 'state', 'date_created', 'last_updated', 'order_id', 'order_commercial_id', 'method_code', 'return_address', 'return_lines'],
    nullWhenAbsent: ['label_url', 'rma', 'tracking', 'rejection_reason_code'],
    children: {
      return_address: { schema: `${prefix}_ReturnAddress`, keep: ['street1', 'city', 'zip_code', 'country_iso_code'] },
      return_lines: {
        schema: `${prefix}_ReturnLines`,
        keep: ['order_line_id', 'quantity', 'reason_code'],
        nullWhenAbsent: ['compliance'],
        children: {
          compliance: {
            schema: `${prefix}_ReturnLines_Compliance`,
            keep: ['compliant'],
            nullWhenAbsent: ['non_compliance_reason_code', 'non_compliance_additional_info'],
          },
        },
      },
    },
  };
}

/** RT11's example: the reason on the return rather than on each line (only when the lines agree), carrierCode/carrierName. */
const returnOlderPlacement: Variant = (ret) => {
  let changed = false;
  const lines = Array.isArray(ret.return_lines) ? ret.return_lines.filter(isRecord) : [];
  const reasons = new Set(lines.map((l) => l.reason_code));
  const [reason] = reasons;
  if (lines.length > 0 && reasons.size === 1 && typeof reason === 'string') {
    ret.reason_code = reason;
    for (const line of lines) delete line.reason_code;
    changed = true;
  }
  const tracking = ret.tracking;
  if (isRecord(tracking)) {
    for (const [from, to] of [['carrier_code', 'carrierCode'], ['carrier_name', 'carrierName']] as const) {
      if (!(from in tracking)) continue;
      tracking[to] = tracking[from];
      delete tracking[from];
      changed = true;
    }
  }
  return changed;
};

/** RT11's example spells the drop-off method RETURN_METHOD_DROP_OFF; other methods get a value nobody announced. */
const returnUnknownValues: Variant = (ret, rng) => {
  if (ret.method_code === 'RETURN_METHOD_DROP_OFF_POINT') ret.method_code = 'RETURN_METHOD_DROP_OFF';
  else if (rng.chance(0.5)) ret.method_code = unannouncedValue;
  addExtraFields(ret);
  return true;
};

const returnVariants: RecordVariants = {
  olderPlacement: returnOlderPlacement,
  unknownValues: returnUnknownValues,
  numericStrings: (ret) => numericStrings(ret.return_lines),
};

// ---- orders (OR11) ---------------------------------------------------------------------------------------------------

const orderLineTaxSpec = (schema: string): RecordSpec => ({ schema, keep: ['amount', 'code'], exampleOmits: ['tax_calculation_rule'] });

const refundSpec: RecordSpec = {
  schema: 'OR11_Response_200_Orders_OrderLines_Refunds',
  keep: [
    'id',
    'order_refund_id',
    'created_date',
    'amount',
    'shipping_amount',
    'taxes',
    'shipping_taxes',
    'quantity',
    'reason_code',
    'refund_state',
    'state',
    'commission_amount',
    'commission_tax_amount',
    'commission_taxes',
    'commission_total_amount',
  ],
  children: {
    taxes: { schema: 'OR11_Response_200_Orders_OrderLines_Refunds_Taxes', keep: ['amount', 'code'] },
    shipping_taxes: { schema: 'OR11_Response_200_Orders_OrderLines_Refunds_ShippingTaxes', keep: ['amount', 'code'] },
    commission_taxes: { schema: 'OR11_Response_200_Orders_OrderLines_Refunds_CommissionTaxes', keep: ['amount', 'code'] },
  },
};

const orderAddressKeep = ['city', 'country', 'country_iso_code', 'lastname', 'street_1'];

const orderSpec: RecordSpec = {
  schema: 'OR11_Response_200_Orders',
  keep: [
    'order_id',
    'commercial_id',
    'order_state',
    'order_tax_mode',
    'currency_iso_code',
    'created_date',
    'last_updated_date',
    'customer',
    'order_lines',
    'price',
    'shipping_price',
    'total_price',
    'total_commission',
    'can_cancel',
    'can_shop_ship',
    'fully_refunded',
    'fulfillment',
    'has_customer_message',
    'has_incident',
    'has_invoice',
    'leadtime_to_ship',
    'shipping_type_code',
    'shipping_type_label',
    'shipping_zone_code',
    'shipping_zone_label',
  ],
  exampleOmits: ['paymentType'],
  nullWhenAbsent: ['order_state_reason_code', 'order_state_reason_label', 'quote_id'],
  children: {
    customer: {
      schema: 'OR11_Response_200_Orders_Customer',
      keep: ['customer_id', 'firstname', 'lastname', 'billing_address', 'shipping_address'],
      children: {
        billing_address: { schema: 'OR11_Response_200_Orders_Customer_BillingAddress', keep: orderAddressKeep },
        shipping_address: { schema: 'OR11_Response_200_Orders_Customer_ShippingAddress', keep: orderAddressKeep },
      },
    },
    fulfillment: { schema: 'OR11_Response_200_Orders_Fulfillment', keep: ['center'] },
    order_lines: {
      schema: 'OR11_Response_200_Orders_OrderLines',
      keep: [
        'order_line_id',
        'order_line_index',
        'order_line_state',
        'offer_id',
        'offer_sku',
        'offer_state_code',
        'product_sku',
        'product_title',
        'product_medias',
        'category_code',
        'category_label',
        'quantity',
        'price',
        'price_unit',
        'shipping_price',
        'total_price',
        'taxes',
        'shipping_taxes',
        'refunds',
        'cancelations',
        'can_refund',
        'commission_fee',
        'total_commission',
        'created_date',
        'last_updated_date',
        'order_line_additional_fields',
      ],
      exampleOmits: ['commission_rate_vat', 'commission_vat'],
      exampleNulls: ['description'],
      nullWhenAbsent: ['order_line_state_reason_code', 'order_line_state_reason_label', 'price_additional_info'],
      children: {
        taxes: orderLineTaxSpec('OR11_Response_200_Orders_OrderLines_Taxes'),
        shipping_taxes: orderLineTaxSpec('OR11_Response_200_Orders_OrderLines_ShippingTaxes'),
        commission_taxes: { schema: 'OR11_Response_200_Orders_OrderLines_CommissionTaxes', keep: ['amount', 'code', 'rate'] },
        refunds: refundSpec,
      },
    },
  },
};

const refundsOf = (order: Rec): Rec[] =>
  (Array.isArray(order.order_lines) ? order.order_lines.filter(isRecord) : []).flatMap((l) => (Array.isArray(l.refunds) ? l.refunds.filter(isRecord) : []));

const orderVariants: RecordVariants = {
  // OR11's example: payment_type only, without the deprecated (and still required) paymentType.
  olderPlacement: (order) => {
    if (!('paymentType' in order)) return false;
    delete order.paymentType;
    return true;
  },
  // OR11's example: refunds with the deprecated `state` (WAITING_REFUND_PAYMENT) and no refund_state, quantity 0
  // (OR28 says a refund's quantity is informative only).
  deprecatedOnly: (order, rng) => {
    const refunds = refundsOf(order);
    for (const refund of refunds) {
      delete refund.refund_state;
      if (refund.state === 'WAITING_REFUND' && rng.chance(0.5)) refund.state = 'WAITING_REFUND_PAYMENT';
      refund.quantity = 0;
    }
    return refunds.length > 0;
  },
  unknownValues: (order) => {
    order.payment_workflow = unannouncedValue;
    addExtraFields(order);
    return true;
  },
  numericStrings,
};

// ---- the other answers -----------------------------------------------------------------------------------------------

const refundResultSpec: RecordSpec = {
  schema: 'OR28_Response_200_Refunds',
  keep: ['refund_id', 'order_refund_id', 'order_line_id', 'amount', 'shipping_amount', 'taxes', 'shipping_taxes', 'currency_iso_code', 'quantity', 'reason_code'],
  children: {
    taxes: { schema: 'OR28_Response_200_Refunds_Taxes', keep: ['amount', 'code'] },
    shipping_taxes: { schema: 'OR28_Response_200_Refunds_ShippingTaxes', keep: ['amount', 'code'] },
  },
};

const refundResultVariants: RecordVariants = {
  // OR28's example answer carries tax_legal_notice, which its schema does not declare.
  unknownValues: (refund) => {
    refund.tax_legal_notice = 'Tax legal notice (sandbox)';
    addExtraFields(refund);
    return true;
  },
  numericStrings,
};

const offerSpec: RecordSpec = {
  schema: 'OF21_Response_200_Offers',
  keep: [
    'offer_id',
    'shop_sku',
    'product_sku',
    'product_title',
    'product_references',
    'quantity',
    'active',
    'state_code',
    'currency_iso_code',
    'all_prices',
    'category_code',
    'category_label',
    'channels',
    'description',
    'fulfillment',
    'leadtime_to_ship',
    'logistic_class',
    'min_order_quantity',
    'min_shipping_price',
    'min_shipping_price_additional',
    'min_shipping_type',
    'min_shipping_zone',
    'package_quantity',
    'shipping_deadline',
  ],
  exampleOmits: ['max_order_quantity', 'min_quantity_alert'],
  children: {
    all_prices: {
      schema: 'OF21_Response_200_Offers_AllPrices',
      keep: ['price', 'unit_origin_price', 'volume_prices'],
      children: {
        volume_prices: { schema: 'OF21_Response_200_Offers_AllPrices_VolumePrices', keep: ['price', 'quantity_threshold', 'unit_discount_price', 'unit_origin_price'] },
      },
    },
    logistic_class: { schema: 'OF21_Response_200_Offers_LogisticClass', keep: ['code', 'label'] },
    product_references: { schema: 'OF21_Response_200_Offers_ProductReferences', keep: ['reference', 'reference_type'] },
    fulfillment: { schema: 'OF21_Response_200_Offers_Fulfillment', keep: ['center'] },
  },
};

// The stock import counts decide whether STO03 is read: kept, and null only where they would be absent.
const importStatusSpec: RecordSpec = {
  schema: 'STO02_Response_200',
  keep: ['import_id', 'shop_id', 'date_created', 'status', 'has_error_report', 'lines_in_success', 'lines_in_error'],
  nullWhenAbsent: ['lines_in_success', 'lines_in_error'],
};

const reasonSpec: RecordSpec = { schema: 'RE01_Response_200_Reasons', keep: ['code', 'label', 'type', 'is_shop_right'] };

type BatchOperation = 'RT04' | 'RT21' | 'RT25' | 'RT26' | 'RT27' | 'RT29';

function batchSpecs(operation: BatchOperation): { envelope: RecordSpec; success: RecordSpec; error: RecordSpec } {
  return {
    // Every item of a batch answer decides something: neither list is ever dropped.
    envelope: { schema: `${operation}_Response_200`, keep: ['return_success', 'return_errors'] },
    success: operation === 'RT04' ? returnSpec('RT04_Response_200_ReturnSuccess') : { schema: `${operation}_Response_200_ReturnSuccess`, keep: ['id'] },
    error: { schema: `${operation}_Response_200_ReturnErrors`, keep: ['id'] },
  };
}

/** Every record spec, for the test that holds them against the derived OpenAPI subset. */
export const recordSpecs: Record<string, RecordSpec> = {
  RT11: { schema: 'RT11_Response_200', keep: ['data', 'next_page_token'], nullWhenAbsent: ['previous_page_token'], children: { data: returnSpec('RT11_Response_200_Data') } },
  OR11: { schema: 'OR11_Response_200', keep: ['orders', 'total_count'], children: { orders: orderSpec } },
  OR28: { schema: 'OR28_Response_200', keep: ['order_tax_mode', 'refunds'], children: { refunds: refundResultSpec } },
  OF21: { schema: 'OF21_Response_200', keep: ['offers', 'total_count'], children: { offers: offerSpec } },
  STO02: importStatusSpec,
  RE01: { schema: 'RE01_Response_200', keep: ['reasons'], exampleOmits: ['total_count'], children: { reasons: reasonSpec } },
  ...Object.fromEntries(
    (['RT04', 'RT21', 'RT25', 'RT26', 'RT27', 'RT29'] as const).map((op) => {
      const { envelope, success, error } = batchSpecs(op);
      return [op, { ...envelope, children: { return_success: success, return_errors: error } }];
    }),
  ),
};

type ShapeHook = (body: unknown, rng: Rng) => ShapeVariant[];

const page =
  (operation: string, field: string, variants: RecordVariants): ShapeHook =>
  (body, rng) => {
    const spec = recordSpecs[operation];
    const records = spec?.children?.[field];
    if (!isRecord(body) || !spec || !records) return [];
    return [...reshapeEnvelope(body, spec, rng), ...reshapeRecords(body[field], records, rng, variants)];
  };

function batch(operation: BatchOperation): ShapeHook {
  const { envelope, success, error } = batchSpecs(operation);
  return (body, rng) => {
    if (!isRecord(body)) return [];
    return [
      ...reshapeEnvelope(body, envelope, rng),
      ...reshapeRecords(body.return_success, success, rng, operation === 'RT04' ? returnVariants : { unknownValues: extraFields }),
      ...reshapeRecords(body.return_errors, error, rng, { unknownValues: extraFields }),
    ];
  };
}

/** The `withShapes` hook of each Mirakl route the fault applies to. */
export const miraklShapeHooks: Record<string, ShapeHook> = {
  RT11: page('RT11', 'data', returnVariants),
  OR11: page('OR11', 'orders', orderVariants),
  OR28: page('OR28', 'refunds', refundResultVariants),
  OF21: page('OF21', 'offers', { unknownValues: extraFields, numericStrings }),
  RE01: page('RE01', 'reasons', { unknownValues: extraFields }),
  STO02: (body, rng) => reshapeRecords([body], importStatusSpec, rng, { unknownValues: extraFields, numericStrings }),
  RT04: batch('RT04'),
  RT21: batch('RT21'),
  RT25: batch('RT25'),
  RT26: batch('RT26'),
  RT27: batch('RT27'),
  RT29: batch('RT29'),
};

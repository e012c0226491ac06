import { createHash } from 'node:crypto';
import type { TaxMode } from '../scenario';
import { toMajor, type TaxAmount } from '../world/money';
import type { MiraklReturn, MiraklWorld, Offer, Order, OrderLine, Refund, StockImport } from '../world/mirakl-world';

// World entities in the exact JSON shapes of the Mirakl seller OpenAPI (field names from the spec; the
// conformance tests validate every answer against the derived OpenAPI file, so nothing here may be invented).
// The world keeps money gross; each answer states it in the tax mode asked for (order_tax_mode): in TAX_EXCLUDED the
// price fields and refund amounts leave the tax out, and taxes[] carry it, so amount + taxes is always the gross.

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const commissionRate = 0.15;
const commissionVatRate = 20;

export function returnJson(ret: MiraklReturn) {
  return {
    id: ret.id,
    state: ret.state,
    order_id: ret.orderId,
    order_commercial_id: ret.commercialId,
    method_code: ret.methodCode,
    reason_code: ret.reasonCode,
    date_created: iso(ret.createdAt),
    last_updated: iso(ret.lastUpdated),
    ...(ret.rma !== null ? { rma: ret.rma } : {}),
    ...(ret.labelUrl !== null ? { label_url: ret.labelUrl } : {}),
    ...(ret.tracking !== null ? { tracking: ret.tracking } : {}),
    ...(ret.rejectionReasonCode !== null ? { rejection_reason_code: ret.rejectionReasonCode } : {}),
    return_address: ret.returnAddress,
    return_lines: ret.lines.map((line) => ({
      order_line_id: line.orderLineId,
      quantity: line.quantity,
      reason_code: line.reasonCode,
      ...(line.compliance
        ? {
            compliance: [
              {
                compliant: line.compliance.compliant,
                ...(line.compliance.reasonCode ? { non_compliance_reason_code: line.compliance.reasonCode } : {}),
                ...(line.compliance.info ? { non_compliance_additional_info: line.compliance.info } : {}),
              },
            ],
          }
        : {}),
    })),
  };
}

/**
 * A return as RT11 serves it, broken the way a test asked for (world.setUnreadable): a client must set that one
 * record aside and keep reading the page, never guess a quantity or an order.
 */
export function rt11ReturnJson(ret: MiraklReturn): Record<string, unknown> {
  const json = returnJson(ret);
  if (ret.unreadable === 'missingOrderId') {
    const { order_id: _left, ...rest } = json;
    return rest;
  }
  if (ret.unreadable === 'quantityWord') {
    const [first, ...rest] = json.return_lines;
    return first ? { ...json, return_lines: [{ ...first, quantity: 'two' }, ...rest] } : json;
  }
  return json;
}

function commission(priceMinor: number) {
  const fee = Math.round(priceMinor * commissionRate);
  const vat = Math.round((fee * commissionVatRate) / 100);
  return { fee, vat, total: fee + vat };
}

/** A refund's amounts in `mode`: the stored gross less its tax when the tax is excluded. */
function refundAmounts(refund: Refund, mode: TaxMode) {
  const shippingTaxMinor = refund.shippingTaxMinor ?? 0;
  return {
    amount: toMajor(mode === 'TAX_EXCLUDED' ? refund.amountMinor - refund.taxMinor : refund.amountMinor),
    shipping_amount: toMajor(mode === 'TAX_EXCLUDED' ? refund.shippingMinor - shippingTaxMinor : refund.shippingMinor),
    taxes: taxesJson(refund.taxLines ?? [{ code: 'VAT', amountMinor: refund.taxMinor }]),
    shipping_taxes: taxesJson(refund.shippingTaxLines ?? []),
  };
}

const taxesJson = (taxes: readonly TaxAmount[]) => taxes.map((t) => ({ code: t.code, amount: toMajor(t.amountMinor) }));

function refundJson(refund: Refund, mode: TaxMode) {
  const c = commission(refund.amountMinor);
  return {
    id: refund.id,
    order_refund_id: refund.orderRefundId,
    created_date: iso(refund.createdAt),
    ...refundAmounts(refund, mode),
    quantity: refund.quantity,
    reason_code: refund.reasonCode,
    refund_state: refund.state,
    state: refund.state,
    commission_amount: toMajor(c.fee),
    commission_tax_amount: toMajor(c.vat),
    commission_taxes: [{ code: 'VAT', amount: toMajor(c.vat) }],
    commission_total_amount: toMajor(c.total),
    ...(refund.settledAt !== null ? { transaction_date: iso(refund.settledAt), transaction_number: `TX-${refund.id}` } : {}),
  };
}

/** A line's prices in `mode`, and the tax they carry (the same in both modes). */
function linePrices(world: MiraklWorld, line: OrderLine, mode: TaxMode) {
  const { taxes, shippingTaxes } = world.lineTaxes(line);
  const sum = (t: readonly TaxAmount[]) => t.reduce((s, x) => s + x.amountMinor, 0);
  const isExcluded = mode === 'TAX_EXCLUDED';
  const unitTax = sum(world.lineTaxes({ ...line, priceMinor: line.priceUnitMinor, shippingMinor: 0 }).taxes);
  const price = isExcluded ? line.priceMinor - sum(taxes) : line.priceMinor;
  const shipping = isExcluded ? line.shippingMinor - sum(shippingTaxes) : line.shippingMinor;
  return { taxes, shippingTaxes, price, shipping, priceUnit: isExcluded ? line.priceUnitMinor - unitTax : line.priceUnitMinor };
}

function lineJson(world: MiraklWorld, order: Order, line: OrderLine, mode: TaxMode) {
  const c = commission(line.priceMinor);
  const refunded = line.refunds.reduce((s, r) => s + r.amountMinor, 0);
  const state = world.lineState(order, line);
  const prices = linePrices(world, line, mode);
  const rate = line.vatRate / Math.max(1, prices.taxes.length);
  // PROPORTIONAL_TO_AMOUNT: Mirakl computes the tax of a partial refund itself (specs NOTES §6).
  const taxLines = (taxes: readonly TaxAmount[]) => taxes.map((t) => ({ code: t.code, amount: toMajor(t.amountMinor), rate, tax_calculation_rule: 'PROPORTIONAL_TO_AMOUNT' }));
  return {
    order_line_id: line.orderLineId,
    order_line_index: line.index,
    order_line_state: state,
    offer_id: line.offerId,
    offer_sku: line.shopSku,
    offer_state_code: '11',
    product_sku: line.productSku,
    product_shop_sku: line.shopSku,
    product_title: line.productTitle,
    product_medias: [],
    description: line.productTitle,
    category_code: 'apparel',
    category_label: 'Apparel',
    quantity: line.quantity,
    price_unit: toMajor(prices.priceUnit),
    price: toMajor(prices.price),
    shipping_price: toMajor(prices.shipping),
    total_price: toMajor(prices.price + prices.shipping),
    taxes: taxLines(prices.taxes),
    shipping_taxes: taxLines(prices.shippingTaxes),
    commission_fee: toMajor(c.fee),
    commission_vat: toMajor(c.vat),
    commission_rate_vat: commissionVatRate,
    commission_taxes: [{ code: 'VAT', amount: toMajor(c.vat), rate: commissionVatRate }],
    total_commission: toMajor(c.total),
    can_refund: refunded < line.priceMinor && state !== 'CLOSED',
    created_date: iso(order.createdAt),
    last_updated_date: iso(line.lastUpdated),
    shipped_date: iso(order.shippedAt),
    ...(state !== 'SHIPPED' ? { received_date: iso(order.deliveredAt) } : {}),
    order_line_additional_fields: [],
    refunds: line.refunds.map((r) => refundJson(r, mode)),
    cancelations: [],
  };
}

/**
 * The customer's anonymised forwarding address, as Mirakl writes it (the spec's OR11 example:
 * "notification+<token>@notification.mirakl.net"), stable per customer. One customer in ten has none: the field is
 * optional and operators that do not anonymise leave it out — derived from the id, so the world's draws are unchanged.
 */
function notificationEmail(customerId: string): string | undefined {
  const digest = createHash('sha256').update(customerId).digest('hex');
  if (parseInt(digest.slice(0, 2), 16) % 10 === 0) return undefined;
  return `notification+${digest.slice(2, 27)}.${digest.slice(27, 36)}@notification.mirakl.net`;
}

export function orderJson(world: MiraklWorld, order: Order, mode: TaxMode = world.taxMode) {
  const lines = order.lines.map((line) => ({ line, prices: linePrices(world, line, mode) }));
  const priceMinor = lines.reduce((s, l) => s + l.prices.price, 0);
  const shippingMinor = lines.reduce((s, l) => s + l.prices.shipping, 0);
  const c = commission(order.lines.reduce((s, l) => s + l.priceMinor, 0));
  const fullyRefunded = order.lines.every((l) => l.refunds.reduce((s, r) => s + r.amountMinor, 0) >= l.priceMinor);
  const orderTaxes = new Map<string, number>();
  for (const { prices } of lines) {
    for (const t of [...prices.taxes, ...prices.shippingTaxes]) orderTaxes.set(t.code, (orderTaxes.get(t.code) ?? 0) + t.amountMinor);
  }
  const address = {
    firstname: order.customer.firstname,
    lastname: order.customer.lastname,
    street_1: order.customer.street1,
    city: order.customer.city,
    zip_code: order.customer.zipCode,
    country: order.customer.country,
    country_iso_code: order.customer.countryIsoCode,
  };
  return {
    order_id: order.orderId,
    commercial_id: order.commercialId,
    order_state: world.orderState(order),
    created_date: iso(order.createdAt),
    last_updated_date: iso(world.orderLastUpdated(order)),
    currency_iso_code: order.currency,
    order_tax_mode: mode,
    order_taxes: [...orderTaxes].map(([code, amount]) => ({ code, total_amount: toMajor(amount) })),
    paymentType: 'CREDIT_CARD',
    payment_type: 'CREDIT_CARD',
    price: toMajor(priceMinor),
    shipping_price: toMajor(shippingMinor),
    total_price: toMajor(priceMinor + shippingMinor),
    total_commission: toMajor(c.total),
    shipping_type_code: 'STD',
    shipping_type_label: 'Standard delivery',
    shipping_zone_code: order.customer.countryIsoCode === 'GBR' ? 'UK' : 'EU',
    shipping_zone_label: order.customer.countryIsoCode === 'GBR' ? 'United Kingdom' : 'European Union',
    leadtime_to_ship: 2,
    can_cancel: false,
    can_shop_ship: false,
    fully_refunded: fullyRefunded,
    has_customer_message: false,
    ...(notificationEmail(order.customer.customerId) === undefined ? {} : { customer_notification_email: notificationEmail(order.customer.customerId) }),
    has_incident: false,
    has_invoice: true,
    fulfillment: { center: { code: 'DEFAULT' } },
    customer: {
      customer_id: order.customer.customerId,
      firstname: order.customer.firstname,
      lastname: order.customer.lastname,
      billing_address: address,
      shipping_address: address,
    },
    order_lines: lines.map(({ line }) => lineJson(world, order, line, mode)),
  };
}

export function refundResultJson(refund: Refund, mode: TaxMode, currency: string) {
  return {
    refund_id: refund.id,
    order_refund_id: refund.orderRefundId,
    order_line_id: refund.orderLineId,
    ...refundAmounts(refund, mode),
    currency_iso_code: currency,
    quantity: refund.quantity,
    reason_code: refund.reasonCode,
    fees: [],
  };
}

export function offerJson(offer: Offer, currency: string) {
  const price = toMajor(offer.priceGbpMinor);
  return {
    offer_id: offer.offerId,
    shop_sku: offer.shopSku,
    product_sku: offer.productSku,
    product_title: offer.productTitle,
    product_references: [{ reference_type: 'EAN', reference: offer.ean }],
    category_code: offer.categoryCode,
    category_label: offer.categoryLabel,
    quantity: offer.quantity,
    active: true,
    state_code: '11',
    price,
    currency_iso_code: currency,
    all_prices: [{ price, unit_origin_price: price, volume_prices: [{ price, quantity_threshold: 1, unit_origin_price: price, unit_discount_price: price }] }],
    channels: [],
    description: offer.productTitle,
    leadtime_to_ship: 2,
    logistic_class: { code: 'S', label: 'Small parcel' },
    min_quantity_alert: 5,
    min_order_quantity: 1,
    max_order_quantity: 10,
    package_quantity: 1,
    min_shipping_price: 0,
    min_shipping_price_additional: 0,
    min_shipping_type: 'STD',
    min_shipping_zone: 'UK',
    shipping_deadline: '2030-01-01T00:00:00Z',
    fulfillment: { center: { code: 'DEFAULT' } },
  };
}

export function importStatusJson(imp: StockImport, shopId: number) {
  return {
    import_id: imp.importId,
    shop_id: shopId,
    date_created: iso(imp.createdAt),
    status: imp.status,
    has_error_report: imp.errors.length > 0,
    ...(imp.status === 'COMPLETE' || imp.status === 'FAILED' ? { lines_in_success: imp.linesInSuccess, lines_in_error: imp.errors.length } : {}),
  };
}

export function accountJson(shopId: number, startMs: number) {
  return {
    shop_id: shopId,
    shop_name: 'Northwind Apparel (sandbox)',
    shop_state: 'OPEN',
    currency_iso_code: 'GBP',
    date_created: iso(startMs - 400 * 86_400_000),
    last_updated_date: iso(startMs),
    is_professional: true,
    premium: false,
    free_shipping: false,
    payment_method_mandatory: false,
    channels: [],
    domains: [],
    shipping_types: ['STD'],
    shipping_zones: ['UK', 'EU'],
    shop_additional_fields: [],
    evaluations_count: 0,
    offers_count: 240,
    orders_count: 0,
    billing_info: {},
    pro_details: {},
    shipping: {},
    payment_details: { paid_balance: 0, payable_balance: 0, pending_balance: 0 },
    contact_informations: { city: 'Leeds', country: 'GBR', email: 'ops@northwind.invalid', lastname: 'Operations', street1: '1 Park Row' },
    default_billing_information: {
      default_language: 'en',
      id: 'BILL-1',
      registration_address: { city: 'Leeds', country_iso_code: 'GBR', street_1: '1 Park Row' },
    },
  };
}

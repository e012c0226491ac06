import type { Clock } from '../../ports';
import type { Rng } from '../rng';
import type { Scenario, TaxMode } from '../scenario';
import { generateOffers, reasons, returnReasonCodes, unmappedReturnReasonCode, type Offer, type Reason } from './catalog';
import { createEventQueue } from './event-queue';
import { includedVat, proportionalTax, splitTax, type TaxAmount } from './money';

// The marketplace side of the sandbox world: offers with stock, orders with lines, customers raising returns over
// time, refunds settling, stock imports. It is the state behind the simulated Mirakl API and the ground truth the
// tests check the engine against. Orders and returns are generated a day at a time from `rng.fork('day:N')`, so the
// world at a given time depends only on the seed and on what clients did to it.

const dayMs = 86_400_000;
const minuteMs = 60_000;

export type ReturnState = 'WAITING_ACCEPTANCE' | 'IN_PROGRESS' | 'REFUSED' | 'RECEIVED' | 'NO_RECEPTION' | 'CLOSED' | 'CANCELED';
export type Currency = 'GBP' | 'EUR';

export interface Customer {
  customerId: string;
  firstname: string;
  lastname: string;
  street1: string;
  city: string;
  zipCode: string;
  country: string;
  countryIsoCode: string;
}

// Money is kept gross (tax included) whatever the shop's tax mode: amounts are turned into the mode a client asks for
// only at the edge (shapes.ts), so refund sums and the ground truth compare exactly in either mode.
export interface Refund {
  id: string;
  orderRefundId: string;
  orderLineId: string;
  createdAt: number;
  /** Gross: the tax is part of it. */
  amountMinor: number;
  /** Gross shipping refunded. */
  shippingMinor: number;
  /** The tax part of amountMinor. */
  taxMinor: number;
  /** taxMinor by tax code, codes as the client sent them (absent on refunds planted by tests: one VAT line). */
  taxLines?: TaxAmount[];
  /** The tax part of shippingMinor, and by code. */
  shippingTaxMinor?: number;
  shippingTaxLines?: TaxAmount[];
  quantity: number;
  reasonCode: string;
  state: 'WAITING_REFUND' | 'REFUNDED';
  settledAt: number | null;
}

export interface OrderLine {
  orderLineId: string;
  index: number;
  offerId: number;
  shopSku: string;
  productSku: string;
  productTitle: string;
  quantity: number;
  priceUnitMinor: number;
  priceMinor: number;
  shippingMinor: number;
  vatRate: number;
  refunds: Refund[];
  lastUpdated: number;
}

export interface Order {
  orderId: string;
  commercialId: string;
  createdAt: number;
  shippedAt: number;
  deliveredAt: number;
  closedAt: number;
  /**
   * OR11 does not show the order from `hiddenFrom` until `visibleAt` (the scenario's orders shown late when their return
   * appears; a sale the sell hook lists late, from its placing): an empty window for every other order. Outside it the
   * order is shown as any order is.
   */
  hiddenFrom: number;
  visibleAt: number;
  currency: Currency;
  customer: Customer;
  lines: OrderLine[];
  lastTouched: number;
}

export interface ReturnLine {
  orderLineId: string;
  quantity: number;
  reasonCode: string;
  compliance: { compliant: boolean; reasonCode?: string; info?: string } | null;
}

export interface Tracking {
  carrier_code?: string;
  carrier_name?: string;
  carrier_standard_code?: string;
  tracking_number?: string;
  tracking_url?: string;
}

export interface Address {
  street1: string;
  street2?: string;
  city: string;
  state?: string;
  zip_code: string;
  country_iso_code: string;
}

/** How the /_sim/ hook makes a return unreadable in RT11 answers (see rt11ReturnJson in mirakl/shapes.ts). */
export type UnreadableHow = 'quantityWord' | 'missingOrderId';
export const unreadableHows: readonly UnreadableHow[] = ['quantityWord', 'missingOrderId'];

export interface MiraklReturn {
  id: string;
  orderId: string;
  commercialId: string;
  customerId: string;
  state: ReturnState;
  methodCode: string;
  reasonCode: string;
  createdAt: number;
  lastUpdated: number;
  rma: string | null;
  labelUrl: string | null;
  tracking: Tracking | null;
  returnAddress: Address;
  rejectionReasonCode: string | null;
  lines: ReturnLine[];
  history: { at: number; from: ReturnState | null; to: ReturnState; by: 'customer' | 'api' }[];
  /** Set by a test hook: RT11 serves this return broken in this way until it is cleared. */
  unreadable?: UnreadableHow | null;
}

export type StockImportStatus = 'WAITING' | 'RUNNING' | 'COMPLETE' | 'FAILED';
export interface StockImport {
  importId: string;
  createdAt: number;
  status: StockImportStatus;
  rows: string[][];
  header: string[];
  errors: { line: number; reason: string; row: string[] }[];
  linesInSuccess: number;
  applied: { shopSku: string; from: number; to: number }[];
  /** Mirakl's import queue stalls on it: it shows RUNNING and runs no earlier than this (holdImport). */
  heldUntil?: number;
}

export type OfferExportStatus = 'PENDING' | 'COMPLETED' | 'FAILED';

/** OF52's request, as the world takes it (field names from the spec). */
export interface OfferExportRequest {
  export_type?: 'text/csv' | 'application/json';
  include_fields?: string[];
  include_inactive_offers?: boolean;
  items_per_chunk?: number;
  last_request_date?: string;
}

export interface OfferExport {
  trackingId: string;
  createdAt: number;
  /** The request as sent, canonical: an identical request while this one is recent gets this export back. */
  request: string;
  format: 'text/csv' | 'application/json';
  /** null for a full export. */
  since: number | null;
  includeInactive: boolean;
  fields: string[] | null;
  itemsPerChunk: number;
  status: OfferExportStatus;
  lastUpdated: number;
  /** The files, written when the export completes (the offers as they are then). */
  files: string[];
}

export interface BatchResult<T> {
  success: T[];
  errors: { id: string; message: string }[];
}

export class MiraklRejection extends Error {
  override name = 'MiraklRejection';
}

/** A call made sooner than Mirakl allows (answered 429 with Retry-After). */
export class MiraklTooSoon extends Error {
  override name = 'MiraklTooSoon';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** The fields an offer export can carry, by their JSON names (OF52 include_fields); CSV headers use hyphens. */
export const offerExportFields = ['offer_id', 'shop_sku', 'product_sku', 'quantity', 'active', 'deleted', 'price', 'currency_iso_code', 'state_code'] as const;

const hubAddress: Address = { street1: 'Unit 4, Returns Park', city: 'Wolverhampton', zip_code: 'WV10 7EH', country_iso_code: 'GBR' };
const firstNames = ['Amelia', 'Oliver', 'Isla', 'George', 'Ava', 'Noah', 'Mia', 'Leo', 'Chloé', 'Lukas', 'Sofia', 'Mateo'];
const lastNames = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Martin', 'Müller', 'Dubois', 'Rossi', 'García'];
const cities = [
  ['London', 'E1 6AN', 'United Kingdom', 'GBR'],
  ['Manchester', 'M1 1AE', 'United Kingdom', 'GBR'],
  ['Leeds', 'LS1 4AP', 'United Kingdom', 'GBR'],
  ['Paris', '75011', 'France', 'FRA'],
  ['Berlin', '10115', 'Germany', 'DEU'],
  ['Dublin', 'D02 X285', 'Ireland', 'IRL'],
] as const;

export interface MiraklWorldOptions {
  clock: Clock;
  rng: Rng;
  scenario: Scenario;
  shopId: number;
}

export function createMiraklWorld(options: MiraklWorldOptions) {
  const { clock, rng, scenario } = options;
  const offers = generateOffers(rng.fork('catalog'));
  const offersBySku = new Map(offers.map((o) => [o.shopSku, o]));
  const orders = new Map<string, Order>();
  const lineIndex = new Map<string, { order: Order; line: OrderLine }>();
  const returns = new Map<string, MiraklReturn>();
  const imports = new Map<string, StockImport>();
  const queue = createEventQueue();
  const counters = { refundSeq: 0, refundIdSeq: 0, importSeq: 0, saleSeq: 0, exportSeq: 0 };
  const pushRejections = new Map<string, string>();
  const exports = new Map<string, OfferExport>();
  /** Offers a test hook broke: reads that include them fail or carry them unreadable (see setOfferUnreadable). */
  const unreadableOffers = new Set<string>();
  const firstDay = Math.floor(scenario.startMs / dayMs) - scenario.historyDays;
  for (const o of offers) o.lastUpdated = (firstDay - 1) * dayMs;
  let generatedThroughDay = firstDay - 1;
  let advancedTo = -Infinity;

  function generateDay(day: number): void {
    if (scenario.ordersUntilMs !== undefined && day * dayMs >= scenario.ordersUntilMs) return;
    const dayRng = rng.fork(`day:${day}`);
    const count = Math.max(0, Math.round(scenario.ordersPerDay * (0.9 + dayRng.float() * 0.2)));
    const stamp = new Date(day * dayMs).toISOString().slice(0, 10).replace(/-/g, '');
    for (let i = 0; i < count; i++) {
      const orderRng = dayRng.fork(`order:${i}`);
      const createdAt = day * dayMs + orderRng.int(0, dayMs / 1000 - 1) * 1000;
      const commercialId = `MP${stamp}${String(i + 1).padStart(4, '0')}`;
      const order = makeOrder(orderRng, commercialId, createdAt);
      queue.schedule(createdAt, () => placeOrder(order));
      if (orderRng.chance(scenario.returnRate)) planReturn(orderRng.fork('return'), order);
    }
  }

  function makeOrder(r: Rng, commercialId: string, createdAt: number): Order {
    const orderId = `${commercialId}-A`;
    const currency: Currency = r.chance(scenario.eurShare) ? 'EUR' : 'GBP';
    const [city, zip, country, iso] = currency === 'EUR' ? r.pick(cities.slice(3)) : r.pick(cities.slice(0, 3));
    const customer: Customer = {
      customerId: `CUST-${r.int(100000, 999999)}`,
      firstname: r.pick(firstNames),
      lastname: r.pick(lastNames),
      street1: `${r.int(1, 240)} ${r.pick(['High Street', 'Station Road', 'Rue Oberkampf', 'Torstraße', 'Main Street'])}`,
      city,
      zipCode: zip,
      country,
      countryIsoCode: iso,
    };
    const lineCount = r.chance(0.35) ? r.int(2, 4) : 1;
    const used = new Set<string>();
    const lines: OrderLine[] = [];
    for (let n = 1; n <= lineCount; n++) {
      let offer = r.pick(offers);
      while (used.has(offer.shopSku)) offer = r.pick(offers);
      used.add(offer.shopSku);
      const quantity = r.chance(0.2) ? r.int(2, 3) : 1;
      const priceUnitMinor = currency === 'EUR' ? Math.round((offer.priceGbpMinor * 1.16) / 5) * 5 : offer.priceGbpMinor;
      lines.push({
        orderLineId: `${orderId}-${n}`,
        index: n,
        offerId: offer.offerId,
        shopSku: offer.shopSku,
        productSku: offer.productSku,
        productTitle: offer.productTitle,
        quantity,
        priceUnitMinor,
        priceMinor: priceUnitMinor * quantity,
        shippingMinor: n === 1 ? r.pick([0, 0, 395, 495]) : 0,
        vatRate: 20,
        refunds: [],
        lastUpdated: createdAt,
      });
    }
    const shippedAt = createdAt + r.int(6, 30) * 3_600_000;
    const deliveredAt = shippedAt + r.int(1, 4) * dayMs;
    return {
      orderId,
      commercialId,
      createdAt,
      shippedAt,
      deliveredAt,
      closedAt: deliveredAt + 60 * dayMs,
      hiddenFrom: createdAt,
      visibleAt: createdAt,
      currency,
      customer,
      lines,
      lastTouched: createdAt,
    };
  }

  function placeOrder(order: Order): void {
    orders.set(order.orderId, order);
    for (const line of order.lines) {
      lineIndex.set(line.orderLineId, { order, line });
      const offer = offersBySku.get(line.shopSku);
      if (offer) {
        offer.quantity = Math.max(0, offer.quantity - line.quantity);
        offer.soldUnits += line.quantity;
        offer.lastUpdated = clock.now();
      }
    }
  }

  function planReturn(r: Rng, order: Order): void {
    const [minDays, maxDays] = scenario.returnAfterDays;
    const requestedAt = order.deliveredAt + r.int(minDays * 24, maxDays * 24) * 3_600_000 + r.int(0, 3599) * 1000;
    // Its own stream: the returns kept draw exactly what they would without a quiet past.
    if (scenario.quiet && requestedAt < scenario.quiet.untilMs && !r.fork('quiet').chance(scenario.quiet.returnShare)) return;
    const returned = order.lines.filter((_, i) => i === 0 || r.chance(0.5));
    const lines: ReturnLine[] = returned.map((line) => ({
      orderLineId: line.orderLineId,
      quantity: line.quantity > 1 && r.chance(0.4) ? r.int(1, line.quantity - 1) : line.quantity,
      reasonCode: r.chance(scenario.unmappedReasonRate) ? unmappedReturnReasonCode : r.pick(returnReasonCodes),
      compliance: null,
    }));
    if (r.chance(scenario.orderVisibleLateRate)) {
      const [min, max] = scenario.orderVisibleLateMinutes;
      // Missing from OR11 when the return appears, for a while: not from the order's placing, weeks before. Its sale took
      // its units off the offer then, and OR11 listed it then, as it lists every order (the stock feed counts that sale).
      order.hiddenFrom = requestedAt;
      order.visibleAt = requestedAt + r.int(min, max) * minuteMs;
    }
    const isAccepted = r.chance(scenario.autoAcceptRate);
    const ret: MiraklReturn = {
      id: uuidFrom(r),
      orderId: order.orderId,
      commercialId: order.commercialId,
      customerId: order.customer.customerId,
      state: isAccepted ? 'IN_PROGRESS' : 'WAITING_ACCEPTANCE',
      methodCode: r.chance(0.8) ? 'RETURN_METHOD_BY_MAIL' : 'RETURN_METHOD_DROP_OFF_POINT',
      reasonCode: lines[0]?.reasonCode ?? 'RETURN_OTHER',
      createdAt: requestedAt,
      lastUpdated: requestedAt,
      rma: null,
      labelUrl: null,
      tracking: null,
      returnAddress: hubAddress,
      rejectionReasonCode: null,
      lines,
      history: [{ at: requestedAt, from: null, to: isAccepted ? 'IN_PROGRESS' : 'WAITING_ACCEPTANCE', by: 'customer' }],
    };
    queue.schedule(requestedAt, () => returns.set(ret.id, ret));
  }

  /** Catches the world up with the clock: new days generated, due events applied. */
  function advance(): void {
    const now = clock.now();
    if (now < advancedTo) return;
    advancedTo = now;
    const lastDay = Math.floor(now / dayMs) + 1;
    while (generatedThroughDay < lastDay) generateDay(++generatedThroughDay);
    queue.runUntil(now);
  }

  function transition(ret: MiraklReturn, to: ReturnState): void {
    const now = clock.now();
    ret.history.push({ at: now, from: ret.state, to, by: 'api' });
    ret.state = to;
    ret.lastUpdated = now;
  }

  // ---- reads -------------------------------------------------------------------------------------------------

  function visibleOrder(orderId: string): Order | undefined {
    const order = orders.get(orderId);
    return order && isShown(order) ? order : undefined;
  }

  function isShown(order: Order): boolean {
    const now = clock.now();
    return now < order.hiddenFrom || now >= order.visibleAt;
  }

  function orderState(order: Order): string {
    const now = clock.now();
    if (now >= order.closedAt) return 'CLOSED';
    if (now >= order.deliveredAt) return 'RECEIVED';
    if (now >= order.shippedAt) return 'SHIPPED';
    return 'SHIPPING';
  }

  function lineState(order: Order, line: OrderLine): string {
    const refunded = line.refunds.reduce((s, r) => s + r.amountMinor, 0);
    if (refunded >= line.priceMinor && line.refunds.every((r) => r.state === 'REFUNDED')) return 'REFUNDED';
    return orderState(order);
  }

  function orderLastUpdated(order: Order): number {
    const now = clock.now();
    const milestones = [order.createdAt, order.shippedAt, order.deliveredAt, order.closedAt].filter((t) => t <= now);
    return Math.max(order.lastTouched, ...milestones, ...order.lines.map((l) => l.lastUpdated));
  }

  // ---- money in the shop's tax modes ---------------------------------------------------------------------------

  /** The tax a line carries, by the shop's tax codes (an even split of the line's VAT when there are several). */
  function lineTaxes(line: OrderLine): { taxes: TaxAmount[]; shippingTaxes: TaxAmount[] } {
    return {
      taxes: splitTax(includedVat(line.priceMinor, line.vatRate), scenario.taxCodes),
      shippingTaxes: line.shippingMinor > 0 ? splitTax(includedVat(line.shippingMinor, line.vatRate), scenario.taxCodes) : [],
    };
  }

  /** One OR28 item in gross terms: what it takes off the line whatever the mode it was written in. */
  function grossRefund(item: RefundItem, line: OrderLine, mode: TaxMode): GrossRefund {
    const amount = toMinorAmount(item.amount, 'amount');
    const shipping = toMinorAmount(item.shipping_amount, 'shipping_amount');
    const sent = (taxes: RefundItem['taxes'], field: string) =>
      taxes?.map((t, i) => ({ code: t.code, amountMinor: toMinorAmount(t.amount, `${field}[${i}].amount`) }));
    const sentTaxes = sent(item.taxes, 'taxes');
    const sentShippingTaxes = sent(item.shipping_taxes, 'shipping_taxes');
    if ([...(sentTaxes ?? []), ...(sentShippingTaxes ?? [])].some((t) => t.amountMinor < 0)) throw new MiraklRejection('Refund taxes cannot be negative');
    const owed = lineTaxes(line);
    const lineTax = sumTax(owed.taxes);
    const shippingTax = sumTax(owed.shippingTaxes);
    if (mode === 'TAX_EXCLUDED') {
      const taxes = sentTaxes ?? proportionalTax(owed.taxes, amount, line.priceMinor - lineTax);
      const shippingTaxes = sentShippingTaxes ?? proportionalTax(owed.shippingTaxes, shipping, line.shippingMinor - shippingTax);
      return { amount: amount + sumTax(taxes), shipping: shipping + sumTax(shippingTaxes), taxes, shippingTaxes };
    }
    return {
      amount,
      shipping,
      taxes: sentTaxes ?? proportionalTax(owed.taxes, amount, line.priceMinor),
      shippingTaxes: sentShippingTaxes ?? proportionalTax(owed.shippingTaxes, shipping, line.shippingMinor),
    };
  }

  // ---- writes (the engine's side effects) --------------------------------------------------------------------

  function batch<T>(ids: string[], apply: (ret: MiraklReturn) => T | string): BatchResult<T> {
    if (ids.length > 100) throw new MiraklRejection(`At most 100 returns per call (got ${ids.length})`);
    const result: BatchResult<T> = { success: [], errors: [] };
    for (const id of ids) {
      const ret = returns.get(id);
      if (!ret) {
        result.errors.push({ id, message: 'The return does not exist.' });
        continue;
      }
      const outcome = apply(ret);
      if (typeof outcome === 'string') result.errors.push({ id, message: outcome });
      else result.success.push(outcome);
    }
    return result;
  }

  const invalidState = 'Return is in invalid state';
  const openStates: ReturnState[] = ['WAITING_ACCEPTANCE', 'IN_PROGRESS', 'RECEIVED'];

  return {
    shopId: options.shopId,
    /** The shop's default order_tax_mode: OR11 and OR28 use it when a request names none. */
    taxMode: scenario.taxMode,
    lineTaxes,
    advance,
    offers: () => offers,
    reasons: (): Reason[] => reasons,
    returnsList: (): MiraklReturn[] => [...returns.values()],
    getReturn: (id: string) => returns.get(id),
    visibleOrder,
    ordersList: (): Order[] => [...orders.values()].filter(isShown),
    orderState,
    lineState,
    orderLastUpdated,
    findLine: (orderLineId: string) => {
      const found = lineIndex.get(orderLineId);
      return found && isShown(found.order) ? found : undefined;
    },
    offerBySku: (sku: string) => offersBySku.get(sku),

    patchReturns(items: { id: string; rma?: string; label_url?: string; tracking?: Tracking; return_address?: { address: Address } }[]) {
      const byId = new Map(items.map((i) => [i.id, i]));
      return batch(items.map((i) => i.id), (ret) => {
        if (!openStates.includes(ret.state)) return invalidState;
        const item = byId.get(ret.id);
        if (item?.rma !== undefined) ret.rma = item.rma;
        if (item?.label_url !== undefined) ret.labelUrl = item.label_url;
        if (item?.tracking !== undefined) ret.tracking = { ...item.tracking };
        if (item?.return_address !== undefined) ret.returnAddress = { ...item.return_address.address };
        ret.lastUpdated = clock.now();
        return ret;
      });
    },

    acceptReturns(items: { id: string; accepted: boolean; rejection_reason_code?: string }[]) {
      const byId = new Map(items.map((i) => [i.id, i]));
      return batch(items.map((i) => i.id), (ret) => {
        const item = byId.get(ret.id);
        if (ret.state !== 'WAITING_ACCEPTANCE') return invalidState;
        if (item?.accepted) transition(ret, 'IN_PROGRESS');
        else {
          if (!item?.rejection_reason_code) return 'A rejection reason code is required to refuse a return';
          ret.rejectionReasonCode = item.rejection_reason_code;
          transition(ret, 'REFUSED');
        }
        return { id: ret.id };
      });
    },

    receiveReturns(ids: string[]) {
      return batch(ids, (ret) => {
        if (ret.state !== 'IN_PROGRESS') return invalidState;
        transition(ret, 'RECEIVED');
        return { id: ret.id };
      });
    },

    complianceReturns(items: { id: string; return_lines: { order_line_id: string; compliant: boolean; non_compliance_reason_code?: string; non_compliance_additional_info?: string }[] }[]) {
      const byId = new Map(items.map((i) => [i.id, i]));
      return batch(items.map((i) => i.id), (ret) => {
        if (ret.state !== 'RECEIVED') return invalidState;
        const given = new Map((byId.get(ret.id)?.return_lines ?? []).map((l) => [l.order_line_id, l]));
        const missing = ret.lines.filter((l) => !given.has(l.orderLineId));
        if (missing.length) return `Compliance is missing for return line(s) ${missing.map((l) => l.orderLineId).join(', ')}`;
        const unknown = [...given.keys()].filter((id) => !ret.lines.some((l) => l.orderLineId === id));
        if (unknown.length) return `Order line(s) ${unknown.join(', ')} are not part of this return`;
        for (const line of ret.lines) {
          const c = given.get(line.orderLineId);
          if (!c) continue;
          line.compliance = {
            compliant: c.compliant,
            ...(c.non_compliance_reason_code ? { reasonCode: c.non_compliance_reason_code } : {}),
            ...(c.non_compliance_additional_info ? { info: c.non_compliance_additional_info } : {}),
          };
        }
        ret.lastUpdated = clock.now();
        return { id: ret.id };
      });
    },

    closeReturns(ids: string[]) {
      return batch(ids, (ret) => {
        if (ret.state !== 'RECEIVED' && ret.state !== 'NO_RECEPTION') return invalidState;
        transition(ret, 'CLOSED');
        return { id: ret.id };
      });
    },

    cancelReturns(ids: string[]) {
      return batch(ids, (ret) => {
        if (ret.state !== 'WAITING_ACCEPTANCE' && ret.state !== 'IN_PROGRESS') return invalidState;
        transition(ret, 'CANCELED');
        return { id: ret.id };
      });
    },

    /**
     * OR28. All-or-nothing (specs NOTES §6 leaves this open; all-or-nothing is the safer reading): every refund is
     * checked before any is recorded. Over-refunds, refunds on closed lines and non-REFUND reasons are refused.
     * Amounts are read in `mode` (the shop's when the request names none): in TAX_EXCLUDED the gross refunded is
     * amount + taxes, and taxes left out are worked out in proportion to the amount, as the lines' rule says.
     */
    /**
     * Test hook: the next RT04, RT26 or RT27 call naming this return answers a per-item return_errors entry for it
     * (a business refusal), the way Mirakl refuses a push its own rules forbid. Returns served so far are kept.
     */
    rejectNextPush(operation: PushOperation, returnId: string, message: string) {
      pushRejections.set(`${operation}:${returnId}`, message);
    },
    /** The refusal armed for this push, consumed by the call that answers it (null if none). */
    takePushRejection(operation: PushOperation, returnId: string): string | null {
      const key = `${operation}:${returnId}`;
      const message = pushRejections.get(key) ?? null;
      pushRejections.delete(key);
      return message;
    },
    cancelPushRejection(operation: PushOperation, returnId: string): boolean {
      return pushRejections.delete(`${operation}:${returnId}`);
    },

    refund(items: RefundItem[], mode: TaxMode = scenario.taxMode) {
      if (items.length === 0) throw new MiraklRejection('No refund was given');
      const pending = new Map<string, { amount: number; shipping: number }>();
      const planned: { item: RefundItem; order: Order; line: OrderLine; gross: GrossRefund }[] = [];
      for (const item of items) {
        const found = lineIndex.get(item.order_line_id);
        if (!found || !isShown(found.order)) throw new MiraklRejection(`Order line ${item.order_line_id} does not exist`);
        const { order, line } = found;
        const reason = reasons.find((r) => r.code === item.reason_code);
        if (!reason || reason.type !== 'REFUND') throw new MiraklRejection(`Reason code ${item.reason_code} is not a refund reason`);
        if (!reason.isShopRight) throw new MiraklRejection(`Reason code ${item.reason_code} cannot be used by the shop`);
        if (item.currency_iso_code && item.currency_iso_code !== order.currency) {
          throw new MiraklRejection(`Currency ${item.currency_iso_code} does not match the order currency ${order.currency}`);
        }
        const state = lineState(order, line);
        if (state === 'CLOSED' || state === 'REFUNDED' || state === 'SHIPPING') {
          throw new MiraklRejection(`Order line ${line.orderLineId} cannot be refunded in state ${state}`);
        }
        const gross = grossRefund(item, line, mode);
        const { amount, shipping } = gross;
        if (amount < 0 || shipping < 0) throw new MiraklRejection('Refund amounts cannot be negative');
        if (amount === 0 && shipping === 0) throw new MiraklRejection(`Refund of order line ${line.orderLineId} is zero`);
        const before = pending.get(line.orderLineId) ?? { amount: 0, shipping: 0 };
        const refundedAmount = line.refunds.reduce((s, r) => s + r.amountMinor, 0) + before.amount + amount;
        const refundedShipping = line.refunds.reduce((s, r) => s + r.shippingMinor, 0) + before.shipping + shipping;
        if (refundedAmount > line.priceMinor) {
          throw new MiraklRejection(
            `Refund amount exceeds the refundable amount of order line ${line.orderLineId} (${(line.priceMinor - refundedAmount + amount) / 100} left, tax included)`,
          );
        }
        if (refundedShipping > line.shippingMinor) {
          throw new MiraklRejection(`Refund shipping amount exceeds the shipping price of order line ${line.orderLineId}`);
        }
        pending.set(line.orderLineId, { amount: before.amount + amount, shipping: before.shipping + shipping });
        planned.push({ item, order, line, gross });
      }
      const now = clock.now();
      const orderRefundId = `ORF-${++counters.refundSeq}`;
      const created: Refund[] = planned.map(({ item, order, line, gross }) => {
        const refund: Refund = {
          id: String(10_000 + ++counters.refundIdSeq),
          orderRefundId,
          orderLineId: line.orderLineId,
          createdAt: now,
          amountMinor: gross.amount,
          shippingMinor: gross.shipping,
          taxMinor: sumTax(gross.taxes),
          taxLines: gross.taxes,
          shippingTaxMinor: sumTax(gross.shippingTaxes),
          shippingTaxLines: gross.shippingTaxes,
          quantity: item.quantity ?? 0,
          reasonCode: item.reason_code,
          state: 'WAITING_REFUND',
          settledAt: null,
        };
        line.refunds.push(refund);
        line.lastUpdated = now;
        order.lastTouched = now;
        const [min, max] = scenario.refundSettleMinutes;
        const settleAt = now + rng.fork(`settle:${refund.id}`).int(min, max) * minuteMs;
        queue.schedule(settleAt, () => {
          refund.state = 'REFUNDED';
          refund.settledAt = settleAt;
          line.lastUpdated = settleAt;
          order.lastTouched = settleAt;
        });
        return refund;
      });
      return created;
    },

    /**
     * Test hook: RT11 serves this return unreadable (`how`) until called again with null. Either way last_updated
     * moves, so an incremental RT11 poll sees the return again.
     */
    setUnreadable(returnId: string, how: UnreadableHow | null): MiraklReturn | undefined {
      const ret = returns.get(returnId);
      if (!ret) return undefined;
      ret.unreadable = how;
      ret.lastUpdated = Math.max(clock.now(), ret.lastUpdated + 1000);
      return ret;
    },

    /**
     * Test hook: a customer buys `quantity` units of this offer now. The order is placed at once: its created_date is
     * now and the offer's stock goes down by those units, as any sale does. OR11 lists it `listedAfterMinutes` later
     * (0: at once): Mirakl's order listing is not the offer's stock, and may show an order a little after its sale took
     * the units (the spec's OR11 date filters allow for it with a safety delta, NOTES §2), so an export read just
     * after a sale can count it before any OR11 read lists it. Refused when the offer does not exist or holds fewer
     * units (a sale never takes the stock below zero here).
     */
    sellNow(shopSku: string, quantity: number, listedAfterMinutes = 0): Order {
      const offer = offersBySku.get(shopSku);
      if (!offer) throw new MiraklRejection(`The offer with sku "${shopSku}" does not exist`);
      if (!Number.isInteger(quantity) || quantity < 1) throw new MiraklRejection(`quantity must be a whole number of 1 or more, got ${String(quantity)}`);
      if (!Number.isInteger(listedAfterMinutes) || listedAfterMinutes < 0) {
        throw new MiraklRejection(`listedAfterMinutes must be a whole number of 0 or more, got ${String(listedAfterMinutes)}`);
      }
      if (offer.quantity < quantity) throw new MiraklRejection(`Only ${offer.quantity} unit(s) of ${shopSku} are in stock`);
      const now = clock.now();
      const commercialId = `MPSALE${String(++counters.saleSeq).padStart(6, '0')}`;
      const orderId = `${commercialId}-A`;
      const order: Order = {
        orderId,
        commercialId,
        createdAt: now,
        shippedAt: now + 12 * 3_600_000,
        deliveredAt: now + 2 * dayMs,
        closedAt: now + 62 * dayMs,
        hiddenFrom: now,
        visibleAt: now + listedAfterMinutes * minuteMs,
        currency: 'GBP',
        customer: { customerId: 'CUST-SALE', firstname: 'Ada', lastname: 'Lovelace', street1: '1 High Street', city: 'London', zipCode: 'E1 6AN', country: 'United Kingdom', countryIsoCode: 'GBR' },
        lines: [
          {
            orderLineId: `${orderId}-1`,
            index: 1,
            offerId: offer.offerId,
            shopSku: offer.shopSku,
            productSku: offer.productSku,
            productTitle: offer.productTitle,
            quantity,
            priceUnitMinor: offer.priceGbpMinor,
            priceMinor: offer.priceGbpMinor * quantity,
            shippingMinor: 0,
            vatRate: 20,
            refunds: [],
            lastUpdated: now,
          },
        ],
        lastTouched: now,
      };
      placeOrder(order);
      return order;
    },

    /**
     * Test hook: this offer is corrupt in Mirakl's store until called again with false. OF21 answers 500 for any page
     * that holds it (the way a server fails on a record it cannot serialise); the other offers read as usual.
     */
    setOfferUnreadable(shopSku: string, isUnreadable: boolean): Offer | undefined {
      const offer = offersBySku.get(shopSku);
      if (!offer) return undefined;
      if (isUnreadable) unreadableOffers.add(shopSku);
      else unreadableOffers.delete(shopSku);
      // Broken or mended, the offer changed: a differential export selects it again.
      offer.lastUpdated = clock.now();
      return offer;
    },
    isOfferUnreadable: (shopSku: string) => unreadableOffers.has(shopSku),

    /** STO01: validates the file's shape now; the lines are applied when the import runs. */
    importStock(csvRows: string[][]) {
      const now = clock.now();
      const importId = String(5000 + ++counters.importSeq);
      const [header = [], ...rows] = csvRows;
      const imp: StockImport = { importId, createdAt: now, status: 'WAITING', rows, header, errors: [], linesInSuccess: 0, applied: [] };
      imports.set(importId, imp);
      const [min, max] = scenario.stockImportSeconds;
      const r = rng.fork(`import:${importId}`);
      const runningAt = now + r.int(min, max) * 500;
      const doneAt = runningAt + r.int(min, max) * 500;
      queue.schedule(runningAt, () => {
        imp.status = 'RUNNING';
      });
      const run = () => {
        if (imp.heldUntil !== undefined && clock.now() < imp.heldUntil) queue.schedule(imp.heldUntil, run);
        else runImport(imp);
      };
      queue.schedule(doneAt, run);
      return imp;
    },
    getImport: (id: string) => imports.get(id),
    /** Mirakl's import queue stalls on an import not run yet: it runs no earlier than `untilMs`, RUNNING meanwhile. */
    holdImport(id: string, untilMs: number): boolean {
      const imp = imports.get(id);
      if (!imp || imp.status === 'COMPLETE' || imp.status === 'FAILED') return false;
      imp.heldUntil = untilMs;
      imp.status = 'RUNNING';
      return true;
    },

    /**
     * OF52. A full export (no last_request_date) holds the active offers, or every offer with include_inactive_offers;
     * a differential one the offers updated since last_request_date, active or not. The files are written when the
     * export completes, a few seconds later, from the offers as they are then. An identical request while an export
     * of the last hour stands gets that export back (the spec: "If Mirakl detects a duplicate export request, the API
     * will return the tracking_id of the existing export"); a new full export is refused within a day of the last one.
     */
    requestExport(request: OfferExportRequest): OfferExport {
      const now = clock.now();
      const canonical = JSON.stringify(Object.entries(request).sort(([a], [b]) => (a < b ? -1 : 1)));
      const duplicate = [...exports.values()].find((e) => e.request === canonical && e.status !== 'FAILED' && now - e.createdAt < 60 * minuteMs);
      if (duplicate) return duplicate;
      const format = request.export_type ?? 'text/csv';
      if (format !== 'text/csv' && format !== 'application/json') throw new MiraklRejection(`export_type must be text/csv or application/json, got ${JSON.stringify(format)}`);
      let since: number | null = null;
      if (request.last_request_date !== undefined) {
        since = Date.parse(request.last_request_date);
        if (Number.isNaN(since) || !/^\d{4}-\d{2}-\d{2}T/.test(request.last_request_date)) throw new MiraklRejection(`last_request_date must be an ISO 8601 date-time, got "${request.last_request_date}"`);
        if (request.include_inactive_offers !== undefined) throw new MiraklRejection('include_inactive_offers cannot be used with last_request_date (differential mode)');
      }
      // Mirakl's TEST environments take smaller chunks than the published minimum of 10,000 items: so does the sandbox.
      const itemsPerChunk = request.items_per_chunk ?? 10_000;
      if (!Number.isInteger(itemsPerChunk) || itemsPerChunk < 1 || itemsPerChunk > 1_000_000) throw new MiraklRejection(`items_per_chunk must be a whole number up to 1000000, got ${String(itemsPerChunk)}`);
      if (since === null) {
        const lastFull = [...exports.values()].filter((e) => e.since === null && e.status !== 'FAILED').reduce((m, e) => Math.max(m, e.createdAt), -Infinity);
        const wait = lastFull + dayMs - now;
        if (wait > 0) throw new MiraklTooSoon('A full offer export may be requested once a day', Math.ceil(wait / 1000));
      }
      const seq = ++counters.exportSeq;
      const r = rng.fork(`export:${seq}`);
      const exp: OfferExport = {
        trackingId: uuidFrom(r),
        createdAt: now,
        request: canonical,
        format,
        since,
        includeInactive: request.include_inactive_offers ?? false,
        fields: request.include_fields ?? null,
        itemsPerChunk,
        status: 'PENDING',
        lastUpdated: now,
        files: [],
      };
      exports.set(exp.trackingId, exp);
      const doneAt = now + r.int(2, 20) * 1000;
      queue.schedule(doneAt, () => completeExport(exp, doneAt));
      return exp;
    },
    getExport: (trackingId: string) => exports.get(trackingId),
    importsList: () => [...imports.values()],
    counters,
    truth,
  };

  /** What really happened on the marketplace side, for tests and the /_sim/ endpoints; never served by the API. */
  function truth() {
    const refundsByLine: Record<string, { id: string; amountMinor: number; shippingMinor: number; taxMinor: number; state: string; reasonCode: string; createdAt: string }[]> = {};
    for (const { line } of lineIndex.values()) {
      if (line.refunds.length === 0) continue;
      refundsByLine[line.orderLineId] = line.refunds.map((r) => ({
        id: r.id,
        amountMinor: r.amountMinor,
        shippingMinor: r.shippingMinor,
        taxMinor: r.taxMinor,
        state: r.state,
        reasonCode: r.reasonCode,
        createdAt: new Date(r.createdAt).toISOString(),
      }));
    }
    return {
      at: new Date(clock.now()).toISOString(),
      /** The shop's default tax mode. Every amount in the truth is gross (tax included), whatever the mode. */
      taxMode: scenario.taxMode,
      orders: { count: orders.size, visible: [...orders.values()].filter(isShown).length },
      returns: [...returns.values()]
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
        .map((r) => ({
          id: r.id,
          orderId: r.orderId,
          state: r.state,
          createdAt: new Date(r.createdAt).toISOString(),
          rma: r.rma,
          trackingNumber: r.tracking?.tracking_number ?? null,
          lines: r.lines.map((l) => ({ orderLineId: l.orderLineId, quantity: l.quantity, reasonCode: l.reasonCode, compliance: l.compliance })),
          history: r.history.map((h) => `${new Date(h.at).toISOString()} ${h.from ?? '-'}>${h.to} ${h.by}`),
        })),
      refundsByLine,
      stock: Object.fromEntries(
        offers.map((o) => [o.shopSku, { offerId: o.offerId, initial: o.initialQuantity, sold: o.soldUnits, quantity: o.quantity }]),
      ),
      stockImports: [...imports.values()].map((i) => ({
        importId: i.importId,
        status: i.status,
        applied: i.applied,
        errors: i.errors.map((e) => ({ line: e.line, reason: e.reason })),
      })),
    };
  }

  function completeExport(exp: OfferExport, at: number): void {
    // Every offer here is active; a differential export would carry deleted ones too (deleted: true), and none is.
    const selected = offers.filter((o) => exp.since === null || o.lastUpdated >= exp.since);
    const fields = exp.fields ? offerExportFields.filter((f) => exp.fields?.includes(f)) : [...offerExportFields];
    const recordOf = (o: Offer): Record<string, unknown> => {
      const full: Record<string, unknown> = {
        offer_id: o.offerId,
        shop_sku: o.shopSku,
        product_sku: o.productSku,
        // A corrupt offer (a test hook) is written without a readable quantity.
        quantity: unreadableOffers.has(o.shopSku) ? null : o.quantity,
        active: true,
        deleted: false,
        price: o.priceGbpMinor / 100,
        currency_iso_code: 'GBP',
        state_code: '11',
      };
      return Object.fromEntries(fields.map((f) => [f, full[f]]));
    };
    const chunks: Record<string, unknown>[][] = [];
    for (let i = 0; i < selected.length; i += exp.itemsPerChunk) chunks.push(selected.slice(i, i + exp.itemsPerChunk).map(recordOf));
    // Nothing changed since last_request_date: one empty file.
    if (chunks.length === 0) chunks.push([]);
    exp.files = chunks.map((records) => (exp.format === 'application/json' ? JSON.stringify(records) : exportCsv(fields, records)));
    exp.status = 'COMPLETED';
    exp.lastUpdated = at;
  }

  function runImport(imp: StockImport): void {
    const col = (name: string) => imp.header.indexOf(name);
    const skuCol = col('offer-sku');
    const qtyCol = col('quantity');
    const whCol = col('warehouse-code');
    const udCol = col('update-delete');
    if (skuCol < 0 || qtyCol < 0) {
      imp.status = 'FAILED';
      imp.errors.push({ line: 1, reason: 'The file must have the columns "offer-sku" and "quantity"', row: imp.header });
      return;
    }
    imp.rows.forEach((row, i) => {
      const lineNumber = i + 2;
      const sku = row[skuCol] ?? '';
      const quantityText = row[qtyCol] ?? '';
      const offer = offersBySku.get(sku);
      const fail = (reason: string) => imp.errors.push({ line: lineNumber, reason, row });
      if (!offer) return fail(`The offer with sku "${sku}" does not exist`);
      if (!/^\d+$/.test(quantityText)) return fail(`The quantity "${quantityText}" is not a whole number of 0 or more`);
      if (whCol >= 0 && (row[whCol] ?? '') !== '') return fail(`Unknown warehouse "${row[whCol]}"`);
      const updateDelete = udCol >= 0 ? (row[udCol] ?? '') : '';
      if (updateDelete !== '' && updateDelete !== 'update') return fail(`Unsupported update-delete value "${updateDelete}" for a stock line`);
      const to = Number(quantityText);
      imp.applied.push({ shopSku: sku, from: offer.quantity, to });
      offer.quantity = to;
      offer.lastUpdated = clock.now();
      imp.linesInSuccess++;
    });
    imp.status = 'COMPLETE';
  }
}

export type MiraklWorld = ReturnType<typeof createMiraklWorld>;
export type PushOperation = 'RT04' | 'RT26' | 'RT27';

/** One OR28 refund as the API takes it; tax amounts may be decimal strings, as in the spec's own OR28 example. */
export interface RefundItem {
  order_line_id: string;
  amount: number;
  shipping_amount: number;
  reason_code: string;
  quantity?: number;
  currency_iso_code?: string;
  taxes?: { code: string; amount: number | string }[];
  shipping_taxes?: { code: string; amount: number | string }[];
}

interface GrossRefund {
  amount: number;
  shipping: number;
  taxes: TaxAmount[];
  shippingTaxes: TaxAmount[];
}

const sumTax = (taxes: readonly TaxAmount[]) => taxes.reduce((s, t) => s + t.amountMinor, 0);

function toMinorAmount(value: number | string, field: string): number {
  const n = typeof value === 'number' ? value : /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n)) throw new MiraklRejection(`${field} must be a decimal amount, got ${JSON.stringify(value)}`);
  return Math.round(n * 100);
}
export type { Offer, Reason };

/** An offer export as CSV: semicolon-separated, quoted, headers with hyphens (shop-sku), as Mirakl's CSV exports. */
function exportCsv(fields: readonly string[], records: Record<string, unknown>[]): string {
  const cell = (v: unknown) => `"${v === null || v === undefined ? '' : String(v).replace(/"/g, '""')}"`;
  return [fields.map((f) => cell(f.replace(/_/g, '-'))).join(';'), ...records.map((r) => fields.map((f) => cell(r[f])).join(';'))].join('\n') + '\n';
}

function uuidFrom(r: Rng): string {
  const hex = (n: number) =>
    Array.from({ length: n }, () => r.int(0, 15).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${r.pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
}

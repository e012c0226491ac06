// How the simulated world behaves: volumes, timings and the rates of every edge case the engine must survive.
// One seed plus one scenario determines the world.

export type Range = [min: number, max: number];

/** Whether the shop's prices include tax (Mirakl's order_tax_mode). */
export type TaxMode = 'TAX_INCLUDED' | 'TAX_EXCLUDED';

export interface Scenario {
  /** Sandbox time at which the world begins (its first orders are created before it). */
  startMs: number;
  /** Days of order history generated before startMs, so returns already exist when the sandbox starts. */
  historyDays: number;
  /** No orders are generated on or after this time (so a test can run until the world goes quiet). */
  ordersUntilMs?: number;
  /** Orders that reach a delivered state per simulated day. */
  ordersPerDay: number;
  /** Share of delivered order lines the customer asks to return. */
  returnRate: number;
  /**
   * A quieter past: of the returns requested before `untilMs`, only `returnShare` are asked for. Sandbox mode's engine
   * catches up on a past month before the app opens (see core/app/sandbox-clock.ts); a fifth of the volume is still a
   * month with every stage in it, and it is synced in seconds.
   */
  quiet?: { untilMs: number; returnShare: number };
  /** Days between delivery and the customer's return request. */
  returnAfterDays: Range;
  /** Share of orders in EUR (the rest in GBP). */
  eurShare: number;
  /**
   * Share of returns whose order is missing from OR11 when the return appears, and for how long after. OR11 showed it
   * from its placing until then, as any order (its sale is in OR11 when it happens).
   */
  orderVisibleLateRate: number;
  orderVisibleLateMinutes: Range;
  /** Share of return lines with a reason the shipped reason mapping does not cover (RETURN_DAMAGED_PACKAGING). */
  unmappedReasonRate: number;
  /** Share of returns created already accepted (IN_PROGRESS) rather than WAITING_ACCEPTANCE. */
  autoAcceptRate: number;

  // Physical side (ReBound hubs), per return order.
  parcelNeverSentRate: number;
  /** Fewer units arrive than were announced. */
  shortReceiptRate: number;
  /**
   * A customer returning several units of a line keeps one back to send later, in a parcel of its own: it is missing
   * when the contents are registered (a short receipt), and reaches the hub only when a test or the chaos harness makes
   * it (`POST /_sim/return-orders/<id>/late-unit`). Per return order with such a line.
   */
  heldBackUnitRate: number;
  /** An extra item ReBound cannot match ("Not available"). */
  unexpectedItemRate: number;
  /** A different SKU arrives instead of the announced one. */
  wrongSkuRate: number;
  /** Unit graded D_DAMAGED. */
  damagedRate: number;
  /** Unit graded C_NON_SELLABLE. */
  nonSellableRate: number;
  /** Hours between the label being issued and each next milestone. */
  hoursToNetwork: Range;
  hoursToHub: Range;
  hoursToRegistered: Range;
  hoursToProcessed: Range;

  // Notifications.
  duplicateNotificationRate: number;
  /** Notifications held back so that a later one overtakes them. */
  outOfOrderNotificationRate: number;
  /** Extra delay of a late notification, in minutes. */
  lateNotificationMinutes: Range;

  // Mirakl money and stock.
  /**
   * The shop's default order_tax_mode: what OR11 and OR28 use when a request names none. The world keeps gross
   * amounts either way; TAX_EXCLUDED answers give prices net of tax with the tax in taxes[].
   */
  taxMode: TaxMode;
  /** The tax codes each line's VAT is split over (e.g. ['tax1', 'tax2'] as in Mirakl's OR11 example). */
  taxCodes: string[];
  /** Minutes a refund spends in WAITING_REFUND before it is REFUNDED. */
  refundSettleMinutes: Range;
  /** Seconds a stock import spends WAITING and then RUNNING. */
  stockImportSeconds: Range;
}

export const defaultScenario: Scenario = {
  startMs: Date.UTC(2026, 9, 1, 0, 0, 0),
  historyDays: 10,
  ordersPerDay: 450,
  returnRate: 0.18,
  returnAfterDays: [1, 20],
  eurShare: 0.3,
  orderVisibleLateRate: 0.03,
  orderVisibleLateMinutes: [5, 90],
  unmappedReasonRate: 0.01,
  autoAcceptRate: 0.8,
  parcelNeverSentRate: 0.04,
  shortReceiptRate: 0.03,
  heldBackUnitRate: 0,
  unexpectedItemRate: 0.02,
  wrongSkuRate: 0.02,
  damagedRate: 0.05,
  nonSellableRate: 0.1,
  hoursToNetwork: [2, 72],
  hoursToHub: [12, 60],
  hoursToRegistered: [1, 24],
  hoursToProcessed: [1, 48],
  duplicateNotificationRate: 0.05,
  outOfOrderNotificationRate: 0.05,
  lateNotificationMinutes: [10, 240],
  taxMode: 'TAX_INCLUDED',
  taxCodes: ['VAT'],
  refundSettleMinutes: [30, 600],
  stockImportSeconds: [5, 60],
};

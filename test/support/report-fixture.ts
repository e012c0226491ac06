import type { Database } from 'better-sqlite3';

/**
 * A hand-made October 2026 (and its edges) as the sync engine would have stored it, for the month-end report tests.
 * Every expected figure below is worked out by hand from these rows (see `octoberExpected`), not by the report's SQL.
 *
 * - R-1 (GBP): opened 5 Oct, 2 units of L-1 (25.00 each) verified 8 Oct, refunded 50.00 by this app 9 Oct (F-1),
 *   closed 12 Oct; one unit restocked on SKU-A 10 Oct, the other still waiting.
 * - R-2 (EUR): opened 20 Oct, 1 unit of L-2 (30.00) verified 25 Oct, not refunded → accrual EUR 30.00.
 * - R-3 (GBP): opened 28 Oct, parcel in transit; a back-office refund X-1 of 19.99 on L-3 dated 29 Oct → refund
 *   without a verified receipt, with its REFUND_WITHOUT_RECEIPT exception (finance).
 * - R-4 (GBP): opened and verified in September (L-4, 40.00), refunded only 35.00 on 2 Oct (F-4) → variance −5.00
 *   and 5.00 still awaiting refund at period end; 5.00 more refunded on 5 Nov.
 * - opened 2 Nov (not October). An exception resolved within October, and one raised in November.
 */
export function seedOctober(db: Database): void {
  const run = (sql: string, ...params: unknown[]) => db.prepare(sql).run(...params);
  const order = (id: string, currency: string, at: string) =>
    run(`INSERT INTO mirakl_orders (order_id, commercial_id, state, currency, customer_id, customer_name, customer_address, date_created, last_updated, synced_at)
      VALUES (?, ?, 'RECEIVED', ?, 'CU', 'Ann', '{}', ?, ?, ?)`, id, `C-${id}`, currency, at, at, at);
  const line = (id: string, orderId: string, sku: string, quantity: number, unitMinor: number) =>
    run(`INSERT INTO mirakl_order_lines (order_line_id, order_id, offer_id, offer_sku, product_sku, product_title, quantity, price_unit_minor, price_minor,
        shipping_minor, tax_minor, shipping_tax_minor, state, can_refund) VALUES (?, ?, 1, ?, 'P', 'Shirt', ?, ?, ?, 0, 0, 0, 'RECEIVED', 1)`,
      id, orderId, sku, quantity, unitMinor, unitMinor * quantity);
  const ret = (id: string, orderId: string, state: string, created: string, updated: string, lineId: string, quantity: number, reason: string) => {
    run(`INSERT INTO mirakl_returns (id, order_id, commercial_id, state, method_code, date_created, last_updated, first_seen_at, synced_at)
      VALUES (?, ?, ?, ?, 'BY_MAIL', ?, ?, ?, ?)`, id, orderId, `C-${orderId}`, state, created, updated, created, updated);
    run(`INSERT INTO mirakl_return_lines (return_id, order_line_id, quantity, reason_code) VALUES (?, ?, ?, ?)`, id, lineId, quantity, reason);
  };
  const rebound = (returnId: string, status: string, rank: number, lineId: string, sku: string, reason: string, at: string) => {
    run(`INSERT INTO rebound_return_orders (rebound_order_id, client_order_id, return_id, status, status_rank, created_at, updated_at, synced_at, is_open)
      VALUES (?, 'x', ?, ?, ?, ?, ?, ?, 1)`, `RO-${returnId}`, returnId, status, rank, at, at, at);
    run(`INSERT INTO rebound_items (rebound_item_id, rebound_order_id, client_item_id, sku, quantity, reason_code, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?)`,
      `RI-${returnId}`, `RO-${returnId}`, lineId, sku, reason, at);
  };
  const unit = (returnId: string, lineId: string, n: number, sku: string, registeredAt: string | null) =>
    run(`INSERT INTO units (id, return_id, order_line_id, offer_sku, stage, stage_rank, registered_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      `${returnId}:${lineId}:${n}`, returnId, lineId, sku, registeredAt ? 'registered' : 'in_transit', registeredAt ? 4 : 1, registeredAt, registeredAt ?? '2026-10-28T12:00:00.000Z');
  const refund = (id: string, lineId: string, amountMinor: number, at: string, state = 'REFUNDED') =>
    run(`INSERT INTO mirakl_refunds (id, order_line_id, order_refund_id, amount_minor, shipping_minor, quantity, reason_code, refund_state, date_created, first_seen_at, synced_at)
      VALUES (?, ?, ?, ?, 0, 1, '11', ?, ?, ?, ?)`, id, lineId, `OR-${id}`, amountMinor, state, at, at, at);
  const ourRefund = (id: string, returnId: string, lineId: string, amountMinor: number, at: string) => {
    run(`INSERT INTO intents (kind, key, subject, payload, state, outcome, created_at, updated_at, mapping_version) VALUES ('mirakl.refund', ?, ?, ?, 'confirmed', ?, ?, ?, 'reasonCodes@v1:test')`,
      `refund:${returnId}:${lineId}`, returnId, JSON.stringify({ returnId, order_line_id: lineId, units: [], amountMinor, currency: 'GBP' }), JSON.stringify({ refundId: id }), at, at);
    refund(id, lineId, amountMinor, at.replace(/\.\d{3}Z$/, 'Z'));
  };
  const exception = (type: string, subject: string, owner: string, severity: string, returnId: string | null, detected: string, resolved: string | null) =>
    run(`INSERT INTO exceptions (type, subject_key, severity, owner_team, state, return_id, cause, next_action, detected_at, sla_due_at, resolved_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, 'cause', 'next', ?, ?, ?, ?)`, type, subject, severity, owner, resolved ? 'resolved' : 'open', returnId, detected, detected, resolved, resolved ?? detected);

  order('O-1', 'GBP', '2026-09-25T10:00:00Z');
  line('L-1', 'O-1', 'SKU-A', 2, 2500);
  ret('R-1', 'O-1', 'CLOSED', '2026-10-05T09:00:00Z', '2026-10-12T15:00:00Z', 'L-1', 2, 'RETURN_PDNT_TOO_SMALL');
  rebound('R-1', 'PROCESSED', 5, 'L-1', 'SKU-A', 'Too small', '2026-10-08T10:00:00.000Z');
  unit('R-1', 'L-1', 1, 'SKU-A', '2026-10-08T10:00:00.000Z');
  unit('R-1', 'L-1', 2, 'SKU-A', '2026-10-08T10:00:00.000Z');
  ourRefund('F-1', 'R-1', 'L-1', 5000, '2026-10-09T08:00:00.000Z');
  run(`INSERT INTO stock_increments (unit_id, offer_sku, state, created_at, updated_at) VALUES ('R-1:L-1:1', 'SKU-A', 'applied', '2026-10-09T00:00:00.000Z', '2026-10-10T00:00:00.000Z')`);
  run(`INSERT INTO stock_increments (unit_id, offer_sku, state, created_at, updated_at) VALUES ('R-1:L-1:2', 'SKU-A', 'pending', '2026-10-09T00:00:00.000Z', '2026-10-09T00:00:00.000Z')`);

  order('O-2', 'EUR', '2026-10-10T10:00:00Z');
  line('L-2', 'O-2', 'SKU-B', 1, 3000);
  ret('R-2', 'O-2', 'RECEIVED', '2026-10-20T09:00:00Z', '2026-10-25T12:00:00Z', 'L-2', 1, 'RETURN_CHANGED_MIND');
  rebound('R-2', 'ITEMS_REGISTERED', 4, 'L-2', 'SKU-B', 'Changed my mind', '2026-10-25T11:00:00.000Z');
  unit('R-2', 'L-2', 1, 'SKU-B', '2026-10-25T11:00:00.000Z');

  order('O-3', 'GBP', '2026-10-15T10:00:00Z');
  line('L-3', 'O-3', 'SKU-C', 1, 1999);
  ret('R-3', 'O-3', 'IN_PROGRESS', '2026-10-28T09:00:00Z', '2026-10-28T09:00:00Z', 'L-3', 1, 'RETURN_DEFECTIVE_ITEM');
  rebound('R-3', 'IN_CARRIER_NETWORK', 2, 'L-3', 'SKU-C', 'Faulty', '2026-10-28T12:00:00.000Z');
  unit('R-3', 'L-3', 1, 'SKU-C', null);
  refund('X-1', 'L-3', 1999, '2026-10-29T10:00:00Z');
  exception('REFUND_WITHOUT_RECEIPT', 'refund:X-1', 'finance', 'critical', 'R-3', '2026-10-29T11:00:00.000Z', null);

  order('O-4', 'GBP', '2026-09-01T10:00:00Z');
  line('L-4', 'O-4', 'SKU-A', 1, 4000);
  ret('R-4', 'O-4', 'RECEIVED', '2026-09-20T09:00:00Z', '2026-09-28T12:00:00Z', 'L-4', 1, 'RETURN_PDNT_TOO_SMALL');
  rebound('R-4', 'ITEMS_REGISTERED', 4, 'L-4', 'SKU-A', 'Too small', '2026-09-28T11:00:00.000Z');
  unit('R-4', 'L-4', 1, 'SKU-A', '2026-09-28T11:00:00.000Z');
  ourRefund('F-4', 'R-4', 'L-4', 3500, '2026-10-02T08:00:00.000Z');
  refund('F-4b', 'L-4', 500, '2026-11-05T08:00:00Z');

  order('O-5', 'GBP', '2026-10-30T10:00:00Z');
  line('L-5', 'O-5', 'SKU-D', 1, 1000);
  ret('R-5', 'O-5', 'WAITING_ACCEPTANCE', '2026-11-02T09:00:00Z', '2026-11-02T09:00:00Z', 'L-5', 1, 'RETURN_CM_DONT_LIKE');

  exception('PARCEL_STALLED', 'R-2', 'cs', 'medium', 'R-2', '2026-10-03T00:00:00.000Z', '2026-10-15T00:00:00.000Z');
  exception('STATUS_NOT_PUSHED', 'R-5', 'cs', 'high', 'R-5', '2026-11-03T00:00:00.000Z', null);
}

/** October's figures, worked out by hand from the rows above. */
export const octoberExpected = {
  returns: { opened: 3, received: 2, refunded: 3, closed: 1 },
  units: { verified: 3, restocked: 1, awaitingRestock: 1 },
  money: [
    {
      currency: 'EUR',
      refunds: 0,
      refundedMinor: 0,
      shippingRefundedMinor: 0,
      backedRefunds: 0,
      backedMinor: 0,
      unbackedRefunds: 0,
      unbackedMinor: 0,
      expectedMinor: 0,
      refundedToDateMinor: 0,
      varianceMinor: 0,
      accrualLines: 1,
      accrualMinor: 3000,
      adjustedRefundsMinor: 0,
      adjustedAccrualMinor: 0,
    },
    {
      currency: 'GBP',
      refunds: 3,
      refundedMinor: 5000 + 1999 + 3500,
      shippingRefundedMinor: 0,
      backedRefunds: 2,
      backedMinor: 5000 + 3500,
      unbackedRefunds: 1,
      unbackedMinor: 1999,
      expectedMinor: 5000 + 0 + 4000,
      refundedToDateMinor: 5000 + 1999 + 3500,
      varianceMinor: 1999 - 500,
      accrualLines: 1,
      accrualMinor: 500,
      adjustedRefundsMinor: 0,
      adjustedAccrualMinor: 0,
    },
  ],
};

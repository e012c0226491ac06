import type { Database } from 'better-sqlite3';
import { unitStageRank, type UnitStage } from '../../core/ledger/units';
import type { Clock } from '../../core/ports';

/**
 * Rows as the sync engine would have written them, for reconciliation tests: order O-1 with line L-1 (2 × 25.00 GBP),
 * returns of that line, ReBound orders, units, refunds (ours, with the intent, or made elsewhere). `line` puts a
 * return on another line of O-1 (same price) instead.
 */
export function createReconFixture(db: Database, clock: Clock) {
  const now = () => new Date(clock.now()).toISOString();
  const sql = (text: string, ...params: unknown[]) => db.prepare(text).run(...params);
  const fixture = {
    returnOf(id: string, state = 'IN_PROGRESS', line = 'L-1') {
      const t = now();
      sql(`INSERT INTO mirakl_orders (order_id, commercial_id, state, currency, customer_id, customer_name, customer_address, date_created, last_updated, synced_at)
           VALUES ('O-1', 'C-1', 'SHIPPED', 'GBP', 'CU', 'Ann', '{}', ?, ?, ?) ON CONFLICT DO NOTHING`, t, t, t);
      sql(`INSERT INTO mirakl_order_lines (order_line_id, order_id, offer_id, offer_sku, product_sku, product_title, quantity, price_unit_minor, price_minor,
             shipping_minor, tax_minor, shipping_tax_minor, state, can_refund) VALUES (?, 'O-1', 1, 'SKU', 'P', 'Shirt', 2, 2500, 5000, 0, 0, 0, 'SHIPPED', 1)
           ON CONFLICT DO NOTHING`, line);
      sql(`INSERT INTO mirakl_returns (id, order_id, commercial_id, state, method_code, date_created, last_updated, first_seen_at, synced_at)
           VALUES (?, 'O-1', 'C-1', ?, 'BY_MAIL', ?, ?, ?, ?)`, id, state, t, t, t, t);
      sql(`INSERT INTO mirakl_return_lines (return_id, order_line_id, quantity, reason_code) VALUES (?, ?, 2, 'RETURN_PDNT_TOO_SMALL')`, id, line);
    },
    reboundOrder(returnId: string, status: string, rank: number) {
      const t = now();
      sql(`INSERT INTO rebound_return_orders (rebound_order_id, client_order_id, return_id, status, status_rank, created_at, updated_at, synced_at, is_open)
           VALUES (?, 'O-1', ?, ?, ?, ?, ?, ?, 1)`, `RO-${returnId}`, returnId, status, rank, t, t, t);
    },
    unit(returnId: string, n: number, stage = 'registered', line = 'L-1') {
      const t = now();
      sql(`INSERT INTO units (id, return_id, order_line_id, offer_sku, stage, stage_rank, registered_at, updated_at) VALUES (?, ?, ?, 'SKU', ?, ?, ?, ?)`,
        `${returnId}:${line}:${n}`, returnId, line, stage, unitStageRank[stage as UnitStage], stage === 'registered' ? t : null, t);
    },
    ourRefund(returnId: string, refundId: string, amountMinor: number, state = 'REFUNDED', line = 'L-1') {
      const t = now();
      sql(`INSERT INTO intents (kind, key, subject, payload, state, outcome, created_at, updated_at) VALUES ('mirakl.refund', ?, ?, ?, 'confirmed', ?, ?, ?)`,
        `refund:${returnId}:${line}`, returnId, JSON.stringify({ returnId, order_line_id: line, units: [], amountMinor }), JSON.stringify({ refundId }), t, t);
      fixture.refund(refundId, amountMinor, state, line);
    },
    refund(refundId: string, amountMinor: number, state = 'REFUNDED', line = 'L-1') {
      const t = now();
      sql(`INSERT INTO mirakl_refunds (id, order_line_id, order_refund_id, amount_minor, shipping_minor, quantity, reason_code, refund_state, date_created, first_seen_at, synced_at)
           VALUES (?, ?, ?, ?, 0, 1, '11', ?, ?, ?, ?)`, refundId, line, `OR-${refundId}`, amountMinor, state, t, t, t);
    },
  };

  return fixture;
}

export type ReconFixture = ReturnType<typeof createReconFixture>;

import type { Database } from 'better-sqlite3';
import type { Clock } from '../ports';

// Where each Mirakl return stands on its way into ReBound (return_intake): one row per return, written with it
// (see queue()). Stages wait with a due time; the oldest due are taken first.

export type IntakeStage = 'awaiting_order' | 'blocked' | 'awaiting_acceptance' | 'sales_order' | 'create_return' | 'push_label' | 'in_flight' | 'done' | 'skipped';

export interface IntakeRow {
  return_id: string;
  stage: IntakeStage;
  attempts: number;
  next_attempt_at: string | null;
  order_wait_until: string | null;
  rebound_order_id: string | null;
}

export interface StoredOrderRow {
  order_id: string;
  commercial_id: string;
  currency: string;
  customer_name: string;
  customer_address: string;
  date_created: string;
}

export interface StoredOrderLineRow {
  order_line_id: string;
  offer_sku: string;
  product_title: string;
  quantity: number;
  price_unit_minor: number;
}

export function createIntakeRepo(db: Database, clock: Clock) {
  const iso = (ms: number) => new Date(ms).toISOString();
  const queue = db.prepare(`INSERT INTO return_intake (return_id, stage, updated_at) VALUES (?, 'awaiting_order', ?) ON CONFLICT (return_id) DO NOTHING`);
  const setStage = db.prepare(`UPDATE return_intake SET stage = @stage, next_attempt_at = @next, last_error = @error, attempts = COALESCE(@attempts, attempts),
      updated_at = @now WHERE return_id = @id`);
  const due = db.prepare(`SELECT * FROM return_intake WHERE stage IN ('awaiting_order', 'blocked', 'awaiting_acceptance', 'sales_order', 'create_return', 'push_label')
      AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY next_attempt_at IS NOT NULL, next_attempt_at, return_id LIMIT ?`);
  const setWaitUntil = db.prepare('UPDATE return_intake SET order_wait_until = ? WHERE return_id = ?');
  const adopted = db.prepare(`UPDATE return_intake SET rebound_order_id = ?, stage = 'push_label', updated_at = ? WHERE return_id = ?`);
  const moveTo = db.prepare('UPDATE return_intake SET stage = ?, updated_at = ? WHERE return_id = ?');
  const order = db.prepare('SELECT * FROM mirakl_orders WHERE order_id = ?');
  const orderLines = db.prepare('SELECT * FROM mirakl_order_lines WHERE order_id = ? ORDER BY order_line_id');
  const claimedReturnOrders = db.prepare('SELECT rebound_order_id FROM rebound_return_orders WHERE client_order_id = ?');

  return {
    /** Queues a return for intake, once (a return read again keeps its row). */
    queue: (returnId: string): void => void queue.run(returnId, iso(clock.now())),
    /** Returns whose stage is due, oldest due first and those never tried before all. */
    due: (limit: number): IntakeRow[] => due.all(iso(clock.now()), limit) as IntakeRow[],
    /** A stage with its due time (now, unless given: due again but behind every return that waited longer). */
    setStage(returnId: string, stage: IntakeStage, extra: { nextAttemptAt?: number | null; error?: string | null; attempts?: number } = {}): void {
      setStage.run({
        id: returnId,
        stage,
        next: iso(extra.nextAttemptAt ?? clock.now()),
        error: extra.error ?? null,
        attempts: extra.attempts ?? null,
        now: iso(clock.now()),
      });
    },
    setOrderWaitUntil: (returnId: string, until: number): void => void setWaitUntil.run(iso(until), returnId),
    /** The return order ReBound holds for this return is now ours: its label goes to Mirakl next. */
    adopted: (returnId: string, reboundOrderId: string): void => void adopted.run(reboundOrderId, iso(clock.now()), returnId),
    /** Past the label: ReBound and Mirakl carry it from here ('in_flight'), or it is finished ('done'). */
    moveTo: (returnId: string, stage: 'in_flight' | 'done'): void => void moveTo.run(stage, iso(clock.now()), returnId),
    order: (orderId: string): StoredOrderRow | undefined => order.get(orderId) as StoredOrderRow | undefined,
    orderLines: (orderId: string): StoredOrderLineRow[] => orderLines.all(orderId) as StoredOrderLineRow[],
    /** Return orders of this client order already linked to one of our returns. */
    claimedReturnOrders: (clientOrderId: string): Set<string> =>
      new Set((claimedReturnOrders.all(clientOrderId) as { rebound_order_id: string }[]).map((r) => r.rebound_order_id)),
  };
}

export type IntakeRepo = ReturnType<typeof createIntakeRepo>;

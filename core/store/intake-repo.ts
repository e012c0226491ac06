import type { Database } from 'better-sqlite3';
import type { Clock } from '../ports';

// Where each Mirakl return stands on its way into ReBound (return_intake): one row per return, written with it
// (see queue()). Stages wait with a due time; the oldest due are taken first. A return waiting on something else (its
// order in OR11, a call of ours) is parked and woken by what it waits for, so a cycle looks only at what changed.

export type IntakeStage =
  | 'awaiting_order'
  | 'blocked'
  | 'awaiting_acceptance'
  | 'sales_order'
  | 'create_return'
  | 'push_label'
  | 'find_return'
  | 'in_flight'
  | 'done'
  | 'skipped';

export interface IntakeRow {
  return_id: string;
  stage: IntakeStage;
  attempts: number;
  next_attempt_at: string | null;
  order_wait_until: string | null;
  order_ask_at: string | null;
  rebound_order_id: string | null;
}

/** The stages before the return is in ReBound with its label pushed: where intake still has work. */
export const preFlightStages = ['awaiting_order', 'blocked', 'awaiting_acceptance', 'sales_order', 'create_return', 'push_label'] as const;

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
  // The returns due, in two reads of return_intake_due, each bounded on next_attempt_at: those never tried (by return),
  // then the oldest due. One read of both could not bound it (IS NULL OR <=) and read every return waiting at these
  // stages, due or parked, each cycle (a 10,000-return backlog waits there). An index in this very order (stopped at
  // the limit, no sort) was tried and dropped: its upkeep on every stage and wake write cost more than it saved.
  const preFlight = `stage IN (${preFlightStages.map((st) => `'${st}'`).join(', ')})`;
  const neverTried = db.prepare(`SELECT * FROM return_intake WHERE ${preFlight} AND next_attempt_at IS NULL ORDER BY return_id LIMIT ?`);
  const dueAgain = db.prepare(`SELECT * FROM return_intake WHERE ${preFlight} AND next_attempt_at <= ? ORDER BY next_attempt_at, return_id LIMIT ?`);
  const firstDue = db.prepare('SELECT next_attempt_at FROM return_intake WHERE stage = ? ORDER BY next_attempt_at LIMIT 1');
  const setWaitUntil = db.prepare('UPDATE return_intake SET order_wait_until = ? WHERE return_id = ?');
  const adopted = db.prepare(`UPDATE return_intake SET rebound_order_id = ?, stage = 'push_label', next_attempt_at = ?, updated_at = ? WHERE return_id = ?`);
  const moveTo = db.prepare('UPDATE return_intake SET stage = ?, updated_at = ? WHERE return_id = ? AND stage != ?');
  const found = db.prepare(`UPDATE return_intake SET rebound_order_id = ?, stage = 'in_flight', next_attempt_at = NULL, last_error = NULL, updated_at = ? WHERE return_id = ?`);
  const toFind = db.prepare(`SELECT * FROM return_intake WHERE stage = 'find_return' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
      ORDER BY next_attempt_at, return_id LIMIT ?`);
  const countToFind = db.prepare(`SELECT count(*) AS n FROM return_intake WHERE stage = 'find_return'`);
  // Only rows that would otherwise wait are written: waking a row already due changes nothing.
  const wake = db.prepare(`UPDATE return_intake SET next_attempt_at = @now WHERE return_id = @id AND ${preFlight}
      AND (next_attempt_at IS NULL OR next_attempt_at > @now)`);
  // From the order's returns (few) to their intake rows by key, never from every row at the stage.
  const returnsOfOrder = db.prepare('SELECT id FROM mirakl_returns WHERE order_id = ?');
  const wakeAt = db.prepare(`UPDATE return_intake SET next_attempt_at = @now WHERE return_id = @id AND stage = @stage
      AND (next_attempt_at IS NULL OR next_attempt_at > @now)`);
  const awaitingOf = db.prepare(`SELECT i.* FROM mirakl_returns r CROSS JOIN return_intake i ON i.return_id = r.id
      WHERE r.order_id = ? AND i.stage = 'awaiting_order'`);
  const setOrderAsk = db.prepare(`UPDATE return_intake SET order_ask_at = @askAt, attempts = @attempts, last_error = @error, updated_at = @now WHERE return_id = @id`);
  const park = db.prepare(`UPDATE return_intake SET next_attempt_at = @next, order_ask_at = CASE WHEN @askNow = 1 THEN NULL ELSE order_ask_at END, last_error = @error,
      updated_at = @now WHERE return_id = @id`);
  const order = db.prepare('SELECT * FROM mirakl_orders WHERE order_id = ?');
  const orderLines = db.prepare('SELECT * FROM mirakl_order_lines WHERE order_id = ? ORDER BY order_line_id');
  const claimedReturnOrders = db.prepare('SELECT rebound_order_id FROM rebound_return_orders WHERE client_order_id = ?');

  return {
    /** Queues a return for intake, once (a return read again keeps its row). */
    queue: (returnId: string): void => void queue.run(returnId, iso(clock.now())),
    /** Returns whose stage is due, oldest due first and those never tried before all. */
    due(limit: number): IntakeRow[] {
      const first = neverTried.all(limit) as IntakeRow[];
      // (A negative limit is none, as in SQLite.)
      return limit >= 0 && first.length >= limit ? first : [...first, ...(dueAgain.all(iso(clock.now()), limit - first.length) as IntakeRow[])];
    },
    /** When the first return intake has work for becomes due (now, if one is due already); null when none waits. */
    nextDue(): number | null {
      let first: number | null = null;
      for (const stage of [...preFlightStages, 'find_return']) {
        const row = firstDue.get(stage) as { next_attempt_at: string | null } | undefined;
        if (!row) continue;
        const at = row.next_attempt_at === null ? clock.now() : Date.parse(row.next_attempt_at);
        first = first === null ? at : Math.min(first, at);
      }
      return first;
    },
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
    /** The return order ReBound holds for this return is now ours: its label goes to Mirakl next (at once). */
    adopted: (returnId: string, reboundOrderId: string): void => void adopted.run(reboundOrderId, iso(clock.now()), iso(clock.now()), returnId),
    /**
     * A return Mirakl showed already received or closed when it reached us: its return order, made before this database
     * knew of the return (by an earlier copy of it, restored since, or by hand), was found in ReBound. Mirakl has the
     * label and the receipt already, so it goes straight to flight: ReBound's grading and the refunds follow it.
     */
    foundInRebound: (returnId: string, reboundOrderId: string): void => void found.run(reboundOrderId, iso(clock.now()), returnId),
    /** Returns whose return order is to be looked for in ReBound (see foundInRebound), due first. */
    toFindInRebound: (limit: number): IntakeRow[] => toFind.all(iso(clock.now()), limit) as IntakeRow[],
    /** How many returns wait for that look-up. */
    waitingToBeFound: (): number => (countToFind.get() as { n: number }).n,
    /** Past the label: ReBound and Mirakl carry it from here ('in_flight'), or it is finished ('done'). */
    moveTo: (returnId: string, stage: 'in_flight' | 'done'): void => void moveTo.run(stage, iso(clock.now()), returnId, stage),
    /** What a parked return waited for happened (a call of ours confirmed, Mirakl changed it): intake looks at it now. */
    wake: (returnId: string): void => void wake.run({ id: returnId, now: iso(clock.now()) }),
    /** Wakes the returns of an order parked at `stage` (its sales order confirmed, the order itself read). */
    wakeOrder(orderId: string, stage: 'awaiting_order' | 'sales_order'): void {
      const now = iso(clock.now());
      for (const { id } of returnsOfOrder.all(orderId) as { id: string }[]) wakeAt.run({ id, stage, now });
    },
    /** The returns of an order still waiting for OR11 to show it. */
    awaitingOrder: (orderId: string): IntakeRow[] => awaitingOf.all(orderId) as IntakeRow[],
    /** When OR11 may next be asked for this return's order (after a read that did not find it). */
    setOrderAsk: (returnId: string, askAt: number, attempts: number, error: string): void =>
      void setOrderAsk.run({ id: returnId, askAt: iso(askAt), attempts, error, now: iso(clock.now()) }),
    /**
     * Parks a return at its stage until `until` (or until something wakes it). `askOrderNow` also puts its order back
     * at the head of OR11's queue (a person asked to retry, or its wait ran out).
     */
    park: (returnId: string, until: number, options: { error?: string | null; askOrderNow?: boolean } = {}): void =>
      void park.run({ id: returnId, next: iso(until), askNow: options.askOrderNow ? 1 : 0, error: options.error ?? null, now: iso(clock.now()) }),
    order: (orderId: string): StoredOrderRow | undefined => order.get(orderId) as StoredOrderRow | undefined,
    orderLines: (orderId: string): StoredOrderLineRow[] => orderLines.all(orderId) as StoredOrderLineRow[],
    /** Return orders of this client order already linked to one of our returns. */
    claimedReturnOrders: (clientOrderId: string): Set<string> =>
      new Set((claimedReturnOrders.all(clientOrderId) as { rebound_order_id: string }[]).map((r) => r.rebound_order_id)),
  };
}

export type IntakeRepo = ReturnType<typeof createIntakeRepo>;

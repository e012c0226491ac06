import type { Database, Statement } from 'better-sqlite3';
import type { Clock } from '../ports';

// The sync engine's questions to the store: which returns, orders and return orders need work now. Only reads and
// the engine's own bookkeeping (ReBound event log, OR11 read stamps) are here; money and stock are written by
// core/ledger.

export interface InboundEventRow {
  key: string;
  source: 'webhook' | 'poll';
  type: string;
  reboundOrderId: string | null;
  status: string | null;
  occurredAt: string | null;
  payload: unknown;
  outcome: 'pending' | 'applied' | 'no_change';
}

export function createEngineRepo(db: Database, clock: Clock) {
  const iso = (ms: number) => new Date(ms).toISOString();
  // Each statement compiled once (the engine asks these every cycle).
  const stmt = new Map<string, Statement>();
  // A question about given returns (`json_each(@ids) x CROSS JOIN …`) starts from those ids: CROSS JOIN keeps SQLite from
  // scanning every return at a stage and looking each up in the list instead.
  const q = (sql: string): Statement => {
    let s = stmt.get(sql);
    if (!s) {
      s = db.prepare(sql);
      stmt.set(sql, s);
    }
    return s;
  };

  return {
    // ---- RT11 -------------------------------------------------------------------------------------------------
    /** Returns last seen in a state not in `known` (Mirakl added one without notice), stalest first. */
    returnsInUnknownState: (known: readonly string[], limit: number): string[] =>
      (q(`SELECT id FROM mirakl_returns WHERE state NOT IN (SELECT value FROM json_each(?)) ORDER BY synced_at LIMIT ?`).all(JSON.stringify(known), limit) as { id: string }[]).map(
        (r) => r.id,
      ),

    // ---- OR11 -------------------------------------------------------------------------------------------------
    /** Orders of refunds whose outcome is unknown (the probe that must precede any retry), with when each became so. */
    ordersOfUncertainRefunds: (limit: number): { order_id: string; since: string }[] =>
      q(`SELECT l.order_id, max(i.updated_at) AS since FROM intents i JOIN mirakl_order_lines l ON l.order_line_id = i.order_line_id
           WHERE i.kind = 'mirakl.refund' AND i.state = 'uncertain' GROUP BY l.order_id ORDER BY min(i.id) LIMIT ?`).all(limit) as { order_id: string; since: string }[],
    /**
     * Orders of returns waiting for theirs that OR11 may be asked for now: never asked yet, or due again after a read that
     * did not find them. The oldest waiting first (first seen, then requested).
     */
    ordersAwaited: (limit: number): string[] =>
      (q(`SELECT r.order_id FROM return_intake i JOIN mirakl_returns r ON r.id = i.return_id
           LEFT JOIN mirakl_orders o ON o.order_id = r.order_id
           WHERE i.stage = 'awaiting_order' AND (i.order_ask_at IS NULL OR i.order_ask_at <= ?) AND o.order_id IS NULL
           GROUP BY r.order_id ORDER BY min(r.first_seen_at), min(r.date_created), r.order_id LIMIT ?`).all(iso(clock.now()), limit) as { order_id: string }[]).map(
        (r) => r.order_id,
      ),
    /**
     * Orders whose refunds must be seen in Mirakl's ledger: a refund we sent that the ledger does not show yet (read as
     * soon as the refund is confirmed, then every `staleBefore`), or one Mirakl has not paid yet (every `staleBefore`).
     * Stalest first (never read first, then by order id). A read stamped the very moment a refund was confirmed may have
     * preceded it in that cycle: not enough.
     * Read from the unpaid refunds only (mirakl_refunds_open; left to itself SQLite read every refund of the ledger) and
     * from the refunds we sent that the ledger does not show (refunds_unseen, kept by migration 0029's triggers), not
     * from every refund intent confirmed in the last day; each row is still asked every condition.
     */
    ordersWithRefundsInFlight: (staleBefore: number, recentSince: number, limit: number): string[] =>
      (q(`SELECT w.order_id FROM (
             SELECT l.order_id, NULL AS since FROM mirakl_refunds f INDEXED BY mirakl_refunds_open
               JOIN mirakl_order_lines l ON l.order_line_id = f.order_line_id
               WHERE f.refund_state != 'REFUNDED'
             UNION ALL
             SELECT l.order_id, i.updated_at AS since FROM refunds_unseen u INDEXED BY refunds_unseen_recent
               CROSS JOIN intents i ON i.id = u.intent_id
               JOIN mirakl_order_lines l ON l.order_line_id = i.order_line_id
               WHERE u.updated_at >= @recent AND i.kind = 'mirakl.refund' AND i.state = 'confirmed' AND i.updated_at >= @recent
                 AND NOT EXISTS (SELECT 1 FROM mirakl_refunds f WHERE f.id = i.refund_id)
           ) AS w
           LEFT JOIN sync_cursors c ON c.feed = 'or11:' || w.order_id
           GROUP BY w.order_id
           HAVING max(c.updated_at) IS NULL OR max(c.updated_at) <= @stale OR max(c.updated_at) <= max(w.since)
           ORDER BY max(c.updated_at), w.order_id LIMIT @limit`).all({ stale: iso(staleBefore), recent: iso(recentSince), limit }) as { order_id: string }[]).map(
        (r) => r.order_id,
      ),
    /**
     * Orders of returns still on their way, or finished since `watchedSince`, not read since `staleBefore`: refunds
     * made outside the bridge (the back office, on top of ours) show there, also after the return closed.
     */
    ordersOfOpenReturns: (staleBefore: number, watchedSince: number, limit: number): string[] =>
      (q(`SELECT DISTINCT r.order_id AS order_id FROM mirakl_returns r JOIN return_intake i ON i.return_id = r.id
             LEFT JOIN sync_cursors c ON c.feed = 'or11:' || r.order_id
             WHERE (i.stage IN ('blocked', 'awaiting_acceptance', 'sales_order', 'create_return', 'push_label', 'in_flight')
                 OR (i.stage = 'done' AND i.updated_at >= @watched))
               AND (c.value IS NULL OR c.value <= @stale)
             ORDER BY c.value LIMIT @limit`).all({ stale: iso(staleBefore), watched: iso(watchedSince), limit }) as { order_id: string }[]).map((r) => r.order_id),
    /** This order's refund ledger was read by an OR11 call asked for at `askedAt`. */
    stampOrderRead: (orderId: string, askedAt: number): void =>
      void q(`INSERT INTO sync_cursors (feed, value, updated_at) VALUES (?, ?, ?)
        ON CONFLICT (feed) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`).run(`or11:${orderId}`, iso(askedAt), iso(askedAt)),
    /** When this order's refund ledger was last read (the moment the read was asked for), if ever since it was forgotten. */
    orderReadAt: (orderId: string): number | null => {
      const row = q('SELECT updated_at FROM sync_cursors WHERE feed = ?').get(`or11:${orderId}`) as { updated_at: string } | undefined;
      return row ? Date.parse(row.updated_at) : null;
    },
    /** The returns of an order. */
    returnsOfOrder: (orderId: string): string[] =>
      (q('SELECT id FROM mirakl_returns WHERE order_id = ?').all(orderId) as { id: string }[]).map((r) => r.id),
    orderCurrency: (orderId: string): string | null =>
      (q('SELECT currency FROM mirakl_orders WHERE order_id = ?').get(orderId) as { currency: string } | undefined)?.currency ?? null,

    // ---- refunds ----------------------------------------------------------------------------------------------
    /**
     * Return lines in flight, told to Mirakl as received, with a unit ReBound registered that no refund intent covers:
     * of every return in flight, or of these returns only.
     */
    linesWithUnrefundedUnits: (returnIds: readonly string[] | 'all'): { return_id: string; order_line_id: string }[] =>
      q(`SELECT DISTINCT l.return_id, l.order_line_id FROM ${returnIds === 'all' ? 'return_intake i' : 'json_each(@ids) x CROSS JOIN return_intake i ON i.return_id = x.value'}
           JOIN mirakl_return_lines l ON l.return_id = i.return_id
           JOIN mirakl_returns r ON r.id = i.return_id
           JOIN units u ON u.return_id = l.return_id AND u.order_line_id = l.order_line_id AND u.registered_at IS NOT NULL
           LEFT JOIN intents rcv ON rcv.key = 'rt25:' || i.return_id
           WHERE i.stage = 'in_flight' AND (rcv.state = 'confirmed' OR r.state IN ('RECEIVED', 'CLOSED'))
             AND NOT EXISTS (SELECT 1 FROM intents f, json_each(f.payload, '$.units') j
                             WHERE f.subject = l.return_id AND f.kind = 'mirakl.refund' AND j.value = u.id)`).all(
        returnIds === 'all' ? {} : { ids: JSON.stringify(returnIds) },
      ) as { return_id: string; order_line_id: string }[],
    /** Ids of every refund intent of an order line, whatever its return, oldest first. */
    refundIntentIdsOfLine: (orderLineId: string): number[] =>
      (q(`SELECT id FROM intents WHERE kind = 'mirakl.refund' AND order_line_id = ? ORDER BY id`).all(orderLineId) as { id: number }[]).map((r) => r.id),
    /**
     * Refunds in Mirakl's ledger dated from `since` (Mirakl's clock) on a line of a return we hold, made after that return
     * was opened, that nothing of ours accounts for: no refund of ours made them (one found already made, via 'ledger',
     * does not count: someone else made it), no person matched them to a return, and no refund of ours on the line is
     * on its way or unsettled (it may be that very refund, until its probe says). Not raised before (FOREIGN_WRITE
     * subject `refund:<id>`, in any state: a person's acknowledgement stands).
     * Read from the refunds no refund of ours claims (is_claimed, kept by migration 0029's triggers from its
     * refund_claims view, which this asks too), not every refund of the window each cycle. The claim is still asked of each: is_claimed only narrows what is read, and must never
     * be 1 on a refund nothing claims. Refunds of the same second come by id.
     */
    foreignRefunds: (since: string, limit: number): { id: string; order_line_id: string; return_id: string; amount_minor: number; date_created: string }[] =>
      q(`SELECT f.id, f.order_line_id, min(l.return_id) AS return_id, f.amount_minor + f.shipping_minor AS amount_minor, f.date_created
          FROM mirakl_refunds f INDEXED BY mirakl_refunds_unclaimed
          JOIN mirakl_return_lines l ON l.order_line_id = f.order_line_id
          JOIN mirakl_returns r ON r.id = l.return_id
          WHERE f.is_claimed = 0 AND f.date_created >= @since AND f.date_created >= r.date_created
            AND NOT EXISTS (SELECT 1 FROM refund_claims c WHERE c.refund_id = f.id)
            AND NOT EXISTS (SELECT 1 FROM recon_matches m WHERE m.kind = 'refund_line' AND m.subject = f.id AND m.status = 'confirmed')
            AND NOT EXISTS (SELECT 1 FROM intents i WHERE i.kind = 'mirakl.refund' AND i.order_line_id = f.order_line_id AND i.state IN ('sending', 'uncertain'))
            AND NOT EXISTS (SELECT 1 FROM exceptions e WHERE e.type = 'FOREIGN_WRITE' AND e.subject_key = 'refund:' || f.id)
          GROUP BY f.id ORDER BY f.date_created, f.id LIMIT @limit`).all({ since, limit }) as {
        id: string;
        order_line_id: string;
        return_id: string;
        amount_minor: number;
        date_created: string;
      }[],
    /** Whether a refund intent of ours recorded this refund as found already made (via 'ledger'), not as sent by us. */
    isRefundFoundMade: (refundId: string): boolean =>
      q(`SELECT 1 FROM intents WHERE refund_id = ? AND kind = 'mirakl.refund' AND state = 'confirmed' AND json_extract(outcome, '$.via') = 'ledger'`).get(refundId) !== undefined,
    /** Whether someone else's write to the shop waits for a person (refunds and stock imports are paused meanwhile). */
    isForeignWriteOpen: (): boolean => q(`SELECT 1 FROM exceptions WHERE type = 'FOREIGN_WRITE' AND state != 'resolved' LIMIT 1`).get() !== undefined,
    /** When this database first saw a return (null: none yet): what Mirakl shows from before is not ours to explain. */
    firstSeenAt: (): string | null => (q('SELECT min(first_seen_at) AS at FROM mirakl_returns').get() as { at: string | null }).at,
    /** Mirakl refunds already claimed by a confirmed refund intent of ours on this line. */
    claimedRefundIds: (orderLineId: string): Set<string> =>
      new Set(
        (q(`SELECT refund_id FROM intents WHERE kind = 'mirakl.refund' AND state = 'confirmed' AND order_line_id = ?`).all(orderLineId) as { refund_id: string | null }[])
          .map((r) => r.refund_id)
          .filter((id): id is string => id !== null),
      ),
    /** A person closed the line's refund exception by hand (accepted the variance, or resolved it). */
    isRefundLineAcceptedByPerson: (returnId: string, orderLineId: string): boolean =>
      Boolean(
        q(`SELECT 1 FROM exceptions WHERE type IN ('REFUND_STALLED', 'REFUND_AMOUNT_MISMATCH') AND subject_key = ? AND state = 'resolved'
             AND resolved_by IS NOT NULL AND resolved_by != 'auto' LIMIT 1`).get(`${returnId}:${orderLineId}`),
      ),

    // ---- Mirakl status pushes ---------------------------------------------------------------------------------
    /**
     * Returns in flight whose ReBound return order has reached `minRank` and whose compliance is not planned yet: every
     * one, or of these returns only.
     */
    returnsForPushes: (minRank: number, returnIds: readonly string[] | 'all'): { id: string; state: string; ro_rank: number }[] =>
      q(`SELECT r.id, r.state, o.status_rank AS ro_rank FROM ${returnIds === 'all' ? 'return_intake i' : 'json_each(@ids) x CROSS JOIN return_intake i ON i.return_id = x.value'}
           JOIN mirakl_returns r ON r.id = i.return_id
           JOIN rebound_return_orders o ON o.return_id = r.id
           WHERE i.stage = 'in_flight' AND o.status_rank >= @minRank
             AND NOT EXISTS (SELECT 1 FROM intents c WHERE c.key = 'rt26:' || r.id)`).all({ minRank, ...(returnIds === 'all' ? {} : { ids: JSON.stringify(returnIds) }) }) as {
        id: string;
        state: string;
        ro_rank: number;
      }[],
    /** Received returns whose compliance Mirakl confirmed and whose close is not planned yet: every one, or of these. */
    returnsToClose: (returnIds: readonly string[] | 'all'): string[] =>
      (q(`SELECT r.id FROM ${returnIds === 'all' ? 'return_intake i' : 'json_each(@ids) x CROSS JOIN return_intake i ON i.return_id = x.value'}
           JOIN mirakl_returns r ON r.id = i.return_id
           JOIN intents c ON c.key = 'rt26:' || r.id AND c.state = 'confirmed'
           WHERE i.stage = 'in_flight' AND r.state = 'RECEIVED' AND NOT EXISTS (SELECT 1 FROM intents x WHERE x.key = 'rt27:' || r.id)`).all(
        returnIds === 'all' ? {} : { ids: JSON.stringify(returnIds) },
      ) as { id: string }[]).map(
        (r) => r.id,
      ),
    /** Closes not confirmed although RT11 shows the return CLOSED (a close whose answer was lost). */
    closesSeenDone: (): { intent: number; id: string }[] =>
      q(`SELECT i.id AS intent, r.id FROM intents i JOIN mirakl_returns r ON r.id = i.subject
           WHERE i.kind = 'mirakl.close' AND i.state IN ('planned', 'failed', 'uncertain') AND r.state = 'CLOSED'`).all() as { intent: number; id: string }[],

    // ---- ReBound ----------------------------------------------------------------------------------------------
    /** Records a ReBound event once per key; false when that key was already recorded. */
    recordEvent(e: InboundEventRow): boolean {
      return (
        q(`INSERT INTO rebound_events (key, source, type, rebound_order_id, status, occurred_at, received_at, payload, outcome)
             VALUES (@key, @source, @type, @orderId, @status, @occurredAt, @now, @payload, @outcome) ON CONFLICT (key) DO NOTHING`).run({
          key: e.key,
          source: e.source,
          type: e.type,
          orderId: e.reboundOrderId,
          status: e.status,
          occurredAt: e.occurredAt,
          now: iso(clock.now()),
          payload: JSON.stringify(e.payload),
          outcome: e.outcome,
        }).changes === 1
      );
    },
    /** The return order was read back: every notification that pointed at it has been acted on. */
    /** Marks a return order's pending hints acted on; the number there were. */
    markEventsApplied: (reboundOrderId: string): number =>
      q(`UPDATE rebound_events SET outcome = 'applied' WHERE rebound_order_id = ? AND outcome = 'pending'`).run(reboundOrderId).changes,
    /** Whether a notification (or a look at what changed) about this return order waits to be read back. */
    hasPendingEvents: (reboundOrderId: string): boolean =>
      q(`SELECT 1 FROM rebound_events WHERE rebound_order_id = ? AND outcome = 'pending' LIMIT 1`).get(reboundOrderId) !== undefined,
    /** Return orders a notification (or a look at what changed) told us about and we have not read back since, oldest first. */
    // Each return order's earliest pending hint is read from rebound_events_pending alone (0028), and only then is the
    // return order looked up: once per return order, not once per hint (a backlog's orders wait with several each).
    hintedReturnOrders: (limit: number): string[] =>
      (q(`SELECT h.id FROM (SELECT rebound_order_id AS id, min(received_at) AS at FROM rebound_events WHERE outcome = 'pending' GROUP BY rebound_order_id) h
           JOIN rebound_return_orders o ON o.rebound_order_id = h.id ORDER BY h.at, h.id LIMIT ?`).all(limit) as { id: string }[]).map((r) => r.id),
    /** Open return orders at one status (e.g. at the hub, about to be registered), not read since `before`, stalest first. */
    returnOrdersAtRank: (rank: number, before: number, limit: number): string[] =>
      (q(`SELECT rebound_order_id AS id FROM rebound_return_orders WHERE status_rank = ? AND is_open = 1 AND synced_at <= ? ORDER BY synced_at LIMIT ?`).all(
        rank,
        iso(before),
        limit,
      ) as { id: string }[]).map((r) => r.id),
    /** What we last read of a return order: ReBound's updatedAt and status then, when we read it, and our return. */
    returnOrderAsRead: (reboundOrderId: string): { return_id: string; updated_at: string; status: string; synced_at: string } | undefined =>
      q('SELECT return_id, updated_at, status, synced_at FROM rebound_return_orders WHERE rebound_order_id = ?').get(reboundOrderId) as
        | { return_id: string; updated_at: string; status: string; synced_at: string }
        | undefined,
    /** The earliest creation among open return orders: where a first look at what changed in ReBound starts. */
    earliestOpenReturnOrder: (): string | null =>
      (q('SELECT min(created_at) AS at FROM rebound_return_orders WHERE is_open = 1').get() as { at: string | null }).at,
    /** Open return orders not read since `before`, stalest first. */
    staleReturnOrders: (before: number, limit: number): string[] =>
      (q(`SELECT rebound_order_id AS id FROM rebound_return_orders WHERE is_open = 1 AND synced_at <= ? ORDER BY synced_at LIMIT ?`).all(iso(before), limit) as { id: string }[]).map(
        (r) => r.id,
      ),
    returnOfReturnOrder: (reboundOrderId: string): string | null =>
      (q('SELECT return_id FROM rebound_return_orders WHERE rebound_order_id = ?').get(reboundOrderId) as { return_id: string } | undefined)?.return_id ?? null,
  };
}

export type EngineRepo = ReturnType<typeof createEngineRepo>;

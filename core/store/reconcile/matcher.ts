import type { Database, Statement } from 'better-sqlite3';
import { driftBits, refundIsLinked, type Within } from './detectors';

// The matcher links what each system knows about one return: Mirakl return and lines ↔ ReBound return order and
// items ↔ Mirakl refunds ↔ stock increments. Exact links come from references we wrote (the ReBound order we
// created for the return, the refund id Mirakl gave our OR28, the unit a stock increment restored). Anything else is
// only ever *suggested* from shared facts (order line, quantity, SKU/EAN) and is never acted on until a person
// confirms it; equally good candidates are all marked ambiguous. It also judges each return in scope — what is owed
// and refunded, how the two systems drift — into recon_verdicts, the one table the side-by-side grid reads besides
// the base tables. Everything here is set-based SQL over the subjects in scope (see `Within`).

/** Bound values of a statement: the range of a chunk (@lo, @hi), the refund tolerance. */
export type Params = Record<string, string | number>;

export function createMatcher(db: Database) {
  const statements = new Map<string, Statement>();
  const prepared = (sql: string): Statement => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  return {
    /** Suggestions for the refunds in scope that nothing explains. */
    suggestRefunds(within: Within, params: Params): void {
      for (const sql of refundSuggestions(within)) prepared(sql).run(params);
    },
    /** Suggestions for the ReBound items of the returns in scope that ReBound could not match. */
    suggestItems(within: Within, params: Params): void {
      for (const sql of itemSuggestions(within)) prepared(sql).run(params);
    },
    /** What is owed, refunded and drifting for each return in scope (recon_verdicts). `params.tolerance` is required. */
    judgeReturns(within: Within, params: Params): void {
      for (const sql of verdicts(within)) prepared(sql).run(params);
    },
  };
}

export type Matcher = ReturnType<typeof createMatcher>;

function refundSuggestions({ from, has }: Within): string[] {
  // The open suggestions of the refunds in scope are made again from what holds now (a refund linked since gets none).
  const clear = `DELETE FROM recon_matches
    WHERE kind = 'refund_line' AND status IN ('suggested', 'ambiguous') AND ${has('refund', 'subject')}`;
  // Suggestions for a refund nobody can explain: the return lines on the same order line, best first. Same quantity
  // and a return raised before the refund score higher; ties on the best score are ambiguous.
  const suggest = `WITH unexplained AS (
      SELECT f.* FROM ${from('refund', 'mirakl_refunds', 'f', 'id')}
      WHERE NOT ${refundIsLinked('f.id')}
    ), candidates AS (
      SELECT f.id AS refund_id, l.return_id, l.order_line_id, r.date_created,
             (CASE WHEN l.quantity = f.quantity THEN 2 ELSE 0 END) + (CASE WHEN r.date_created <= f.date_created THEN 1 ELSE 0 END) AS score,
             'same order line' || (CASE WHEN l.quantity = f.quantity THEN ', same quantity' ELSE '' END)
               || (CASE WHEN r.date_created <= f.date_created THEN ', return raised before the refund' ELSE '' END) AS basis
      FROM unexplained f
      JOIN mirakl_return_lines l ON l.order_line_id = f.order_line_id
      JOIN mirakl_returns r ON r.id = l.return_id
      WHERE NOT EXISTS (SELECT 1 FROM recon_matches d WHERE d.kind = 'refund_line' AND d.subject = f.id
                         AND d.candidate = l.return_id || ':' || l.order_line_id AND d.status = 'rejected')
    ), ranked AS (
      SELECT *, row_number() OVER (PARTITION BY refund_id ORDER BY score DESC, date_created, return_id) AS rank,
             count(*) FILTER (WHERE score = best) OVER (PARTITION BY refund_id) AS tied
      FROM (SELECT *, max(score) OVER (PARTITION BY refund_id) AS best FROM candidates)
    )
    INSERT INTO recon_matches (kind, subject, candidate, return_id, status, basis, rank)
    SELECT 'refund_line', refund_id, return_id || ':' || order_line_id, return_id,
           CASE WHEN score = best AND tied > 1 THEN 'ambiguous' ELSE 'suggested' END, basis, rank
    FROM ranked WHERE true
    ON CONFLICT (kind, subject, candidate) DO NOTHING`;
  return [clear, suggest];
}

function itemSuggestions({ from, has }: Within): string[] {
  const clear = `DELETE FROM recon_matches INDEXED BY recon_matches_return
    WHERE kind = 'item_unit' AND status IN ('suggested', 'ambiguous') AND ${has('return', 'return_id')}`;
  // ReBound items it could not match to a unit: suggest the still-missing units of the same return with that SKU.
  const suggest = `WITH candidates AS (
      SELECT i.rebound_item_id, u.id AS unit_id, o.return_id,
             CASE WHEN i.sku = u.offer_sku THEN 2 ELSE 1 END AS score,
             CASE WHEN i.sku = u.offer_sku THEN 'same SKU, unit not received' ELSE 'same return, unit not received' END AS basis
      FROM ${from('return', 'rebound_return_orders', 'o', 'return_id')}
      CROSS JOIN rebound_items i INDEXED BY rebound_items_unexpected ON i.rebound_order_id = o.rebound_order_id
      CROSS JOIN units u ON u.return_id = o.return_id AND u.rebound_item_id IS NULL AND u.registered_at IS NULL
      WHERE i.is_unexpected = 1
        AND NOT EXISTS (SELECT 1 FROM recon_matches d WHERE d.kind = 'item_unit' AND d.subject = i.rebound_item_id AND d.status IN ('confirmed', 'rejected')
                         AND (d.status = 'confirmed' OR d.candidate = u.id))
    ), ranked AS (
      SELECT *, row_number() OVER (PARTITION BY rebound_item_id ORDER BY score DESC, unit_id) AS rank,
             count(*) FILTER (WHERE score = best) OVER (PARTITION BY rebound_item_id) AS tied
      FROM (SELECT *, max(score) OVER (PARTITION BY rebound_item_id) AS best FROM candidates)
    )
    INSERT INTO recon_matches (kind, subject, candidate, return_id, status, basis, rank)
    SELECT 'item_unit', rebound_item_id, unit_id, return_id, CASE WHEN score = best AND tied > 1 THEN 'ambiguous' ELSE 'suggested' END, basis, rank
    FROM ranked WHERE true
    ON CONFLICT (kind, subject, candidate) DO NOTHING`;
  return [clear, suggest];
}

/**
 * Each return in scope judged from its lines, each line a row of two tables kept by triggers: recon_lines (the units
 * ReBound verified, when the first was, the linked refunds Mirakl shows REFUNDED), money_lines (the unit price,
 * everything Mirakl refunded on the order line). The lines come out of the (clustered) scan in return order, so the
 * totals per return need no sort and no temporary table. What only a few returns need (whether a refund is linked at
 * all) is read only for them; the units missing or lost, from their own small index. A row is written only when
 * something in it changed.
 */
function verdicts({ kind, from, has }: Within): string[] {
  const judge = `WITH line AS (
      SELECT r.id AS return_id, r.date_created, r.state, r.tracking_number, ro.status_rank, ro.tracking_number AS rebound_tracking,
        l.order_line_id, l.quantity, COALESCE(k.verified, 0) AS verified, k.first_verified_at, k.refunded_minor AS done,
        -- money_lines has a row for every order line with a verified unit or a refund: where it has none, the line has
        -- neither, and its price counts for nothing (line_refunded is only ever compared with 0).
        COALESCE(ml.price_unit_minor, 0) AS price, ml.refunded_minor AS line_refunded
      FROM ${from('return', 'mirakl_returns', 'r', 'id')}
      -- Before the lines: read once per return, not once per line.
      LEFT JOIN rebound_return_orders ro ON ro.return_id = r.id
      LEFT JOIN mirakl_return_lines l ON l.return_id = r.id
      LEFT JOIN recon_lines k ON k.return_id = l.return_id AND k.order_line_id = l.order_line_id
      LEFT JOIN money_lines ml ON ml.order_line_id = l.order_line_id
      ORDER BY r.id
    ), totals AS (
      SELECT return_id, date_created, state, tracking_number, status_rank, rebound_tracking,
        COALESCE(sum(quantity), 0) AS requested, COALESCE(sum(verified), 0) AS arrived, COALESCE(sum(verified * price), 0) AS expected,
        COALESCE(sum(done), 0) AS refunded,
        -- Per line, what a tolerance is compared with: the linked refunds (between those REFUNDED and everything
        -- refunded on the line) and everything refunded on the line, against the line's verified units.
        COALESCE(max(CASE WHEN line_refunded > 0
          THEN max(abs(COALESCE(done, 0) - verified * price), abs(line_refunded - verified * price)) END), 0) AS line_gap,
        min(CASE WHEN verified > 0 AND done IS NULL THEN first_verified_at END) AS unrefunded_since
      FROM line GROUP BY return_id
    ), judged AS (
      SELECT *,
        CASE
          WHEN expected = 0 AND refunded = 0 THEN CASE WHEN ${anyLinkedRefund('totals.return_id')} THEN 'pending' ELSE 'none' END
          WHEN refunded > expected + @tolerance THEN 'over'
          WHEN refunded >= expected - @tolerance THEN 'refunded'
          WHEN refunded > 0 THEN 'partial'
          ELSE 'pending'
        END AS refund_status,
        (CASE WHEN (state IN ('WAITING_ACCEPTANCE', 'IN_PROGRESS') AND arrived > 0)
                OR (state IN ('CLOSED', 'CANCELED', 'REFUSED') AND status_rank < 4)
                OR (state IN ('CANCELED', 'REFUSED') AND arrived > 0) THEN ${driftBits.state} ELSE 0 END)
        | (CASE WHEN tracking_number IS NOT NULL AND rebound_tracking IS NOT NULL AND tracking_number != rebound_tracking THEN ${driftBits.tracking} ELSE 0 END)
        | (CASE WHEN status_rank BETWEEN 4 AND 6 AND arrived + (SELECT count(*) FROM units u INDEXED BY units_lost
              WHERE u.return_id = totals.return_id AND u.stage IN ('missing', 'lost')) != requested
            THEN ${driftBits.quantity} ELSE 0 END)
        | (CASE WHEN refunded > expected + @tolerance THEN ${driftBits.refund} ELSE 0 END) AS drift
      FROM totals
    )
    INSERT INTO recon_verdicts (return_id, date_created, refund_status, drift, expected_refund_minor, refunded_minor, gap_minor, unrefunded_since)
    SELECT return_id, date_created, refund_status, drift, expected, refunded, max(abs(refunded - expected), line_gap), unrefunded_since
    FROM judged WHERE true
    ON CONFLICT (return_id) DO UPDATE SET
      date_created = excluded.date_created,
      refund_status = excluded.refund_status,
      drift = excluded.drift,
      expected_refund_minor = excluded.expected_refund_minor,
      refunded_minor = excluded.refunded_minor,
      gap_minor = excluded.gap_minor,
      unrefunded_since = excluded.unrefunded_since
    WHERE (recon_verdicts.date_created, recon_verdicts.refund_status, recon_verdicts.drift, recon_verdicts.expected_refund_minor,
        recon_verdicts.refunded_minor, recon_verdicts.gap_minor, recon_verdicts.unrefunded_since)
      IS NOT (excluded.date_created, excluded.refund_status, excluded.drift, excluded.expected_refund_minor, excluded.refunded_minor,
        excluded.gap_minor, excluded.unrefunded_since)`;
  // Returns are never deleted; should one be, its verdict goes the next time it is in an incremental pass's scope.
  if (kind === 'range') return [judge];
  const orphans = `DELETE FROM recon_verdicts WHERE ${has('return', 'return_id')}
    AND NOT EXISTS (SELECT 1 FROM mirakl_returns r WHERE r.id = recon_verdicts.return_id)`;
  return [orphans, judge];
}

/** True when a refund Mirakl shows is linked to one of the lines of return `id` (by our refund, or by a person). */
function anyLinkedRefund(id: string): string {
  return `(EXISTS (SELECT 1 FROM intents i INDEXED BY intents_refund_links CROSS JOIN mirakl_refunds f ON f.id = i.refund_id
        WHERE i.subject = ${id} AND i.kind = 'mirakl.refund' AND i.state = 'confirmed' AND i.refund_id IS NOT NULL
          AND EXISTS (SELECT 1 FROM mirakl_return_lines l WHERE l.return_id = i.subject AND l.order_line_id = i.order_line_id))
      OR EXISTS (SELECT 1 FROM recon_matches m INDEXED BY recon_matches_confirmed CROSS JOIN mirakl_refunds f ON f.id = m.subject
        WHERE m.return_id = ${id} AND m.kind = 'refund_line' AND m.status = 'confirmed'))`;
}

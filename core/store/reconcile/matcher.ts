import type { Database } from 'better-sqlite3';
import { arrived, fromAll, fromScope, refundIsLinked, type From } from './detectors';

// The matcher links what each system knows about one return: Mirakl return and lines ↔ ReBound return order and
// items ↔ Mirakl refunds ↔ stock increments. Exact links come from references we wrote (the ReBound order we
// created for the return, the refund id Mirakl gave our OR28, the unit a stock increment restored). Anything else is
// only ever *suggested* from shared facts (order line, quantity, SKU/EAN) and is never acted on until a person
// confirms it; equally good candidates are all marked ambiguous. Everything here is set-based SQL over the subjects
// in scope (temp.scope_return / temp.scope_refund / temp.scope_intent, filled by the pass).

export interface MatchOptions {
  toleranceMinor: number;
  now: string;
  /** Everything is in scope: scan instead of driving each query from the scope tables. */
  full: boolean;
}


export function createMatcher(db: Database) {
  const variants = { scoped: prepare(db, fromScope), full: prepare(db, fromAll) };
  return {
    /** Links and side-by-side rows for everything in scope. Call inside the pass's transaction. */
    run(options: MatchOptions, steps?: Record<string, number>): void {
      const s = options.full ? variants.full : variants.scoped;
      const timed = (name: string, run: () => unknown) => {
        const t = performance.now();
        run();
        if (steps) steps[`matcher.${name}`] = performance.now() - t;
      };
      timed('suggestions', () => {
        s.dropSettledSuggestions.run();
        s.clearOpenSuggestions.run();
        s.suggestRefunds.run();
        s.clearItemSuggestions.run();
        s.suggestItems.run();
      });
      for (const clear of s.clearLineFacts) clear.run();
      timed('unitFacts', () => s.unitFacts.run());
      timed('linkFacts', () => s.linkFacts.run());
      timed('lineFacts', () => s.buildLineFacts.run());
      timed('returns', () => {
        s.clearReturns.run();
        const build = () => s.buildReturns.run({ tolerance: options.toleranceMinor, now: options.now });
        // A full pass over a table that is mostly still to be written (the first pass over a year of synced returns)
        // inserts far faster without the grid's indexes, which are then built once, sorted.
        if (options.full && s.returnsToWrite() > 2 * s.returnsWritten()) withIndexesRebuilt(db, 'recon_returns', build);
        else build();
      });
    },
  };
}

function prepare(db: Database, from: From) {
  // A refund with an exact or confirmed link needs no suggestion any more.
  const dropSettledSuggestions = db.prepare(`DELETE FROM recon_matches
    WHERE kind = 'refund_line' AND status IN ('suggested', 'ambiguous')
      AND subject IN (SELECT id FROM temp.scope_refund)
      AND ${refundIsLinked('recon_matches.subject')}`);
  const clearOpenSuggestions = db.prepare(`DELETE FROM recon_matches
    WHERE kind = 'refund_line' AND status IN ('suggested', 'ambiguous') AND subject IN (SELECT id FROM temp.scope_refund)`);
  // Suggestions for a refund nobody can explain: the return lines on the same order line, best first. Same quantity
  // and a return raised before the refund score higher; ties on the best score are ambiguous.
  const suggestRefunds = db.prepare(`WITH unexplained AS (
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
    ON CONFLICT (kind, subject, candidate) DO NOTHING`);

  // ReBound items it could not match to a unit: suggest the still-missing units of the same return with that SKU.
  const clearItemSuggestions = db.prepare(`DELETE FROM recon_matches
    WHERE kind = 'item_unit' AND status IN ('suggested', 'ambiguous') AND return_id IN (SELECT id FROM temp.scope_return)`);
  const suggestItems = db.prepare(`WITH candidates AS (
      SELECT i.rebound_item_id, u.id AS unit_id, o.return_id,
             CASE WHEN i.sku = u.offer_sku THEN 2 ELSE 1 END AS score,
             CASE WHEN i.sku = u.offer_sku THEN 'same SKU, unit not received' ELSE 'same return, unit not received' END AS basis
      FROM ${from('return', 'rebound_return_orders', 'o', 'return_id')}
      JOIN rebound_items i ON i.rebound_order_id = o.rebound_order_id
      JOIN units u ON u.return_id = o.return_id AND u.rebound_item_id IS NULL AND u.registered_at IS NULL
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
    ON CONFLICT (kind, subject, candidate) DO NOTHING`);

  // What both systems say about each return in scope, and which fields disagree. A row is written only when
  // something in it changed (and then SQLite rewrites only the indexes whose columns changed), so updated_at says
  // when the picture changed.
  const clearReturns = db.prepare(`DELETE FROM recon_returns WHERE return_id IN (SELECT id FROM temp.scope_return)
    AND NOT EXISTS (SELECT 1 FROM mirakl_returns r WHERE r.id = recon_returns.return_id)`);
  // Per return line, once per pass: its units (verified, missing, sellable, restocked), their price, and what Mirakl
  // refunded through linked refunds.
  // The side-by-side rows and the refund detectors read these instead of each joining units and refunds again.
  const clearLineFacts = ['line_facts', 'unit_facts', 'link_facts'].map((t) => db.prepare(`DELETE FROM temp.${t}`));
  // Units per line, then refund links per line, each into a table keyed by the line (groups come out in key order,
  // so the inserts append), then one lookup of each per line. Cheaper than joining grouped subqueries, which SQLite
  // materialises and then indexes again.
  const unitFacts = db.prepare(`INSERT INTO temp.unit_facts (return_id, order_line_id, verified, first_verified_at, missing, sellable, restocked)
    SELECT u.return_id, u.order_line_id, count(*) FILTER (WHERE ${arrived}), min(u.registered_at) FILTER (WHERE ${arrived}),
           count(*) FILTER (WHERE u.stage IN ('missing', 'lost')), count(*) FILTER (WHERE u.is_sellable = 1),
           count(s.unit_id) FILTER (WHERE s.state = 'applied')
    FROM ${from('return', 'units', 'u', 'return_id')} LEFT JOIN stock_increments s ON s.unit_id = u.id
    GROUP BY u.return_id, u.order_line_id`);
  const linkFacts = db.prepare(`INSERT INTO temp.link_facts (return_id, order_line_id, done, total, links, done_links, seen)
    SELECT k.return_id, k.order_line_id, sum(f.amount_minor) FILTER (WHERE f.refund_state = 'REFUNDED'), sum(f.amount_minor),
           count(*), count(*) FILTER (WHERE f.refund_state = 'REFUNDED'), max(f.first_seen_at)
    FROM (${refundLinksOf(from)}) k CROSS JOIN mirakl_refunds f ON f.id = k.refund_id
    GROUP BY k.return_id, k.order_line_id`);
  const buildLineFacts = db.prepare(`INSERT INTO temp.line_facts (return_id, order_line_id, requested, verified, first_verified_at, price_unit_minor,
      missing, sellable, restocked, refunded_done_minor, refunded_all_minor, links, done_links, last_refund_seen)
    SELECT l.return_id, l.order_line_id, l.quantity, COALESCE(u.verified, 0), u.first_verified_at, COALESCE(ol.price_unit_minor, 0),
      COALESCE(u.missing, 0), COALESCE(u.sellable, 0), COALESCE(u.restocked, 0),
      COALESCE(x.done, 0), COALESCE(x.total, 0), COALESCE(x.links, 0), COALESCE(x.done_links, 0), x.seen
    FROM ${from('return', 'mirakl_return_lines', 'l', 'return_id')}
    LEFT JOIN mirakl_order_lines ol ON ol.order_line_id = l.order_line_id
    LEFT JOIN temp.unit_facts u ON u.return_id = l.return_id AND u.order_line_id = l.order_line_id
    LEFT JOIN temp.link_facts x ON x.return_id = l.return_id AND x.order_line_id = l.order_line_id`);
  const buildReturns = db.prepare(`WITH lines AS (
      SELECT return_id, sum(requested) AS requested, sum(verified) AS arrived, sum(verified * price_unit_minor) AS expected,
             sum(missing) AS missing, sum(sellable) AS sellable, sum(restocked) AS restocked,
             sum(refunded_done_minor) AS refunded, sum(links) AS refunds
      FROM temp.line_facts GROUP BY return_id
    ), base AS (
      SELECT r.id, r.order_id, r.commercial_id, r.rma, r.date_created, o.currency, r.state, r.tracking_number,
             ro.rebound_order_id, ro.status AS rebound_status, ro.status_rank, ro.tracking_number AS rebound_tracking,
             COALESCE(lf.requested, 0) AS requested, COALESCE(lf.arrived, 0) AS arrived, COALESCE(lf.missing, 0) AS missing,
             COALESCE(lf.sellable, 0) AS sellable, COALESCE(lf.restocked, 0) AS restocked, COALESCE(lf.expected, 0) AS expected,
             COALESCE(lf.refunded, 0) AS refunded, COALESCE(lf.refunds, 0) AS refunds
      FROM ${from('return', 'mirakl_returns', 'r', 'id')}
      LEFT JOIN mirakl_orders o ON o.order_id = r.order_id
      LEFT JOIN rebound_return_orders ro ON ro.return_id = r.id
      LEFT JOIN lines lf ON lf.return_id = r.id
    ), judged AS (
      SELECT *,
        CASE
          WHEN expected = 0 AND refunded = 0 THEN CASE WHEN refunds > 0 THEN 'pending' ELSE 'none' END
          WHEN refunded > expected + @tolerance THEN 'over'
          WHEN refunded >= expected - @tolerance THEN 'refunded'
          WHEN refunded > 0 THEN 'partial'
          ELSE 'pending'
        END AS refund_status,
        (CASE WHEN (state IN ('WAITING_ACCEPTANCE', 'IN_PROGRESS') AND arrived > 0)
                OR (state IN ('CLOSED', 'CANCELED', 'REFUSED') AND status_rank < 4)
                OR (state IN ('CANCELED', 'REFUSED') AND arrived > 0) THEN 'state,' ELSE '' END)
        || (CASE WHEN tracking_number IS NOT NULL AND rebound_tracking IS NOT NULL AND tracking_number != rebound_tracking THEN 'tracking,' ELSE '' END)
        || (CASE WHEN status_rank BETWEEN 4 AND 6 AND arrived + missing != requested THEN 'quantity,' ELSE '' END)
        || (CASE WHEN refunded > expected + @tolerance THEN 'refund,' ELSE '' END) AS fields
      FROM base
    )
    INSERT INTO recon_returns (return_id, order_id, commercial_id, rma, date_created, currency, mirakl_state, mirakl_tracking, requested_units,
      rebound_order_id, rebound_status, rebound_tracking, units_arrived, units_missing, units_sellable, units_restocked,
      expected_refund_minor, refunded_minor, refund_status, drift, drift_fields, updated_at)
    SELECT id, order_id, commercial_id, rma, date_created, currency, state, tracking_number, requested,
      rebound_order_id, rebound_status, rebound_tracking, arrived, missing, sellable, restocked,
      expected, refunded, refund_status, fields != '', rtrim(fields, ','), @now
    FROM judged WHERE true
    ON CONFLICT (return_id) DO UPDATE SET
      order_id = excluded.order_id,
      commercial_id = excluded.commercial_id,
      rma = excluded.rma,
      date_created = excluded.date_created,
      currency = excluded.currency,
      mirakl_state = excluded.mirakl_state,
      mirakl_tracking = excluded.mirakl_tracking,
      requested_units = excluded.requested_units,
      rebound_order_id = excluded.rebound_order_id,
      rebound_status = excluded.rebound_status,
      rebound_tracking = excluded.rebound_tracking,
      units_arrived = excluded.units_arrived,
      units_missing = excluded.units_missing,
      units_sellable = excluded.units_sellable,
      units_restocked = excluded.units_restocked,
      expected_refund_minor = excluded.expected_refund_minor,
      refunded_minor = excluded.refunded_minor,
      refund_status = excluded.refund_status,
      drift = excluded.drift,
      drift_fields = excluded.drift_fields,
      updated_at = excluded.updated_at
    -- Only rows whose picture changed are written.
    WHERE (recon_returns.order_id, recon_returns.commercial_id, recon_returns.rma, recon_returns.date_created, recon_returns.currency,
      recon_returns.mirakl_state, recon_returns.mirakl_tracking, recon_returns.requested_units, recon_returns.rebound_order_id,
      recon_returns.rebound_status, recon_returns.rebound_tracking, recon_returns.units_arrived, recon_returns.units_missing,
      recon_returns.units_sellable, recon_returns.units_restocked, recon_returns.expected_refund_minor, recon_returns.refunded_minor,
      recon_returns.refund_status, recon_returns.drift, recon_returns.drift_fields)
      IS NOT (excluded.order_id, excluded.commercial_id, excluded.rma, excluded.date_created, excluded.currency, excluded.mirakl_state,
        excluded.mirakl_tracking, excluded.requested_units, excluded.rebound_order_id, excluded.rebound_status, excluded.rebound_tracking,
        excluded.units_arrived, excluded.units_missing, excluded.units_sellable, excluded.units_restocked, excluded.expected_refund_minor,
        excluded.refunded_minor, excluded.refund_status, excluded.drift, excluded.drift_fields)`);

  const returnsWritten = db.prepare('SELECT count(*) FROM recon_returns').pluck();
  const returnsToWrite = db.prepare('SELECT count(*) FROM temp.scope_return').pluck();

  return {
    returnsWritten: () => returnsWritten.get() as number,
    returnsToWrite: () => returnsToWrite.get() as number,
    dropSettledSuggestions,
    clearOpenSuggestions,
    suggestRefunds,
    clearItemSuggestions,
    suggestItems,
    clearLineFacts,
    unitFacts,
    linkFacts,
    buildLineFacts,
    clearReturns,
    buildReturns,
  };
}

export type Matcher = ReturnType<typeof createMatcher>;

/** Runs `write` with the table's secondary indexes dropped, then creates them again as they were (same transaction). */
function withIndexesRebuilt(db: Database, table: string, write: () => void): void {
  const indexes = db.prepare(`SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`).all(table) as { name: string; sql: string }[];
  for (const index of indexes) db.exec(`DROP INDEX "${index.name}"`);
  write();
  for (const index of indexes) db.exec(index.sql);
}

/**
 * The refund links (the refund_links view) of the returns in scope, each half driven from the scope: SQLite does not
 * push a join's constraint into a UNION ALL view, so through the view every pass would read every link.
 */
function refundLinksOf(from: From): string {
  // Named in both passes: the planner would rather read the intents themselves, parsing their JSON for each row.
  const intents = from === fromAll ? 'intents AS i INDEXED BY intents_refund_links' : from('return', 'intents', 'i', 'subject', 'intents_refund_links');
  return `SELECT i.subject AS return_id, i.order_line_id, i.refund_id FROM ${intents}
      WHERE i.kind = 'mirakl.refund' AND i.state = 'confirmed' AND i.refund_id IS NOT NULL
    UNION ALL
    SELECT m.return_id, substr(m.candidate, length(m.return_id) + 2), m.subject FROM ${from('return', 'recon_matches', 'm', 'return_id', 'recon_matches_return')}
      WHERE m.kind = 'refund_line' AND m.status = 'confirmed'`;
}

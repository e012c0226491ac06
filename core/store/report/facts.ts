import type { Database } from 'better-sqlite3';
import { arrived } from '../reconcile/detectors';
import type { Period } from '../../report/period';

// The facts a month's report counts, one row each, built by set-based SQL into temp tables: the refunds Mirakl dated
// in the period, the order lines with verified receipts or refunds that matter at period end, the returns with a
// lifecycle event in the period, the stock increments settled (or still waiting) and the exceptions open at period
// end. Everything is "as at period end": a receipt counts if ReBound's registration was recorded before the end, a
// refund if Mirakl dated it before the end, so a report of a past month comes out the same whenever it is run —
// and any difference is a real change to that month, which a lock turns into a post-close adjustment.

export const factFamilies = ['return', 'refund', 'line', 'stock', 'exception'] as const;
export type FactFamily = (typeof factFamilies)[number];

/** Unit `u` is a receipt verified before period end: `arrived` (registered at the hub with the SKU that was sold) in time. */
const verifiedByEnd = `${arrived} AND u.registered_at < @to`;

export function createFacts(db: Database) {
  db.exec(`
    CREATE TEMP TABLE IF NOT EXISTS rp_refunds (id TEXT PRIMARY KEY, order_line_id TEXT NOT NULL, order_id TEXT, currency TEXT NOT NULL,
      amount_minor INTEGER NOT NULL, shipping_minor INTEGER NOT NULL, quantity INTEGER NOT NULL, reason_code TEXT NOT NULL,
      refund_state TEXT NOT NULL, date_created TEXT NOT NULL, return_id TEXT, link TEXT NOT NULL, made_by_app INTEGER NOT NULL,
      override TEXT, return_reason TEXT, rebound_reason TEXT, verified_units INTEGER NOT NULL) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS temp.rp_refunds_line ON rp_refunds (order_line_id);
    CREATE TEMP TABLE IF NOT EXISTS rp_links (refund_id TEXT PRIMARY KEY, return_id TEXT NOT NULL, status TEXT NOT NULL) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS temp.rp_refunds_return ON rp_refunds (return_id);
    CREATE TEMP TABLE IF NOT EXISTS rp_lines (order_line_id TEXT PRIMARY KEY, order_id TEXT, currency TEXT NOT NULL, return_id TEXT,
      offer_sku TEXT, verified INTEGER NOT NULL, verified_in_period INTEGER NOT NULL, first_verified_at TEXT, expected_minor INTEGER NOT NULL,
      refunded_minor INTEGER NOT NULL, refunds_in_period INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS rp_return_ids (id TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS rp_returns (return_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, currency TEXT NOT NULL, date_created TEXT NOT NULL,
      opened INTEGER NOT NULL, received_at TEXT, closed_at TEXT, refunded INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS rp_stock (unit_id TEXT PRIMARY KEY, offer_sku TEXT NOT NULL, return_id TEXT, category TEXT NOT NULL) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS rp_exceptions (id INTEGER PRIMARY KEY, type TEXT NOT NULL, severity TEXT NOT NULL, owner_team TEXT NOT NULL,
      assignee TEXT, state TEXT NOT NULL, return_id TEXT, subject_key TEXT NOT NULL, detected_at TEXT NOT NULL, sla_due_at TEXT, cause TEXT NOT NULL);
    CREATE TEMP TABLE IF NOT EXISTS rp_facts (family TEXT NOT NULL, key TEXT NOT NULL, fact TEXT NOT NULL, currency TEXT, amount_minor INTEGER NOT NULL,
      PRIMARY KEY (family, key)) WITHOUT ROWID;
  `);
  const clear = ['rp_refunds', 'rp_links', 'rp_lines', 'rp_return_ids', 'rp_returns', 'rp_stock', 'rp_exceptions', 'rp_facts'].map((t) => db.prepare(`DELETE FROM temp.${t}`));

  // Refunds Mirakl dated in the period, each tied to the return line it is for: a link we wrote or a person
  // confirmed (refund_links, read once for all of them; ours first), else the best suggestion, else the latest
  // return of that order line.
  const links = db.prepare(`INSERT OR IGNORE INTO temp.rp_links
    SELECT refund_id, return_id, status FROM refund_links
    WHERE refund_id IN (SELECT id FROM mirakl_refunds WHERE date_created >= @from AND date_created < @to)
    ORDER BY status DESC`);
  const refunds = db.prepare(`INSERT INTO temp.rp_refunds
    SELECT f.id, f.order_line_id, ol.order_id, COALESCE(o.currency, '?'), f.amount_minor, f.shipping_minor, f.quantity, f.reason_code, f.refund_state,
      f.date_created, k.return_id, COALESCE(k.status, 'none'), COALESCE(k.status = 'exact', 0), NULL, NULL, NULL,
      (SELECT count(*) FROM units u WHERE u.order_line_id = f.order_line_id AND ${verifiedByEnd})
    FROM mirakl_refunds f
    LEFT JOIN temp.rp_links k ON k.refund_id = f.id
    LEFT JOIN mirakl_order_lines ol ON ol.order_line_id = f.order_line_id
    LEFT JOIN mirakl_orders o ON o.order_id = ol.order_id
    WHERE f.date_created >= @from AND f.date_created < @to`);
  // A refund this app made before a verified receipt carries the person's override (its intent is keyed by return line).
  const overrides = db.prepare(`UPDATE temp.rp_refunds SET override = (
      SELECT json_extract(i.payload, '$.override.reason') || ' (' || json_extract(i.payload, '$.override.by') || ')' FROM intents i
      WHERE i.key = 'refund:' || rp_refunds.return_id || ':' || rp_refunds.order_line_id AND json_extract(i.payload, '$.override') IS NOT NULL)
    WHERE made_by_app = 1`);
  const suggestedReturns = db.prepare(`UPDATE temp.rp_refunds SET
      return_id = (SELECT m.return_id FROM recon_matches m WHERE m.kind = 'refund_line' AND m.subject = rp_refunds.id AND m.status IN ('suggested', 'ambiguous')
        ORDER BY m.rank LIMIT 1),
      link = (SELECT m.status FROM recon_matches m WHERE m.kind = 'refund_line' AND m.subject = rp_refunds.id AND m.status IN ('suggested', 'ambiguous')
        ORDER BY m.rank LIMIT 1)
    WHERE return_id IS NULL
      AND EXISTS (SELECT 1 FROM recon_matches m WHERE m.kind = 'refund_line' AND m.subject = rp_refunds.id AND m.status IN ('suggested', 'ambiguous'))`);
  const lineReturns = db.prepare(`UPDATE temp.rp_refunds SET link = 'order_line',
      return_id = (SELECT l.return_id FROM mirakl_return_lines l JOIN mirakl_returns r ON r.id = l.return_id WHERE l.order_line_id = rp_refunds.order_line_id
        ORDER BY r.date_created DESC, r.id LIMIT 1)
    WHERE return_id IS NULL AND EXISTS (SELECT 1 FROM mirakl_return_lines l WHERE l.order_line_id = rp_refunds.order_line_id)`);
  const reasons = db.prepare(`UPDATE temp.rp_refunds SET
      return_reason = (SELECT l.reason_code FROM mirakl_return_lines l WHERE l.return_id = rp_refunds.return_id AND l.order_line_id = rp_refunds.order_line_id),
      rebound_reason = (SELECT min(i.reason_code) FROM rebound_return_orders ro JOIN rebound_items i ON i.rebound_order_id = ro.rebound_order_id
        WHERE ro.return_id = rp_refunds.return_id AND i.client_item_id = rp_refunds.order_line_id AND i.is_unexpected = 0)
    WHERE return_id IS NOT NULL`);

  // Order lines whose verified receipts or refunds matter at period end: a unit verified in the period, a refund in
  // the period, or verified units worth more than everything refunded before the end (the accrual).
  const lines = db.prepare(`INSERT INTO temp.rp_lines
    SELECT order_line_id, order_id, currency, return_id, offer_sku, verified, verified_in_period, first_verified_at, expected, refunded, refunds_in_period
    FROM (
      SELECT c.order_line_id, ol.order_id, COALESCE(o.currency, '?') AS currency, c.return_id, ol.offer_sku, c.verified, c.verified_in_period,
        c.first_verified_at, c.verified * COALESCE(ol.price_unit_minor, 0) AS expected,
        COALESCE((SELECT sum(f.amount_minor) FROM mirakl_refunds f WHERE f.order_line_id = c.order_line_id AND f.date_created < @to), 0) AS refunded,
        (SELECT count(*) FROM temp.rp_refunds r WHERE r.order_line_id = c.order_line_id) AS refunds_in_period
      FROM (
        SELECT order_line_id, sum(verified) AS verified, sum(in_period) AS verified_in_period, min(at) AS first_verified_at, max(return_id) AS return_id
        FROM (
          SELECT u.order_line_id, 1 AS verified, u.registered_at >= @from AS in_period, u.registered_at AS at, u.return_id FROM units u WHERE ${verifiedByEnd}
          UNION ALL
          SELECT order_line_id, 0, 0, NULL, return_id FROM temp.rp_refunds
        ) GROUP BY order_line_id
      ) c
      LEFT JOIN mirakl_order_lines ol ON ol.order_line_id = c.order_line_id
      LEFT JOIN mirakl_orders o ON o.order_id = ol.order_id
    ) WHERE verified_in_period > 0 OR refunds_in_period > 0 OR expected > refunded`);

  // Returns with a lifecycle event in the period: opened, first verified receipt, closed (a CLOSED return's
  // last update is when Mirakl closed it), or a refund.
  const returnIds = db.prepare(`INSERT OR IGNORE INTO temp.rp_return_ids
    SELECT id FROM mirakl_returns WHERE date_created >= @from AND date_created < @to
    UNION SELECT id FROM mirakl_returns WHERE state = 'CLOSED' AND last_updated >= @from AND last_updated < @to
    UNION SELECT return_id FROM temp.rp_refunds WHERE return_id IS NOT NULL
    UNION SELECT u.return_id FROM units u WHERE ${verifiedByEnd} AND u.registered_at >= @from`);
  const returns = db.prepare(`INSERT INTO temp.rp_returns
    SELECT r.id, r.order_id, COALESCE(o.currency, '?'), r.date_created,
      r.date_created >= @from AND r.date_created < @to,
      (SELECT CASE WHEN min(u.registered_at) >= @from AND min(u.registered_at) < @to THEN min(u.registered_at) END
        FROM units u WHERE u.return_id = r.id AND ${arrived}),
      CASE WHEN r.state = 'CLOSED' AND r.last_updated >= @from AND r.last_updated < @to THEN r.last_updated END,
      EXISTS (SELECT 1 FROM temp.rp_refunds f WHERE f.return_id = r.id)
    FROM temp.rp_return_ids s CROSS JOIN mirakl_returns r ON r.id = s.id
    LEFT JOIN mirakl_orders o ON o.order_id = r.order_id`);

  // Stock increments settled in the period, and those created before its end and not settled by then.
  const stock = db.prepare(`INSERT INTO temp.rp_stock
    SELECT s.unit_id, s.offer_sku, u.return_id,
      CASE WHEN s.state IN ('applied', 'rejected', 'skipped') AND s.updated_at >= @from AND s.updated_at < @to
           THEN CASE s.state WHEN 'applied' THEN 'restored' ELSE s.state END
           ELSE 'awaiting' END
    FROM stock_increments s LEFT JOIN units u ON u.id = s.unit_id
    WHERE (s.state IN ('applied', 'rejected', 'skipped') AND s.updated_at >= @from AND s.updated_at < @to)
       OR (s.created_at < @to AND NOT (s.state IN ('applied', 'rejected', 'skipped') AND s.updated_at < @to))`);

  // Exceptions open at period end (or now, for a period that has not ended): raised before it, not resolved by it.
  const exceptions = db.prepare(`INSERT INTO temp.rp_exceptions
    SELECT id, type, severity, owner_team, assignee, state, return_id, subject_key, detected_at, sla_due_at, cause FROM exceptions
    WHERE detected_at < @asOf AND (resolved_at IS NULL OR resolved_at >= @asOf)`);

  // Each fact as a JSON array: compared as text with the locked facts. Only what the report counts goes in (a
  // refund's settlement state or an exception's assignee may change after the period without changing the period).
  const facts = db.prepare(`INSERT INTO temp.rp_facts
    SELECT 'return', return_id, json_array(order_id, currency, date_created, opened, received_at, closed_at, refunded), currency, 0 FROM temp.rp_returns
    UNION ALL
    SELECT 'refund', id, json_array(order_line_id, order_id, currency, amount_minor, shipping_minor, quantity, reason_code, date_created, return_id,
      verified_units > 0), currency, amount_minor FROM temp.rp_refunds
    UNION ALL
    SELECT 'line', order_line_id, json_array(order_id, currency, verified, verified_in_period, expected_minor, refunded_minor, refunds_in_period),
      currency, max(expected_minor - refunded_minor, 0) FROM temp.rp_lines
    UNION ALL
    SELECT 'stock', unit_id, json_array(offer_sku, return_id, category), NULL, 0 FROM temp.rp_stock
    UNION ALL
    SELECT 'exception', CAST(id AS TEXT), json_array(type, owner_team, subject_key, detected_at), NULL, 0 FROM temp.rp_exceptions`);

  return {
    /** Fills the temp fact tables for a period. Call inside a transaction, so every table sees the same data. */
    build(period: Period, asOf: string, steps?: Record<string, number>): void {
      const p = { from: period.fromKey, to: period.toKey };
      const step = (name: string, run: () => unknown) => {
        const t = performance.now();
        run();
        if (steps) steps[name] = (steps[name] ?? 0) + performance.now() - t;
      };
      step('clear', () => clear.forEach((c) => c.run()));
      step('refunds', () => {
        links.run(p);
        refunds.run(p);
      });
      step('links', () => {
        overrides.run();
        suggestedReturns.run();
        lineReturns.run();
      });
      step('reasons', () => reasons.run());
      step('lines', () => lines.run(p));
      step('returns', () => {
        returnIds.run(p);
        returns.run(p);
      });
      step('stock', () => stock.run(p));
      step('exceptions', () => exceptions.run({ asOf }));
      step('facts', () => facts.run());
    },
  };
}

export type Facts = ReturnType<typeof createFacts>;

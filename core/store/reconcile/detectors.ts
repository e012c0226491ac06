import type { ExceptionTypeName } from '../../exceptions/catalogue';
import type { Policy } from '../../mappings/schemas';

// A detector is one SQL query: the subjects that diverge *now*, each with when it started and when its SLA runs out.
// The pass keeps them in recon_watch, raises an exception when the SLA has run out (never before), and resolves
// it, with the reason, once the subject no longer diverges. Queries only look at the subjects in scope — those that
// changed (the temp.scope_* tables an incremental pass fills), or one key range of a chunked full pass — so a pass
// costs what it looks at, not what exists. Where the planner could choose between the key a scope is read by and an
// index on a filtered column, the query names the index: a chunk must never read a filter's index whole.

export type Scope = 'return' | 'refund' | 'intent';
export const scopes: readonly Scope[] = ['return', 'refund', 'intent'];

export interface Detector {
  type: ExceptionTypeName;
  scope: Scope;
  /** Why an exception of this type closes by itself. */
  convergedBecause: string;
  /**
   * SELECT subject_key, scope_id, return_id, order_line_id, since, due_at, cause — every subject in scope that
   * diverges now, whatever its SLA. `due_at` must be an ISO timestamp like JavaScript's (use `iso(...)`). Detectors
   * that read recon_verdicts run after the matcher has judged the returns in scope in the same pass. `has` is the
   * scope as a condition, for a detector driven by a small index rather than by the subjects in scope.
   */
  sql(policy: Policy, from: From, has: Within['has']): string;
}

/**
 * The detector's driving table, restricted to the subjects in scope: `column` of `table` (aliased `alias`) holds the
 * key of a `scope` subject; `index` names the index a scope-table lookup must use.
 */
export type From = (scope: Scope, table: string, alias: string, column: string, index?: string) => string;

/** Which subjects a pass looks at, in the two shapes a statement needs: a driving table, and a condition on a key. */
export interface Within {
  /** 'changed': the temp.scope_* tables; 'range': the keys in (@lo, @hi] of one scope kind (every intent). */
  kind: 'changed' | 'range';
  from: From;
  /** SQL condition: `expr`, a key of a `scope` subject (TEXT, as recon_watch.scope_id holds it), is in scope. */
  has(scope: Scope, expr: string): string;
}

/** An incremental pass: the (small) scope drives, joined first whatever the planner guesses for tables without statistics. */
export const changed: Within = {
  kind: 'changed',
  from: (scope, table, alias, column, index) =>
    `temp.scope_${scope} AS scope CROSS JOIN ${table} AS ${alias}${index ? ` INDEXED BY ${index}` : ''} ON ${alias}.${column} = scope.id`,
  has: (scope, expr) => `${expr} IN (SELECT ${scope === 'intent' ? 'CAST(id AS TEXT)' : 'id'} FROM temp.scope_${scope})`,
};

/**
 * How each table is read by its scope key in a range: by an index that starts with that key and holds what a pass
 * reads of the row (so the range is read in order, not row by row across the table), or the clustered key of a
 * WITHOUT ROWID table — never by an index on a column the detector filters on, which would be read whole per chunk.
 */
const keyAccess: Record<string, string> = {
  'mirakl_returns.id': 'INDEXED BY mirakl_returns_judged',
  'mirakl_refunds.id': 'INDEXED BY mirakl_refunds_judged',
  'rebound_return_orders.return_id': 'INDEXED BY rebound_return_orders_judged',
  'recon_matches.return_id': 'INDEXED BY recon_matches_return',
  'mirakl_return_lines.return_id': 'NOT INDEXED',
  'units.return_id': 'NOT INDEXED',
  'recon_verdicts.return_id': 'NOT INDEXED',
};

/**
 * One chunk of a full pass: the returns, or the refunds, whose key is in (@lo, @hi] (bound when the statements run).
 * Intents are judged all at once (the one intent detector reads a partial index of the few uncertain ones), so their
 * range is everything.
 */
export const inRange: Within = {
  kind: 'range',
  from: (scope, table, alias, column, index) => {
    if (scope === 'intent') return `${table} AS ${alias}${index ? ` INDEXED BY ${index}` : ''}`;
    const access = keyAccess[`${table}.${column}`];
    if (!access) throw new Error(`no key access for ${table}.${column} in a range`);
    return `(SELECT * FROM ${table} ${access} WHERE ${column} > @lo AND ${column} <= @hi) AS ${alias}`;
  },
  has: (scope, expr) => (scope === 'intent' ? '1' : `(${expr} > @lo AND ${expr} <= @hi)`),
};

/** SQLite expression for an ISO-8601 timestamp (JavaScript's format) `modifier` after `column`. */
const iso = (column: string, modifier = '+0 seconds') => `strftime('%Y-%m-%dT%H:%M:%fZ', ${column}, '${modifier}')`;
/** A unit whose receipt ReBound verified: registered at the hub, with the SKU that was sold. */
export const arrived = `u.registered_at IS NOT NULL AND (u.received_sku IS NULL OR u.received_sku = u.offer_sku)`;
/**
 * True when the refund `id` is linked to a return line: made by this app (a confirmed refund intent's outcome) or
 * matched by a person — the refund_links view, as two index lookups. Correlated lookups must use this, not the view:
 * SQLite does not push an outer column into a UNION ALL view, and would scan every intent per refund.
 */
export const refundIsLinked = (id: string) =>
  `(EXISTS (SELECT 1 FROM intents li WHERE li.refund_id = ${id} AND li.kind = 'mirakl.refund' AND li.state = 'confirmed')
    OR EXISTS (SELECT 1 FROM recon_matches lm WHERE lm.kind = 'refund_line' AND lm.subject = ${id} AND lm.status = 'confirmed'))`;
/**
 * The refunds linked to one return line (made by this app for it, or matched to it by a person), as `k.refund_id`
 * joined to Mirakl's record `f` — two index ranges, for a correlated subquery: `SELECT … FROM ${lineRefunds(…)}`.
 */
export const lineRefunds = (returnId: string, lineId: string) => `(SELECT i.refund_id AS refund_id FROM intents i INDEXED BY intents_refund_links
      WHERE i.subject = ${returnId} AND i.order_line_id = ${lineId} AND i.kind = 'mirakl.refund' AND i.state = 'confirmed' AND i.refund_id IS NOT NULL
    UNION ALL
    SELECT m.subject FROM recon_matches m INDEXED BY recon_matches_confirmed
      WHERE m.return_id = ${returnId} AND m.candidate = ${returnId} || ':' || ${lineId} AND m.kind = 'refund_line' AND m.status = 'confirmed') AS k
  CROSS JOIN mirakl_refunds f ON f.id = k.refund_id`;
const money = (minor: string) => `printf('%.2f', ${minor} / 100.0)`;
/** The drift bits of recon_verdicts.drift. */
export const driftBits = { state: 1, tracking: 2, quantity: 4, refund: 8 } as const;

export const detectors: Detector[] = [
  {
    type: 'RETURN_NOT_CREATED',
    scope: 'return',
    convergedBecause: 'the return now exists in ReBound (or Mirakl no longer expects it)',
    // Returns still waiting for their order have ORDER_NOT_FOUND instead.
    sql: (p, from) => `SELECT r.id, r.id, r.id, NULL, r.first_seen_at, ${iso('r.first_seen_at', `+${p.sla.returnNotCreatedHours} hours`)},
        'Mirakl has shown this return since ' || r.first_seen_at || ', and it is still not in ReBound after ${p.sla.returnNotCreatedHours} h'
          || COALESCE(' (last error: ' || i.last_error || ')', '') || '.'
      FROM ${from('return', 'mirakl_returns', 'r', 'id')} LEFT JOIN return_intake i ON i.return_id = r.id
      WHERE r.state IN ('WAITING_ACCEPTANCE', 'IN_PROGRESS')
        AND COALESCE(i.stage, '') != 'awaiting_order'
        AND NOT EXISTS (SELECT 1 FROM rebound_return_orders o WHERE o.return_id = r.id)`,
  },
  {
    type: 'STATUS_NOT_PUSHED',
    scope: 'return',
    convergedBecause: 'Mirakl now shows the return received',
    sql: (p, from) => `SELECT r.id, r.id, r.id, NULL, min(u.registered_at), ${iso('min(u.registered_at)', `+${p.sla.statusNotPushedHours} hours`)},
        'ReBound registered the parcel at ' || min(u.registered_at) || ', but Mirakl still shows the return IN_PROGRESS.'
      FROM ${from('return', 'mirakl_returns', 'r', 'id')} JOIN units u ON u.return_id = r.id
      WHERE r.state = 'IN_PROGRESS' AND ${arrived}
      GROUP BY r.id`,
  },
  {
    type: 'REFUND_STALLED',
    scope: 'return',
    convergedBecause: 'Mirakl now shows the refund REFUNDED',
    // Only returns whose verdict has a verified line still without a REFUNDED refund are looked at line by line; and
    // lines with a refund of ours held back for a person (failed, not to be retried by itself: a late unit's refund
    // would exceed what the line has left, Mirakl refused it) even when the line's first units are REFUNDED — the
    // engine raised those at once, and they stay open until that refund is made or a person accepts the line.
    sql: (p, from, has) => `SELECT x.return_id || ':' || x.order_line_id, x.return_id, x.return_id, x.order_line_id, x.first_verified_at,
        ${iso('x.first_verified_at', `+${p.sla.refundStalledHours} hours`)},
        'The receipt was verified at ' || x.first_verified_at || ', and the refund of line ' || x.order_line_id
          || ' is still not REFUNDED after ${p.sla.refundStalledHours} h' || COALESCE(' (' || (SELECT i.state || COALESCE(': ' || i.last_error, '')
             FROM intents i WHERE i.key = 'refund:' || x.return_id || ':' || x.order_line_id) || ')', ' (no refund sent yet)') || '.'
      FROM (SELECT l.return_id, l.order_line_id,
              (SELECT min(u.registered_at) FROM units u WHERE u.return_id = l.return_id AND u.order_line_id = l.order_line_id AND ${arrived}) AS first_verified_at
            FROM ${from('return', 'recon_verdicts', 'v', 'return_id')}
            CROSS JOIN mirakl_returns r ON r.id = v.return_id
            CROSS JOIN mirakl_return_lines l ON l.return_id = v.return_id
            WHERE v.unrefunded_since IS NOT NULL AND r.state IN ('RECEIVED', 'CLOSED')
              AND NOT EXISTS (SELECT 1 FROM ${lineRefunds('l.return_id', 'l.order_line_id')} WHERE f.refund_state = 'REFUNDED')
            LIMIT -1) x
      WHERE x.first_verified_at IS NOT NULL
      UNION ALL
      SELECT i.subject || ':' || i.order_line_id, i.subject, i.subject, i.order_line_id, min(i.updated_at), min(i.updated_at),
        'The refund of line ' || i.order_line_id || ' was held back for a person (' || COALESCE(i.last_error, 'refused') || ').'
      FROM intents i INDEXED BY intents_due
      WHERE i.kind = 'mirakl.refund' AND i.state = 'failed' AND i.next_attempt_at IS NULL AND ${has('return', 'i.subject')}
        AND i.order_line_id IS NOT NULL
      GROUP BY i.subject, i.order_line_id`,
  },
  {
    type: 'REFUND_WITHOUT_RECEIPT',
    scope: 'refund',
    convergedBecause: 'the refund is now explained by a verified receipt or a confirmed match',
    // No SLA: money that left without proof of a receipt is reported the moment it is seen.
    sql: (_p, from) => `SELECT 'refund:' || f.id, f.id,
        (SELECT m.return_id FROM recon_matches m WHERE m.kind = 'refund_line' AND m.subject = f.id ORDER BY m.rank LIMIT 1),
        f.order_line_id, f.first_seen_at, ${iso('f.first_seen_at')},
        'Mirakl shows refund ' || f.id || ' of ' || ${money('f.amount_minor')} || ' on line ' || f.order_line_id || ' (' || f.date_created
          || ') that this app did not make, and ReBound has verified no unit of that line.'
          || COALESCE(' Suggested match: return ' || (SELECT m.return_id || ' (' || m.basis || CASE WHEN m.status = 'ambiguous' THEN ', ambiguous' ELSE '' END || ')'
             FROM recon_matches m WHERE m.kind = 'refund_line' AND m.subject = f.id ORDER BY m.rank LIMIT 1) || '.', '')
      FROM ${from('refund', 'mirakl_refunds', 'f', 'id')}
      WHERE NOT ${refundIsLinked('f.id')}
        AND NOT EXISTS (SELECT 1 FROM units u WHERE u.order_line_id = f.order_line_id AND u.registered_at IS NOT NULL)`,
  },
  {
    type: 'REFUND_EXCEEDS_RECEIPT',
    scope: 'return',
    convergedBecause: 'what Mirakl refunded on the line no longer exceeds what ReBound verified',
    // Every refund of the line counts, ours or not, against every unit of the line verified on any of its returns.
    // No SLA: money paid twice is reported the moment it is seen. A line with no verified unit at all is
    // REFUND_WITHOUT_RECEIPT's, not this one's: the same money is never raised twice. What the line was refunded in all,
    // against its units verified on one return, is part of that return's gap: a line exceeds the tolerance only on
    // returns whose gap is above it, so only those are looked at.
    sql: (p, from) => `SELECT 'line:' || x.order_line_id, x.return_id, x.return_id, x.order_line_id, x.seen, ${iso('x.seen')},
        'Mirakl has refunded ' || ${money('x.refunded')} || ' on order line ' || x.order_line_id || ' in all (every refund of the line, ours and any made in the back office), but ReBound verified '
          || x.verified || ' unit(s) of it, worth ' || ${money('x.verified * x.price')} || '.'
      FROM (SELECT l.order_line_id, min(l.return_id) AS return_id, ol.price_unit_minor AS price,
              (SELECT sum(f.amount_minor) FROM mirakl_refunds f WHERE f.order_line_id = l.order_line_id AND f.amount_minor != 0) AS refunded,
              (SELECT max(f.first_seen_at) FROM mirakl_refunds f WHERE f.order_line_id = l.order_line_id) AS seen,
              (SELECT count(*) FROM units u WHERE u.order_line_id = l.order_line_id AND ${arrived}) AS verified
            FROM ${from('return', 'recon_verdicts', 'v', 'return_id')}
            CROSS JOIN mirakl_return_lines l ON l.return_id = v.return_id
            JOIN mirakl_order_lines ol ON ol.order_line_id = l.order_line_id
            WHERE v.gap_minor > ${p.refunds.toleranceMinor}
            GROUP BY l.order_line_id LIMIT -1) x
      WHERE x.verified > 0 AND x.refunded > x.verified * x.price + ${p.refunds.toleranceMinor}`,
  },
  {
    type: 'REFUND_AMOUNT_MISMATCH',
    scope: 'return',
    convergedBecause: 'the refunded amount now matches the verified units',
    // Only returns whose verdict has a gap above the tolerance can have a line refunded off its verified units.
    sql: (p, from) => `SELECT x.return_id || ':' || x.order_line_id, x.return_id, x.return_id, x.order_line_id, x.seen, ${iso('x.seen')},
        'Mirakl refunded ' || ${money('x.refunded')} || ' on line ' || x.order_line_id || ' for ' || x.verified || ' verified unit(s) worth '
          || ${money('x.verified * x.price')} || ' (tolerance ${p.refunds.toleranceMinor} minor units).'
      FROM (SELECT l.return_id, l.order_line_id, COALESCE(ol.price_unit_minor, 0) AS price,
              (SELECT count(*) FROM units u WHERE u.return_id = l.return_id AND u.order_line_id = l.order_line_id AND ${arrived}) AS verified,
              (SELECT sum(f.amount_minor) FROM ${lineRefunds('l.return_id', 'l.order_line_id')}) AS refunded,
              (SELECT max(f.first_seen_at) FROM ${lineRefunds('l.return_id', 'l.order_line_id')}) AS seen
            FROM ${from('return', 'recon_verdicts', 'v', 'return_id')}
            CROSS JOIN mirakl_return_lines l ON l.return_id = v.return_id
            LEFT JOIN mirakl_order_lines ol ON ol.order_line_id = l.order_line_id
            WHERE v.gap_minor > ${p.refunds.toleranceMinor}
            LIMIT -1) x
      WHERE x.refunded IS NOT NULL AND abs(x.refunded - x.verified * x.price) > ${p.refunds.toleranceMinor}`,
  },
  {
    type: 'PARCEL_STALLED',
    scope: 'return',
    convergedBecause: 'the parcel has reached the hub and been registered (or Mirakl closed the return)',
    sql: (p, from) => `SELECT o.return_id, o.return_id, o.return_id, NULL, o.updated_at,
        CASE WHEN o.status = 'EXPIRED' THEN ${iso('o.updated_at')} ELSE ${iso('o.updated_at', `+${p.sla.parcelStalledDays} days`)} END,
        CASE WHEN o.status = 'EXPIRED'
          THEN 'ReBound expired return order ' || o.rebound_order_id || ' on ' || o.updated_at || ': the label was never scanned by a carrier, so nothing came back.'
          ELSE 'Parcel of ReBound return order ' || o.rebound_order_id || ' has been ' || o.status || ' since ' || o.updated_at || '.' END
      FROM ${from('return', 'rebound_return_orders', 'o', 'return_id')} JOIN mirakl_returns r ON r.id = o.return_id
      WHERE o.status IN ('IN_CARRIER_NETWORK', 'AT_HUB', 'EXPIRED') AND (o.status != 'EXPIRED' OR r.state IN ('WAITING_ACCEPTANCE', 'IN_PROGRESS'))`,
  },
  {
    type: 'STATUS_DRIFT',
    scope: 'return',
    convergedBecause: 'the two systems agree again',
    // A subset of the verdict's state drift: only returns drifting on state are looked up.
    sql: (p, from) => `SELECT r.id, r.id, r.id, NULL, r.last_updated, ${iso('r.last_updated', `+${p.sla.statusDriftHours} hours`)},
        'Mirakl shows the return ' || r.state || ' since ' || r.last_updated || ', while ReBound still shows its return order ' || o.status || '.'
      FROM ${from('return', 'recon_verdicts', 'v', 'return_id')} CROSS JOIN mirakl_returns r ON r.id = v.return_id
        JOIN rebound_return_orders o ON o.return_id = r.id
      WHERE v.drift & ${driftBits.state} != 0 AND r.state IN ('CLOSED', 'CANCELED', 'REFUSED') AND o.status_rank < 4`,
  },
  {
    type: 'SHORT_RECEIPT',
    scope: 'return',
    convergedBecause: 'every returned unit has now arrived',
    sql: (_p, from) => `SELECT u.return_id, u.return_id, u.return_id, NULL, min(u.updated_at), ${iso('min(u.updated_at)')},
        count(*) || ' of ' || (SELECT count(*) FROM units a WHERE a.return_id = u.return_id) || ' returned unit(s) did not arrive at ReBound ('
          || group_concat(u.order_line_id, ', ') || ').'
      FROM ${from('return', 'units', 'u', 'return_id')}
      WHERE u.stage = 'missing'
      GROUP BY u.return_id`,
  },
  {
    type: 'UNEXPECTED_ITEM',
    scope: 'return',
    convergedBecause: 'ReBound no longer lists an item it could not match',
    sql: (_p, from) => `SELECT o.rebound_order_id, o.return_id, o.return_id, NULL, min(i.updated_at), ${iso('min(i.updated_at)')},
        'ReBound registered ' || count(*) || ' item(s) it could not match to this return: ' || group_concat(i.sku, ', ') || '.'
      FROM ${from('return', 'rebound_return_orders', 'o', 'return_id')} CROSS JOIN rebound_items i INDEXED BY rebound_items_unexpected ON i.rebound_order_id = o.rebound_order_id
      WHERE i.is_unexpected = 1
      GROUP BY o.rebound_order_id`,
  },
  {
    type: 'OUTCOME_UNKNOWN',
    scope: 'intent',
    convergedBecause: 'the outcome is now known',
    sql: (_p, from) => `SELECT 'intent:' || i.id, CAST(i.id AS TEXT), CASE WHEN i.subject = 'stock' THEN NULL ELSE i.subject END, NULL, i.updated_at,
        ${iso('i.updated_at', '+1 hours')},
        'A ' || i.kind || ' call for ' || i.subject || ' may or may not have been applied (' || COALESCE(i.last_error, 'no answer')
          || '), and probing has not settled it for an hour.'
      FROM ${from('intent', 'intents', 'i', 'id', 'intents_uncertain')}
      WHERE i.state = 'uncertain'`,
  },
];

/** Exceptions of this scope kind whose subject is in scope (each form lets SQLite use an index). */
export function exceptionsInScope(scope: Scope, within: Within): { table: string; where: string } {
  if (scope === 'return') return { table: 'exceptions INDEXED BY exceptions_return', where: within.has('return', 'return_id') };
  if (within.kind === 'changed') {
    return { table: 'exceptions INDEXED BY exceptions_one_open', where: `subject_key IN (SELECT '${scope}:' || id FROM temp.scope_${scope})` };
  }
  // Refund subjects 'refund:<id>' sort as their ids do; every intent is in the range of a full pass.
  const where = scope === 'intent' ? '1' : `(subject_key > '${scope}:' || @lo AND subject_key <= '${scope}:' || @hi)`;
  return { table: 'exceptions INDEXED BY exceptions_one_open', where };
}

/** Watches of this scope kind whose subject is in scope. */
export function watchesInScope(scope: Scope, within: Within): { table: string; where: string } {
  if (within.kind === 'range' && scope === 'intent') return { table: 'recon_watch', where: '1' };
  return { table: 'recon_watch INDEXED BY recon_watch_scope', where: within.has(scope, 'scope_id') };
}

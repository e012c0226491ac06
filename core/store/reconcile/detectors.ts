import type { ExceptionTypeName } from '../../exceptions/catalogue';
import type { Policy } from '../../mappings/schemas';

// Where the planner could choose between the (kind, …) primary key and a narrower index of recon_matches, the query
// names the index: on fresh tables without statistics SQLite otherwise scans every match of the kind per row.
// A detector is one SQL query: the subjects that diverge *now*, each with when it started and when its SLA runs out.
// The pass keeps them in recon_watch, raises an exception when the SLA has run out (never before), and resolves
// it, with the reason, once the subject no longer diverges. Queries only look at subjects in scope (the temp.scope_*
// tables the pass fills), so an incremental pass costs what changed, not what exists.

export type Scope = 'return' | 'refund' | 'intent';

export interface Detector {
  type: ExceptionTypeName;
  scope: Scope;
  /** Why an exception of this type closes by itself. */
  convergedBecause: string;
  /**
   * SELECT subject_key, scope_id, return_id, order_line_id, since, due_at, cause — every subject in scope that
   * diverges now, whatever its SLA. `due_at` must be an ISO timestamp like JavaScript's (use `iso(...)`).
   */
  sql(policy: Policy, from: From): string;
}

/**
 * The detector's driving table. In an incremental pass the (small) scope drives it, joined first whatever the
 * planner guesses for temp tables without statistics; in a full pass every row is in scope and it is a plain scan.
 */
export type From = (scope: Scope, table: string, alias: string, column: string, index?: string) => string;

export const fromScope: From = (scope, table, alias, column, index) =>
  `temp.scope_${scope} AS scope CROSS JOIN ${table} AS ${alias}${index ? ` INDEXED BY ${index}` : ''} ON ${alias}.${column} = scope.id`;
/** A full pass scans: the index a scoped lookup needs is left to the planner, which may prefer one that is already in order. */
export const fromAll: From = (_scope, table, alias) => `${table} AS ${alias}`;

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
const money = (minor: string) => `printf('%.2f', ${minor} / 100.0)`;

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
    // temp.line_facts holds the lines of the returns in scope (the matcher builds it first in every pass).
    sql: (p) => `SELECT lf.return_id || ':' || lf.order_line_id, lf.return_id, lf.return_id, lf.order_line_id, lf.first_verified_at,
        ${iso('lf.first_verified_at', `+${p.sla.refundStalledHours} hours`)},
        'The receipt was verified at ' || lf.first_verified_at || ', and the refund of line ' || lf.order_line_id
          || ' is still not REFUNDED after ${p.sla.refundStalledHours} h' || COALESCE(' (' || (SELECT i.state || COALESCE(': ' || i.last_error, '')
             FROM intents i WHERE i.key = 'refund:' || lf.return_id || ':' || lf.order_line_id) || ')', ' (no refund sent yet)') || '.'
      FROM temp.line_facts lf CROSS JOIN mirakl_returns r ON r.id = lf.return_id
      WHERE lf.verified > 0 AND lf.done_links = 0 AND r.state IN ('RECEIVED', 'CLOSED')`,
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
    // REFUND_WITHOUT_RECEIPT's, not this one's: the same money is never raised twice.
    sql: (p, from) => {
      const refunded = `(SELECT sum(f.amount_minor) FROM mirakl_refunds f WHERE f.order_line_id = l.order_line_id)`;
      const verified = `(SELECT count(*) FROM units u WHERE u.order_line_id = l.order_line_id AND ${arrived})`;
      return `SELECT 'line:' || l.order_line_id, min(l.return_id), min(l.return_id), l.order_line_id,
        (SELECT max(f.first_seen_at) FROM mirakl_refunds f WHERE f.order_line_id = l.order_line_id),
        ${iso('(SELECT max(f.first_seen_at) FROM mirakl_refunds f WHERE f.order_line_id = l.order_line_id)')},
        'Mirakl has refunded ' || ${money(refunded)} || ' on order line ' || l.order_line_id || ' in all (every refund of the line, ours and any made in the back office), but ReBound verified '
          || ${verified} || ' unit(s) of it, worth ' || ${money(`${verified} * ol.price_unit_minor`)} || '.'
      FROM ${from('return', 'mirakl_return_lines', 'l', 'return_id')}
      JOIN mirakl_order_lines ol ON ol.order_line_id = l.order_line_id
      WHERE ${verified} > 0 AND ${refunded} > ${verified} * ol.price_unit_minor + ${p.refunds.toleranceMinor}
      GROUP BY l.order_line_id`;
    },
  },
  {
    type: 'REFUND_AMOUNT_MISMATCH',
    scope: 'return',
    convergedBecause: 'the refunded amount now matches the verified units',
    sql: (p) => `SELECT lf.return_id || ':' || lf.order_line_id, lf.return_id, lf.return_id, lf.order_line_id, lf.last_refund_seen, ${iso('lf.last_refund_seen')},
        'Mirakl refunded ' || ${money('lf.refunded_all_minor')} || ' on line ' || lf.order_line_id || ' for ' || lf.verified || ' verified unit(s) worth '
          || ${money('lf.verified * lf.price_unit_minor')} || ' (tolerance ${p.refunds.toleranceMinor} minor units).'
      FROM temp.line_facts lf
      WHERE lf.links > 0 AND abs(lf.refunded_all_minor - lf.verified * lf.price_unit_minor) > ${p.refunds.toleranceMinor}`,
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
      WHERE (o.status IN ('IN_CARRIER_NETWORK', 'AT_HUB') OR (o.status = 'EXPIRED' AND r.state IN ('WAITING_ACCEPTANCE', 'IN_PROGRESS')))`,
  },
  {
    type: 'STATUS_DRIFT',
    scope: 'return',
    convergedBecause: 'the two systems agree again',
    sql: (p, from) => `SELECT r.id, r.id, r.id, NULL, r.last_updated, ${iso('r.last_updated', `+${p.sla.statusDriftHours} hours`)},
        'Mirakl shows the return ' || r.state || ' since ' || r.last_updated || ', while ReBound still shows its return order ' || o.status || '.'
      FROM ${from('return', 'mirakl_returns', 'r', 'id')} JOIN rebound_return_orders o ON o.return_id = r.id
      WHERE r.state IN ('CLOSED', 'CANCELED', 'REFUSED') AND o.status_rank < 4`,
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
      FROM ${from('return', 'rebound_return_orders', 'o', 'return_id')} JOIN rebound_items i ON i.rebound_order_id = o.rebound_order_id
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
      FROM ${from('intent', 'intents', 'i', 'id')}
      WHERE i.state = 'uncertain'`,
  },
];

/** Exceptions of this scope kind whose subject is in scope (each form lets SQLite use an index). */
export function exceptionsInScope(scope: Scope): { table: string; where: string } {
  if (scope === 'return') return { table: 'exceptions INDEXED BY exceptions_return', where: 'return_id IN (SELECT id FROM temp.scope_return)' };
  return { table: 'exceptions INDEXED BY exceptions_one_open', where: `subject_key IN (SELECT '${scope}:' || id FROM temp.scope_${scope})` };
}

/** Watches of this scope kind whose subject is in scope. */
export function watchesInScope(scope: Scope): { table: string; where: string } {
  return { table: 'recon_watch INDEXED BY recon_watch_scope', where: `scope_id IN (SELECT ${scope === 'intent' ? 'CAST(id AS TEXT)' : 'id'} FROM temp.scope_${scope})` };
}

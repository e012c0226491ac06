import type { Database } from 'better-sqlite3';
import type { ExceptionTypeName } from '../exceptions/catalogue';
import type { ExceptionStore } from '../exceptions/store';
import type { Policy } from '../mappings/schemas';
import type { Clock } from '../ports';

// Detectors turn divergences between Mirakl, ReBound and our own intents into owned exceptions once they have
// lasted longer than their SLA, and resolve them (with the reason) as soon as the sources converge. Each is one
// SQL query for the subjects in breach now, and one check per open exception that the sources agree again.

export interface Breach {
  subjectKey: string;
  returnId: string | null;
  orderLineId: string | null;
  since: string;
  cause: string;
}

export interface Detector {
  type: ExceptionTypeName;
  /** Why an exception of this type closes by itself. */
  convergedBecause: string;
  /** Subjects in breach at `now` (their SLA has run out). */
  breaches(db: Database, now: number, policy: Policy): Breach[];
  /** True once the sources agree for this subject, whoever raised the exception (a detector or the engine). */
  isConverged(db: Database, subjectKey: string): boolean;
}

const exists = (db: Database, sql: string, ...params: unknown[]) => Boolean(db.prepare(sql).get(...params));

const hours = (h: number) => h * 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

export const detectors: Detector[] = [
  {
    type: 'RETURN_NOT_CREATED',
    convergedBecause: 'the return now exists in ReBound',
    isConverged: (db, returnId) => exists(db, 'SELECT 1 FROM rebound_return_orders WHERE return_id = ?', returnId),
    breaches: (db, now, policy) =>
      (db
        .prepare(
          `SELECT r.id, r.first_seen_at FROM return_intake i JOIN mirakl_returns r ON r.id = i.return_id
           WHERE i.stage IN ('sales_order', 'create_return') AND r.first_seen_at <= ?`,
        )
        .all(iso(now - hours(policy.sla.returnNotCreatedHours))) as { id: string; first_seen_at: string }[]).map((r) => ({
        subjectKey: r.id,
        returnId: r.id,
        orderLineId: null,
        since: r.first_seen_at,
        cause: `Mirakl has shown this return since ${r.first_seen_at}, and it is still not in ReBound after ${policy.sla.returnNotCreatedHours} h.`,
      })),
  },
  {
    type: 'STATUS_NOT_PUSHED',
    convergedBecause: 'Mirakl now shows the return received',
    isConverged: (db, returnId) => exists(db, `SELECT 1 FROM mirakl_returns WHERE id = ? AND state != 'IN_PROGRESS'`, returnId),
    breaches: (db, now, policy) =>
      (db
        .prepare(
          `SELECT r.id, min(u.registered_at) AS since FROM units u JOIN mirakl_returns r ON r.id = u.return_id
           WHERE u.registered_at IS NOT NULL AND r.state = 'IN_PROGRESS'
           GROUP BY r.id HAVING min(u.registered_at) <= ?`,
        )
        .all(iso(now - hours(policy.sla.statusNotPushedHours))) as { id: string; since: string }[]).map((r) => ({
        subjectKey: r.id,
        returnId: r.id,
        orderLineId: null,
        since: r.since,
        cause: `ReBound registered the parcel at ${r.since}, but Mirakl still shows the return IN_PROGRESS.`,
      })),
  },
  {
    type: 'REFUND_STALLED',
    convergedBecause: 'Mirakl now shows the refund REFUNDED',
    isConverged: (db, key) =>
      exists(
        db,
        `SELECT 1 FROM intents i JOIN mirakl_refunds f ON f.id = json_extract(i.outcome, '$.refundId')
         WHERE i.key = 'refund:' || ? AND f.refund_state = 'REFUNDED'`,
        key,
      ),
    breaches: (db, now, policy) =>
      (db
        .prepare(
          `SELECT u.return_id, u.order_line_id, min(u.registered_at) AS since FROM units u
           JOIN mirakl_returns r ON r.id = u.return_id
           WHERE u.registered_at IS NOT NULL AND (u.received_sku IS NULL OR u.received_sku = u.offer_sku)
             AND r.state IN ('RECEIVED', 'CLOSED')
             AND NOT EXISTS (
               SELECT 1 FROM intents i JOIN mirakl_refunds f ON f.id = json_extract(i.outcome, '$.refundId')
               WHERE i.key = 'refund:' || u.return_id || ':' || u.order_line_id AND f.refund_state = 'REFUNDED')
           GROUP BY u.return_id, u.order_line_id HAVING min(u.registered_at) <= ?`,
        )
        .all(iso(now - hours(policy.sla.refundStalledHours))) as { return_id: string; order_line_id: string; since: string }[]).map((r) => ({
        subjectKey: `${r.return_id}:${r.order_line_id}`,
        returnId: r.return_id,
        orderLineId: r.order_line_id,
        since: r.since,
        cause: `The receipt was verified at ${r.since}, and the refund of line ${r.order_line_id} is still not REFUNDED after ${policy.sla.refundStalledHours} h.`,
      })),
  },
  {
    type: 'REFUND_WITHOUT_RECEIPT',
    convergedBecause: 'ReBound has since verified a receipt for that line',
    // No SLA: money left without proof of a receipt is reported the moment it is seen.
    isConverged: (db, key) => {
      const refundId = key.replace(/^refund:/, '');
      return (
        exists(db, `SELECT 1 FROM intents WHERE kind = 'mirakl.refund' AND json_extract(outcome, '$.refundId') = ?`, refundId) ||
        exists(
          db,
          'SELECT 1 FROM mirakl_refunds f JOIN units u ON u.order_line_id = f.order_line_id WHERE f.id = ? AND u.registered_at IS NOT NULL',
          refundId,
        )
      );
    },
    breaches: (db) =>
      (db
        .prepare(
          `SELECT f.id, f.order_line_id, f.date_created, f.amount_minor, rl.return_id FROM mirakl_refunds f
           LEFT JOIN mirakl_return_lines rl ON rl.order_line_id = f.order_line_id
           WHERE f.id NOT IN (
               SELECT json_extract(outcome, '$.refundId') FROM intents
               WHERE kind = 'mirakl.refund' AND json_extract(outcome, '$.refundId') IS NOT NULL)
             AND NOT EXISTS (SELECT 1 FROM units u WHERE u.order_line_id = f.order_line_id AND u.registered_at IS NOT NULL)`,
        )
        .all() as { id: string; order_line_id: string; date_created: string; amount_minor: number; return_id: string | null }[]).map((r) => ({
        subjectKey: `refund:${r.id}`,
        returnId: r.return_id,
        orderLineId: r.order_line_id,
        since: r.date_created,
        cause: `Mirakl shows refund ${r.id} of ${(r.amount_minor / 100).toFixed(2)} on line ${r.order_line_id} (${r.date_created}) that the bridge did not make, and ReBound has verified no unit of that line.`,
      })),
  },
  {
    type: 'PARCEL_STALLED',
    convergedBecause: 'the parcel has reached the hub and been registered',
    isConverged: (db, returnId) =>
      exists(db, `SELECT 1 FROM rebound_return_orders WHERE return_id = ? AND status IN ('ITEMS_REGISTERED', 'PROCESSED', 'DELIVERED_TO_CLIENT')`, returnId),
    breaches: (db, now, policy) =>
      (db
        .prepare(
          `SELECT return_id, rebound_order_id, status, updated_at FROM rebound_return_orders
           WHERE status IN ('IN_CARRIER_NETWORK', 'AT_HUB') AND updated_at <= ?`,
        )
        .all(iso(now - hours(24 * policy.sla.parcelStalledDays))) as { return_id: string; rebound_order_id: string; status: string; updated_at: string }[]).map(
        (r) => ({
          subjectKey: r.return_id,
          returnId: r.return_id,
          orderLineId: null,
          since: r.updated_at,
          cause: `Parcel of ReBound return order ${r.rebound_order_id} has been ${r.status} since ${r.updated_at}.`,
        }),
      ),
  },
  {
    type: 'STATUS_DRIFT',
    convergedBecause: 'the two systems agree again',
    isConverged: (db, returnId) =>
      !exists(
        db,
        `SELECT 1 FROM mirakl_returns r JOIN rebound_return_orders o ON o.return_id = r.id
         WHERE r.id = ? AND r.state IN ('CLOSED', 'CANCELED', 'REFUSED') AND o.status_rank < 4`,
        returnId,
      ),
    breaches: (db, now, policy) =>
      (db
        .prepare(
          `SELECT r.id, r.state, o.status, r.last_updated FROM mirakl_returns r JOIN rebound_return_orders o ON o.return_id = r.id
           WHERE r.state IN ('CLOSED', 'CANCELED', 'REFUSED') AND o.status_rank < 4 AND r.last_updated <= ?`,
        )
        .all(iso(now - hours(policy.sla.statusDriftHours))) as { id: string; state: string; status: string; last_updated: string }[]).map((r) => ({
        subjectKey: r.id,
        returnId: r.id,
        orderLineId: null,
        since: r.last_updated,
        cause: `Mirakl shows the return ${r.state} since ${r.last_updated}, while ReBound still shows its return order ${r.status}.`,
      })),
  },
  {
    type: 'OUTCOME_UNKNOWN',
    convergedBecause: 'the outcome is now known',
    isConverged: (db, key) => !exists(db, `SELECT 1 FROM intents WHERE id = ? AND state = 'uncertain'`, Number(key.replace(/^intent:/, ''))),
    breaches: (db, now) =>
      (db
        .prepare(`SELECT id, kind, subject, updated_at, last_error FROM intents WHERE state = 'uncertain' AND updated_at <= ?`)
        .all(iso(now - hours(1))) as { id: number; kind: string; subject: string; updated_at: string; last_error: string | null }[]).map((r) => ({
        subjectKey: `intent:${r.id}`,
        returnId: r.subject.includes('-') ? r.subject : null,
        orderLineId: null,
        since: r.updated_at,
        cause: `A ${r.kind} call for ${r.subject} may or may not have been applied (${r.last_error ?? 'no answer'}), and probing has not settled it for an hour.`,
      })),
  },
];

/** One pass of every detector: raise what is in breach, resolve what has converged. */
export function runDetectors(db: Database, clock: Clock, exceptions: ExceptionStore, policy: Policy): { raised: number; resolved: number } {
  const now = clock.now();
  let raised = 0;
  let resolved = 0;
  db.transaction(() => {
    for (const detector of detectors) {
      const breaches = detector.breaches(db, now, policy);
      const inBreach = new Set(breaches.map((b) => b.subjectKey));
      for (const b of breaches) {
        if (!exceptions.isOpen(detector.type, b.subjectKey)) raised++;
        exceptions.raise({ type: detector.type, subjectKey: b.subjectKey, returnId: b.returnId, orderLineId: b.orderLineId, cause: b.cause });
      }
      for (const open of exceptions.listOpen(detector.type)) {
        if (inBreach.has(open.subject_key) || !detector.isConverged(db, open.subject_key)) continue;
        if (exceptions.autoResolve(detector.type, open.subject_key, detector.convergedBecause)) resolved++;
      }
    }
  })();
  return { raised, resolved };
}

import type { Database, Statement } from 'better-sqlite3';
import { intentKinds, type OutgoingRow, type SuggestionRow } from '../contract';
import type { z } from 'zod';
import type { outgoingListInput, suggestionsListInput } from '../contract/operations';
import { totalCap } from './reconcile/queries-repo';

// What the outgoing-calls view and the suggestions queue read: the intent ledger and the matcher's open suggestions,
// paged and filtered here. Read-only: the ledger writes them. Calls are paged by id (the order they were planned in),
// so a page is read off the primary key, or off intents_uncertain for "outcome unknown", or off intents_due (kind,
// state) for any other state, never by sorting the whole ledger.

type OutgoingQuery = z.output<typeof outgoingListInput>;
type SuggestionsQuery = z.output<typeof suggestionsListInput>;

interface IntentListRow {
  id: number;
  kind: string;
  subject: string;
  state: OutgoingRow['state'];
  attempts: number;
  created_at: string;
  updated_at: string;
  next_attempt_at: string | null;
  last_error: string | null;
  outcome: string | null;
  order_line_id: string | null;
  amount_minor: number | null;
  currency: string | null;
  is_return: number;
}

const allKinds = Object.keys(intentKinds);
const kindsOf = (system: 'mirakl' | 'rebound') => Object.entries(intentKinds).filter(([, k]) => k.system === system).map(([kind]) => kind);

export function createOperationsRepo(db: Database) {
  const statements = new Map<string, Statement>();
  const q = (sql: string): Statement => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };

  function outgoingWhere(filter: OutgoingQuery['filter']): { sql: string; params: Record<string, string> } {
    const parts: string[] = [];
    const params: Record<string, string> = {};
    const isOnlyUncertain = filter.states?.length === 1 && filter.states[0] === 'uncertain';
    if (isOnlyUncertain) {
      parts.push(`i.state = 'uncertain'`);
    } else if (filter.states) {
      parts.push('i.state IN (SELECT value FROM json_each(@states))');
      params.states = JSON.stringify(filter.states);
    }
    // With a state, the kinds are always named, so (kind, state) is looked up in intents_due.
    const kinds = filter.kind ? [filter.kind] : filter.system ? kindsOf(filter.system) : filter.states && !isOnlyUncertain ? allKinds : null;
    if (kinds) {
      parts.push('i.kind IN (SELECT value FROM json_each(@kinds))');
      params.kinds = JSON.stringify(kinds);
    }
    if (filter.returnId) {
      parts.push('i.subject = @returnId');
      params.returnId = filter.returnId;
    }
    return { sql: `${isOnlyUncertain && !kinds ? 'INDEXED BY intents_uncertain ' : ''}${parts.length ? `WHERE ${parts.join(' AND ')}` : ''}`, params };
  }

  return {
    outgoing(input: OutgoingQuery): { rows: OutgoingRow[]; total: number; totalIsCapped: boolean; offset: number; uncertain: number } {
      const where = outgoingWhere(input.filter);
      const dir = input.sort.direction === 'asc' ? 'ASC' : 'DESC';
      const rows = q(`SELECT i.id, i.kind, i.subject, i.state, i.attempts, i.created_at, i.updated_at, i.next_attempt_at, i.last_error,
            i.outcome, i.order_line_id,
            CASE WHEN i.kind = 'mirakl.refund' THEN json_extract(i.payload, '$.amountMinor') END AS amount_minor,
            CASE WHEN i.kind = 'mirakl.refund' THEN json_extract(i.payload, '$.currency') END AS currency,
            EXISTS (SELECT 1 FROM mirakl_returns r WHERE r.id = i.subject) AS is_return
          FROM intents i ${where.sql}
          ORDER BY i.id ${dir} LIMIT @limit OFFSET @offset`).all({ ...where.params, limit: input.page.limit, offset: input.page.offset }) as IntentListRow[];
      const total = (q(`SELECT count(*) AS n FROM (SELECT 1 FROM intents i ${where.sql} LIMIT ${totalCap + 1})`).get(where.params) as { n: number }).n;
      const uncertain = (q(`SELECT count(*) AS n FROM intents INDEXED BY intents_uncertain WHERE state = 'uncertain'`).get() as { n: number }).n;
      return { rows: rows.map(toOutgoing), total: Math.min(total, totalCap), totalIsCapped: total > totalCap, offset: input.page.offset, uncertain };
    },

    /** Open exceptions that hold refunds and stock updates back for the whole shop, oldest first. */
    pausedBy(): { id: number; type: 'FOREIGN_WRITE' | 'RESTORED_DATABASE'; detected_at: string }[] {
      return q(`SELECT id, type, detected_at FROM exceptions WHERE type IN ('FOREIGN_WRITE', 'RESTORED_DATABASE') AND state != 'resolved' ORDER BY id`).all() as {
        id: number;
        type: 'FOREIGN_WRITE' | 'RESTORED_DATABASE';
        detected_at: string;
      }[];
    },

    /** Calls waiting to be sent: planned, or failed and due again (a failed call with no retry waits for a person). */
    waiting(): number {
      return (
        q(`SELECT count(*) AS n FROM intents WHERE kind IN (SELECT value FROM json_each(@kinds))
             AND (state = 'planned' OR (state = 'failed' AND next_attempt_at IS NOT NULL))`).get({ kinds: JSON.stringify(allKinds) }) as { n: number }
      ).n;
    },

    suggestions(input: SuggestionsQuery): { rows: SuggestionRow[]; total: number; totalIsCapped: boolean; offset: number } {
      const parts = [`m.status IN ('suggested', 'ambiguous')`];
      const params: Record<string, string> = {};
      if (input.filter.kind) {
        parts.push('m.kind = @kind');
        params.kind = input.filter.kind;
      }
      if (input.filter.returnId) {
        parts.push('m.return_id = @returnId');
        params.returnId = input.filter.returnId;
      }
      const where = `WHERE ${parts.join(' AND ')}`;
      const rows = q(`SELECT m.kind, m.subject, m.candidate, m.status, m.basis, m.rank, m.return_id AS returnId, r.commercial_id AS commercialId,
            CASE m.kind
              WHEN 'refund_line' THEN (SELECT printf('Mirakl refund %s: %.2f %s%s, %s', f.id, f.amount_minor / 100.0, o.currency, CASE WHEN f.quantity > 0 THEN printf(', %d unit(s)', f.quantity) ELSE '' END, f.refund_state)
                                       FROM mirakl_refunds f LEFT JOIN mirakl_order_lines ol ON ol.order_line_id = f.order_line_id
                                       LEFT JOIN mirakl_orders o ON o.order_id = ol.order_id WHERE f.id = m.subject)
              ELSE (SELECT printf('ReBound item %s: SKU %s%s, not expected', i.rebound_item_id, i.sku, CASE WHEN i.grade IS NULL THEN '' ELSE ', grade ' || i.grade END)
                    FROM rebound_items i WHERE i.rebound_item_id = m.subject)
            END AS detail
          FROM recon_matches m LEFT JOIN mirakl_returns r ON r.id = m.return_id
          ${where} ORDER BY m.return_id, m.kind, m.subject, m.rank LIMIT @limit OFFSET @offset`).all({ ...params, limit: input.page.limit, offset: input.page.offset }) as (Omit<SuggestionRow, 'detail'> & { detail: string | null })[];
      const total = (q(`SELECT count(*) AS n FROM (SELECT 1 FROM recon_matches m ${where} LIMIT ${totalCap + 1})`).get(params) as { n: number }).n;
      return {
        rows: rows.map((r) => ({ ...r, detail: r.detail ?? `${r.kind === 'refund_line' ? 'Mirakl refund' : 'ReBound item'} ${r.subject}` })),
        total: Math.min(total, totalCap),
        totalIsCapped: total > totalCap,
        offset: input.page.offset,
      };
    },
  };
}
export type OperationsRepo = ReturnType<typeof createOperationsRepo>;

function toOutgoing(r: IntentListRow): OutgoingRow {
  const known = (intentKinds as Record<string, { system: 'mirakl' | 'rebound'; label: string }>)[r.kind];
  const outcome = r.outcome === null ? null : (JSON.parse(r.outcome) as Record<string, unknown> | null);
  return {
    id: r.id,
    kind: r.kind,
    label: known?.label ?? r.kind,
    system: known?.system ?? (r.kind.startsWith('rebound.') ? 'rebound' : 'mirakl'),
    state: r.state,
    attempts: r.attempts,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    probe: probeOf(r, outcome),
    returnId: r.is_return ? r.subject : null,
    subject: r.subject,
    orderLineId: r.order_line_id,
    amountMinor: typeof r.amount_minor === 'number' ? r.amount_minor : null,
    currency: typeof r.currency === 'string' ? r.currency : null,
  };
}

/** What reading the source of truth proved, in words, from what the ledger recorded when it settled the call. */
function probeOf(r: IntentListRow, outcome: Record<string, unknown> | null): string | null {
  if (r.state === 'uncertain') {
    return r.kind === 'mirakl.refund'
      ? "Not probed yet: Mirakl's refunds of the order line (OR11) are read before anything is sent again"
      : r.kind === 'rebound.createReturn'
        ? "Not probed yet: ReBound's return orders for the order are looked up before anything is sent again"
        : r.kind === 'stock.import'
          ? 'Not probed yet: the offers are read back before the stock is set again'
          : 'Not probed yet: the source of truth is read at the next cycle';
  }
  if (outcome?.via === 'probe') return `Probed: Mirakl shows the refund${typeof outcome.refundId === 'string' ? ` ${outcome.refundId}` : ''}; it went through`;
  if (outcome?.via === 'person') return `Settled by ${typeof outcome.by === 'string' ? outcome.by : 'a person'}`;
  if (outcome?.adopted === true) return 'Found in ReBound: an earlier call had created it';
  if (r.kind === 'stock.import' && outcome?.status === 'SETTLED') return 'Probed: the offers were read back';
  if (r.last_error && /shows no such refund|no return order found/.test(r.last_error)) return `Probed: not applied, so sent again (${r.last_error})`;
  return null;
}

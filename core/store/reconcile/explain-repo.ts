import type { Statement } from 'better-sqlite3';

// What the explainer reads about one return, beyond what the Mirakl store and the intents already answer. Only reads:
// statements come from the caller's per-connection cache (the domain context's), so each is compiled once.

export interface StatementSource {
  q(sql: string): Statement;
}

export interface ReturnStateRow {
  id: number;
  state: string;
  last_updated: string;
  seen_at: string;
}

export interface ReturnOrderRow {
  rebound_order_id: string;
  status: string;
  tracking_number: string | null;
  carrier: string | null;
  created_at: string;
}

export interface ReboundEventRow {
  key: string;
  source: 'webhook' | 'poll';
  type: string;
  status: string | null;
  occurred_at: string | null;
  received_at: string;
  outcome: string;
}

export interface UnitRow {
  id: string;
  order_line_id: string;
  offer_sku: string;
  stage: string;
  grade: string | null;
  is_sellable: number | null;
  received_sku: string | null;
  registered_at: string | null;
  graded_at: string | null;
  updated_at: string;
}

export interface StockRow {
  unit_id: string;
  offer_sku: string;
  state: string;
  note: string | null;
  created_at: string;
  updated_at: string;
}

export interface ReturnExceptionRow {
  id: number;
  type: string;
  state: string;
  owner_team: string;
  assignee: string | null;
  cause: string;
  detected_at: string;
  resolved_at: string | null;
  resolution: string | null;
  resolved_by: string | null;
}

export interface ExceptionNoteRow {
  id: number;
  at: string;
  author: string;
  body: string;
}

export interface AuditEntryRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  before: string | null;
  after: string | null;
  reason: string | null;
}

export function explainReads({ q }: StatementSource) {
  return {
    currencyOf: (orderId: string): string | null =>
      (q('SELECT currency FROM mirakl_orders WHERE order_id = ?').get(orderId) as { currency: string } | undefined)?.currency ?? null,
    /** Each Mirakl state of the return as we saw it, in the order we saw them. */
    returnStates: (returnId: string) =>
      q('SELECT id, state, last_updated, seen_at FROM mirakl_return_states WHERE return_id = ? ORDER BY id').all(returnId) as ReturnStateRow[],
    returnOrder: (returnId: string) =>
      q('SELECT rebound_order_id, status, tracking_number, carrier, created_at FROM rebound_return_orders WHERE return_id = ?').get(returnId) as ReturnOrderRow | undefined,
    reboundEvents: (reboundOrderId: string) =>
      q(`SELECT key, source, type, status, occurred_at, received_at, outcome FROM rebound_events WHERE rebound_order_id = ? ORDER BY received_at, key`).all(
        reboundOrderId,
      ) as ReboundEventRow[],
    units: (returnId: string) =>
      q(`SELECT id, order_line_id, offer_sku, stage, grade, is_sellable, received_sku, registered_at, graded_at, updated_at FROM units WHERE return_id = ? ORDER BY order_line_id, id`).all(
        returnId,
      ) as UnitRow[],
    stockIncrements: (returnId: string) =>
      q(`SELECT s.unit_id, s.offer_sku, s.state, s.note, s.created_at, s.updated_at FROM units u JOIN stock_increments s ON s.unit_id = u.id
        WHERE u.return_id = ? ORDER BY s.unit_id`).all(returnId) as StockRow[],
    exceptions: (returnId: string) =>
      q(`SELECT id, type, state, owner_team, assignee, cause, detected_at, resolved_at, resolution, resolved_by FROM exceptions WHERE return_id = ? ORDER BY id`).all(
        returnId,
      ) as ReturnExceptionRow[],
    notes: (exceptionId: number) =>
      q('SELECT id, at, author, body FROM exception_notes WHERE exception_id = ? ORDER BY id').all(exceptionId) as ExceptionNoteRow[],
    audit: (subject: string) => q('SELECT seq, at, actor, action, before, after, reason FROM audit_log WHERE subject = ? ORDER BY seq').all(subject) as AuditEntryRow[],
    intakeStage: (returnId: string) => (q('SELECT stage FROM return_intake WHERE return_id = ?').get(returnId) as { stage: string } | undefined)?.stage,
    /** The cause of the open REFUND_AMOUNT_MISMATCH of this return line, if there is one. */
    openMismatchCause: (returnId: string, orderLineId: string) =>
      (
        q(`SELECT cause FROM exceptions WHERE type = 'REFUND_AMOUNT_MISMATCH' AND subject_key = ? AND state != 'resolved'`).get(`${returnId}:${orderLineId}`) as
          | { cause: string }
          | undefined
      )?.cause,
  };
}

export type ExplainReads = ReturnType<typeof explainReads>;

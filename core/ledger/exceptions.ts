import type { Database, Statement } from 'better-sqlite3';
import type { Clock } from '../ports';
import { exceptionTypes, type ExceptionTypeName } from '../exceptions/catalogue';

// At most one open exception per (type, subject): raising again refreshes the cause instead of duplicating, and
// an exception resolves itself, with the reason recorded, when the sources converge. A person's resolution is
// recorded with who and why, and no pass undoes it while the divergence it accepted still holds.

export const severityRank = { critical: 4, high: 3, medium: 2, low: 1 } as const;

export interface RaiseInput {
  type: ExceptionTypeName;
  subjectKey: string;
  cause: string;
  returnId?: string | null;
  orderLineId?: string | null;
  offerSku?: string | null;
  slaDueAt?: number | null;
}

export interface ExceptionRecord {
  id: number;
  type: ExceptionTypeName;
  subject_key: string;
  state: 'open' | 'in_review' | 'snoozed' | 'resolved';
  assignee: string | null;
  owner_team: string;
  return_id: string | null;
  order_line_id: string | null;
  offer_sku: string | null;
  snoozed_until: string | null;
  resolution: string | null;
}

export interface ExceptionNote {
  id: number;
  at: string;
  author: string;
  body: string;
}

export function createExceptionStore(db: Database, clock: Clock) {
  const iso = () => new Date(clock.now()).toISOString();
  const insert = db.prepare(`INSERT INTO exceptions (type, subject_key, severity, severity_rank, owner_team, state, return_id, order_line_id, offer_sku,
      cause, next_action, detected_at, sla_due_at, updated_at)
    VALUES (@type, @subjectKey, @severity, @severityRank, @owner, 'open', @returnId, @orderLineId, @offerSku, @cause, @nextAction, @now, @slaDueAt, @now)
    ON CONFLICT (type, subject_key) WHERE state != 'resolved' DO UPDATE SET cause = excluded.cause, updated_at = excluded.updated_at`);
  const resolve = db.prepare(`UPDATE exceptions SET state = 'resolved', resolved_at = @now, resolved_by = 'auto', resolution = @reason, updated_at = @now
    WHERE type = @type AND subject_key = @subjectKey AND state != 'resolved'`);
  const open = db.prepare(`SELECT * FROM exceptions WHERE state != 'resolved' AND (@type IS NULL OR type = @type) ORDER BY id`);
  const isOpen = db.prepare(`SELECT 1 FROM exceptions WHERE type = ? AND subject_key = ? AND state != 'resolved'`);

  // People's side: the states a person moves an exception through, and what a resolution leaves behind. Prepared on
  // first use: a context that never acts for a person (the engine's, a bundle's) never compiles them.
  const later = (sql: string) => {
    let statement: Statement | undefined;
    return () => (statement ??= db.prepare(sql));
  };
  const byId = later('SELECT * FROM exceptions WHERE id = ?');
  const snooze = later(`UPDATE exceptions SET state = 'snoozed', snoozed_until = @until, updated_at = @now WHERE id = @id AND state != 'resolved'`);
  const toReview = later(`UPDATE exceptions SET state = 'in_review', snoozed_until = NULL, updated_at = @now WHERE id = @id AND state IN ('open', 'snoozed')`);
  const resolveBy = later(`UPDATE exceptions SET state = 'resolved', resolved_at = @now, resolved_by = @actor, resolution = @resolution, updated_at = @now
    WHERE id = @id AND state != 'resolved'`);
  const openId = later(`SELECT id FROM exceptions WHERE type = ? AND subject_key = ? AND state != 'resolved'`);
  const reopen = later(`UPDATE exceptions SET state = 'open', resolved_at = NULL, resolved_by = NULL, resolution = NULL, snoozed_until = NULL, updated_at = ? WHERE id = ?`);
  const escalate = later(`UPDATE exceptions SET owner_team = 'finance', state = 'in_review', updated_at = ? WHERE id = ?`);
  const assign = later('UPDATE exceptions SET assignee = ?, updated_at = ? WHERE id = ?');
  const acceptWatch = later(`UPDATE recon_watch SET state = 'accepted' WHERE type = @type AND subject_key = @subjectKey`);
  const unacceptWatch = later(`UPDATE recon_watch SET state = 'raised' WHERE type = @type AND subject_key = @subjectKey AND state = 'accepted'`);
  const addNote = later('INSERT INTO exception_notes (exception_id, at, author, body) VALUES (@id, @now, @author, @body)');
  const notes = later('SELECT id, at, author, body FROM exception_notes WHERE exception_id = ? ORDER BY id');
  const openOfOffer = later(`SELECT * FROM exceptions WHERE type = ? AND offer_sku = ? AND state != 'resolved' ORDER BY id`);

  // What a person's action asks the engine to do again (it is the engine that then acts, through its own guards). Each
  // condition is written once and serves both the change and the question asked before it is offered or made.
  const retryableStage = `stage NOT IN ('in_flight', 'done', 'skipped')`;
  const reprocessableStage = `stage IN ('blocked', 'awaiting_order')`;
  const retryIntake = later(`UPDATE return_intake SET next_attempt_at = ?, order_wait_until = CASE WHEN stage = 'awaiting_order' THEN ? ELSE order_wait_until END, updated_at = ?
    WHERE return_id = ? AND ${retryableStage}`);
  const reprocessIntake = later(`UPDATE return_intake SET next_attempt_at = ?, updated_at = ? WHERE return_id = ? AND ${reprocessableStage}`);
  const isRetryable = later(`SELECT 1 FROM return_intake WHERE return_id = ? AND ${retryableStage}`);
  const isReprocessable = later(`SELECT 1 FROM return_intake WHERE return_id = ? AND ${reprocessableStage}`);
  const resyncReturnOrder = later(`UPDATE rebound_return_orders SET synced_at = '1970-01-01T00:00:00.000Z', is_open = 1 WHERE return_id = ?`);

  function openOtherThan(e: Pick<ExceptionRecord, 'id' | 'type' | 'subject_key'>): number | null {
    const other = openId().get(e.type, e.subject_key) as { id: number } | undefined;
    return other && other.id !== e.id ? other.id : null;
  }

  return {
    raise(input: RaiseInput): void {
      const type = exceptionTypes[input.type];
      insert.run({
        type: input.type,
        subjectKey: input.subjectKey,
        severity: type.severity,
        severityRank: severityRank[type.severity],
        owner: type.owner,
        returnId: input.returnId ?? null,
        orderLineId: input.orderLineId ?? null,
        offerSku: input.offerSku ?? null,
        cause: input.cause,
        nextAction: type.nextAction,
        slaDueAt: input.slaDueAt ? new Date(input.slaDueAt).toISOString() : null,
        now: iso(),
      });
    },
    /** Resolves the open exception of this type and subject, if any, recording why. */
    autoResolve(type: ExceptionTypeName, subjectKey: string, reason: string): boolean {
      return resolve.run({ type, subjectKey, reason: `auto: ${reason}`, now: iso() }).changes > 0;
    },
    isOpen: (type: ExceptionTypeName, subjectKey: string): boolean => Boolean(isOpen.get(type, subjectKey)),
    listOpen: (type?: ExceptionTypeName) =>
      open.all({ type: type ?? null }) as { id: number; type: string; subject_key: string; cause: string; return_id: string | null; order_line_id: string | null }[],

    get: (id: number): ExceptionRecord | undefined => byId().get(id) as ExceptionRecord | undefined,
    /** The open exceptions of this type about one offer (offer_sku), oldest first. */
    openOfOffer: (type: ExceptionTypeName, offerSku: string): ExceptionRecord[] => openOfOffer().all(type, offerSku) as ExceptionRecord[],
    notes: (id: number): ExceptionNote[] => notes().all(id) as ExceptionNote[],

    /**
     * A person's action and its audit entry land together or not at all: `change` runs in one transaction (nested in
     * the caller's, if any).
     */
    atomically<T>(change: () => T): T {
      return db.transaction(change)();
    },

    /** Only an open or snoozed exception is taken into review; one in review stays as it is, a resolved one resolved. */
    takeIntoReview(id: number): void {
      toReview().run({ id, now: iso() });
    },

    /** A resolved exception is never snoozed; a snoozed one is opened again by the first pass at or after `untilIso`. */
    snooze(id: number, untilIso: string): void {
      snooze().run({ id, until: untilIso, now: iso() });
    },

    /**
     * A person's resolution is recorded with who and why, and never undone by a pass while the divergence holds: its
     * watch is accepted, so it comes back only if the sources converge and then diverge again. False if already resolved.
     */
    resolveByPerson(e: Pick<ExceptionRecord, 'id' | 'type' | 'subject_key'>, actor: string, resolution: string): boolean {
      if (resolveBy().run({ id: e.id, now: iso(), actor, resolution }).changes !== 1) return false;
      acceptWatch().run({ type: e.type, subjectKey: e.subject_key });
      return true;
    },

    /**
     * A person retried the failed call this exception is about: it is closed by the retry (resolved by 'auto', its
     * watch not accepted), so a new refusal raises a new exception.
     */
    resolveRetried(id: number, resolution: string): void {
      resolveBy().run({ id, now: iso(), actor: 'auto', resolution });
    },

    /**
     * At most one open exception per (type, subject): a resolved one is reopened only if no other is open for the same
     * subject (returns that one's id instead), and its watch is raised again so the pass judges it afresh.
     */
    reopen(e: Pick<ExceptionRecord, 'id' | 'type' | 'subject_key'>): { alreadyOpen: number } | null {
      const other = openOtherThan(e);
      if (other) return { alreadyOpen: other };
      reopen().run(iso(), e.id);
      unacceptWatch().run({ type: e.type, subjectKey: e.subject_key });
      return null;
    },

    /** Another exception open for the same type and subject (which a reopen would duplicate), or null. */
    openOtherThan,

    /** An escalated exception is finance's and in review, with a note saying who escalated it and why. */
    escalateToFinance(id: number, author: string, reason: string | null): void {
      escalate().run(iso(), id);
      addNote().run({ id, now: iso(), author, body: `Escalated to finance${reason ? `: ${reason}` : ''}` });
    },

    /** Who looks after it: changes nothing of what the engine does or of when the exception resolves. */
    assign(id: number, assignee: string | null): void {
      assign().run(assignee, iso(), id);
    },

    /** Notes are only ever added, with their author and time. Returns the note's id. */
    addNote(id: number, author: string, body: string): number {
      return Number(addNote().run({ id, now: iso(), author, body }).lastInsertRowid);
    },

    /**
     * Brings forward the next attempt of a return the engine is still bringing in (and its wait for the order, when it
     * is waiting for one); a return in flight, done or skipped is never restarted. False if there was none.
     */
    retryIntake(returnId: string | null, orderWaitUntil: string): boolean {
      const now = iso();
      return retryIntake().run(now, orderWaitUntil, now, returnId).changes > 0;
    },

    /** Whether `retryIntake` would bring this return's next attempt forward (it is still being brought in). */
    isIntakeRetryable: (returnId: string | null): boolean => Boolean(isRetryable().get(returnId)),

    /** Whether `reprocessIntake` would check this return again (it is held for a mapping or its order). */
    isIntakeReprocessable: (returnId: string | null): boolean => Boolean(isReprocessable().get(returnId)),

    /** Checks again, at the next cycle, only a return held back waiting for a mapping or its order. False if it is not. */
    reprocessIntake(returnId: string | null): boolean {
      const now = iso();
      return reprocessIntake().run(now, now, returnId).changes > 0;
    },

    /** Only when ReBound's return order was last read changes: it is read again at the next poll, never edited by hand. */
    resyncReturnOrder(returnId: string | null): void {
      resyncReturnOrder().run(returnId);
    },
  };
}

export type ExceptionStore = ReturnType<typeof createExceptionStore>;

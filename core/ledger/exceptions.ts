import type { Database } from 'better-sqlite3';
import type { Clock } from '../ports';
import { exceptionTypes, type ExceptionTypeName } from './catalogue';

// At most one open exception per (type, subject): raising again refreshes the cause instead of duplicating, and
// an exception resolves itself, with the reason recorded, when the sources converge.

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
  };
}

export type ExceptionStore = ReturnType<typeof createExceptionStore>;

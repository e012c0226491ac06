import type { Database } from 'better-sqlite3';
import type { AuditRow } from '../contract';

// The audit log as the UI reads it: newest first, paged and filtered in SQL. Only reads: the log is append-only.

export interface AuditListQuery {
  offset: number;
  limit: number;
  subject?: string | undefined;
  actor?: string | undefined;
  action?: string | undefined;
}

interface StoredRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  reason: string | null;
  before: string | null;
  after: string | null;
}

const where = `WHERE (@subject IS NULL OR subject = @subject) AND (@actor IS NULL OR actor = @actor) AND (@action IS NULL OR action = @action)`;

export function createAuditQueries(db: Database) {
  const page = db.prepare(`SELECT seq, at, actor, action, subject, reason, before, after FROM audit_log ${where} ORDER BY seq DESC LIMIT @limit OFFSET @offset`);
  const count = db.prepare(`SELECT count(*) AS n FROM audit_log ${where}`);
  const parse = (text: string | null): unknown => {
    if (text === null) return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  };
  return {
    list(query: AuditListQuery): { rows: AuditRow[]; total: number } {
      const filter = { subject: query.subject ?? null, actor: query.actor ?? null, action: query.action ?? null };
      const rows = (page.all({ ...filter, limit: query.limit, offset: query.offset }) as StoredRow[]).map((r) => ({
        seq: r.seq,
        at: r.at,
        actor: r.actor,
        action: r.action,
        subject: r.subject,
        reason: r.reason,
        before: parse(r.before),
        after: parse(r.after),
      }));
      return { rows, total: (count.get(filter) as { n: number }).n };
    },
  };
}

import type { Database } from 'better-sqlite3';

// The audit_log table. Rows are only ever added (triggers refuse UPDATE and DELETE); the hash chain over them is
// kept, and checked, by core/audit/log.ts.

/** One entry as stored: `before` and `after` are JSON text. */
export interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  before: string | null;
  after: string | null;
  reason: string | null;
  prev_hash: string;
  hash: string;
}

export function createAuditRepo(db: Database) {
  const last = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  const insert = db.prepare(`INSERT INTO audit_log (seq, at, actor, action, subject, before, after, reason, prev_hash, hash)
    VALUES (@seq, @at, @actor, @action, @subject, @before, @after, @reason, @prev_hash, @hash)`);
  const all = db.prepare('SELECT * FROM audit_log ORDER BY seq');
  const forSubject = db.prepare('SELECT * FROM audit_log WHERE subject = ? ORDER BY seq');
  return {
    /** The newest entry: the one the next must follow. */
    last: () => last.get() as { seq: number; hash: string } | undefined,
    insert: (row: AuditRow) => void insert.run(row),
    all: () => all.all() as AuditRow[],
    forSubject: (subject: string) => forSubject.all(subject) as AuditRow[],
  };
}

export type AuditRepo = ReturnType<typeof createAuditRepo>;

/**
 * The reads behind an evidence bundle's segment of the log and the bundle viewer's check of it. Each statement is
 * prepared when it is used: a bundle is made rarely, and a bundle's snapshot may not hold the table at all.
 */
export function createAuditChainReads(db: Database) {
  return {
    /** The first entry made at or after `at`, or null when there is none. */
    firstSeqFrom: (at: string) => (db.prepare('SELECT min(seq) AS seq FROM audit_log WHERE at >= ?').get(at) as { seq: number | null }).seq,
    head: () => db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined,
    rowsFrom: (seq: number) =>
      db.prepare('SELECT seq, at, actor, action, subject, before, after, reason, prev_hash, hash FROM audit_log WHERE seq >= ? ORDER BY seq').all(seq) as AuditRow[],
    /** The hash of the entry just before `seq`, if there is one. */
    hashBefore: (seq: number) => (db.prepare('SELECT hash FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT 1').get(seq) as { hash: string } | undefined)?.hash,
    /** Every entry, in order. */
    rows: () => db.prepare('SELECT seq, at, actor, action, subject, before, after, reason, prev_hash, hash FROM audit_log ORDER BY seq').all() as AuditRow[],
  };
}

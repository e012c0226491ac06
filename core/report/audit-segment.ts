import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { genesisHash } from '../audit/log';

// The part of the audit log an evidence bundle carries: every entry from the first one made in the period up to the
// newest at the time of the bundle (so the lock, and anything done since, are in it), with the hash of the entry
// just before it as the anchor. The chain can then be checked offline from the anchor, exactly as the app checks the
// whole log (core/audit/log.ts computes each row's hash the same way).

export interface AuditSegmentRow {
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

export interface AuditSegment {
  fromSeq: number | null;
  toSeq: number | null;
  /** The hash the first entry must follow (the entry before the segment, or the genesis hash). */
  anchorHash: string;
  /** The newest entry's hash when the segment was taken. */
  headHash: string;
  rows: AuditSegmentRow[];
}

/** The same kinds of break the live audit log reports. */
export interface ChainProblem {
  seq: number;
  kind: 'edited' | 'missing_or_reordered' | 'sequence_gap';
  detail: string;
}

/** sha256(previous hash + "\n" + canonical content): the same as the live audit log's. */
export function auditRowHash(prevHash: string, row: Omit<AuditSegmentRow, 'prev_hash' | 'hash'>): string {
  const content = JSON.stringify([row.seq, row.at, row.actor, row.action, row.subject, row.before, row.after, row.reason]);
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

export function readAuditSegment(db: Database, fromAt: string): AuditSegment {
  const first = db.prepare('SELECT min(seq) AS seq FROM audit_log WHERE at >= ?').get(fromAt) as { seq: number | null };
  const head = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
  if (first.seq === null || !head) {
    return { fromSeq: null, toSeq: null, anchorHash: head?.hash ?? genesisHash, headHash: head?.hash ?? genesisHash, rows: [] };
  }
  const rows = db.prepare('SELECT seq, at, actor, action, subject, before, after, reason, prev_hash, hash FROM audit_log WHERE seq >= ? ORDER BY seq').all(first.seq) as AuditSegmentRow[];
  const before = db.prepare('SELECT hash FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT 1').get(first.seq) as { hash: string } | undefined;
  return { fromSeq: first.seq, toSeq: head.seq, anchorHash: before?.hash ?? genesisHash, headHash: head.hash, rows };
}

/** Every place the segment's chain does not hold, starting from its anchor. */
export function verifyAuditSegment(segment: Pick<AuditSegment, 'anchorHash' | 'rows' | 'fromSeq'>): ChainProblem[] {
  const problems: ChainProblem[] = [];
  let prevHash = segment.anchorHash;
  let expectedSeq = segment.fromSeq ?? segment.rows[0]?.seq ?? 0;
  for (const row of segment.rows) {
    if (row.seq !== expectedSeq) problems.push({ seq: row.seq, kind: 'sequence_gap', detail: `expected entry ${expectedSeq}, found ${row.seq}: an entry was removed or reordered` });
    if (row.prev_hash !== prevHash) problems.push({ seq: row.seq, kind: 'missing_or_reordered', detail: 'does not follow the entry before it: one was removed, inserted or moved' });
    const { prev_hash: _p, hash: _h, ...content } = row;
    if (auditRowHash(row.prev_hash, content) !== row.hash) problems.push({ seq: row.seq, kind: 'edited', detail: 'its content no longer matches its hash: the entry was edited' });
    prevHash = row.hash;
    expectedSeq = row.seq + 1;
  }
  return problems;
}

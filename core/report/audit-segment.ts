import type { Database } from 'better-sqlite3';
import { genesisHash, verifyChain, type AuditRow, type ChainProblem } from '../audit/log';

// The part of the audit log an evidence bundle carries: every entry from the first one made in the period up to the
// newest at the time of the bundle (so the lock, and anything done since, are in it), with the hash of the entry
// just before it as the anchor. The chain can then be checked offline from the anchor, exactly as the app checks the
// whole log, with the same code (core/audit/log.ts).

export type AuditSegmentRow = AuditRow;

export interface AuditSegment {
  fromSeq: number | null;
  toSeq: number | null;
  /** The hash the first entry must follow (the entry before the segment, or the genesis hash). */
  anchorHash: string;
  /** The newest entry's hash when the segment was taken. */
  headHash: string;
  rows: AuditSegmentRow[];
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

/** Every place the segment's chain does not hold, starting from its anchor (the live log's own check). */
export function verifyAuditSegment(segment: Pick<AuditSegment, 'anchorHash' | 'rows' | 'fromSeq'>): ChainProblem[] {
  return verifyChain(segment.rows, segment.anchorHash, segment.fromSeq ?? segment.rows[0]?.seq ?? 0);
}

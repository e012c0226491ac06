import { genesisHash, verifyChain, type AuditRow, type ChainProblem } from '../audit/log';
import { createAuditChainReads } from '../store/audit-repo';
import type { Store } from '../store/db';

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

export function readAuditSegment(db: Store['db'], fromAt: string): AuditSegment {
  const log = createAuditChainReads(db);
  const first = log.firstSeqFrom(fromAt);
  const head = log.head();
  if (first === null || !head) {
    return { fromSeq: null, toSeq: null, anchorHash: head?.hash ?? genesisHash, headHash: head?.hash ?? genesisHash, rows: [] };
  }
  const rows = log.rowsFrom(first);
  const before = log.hashBefore(first);
  return { fromSeq: first, toSeq: head.seq, anchorHash: before ?? genesisHash, headHash: head.hash, rows };
}

/** Every place the segment's chain does not hold, starting from its anchor (the live log's own check). */
export function verifyAuditSegment(segment: Pick<AuditSegment, 'anchorHash' | 'rows' | 'fromSeq'>): ChainProblem[] {
  return verifyChain(segment.rows, segment.anchorHash, segment.fromSeq ?? segment.rows[0]?.seq ?? 0);
}

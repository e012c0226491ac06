import { createHash } from 'node:crypto';
import type { Clock } from '../ports';
import { createAuditRepo, type AuditRow } from '../store/audit-repo';
import type { Store } from '../store/db';

// The audit log is append-only (triggers refuse UPDATE and DELETE) and hash-chained: each row's hash is
// sha256(previous hash + the row's canonical content). Anyone able to write the file could bypass the triggers;
// the chain is what makes that visible, and verify() says where it breaks.

export const genesisHash = '0'.repeat(64);

export interface AuditEntry {
  actor: string;
  action: string;
  subject: string;
  before?: unknown;
  after?: unknown;
  reason?: string | null;
}

export type { AuditRow };

export type ChainProblem = { seq: number; kind: 'edited' | 'missing_or_reordered' | 'sequence_gap'; detail: string };

/** sha256(previous hash + "\n" + canonical content): each row's hash covers the one before it. */
export function auditRowHash(prevHash: string, row: Omit<AuditRow, 'prev_hash' | 'hash'>): string {
  const content = JSON.stringify([row.seq, row.at, row.actor, row.action, row.subject, row.before, row.after, row.reason]);
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

/**
 * Every place a run of the chain does not hold: `rows` in seq order, the first following `anchorHash` and numbered
 * `firstSeq` (the whole log: the genesis hash and 1; an evidence bundle's segment: the entry before it).
 */
export function verifyChain(rows: AuditRow[], anchorHash: string, firstSeq: number): ChainProblem[] {
  const problems: ChainProblem[] = [];
  let prevHash = anchorHash;
  let expectedSeq = firstSeq;
  for (const row of rows) {
    if (row.seq !== expectedSeq) problems.push({ seq: row.seq, kind: 'sequence_gap', detail: `expected entry ${expectedSeq}, found ${row.seq}: an entry was removed or reordered` });
    if (row.prev_hash !== prevHash) problems.push({ seq: row.seq, kind: 'missing_or_reordered', detail: 'does not follow the entry before it: one was removed, inserted or moved' });
    const { prev_hash: _p, hash: _h, ...content } = row;
    if (auditRowHash(row.prev_hash, content) !== row.hash) problems.push({ seq: row.seq, kind: 'edited', detail: 'its content no longer matches its hash: the entry was edited' });
    prevHash = row.hash;
    expectedSeq = row.seq + 1;
  }
  return problems;
}

export function createAuditLog(db: Store['db'], clock: Clock) {
  const repo = createAuditRepo(db);

  return {
    /** Appends one entry. Call inside the transaction that makes the change, so both land or neither does. */
    append(entry: AuditEntry): { seq: number; hash: string } {
      const previous = repo.last();
      const row = {
        seq: (previous?.seq ?? 0) + 1,
        at: new Date(clock.now()).toISOString(),
        actor: entry.actor,
        action: entry.action,
        subject: entry.subject,
        before: entry.before === undefined ? null : JSON.stringify(entry.before),
        after: entry.after === undefined ? null : JSON.stringify(entry.after),
        reason: entry.reason ?? null,
      };
      const prevHash = previous?.hash ?? genesisHash;
      const hash = auditRowHash(prevHash, row);
      repo.insert({ ...row, prev_hash: prevHash, hash });
      return { seq: row.seq, hash };
    },

    entriesFor: (subject: string) => repo.forSubject(subject),

    /** Walks the whole chain and reports every place it does not hold. */
    verify(): { ok: boolean; entries: number; problems: ChainProblem[] } {
      const rows = repo.all();
      const problems = verifyChain(rows, genesisHash, 1);
      return { ok: problems.length === 0, entries: rows.length, problems };
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;

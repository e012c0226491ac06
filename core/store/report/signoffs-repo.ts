import type { Database } from 'better-sqlite3';

export interface SignOffRow {
  id: number;
  period: string;
  kind: 'prepared' | 'reviewed';
  signed_by: string;
  signed_at: string;
  note: string | null;
  facts_sha256: string;
  audit_seq: number;
  withdrawn_at: string | null;
  withdrawn_reason: string | null;
}

export function createSignOffsRepo(db: Database) {
  return {
    /** The period's sign-offs, the standing ones and those withdrawn, oldest first. */
    forPeriod: (period: string): SignOffRow[] => db.prepare<[string], SignOffRow>('SELECT * FROM report_signoffs WHERE period = ? ORDER BY id').all(period),
    insert(row: Omit<SignOffRow, 'id' | 'withdrawn_at' | 'withdrawn_reason'>): void {
      db.prepare(
        'INSERT INTO report_signoffs (period, kind, signed_by, signed_at, note, facts_sha256, audit_seq) VALUES (@period, @kind, @signed_by, @signed_at, @note, @facts_sha256, @audit_seq)',
      ).run(row);
    },
    withdraw(id: number, at: string, reason: string): void {
      db.prepare('UPDATE report_signoffs SET withdrawn_at = ?, withdrawn_reason = ? WHERE id = ? AND withdrawn_at IS NULL').run(at, reason, id);
    },
  };
}

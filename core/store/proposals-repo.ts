import type { Database } from 'better-sqlite3';
import type { Proposal } from '../contract';
import type { Clock } from '../ports';

// Maker-checker's proposals (migration 0022): a change one person asked for, kept as the command and input it would
// run, until another person approves (it runs once), rejects, or the maker withdraws it.

interface ProposalRow {
  id: number;
  command: string;
  input: string;
  summary: string;
  proposed_by: number;
  proposed_at: string;
  status: Proposal['status'];
  decided_by: number | null;
  decided_at: string | null;
  decision_reason: string | null;
  outcome: string | null;
}

export interface StoredProposal {
  id: number;
  command: string;
  input: unknown;
  summary: string;
  proposedBy: number;
  status: Proposal['status'];
}

export function createProposals(db: Database, clock: Clock, nameOf: (accountId: number) => string) {
  const iso = () => new Date(clock.now()).toISOString();
  const view = (row: ProposalRow): Proposal => ({
    id: row.id,
    command: row.command,
    summary: row.summary,
    input: JSON.parse(row.input) as unknown,
    proposedBy: nameOf(row.proposed_by),
    proposedAt: row.proposed_at,
    status: row.status,
    decidedBy: row.decided_by === null ? null : nameOf(row.decided_by),
    decidedAt: row.decided_at,
    decisionReason: row.decision_reason,
    outcome: row.outcome === null ? null : (JSON.parse(row.outcome) as unknown),
  });
  const one = db.prepare<[number], ProposalRow>('SELECT * FROM team_proposals WHERE id = ?');

  return {
    propose(command: string, input: unknown, summary: string, accountId: number): Proposal {
      const { lastInsertRowid } = db
        .prepare("INSERT INTO team_proposals (command, input, summary, proposed_by, proposed_at, status) VALUES (?, ?, ?, ?, ?, 'pending')")
        .run(command, JSON.stringify(input), summary, accountId, iso());
      return view(one.get(Number(lastInsertRowid))!);
    },

    get(id: number): StoredProposal | null {
      const row = one.get(id);
      return row ? { id: row.id, command: row.command, input: JSON.parse(row.input) as unknown, summary: row.summary, proposedBy: row.proposed_by, status: row.status } : null;
    },

    view(id: number): Proposal | null {
      const row = one.get(id);
      return row ? view(row) : null;
    },

    list(status: 'pending' | 'decided' | 'all'): Proposal[] {
      const where = status === 'pending' ? "WHERE status = 'pending'" : status === 'decided' ? "WHERE status <> 'pending'" : '';
      return db.prepare<[], ProposalRow>(`SELECT * FROM team_proposals ${where} ORDER BY id DESC LIMIT 500`).all().map(view);
    },

    /**
     * Moves a pending proposal to its decision; false when it is no longer pending (someone decided first). The one
     * statement is the claim: of two approvals at once, exactly one moves it, so the change runs once.
     */
    decide(id: number, status: 'approved' | 'rejected' | 'withdrawn', accountId: number, reason: string | null): boolean {
      return (
        db
          .prepare("UPDATE team_proposals SET status = ?, decided_by = ?, decided_at = ?, decision_reason = ? WHERE id = ? AND status = 'pending'")
          .run(status, accountId, iso(), reason, id).changes === 1
      );
    },

    /**
     * Proposals approved while a server stopped before their outcome was recorded: marked failed with `outcome`.
     * What each did (if anything) is in the audit log and the ledger; none is run again. Answers their ids.
     */
    failInterrupted(outcome: unknown): number[] {
      const ids = db.prepare<[], { id: number }>("SELECT id FROM team_proposals WHERE status = 'approved'").all().map((r) => r.id);
      for (const id of ids) db.prepare("UPDATE team_proposals SET status = 'failed', outcome = ? WHERE id = ? AND status = 'approved'").run(JSON.stringify(outcome), id);
      return ids;
    },

    /** What running an approved proposal gave. */
    finish(id: number, ok: boolean, outcome: unknown): void {
      db.prepare("UPDATE team_proposals SET status = ?, outcome = ? WHERE id = ? AND status = 'approved'").run(ok ? 'executed' : 'failed', JSON.stringify(outcome), id);
    },
  };
}
export type Proposals = ReturnType<typeof createProposals>;

import type { Database, Statement } from 'better-sqlite3';
import type { Clock } from '../../ports';

// The matcher only suggests; a person decides. A decision is kept: the matcher replaces only suggestions, and never
// suggests again a candidate a person rejected. A subject is linked to at most one candidate: confirming one drops the
// other suggestions for it.

export type MatchKind = 'refund_line' | 'item_unit';

export interface SuggestedMatch {
  status: string;
  return_id: string | null;
}

export function createMatchDecisions(db: Database, clock: Clock) {
  // Prepared on first use: most contexts (the engine's, a bundle's) never decide a match.
  const later = (sql: string) => {
    let statement: Statement | undefined;
    return () => (statement ??= db.prepare(sql));
  };
  const match = later('SELECT * FROM recon_matches WHERE kind = ? AND subject = ? AND candidate = ?');
  const refundLink = later(`SELECT return_id || ':' || order_line_id AS candidate FROM refund_links WHERE refund_id = ?`); // constant: pushed into the view
  const confirmed = later(`SELECT candidate FROM recon_matches WHERE kind = ? AND subject = ? AND status = 'confirmed'`);
  const decide = later('UPDATE recon_matches SET status = ?, decided_by = ?, decided_at = ? WHERE kind = ? AND subject = ? AND candidate = ?');
  const dropSuggestions = later(`DELETE FROM recon_matches WHERE kind = ? AND subject = ? AND status IN ('suggested', 'ambiguous')`);

  return {
    /** The match of `subject` to `candidate` the matcher wrote, whatever its status. */
    get: (kind: MatchKind, subject: string, candidate: string): SuggestedMatch | undefined =>
      match().get(kind, subject, candidate) as SuggestedMatch | undefined,

    /** What `subject` is already linked to: a refund by our own intent or a confirmed match, an item by a confirmed match. */
    linkedTo(kind: MatchKind, subject: string): string | undefined {
      const row = (kind === 'refund_line' ? refundLink().get(subject) : confirmed().get(kind, subject)) as { candidate: string } | undefined;
      return row?.candidate;
    },

    /** Records a person's decision on one match; a confirmation drops every other suggestion for the subject. */
    decide(kind: MatchKind, subject: string, candidate: string, status: 'confirmed' | 'rejected', actor: string): void {
      decide().run(status, actor, new Date(clock.now()).toISOString(), kind, subject, candidate);
      if (status === 'confirmed') dropSuggestions().run(kind, subject);
    },
  };
}

export type MatchDecisions = ReturnType<typeof createMatchDecisions>;

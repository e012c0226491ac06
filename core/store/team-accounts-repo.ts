import type { Database } from 'better-sqlite3';

// Team accounts and their sessions (migration 0022). A session is found by the SHA-256 of its token.

export interface AccountRow {
  id: number;
  username: string;
  display_name: string;
  password_hash: string;
  roles: string;
  created_at: string;
  created_by: string;
  must_change_password: number;
  disabled_at: string | null;
}

export interface SessionRow {
  account_id: number;
  expires_at: string;
  ended_at: string | null;
}

export function createTeamAccountsRepo(db: Database) {
  const byName = db.prepare<[string], AccountRow>('SELECT * FROM team_accounts WHERE username = ?');
  const byId = db.prepare<[number], AccountRow>('SELECT * FROM team_accounts WHERE id = ?');
  const endSessions = db.prepare('UPDATE team_sessions SET ended_at = ? WHERE account_id = ? AND ended_at IS NULL AND token_sha256 <> ?');
  return {
    count: (): number => (db.prepare('SELECT count(*) AS n FROM team_accounts').get() as { n: number }).n,
    all: (): AccountRow[] => db.prepare<[], AccountRow>('SELECT * FROM team_accounts ORDER BY username').all(),
    byName: (username: string): AccountRow | undefined => byName.get(username),
    byId: (id: number): AccountRow | undefined => byId.get(id),
    insert(row: Omit<AccountRow, 'id' | 'disabled_at' | 'must_change_password'>): void {
      db.prepare(
        'INSERT INTO team_accounts (username, display_name, password_hash, roles, created_at, created_by, must_change_password) VALUES (?, ?, ?, ?, ?, ?, 1)',
      ).run(row.username, row.display_name, row.password_hash, row.roles, row.created_at, row.created_by);
    },
    /** Applies the changes given; when it ends the account's sessions (all but `keepTokenSha256`), at `now`. */
    update(
      id: number,
      change: { displayName?: string; roles?: string; disabledAt?: string | null; passwordHash?: string; mustChange?: boolean },
      endSessionsAt: string | null,
      keepTokenSha256 = '',
    ): void {
      db.transaction(() => {
        if (change.displayName !== undefined) db.prepare('UPDATE team_accounts SET display_name = ? WHERE id = ?').run(change.displayName, id);
        if (change.roles !== undefined) db.prepare('UPDATE team_accounts SET roles = ? WHERE id = ?').run(change.roles, id);
        if (change.disabledAt !== undefined) db.prepare('UPDATE team_accounts SET disabled_at = ? WHERE id = ?').run(change.disabledAt, id);
        if (change.passwordHash !== undefined) {
          db.prepare('UPDATE team_accounts SET password_hash = ?, must_change_password = ? WHERE id = ?').run(change.passwordHash, change.mustChange ? 1 : 0, id);
        }
        if (endSessionsAt !== null) endSessions.run(endSessionsAt, id, keepTokenSha256);
      })();
    },
    insertSession(tokenSha256: string, accountId: number, createdAt: string, expiresAt: string): void {
      db.prepare('INSERT INTO team_sessions (token_sha256, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)').run(tokenSha256, accountId, createdAt, expiresAt);
    },
    session: (tokenSha256: string): SessionRow | undefined =>
      db.prepare<[string], SessionRow>('SELECT account_id, expires_at, ended_at FROM team_sessions WHERE token_sha256 = ?').get(tokenSha256),
    endSession(tokenSha256: string, at: string): void {
      db.prepare('UPDATE team_sessions SET ended_at = ? WHERE token_sha256 = ? AND ended_at IS NULL').run(at, tokenSha256);
    },
  };
}
export type TeamAccountsRepo = ReturnType<typeof createTeamAccountsRepo>;

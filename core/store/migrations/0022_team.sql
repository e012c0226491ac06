-- Team mode (issue 25): one server per shop runs the engine; people sign in to it from their own machines.
-- Accounts and their sessions are kept in the data folder's main database, beside the connections, so they hold across
-- restarts and across a switch between Sandbox and Live mode. A session is stored by the SHA-256 of its token only:
-- a copy of the database does not let anyone sign in.
CREATE TABLE team_accounts (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE COLLATE NOCASE,
  display_name TEXT NOT NULL,
  -- bcrypt, with its cost and salt inside.
  password_hash TEXT NOT NULL,
  -- JSON array of role names (core/team/roles.ts).
  roles TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  -- Set when a person must choose a new password at their next sign-in (a first or reset password).
  must_change_password INTEGER NOT NULL DEFAULT 1,
  disabled_at TEXT
) STRICT;

CREATE TABLE team_sessions (
  token_sha256 TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES team_accounts(id),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  ended_at TEXT
) STRICT;
CREATE INDEX team_sessions_account ON team_sessions(account_id);

-- Maker-checker: a change finance expects a second person to approve is kept here as the command it would run,
-- proposed by one account and decided by another; an approved proposal runs once, as its approver's action.
CREATE TABLE team_proposals (
  id INTEGER PRIMARY KEY,
  command TEXT NOT NULL,
  input TEXT NOT NULL,
  summary TEXT NOT NULL,
  proposed_by INTEGER NOT NULL REFERENCES team_accounts(id),
  proposed_at TEXT NOT NULL,
  -- pending → approved (running) → executed | failed; pending → rejected | withdrawn. A proposal left 'approved' was
  -- running when the server stopped: what it did is in the audit log and the ledger, never run twice.
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'executed', 'failed', 'rejected', 'withdrawn')),
  decided_by INTEGER REFERENCES team_accounts(id),
  decided_at TEXT,
  decision_reason TEXT,
  -- The command's answer (JSON) when it ran, or its error.
  outcome TEXT
) STRICT;
CREATE INDEX team_proposals_pending ON team_proposals(status) WHERE status = 'pending';

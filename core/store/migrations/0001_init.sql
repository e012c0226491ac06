-- Settings the user changes in the app (never secrets: those live only in the OS keychain).
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;

-- One row per background feed (RT11 poll, OR11 poll, ReBound events, stock flush, ...): its cadence and health.
CREATE TABLE feeds (
  feed TEXT PRIMARY KEY,
  label TEXT NOT NULL,
  cadence_seconds INTEGER NOT NULL CHECK (cadence_seconds >= 0),
  is_paused INTEGER NOT NULL DEFAULT 0 CHECK (is_paused IN (0, 1)),
  last_run_at TEXT,
  last_success_at TEXT,
  last_error TEXT,
  next_run_at TEXT
) STRICT;

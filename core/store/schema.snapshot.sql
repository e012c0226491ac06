-- table: feeds
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

-- table: schema_migrations
CREATE TABLE schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    applied_at TEXT NOT NULL
  ) STRICT;

-- table: settings
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;

-- Month-end. A locked period keeps the report it was closed with (its figures and their sha256) and the facts behind
-- them: one row per return, refund, receipt line, stock increment and exception the report counted. A later change
-- touching a locked period never edits that report: it is recorded once, as a post-close adjustment, and shown in
-- the first period still open when it was found. All three tables are append-only, like the audit log.

CREATE TABLE period_locks (
  period TEXT PRIMARY KEY CHECK (period GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]'),
  locked_at TEXT NOT NULL,
  locked_by TEXT NOT NULL,
  reason TEXT,
  -- The report as it was locked (JSON, exactly the bytes hashed) and the sha256 of those bytes and of its facts.
  report TEXT NOT NULL,
  report_sha256 TEXT NOT NULL,
  facts_sha256 TEXT NOT NULL,
  -- The audit entry that records the lock.
  audit_seq INTEGER NOT NULL
) STRICT;

CREATE TABLE period_lock_facts (
  period TEXT NOT NULL REFERENCES period_locks (period),
  family TEXT NOT NULL CHECK (family IN ('return', 'refund', 'line', 'stock', 'exception')),
  key TEXT NOT NULL,
  -- The fact as a JSON array, compared as text with the same fact computed later.
  fact TEXT NOT NULL,
  currency TEXT,
  amount_minor INTEGER NOT NULL,
  PRIMARY KEY (period, family, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE period_adjustments (
  id INTEGER PRIMARY KEY,
  -- The locked period the change touches, and the period whose report shows it.
  period TEXT NOT NULL REFERENCES period_locks (period),
  reported_in TEXT NOT NULL,
  family TEXT NOT NULL,
  key TEXT NOT NULL,
  change TEXT NOT NULL CHECK (change IN ('added', 'removed', 'changed')),
  before TEXT,
  after TEXT,
  currency TEXT,
  -- Money the change moves (after − before) and the fact's money after it, in minor units of `currency`.
  amount_minor INTEGER NOT NULL,
  after_amount_minor INTEGER,
  detected_at TEXT NOT NULL
) STRICT;
-- Each adjustment is measured from the last one of its fact (or from the locked fact), so none is counted twice.
CREATE INDEX period_adjustments_fact ON period_adjustments (period, family, key, id);
CREATE INDEX period_adjustments_reported ON period_adjustments (reported_in, id);

CREATE TRIGGER period_locks_no_update BEFORE UPDATE ON period_locks BEGIN SELECT RAISE(ABORT, 'a locked period is never edited'); END;
CREATE TRIGGER period_locks_no_delete BEFORE DELETE ON period_locks BEGIN SELECT RAISE(ABORT, 'a locked period is never edited'); END;
CREATE TRIGGER period_lock_facts_no_update BEFORE UPDATE ON period_lock_facts BEGIN SELECT RAISE(ABORT, 'a locked period is never edited'); END;
CREATE TRIGGER period_lock_facts_no_delete BEFORE DELETE ON period_lock_facts BEGIN SELECT RAISE(ABORT, 'a locked period is never edited'); END;
CREATE TRIGGER period_adjustments_no_update BEFORE UPDATE ON period_adjustments BEGIN SELECT RAISE(ABORT, 'period_adjustments is append-only'); END;
CREATE TRIGGER period_adjustments_no_delete BEFORE DELETE ON period_adjustments BEGIN SELECT RAISE(ABORT, 'period_adjustments is append-only'); END;

-- A month's report reads the refunds Mirakl dated in the month and the returns it closed in the month.
CREATE INDEX mirakl_refunds_created ON mirakl_refunds (date_created);
CREATE INDEX mirakl_returns_closed ON mirakl_returns (last_updated) WHERE state = 'CLOSED';

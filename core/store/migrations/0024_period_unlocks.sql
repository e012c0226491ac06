-- Reopening a locked month (issue 25: proposed by one person, approved by another on a team server). A reopened
-- month's lock is not lost: the lock as it was — its report (exactly the bytes hashed), both sha256 and the facts
-- frozen with it — moves into period_unlocks with who reopened it, who proposed it and why. Only then may the lock's
-- rows leave period_locks, so that the month can be locked again. Both history tables are append-only.

CREATE TABLE period_unlocks (
  id INTEGER PRIMARY KEY,
  period TEXT NOT NULL CHECK (period GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]'),
  -- The lock it ended, as period_locks held it.
  locked_at TEXT NOT NULL,
  locked_by TEXT NOT NULL,
  lock_reason TEXT,
  report TEXT NOT NULL,
  report_sha256 TEXT NOT NULL,
  facts_sha256 TEXT NOT NULL,
  lock_audit_seq INTEGER NOT NULL,
  -- Who reopened it (on a team server: the Approver who ran it), who proposed it (null when they are the same person),
  -- when, why, and the audit entry that records it.
  unlocked_at TEXT NOT NULL,
  unlocked_by TEXT NOT NULL,
  proposed_by TEXT,
  reason TEXT NOT NULL CHECK (trim(reason) <> ''),
  audit_seq INTEGER NOT NULL,
  -- The last post-close adjustment recorded before the reopening. The month's adjustments up to it belong to the
  -- ended lock: the reopened month's own report counts those changes now, so no later report shows them again.
  adjustments_through INTEGER NOT NULL
) STRICT;
CREATE INDEX period_unlocks_period ON period_unlocks (period, id);

CREATE TABLE period_unlock_facts (
  unlock_id INTEGER NOT NULL REFERENCES period_unlocks (id),
  family TEXT NOT NULL,
  key TEXT NOT NULL,
  fact TEXT NOT NULL,
  currency TEXT,
  amount_minor INTEGER NOT NULL,
  PRIMARY KEY (unlock_id, family, key)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER period_unlocks_no_update BEFORE UPDATE ON period_unlocks BEGIN SELECT RAISE(ABORT, 'period_unlocks is append-only'); END;
CREATE TRIGGER period_unlocks_no_delete BEFORE DELETE ON period_unlocks BEGIN SELECT RAISE(ABORT, 'period_unlocks is append-only'); END;
CREATE TRIGGER period_unlock_facts_no_update BEFORE UPDATE ON period_unlock_facts BEGIN SELECT RAISE(ABORT, 'period_unlock_facts is append-only'); END;
CREATE TRIGGER period_unlock_facts_no_delete BEFORE DELETE ON period_unlock_facts BEGIN SELECT RAISE(ABORT, 'period_unlock_facts is append-only'); END;

-- A lock still is never edited; it leaves period_locks only once period_unlocks holds it (and each of its facts) as it was.
DROP TRIGGER period_locks_no_delete;
CREATE TRIGGER period_locks_no_delete BEFORE DELETE ON period_locks
WHEN NOT EXISTS (SELECT 1 FROM period_unlocks u WHERE u.period = OLD.period AND u.locked_at = OLD.locked_at AND u.report = OLD.report AND u.report_sha256 = OLD.report_sha256)
BEGIN SELECT RAISE(ABORT, 'a locked period is never edited: it is only reopened, its lock kept in period_unlocks'); END;
DROP TRIGGER period_lock_facts_no_delete;
CREATE TRIGGER period_lock_facts_no_delete BEFORE DELETE ON period_lock_facts
WHEN NOT EXISTS (
  SELECT 1 FROM period_locks l
  JOIN period_unlocks u ON u.period = l.period AND u.locked_at = l.locked_at AND u.report_sha256 = l.report_sha256
  JOIN period_unlock_facts f ON f.unlock_id = u.id AND f.family = OLD.family AND f.key = OLD.key AND f.fact = OLD.fact
  WHERE l.period = OLD.period
)
BEGIN SELECT RAISE(ABORT, 'a locked period is never edited: it is only reopened, its lock kept in period_unlocks'); END;

-- The adjustments of a reopened month stay (append-only, the ended lock's history), so they can no longer reference
-- period_locks: the table is rebuilt without that reference, with its rows, indexes and triggers as they were.
CREATE TABLE period_adjustments_0024 (
  id INTEGER PRIMARY KEY,
  -- The locked period the change touches, and the period whose report shows it.
  period TEXT NOT NULL CHECK (period GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]'),
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
INSERT INTO period_adjustments_0024 (id, period, reported_in, family, key, change, before, after, currency, amount_minor, after_amount_minor, detected_at)
  SELECT id, period, reported_in, family, key, change, before, after, currency, amount_minor, after_amount_minor, detected_at FROM period_adjustments;
DROP TABLE period_adjustments;
ALTER TABLE period_adjustments_0024 RENAME TO period_adjustments;
CREATE INDEX period_adjustments_fact ON period_adjustments (period, family, key, id);
CREATE INDEX period_adjustments_reported ON period_adjustments (reported_in, id);
CREATE TRIGGER period_adjustments_no_update BEFORE UPDATE ON period_adjustments BEGIN SELECT RAISE(ABORT, 'period_adjustments is append-only'); END;
CREATE TRIGGER period_adjustments_no_delete BEFORE DELETE ON period_adjustments BEGIN SELECT RAISE(ABORT, 'period_adjustments is append-only'); END;

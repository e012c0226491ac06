-- Month-end sign-off (issue 25): a preparer and then a reviewer (another person) sign a finished month's report. Each
-- signature is bound to the facts it saw (the sha256 the period's lock uses); when the period's rows change those
-- facts change, and the signature is withdrawn, with when and why, for the month to be signed again.
CREATE TABLE report_signoffs (
  id INTEGER PRIMARY KEY,
  period TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('prepared', 'reviewed')),
  signed_by TEXT NOT NULL,
  signed_at TEXT NOT NULL,
  note TEXT,
  facts_sha256 TEXT NOT NULL,
  audit_seq INTEGER NOT NULL,
  withdrawn_at TEXT,
  withdrawn_reason TEXT
) STRICT;
CREATE INDEX report_signoffs_period ON report_signoffs(period, kind) WHERE withdrawn_at IS NULL;

-- table: api_budgets
CREATE TABLE api_budgets (
  key TEXT PRIMARY KEY,
  last_call_at INTEGER NOT NULL
) STRICT;

-- table: audit_log
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  before TEXT,
  after TEXT,
  reason TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
) STRICT;

-- table: engine_lease
CREATE TABLE engine_lease (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  epoch INTEGER NOT NULL,
  holder TEXT NOT NULL,
  acquired_at TEXT NOT NULL
, database_id TEXT, claims INTEGER NOT NULL DEFAULT 0) STRICT;

-- table: exception_notes
CREATE TABLE exception_notes (
  id INTEGER PRIMARY KEY,
  exception_id INTEGER NOT NULL REFERENCES exceptions (id),
  at TEXT NOT NULL,
  author TEXT NOT NULL,
  body TEXT NOT NULL
) STRICT;

-- table: exceptions
CREATE TABLE exceptions (
  id INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  subject_key TEXT NOT NULL,
  severity TEXT NOT NULL,
  owner_team TEXT NOT NULL,
  assignee TEXT,
  state TEXT NOT NULL CHECK (state IN ('open', 'in_review', 'snoozed', 'resolved')),
  return_id TEXT,
  order_line_id TEXT,
  offer_sku TEXT,
  cause TEXT NOT NULL,
  next_action TEXT NOT NULL,
  detected_at TEXT NOT NULL,
  sla_due_at TEXT,
  resolved_at TEXT,
  resolution TEXT,
  updated_at TEXT NOT NULL
, severity_rank INTEGER NOT NULL DEFAULT 0, snoozed_until TEXT, resolved_by TEXT) STRICT;

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

-- table: intents
CREATE TABLE intents (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  key TEXT NOT NULL UNIQUE,
  subject TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('planned', 'sending', 'confirmed', 'failed', 'uncertain')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  last_error TEXT,
  outcome TEXT,
  mapping_version TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
, refund_id TEXT GENERATED ALWAYS AS (CAST(json_extract(outcome, '$.refundId') AS TEXT)) VIRTUAL, order_line_id TEXT GENERATED ALWAYS AS (CAST(json_extract(payload, '$.order_line_id') AS TEXT)) VIRTUAL) STRICT;

-- table: mirakl_order_lines
CREATE TABLE "mirakl_order_lines" (
  order_line_id TEXT NOT NULL PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES mirakl_orders (order_id),
  offer_id INTEGER NOT NULL,
  offer_sku TEXT NOT NULL,
  product_sku TEXT NOT NULL,
  product_title TEXT NOT NULL,
  quantity INTEGER NOT NULL,
  price_unit_minor INTEGER NOT NULL,
  price_minor INTEGER NOT NULL,
  shipping_minor INTEGER NOT NULL,
  tax_minor INTEGER NOT NULL,
  shipping_tax_minor INTEGER NOT NULL,
  state TEXT NOT NULL,
  can_refund INTEGER NOT NULL CHECK (can_refund IN (0, 1)),
  tax_mode TEXT NOT NULL DEFAULT 'TAX_INCLUDED' CHECK (tax_mode IN ('TAX_INCLUDED', 'TAX_EXCLUDED')),
  taxes TEXT NOT NULL DEFAULT '[]',
  shipping_taxes TEXT NOT NULL DEFAULT '[]'
) STRICT, WITHOUT ROWID;

-- table: mirakl_orders
CREATE TABLE mirakl_orders (
  order_id TEXT PRIMARY KEY,
  commercial_id TEXT NOT NULL,
  state TEXT NOT NULL,
  currency TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  customer_name TEXT NOT NULL,
  customer_address TEXT NOT NULL,
  date_created TEXT NOT NULL,
  last_updated TEXT NOT NULL,
  synced_at TEXT NOT NULL
, customer_email TEXT) STRICT;

-- table: mirakl_reason_reads
CREATE TABLE mirakl_reason_reads (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  read_at TEXT NOT NULL,
  reasons INTEGER NOT NULL
) STRICT;

-- table: mirakl_reasons
CREATE TABLE mirakl_reasons (
  type TEXT NOT NULL,
  code TEXT NOT NULL,
  label TEXT NOT NULL,
  is_shop_right INTEGER NOT NULL CHECK (is_shop_right IN (0, 1)),
  position INTEGER NOT NULL,
  PRIMARY KEY (type, code)
) STRICT;

-- table: mirakl_refunds
CREATE TABLE mirakl_refunds (
  id TEXT PRIMARY KEY,
  order_line_id TEXT NOT NULL,
  order_refund_id TEXT NOT NULL,
  amount_minor INTEGER NOT NULL,
  shipping_minor INTEGER NOT NULL,
  quantity INTEGER NOT NULL,
  reason_code TEXT NOT NULL,
  refund_state TEXT NOT NULL,
  date_created TEXT NOT NULL,
  first_seen_at TEXT NOT NULL,
  synced_at TEXT NOT NULL
, tax_minor INTEGER NOT NULL DEFAULT 0, shipping_tax_minor INTEGER NOT NULL DEFAULT 0, tax_mode TEXT NOT NULL DEFAULT 'TAX_INCLUDED' CHECK (tax_mode IN ('TAX_INCLUDED', 'TAX_EXCLUDED')), is_claimed INTEGER NOT NULL DEFAULT 0 CHECK (is_claimed IN (0, 1))) STRICT;

-- table: mirakl_return_lines
CREATE TABLE "mirakl_return_lines" (
  return_id TEXT NOT NULL REFERENCES mirakl_returns (id),
  order_line_id TEXT NOT NULL,
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  reason_code TEXT NOT NULL,
  PRIMARY KEY (return_id, order_line_id)
) STRICT, WITHOUT ROWID;

-- table: mirakl_return_states
CREATE TABLE mirakl_return_states (
  id INTEGER PRIMARY KEY,
  return_id TEXT NOT NULL,
  state TEXT NOT NULL,
  last_updated TEXT NOT NULL,
  seen_at TEXT NOT NULL
) STRICT;

-- table: mirakl_returns
CREATE TABLE mirakl_returns (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL,
  commercial_id TEXT NOT NULL,
  customer_id TEXT,
  state TEXT NOT NULL,
  method_code TEXT NOT NULL,
  rma TEXT,
  tracking_number TEXT,
  carrier_code TEXT,
  label_url TEXT,
  date_created TEXT NOT NULL,
  last_updated TEXT NOT NULL,
  first_seen_at TEXT NOT NULL,
  synced_at TEXT NOT NULL
) STRICT;

-- table: money_lines
CREATE TABLE money_lines (
  order_line_id TEXT NOT NULL PRIMARY KEY,
  verified INTEGER NOT NULL CHECK (verified >= 0),
  price_unit_minor INTEGER NOT NULL,
  refunded_minor INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- table: money_paid_days
CREATE TABLE money_paid_days (
  currency TEXT NOT NULL,
  day TEXT NOT NULL,
  refunds INTEGER NOT NULL, -- no CHECK (refunds >= 0): SQLite checks it on the row an upsert takes away, before the conflict
  amount_minor INTEGER NOT NULL,
  PRIMARY KEY (currency, day)
) STRICT, WITHOUT ROWID;

-- table: offer_expected
CREATE TABLE offer_expected (
  shop_sku TEXT PRIMARY KEY,
  quantity INTEGER NOT NULL CHECK (quantity >= 0),
  from_mirakl TEXT NOT NULL,
  at_mirakl TEXT NOT NULL,
  correction INTEGER NOT NULL DEFAULT 0 CHECK (correction >= 0),
  basis TEXT NOT NULL,
  suspect_shows INTEGER,
  suspect_from TEXT,
  suspect_by TEXT,
  suspect_export INTEGER,
  updated_at TEXT NOT NULL
) STRICT;

-- table: offer_exports
CREATE TABLE offer_exports (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tracking_id TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('full', 'differential')),
  since_mirakl TEXT,
  state TEXT NOT NULL CHECK (state IN ('requested', 'applied', 'failed')),
  requested_at TEXT NOT NULL,
  taken_from_mirakl TEXT NOT NULL,
  taken_by_mirakl TEXT,
  applied_at TEXT,
  offers INTEGER,
  unreadable INTEGER,
  error TEXT
) STRICT;

-- table: offer_sales
CREATE TABLE offer_sales (
  order_line_id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL,
  offer_sku TEXT,
  quantity INTEGER CHECK (quantity IS NULL OR quantity >= 0),
  created_mirakl TEXT NOT NULL,
  seen_at TEXT NOT NULL
) STRICT;

-- table: offer_stock
CREATE TABLE offer_stock (
  shop_sku TEXT PRIMARY KEY,
  offer_id TEXT,
  quantity INTEGER CHECK (quantity IS NULL OR quantity >= 0),
  is_active INTEGER NOT NULL CHECK (is_active IN (0, 1)),
  export_id INTEGER NOT NULL REFERENCES offer_exports (id),
  updated_at TEXT NOT NULL
) STRICT;

-- table: period_adjustments
CREATE TABLE "period_adjustments" (
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

-- table: period_lock_facts
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

-- table: period_locks
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

-- table: period_unlock_facts
CREATE TABLE period_unlock_facts (
  unlock_id INTEGER NOT NULL REFERENCES period_unlocks (id),
  family TEXT NOT NULL,
  key TEXT NOT NULL,
  fact TEXT NOT NULL,
  currency TEXT,
  amount_minor INTEGER NOT NULL,
  PRIMARY KEY (unlock_id, family, key)
) STRICT, WITHOUT ROWID;

-- table: period_unlocks
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

-- table: quarantined_records
CREATE TABLE quarantined_records (
  operation TEXT NOT NULL,
  record_key TEXT NOT NULL,
  raw TEXT NOT NULL,
  problem TEXT NOT NULL,
  first_seen_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  times_seen INTEGER NOT NULL DEFAULT 1 CHECK (times_seen > 0),
  released_at TEXT,
  PRIMARY KEY (operation, record_key)
) STRICT;

-- table: rebound_events
CREATE TABLE rebound_events (
  key TEXT PRIMARY KEY,
  source TEXT NOT NULL CHECK (source IN ('webhook', 'poll')),
  type TEXT NOT NULL,
  rebound_order_id TEXT,
  status TEXT,
  occurred_at TEXT,
  received_at TEXT NOT NULL,
  payload TEXT NOT NULL,
  outcome TEXT NOT NULL
) STRICT;

-- table: rebound_items
CREATE TABLE rebound_items (
  rebound_item_id TEXT PRIMARY KEY,
  rebound_order_id TEXT NOT NULL REFERENCES rebound_return_orders (rebound_order_id),
  client_item_id TEXT NOT NULL,
  sku TEXT NOT NULL,
  ean TEXT,
  quantity INTEGER NOT NULL,
  reason_code TEXT NOT NULL,
  grade TEXT,
  disposition TEXT,
  is_unexpected INTEGER NOT NULL DEFAULT 0 CHECK (is_unexpected IN (0, 1)),
  updated_at TEXT NOT NULL
) STRICT;

-- table: rebound_return_orders
CREATE TABLE rebound_return_orders (
  rebound_order_id TEXT PRIMARY KEY,
  client_order_id TEXT NOT NULL,
  return_id TEXT NOT NULL,
  status TEXT NOT NULL,
  status_rank INTEGER NOT NULL,
  tracking_number TEXT,
  carrier TEXT,
  label_available INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  synced_at TEXT NOT NULL,
  is_open INTEGER NOT NULL DEFAULT 1 CHECK (is_open IN (0, 1))
) STRICT;

-- table: recon_dirty
CREATE TABLE recon_dirty (
  scope TEXT NOT NULL CHECK (scope IN ('return', 'refund', 'intent', 'line')),
  id TEXT NOT NULL,
  PRIMARY KEY (scope, id)
) STRICT, WITHOUT ROWID;

-- table: recon_lines
CREATE TABLE recon_lines (
  return_id TEXT NOT NULL,
  order_line_id TEXT NOT NULL,
  verified INTEGER NOT NULL CHECK (verified >= 0),
  first_verified_at TEXT,
  refunded_minor INTEGER,
  PRIMARY KEY (return_id, order_line_id)
) STRICT, WITHOUT ROWID;

-- table: recon_matches
CREATE TABLE recon_matches (
  kind TEXT NOT NULL CHECK (kind IN ('refund_line', 'item_unit')),
  subject TEXT NOT NULL,
  candidate TEXT NOT NULL,
  return_id TEXT,
  status TEXT NOT NULL CHECK (status IN ('exact', 'suggested', 'ambiguous', 'confirmed', 'rejected')),
  basis TEXT NOT NULL,
  rank INTEGER NOT NULL,
  decided_by TEXT,
  decided_at TEXT,
  PRIMARY KEY (kind, subject, candidate)
) STRICT, WITHOUT ROWID;

-- table: recon_verdicts
CREATE TABLE recon_verdicts (
  return_id TEXT NOT NULL PRIMARY KEY,
  date_created TEXT NOT NULL,
  refund_status TEXT NOT NULL CHECK (refund_status IN ('none', 'pending', 'partial', 'refunded', 'over')),
  drift INTEGER NOT NULL CHECK (drift BETWEEN 0 AND 15),
  expected_refund_minor INTEGER NOT NULL,
  refunded_minor INTEGER NOT NULL,
  gap_minor INTEGER NOT NULL CHECK (gap_minor >= 0),
  unrefunded_since TEXT
) STRICT, WITHOUT ROWID;

-- table: recon_watch
CREATE TABLE recon_watch (
  type TEXT NOT NULL,
  subject_key TEXT NOT NULL,
  scope_id TEXT NOT NULL,
  return_id TEXT,
  order_line_id TEXT,
  since TEXT NOT NULL,
  due_at TEXT NOT NULL,
  cause TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('waiting', 'raised', 'accepted')),
  PRIMARY KEY (type, subject_key)
) STRICT, WITHOUT ROWID;

-- table: refunds_unseen
CREATE TABLE refunds_unseen (
  intent_id INTEGER PRIMARY KEY,
  updated_at TEXT NOT NULL
) STRICT;

-- table: report_signoffs
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

-- table: request_journal
CREATE TABLE request_journal (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  system TEXT NOT NULL,
  operation TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  status INTEGER,
  duration_ms INTEGER NOT NULL,
  outcome TEXT NOT NULL
) STRICT;

-- table: restore_quarantines
CREATE TABLE restore_quarantines (
  id INTEGER PRIMARY KEY,
  started_at TEXT NOT NULL,
  cause TEXT NOT NULL,
  -- Per offer, the quantity the database believed Mirakl held and since when (Mirakl's clock), as JSON.
  stock_basis TEXT NOT NULL,
  -- When the units Mirakl's quantities show as already imported were settled, and what was found.
  stock_settled_at TEXT,
  stock_outcome TEXT,
  ended_at TEXT,
  outcome TEXT
) STRICT;

-- table: return_intake
CREATE TABLE return_intake (
  return_id TEXT PRIMARY KEY REFERENCES mirakl_returns (id),
  stage TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  order_wait_until TEXT,
  rebound_order_id TEXT,
  mapping_version TEXT,
  last_error TEXT,
  updated_at TEXT NOT NULL
, order_ask_at TEXT) STRICT;

-- table: return_search
CREATE VIRTUAL TABLE return_search USING fts5(term, content = 'return_search_terms', content_rowid = 'id', tokenize = 'trigram');

-- table: return_search_config
CREATE TABLE 'return_search_config'(k PRIMARY KEY, v) WITHOUT ROWID;

-- table: return_search_data
CREATE TABLE 'return_search_data'(id INTEGER PRIMARY KEY, block BLOB);

-- table: return_search_docsize
CREATE TABLE 'return_search_docsize'(id INTEGER PRIMARY KEY, sz BLOB);

-- table: return_search_idx
CREATE TABLE 'return_search_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID;

-- table: return_search_terms
CREATE TABLE return_search_terms (
  id INTEGER PRIMARY KEY,
  return_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('mirakl', 'rebound', 'order')),
  term TEXT NOT NULL,
  UNIQUE (return_id, kind)
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

-- table: stock_increments
CREATE TABLE stock_increments (
  unit_id TEXT PRIMARY KEY,
  offer_sku TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'importing', 'applied', 'rejected', 'skipped')),
  import_intent_id INTEGER,
  note TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
, skipped_by TEXT CHECK (skipped_by IN ('mapping', 'person')), held TEXT CHECK (held IN ('restore', 'earlier_copy', 'never_restock'))) STRICT;

-- table: sync_cursors
CREATE TABLE sync_cursors (
  feed TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;

-- table: team_accounts
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

-- table: team_proposals
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

-- table: team_sessions
CREATE TABLE team_sessions (
  token_sha256 TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES team_accounts(id),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  ended_at TEXT
) STRICT;

-- table: units
CREATE TABLE "units" (
  id TEXT NOT NULL,
  return_id TEXT NOT NULL,
  order_line_id TEXT NOT NULL,
  offer_sku TEXT NOT NULL,
  rebound_item_id TEXT,
  stage TEXT NOT NULL,
  stage_rank INTEGER NOT NULL,
  grade TEXT,
  is_sellable INTEGER CHECK (is_sellable IN (0, 1)),
  received_sku TEXT,
  registered_at TEXT,
  graded_at TEXT,
  updated_at TEXT NOT NULL, restock_in_doubt TEXT,
  PRIMARY KEY (return_id, order_line_id, id)
) STRICT, WITHOUT ROWID;

-- index: audit_log_subject
CREATE INDEX audit_log_subject ON audit_log (subject, seq);

-- index: exception_notes_exception
CREATE INDEX exception_notes_exception ON exception_notes (exception_id, id);

-- index: exceptions_assignee
CREATE INDEX exceptions_assignee ON exceptions (assignee, state);

-- index: exceptions_one_open
CREATE UNIQUE INDEX exceptions_one_open ON exceptions (type, subject_key) WHERE state != 'resolved';

-- index: exceptions_open_age
CREATE INDEX exceptions_open_age ON exceptions (state, detected_at);

-- index: exceptions_owner_age
CREATE INDEX exceptions_owner_age ON exceptions (owner_team, state, detected_at);

-- index: exceptions_return
CREATE INDEX exceptions_return ON exceptions (return_id);

-- index: exceptions_severity_age
CREATE INDEX exceptions_severity_age ON exceptions (severity_rank, state, detected_at);

-- index: exceptions_snoozed
CREATE INDEX exceptions_snoozed ON exceptions (snoozed_until) WHERE state = 'snoozed';

-- index: exceptions_state
CREATE INDEX exceptions_state ON exceptions (state, type);

-- index: exceptions_type_subject
CREATE INDEX exceptions_type_subject ON exceptions (type, subject_key);

-- index: intents_due
CREATE INDEX intents_due ON intents (kind, state, next_attempt_at);

-- index: intents_planned
CREATE INDEX intents_planned ON intents (kind, id) WHERE state = 'planned';

-- index: intents_recent
CREATE INDEX intents_recent ON intents (kind, state, updated_at);

-- index: intents_refund
CREATE INDEX intents_refund ON intents (refund_id) WHERE kind = 'mirakl.refund' AND state = 'confirmed';

-- index: intents_refund_line
CREATE INDEX intents_refund_line ON intents (order_line_id, state) WHERE kind = 'mirakl.refund';

-- index: intents_refund_links
CREATE INDEX intents_refund_links ON intents (subject, order_line_id, refund_id)
  WHERE kind = 'mirakl.refund' AND state = 'confirmed' AND refund_id IS NOT NULL;

-- index: intents_refund_sent
CREATE INDEX intents_refund_sent ON intents (updated_at, order_line_id, refund_id) WHERE kind = 'mirakl.refund' AND state = 'confirmed';

-- index: intents_refund_subject
CREATE INDEX intents_refund_subject ON intents (subject) WHERE kind = 'mirakl.refund';

-- index: intents_sending
CREATE INDEX intents_sending ON intents (updated_at) WHERE state = 'sending';

-- index: intents_subject
CREATE INDEX intents_subject ON intents (subject);

-- index: intents_uncertain
CREATE INDEX intents_uncertain ON intents (id) WHERE state = 'uncertain';

-- index: mirakl_order_lines_offer_sku
CREATE INDEX mirakl_order_lines_offer_sku ON mirakl_order_lines (offer_sku);

-- index: mirakl_order_lines_order
CREATE INDEX mirakl_order_lines_order ON mirakl_order_lines (order_id);

-- index: mirakl_refunds_created
CREATE INDEX mirakl_refunds_created ON mirakl_refunds (date_created);

-- index: mirakl_refunds_judged
CREATE INDEX mirakl_refunds_judged ON mirakl_refunds (id, refund_state, amount_minor, order_line_id);

-- index: mirakl_refunds_line
CREATE INDEX mirakl_refunds_line ON mirakl_refunds (order_line_id);

-- index: mirakl_refunds_line_amounts
CREATE INDEX mirakl_refunds_line_amounts ON mirakl_refunds (order_line_id, amount_minor) WHERE amount_minor != 0;

-- index: mirakl_refunds_open
CREATE INDEX mirakl_refunds_open ON mirakl_refunds (order_line_id) WHERE refund_state != 'REFUNDED';

-- index: mirakl_refunds_paid
CREATE INDEX mirakl_refunds_paid ON mirakl_refunds (date_created, refund_state, order_line_id, amount_minor);

-- index: mirakl_refunds_state
CREATE INDEX mirakl_refunds_state ON mirakl_refunds (refund_state);

-- index: mirakl_refunds_unclaimed
CREATE INDEX mirakl_refunds_unclaimed ON mirakl_refunds (date_created) WHERE is_claimed = 0;

-- index: mirakl_return_lines_line
CREATE INDEX mirakl_return_lines_line ON mirakl_return_lines (order_line_id);

-- index: mirakl_return_states_return
CREATE INDEX mirakl_return_states_return ON mirakl_return_states (return_id, id);

-- index: mirakl_returns_closed
CREATE INDEX mirakl_returns_closed ON mirakl_returns (last_updated) WHERE state = 'CLOSED';

-- index: mirakl_returns_commercial
CREATE INDEX mirakl_returns_commercial ON mirakl_returns (commercial_id);

-- index: mirakl_returns_created
CREATE INDEX mirakl_returns_created ON mirakl_returns (date_created, id);

-- index: mirakl_returns_first_seen
CREATE INDEX mirakl_returns_first_seen ON mirakl_returns (first_seen_at);

-- index: mirakl_returns_judged
CREATE INDEX mirakl_returns_judged ON mirakl_returns (id, state, date_created, tracking_number);

-- index: mirakl_returns_order
CREATE INDEX mirakl_returns_order ON mirakl_returns (order_id);

-- index: mirakl_returns_rma
CREATE INDEX mirakl_returns_rma ON mirakl_returns (rma);

-- index: mirakl_returns_state
CREATE INDEX mirakl_returns_state ON mirakl_returns (state, date_created, id);

-- index: mirakl_returns_tracking
CREATE INDEX mirakl_returns_tracking ON mirakl_returns (tracking_number);

-- index: money_lines_owed
CREATE INDEX money_lines_owed ON money_lines (order_line_id, verified, price_unit_minor, refunded_minor) WHERE verified > 0 AND verified * price_unit_minor - refunded_minor > 0;

-- index: offer_exports_state
CREATE INDEX offer_exports_state ON offer_exports (state, id);

-- index: offer_sales_created
CREATE INDEX offer_sales_created ON offer_sales (created_mirakl, offer_sku);

-- index: offer_sales_order
CREATE INDEX offer_sales_order ON offer_sales (order_id);

-- index: period_adjustments_fact
CREATE INDEX period_adjustments_fact ON period_adjustments (period, family, key, id);

-- index: period_adjustments_reported
CREATE INDEX period_adjustments_reported ON period_adjustments (reported_in, id);

-- index: period_unlocks_period
CREATE INDEX period_unlocks_period ON period_unlocks (period, id);

-- index: rebound_events_order
CREATE INDEX rebound_events_order ON rebound_events (rebound_order_id);

-- index: rebound_events_pending
CREATE INDEX rebound_events_pending ON rebound_events (rebound_order_id, received_at) WHERE outcome = 'pending';

-- index: rebound_items_order
CREATE INDEX rebound_items_order ON rebound_items (rebound_order_id);

-- index: rebound_items_unexpected
CREATE INDEX rebound_items_unexpected ON rebound_items (rebound_order_id) WHERE is_unexpected = 1;

-- index: rebound_return_orders_client_order
CREATE INDEX rebound_return_orders_client_order ON rebound_return_orders (client_order_id);

-- index: rebound_return_orders_judged
CREATE INDEX rebound_return_orders_judged ON rebound_return_orders (return_id, status_rank, status, tracking_number, rebound_order_id);

-- index: rebound_return_orders_refresh
CREATE INDEX rebound_return_orders_refresh ON rebound_return_orders (is_open, synced_at);

-- index: rebound_return_orders_return
CREATE UNIQUE INDEX rebound_return_orders_return ON rebound_return_orders (return_id);

-- index: rebound_return_orders_status
CREATE INDEX rebound_return_orders_status ON rebound_return_orders (status_rank);

-- index: rebound_return_orders_status_text
CREATE INDEX rebound_return_orders_status_text ON rebound_return_orders (status);

-- index: rebound_return_orders_tracking
CREATE INDEX rebound_return_orders_tracking ON rebound_return_orders (tracking_number);

-- index: recon_matches_candidate
CREATE INDEX recon_matches_candidate ON recon_matches (kind, candidate);

-- index: recon_matches_confirmed
CREATE INDEX recon_matches_confirmed ON recon_matches (return_id, candidate) WHERE kind = 'refund_line' AND status = 'confirmed';

-- index: recon_matches_return
CREATE INDEX recon_matches_return ON recon_matches (return_id);

-- index: recon_verdicts_drift
CREATE INDEX recon_verdicts_drift ON recon_verdicts (date_created) WHERE drift != 0;

-- index: recon_verdicts_gap
CREATE INDEX recon_verdicts_gap ON recon_verdicts (gap_minor) WHERE gap_minor > 0;

-- index: recon_verdicts_owed
CREATE INDEX recon_verdicts_owed ON recon_verdicts (refund_status, date_created) WHERE refund_status IN ('pending', 'partial', 'over');

-- index: recon_watch_due
CREATE INDEX recon_watch_due ON recon_watch (due_at) WHERE state = 'waiting';

-- index: recon_watch_scope
CREATE INDEX recon_watch_scope ON recon_watch (scope_id, type);

-- index: refunds_unseen_recent
CREATE INDEX refunds_unseen_recent ON refunds_unseen (updated_at);

-- index: report_signoffs_period
CREATE INDEX report_signoffs_period ON report_signoffs(period, kind) WHERE withdrawn_at IS NULL;

-- index: request_journal_at
CREATE INDEX request_journal_at ON request_journal (at);

-- index: return_intake_due
CREATE INDEX return_intake_due ON return_intake (stage, next_attempt_at);

-- index: return_intake_order_ask
CREATE INDEX return_intake_order_ask ON return_intake (order_ask_at) WHERE stage = 'awaiting_order';

-- index: stock_increments_state
CREATE INDEX stock_increments_state ON stock_increments (state, offer_sku);

-- index: team_proposals_pending
CREATE INDEX team_proposals_pending ON team_proposals(status) WHERE status = 'pending';

-- index: team_sessions_account
CREATE INDEX team_sessions_account ON team_sessions(account_id);

-- index: units_id
CREATE UNIQUE INDEX units_id ON units (id);

-- index: units_line
CREATE INDEX units_line ON units (order_line_id);

-- index: units_lost
CREATE INDEX units_lost ON units (return_id) WHERE stage IN ('missing', 'lost');

-- index: units_lost_id
CREATE INDEX units_lost_id ON units (id) WHERE stage = 'lost';

-- index: units_registered_at
CREATE INDEX units_registered_at ON units (registered_at, order_line_id, received_sku, offer_sku) WHERE registered_at IS NOT NULL;

-- index: units_stage
CREATE INDEX units_stage ON units (stage_rank, return_id);

-- view: recon_lines_recount
CREATE VIEW recon_lines_recount (return_id, order_line_id) AS SELECT NULL, NULL WHERE false;

-- view: recon_returns
CREATE VIEW recon_returns AS
SELECT r.id AS return_id, r.order_id, r.commercial_id, r.rma, r.date_created, o.currency,
  r.state AS mirakl_state, r.tracking_number AS mirakl_tracking,
  (SELECT COALESCE(sum(l.quantity), 0) FROM mirakl_return_lines l WHERE l.return_id = r.id) AS requested_units,
  ro.rebound_order_id, ro.status AS rebound_status, ro.tracking_number AS rebound_tracking,
  (SELECT count(*) FROM units u WHERE u.return_id = r.id AND u.registered_at IS NOT NULL AND (u.received_sku IS NULL OR u.received_sku = u.offer_sku)) AS units_arrived,
  (SELECT count(*) FROM units u WHERE u.return_id = r.id AND u.stage IN ('missing', 'lost')) AS units_missing,
  (SELECT count(*) FROM units u WHERE u.return_id = r.id AND u.is_sellable = 1) AS units_sellable,
  (SELECT count(*) FROM units u JOIN stock_increments s ON s.unit_id = u.id WHERE u.return_id = r.id AND s.state = 'applied') AS units_restocked,
  COALESCE(v.expected_refund_minor, 0) AS expected_refund_minor,
  COALESCE(v.refunded_minor, 0) AS refunded_minor,
  COALESCE(v.refund_status, 'none') AS refund_status,
  COALESCE(v.drift, 0) != 0 AS drift,
  rtrim((CASE WHEN v.drift & 1 THEN 'state,' ELSE '' END) || (CASE WHEN v.drift & 2 THEN 'tracking,' ELSE '' END)
    || (CASE WHEN v.drift & 4 THEN 'quantity,' ELSE '' END) || (CASE WHEN v.drift & 8 THEN 'refund,' ELSE '' END), ',') AS drift_fields
FROM mirakl_returns r
LEFT JOIN mirakl_orders o ON o.order_id = r.order_id
LEFT JOIN rebound_return_orders ro ON ro.return_id = r.id
LEFT JOIN recon_verdicts v ON v.return_id = r.id;

-- view: refund_claims
CREATE VIEW refund_claims (refund_id) AS
  SELECT refund_id FROM intents
  WHERE kind = 'mirakl.refund' AND state = 'confirmed' AND coalesce(json_extract(outcome, '$.via'), '') != 'ledger';

-- view: refund_links
CREATE VIEW refund_links (refund_id, return_id, order_line_id, status, basis) AS
  SELECT refund_id, subject, order_line_id, 'exact', 'made by this app (intent ' || id || ')'
  FROM intents WHERE kind = 'mirakl.refund' AND state = 'confirmed' AND refund_id IS NOT NULL
  UNION ALL
  SELECT subject, return_id, substr(candidate, length(return_id) + 2), status, basis
  FROM recon_matches WHERE kind = 'refund_line' AND status = 'confirmed';

-- view: return_order_terms
CREATE VIEW return_order_terms AS
  SELECT r.id AS return_id, r.order_id AS order_id,
    concat_ws(' ', o.customer_name, o.customer_email, (SELECT group_concat(ol.offer_sku, ' ') FROM mirakl_return_lines rl
      JOIN mirakl_order_lines ol ON ol.order_line_id = rl.order_line_id WHERE rl.return_id = r.id)) AS term
  FROM mirakl_returns r LEFT JOIN mirakl_orders o ON o.order_id = r.order_id;

-- trigger: audit_log_no_delete
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- trigger: audit_log_no_update
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- trigger: intents_refund_claim_delete
CREATE TRIGGER intents_refund_claim_delete AFTER DELETE ON intents WHEN OLD.kind = 'mirakl.refund' AND OLD.refund_id IS NOT NULL
BEGIN
  UPDATE mirakl_refunds SET is_claimed = EXISTS (SELECT 1 FROM refund_claims c WHERE c.refund_id = mirakl_refunds.id)
  WHERE id = OLD.refund_id;
END;

-- trigger: intents_refund_claim_insert
CREATE TRIGGER intents_refund_claim_insert AFTER INSERT ON intents WHEN NEW.kind = 'mirakl.refund' AND NEW.refund_id IS NOT NULL
BEGIN
  UPDATE mirakl_refunds SET is_claimed = EXISTS (SELECT 1 FROM refund_claims c WHERE c.refund_id = mirakl_refunds.id)
  WHERE id = NEW.refund_id;
END;

-- trigger: intents_refund_claim_update
CREATE TRIGGER intents_refund_claim_update AFTER UPDATE OF kind, state, outcome ON intents
  WHEN (OLD.kind = 'mirakl.refund' AND OLD.refund_id IS NOT NULL) OR (NEW.kind = 'mirakl.refund' AND NEW.refund_id IS NOT NULL)
BEGIN
  UPDATE mirakl_refunds SET is_claimed = EXISTS (SELECT 1 FROM refund_claims c WHERE c.refund_id = mirakl_refunds.id)
  WHERE id IN (OLD.refund_id, NEW.refund_id);
END;

-- trigger: intents_refund_uncertain_rereads
CREATE TRIGGER intents_refund_uncertain_rereads AFTER UPDATE OF state ON intents
  WHEN NEW.state = 'uncertain' AND NEW.kind = 'mirakl.refund'
BEGIN
  DELETE FROM sync_cursors
  WHERE feed = 'or11:' || (SELECT order_id FROM mirakl_order_lines WHERE order_line_id = NEW.order_line_id);
END;

-- trigger: mirakl_refunds_claim_insert
CREATE TRIGGER mirakl_refunds_claim_insert AFTER INSERT ON mirakl_refunds
BEGIN
  UPDATE mirakl_refunds SET is_claimed = EXISTS (SELECT 1 FROM refund_claims c WHERE c.refund_id = mirakl_refunds.id)
  WHERE id = NEW.id;
END;

-- trigger: mirakl_refunds_claim_rekey
CREATE TRIGGER mirakl_refunds_claim_rekey AFTER UPDATE OF id ON mirakl_refunds
BEGIN
  UPDATE mirakl_refunds SET is_claimed = EXISTS (SELECT 1 FROM refund_claims c WHERE c.refund_id = mirakl_refunds.id)
  WHERE id = NEW.id;
END;

-- trigger: mirakl_return_states_insert
CREATE TRIGGER mirakl_return_states_insert AFTER INSERT ON mirakl_returns
BEGIN
  INSERT INTO mirakl_return_states (return_id, state, last_updated, seen_at) VALUES (NEW.id, NEW.state, NEW.last_updated, NEW.synced_at);
END;

-- trigger: mirakl_return_states_update
CREATE TRIGGER mirakl_return_states_update AFTER UPDATE OF state ON mirakl_returns WHEN OLD.state IS NOT NEW.state
BEGIN
  INSERT INTO mirakl_return_states (return_id, state, last_updated, seen_at) VALUES (NEW.id, NEW.state, NEW.last_updated, NEW.synced_at);
END;

-- trigger: money_order_line_delete
CREATE TRIGGER money_order_line_delete AFTER DELETE ON mirakl_order_lines
BEGIN
  UPDATE money_lines SET price_unit_minor = 0 WHERE order_line_id = OLD.order_line_id;
END;

-- trigger: money_order_line_insert
CREATE TRIGGER money_order_line_insert AFTER INSERT ON mirakl_order_lines
BEGIN
  UPDATE money_lines SET price_unit_minor = NEW.price_unit_minor WHERE order_line_id = NEW.order_line_id;
END;

-- trigger: money_order_line_price
CREATE TRIGGER money_order_line_price AFTER UPDATE OF price_unit_minor ON mirakl_order_lines
WHEN OLD.price_unit_minor IS NOT NEW.price_unit_minor
BEGIN
  UPDATE money_lines SET price_unit_minor = NEW.price_unit_minor WHERE order_line_id = NEW.order_line_id;
END;

-- trigger: money_paid_line_delete
CREATE TRIGGER money_paid_line_delete AFTER DELETE ON mirakl_order_lines
BEGIN
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT COALESCE((SELECT currency FROM mirakl_orders WHERE order_id = OLD.order_id), '?'), substr(f.date_created, 1, 10), -count(*), -sum(f.amount_minor)
  FROM mirakl_refunds f WHERE f.order_line_id = OLD.order_line_id AND f.refund_state = 'REFUNDED' GROUP BY 2
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT '?', substr(f.date_created, 1, 10), count(*), sum(f.amount_minor)
  FROM mirakl_refunds f WHERE f.order_line_id = OLD.order_line_id AND f.refund_state = 'REFUNDED' GROUP BY 2
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
END;

-- trigger: money_paid_line_insert
CREATE TRIGGER money_paid_line_insert AFTER INSERT ON mirakl_order_lines
BEGIN
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT '?', substr(f.date_created, 1, 10), -count(*), -sum(f.amount_minor) FROM mirakl_refunds f
  WHERE f.order_line_id = NEW.order_line_id AND f.refund_state = 'REFUNDED' GROUP BY 2
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT COALESCE((SELECT currency FROM mirakl_orders WHERE order_id = NEW.order_id), '?'), substr(f.date_created, 1, 10), count(*), sum(f.amount_minor)
  FROM mirakl_refunds f WHERE f.order_line_id = NEW.order_line_id AND f.refund_state = 'REFUNDED' GROUP BY 2
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
END;

-- trigger: money_paid_line_update
CREATE TRIGGER money_paid_line_update AFTER UPDATE OF order_id, order_line_id ON mirakl_order_lines
WHEN OLD.order_id IS NOT NEW.order_id OR OLD.order_line_id IS NOT NEW.order_line_id
BEGIN
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT COALESCE((SELECT currency FROM mirakl_orders WHERE order_id = OLD.order_id), '?'), substr(f.date_created, 1, 10), -count(*), -sum(f.amount_minor)
  FROM mirakl_refunds f WHERE f.order_line_id = OLD.order_line_id AND f.refund_state = 'REFUNDED' GROUP BY 2
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT '?', substr(f.date_created, 1, 10), count(*), sum(f.amount_minor)
  FROM mirakl_refunds f WHERE f.order_line_id = OLD.order_line_id AND f.refund_state = 'REFUNDED' GROUP BY 2
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT '?', substr(f.date_created, 1, 10), -count(*), -sum(f.amount_minor) FROM mirakl_refunds f
  WHERE f.order_line_id = NEW.order_line_id AND f.refund_state = 'REFUNDED' GROUP BY 2
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT COALESCE((SELECT currency FROM mirakl_orders WHERE order_id = NEW.order_id), '?'), substr(f.date_created, 1, 10), count(*), sum(f.amount_minor)
  FROM mirakl_refunds f WHERE f.order_line_id = NEW.order_line_id AND f.refund_state = 'REFUNDED' GROUP BY 2
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
END;

-- trigger: money_paid_order_delete
CREATE TRIGGER money_paid_order_delete AFTER DELETE ON mirakl_orders
BEGIN
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT OLD.currency, substr(f.date_created, 1, 10), -count(*), -sum(f.amount_minor)
  FROM mirakl_order_lines ol JOIN mirakl_refunds f ON f.order_line_id = ol.order_line_id
  WHERE ol.order_id = OLD.order_id AND f.refund_state = 'REFUNDED' GROUP BY 2
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT '?', substr(f.date_created, 1, 10), count(*), sum(f.amount_minor)
  FROM mirakl_order_lines ol JOIN mirakl_refunds f ON f.order_line_id = ol.order_line_id
  WHERE ol.order_id = OLD.order_id AND f.refund_state = 'REFUNDED' GROUP BY 2
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
END;

-- trigger: money_paid_order_insert
CREATE TRIGGER money_paid_order_insert AFTER INSERT ON mirakl_orders
BEGIN
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT '?', substr(f.date_created, 1, 10), -count(*), -sum(f.amount_minor)
  FROM mirakl_order_lines ol JOIN mirakl_refunds f ON f.order_line_id = ol.order_line_id
  WHERE ol.order_id = NEW.order_id AND f.refund_state = 'REFUNDED' GROUP BY 2
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT NEW.currency, substr(f.date_created, 1, 10), count(*), sum(f.amount_minor)
  FROM mirakl_order_lines ol JOIN mirakl_refunds f ON f.order_line_id = ol.order_line_id
  WHERE ol.order_id = NEW.order_id AND f.refund_state = 'REFUNDED' GROUP BY 2
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
END;

-- trigger: money_paid_order_update
CREATE TRIGGER money_paid_order_update AFTER UPDATE OF currency, order_id ON mirakl_orders
WHEN OLD.currency IS NOT NEW.currency OR OLD.order_id IS NOT NEW.order_id
BEGIN
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT OLD.currency, substr(f.date_created, 1, 10), -count(*), -sum(f.amount_minor)
  FROM mirakl_order_lines ol JOIN mirakl_refunds f ON f.order_line_id = ol.order_line_id
  WHERE ol.order_id = OLD.order_id AND f.refund_state = 'REFUNDED' GROUP BY 2
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT '?', substr(f.date_created, 1, 10), count(*), sum(f.amount_minor)
  FROM mirakl_order_lines ol JOIN mirakl_refunds f ON f.order_line_id = ol.order_line_id
  WHERE ol.order_id = OLD.order_id AND f.refund_state = 'REFUNDED' GROUP BY 2
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT '?', substr(f.date_created, 1, 10), -count(*), -sum(f.amount_minor)
  FROM mirakl_order_lines ol JOIN mirakl_refunds f ON f.order_line_id = ol.order_line_id
  WHERE ol.order_id = NEW.order_id AND f.refund_state = 'REFUNDED' GROUP BY 2
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT NEW.currency, substr(f.date_created, 1, 10), count(*), sum(f.amount_minor)
  FROM mirakl_order_lines ol JOIN mirakl_refunds f ON f.order_line_id = ol.order_line_id
  WHERE ol.order_id = NEW.order_id AND f.refund_state = 'REFUNDED' GROUP BY 2
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
END;

-- trigger: money_paid_refund_delete
CREATE TRIGGER money_paid_refund_delete AFTER DELETE ON mirakl_refunds
WHEN OLD.refund_state = 'REFUNDED'
BEGIN
  UPDATE money_paid_days SET refunds = refunds - 1, amount_minor = amount_minor - OLD.amount_minor
  WHERE currency = COALESCE((SELECT o.currency FROM mirakl_order_lines ol JOIN mirakl_orders o ON o.order_id = ol.order_id WHERE ol.order_line_id = OLD.order_line_id), '?')
    AND day = substr(OLD.date_created, 1, 10);
END;

-- trigger: money_paid_refund_insert
CREATE TRIGGER money_paid_refund_insert AFTER INSERT ON mirakl_refunds
WHEN NEW.refund_state = 'REFUNDED'
BEGIN
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT COALESCE((SELECT o.currency FROM mirakl_order_lines ol JOIN mirakl_orders o ON o.order_id = ol.order_id WHERE ol.order_line_id = NEW.order_line_id), '?'),
    substr(NEW.date_created, 1, 10), 1, NEW.amount_minor WHERE true
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
END;

-- trigger: money_paid_refund_update
CREATE TRIGGER money_paid_refund_update AFTER UPDATE OF refund_state, amount_minor, date_created, order_line_id ON mirakl_refunds
WHEN (OLD.refund_state = 'REFUNDED' OR NEW.refund_state = 'REFUNDED') AND (OLD.refund_state IS NOT NEW.refund_state
  OR OLD.amount_minor IS NOT NEW.amount_minor OR OLD.date_created IS NOT NEW.date_created OR OLD.order_line_id IS NOT NEW.order_line_id)
BEGIN
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT COALESCE((SELECT o.currency FROM mirakl_order_lines ol JOIN mirakl_orders o ON o.order_id = ol.order_id WHERE ol.order_line_id = OLD.order_line_id), '?'),
    substr(OLD.date_created, 1, 10), -1, -OLD.amount_minor WHERE OLD.refund_state = 'REFUNDED'
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT COALESCE((SELECT o.currency FROM mirakl_order_lines ol JOIN mirakl_orders o ON o.order_id = ol.order_id WHERE ol.order_line_id = NEW.order_line_id), '?'),
    substr(NEW.date_created, 1, 10), 1, NEW.amount_minor WHERE NEW.refund_state = 'REFUNDED'
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
END;

-- trigger: money_refund_delete
CREATE TRIGGER money_refund_delete AFTER DELETE ON mirakl_refunds
BEGIN
  UPDATE money_lines SET refunded_minor = refunded_minor - OLD.amount_minor WHERE order_line_id = OLD.order_line_id;
END;

-- trigger: money_refund_insert
CREATE TRIGGER money_refund_insert AFTER INSERT ON mirakl_refunds
BEGIN
  INSERT INTO money_lines (order_line_id, verified, price_unit_minor, refunded_minor)
  VALUES (NEW.order_line_id, 0, COALESCE((SELECT price_unit_minor FROM mirakl_order_lines WHERE order_line_id = NEW.order_line_id), 0), NEW.amount_minor)
  ON CONFLICT (order_line_id) DO UPDATE SET refunded_minor = refunded_minor + excluded.refunded_minor;
END;

-- trigger: money_refund_update
CREATE TRIGGER money_refund_update AFTER UPDATE OF amount_minor, order_line_id, date_created ON mirakl_refunds
WHEN OLD.amount_minor IS NOT NEW.amount_minor OR OLD.order_line_id IS NOT NEW.order_line_id OR OLD.date_created IS NOT NEW.date_created
BEGIN
  UPDATE money_lines SET refunded_minor = refunded_minor - OLD.amount_minor WHERE order_line_id = OLD.order_line_id;
  INSERT INTO money_lines (order_line_id, verified, price_unit_minor, refunded_minor)
  VALUES (NEW.order_line_id, 0, COALESCE((SELECT price_unit_minor FROM mirakl_order_lines WHERE order_line_id = NEW.order_line_id), 0), NEW.amount_minor)
  ON CONFLICT (order_line_id) DO UPDATE SET refunded_minor = refunded_minor + excluded.refunded_minor;
END;

-- trigger: money_unit_delete
CREATE TRIGGER money_unit_delete AFTER DELETE ON units
WHEN OLD.registered_at IS NOT NULL AND (OLD.received_sku IS NULL OR OLD.received_sku = OLD.offer_sku)
BEGIN
  UPDATE money_lines SET verified = verified - 1 WHERE order_line_id = OLD.order_line_id;
END;

-- trigger: money_unit_insert
CREATE TRIGGER money_unit_insert AFTER INSERT ON units
WHEN NEW.registered_at IS NOT NULL AND (NEW.received_sku IS NULL OR NEW.received_sku = NEW.offer_sku)
BEGIN
  INSERT INTO money_lines (order_line_id, verified, price_unit_minor, refunded_minor)
  VALUES (NEW.order_line_id, 1, COALESCE((SELECT price_unit_minor FROM mirakl_order_lines WHERE order_line_id = NEW.order_line_id), 0), 0)
  ON CONFLICT (order_line_id) DO UPDATE SET verified = verified + 1;
END;

-- trigger: money_unit_update
CREATE TRIGGER money_unit_update AFTER UPDATE OF registered_at, received_sku, offer_sku, order_line_id ON units
WHEN OLD.registered_at IS NOT NEW.registered_at OR OLD.received_sku IS NOT NEW.received_sku OR OLD.offer_sku IS NOT NEW.offer_sku
  OR OLD.order_line_id IS NOT NEW.order_line_id
BEGIN
  UPDATE money_lines SET verified = verified - 1
  WHERE order_line_id = OLD.order_line_id AND OLD.registered_at IS NOT NULL AND (OLD.received_sku IS NULL OR OLD.received_sku = OLD.offer_sku);
  INSERT INTO money_lines (order_line_id, verified, price_unit_minor, refunded_minor)
  SELECT NEW.order_line_id, 1, COALESCE((SELECT price_unit_minor FROM mirakl_order_lines WHERE order_line_id = NEW.order_line_id), 0), 0
  WHERE NEW.registered_at IS NOT NULL AND (NEW.received_sku IS NULL OR NEW.received_sku = NEW.offer_sku)
  ON CONFLICT (order_line_id) DO UPDATE SET verified = verified + 1;
END;

-- trigger: period_adjustments_no_delete
CREATE TRIGGER period_adjustments_no_delete BEFORE DELETE ON period_adjustments BEGIN SELECT RAISE(ABORT, 'period_adjustments is append-only'); END;

-- trigger: period_adjustments_no_update
CREATE TRIGGER period_adjustments_no_update BEFORE UPDATE ON period_adjustments BEGIN SELECT RAISE(ABORT, 'period_adjustments is append-only'); END;

-- trigger: period_lock_facts_no_delete
CREATE TRIGGER period_lock_facts_no_delete BEFORE DELETE ON period_lock_facts
WHEN NOT EXISTS (
  SELECT 1 FROM period_locks l
  JOIN period_unlocks u ON u.period = l.period AND u.locked_at = l.locked_at AND u.report_sha256 = l.report_sha256
  JOIN period_unlock_facts f ON f.unlock_id = u.id AND f.family = OLD.family AND f.key = OLD.key AND f.fact = OLD.fact
  WHERE l.period = OLD.period
)
BEGIN SELECT RAISE(ABORT, 'a locked period is never edited: it is only reopened, its lock kept in period_unlocks'); END;

-- trigger: period_lock_facts_no_update
CREATE TRIGGER period_lock_facts_no_update BEFORE UPDATE ON period_lock_facts BEGIN SELECT RAISE(ABORT, 'a locked period is never edited'); END;

-- trigger: period_locks_no_delete
CREATE TRIGGER period_locks_no_delete BEFORE DELETE ON period_locks
WHEN NOT EXISTS (SELECT 1 FROM period_unlocks u WHERE u.period = OLD.period AND u.locked_at = OLD.locked_at AND u.report = OLD.report AND u.report_sha256 = OLD.report_sha256)
BEGIN SELECT RAISE(ABORT, 'a locked period is never edited: it is only reopened, its lock kept in period_unlocks'); END;

-- trigger: period_locks_no_update
CREATE TRIGGER period_locks_no_update BEFORE UPDATE ON period_locks BEGIN SELECT RAISE(ABORT, 'a locked period is never edited'); END;

-- trigger: period_unlock_facts_no_delete
CREATE TRIGGER period_unlock_facts_no_delete BEFORE DELETE ON period_unlock_facts BEGIN SELECT RAISE(ABORT, 'period_unlock_facts is append-only'); END;

-- trigger: period_unlock_facts_no_update
CREATE TRIGGER period_unlock_facts_no_update BEFORE UPDATE ON period_unlock_facts BEGIN SELECT RAISE(ABORT, 'period_unlock_facts is append-only'); END;

-- trigger: period_unlocks_no_delete
CREATE TRIGGER period_unlocks_no_delete BEFORE DELETE ON period_unlocks BEGIN SELECT RAISE(ABORT, 'period_unlocks is append-only'); END;

-- trigger: period_unlocks_no_update
CREATE TRIGGER period_unlocks_no_update BEFORE UPDATE ON period_unlocks BEGIN SELECT RAISE(ABORT, 'period_unlocks is append-only'); END;

-- trigger: recon_dirty_intake_insert
CREATE TRIGGER recon_dirty_intake_insert AFTER INSERT ON return_intake
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.return_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.return_id);
END;

-- trigger: recon_dirty_intake_update
CREATE TRIGGER recon_dirty_intake_update AFTER UPDATE OF stage ON return_intake
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.return_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.return_id);
END;

-- trigger: recon_dirty_intent_insert
CREATE TRIGGER recon_dirty_intent_insert AFTER INSERT ON intents
BEGIN
  INSERT INTO recon_dirty SELECT 'intent', CAST(NEW.id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'intent' AND id = CAST(NEW.id AS TEXT));
  INSERT INTO recon_dirty SELECT 'return', NEW.subject WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.subject);
END;

-- trigger: recon_dirty_intent_update
CREATE TRIGGER recon_dirty_intent_update AFTER UPDATE OF state, outcome ON intents
BEGIN
  INSERT INTO recon_dirty SELECT 'intent', CAST(NEW.id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'intent' AND id = CAST(NEW.id AS TEXT));
  INSERT INTO recon_dirty SELECT 'return', NEW.subject WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.subject);
END;

-- trigger: recon_dirty_rebound_item_insert
CREATE TRIGGER recon_dirty_rebound_item_insert AFTER INSERT ON rebound_items
BEGIN
  INSERT INTO recon_dirty SELECT DISTINCT 'return', return_id FROM rebound_return_orders WHERE rebound_order_id = NEW.rebound_order_id
    AND NOT EXISTS (SELECT 1 FROM recon_dirty d WHERE d.scope = 'return' AND d.id = rebound_return_orders.return_id);
END;

-- trigger: recon_dirty_rebound_item_update
CREATE TRIGGER recon_dirty_rebound_item_update AFTER UPDATE ON rebound_items
BEGIN
  INSERT INTO recon_dirty SELECT DISTINCT 'return', return_id FROM rebound_return_orders WHERE rebound_order_id = NEW.rebound_order_id
    AND NOT EXISTS (SELECT 1 FROM recon_dirty d WHERE d.scope = 'return' AND d.id = rebound_return_orders.return_id);
END;

-- trigger: recon_dirty_rebound_order_insert
CREATE TRIGGER recon_dirty_rebound_order_insert AFTER INSERT ON rebound_return_orders
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.return_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.return_id);
END;

-- trigger: recon_dirty_rebound_order_update
CREATE TRIGGER recon_dirty_rebound_order_update AFTER UPDATE ON rebound_return_orders
WHEN OLD.status IS NOT NEW.status OR OLD.updated_at IS NOT NEW.updated_at OR OLD.tracking_number IS NOT NEW.tracking_number
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.return_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.return_id);
END;

-- trigger: recon_dirty_refund_insert
CREATE TRIGGER recon_dirty_refund_insert AFTER INSERT ON mirakl_refunds
BEGIN
  INSERT INTO recon_dirty SELECT 'refund', NEW.id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'refund' AND id = NEW.id);
  INSERT INTO recon_dirty SELECT DISTINCT 'return', return_id FROM mirakl_return_lines WHERE order_line_id = NEW.order_line_id
    AND NOT EXISTS (SELECT 1 FROM recon_dirty d WHERE d.scope = 'return' AND d.id = mirakl_return_lines.return_id);
END;

-- trigger: recon_dirty_refund_update
CREATE TRIGGER recon_dirty_refund_update AFTER UPDATE OF refund_state, amount_minor ON mirakl_refunds
BEGIN
  INSERT INTO recon_dirty SELECT 'refund', NEW.id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'refund' AND id = NEW.id);
  INSERT INTO recon_dirty SELECT DISTINCT 'return', return_id FROM mirakl_return_lines WHERE order_line_id = NEW.order_line_id
    AND NOT EXISTS (SELECT 1 FROM recon_dirty d WHERE d.scope = 'return' AND d.id = mirakl_return_lines.return_id);
END;

-- trigger: recon_dirty_return_insert
CREATE TRIGGER recon_dirty_return_insert AFTER INSERT ON mirakl_returns
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.id);
END;

-- trigger: recon_dirty_return_line
CREATE TRIGGER recon_dirty_return_line AFTER INSERT ON mirakl_return_lines
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.return_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.return_id);
  INSERT INTO recon_dirty SELECT 'line', NEW.order_line_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'line' AND id = NEW.order_line_id);
END;

-- trigger: recon_dirty_return_update
CREATE TRIGGER recon_dirty_return_update AFTER UPDATE ON mirakl_returns
WHEN OLD.state IS NOT NEW.state OR OLD.last_updated IS NOT NEW.last_updated OR OLD.tracking_number IS NOT NEW.tracking_number
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.id);
END;

-- trigger: recon_dirty_unit_insert
CREATE TRIGGER recon_dirty_unit_insert AFTER INSERT ON units
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.return_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.return_id);
  INSERT INTO recon_dirty SELECT 'line', NEW.order_line_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'line' AND id = NEW.order_line_id);
END;

-- trigger: recon_dirty_unit_receipt
CREATE TRIGGER recon_dirty_unit_receipt AFTER UPDATE OF registered_at, received_sku ON units
WHEN OLD.registered_at IS NOT NEW.registered_at OR OLD.received_sku IS NOT NEW.received_sku
BEGIN
  INSERT INTO recon_dirty SELECT 'line', NEW.order_line_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'line' AND id = NEW.order_line_id);
END;

-- trigger: recon_dirty_unit_update
CREATE TRIGGER recon_dirty_unit_update AFTER UPDATE ON units
WHEN OLD.stage IS NOT NEW.stage OR OLD.registered_at IS NOT NEW.registered_at OR OLD.received_sku IS NOT NEW.received_sku
  OR OLD.offer_sku IS NOT NEW.offer_sku OR OLD.rebound_item_id IS NOT NEW.rebound_item_id OR OLD.order_line_id IS NOT NEW.order_line_id
  OR (NEW.stage = 'missing' AND OLD.updated_at IS NOT NEW.updated_at)
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.return_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.return_id);
END;

-- trigger: recon_lines_intent_delete
CREATE TRIGGER recon_lines_intent_delete AFTER DELETE ON intents
WHEN OLD.kind = 'mirakl.refund' AND OLD.state = 'confirmed' AND OLD.refund_id IS NOT NULL
BEGIN
  INSERT INTO recon_lines_recount VALUES (OLD.subject, OLD.order_line_id);
END;

-- trigger: recon_lines_intent_insert
CREATE TRIGGER recon_lines_intent_insert AFTER INSERT ON intents
WHEN NEW.kind = 'mirakl.refund' AND NEW.state = 'confirmed' AND NEW.refund_id IS NOT NULL
BEGIN
  INSERT INTO recon_lines_recount VALUES (NEW.subject, NEW.order_line_id);
END;

-- trigger: recon_lines_intent_update
CREATE TRIGGER recon_lines_intent_update AFTER UPDATE OF kind, subject, state, payload, outcome ON intents
WHEN (OLD.kind = 'mirakl.refund' AND OLD.state = 'confirmed' AND OLD.refund_id IS NOT NULL)
  OR (NEW.kind = 'mirakl.refund' AND NEW.state = 'confirmed' AND NEW.refund_id IS NOT NULL)
BEGIN
  INSERT INTO recon_lines_recount VALUES (OLD.subject, OLD.order_line_id), (NEW.subject, NEW.order_line_id);
END;

-- trigger: recon_lines_match_delete
CREATE TRIGGER recon_lines_match_delete AFTER DELETE ON recon_matches
WHEN OLD.kind = 'refund_line' AND OLD.status = 'confirmed'
BEGIN
  INSERT INTO recon_lines_recount VALUES (OLD.return_id, substr(OLD.candidate, length(OLD.return_id) + 2));
END;

-- trigger: recon_lines_match_insert
CREATE TRIGGER recon_lines_match_insert AFTER INSERT ON recon_matches
WHEN NEW.kind = 'refund_line' AND NEW.status = 'confirmed'
BEGIN
  INSERT INTO recon_lines_recount VALUES (NEW.return_id, substr(NEW.candidate, length(NEW.return_id) + 2));
END;

-- trigger: recon_lines_match_update
CREATE TRIGGER recon_lines_match_update AFTER UPDATE OF kind, subject, candidate, return_id, status ON recon_matches
WHEN (OLD.kind = 'refund_line' AND OLD.status = 'confirmed') OR (NEW.kind = 'refund_line' AND NEW.status = 'confirmed')
BEGIN
  INSERT INTO recon_lines_recount VALUES (OLD.return_id, substr(OLD.candidate, length(OLD.return_id) + 2)),
    (NEW.return_id, substr(NEW.candidate, length(NEW.return_id) + 2));
END;

-- trigger: recon_lines_recount
CREATE TRIGGER recon_lines_recount INSTEAD OF INSERT ON recon_lines_recount
BEGIN
  INSERT INTO recon_lines (return_id, order_line_id, verified, first_verified_at, refunded_minor)
  SELECT NEW.return_id, NEW.order_line_id,
    (SELECT count(*) FROM units u WHERE u.return_id = NEW.return_id AND u.order_line_id = NEW.order_line_id
      AND u.registered_at IS NOT NULL AND (u.received_sku IS NULL OR u.received_sku = u.offer_sku)),
    (SELECT min(u.registered_at) FROM units u WHERE u.return_id = NEW.return_id AND u.order_line_id = NEW.order_line_id
      AND u.registered_at IS NOT NULL AND (u.received_sku IS NULL OR u.received_sku = u.offer_sku)),
    (SELECT sum(f.amount_minor) FROM (
        SELECT i.refund_id FROM intents i
        WHERE i.subject = NEW.return_id AND i.order_line_id = NEW.order_line_id AND i.kind = 'mirakl.refund' AND i.state = 'confirmed'
          AND i.refund_id IS NOT NULL
        UNION ALL
        SELECT m.subject FROM recon_matches m
        WHERE m.return_id = NEW.return_id AND m.candidate = NEW.return_id || ':' || NEW.order_line_id AND m.kind = 'refund_line'
          AND m.status = 'confirmed') AS k
      CROSS JOIN mirakl_refunds f ON f.id = k.refund_id
      WHERE f.refund_state = 'REFUNDED')
  WHERE NEW.return_id IS NOT NULL AND NEW.order_line_id IS NOT NULL
  ON CONFLICT (return_id, order_line_id) DO UPDATE SET
    verified = excluded.verified, first_verified_at = excluded.first_verified_at, refunded_minor = excluded.refunded_minor
  WHERE (recon_lines.verified, recon_lines.first_verified_at, recon_lines.refunded_minor)
    IS NOT (excluded.verified, excluded.first_verified_at, excluded.refunded_minor);
END;

-- trigger: recon_lines_refund_delete
CREATE TRIGGER recon_lines_refund_delete AFTER DELETE ON mirakl_refunds
WHEN OLD.refund_state = 'REFUNDED'
BEGIN
  INSERT INTO recon_lines_recount
  SELECT subject, order_line_id FROM intents WHERE refund_id = OLD.id AND kind = 'mirakl.refund' AND state = 'confirmed'
  UNION ALL
  SELECT return_id, substr(candidate, length(return_id) + 2) FROM recon_matches WHERE kind = 'refund_line' AND subject = OLD.id AND status = 'confirmed';
END;

-- trigger: recon_lines_refund_insert
CREATE TRIGGER recon_lines_refund_insert AFTER INSERT ON mirakl_refunds
WHEN NEW.refund_state = 'REFUNDED'
BEGIN
  INSERT INTO recon_lines_recount
  SELECT subject, order_line_id FROM intents WHERE refund_id = NEW.id AND kind = 'mirakl.refund' AND state = 'confirmed'
  UNION ALL
  SELECT return_id, substr(candidate, length(return_id) + 2) FROM recon_matches WHERE kind = 'refund_line' AND subject = NEW.id AND status = 'confirmed';
END;

-- trigger: recon_lines_refund_update
CREATE TRIGGER recon_lines_refund_update AFTER UPDATE OF id, refund_state, amount_minor ON mirakl_refunds
WHEN (OLD.refund_state = 'REFUNDED' OR NEW.refund_state = 'REFUNDED')
  AND (OLD.id IS NOT NEW.id OR OLD.refund_state IS NOT NEW.refund_state OR OLD.amount_minor IS NOT NEW.amount_minor)
BEGIN
  INSERT INTO recon_lines_recount
  SELECT subject, order_line_id FROM intents WHERE refund_id IN (OLD.id, NEW.id) AND kind = 'mirakl.refund' AND state = 'confirmed'
  UNION ALL
  SELECT return_id, substr(candidate, length(return_id) + 2) FROM recon_matches
  WHERE kind = 'refund_line' AND subject IN (OLD.id, NEW.id) AND status = 'confirmed';
END;

-- trigger: recon_lines_unit_delete
CREATE TRIGGER recon_lines_unit_delete AFTER DELETE ON units
WHEN OLD.registered_at IS NOT NULL AND (OLD.received_sku IS NULL OR OLD.received_sku = OLD.offer_sku)
BEGIN
  INSERT INTO recon_lines_recount VALUES (OLD.return_id, OLD.order_line_id);
END;

-- trigger: recon_lines_unit_insert
CREATE TRIGGER recon_lines_unit_insert AFTER INSERT ON units
WHEN NEW.registered_at IS NOT NULL AND (NEW.received_sku IS NULL OR NEW.received_sku = NEW.offer_sku)
BEGIN
  INSERT INTO recon_lines_recount VALUES (NEW.return_id, NEW.order_line_id);
END;

-- trigger: recon_lines_unit_update
CREATE TRIGGER recon_lines_unit_update AFTER UPDATE OF registered_at, received_sku, offer_sku, return_id, order_line_id ON units
WHEN OLD.registered_at IS NOT NEW.registered_at OR OLD.received_sku IS NOT NEW.received_sku OR OLD.offer_sku IS NOT NEW.offer_sku
  OR OLD.return_id IS NOT NEW.return_id OR OLD.order_line_id IS NOT NEW.order_line_id
BEGIN
  INSERT INTO recon_lines_recount VALUES (OLD.return_id, OLD.order_line_id), (NEW.return_id, NEW.order_line_id);
END;

-- trigger: refunds_unseen_intent_delete
CREATE TRIGGER refunds_unseen_intent_delete AFTER DELETE ON intents WHEN OLD.kind = 'mirakl.refund' AND OLD.state = 'confirmed'
BEGIN
  DELETE FROM refunds_unseen WHERE intent_id = OLD.id;
END;

-- trigger: refunds_unseen_intent_insert
CREATE TRIGGER refunds_unseen_intent_insert AFTER INSERT ON intents WHEN NEW.kind = 'mirakl.refund' AND NEW.state = 'confirmed'
BEGIN
  INSERT INTO refunds_unseen (intent_id, updated_at) SELECT NEW.id, NEW.updated_at
  WHERE NOT EXISTS (SELECT 1 FROM mirakl_refunds f WHERE f.id = NEW.refund_id);
END;

-- trigger: refunds_unseen_intent_update
CREATE TRIGGER refunds_unseen_intent_update AFTER UPDATE OF id, kind, state, outcome, updated_at ON intents
  WHEN (OLD.kind = 'mirakl.refund' AND OLD.state = 'confirmed') OR (NEW.kind = 'mirakl.refund' AND NEW.state = 'confirmed')
BEGIN
  DELETE FROM refunds_unseen WHERE intent_id = OLD.id;
  INSERT INTO refunds_unseen (intent_id, updated_at) SELECT NEW.id, NEW.updated_at
  WHERE NEW.kind = 'mirakl.refund' AND NEW.state = 'confirmed' AND NOT EXISTS (SELECT 1 FROM mirakl_refunds f WHERE f.id = NEW.refund_id);
END;

-- trigger: refunds_unseen_refund_delete
CREATE TRIGGER refunds_unseen_refund_delete AFTER DELETE ON mirakl_refunds
BEGIN
  INSERT INTO refunds_unseen (intent_id, updated_at) SELECT i.id, i.updated_at FROM intents i
  WHERE i.refund_id = OLD.id AND i.kind = 'mirakl.refund' AND i.state = 'confirmed' AND NOT EXISTS (SELECT 1 FROM refunds_unseen u WHERE u.intent_id = i.id);
END;

-- trigger: refunds_unseen_refund_insert
CREATE TRIGGER refunds_unseen_refund_insert AFTER INSERT ON mirakl_refunds
BEGIN
  DELETE FROM refunds_unseen WHERE intent_id IN (SELECT id FROM intents WHERE refund_id = NEW.id AND kind = 'mirakl.refund' AND state = 'confirmed');
END;

-- trigger: refunds_unseen_refund_rekey
CREATE TRIGGER refunds_unseen_refund_rekey AFTER UPDATE OF id ON mirakl_refunds
BEGIN
  INSERT INTO refunds_unseen (intent_id, updated_at) SELECT i.id, i.updated_at FROM intents i
  WHERE i.refund_id = OLD.id AND i.kind = 'mirakl.refund' AND i.state = 'confirmed' AND NOT EXISTS (SELECT 1 FROM refunds_unseen u WHERE u.intent_id = i.id);
  DELETE FROM refunds_unseen WHERE intent_id IN (SELECT id FROM intents WHERE refund_id = NEW.id AND kind = 'mirakl.refund' AND state = 'confirmed');
END;

-- trigger: return_search_mirakl_insert
CREATE TRIGGER return_search_mirakl_insert AFTER INSERT ON mirakl_returns BEGIN
  DELETE FROM return_search_terms WHERE return_id = NEW.id AND kind = 'mirakl';
  INSERT INTO return_search_terms (return_id, kind, term)
    VALUES (NEW.id, 'mirakl', concat_ws(' ', NEW.id, NEW.commercial_id, NEW.order_id, NEW.rma, NEW.tracking_number));
  DELETE FROM return_search_terms WHERE return_id = NEW.id AND kind = 'order';
  INSERT INTO return_search_terms (return_id, kind, term) SELECT return_id, 'order', term FROM return_order_terms WHERE return_id = NEW.id;
END;

-- trigger: return_search_mirakl_update
CREATE TRIGGER return_search_mirakl_update AFTER UPDATE OF commercial_id, order_id, rma, tracking_number ON mirakl_returns
  WHEN OLD.commercial_id IS NOT NEW.commercial_id OR OLD.order_id IS NOT NEW.order_id OR OLD.rma IS NOT NEW.rma OR OLD.tracking_number IS NOT NEW.tracking_number
BEGIN
  DELETE FROM return_search_terms WHERE return_id = NEW.id AND kind = 'mirakl';
  INSERT INTO return_search_terms (return_id, kind, term)
    VALUES (NEW.id, 'mirakl', concat_ws(' ', NEW.id, NEW.commercial_id, NEW.order_id, NEW.rma, NEW.tracking_number));
END;

-- trigger: return_search_order_insert
CREATE TRIGGER return_search_order_insert AFTER INSERT ON mirakl_orders BEGIN
  DELETE FROM return_search_terms WHERE kind = 'order' AND return_id IN (SELECT r.id FROM mirakl_returns r WHERE r.order_id = NEW.order_id);
  INSERT INTO return_search_terms (return_id, kind, term) SELECT return_id, 'order', term FROM return_order_terms WHERE order_id = NEW.order_id;
END;

-- trigger: return_search_order_line_insert
CREATE TRIGGER return_search_order_line_insert AFTER INSERT ON mirakl_order_lines BEGIN
  DELETE FROM return_search_terms WHERE kind = 'order' AND return_id IN (SELECT rl.return_id FROM mirakl_return_lines rl WHERE rl.order_line_id = NEW.order_line_id);
  INSERT INTO return_search_terms (return_id, kind, term) SELECT return_id, 'order', term FROM return_order_terms
    WHERE return_id IN (SELECT rl.return_id FROM mirakl_return_lines rl WHERE rl.order_line_id = NEW.order_line_id);
END;

-- trigger: return_search_order_update
CREATE TRIGGER return_search_order_update AFTER UPDATE OF customer_name, customer_email ON mirakl_orders
  WHEN OLD.customer_name IS NOT NEW.customer_name OR OLD.customer_email IS NOT NEW.customer_email
BEGIN
  DELETE FROM return_search_terms WHERE kind = 'order' AND return_id IN (SELECT r.id FROM mirakl_returns r WHERE r.order_id = NEW.order_id);
  INSERT INTO return_search_terms (return_id, kind, term) SELECT return_id, 'order', term FROM return_order_terms WHERE order_id = NEW.order_id;
END;

-- trigger: return_search_rebound_insert
CREATE TRIGGER return_search_rebound_insert AFTER INSERT ON rebound_return_orders WHEN NEW.return_id IS NOT NULL BEGIN
  DELETE FROM return_search_terms WHERE return_id = NEW.return_id AND kind = 'rebound';
  INSERT INTO return_search_terms (return_id, kind, term) VALUES (NEW.return_id, 'rebound', concat_ws(' ', NEW.rebound_order_id, NEW.tracking_number));
END;

-- trigger: return_search_rebound_update
CREATE TRIGGER return_search_rebound_update AFTER UPDATE OF rebound_order_id, tracking_number, return_id ON rebound_return_orders
  WHEN NEW.return_id IS NOT NULL AND (OLD.rebound_order_id IS NOT NEW.rebound_order_id OR OLD.tracking_number IS NOT NEW.tracking_number OR OLD.return_id IS NOT NEW.return_id)
BEGIN
  DELETE FROM return_search_terms WHERE return_id = NEW.return_id AND kind = 'rebound';
  INSERT INTO return_search_terms (return_id, kind, term) VALUES (NEW.return_id, 'rebound', concat_ws(' ', NEW.rebound_order_id, NEW.tracking_number));
END;

-- trigger: return_search_return_line_insert
CREATE TRIGGER return_search_return_line_insert AFTER INSERT ON mirakl_return_lines BEGIN
  DELETE FROM return_search_terms WHERE kind = 'order' AND return_id = NEW.return_id;
  INSERT INTO return_search_terms (return_id, kind, term) SELECT return_id, 'order', term FROM return_order_terms WHERE return_id = NEW.return_id;
END;

-- trigger: return_search_terms_delete
CREATE TRIGGER return_search_terms_delete AFTER DELETE ON return_search_terms BEGIN
  INSERT INTO return_search (return_search, rowid, term) VALUES ('delete', OLD.id, OLD.term);
END;

-- trigger: return_search_terms_insert
CREATE TRIGGER return_search_terms_insert AFTER INSERT ON return_search_terms BEGIN
  INSERT INTO return_search (rowid, term) VALUES (NEW.id, NEW.term);
END;

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
) STRICT;

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
) STRICT;

-- table: mirakl_order_lines
CREATE TABLE mirakl_order_lines (
  order_line_id TEXT PRIMARY KEY,
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
  can_refund INTEGER NOT NULL CHECK (can_refund IN (0, 1))
) STRICT;

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
) STRICT;

-- table: mirakl_return_lines
CREATE TABLE mirakl_return_lines (
  return_id TEXT NOT NULL REFERENCES mirakl_returns (id),
  order_line_id TEXT NOT NULL,
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  reason_code TEXT NOT NULL,
  PRIMARY KEY (return_id, order_line_id)
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
) STRICT;

-- table: sync_cursors
CREATE TABLE sync_cursors (
  feed TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;

-- table: units
CREATE TABLE units (
  id TEXT PRIMARY KEY,
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
  updated_at TEXT NOT NULL
) STRICT;

-- index: audit_log_subject
CREATE INDEX audit_log_subject ON audit_log (subject, seq);

-- index: exceptions_one_open
CREATE UNIQUE INDEX exceptions_one_open ON exceptions (type, subject_key) WHERE state != 'resolved';

-- index: exceptions_state
CREATE INDEX exceptions_state ON exceptions (state, type);

-- index: intents_due
CREATE INDEX intents_due ON intents (kind, state, next_attempt_at);

-- index: intents_recent
CREATE INDEX intents_recent ON intents (kind, state, updated_at);

-- index: intents_subject
CREATE INDEX intents_subject ON intents (subject);

-- index: mirakl_order_lines_order
CREATE INDEX mirakl_order_lines_order ON mirakl_order_lines (order_id);

-- index: mirakl_refunds_line
CREATE INDEX mirakl_refunds_line ON mirakl_refunds (order_line_id);

-- index: mirakl_refunds_state
CREATE INDEX mirakl_refunds_state ON mirakl_refunds (refund_state);

-- index: mirakl_return_lines_line
CREATE INDEX mirakl_return_lines_line ON mirakl_return_lines (order_line_id);

-- index: mirakl_returns_commercial
CREATE INDEX mirakl_returns_commercial ON mirakl_returns (commercial_id);

-- index: mirakl_returns_created
CREATE INDEX mirakl_returns_created ON mirakl_returns (date_created, id);

-- index: mirakl_returns_order
CREATE INDEX mirakl_returns_order ON mirakl_returns (order_id);

-- index: rebound_events_order
CREATE INDEX rebound_events_order ON rebound_events (rebound_order_id);

-- index: rebound_items_order
CREATE INDEX rebound_items_order ON rebound_items (rebound_order_id);

-- index: rebound_return_orders_refresh
CREATE INDEX rebound_return_orders_refresh ON rebound_return_orders (is_open, synced_at);

-- index: rebound_return_orders_return
CREATE UNIQUE INDEX rebound_return_orders_return ON rebound_return_orders (return_id);

-- index: rebound_return_orders_status
CREATE INDEX rebound_return_orders_status ON rebound_return_orders (status_rank);

-- index: request_journal_at
CREATE INDEX request_journal_at ON request_journal (at);

-- index: return_intake_due
CREATE INDEX return_intake_due ON return_intake (stage, next_attempt_at);

-- index: stock_increments_state
CREATE INDEX stock_increments_state ON stock_increments (state, offer_sku);

-- index: units_line
CREATE INDEX units_line ON units (order_line_id);

-- index: units_return
CREATE INDEX units_return ON units (return_id);

-- index: units_stage
CREATE INDEX units_stage ON units (stage_rank, return_id);

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

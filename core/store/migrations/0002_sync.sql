-- The bridge's own record of both systems, the units moving between them, and every side effect it causes.
-- Money is stored in integer minor units (pence, cents) so sums compare exactly.

-- Returns as Mirakl reports them (RT11). Mirakl owns the return request.
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
CREATE INDEX mirakl_returns_order ON mirakl_returns (order_id);
CREATE INDEX mirakl_returns_commercial ON mirakl_returns (commercial_id);
CREATE INDEX mirakl_returns_created ON mirakl_returns (date_created, id);

CREATE TABLE mirakl_return_lines (
  return_id TEXT NOT NULL REFERENCES mirakl_returns (id),
  order_line_id TEXT NOT NULL,
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  reason_code TEXT NOT NULL,
  PRIMARY KEY (return_id, order_line_id)
) STRICT;
CREATE INDEX mirakl_return_lines_line ON mirakl_return_lines (order_line_id);

-- Orders and lines as OR11 reports them: what was sold, at what price, on which offer.
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
CREATE INDEX mirakl_order_lines_order ON mirakl_order_lines (order_id);

-- The refund ledger as Mirakl reports it (OR11 refunds[]): the source of truth for what was refunded.
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
CREATE INDEX mirakl_refunds_line ON mirakl_refunds (order_line_id);
CREATE INDEX mirakl_refunds_state ON mirakl_refunds (refund_state);

-- Where each return stands in the bridge (order check, sales order, ReBound return, label pushed back).
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
CREATE INDEX return_intake_due ON return_intake (stage, next_attempt_at);

-- ReBound's view (ReBound owns physical status).
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
CREATE INDEX rebound_return_orders_refresh ON rebound_return_orders (is_open, synced_at);
CREATE UNIQUE INDEX rebound_return_orders_return ON rebound_return_orders (return_id);
CREATE INDEX rebound_return_orders_status ON rebound_return_orders (status_rank);

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
CREATE INDEX rebound_items_order ON rebound_items (rebound_order_id);

-- Every ReBound notification or polled event, deduplicated by its key, with what we did with it.
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
CREATE INDEX rebound_events_order ON rebound_events (rebound_order_id);

-- One row per physical unit of a return line. Only ReBound events move it, and only forward.
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
CREATE INDEX units_return ON units (return_id);
CREATE INDEX units_line ON units (order_line_id);
CREATE INDEX units_stage ON units (stage_rank, return_id);

-- Every side effect is an intent first: written before the call, its outcome recorded after it.
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
CREATE INDEX intents_due ON intents (kind, state, next_attempt_at);
CREATE INDEX intents_recent ON intents (kind, state, updated_at);
CREATE INDEX intents_subject ON intents (subject);

-- Stock: one increment per sellable unit, flushed in batches as absolute quantities (STO01).
CREATE TABLE stock_increments (
  unit_id TEXT PRIMARY KEY,
  offer_sku TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'importing', 'applied', 'rejected', 'skipped')),
  import_intent_id INTEGER,
  note TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX stock_increments_state ON stock_increments (state, offer_sku);

-- Exceptions: at most one open per (type, subject).
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
CREATE UNIQUE INDEX exceptions_one_open ON exceptions (type, subject_key) WHERE state != 'resolved';
CREATE INDEX exceptions_state ON exceptions (state, type);

-- Health: every API call, our own call budgets, and each feed's high-water mark.
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
CREATE INDEX request_journal_at ON request_journal (at);

CREATE TABLE api_budgets (
  key TEXT PRIMARY KEY,
  last_call_at INTEGER NOT NULL
) STRICT;

CREATE TABLE sync_cursors (
  feed TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;

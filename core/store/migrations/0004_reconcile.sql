-- Reconciliation. Triggers on the synced tables record which subjects changed (recon_dirty), so a pass looks only
-- at those; the matcher keeps what both systems say about each return side by side (recon_returns) and the links
-- it found or suggests (recon_matches); detectors keep each divergence with its SLA clock (recon_watch) until it is
-- raised, accepted by a person, or converges.

-- The triggers test before inserting: an outer upsert's conflict policy would override an OR IGNORE inside them.
CREATE TABLE recon_dirty (
  scope TEXT NOT NULL CHECK (scope IN ('return', 'refund', 'intent', 'line')),
  id TEXT NOT NULL,
  PRIMARY KEY (scope, id)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER recon_dirty_return_insert AFTER INSERT ON mirakl_returns
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.id);
END;
CREATE TRIGGER recon_dirty_return_update AFTER UPDATE ON mirakl_returns
WHEN OLD.state IS NOT NEW.state OR OLD.last_updated IS NOT NEW.last_updated OR OLD.tracking_number IS NOT NEW.tracking_number
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.id);
END;
CREATE TRIGGER recon_dirty_return_line AFTER INSERT ON mirakl_return_lines
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.return_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.return_id);
  INSERT INTO recon_dirty SELECT 'line', NEW.order_line_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'line' AND id = NEW.order_line_id);
END;
CREATE TRIGGER recon_dirty_intake_insert AFTER INSERT ON return_intake
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.return_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.return_id);
END;
CREATE TRIGGER recon_dirty_intake_update AFTER UPDATE OF stage ON return_intake
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.return_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.return_id);
END;
CREATE TRIGGER recon_dirty_unit_insert AFTER INSERT ON units
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.return_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.return_id);
  INSERT INTO recon_dirty SELECT 'line', NEW.order_line_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'line' AND id = NEW.order_line_id);
END;
CREATE TRIGGER recon_dirty_unit_update AFTER UPDATE ON units
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.return_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.return_id);
END;
-- A receipt (or its SKU) changing on a line re-judges every refund of that line.
CREATE TRIGGER recon_dirty_unit_receipt AFTER UPDATE OF registered_at, received_sku ON units
WHEN OLD.registered_at IS NOT NEW.registered_at OR OLD.received_sku IS NOT NEW.received_sku
BEGIN
  INSERT INTO recon_dirty SELECT 'line', NEW.order_line_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'line' AND id = NEW.order_line_id);
END;
CREATE TRIGGER recon_dirty_rebound_order_insert AFTER INSERT ON rebound_return_orders
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.return_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.return_id);
END;
CREATE TRIGGER recon_dirty_rebound_order_update AFTER UPDATE ON rebound_return_orders
WHEN OLD.status IS NOT NEW.status OR OLD.updated_at IS NOT NEW.updated_at OR OLD.tracking_number IS NOT NEW.tracking_number
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.return_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.return_id);
END;
CREATE TRIGGER recon_dirty_rebound_item_insert AFTER INSERT ON rebound_items
BEGIN
  INSERT INTO recon_dirty SELECT DISTINCT 'return', return_id FROM rebound_return_orders WHERE rebound_order_id = NEW.rebound_order_id
    AND NOT EXISTS (SELECT 1 FROM recon_dirty d WHERE d.scope = 'return' AND d.id = rebound_return_orders.return_id);
END;
CREATE TRIGGER recon_dirty_rebound_item_update AFTER UPDATE ON rebound_items
BEGIN
  INSERT INTO recon_dirty SELECT DISTINCT 'return', return_id FROM rebound_return_orders WHERE rebound_order_id = NEW.rebound_order_id
    AND NOT EXISTS (SELECT 1 FROM recon_dirty d WHERE d.scope = 'return' AND d.id = rebound_return_orders.return_id);
END;
CREATE TRIGGER recon_dirty_intent_insert AFTER INSERT ON intents
BEGIN
  INSERT INTO recon_dirty SELECT 'intent', CAST(NEW.id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'intent' AND id = CAST(NEW.id AS TEXT));
  INSERT INTO recon_dirty SELECT 'return', NEW.subject WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.subject);
END;
CREATE TRIGGER recon_dirty_intent_update AFTER UPDATE OF state, outcome ON intents
BEGIN
  INSERT INTO recon_dirty SELECT 'intent', CAST(NEW.id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'intent' AND id = CAST(NEW.id AS TEXT));
  INSERT INTO recon_dirty SELECT 'return', NEW.subject WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.subject);
END;
CREATE TRIGGER recon_dirty_refund_insert AFTER INSERT ON mirakl_refunds
BEGIN
  INSERT INTO recon_dirty SELECT 'refund', NEW.id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'refund' AND id = NEW.id);
  INSERT INTO recon_dirty SELECT DISTINCT 'return', return_id FROM mirakl_return_lines WHERE order_line_id = NEW.order_line_id
    AND NOT EXISTS (SELECT 1 FROM recon_dirty d WHERE d.scope = 'return' AND d.id = mirakl_return_lines.return_id);
END;
CREATE TRIGGER recon_dirty_refund_update AFTER UPDATE OF refund_state, amount_minor ON mirakl_refunds
BEGIN
  INSERT INTO recon_dirty SELECT 'refund', NEW.id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'refund' AND id = NEW.id);
  INSERT INTO recon_dirty SELECT DISTINCT 'return', return_id FROM mirakl_return_lines WHERE order_line_id = NEW.order_line_id
    AND NOT EXISTS (SELECT 1 FROM recon_dirty d WHERE d.scope = 'return' AND d.id = mirakl_return_lines.return_id);
END;
CREATE TRIGGER recon_dirty_stock_update AFTER UPDATE OF state ON stock_increments
BEGIN
  INSERT INTO recon_dirty SELECT DISTINCT 'return', return_id FROM units WHERE id = NEW.unit_id
    AND NOT EXISTS (SELECT 1 FROM recon_dirty d WHERE d.scope = 'return' AND d.id = units.return_id);
END;

-- Mirakl's states of a return as we saw them, for the explainer's timeline (the returns table keeps only the last).
CREATE TABLE mirakl_return_states (
  id INTEGER PRIMARY KEY,
  return_id TEXT NOT NULL,
  state TEXT NOT NULL,
  last_updated TEXT NOT NULL,
  seen_at TEXT NOT NULL
) STRICT;
CREATE INDEX mirakl_return_states_return ON mirakl_return_states (return_id, id);
INSERT INTO mirakl_return_states (return_id, state, last_updated, seen_at) SELECT id, state, last_updated, synced_at FROM mirakl_returns;
CREATE TRIGGER mirakl_return_states_insert AFTER INSERT ON mirakl_returns
BEGIN
  INSERT INTO mirakl_return_states (return_id, state, last_updated, seen_at) VALUES (NEW.id, NEW.state, NEW.last_updated, NEW.synced_at);
END;
CREATE TRIGGER mirakl_return_states_update AFTER UPDATE OF state ON mirakl_returns WHEN OLD.state IS NOT NEW.state
BEGIN
  INSERT INTO mirakl_return_states (return_id, state, last_updated, seen_at) VALUES (NEW.id, NEW.state, NEW.last_updated, NEW.synced_at);
END;

-- One row per Mirakl return: what Mirakl says, what ReBound says, what we did, and which fields disagree.
CREATE TABLE recon_returns (
  return_id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL,
  commercial_id TEXT NOT NULL,
  rma TEXT,
  date_created TEXT NOT NULL,
  currency TEXT,
  mirakl_state TEXT NOT NULL,
  mirakl_tracking TEXT,
  requested_units INTEGER NOT NULL,
  rebound_order_id TEXT,
  rebound_status TEXT,
  rebound_tracking TEXT,
  units_arrived INTEGER NOT NULL,
  units_missing INTEGER NOT NULL,
  units_sellable INTEGER NOT NULL,
  units_restocked INTEGER NOT NULL,
  expected_refund_minor INTEGER NOT NULL,
  refunded_minor INTEGER NOT NULL,
  refund_status TEXT NOT NULL CHECK (refund_status IN ('none', 'pending', 'partial', 'refunded', 'over')),
  drift INTEGER NOT NULL CHECK (drift IN (0, 1)),
  drift_fields TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX recon_returns_created ON recon_returns (date_created, return_id);
CREATE INDEX recon_returns_state ON recon_returns (mirakl_state, date_created);
CREATE INDEX recon_returns_drift ON recon_returns (drift, date_created);
CREATE INDEX recon_returns_rebound_status ON recon_returns (rebound_status, date_created);
CREATE INDEX recon_returns_refund_status ON recon_returns (refund_status, date_created);
-- Search (return, order, RMA, tracking, ReBound order) looks the ids up in the synced tables, which the sync keeps
-- indexed as it writes, so a reconciliation pass does not maintain six more indexes here.
CREATE INDEX mirakl_returns_rma ON mirakl_returns (rma);
CREATE INDEX mirakl_returns_tracking ON mirakl_returns (tracking_number);
CREATE INDEX rebound_return_orders_tracking ON rebound_return_orders (tracking_number);

-- Links between records of the two systems: exact (a reference we wrote), or suggested from shared facts and never
-- acted on until a person confirms it; several equally good candidates are all marked ambiguous.
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
CREATE INDEX recon_matches_candidate ON recon_matches (kind, candidate);
CREATE INDEX recon_matches_return ON recon_matches (return_id);

-- A divergence a detector found, with the time its SLA runs out. 'raised' once an exception exists for it;
-- 'accepted' once a person resolved that exception while the divergence still held (it is not raised again until
-- the sources have converged once).
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
CREATE INDEX recon_watch_due ON recon_watch (due_at) WHERE state = 'waiting';
CREATE INDEX recon_watch_scope ON recon_watch (scope_id, type);

ALTER TABLE exceptions ADD COLUMN severity_rank INTEGER NOT NULL DEFAULT 0;
ALTER TABLE exceptions ADD COLUMN snoozed_until TEXT;
ALTER TABLE exceptions ADD COLUMN resolved_by TEXT;
UPDATE exceptions SET severity_rank = CASE severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END;
UPDATE exceptions SET resolved_by = 'auto' WHERE state = 'resolved';
CREATE INDEX exceptions_return ON exceptions (return_id);
CREATE INDEX exceptions_open_age ON exceptions (state, detected_at);
CREATE INDEX exceptions_owner_age ON exceptions (owner_team, state, detected_at);
CREATE INDEX exceptions_severity_age ON exceptions (severity_rank, state, detected_at);
CREATE INDEX exceptions_assignee ON exceptions (assignee, state);
CREATE INDEX exceptions_snoozed ON exceptions (snoozed_until) WHERE state = 'snoozed';

CREATE TABLE exception_notes (
  id INTEGER PRIMARY KEY,
  exception_id INTEGER NOT NULL REFERENCES exceptions (id),
  at TEXT NOT NULL,
  author TEXT NOT NULL,
  body TEXT NOT NULL
) STRICT;
CREATE INDEX exception_notes_exception ON exception_notes (exception_id, id);

-- Issue 23: the store at a million return lines. The side-by-side grid no longer reads a 22-column copy of the base
-- tables (recon_returns, with five indexes bigger than itself, rewritten by every pass): it reads the view
-- recon_returns over the base tables, whose indexes already serve the state, status and date filters, plus one narrow
-- table of what cannot be read from an index — the refund judgement and the drift (recon_verdicts). A pass reads each
-- return's lines, units and refunds as index ranges instead of building per-line temporary tables, so the children of
-- a return are stored clustered by return (WITHOUT ROWID, keyed by return_id) and order lines by their id: one B-tree
-- descent per range instead of an index search plus a table search per row.

-- What a pass judged about each return. `drift` is a bit set (1 state, 2 tracking, 4 quantity, 8 refund). `gap_minor`
-- is the largest money difference a refund tolerance decides on (refunded against expected, per return and per line,
-- and what a line was refunded in all against its verified units), so a tolerance change re-judges only the returns
-- whose gap exceeds the smaller of the two tolerances. `unrefunded_since` is when the earliest verified line still
-- without a REFUNDED refund was verified (REFUND_STALLED reads only those returns).
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
-- Only the rows a person filters for, newest first: refunds still owed (or overpaid), and drifting returns. The
-- common statuses (refunded, none) are read through the returns' own date index.
CREATE INDEX recon_verdicts_owed ON recon_verdicts (refund_status, date_created) WHERE refund_status IN ('pending', 'partial', 'over');
CREATE INDEX recon_verdicts_drift ON recon_verdicts (date_created) WHERE drift != 0;
CREATE INDEX recon_verdicts_gap ON recon_verdicts (gap_minor) WHERE gap_minor > 0;

-- The previous release's judgements carry over, so the grid is whole from the first start; the first pass after this
-- migration judges everything again (in chunks, between people's actions) and fills in the gaps and dates.
INSERT INTO recon_verdicts (return_id, date_created, refund_status, drift, expected_refund_minor, refunded_minor, gap_minor, unrefunded_since)
SELECT return_id, date_created, refund_status,
  (CASE WHEN instr(',' || drift_fields || ',', ',state,') THEN 1 ELSE 0 END) | (CASE WHEN instr(',' || drift_fields || ',', ',tracking,') THEN 2 ELSE 0 END)
    | (CASE WHEN instr(',' || drift_fields || ',', ',quantity,') THEN 4 ELSE 0 END) | (CASE WHEN instr(',' || drift_fields || ',', ',refund,') THEN 8 ELSE 0 END),
  expected_refund_minor, refunded_minor, abs(refunded_minor - expected_refund_minor), NULL
FROM recon_returns;
DROP TABLE recon_returns;
DELETE FROM sync_cursors WHERE feed = 'reconcile.basis';

-- Triggers on other tables that read the tables rebuilt below: dropped while a table is replaced (SQLite checks every
-- trigger when a table is renamed) and created again, unchanged, at the end. A stock increment settling no longer
-- re-judges its return: no pass reads stock (the grid counts the units restocked when it reads).
DROP TRIGGER recon_dirty_stock_update;
DROP TRIGGER recon_dirty_refund_insert;
DROP TRIGGER recon_dirty_refund_update;
DROP TRIGGER intents_refund_uncertain_rereads;

-- Return lines, clustered by return.
CREATE TABLE mirakl_return_lines_clustered (
  return_id TEXT NOT NULL REFERENCES mirakl_returns (id),
  order_line_id TEXT NOT NULL,
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  reason_code TEXT NOT NULL,
  PRIMARY KEY (return_id, order_line_id)
) STRICT, WITHOUT ROWID;
INSERT INTO mirakl_return_lines_clustered (return_id, order_line_id, quantity, reason_code)
  SELECT return_id, order_line_id, quantity, reason_code FROM mirakl_return_lines ORDER BY return_id, order_line_id;
DROP TABLE mirakl_return_lines;
ALTER TABLE mirakl_return_lines_clustered RENAME TO mirakl_return_lines;
CREATE INDEX mirakl_return_lines_line ON mirakl_return_lines (order_line_id);
CREATE TRIGGER recon_dirty_return_line AFTER INSERT ON mirakl_return_lines
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.return_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.return_id);
  INSERT INTO recon_dirty SELECT 'line', NEW.order_line_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'line' AND id = NEW.order_line_id);
END;

-- Units, clustered by return and line; still found by id through a unique index.
CREATE TABLE units_clustered (
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
  updated_at TEXT NOT NULL,
  PRIMARY KEY (return_id, order_line_id, id)
) STRICT, WITHOUT ROWID;
INSERT INTO units_clustered (id, return_id, order_line_id, offer_sku, rebound_item_id, stage, stage_rank, grade, is_sellable, received_sku,
    registered_at, graded_at, updated_at)
  SELECT id, return_id, order_line_id, offer_sku, rebound_item_id, stage, stage_rank, grade, is_sellable, received_sku, registered_at, graded_at,
    updated_at FROM units ORDER BY return_id, order_line_id, id;
DROP TABLE units;
ALTER TABLE units_clustered RENAME TO units;
CREATE UNIQUE INDEX units_id ON units (id);
CREATE INDEX units_line ON units (order_line_id);
CREATE INDEX units_stage ON units (stage_rank, return_id);
CREATE TRIGGER recon_dirty_unit_insert AFTER INSERT ON units
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.return_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.return_id);
  INSERT INTO recon_dirty SELECT 'line', NEW.order_line_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'line' AND id = NEW.order_line_id);
END;
-- Only what a pass reads: a unit's grade or sellability alone judges nothing (the grid counts those when it reads).
CREATE TRIGGER recon_dirty_unit_update AFTER UPDATE ON units
WHEN OLD.stage IS NOT NEW.stage OR OLD.registered_at IS NOT NEW.registered_at OR OLD.received_sku IS NOT NEW.received_sku
  OR OLD.offer_sku IS NOT NEW.offer_sku OR OLD.rebound_item_id IS NOT NEW.rebound_item_id OR OLD.order_line_id IS NOT NEW.order_line_id
  OR (NEW.stage = 'missing' AND OLD.updated_at IS NOT NEW.updated_at)
BEGIN
  INSERT INTO recon_dirty SELECT 'return', NEW.return_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'return' AND id = NEW.return_id);
END;
-- A receipt (or its SKU) changing on a line re-judges every refund of that line.
CREATE TRIGGER recon_dirty_unit_receipt AFTER UPDATE OF registered_at, received_sku ON units
WHEN OLD.registered_at IS NOT NEW.registered_at OR OLD.received_sku IS NOT NEW.received_sku
BEGIN
  INSERT INTO recon_dirty SELECT 'line', NEW.order_line_id WHERE NOT EXISTS (SELECT 1 FROM recon_dirty WHERE scope = 'line' AND id = NEW.order_line_id);
END;

-- Order lines keyed by their id alone: a pass looks each one up once per return line.
CREATE TABLE mirakl_order_lines_keyed (
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
INSERT INTO mirakl_order_lines_keyed (order_line_id, order_id, offer_id, offer_sku, product_sku, product_title, quantity, price_unit_minor,
    price_minor, shipping_minor, tax_minor, shipping_tax_minor, state, can_refund, tax_mode, taxes, shipping_taxes)
  SELECT order_line_id, order_id, offer_id, offer_sku, product_sku, product_title, quantity, price_unit_minor, price_minor, shipping_minor,
    tax_minor, shipping_tax_minor, state, can_refund, tax_mode, taxes, shipping_taxes FROM mirakl_order_lines ORDER BY order_line_id;
DROP TABLE mirakl_order_lines;
ALTER TABLE mirakl_order_lines_keyed RENAME TO mirakl_order_lines;
CREATE INDEX mirakl_order_lines_order ON mirakl_order_lines (order_id);
CREATE INDEX mirakl_order_lines_offer_sku ON mirakl_order_lines (offer_sku);

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
CREATE TRIGGER intents_refund_uncertain_rereads AFTER UPDATE OF state ON intents
  WHEN NEW.state = 'uncertain' AND NEW.kind = 'mirakl.refund'
BEGIN
  DELETE FROM sync_cursors
  WHERE feed = 'or11:' || (SELECT order_id FROM mirakl_order_lines WHERE order_line_id = NEW.order_line_id);
END;

-- What a line was refunded in all, read from an index alone (refunds of nothing add nothing, and are left out, so
-- the index serves only sums that say `amount_minor != 0`).
CREATE INDEX mirakl_refunds_line_amounts ON mirakl_refunds (order_line_id, amount_minor) WHERE amount_minor != 0;
-- What a pass reads of each return, ReBound return order and refund, in the order of their keys: a chunk of a full pass
-- reads these ranges from start to end instead of looking up every row of the tables in the order they were written.
CREATE INDEX mirakl_returns_judged ON mirakl_returns (id, state, date_created, tracking_number);
CREATE INDEX rebound_return_orders_judged ON rebound_return_orders (return_id, status_rank, status, tracking_number, rebound_order_id);
CREATE INDEX mirakl_refunds_judged ON mirakl_refunds (id, refund_state, amount_minor, order_line_id);
-- The grid's Mirakl state and ReBound status filters, newest first, read from the base tables.
CREATE INDEX mirakl_returns_state ON mirakl_returns (state, date_created, id);
CREATE INDEX rebound_return_orders_status_text ON rebound_return_orders (status);
-- Small partial indexes the detectors read instead of scanning: items ReBound could not match, calls whose outcome is
-- unknown, and the refunds people matched to a return line.
CREATE INDEX rebound_items_unexpected ON rebound_items (rebound_order_id) WHERE is_unexpected = 1;
CREATE INDEX intents_uncertain ON intents (id) WHERE state = 'uncertain';
CREATE INDEX recon_matches_confirmed ON recon_matches (return_id, candidate) WHERE kind = 'refund_line' AND status = 'confirmed';

-- Mirakl and ReBound side by side, one row per Mirakl return. The units are counted when a row is read (a page reads
-- a hundred); what a pass judged comes from recon_verdicts (a return no pass has judged yet shows nothing owed).
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

-- Issue 24 at issue 23's scale: the dashboard's "receipts not refunded" read every verified unit and every refund of its
-- line on each refresh (3.3 s at a million return lines). Per order line, money_lines keeps what that figure is made
-- of — the verified units (registered at the hub with the SKU sold), the line's unit price, and everything Mirakl
-- refunded on it in any state — kept by triggers in the very transactions that write units, refunds and order lines,
-- so it can never lag behind them. The figure "now" reads only the lines that still owe money, through a partial index.
-- The definition stays the one in core/store/money-figures.ts: a figure as at a past moment (a closed month) still
-- counts from the base tables, and a test holds the two equal.
CREATE TABLE money_lines (
  order_line_id TEXT NOT NULL PRIMARY KEY,
  verified INTEGER NOT NULL CHECK (verified >= 0),
  price_unit_minor INTEGER NOT NULL,
  refunded_minor INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
-- The condition must be spelled as the query spells it (core/store/money-figures.ts) for SQLite to use the index, and as a
-- difference: SQLite matches no partial index whose condition compares two columns (`a * b > c`).
CREATE INDEX money_lines_owed ON money_lines (order_line_id, verified, price_unit_minor, refunded_minor) WHERE verified > 0 AND verified * price_unit_minor - refunded_minor > 0;

-- The latest date of any receipt or refund written: the kept figure is the one "as at" any moment after it. A fact dated
-- later than the moment asked for (a refund Mirakl's clock dated ahead of ours, a fake clock in a test) sends the
-- figure back to the base tables, which leave such facts out.
CREATE TABLE money_facts (
  id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  latest_at TEXT NOT NULL
) STRICT;

-- Backfill, from the same definition.
INSERT INTO money_lines (order_line_id, verified, price_unit_minor, refunded_minor)
SELECT k.order_line_id,
  (SELECT count(*) FROM units u WHERE u.order_line_id = k.order_line_id AND u.registered_at IS NOT NULL AND (u.received_sku IS NULL OR u.received_sku = u.offer_sku)),
  COALESCE((SELECT ol.price_unit_minor FROM mirakl_order_lines ol WHERE ol.order_line_id = k.order_line_id), 0),
  (SELECT COALESCE(sum(f.amount_minor), 0) FROM mirakl_refunds f WHERE f.order_line_id = k.order_line_id)
FROM (SELECT order_line_id FROM units WHERE registered_at IS NOT NULL UNION SELECT order_line_id FROM mirakl_refunds) k;
INSERT INTO money_facts (id, latest_at)
SELECT 1, max(COALESCE((SELECT max(registered_at) FROM units), ''), COALESCE((SELECT max(date_created) FROM mirakl_refunds), ''));

-- A verified unit counts on its line; an update that changes whether (or where) it counts moves it.
CREATE TRIGGER money_unit_insert AFTER INSERT ON units
WHEN NEW.registered_at IS NOT NULL AND (NEW.received_sku IS NULL OR NEW.received_sku = NEW.offer_sku)
BEGIN
  INSERT INTO money_lines (order_line_id, verified, price_unit_minor, refunded_minor)
  VALUES (NEW.order_line_id, 1, COALESCE((SELECT price_unit_minor FROM mirakl_order_lines WHERE order_line_id = NEW.order_line_id), 0), 0)
  ON CONFLICT (order_line_id) DO UPDATE SET verified = verified + 1;
  UPDATE money_facts SET latest_at = NEW.registered_at WHERE id = 1 AND NEW.registered_at > latest_at;
END;
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
  UPDATE money_facts SET latest_at = NEW.registered_at WHERE id = 1 AND NEW.registered_at > latest_at;
END;
CREATE TRIGGER money_unit_delete AFTER DELETE ON units
WHEN OLD.registered_at IS NOT NULL AND (OLD.received_sku IS NULL OR OLD.received_sku = OLD.offer_sku)
BEGIN
  UPDATE money_lines SET verified = verified - 1 WHERE order_line_id = OLD.order_line_id;
END;

-- Every refund Mirakl has on a line counts against it, whatever its state.
CREATE TRIGGER money_refund_insert AFTER INSERT ON mirakl_refunds
BEGIN
  INSERT INTO money_lines (order_line_id, verified, price_unit_minor, refunded_minor)
  VALUES (NEW.order_line_id, 0, COALESCE((SELECT price_unit_minor FROM mirakl_order_lines WHERE order_line_id = NEW.order_line_id), 0), NEW.amount_minor)
  ON CONFLICT (order_line_id) DO UPDATE SET refunded_minor = refunded_minor + excluded.refunded_minor;
  UPDATE money_facts SET latest_at = NEW.date_created WHERE id = 1 AND NEW.date_created > latest_at;
END;
CREATE TRIGGER money_refund_update AFTER UPDATE OF amount_minor, order_line_id, date_created ON mirakl_refunds
WHEN OLD.amount_minor IS NOT NEW.amount_minor OR OLD.order_line_id IS NOT NEW.order_line_id OR OLD.date_created IS NOT NEW.date_created
BEGIN
  UPDATE money_lines SET refunded_minor = refunded_minor - OLD.amount_minor WHERE order_line_id = OLD.order_line_id;
  INSERT INTO money_lines (order_line_id, verified, price_unit_minor, refunded_minor)
  VALUES (NEW.order_line_id, 0, COALESCE((SELECT price_unit_minor FROM mirakl_order_lines WHERE order_line_id = NEW.order_line_id), 0), NEW.amount_minor)
  ON CONFLICT (order_line_id) DO UPDATE SET refunded_minor = refunded_minor + excluded.refunded_minor;
  UPDATE money_facts SET latest_at = NEW.date_created WHERE id = 1 AND NEW.date_created > latest_at;
END;
CREATE TRIGGER money_refund_delete AFTER DELETE ON mirakl_refunds
BEGIN
  UPDATE money_lines SET refunded_minor = refunded_minor - OLD.amount_minor WHERE order_line_id = OLD.order_line_id;
END;

-- What a verified unit is worth follows its order line (an order read again in another tax mode changes it).
CREATE TRIGGER money_order_line_insert AFTER INSERT ON mirakl_order_lines
BEGIN
  UPDATE money_lines SET price_unit_minor = NEW.price_unit_minor WHERE order_line_id = NEW.order_line_id;
END;
CREATE TRIGGER money_order_line_price AFTER UPDATE OF price_unit_minor ON mirakl_order_lines
WHEN OLD.price_unit_minor IS NOT NEW.price_unit_minor
BEGIN
  UPDATE money_lines SET price_unit_minor = NEW.price_unit_minor WHERE order_line_id = NEW.order_line_id;
END;
CREATE TRIGGER money_order_line_delete AFTER DELETE ON mirakl_order_lines
BEGIN
  UPDATE money_lines SET price_unit_minor = 0 WHERE order_line_id = OLD.order_line_id;
END;

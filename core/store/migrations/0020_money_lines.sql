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

-- A figure as at a moment before some facts (a refund Mirakl's clock dated seconds ahead of ours, a closed month's report)
-- is the kept lines less the facts dated at or after that moment, counted from the base tables through these indexes:
-- the receipts and refunds dated after a moment are few when the moment is now.
CREATE INDEX units_registered_at ON units (registered_at, order_line_id, received_sku, offer_sku) WHERE registered_at IS NOT NULL;

-- "Paid" is the refunds Mirakl shows REFUNDED dated in a period, summed per currency (the order's, through its line). Per
-- currency and UTC day (the first ten characters of the date, as stored), money_paid_days keeps their count and sum, by
-- triggers on the refunds, the order lines and the orders; a period reads its whole days from it and counts only its
-- first and last day from the refunds, through the covering index below (core/store/money-figures.ts; not a partial
-- one: SQLite would prefer the index on refund_state to it, and an evidence bundle's snapshot has neither).
CREATE TABLE money_paid_days (
  currency TEXT NOT NULL,
  day TEXT NOT NULL,
  refunds INTEGER NOT NULL, -- no CHECK (refunds >= 0): SQLite checks it on the row an upsert takes away, before the conflict
  amount_minor INTEGER NOT NULL,
  PRIMARY KEY (currency, day)
) STRICT, WITHOUT ROWID;
CREATE INDEX mirakl_refunds_paid ON mirakl_refunds (date_created, refund_state, order_line_id, amount_minor);

-- Backfill, from the same definition.
INSERT INTO money_lines (order_line_id, verified, price_unit_minor, refunded_minor)
SELECT k.order_line_id,
  (SELECT count(*) FROM units u WHERE u.order_line_id = k.order_line_id AND u.registered_at IS NOT NULL AND (u.received_sku IS NULL OR u.received_sku = u.offer_sku)),
  COALESCE((SELECT ol.price_unit_minor FROM mirakl_order_lines ol WHERE ol.order_line_id = k.order_line_id), 0),
  (SELECT COALESCE(sum(f.amount_minor), 0) FROM mirakl_refunds f WHERE f.order_line_id = k.order_line_id)
FROM (SELECT order_line_id FROM units WHERE registered_at IS NOT NULL UNION SELECT order_line_id FROM mirakl_refunds) k;
INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
SELECT COALESCE(o.currency, '?'), substr(f.date_created, 1, 10), count(*), sum(f.amount_minor)
FROM mirakl_refunds f
LEFT JOIN mirakl_order_lines ol ON ol.order_line_id = f.order_line_id
LEFT JOIN mirakl_orders o ON o.order_id = ol.order_id
WHERE f.refund_state = 'REFUNDED' GROUP BY 1, 2;

-- A verified unit counts on its line; an update that changes whether (or where) it counts moves it.
CREATE TRIGGER money_unit_insert AFTER INSERT ON units
WHEN NEW.registered_at IS NOT NULL AND (NEW.received_sku IS NULL OR NEW.received_sku = NEW.offer_sku)
BEGIN
  INSERT INTO money_lines (order_line_id, verified, price_unit_minor, refunded_minor)
  VALUES (NEW.order_line_id, 1, COALESCE((SELECT price_unit_minor FROM mirakl_order_lines WHERE order_line_id = NEW.order_line_id), 0), 0)
  ON CONFLICT (order_line_id) DO UPDATE SET verified = verified + 1;
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
END;
CREATE TRIGGER money_refund_update AFTER UPDATE OF amount_minor, order_line_id, date_created ON mirakl_refunds
WHEN OLD.amount_minor IS NOT NEW.amount_minor OR OLD.order_line_id IS NOT NEW.order_line_id OR OLD.date_created IS NOT NEW.date_created
BEGIN
  UPDATE money_lines SET refunded_minor = refunded_minor - OLD.amount_minor WHERE order_line_id = OLD.order_line_id;
  INSERT INTO money_lines (order_line_id, verified, price_unit_minor, refunded_minor)
  VALUES (NEW.order_line_id, 0, COALESCE((SELECT price_unit_minor FROM mirakl_order_lines WHERE order_line_id = NEW.order_line_id), 0), NEW.amount_minor)
  ON CONFLICT (order_line_id) DO UPDATE SET refunded_minor = refunded_minor + excluded.refunded_minor;
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

-- Paid refunds per currency and day. Every statement adds (or, with the signs turned, takes away) a set of refunds to
-- the day and currency they count in; the currency of a line is its order's, '?' while the line or its order is unknown.
CREATE TRIGGER money_paid_refund_insert AFTER INSERT ON mirakl_refunds
WHEN NEW.refund_state = 'REFUNDED'
BEGIN
  INSERT INTO money_paid_days (currency, day, refunds, amount_minor)
  SELECT COALESCE((SELECT o.currency FROM mirakl_order_lines ol JOIN mirakl_orders o ON o.order_id = ol.order_id WHERE ol.order_line_id = NEW.order_line_id), '?'),
    substr(NEW.date_created, 1, 10), 1, NEW.amount_minor WHERE true
  ON CONFLICT (currency, day) DO UPDATE SET refunds = refunds + excluded.refunds, amount_minor = amount_minor + excluded.amount_minor;
END;
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
CREATE TRIGGER money_paid_refund_delete AFTER DELETE ON mirakl_refunds
WHEN OLD.refund_state = 'REFUNDED'
BEGIN
  UPDATE money_paid_days SET refunds = refunds - 1, amount_minor = amount_minor - OLD.amount_minor
  WHERE currency = COALESCE((SELECT o.currency FROM mirakl_order_lines ol JOIN mirakl_orders o ON o.order_id = ol.order_id WHERE ol.order_line_id = OLD.order_line_id), '?')
    AND day = substr(OLD.date_created, 1, 10);
END;

-- A line read for the first time gives its paid refunds its order's currency; a line gone (or moved to another order)
-- takes them back. The orders' own triggers cover a currency corrected and an order read after its lines.
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

-- An order's currency (or the order itself) moves the paid refunds of all its lines.
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

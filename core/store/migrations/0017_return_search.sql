-- The returns grid's quick search (issue 24): case-insensitive, partial ("260402" finds MP202609260402), over the
-- order, return, RMA and tracking ids of both systems, the returned SKUs and the customer's name. One row of terms per
-- return and kind in return_search_terms, kept by triggers on the tables they come from; a trigram full-text index over
-- them (return_search, external content: the text is stored once) answers a substring as an index lookup, so the search
-- stays fast with a year of returns. Queries shorter than three characters use the exact-id indexes instead.
CREATE TABLE return_search_terms (
  id INTEGER PRIMARY KEY,
  return_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('mirakl', 'rebound', 'order')),
  term TEXT NOT NULL,
  UNIQUE (return_id, kind)
) STRICT;

CREATE VIRTUAL TABLE return_search USING fts5(term, content = 'return_search_terms', content_rowid = 'id', tokenize = 'trigram');

CREATE TRIGGER return_search_terms_insert AFTER INSERT ON return_search_terms BEGIN
  INSERT INTO return_search (rowid, term) VALUES (NEW.id, NEW.term);
END;
CREATE TRIGGER return_search_terms_delete AFTER DELETE ON return_search_terms BEGIN
  INSERT INTO return_search (return_search, rowid, term) VALUES ('delete', OLD.id, OLD.term);
END;

-- Mirakl's ids of the return.
CREATE TRIGGER return_search_mirakl_insert AFTER INSERT ON mirakl_returns BEGIN
  DELETE FROM return_search_terms WHERE return_id = NEW.id AND kind = 'mirakl';
  INSERT INTO return_search_terms (return_id, kind, term)
    VALUES (NEW.id, 'mirakl', concat_ws(' ', NEW.id, NEW.commercial_id, NEW.order_id, NEW.rma, NEW.tracking_number));
  DELETE FROM return_search_terms WHERE return_id = NEW.id AND kind = 'order';
  INSERT INTO return_search_terms (return_id, kind, term)
    SELECT NEW.id, 'order', concat_ws(' ', (SELECT o.customer_name FROM mirakl_orders o WHERE o.order_id = NEW.order_id),
      (SELECT group_concat(ol.offer_sku, ' ') FROM mirakl_return_lines rl JOIN mirakl_order_lines ol ON ol.order_line_id = rl.order_line_id
        WHERE rl.return_id = NEW.id));
END;
CREATE TRIGGER return_search_mirakl_update AFTER UPDATE OF commercial_id, order_id, rma, tracking_number ON mirakl_returns
  WHEN OLD.commercial_id IS NOT NEW.commercial_id OR OLD.order_id IS NOT NEW.order_id OR OLD.rma IS NOT NEW.rma OR OLD.tracking_number IS NOT NEW.tracking_number
BEGIN
  DELETE FROM return_search_terms WHERE return_id = NEW.id AND kind = 'mirakl';
  INSERT INTO return_search_terms (return_id, kind, term)
    VALUES (NEW.id, 'mirakl', concat_ws(' ', NEW.id, NEW.commercial_id, NEW.order_id, NEW.rma, NEW.tracking_number));
END;

-- ReBound's ids of its return order.
CREATE TRIGGER return_search_rebound_insert AFTER INSERT ON rebound_return_orders WHEN NEW.return_id IS NOT NULL BEGIN
  DELETE FROM return_search_terms WHERE return_id = NEW.return_id AND kind = 'rebound';
  INSERT INTO return_search_terms (return_id, kind, term) VALUES (NEW.return_id, 'rebound', concat_ws(' ', NEW.rebound_order_id, NEW.tracking_number));
END;
CREATE TRIGGER return_search_rebound_update AFTER UPDATE OF rebound_order_id, tracking_number, return_id ON rebound_return_orders
  WHEN NEW.return_id IS NOT NULL AND (OLD.rebound_order_id IS NOT NEW.rebound_order_id OR OLD.tracking_number IS NOT NEW.tracking_number OR OLD.return_id IS NOT NEW.return_id)
BEGIN
  DELETE FROM return_search_terms WHERE return_id = NEW.return_id AND kind = 'rebound';
  INSERT INTO return_search_terms (return_id, kind, term) VALUES (NEW.return_id, 'rebound', concat_ws(' ', NEW.rebound_order_id, NEW.tracking_number));
END;

-- The customer (from the order, which may arrive after the return) and the returned SKUs (from the order lines).
CREATE TRIGGER return_search_order_insert AFTER INSERT ON mirakl_orders BEGIN
  DELETE FROM return_search_terms WHERE kind = 'order' AND return_id IN (SELECT r.id FROM mirakl_returns r WHERE r.order_id = NEW.order_id);
  INSERT INTO return_search_terms (return_id, kind, term)
    SELECT r.id, 'order', concat_ws(' ', NEW.customer_name, (SELECT group_concat(ol.offer_sku, ' ') FROM mirakl_return_lines rl
      JOIN mirakl_order_lines ol ON ol.order_line_id = rl.order_line_id WHERE rl.return_id = r.id))
    FROM mirakl_returns r WHERE r.order_id = NEW.order_id;
END;
CREATE TRIGGER return_search_order_update AFTER UPDATE OF customer_name ON mirakl_orders WHEN OLD.customer_name IS NOT NEW.customer_name BEGIN
  DELETE FROM return_search_terms WHERE kind = 'order' AND return_id IN (SELECT r.id FROM mirakl_returns r WHERE r.order_id = NEW.order_id);
  INSERT INTO return_search_terms (return_id, kind, term)
    SELECT r.id, 'order', concat_ws(' ', NEW.customer_name, (SELECT group_concat(ol.offer_sku, ' ') FROM mirakl_return_lines rl
      JOIN mirakl_order_lines ol ON ol.order_line_id = rl.order_line_id WHERE rl.return_id = r.id))
    FROM mirakl_returns r WHERE r.order_id = NEW.order_id;
END;
CREATE TRIGGER return_search_order_line_insert AFTER INSERT ON mirakl_order_lines BEGIN
  DELETE FROM return_search_terms WHERE kind = 'order' AND return_id IN (SELECT rl.return_id FROM mirakl_return_lines rl WHERE rl.order_line_id = NEW.order_line_id);
  INSERT INTO return_search_terms (return_id, kind, term)
    SELECT r.id, 'order', concat_ws(' ', (SELECT o.customer_name FROM mirakl_orders o WHERE o.order_id = r.order_id),
      (SELECT group_concat(ol.offer_sku, ' ') FROM mirakl_return_lines x JOIN mirakl_order_lines ol ON ol.order_line_id = x.order_line_id WHERE x.return_id = r.id))
    FROM mirakl_returns r WHERE r.id IN (SELECT rl.return_id FROM mirakl_return_lines rl WHERE rl.order_line_id = NEW.order_line_id);
END;
CREATE TRIGGER return_search_return_line_insert AFTER INSERT ON mirakl_return_lines BEGIN
  DELETE FROM return_search_terms WHERE kind = 'order' AND return_id = NEW.return_id;
  INSERT INTO return_search_terms (return_id, kind, term)
    SELECT r.id, 'order', concat_ws(' ', (SELECT o.customer_name FROM mirakl_orders o WHERE o.order_id = r.order_id),
      (SELECT group_concat(ol.offer_sku, ' ') FROM mirakl_return_lines x JOIN mirakl_order_lines ol ON ol.order_line_id = x.order_line_id WHERE x.return_id = r.id))
    FROM mirakl_returns r WHERE r.id = NEW.return_id;
END;

-- What is already stored.
INSERT INTO return_search_terms (return_id, kind, term)
  SELECT id, 'mirakl', concat_ws(' ', id, commercial_id, order_id, rma, tracking_number) FROM mirakl_returns;
INSERT INTO return_search_terms (return_id, kind, term)
  SELECT return_id, 'rebound', concat_ws(' ', rebound_order_id, tracking_number) FROM rebound_return_orders WHERE return_id IS NOT NULL;
INSERT INTO return_search_terms (return_id, kind, term)
  SELECT r.id, 'order', concat_ws(' ', (SELECT o.customer_name FROM mirakl_orders o WHERE o.order_id = r.order_id),
    (SELECT group_concat(ol.offer_sku, ' ') FROM mirakl_return_lines x JOIN mirakl_order_lines ol ON ol.order_line_id = x.order_line_id WHERE x.return_id = r.id))
  FROM mirakl_returns r;

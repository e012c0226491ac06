-- The customer's email as Mirakl gives it to a shop (OR11 customer_notification_email: an anonymised address that
-- forwards to the customer, the one customer messages come from), so a CS lead can find a customer's returns by it
-- (issue 24). Orders stored before this migration get it at their next read.
ALTER TABLE mirakl_orders ADD COLUMN customer_email TEXT;

-- The 'order' search term of a return — the customer's name and email and the returned SKUs — written once, here;
-- the triggers that keep return_search_terms read it from this view (filtered by return or order id, it is flattened
-- onto the indexes of the tables below).
CREATE VIEW return_order_terms AS
  SELECT r.id AS return_id, r.order_id AS order_id,
    concat_ws(' ', o.customer_name, o.customer_email, (SELECT group_concat(ol.offer_sku, ' ') FROM mirakl_return_lines rl
      JOIN mirakl_order_lines ol ON ol.order_line_id = rl.order_line_id WHERE rl.return_id = r.id)) AS term
  FROM mirakl_returns r LEFT JOIN mirakl_orders o ON o.order_id = r.order_id;

DROP TRIGGER return_search_mirakl_insert;
CREATE TRIGGER return_search_mirakl_insert AFTER INSERT ON mirakl_returns BEGIN
  DELETE FROM return_search_terms WHERE return_id = NEW.id AND kind = 'mirakl';
  INSERT INTO return_search_terms (return_id, kind, term)
    VALUES (NEW.id, 'mirakl', concat_ws(' ', NEW.id, NEW.commercial_id, NEW.order_id, NEW.rma, NEW.tracking_number));
  DELETE FROM return_search_terms WHERE return_id = NEW.id AND kind = 'order';
  INSERT INTO return_search_terms (return_id, kind, term) SELECT return_id, 'order', term FROM return_order_terms WHERE return_id = NEW.id;
END;

DROP TRIGGER return_search_order_insert;
CREATE TRIGGER return_search_order_insert AFTER INSERT ON mirakl_orders BEGIN
  DELETE FROM return_search_terms WHERE kind = 'order' AND return_id IN (SELECT r.id FROM mirakl_returns r WHERE r.order_id = NEW.order_id);
  INSERT INTO return_search_terms (return_id, kind, term) SELECT return_id, 'order', term FROM return_order_terms WHERE order_id = NEW.order_id;
END;

DROP TRIGGER return_search_order_update;
CREATE TRIGGER return_search_order_update AFTER UPDATE OF customer_name, customer_email ON mirakl_orders
  WHEN OLD.customer_name IS NOT NEW.customer_name OR OLD.customer_email IS NOT NEW.customer_email
BEGIN
  DELETE FROM return_search_terms WHERE kind = 'order' AND return_id IN (SELECT r.id FROM mirakl_returns r WHERE r.order_id = NEW.order_id);
  INSERT INTO return_search_terms (return_id, kind, term) SELECT return_id, 'order', term FROM return_order_terms WHERE order_id = NEW.order_id;
END;

DROP TRIGGER return_search_order_line_insert;
CREATE TRIGGER return_search_order_line_insert AFTER INSERT ON mirakl_order_lines BEGIN
  DELETE FROM return_search_terms WHERE kind = 'order' AND return_id IN (SELECT rl.return_id FROM mirakl_return_lines rl WHERE rl.order_line_id = NEW.order_line_id);
  INSERT INTO return_search_terms (return_id, kind, term) SELECT return_id, 'order', term FROM return_order_terms
    WHERE return_id IN (SELECT rl.return_id FROM mirakl_return_lines rl WHERE rl.order_line_id = NEW.order_line_id);
END;

DROP TRIGGER return_search_return_line_insert;
CREATE TRIGGER return_search_return_line_insert AFTER INSERT ON mirakl_return_lines BEGIN
  DELETE FROM return_search_terms WHERE kind = 'order' AND return_id = NEW.return_id;
  INSERT INTO return_search_terms (return_id, kind, term) SELECT return_id, 'order', term FROM return_order_terms WHERE return_id = NEW.return_id;
END;

-- A refund whose outcome is unknown is settled by reading Mirakl's ledger (OR11) after the call. "After" must not
-- depend on our clock, which may jump backwards: when a refund intent becomes uncertain, its order's OR11 read is
-- forgotten, so the probe waits for a read that can only have happened once the call was over.
CREATE TRIGGER intents_refund_uncertain_rereads AFTER UPDATE OF state ON intents
  WHEN NEW.state = 'uncertain' AND NEW.kind = 'mirakl.refund'
BEGIN
  DELETE FROM sync_cursors
  WHERE feed = 'or11:' || (SELECT order_id FROM mirakl_order_lines WHERE order_line_id = NEW.order_line_id);
END;

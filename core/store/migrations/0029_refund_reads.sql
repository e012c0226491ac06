-- The foreign-refund detector (engine-repo foreignRefunds) asks every cycle which refunds in Mirakl's ledger nothing of
-- ours accounts for. Nearly every refund is one we sent, claimed by a confirmed refund intent (not one found already
-- made, via 'ledger': that was someone else's). is_claimed says so, and only refunds not so claimed are indexed by
-- date, so a cycle reads what may be foreign, not every refund of the last two weeks.
-- is_claimed is kept equal to that EXISTS by the triggers below, from both sides: a refund read into the ledger (or its
-- id changed), and a refund intent written, changed (kind, state, outcome, which holds refundId and via) or deleted.
-- A migration that rebuilds intents or mirakl_refunds must create them again. The detector still asks the EXISTS
-- itself: a claim the flag missed could only make it read a refund more, never miss one.
ALTER TABLE mirakl_refunds ADD COLUMN is_claimed INTEGER NOT NULL DEFAULT 0 CHECK (is_claimed IN (0, 1));

UPDATE mirakl_refunds SET is_claimed = EXISTS (SELECT 1 FROM intents i WHERE i.refund_id = mirakl_refunds.id
  AND i.kind = 'mirakl.refund' AND i.state = 'confirmed' AND coalesce(json_extract(i.outcome, '$.via'), '') != 'ledger');

CREATE INDEX mirakl_refunds_unclaimed ON mirakl_refunds (date_created) WHERE is_claimed = 0;

CREATE TRIGGER mirakl_refunds_claim_insert AFTER INSERT ON mirakl_refunds
BEGIN
  UPDATE mirakl_refunds SET is_claimed = EXISTS (SELECT 1 FROM intents i WHERE i.refund_id = mirakl_refunds.id
    AND i.kind = 'mirakl.refund' AND i.state = 'confirmed' AND coalesce(json_extract(i.outcome, '$.via'), '') != 'ledger')
  WHERE id = NEW.id;
END;

CREATE TRIGGER mirakl_refunds_claim_rekey AFTER UPDATE OF id ON mirakl_refunds
BEGIN
  UPDATE mirakl_refunds SET is_claimed = EXISTS (SELECT 1 FROM intents i WHERE i.refund_id = mirakl_refunds.id
    AND i.kind = 'mirakl.refund' AND i.state = 'confirmed' AND coalesce(json_extract(i.outcome, '$.via'), '') != 'ledger')
  WHERE id = NEW.id;
END;

CREATE TRIGGER intents_refund_claim_insert AFTER INSERT ON intents WHEN NEW.refund_id IS NOT NULL
BEGIN
  UPDATE mirakl_refunds SET is_claimed = EXISTS (SELECT 1 FROM intents i WHERE i.refund_id = mirakl_refunds.id
    AND i.kind = 'mirakl.refund' AND i.state = 'confirmed' AND coalesce(json_extract(i.outcome, '$.via'), '') != 'ledger')
  WHERE id = NEW.refund_id;
END;

CREATE TRIGGER intents_refund_claim_update AFTER UPDATE OF kind, state, outcome ON intents
  WHEN OLD.refund_id IS NOT NULL OR NEW.refund_id IS NOT NULL
BEGIN
  UPDATE mirakl_refunds SET is_claimed = EXISTS (SELECT 1 FROM intents i WHERE i.refund_id = mirakl_refunds.id
    AND i.kind = 'mirakl.refund' AND i.state = 'confirmed' AND coalesce(json_extract(i.outcome, '$.via'), '') != 'ledger')
  WHERE id IN (OLD.refund_id, NEW.refund_id);
END;

CREATE TRIGGER intents_refund_claim_delete AFTER DELETE ON intents WHEN OLD.refund_id IS NOT NULL
BEGIN
  UPDATE mirakl_refunds SET is_claimed = EXISTS (SELECT 1 FROM intents i WHERE i.refund_id = mirakl_refunds.id
    AND i.kind = 'mirakl.refund' AND i.state = 'confirmed' AND coalesce(json_extract(i.outcome, '$.via'), '') != 'ledger')
  WHERE id = OLD.refund_id;
END;

-- Whether a refund was raised before (FOREIGN_WRITE, in any state) is asked of each refund that may be foreign: by
-- index, not by reading every exception.
CREATE INDEX exceptions_foreign_write ON exceptions (subject_key) WHERE type = 'FOREIGN_WRITE';

-- The detector's window starts no earlier than the first return this database saw (firstSeenAt): min() by index.
CREATE INDEX mirakl_returns_first_seen ON mirakl_returns (first_seen_at);

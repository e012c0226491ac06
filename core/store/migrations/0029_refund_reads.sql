-- The foreign-refund detector (engine-repo foreignRefunds) asks every cycle which refunds in Mirakl's ledger nothing of
-- ours accounts for. Nearly every refund is one we sent, claimed by a confirmed refund intent (not one found already
-- made, via 'ledger': that was someone else's). is_claimed says so, and only refunds not so claimed are indexed by
-- date, so a cycle reads what may be foreign, not every refund of the last two weeks.
-- is_claimed is kept equal to whether refund_claims (below) holds the refund by the triggers below, from both sides: a
-- refund read into the ledger (or its id changed), and a refund intent written, changed (kind, state, outcome, which
-- holds refundId and via) or deleted; no other kind of intent can claim one.
-- A migration that rebuilds intents or mirakl_refunds must create them again. The detector still asks refund_claims
-- itself, so a refund wrongly left at 0 is only read once more; one wrongly at 1 would never be read (a foreign refund
-- missed): that is what the triggers must never allow (core/store/engine-repo.test.ts replays random histories).
ALTER TABLE mirakl_refunds ADD COLUMN is_claimed INTEGER NOT NULL DEFAULT 0 CHECK (is_claimed IN (0, 1));

-- A refund of ours claims a refund in the ledger: a confirmed refund intent that sent it, not one that found it already
-- made (via 'ledger': someone else made that one). One definition, for the flag's triggers and the detector alike.
CREATE VIEW refund_claims (refund_id) AS
  SELECT refund_id FROM intents
  WHERE kind = 'mirakl.refund' AND state = 'confirmed' AND coalesce(json_extract(outcome, '$.via'), '') != 'ledger';

UPDATE mirakl_refunds SET is_claimed = EXISTS (SELECT 1 FROM refund_claims c WHERE c.refund_id = mirakl_refunds.id);

CREATE INDEX mirakl_refunds_unclaimed ON mirakl_refunds (date_created) WHERE is_claimed = 0;

CREATE TRIGGER mirakl_refunds_claim_insert AFTER INSERT ON mirakl_refunds
BEGIN
  UPDATE mirakl_refunds SET is_claimed = EXISTS (SELECT 1 FROM refund_claims c WHERE c.refund_id = mirakl_refunds.id)
  WHERE id = NEW.id;
END;

CREATE TRIGGER mirakl_refunds_claim_rekey AFTER UPDATE OF id ON mirakl_refunds
BEGIN
  UPDATE mirakl_refunds SET is_claimed = EXISTS (SELECT 1 FROM refund_claims c WHERE c.refund_id = mirakl_refunds.id)
  WHERE id = NEW.id;
END;

CREATE TRIGGER intents_refund_claim_insert AFTER INSERT ON intents WHEN NEW.kind = 'mirakl.refund' AND NEW.refund_id IS NOT NULL
BEGIN
  UPDATE mirakl_refunds SET is_claimed = EXISTS (SELECT 1 FROM refund_claims c WHERE c.refund_id = mirakl_refunds.id)
  WHERE id = NEW.refund_id;
END;

CREATE TRIGGER intents_refund_claim_update AFTER UPDATE OF kind, state, outcome ON intents
  WHEN (OLD.kind = 'mirakl.refund' AND OLD.refund_id IS NOT NULL) OR (NEW.kind = 'mirakl.refund' AND NEW.refund_id IS NOT NULL)
BEGIN
  UPDATE mirakl_refunds SET is_claimed = EXISTS (SELECT 1 FROM refund_claims c WHERE c.refund_id = mirakl_refunds.id)
  WHERE id IN (OLD.refund_id, NEW.refund_id);
END;

CREATE TRIGGER intents_refund_claim_delete AFTER DELETE ON intents WHEN OLD.kind = 'mirakl.refund' AND OLD.refund_id IS NOT NULL
BEGIN
  UPDATE mirakl_refunds SET is_claimed = EXISTS (SELECT 1 FROM refund_claims c WHERE c.refund_id = mirakl_refunds.id)
  WHERE id = OLD.refund_id;
END;

-- Whether a refund was raised before (FOREIGN_WRITE, in any state) is asked of each refund that may be foreign: by
-- index, not by reading every exception. Every type, not FOREIGN_WRITE's alone: an evidence bundle's snapshot looks
-- up each refund's REFUND_WITHOUT_RECEIPT the same way (core/store/report/snapshot.ts), and a partial index on
-- subject_key made SQLite stop building the temporary index that look-up had relied on.
CREATE INDEX exceptions_type_subject ON exceptions (type, subject_key);

-- The detector's window starts no earlier than the first return this database saw (firstSeenAt): min() by index
-- (mirakl_returns_first_seen, migration 0027).

-- The orders whose refunds are in flight (engine-repo ordersWithRefundsInFlight) include those with a refund we sent,
-- a confirmed refund intent, that Mirakl's ledger does not show yet. refunds_unseen holds exactly those intents, with
-- the intent's updated_at, kept by the triggers below from both sides (the intent inserted, changed or deleted; its
-- refund read into the ledger, deleted or re-keyed), so a cycle reads those of the last day instead of every refund
-- intent confirmed in it. The statement still asks each row every condition it had: an intent held here needlessly is
-- only read once more; one missing would leave its order unread.
CREATE TABLE refunds_unseen (
  intent_id INTEGER PRIMARY KEY,
  updated_at TEXT NOT NULL
) STRICT;

CREATE INDEX refunds_unseen_recent ON refunds_unseen (updated_at);

INSERT INTO refunds_unseen (intent_id, updated_at) SELECT i.id, i.updated_at FROM intents i
  WHERE i.kind = 'mirakl.refund' AND i.state = 'confirmed' AND NOT EXISTS (SELECT 1 FROM mirakl_refunds f WHERE f.id = i.refund_id);

CREATE TRIGGER refunds_unseen_intent_insert AFTER INSERT ON intents WHEN NEW.kind = 'mirakl.refund' AND NEW.state = 'confirmed'
BEGIN
  INSERT INTO refunds_unseen (intent_id, updated_at) SELECT NEW.id, NEW.updated_at
  WHERE NOT EXISTS (SELECT 1 FROM mirakl_refunds f WHERE f.id = NEW.refund_id);
END;

CREATE TRIGGER refunds_unseen_intent_update AFTER UPDATE OF id, kind, state, outcome, updated_at ON intents
  WHEN (OLD.kind = 'mirakl.refund' AND OLD.state = 'confirmed') OR (NEW.kind = 'mirakl.refund' AND NEW.state = 'confirmed')
BEGIN
  DELETE FROM refunds_unseen WHERE intent_id = OLD.id;
  INSERT INTO refunds_unseen (intent_id, updated_at) SELECT NEW.id, NEW.updated_at
  WHERE NEW.kind = 'mirakl.refund' AND NEW.state = 'confirmed' AND NOT EXISTS (SELECT 1 FROM mirakl_refunds f WHERE f.id = NEW.refund_id);
END;

CREATE TRIGGER refunds_unseen_intent_delete AFTER DELETE ON intents WHEN OLD.kind = 'mirakl.refund' AND OLD.state = 'confirmed'
BEGIN
  DELETE FROM refunds_unseen WHERE intent_id = OLD.id;
END;

CREATE TRIGGER refunds_unseen_refund_insert AFTER INSERT ON mirakl_refunds
BEGIN
  DELETE FROM refunds_unseen WHERE intent_id IN (SELECT id FROM intents WHERE refund_id = NEW.id AND kind = 'mirakl.refund' AND state = 'confirmed');
END;

CREATE TRIGGER refunds_unseen_refund_delete AFTER DELETE ON mirakl_refunds
BEGIN
  INSERT INTO refunds_unseen (intent_id, updated_at) SELECT i.id, i.updated_at FROM intents i
  WHERE i.refund_id = OLD.id AND i.kind = 'mirakl.refund' AND i.state = 'confirmed' AND NOT EXISTS (SELECT 1 FROM refunds_unseen u WHERE u.intent_id = i.id);
END;

CREATE TRIGGER refunds_unseen_refund_rekey AFTER UPDATE OF id ON mirakl_refunds
BEGIN
  INSERT INTO refunds_unseen (intent_id, updated_at) SELECT i.id, i.updated_at FROM intents i
  WHERE i.refund_id = OLD.id AND i.kind = 'mirakl.refund' AND i.state = 'confirmed' AND NOT EXISTS (SELECT 1 FROM refunds_unseen u WHERE u.intent_id = i.id);
  DELETE FROM refunds_unseen WHERE intent_id IN (SELECT id FROM intents WHERE refund_id = NEW.id AND kind = 'mirakl.refund' AND state = 'confirmed');
END;

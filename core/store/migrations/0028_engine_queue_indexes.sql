-- Issue 22: reads the engine makes every cycle cost in proportion to what they return, not to the backlog waiting.

-- Return orders a notification told us about, oldest hint first: each one's earliest pending hint is read from this
-- index alone. Keyed by return order only, every pending hint's row was read from the table (with its payload) each
-- cycle, about 134,000 hints by the end of a 10,000-return backlog.
DROP INDEX rebound_events_pending;
CREATE INDEX rebound_events_pending ON rebound_events (rebound_order_id, received_at) WHERE outcome = 'pending';

-- Units ReBound reported lost (few), by id: whether a pending restock's unit is one (core/ledger/restock.ts) is a look
-- in this index, where by units_id it read each pending unit's row of units to see its stage.
CREATE INDEX units_lost_id ON units (id) WHERE stage = 'lost';

-- The refund intents of a return (few), by return: whether one covers a unit already (engine-repo
-- linesWithUnrefundedUnits, asked of every unit ReBound registered of every return in flight at a sweep). By
-- intents_subject, each of the return's intents (accept, label, receipt, ...) was read to see its kind.
CREATE INDEX intents_refund_subject ON intents (subject) WHERE kind = 'mirakl.refund';

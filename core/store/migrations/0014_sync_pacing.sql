-- The engine asks the same questions every cycle (issue 22): each is answered from an index, so a cycle costs what
-- changed, not what the database holds.

-- Every refund intent of an order line (the refund guard, refundFor, the probe): order_line_id is generated from the
-- payload's JSON, so without this index each look-up parsed the payload of every refund intent ever made.
CREATE INDEX intents_refund_line ON intents (order_line_id, state) WHERE kind = 'mirakl.refund';

-- Refunds we sent, by when they were confirmed, with the order line and Mirakl's refund id already computed: which
-- orders OR11 must read again to see them in Mirakl's ledger.
CREATE INDEX intents_refund_sent ON intents (updated_at, order_line_id, refund_id) WHERE kind = 'mirakl.refund' AND state = 'confirmed';

-- Notifications not acted on yet (each is a hint to read its return order), without scanning every one received.
CREATE INDEX rebound_events_pending ON rebound_events (rebound_order_id) WHERE outcome = 'pending';

-- Refunds Mirakl has not paid yet, whose orders are read again until it has.
CREATE INDEX mirakl_refunds_open ON mirakl_refunds (order_line_id) WHERE refund_state != 'REFUNDED';

-- A return whose order OR11 has not shown yet waits on two clocks: when OR11 may be asked for its order again
-- (order_ask_at: at once until a read did not find it, then with backoff), and when intake looks at it again (its
-- wait running out, or the read that stored its order waking it). Only the first is OR11's queue, oldest first.
ALTER TABLE return_intake ADD COLUMN order_ask_at TEXT;
CREATE INDEX return_intake_order_ask ON return_intake (order_ask_at) WHERE stage = 'awaiting_order';

-- Calls in flight, checked at the start of every cycle for orphans: without this, every intent ever made was scanned.
CREATE INDEX intents_sending ON intents (updated_at) WHERE state = 'sending';

-- The return orders ReBound already holds for an order, looked up before every creation.
CREATE INDEX rebound_return_orders_client_order ON rebound_return_orders (client_order_id);

-- Issue 22: two reads the engine makes every cycle grew with the backlog (a statement profile of the 10,000-return
-- bench): the intents due of a kind sorted every planned intent of the kind to return the oldest few (13,272 calls,
-- 4.4 s), and the first time this database saw a return read every return (1,659 calls, 2.4 s). Planned intents by
-- kind in id order, and returns by when they were first seen, answer both from an index.
CREATE INDEX intents_planned ON intents (kind, id) WHERE state = 'planned';
CREATE INDEX mirakl_returns_first_seen ON mirakl_returns (first_seen_at);

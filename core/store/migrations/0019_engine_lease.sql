-- The engine lease (issue 25): one row whose epoch rises each time an engine starts on this database. The engine keeps
-- the epoch it took; claiming a call (an intent → sending) or units for a stock import checks, in the same transaction,
-- that the epoch is still its own. An engine paused while its folder lock went stale and another engine started finds
-- a higher epoch when it wakes, and claims nothing.
CREATE TABLE engine_lease (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  epoch INTEGER NOT NULL,
  holder TEXT NOT NULL,
  acquired_at TEXT NOT NULL
) STRICT;

INSERT INTO engine_lease (id, epoch, holder, acquired_at) VALUES (1, 0, '', '');

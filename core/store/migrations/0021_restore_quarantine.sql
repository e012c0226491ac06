-- Quarantine after restore (issue 25). The lease row names its database (an id given at the first engine start after
-- this migration) and counts the claims made on it; the same three figures (id, epoch, claims) are kept in a file
-- beside the database each time an engine starts or claims a call. A database whose figures are behind the file's was
-- put back from a backup; one with another id, or with history and no file, was copied in. An engine that opens such a
-- database starts quarantined: no refund (OR28) and no stock import (STO01) goes out until Mirakl's refunds were read
-- again and the stock imports it no longer knows of were accounted for.
ALTER TABLE engine_lease ADD COLUMN database_id TEXT;
ALTER TABLE engine_lease ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;

CREATE TABLE restore_quarantines (
  id INTEGER PRIMARY KEY,
  started_at TEXT NOT NULL,
  cause TEXT NOT NULL,
  -- Per offer, the quantity the database believed Mirakl held and since when (Mirakl's clock), as JSON.
  stock_basis TEXT NOT NULL,
  -- When the units Mirakl's quantities show as already imported were settled, and what was found.
  stock_settled_at TEXT,
  stock_outcome TEXT,
  ended_at TEXT,
  outcome TEXT
) STRICT;

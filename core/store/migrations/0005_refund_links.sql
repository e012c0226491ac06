-- Exact refund links are references this app wrote: the refund id Mirakl answered to our OR28 (or that a probe proved
-- was ours) is in the confirmed refund intent's outcome. They are read from there — through generated columns and a
-- partial index — instead of being copied into recon_matches by every pass: one source of truth, and a full pass no
-- longer writes a row per refund. recon_matches keeps what people decide (confirmed, rejected) and suggestions.
ALTER TABLE intents ADD COLUMN refund_id TEXT GENERATED ALWAYS AS (CAST(json_extract(outcome, '$.refundId') AS TEXT)) VIRTUAL;
ALTER TABLE intents ADD COLUMN order_line_id TEXT GENERATED ALWAYS AS (CAST(json_extract(payload, '$.order_line_id') AS TEXT)) VIRTUAL;
CREATE INDEX intents_refund ON intents (refund_id) WHERE kind = 'mirakl.refund' AND state = 'confirmed';
DELETE FROM recon_matches WHERE status = 'exact';

-- Every refund known to belong to a return line: made by this app (exact), or matched by a person (confirmed).
CREATE VIEW refund_links (refund_id, return_id, order_line_id, status, basis) AS
  SELECT refund_id, subject, order_line_id, 'exact', 'made by this app (intent ' || id || ')'
  FROM intents WHERE kind = 'mirakl.refund' AND state = 'confirmed' AND refund_id IS NOT NULL
  UNION ALL
  SELECT subject, return_id, substr(candidate, length(return_id) + 2), status, basis
  FROM recon_matches WHERE kind = 'refund_line' AND status = 'confirmed';

-- Units are read per return line (the per-line facts of every pass): (return_id, order_line_id) serves that and
-- everything the return-only index served.
DROP INDEX units_return;
CREATE INDEX units_return_line ON units (return_id, order_line_id);

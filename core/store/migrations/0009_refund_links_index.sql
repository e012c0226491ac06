-- The refunds this app made, per return: every reconciliation pass reads them to total what was refunded per line.
-- order_line_id and refund_id are generated from the intent's JSON, so reading them from the table parses two JSON
-- documents per intent; this index holds them already computed (a year of returns: 0.05 s instead of 0.45 s).
CREATE INDEX intents_refund_links ON intents (subject, order_line_id, refund_id)
  WHERE kind = 'mirakl.refund' AND state = 'confirmed' AND refund_id IS NOT NULL;

-- Which increments wait for a person's decision because their unit may already be on sale (issue: a unit restocked
-- twice), as a column, not told apart by a note: a sku-offers mapping edit re-targets, skips or resumes an order SKU's
-- increments not sent yet, and must leave these where they are until a person retries, skips or remaps them.
--   'restore'       rejected: a restore's settlement could not tell whether an earlier copy put it on sale, or a person
--                   marked an import sent before the restore not run (RESTOCK_UNCERTAIN <sku>)
--   'earlier_copy'  rejected: its unit's restock is in doubt (units.restock_in_doubt; RESTOCK_UNCERTAIN <sku>:earlier-copy)
--   'never_restock' skipped by the mapping: after a restore, an earlier copy may have put it on sale before the mapping
--                   said never restock, and Mirakl's quantity could not tell (RESTOCK_UNCERTAIN <sku>:restore-<id>:never-restock-unknown)
-- A person's retry, skip or remap clears it (core/ledger/restock.ts). Rows Mirakl refused are not held: they were not applied.
ALTER TABLE stock_increments ADD COLUMN held TEXT CHECK (held IN ('restore', 'earlier_copy', 'never_restock'));

-- Rows held before this column: every hold wrote a note ending '; waiting for a person' (restock.ts planSellableUnits,
-- stock.ts settleRestoredStock, resolutions.ts holdNotRunAfterRestore), and only a person's retry, skip or remap took
-- them out of 'rejected' (each rewrites the note).
UPDATE stock_increments SET held = 'earlier_copy'
  WHERE state = 'rejected' AND EXISTS (SELECT 1 FROM units u WHERE u.id = stock_increments.unit_id AND u.restock_in_doubt IS NOT NULL
    AND stock_increments.note = u.restock_in_doubt || '; waiting for a person');
UPDATE stock_increments SET held = 'restore'
  WHERE state = 'rejected' AND held IS NULL AND (note LIKE 'restored database: not shown as already on sale (%); waiting for a person'
    OR note LIKE 'marked not applied by % after a restore; waiting for a person');
-- Units in doubt the mapping skipped when they were planned: planSellableUnits holds them 'earlier_copy' (if the mapping
-- brings them back, they wait for a person on their offer), whatever question the offer is asked.
UPDATE stock_increments SET held = 'earlier_copy'
  WHERE state = 'skipped' AND skipped_by = 'mapping' AND held IS NULL
    AND EXISTS (SELECT 1 FROM units u WHERE u.id = stock_increments.unit_id AND u.restock_in_doubt IS NOT NULL);
-- Units the mapping skipped since a restore, on an offer whose open RESTOCK_UNCERTAIN asks whether they are on sale: those
-- skipped by the time it was asked, as the settlement held them then (holdSkippedForPerson), not units graded since.
UPDATE stock_increments SET held = 'never_restock'
  WHERE state = 'skipped' AND skipped_by = 'mapping' AND held IS NULL AND EXISTS (
    SELECT 1 FROM exceptions e JOIN restore_quarantines q ON e.subject_key = e.offer_sku || ':restore-' || q.id || ':never-restock-unknown'
    WHERE e.type = 'RESTOCK_UNCERTAIN' AND e.state != 'resolved' AND e.offer_sku = stock_increments.offer_sku AND stock_increments.updated_at >= q.started_at
      AND stock_increments.updated_at <= e.detected_at);

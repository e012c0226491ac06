-- Why an increment is skipped is a column, not a note two files must spell alike (issue 20): 'mapping' when the
-- sku-offers mapping says the SKU is never restocked (a later mapping change brings it back), 'person' when someone
-- chose "skip restock". The note stays free text for people.
ALTER TABLE stock_increments ADD COLUMN skipped_by TEXT CHECK (skipped_by IN ('mapping', 'person'));
UPDATE stock_increments SET skipped_by = CASE WHEN note = 'sku-offers mapping: never restocked' THEN 'mapping' ELSE 'person' END
  WHERE state = 'skipped';

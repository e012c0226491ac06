-- A unit graded sellable whose restock this database cannot vouch for: why (NULL for nearly all). Set when a return order
-- is found in ReBound after the database was put back from a backup and was made before that: an earlier copy of the
-- database made it, and may have put the units already graded then back on sale (intake.ts). Such a unit's restock is
-- held for a person (RESTOCK_UNCERTAIN) instead of imported (restock.ts planSellableUnits). Units graded later are not
-- marked: the earlier copy had stopped by then.
ALTER TABLE units ADD COLUMN restock_in_doubt TEXT;

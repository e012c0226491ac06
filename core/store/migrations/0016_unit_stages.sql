-- Issue 20: a unit ReBound first reported missing (the order registered without it) may still turn up and be
-- registered. `missing` ranked with `registered` (3), so "forward only" kept such a unit missing for good and its
-- refund waited for grading. Ranks now: requested 0, in_transit 1, at_hub 2, missing 3, registered 4, graded 5,
-- lost 5 (core/ledger/units.ts, unitStageRank).
UPDATE units SET stage_rank = CASE stage WHEN 'registered' THEN 4 ELSE 5 END WHERE stage IN ('registered', 'graded', 'lost');

-- A unit of an expired return order (nothing was ever sent back) was stamped registered when it was marked lost, so
-- reports and detectors counted it as a verified receipt. A registered unit always has its received SKU: a lost one
-- without it never arrived.
UPDATE units SET registered_at = NULL WHERE stage = 'lost' AND received_sku IS NULL AND registered_at IS NOT NULL;

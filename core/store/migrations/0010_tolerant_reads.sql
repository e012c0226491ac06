-- Records Mirakl or ReBound sent that could not be read (issue 19): each is kept raw with what was wrong, shown to a
-- person as MALFORMED_RECORD, and released when a later read of the same record parses. One row per record.
CREATE TABLE quarantined_records (
  operation TEXT NOT NULL,
  record_key TEXT NOT NULL,
  raw TEXT NOT NULL,
  problem TEXT NOT NULL,
  first_seen_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  times_seen INTEGER NOT NULL DEFAULT 1 CHECK (times_seen > 0),
  released_at TEXT,
  PRIMARY KEY (operation, record_key)
) STRICT;

-- The order tax mode Mirakl's amounts were read in (OR11 is asked in the shop's mode). A refund's taxes are kept
-- beside its amount, so what was refunded in all (amount + taxes when TAX_EXCLUDED) is known in either mode.
ALTER TABLE mirakl_order_lines ADD COLUMN tax_mode TEXT NOT NULL DEFAULT 'TAX_INCLUDED' CHECK (tax_mode IN ('TAX_INCLUDED', 'TAX_EXCLUDED'));
-- Each tax line of the order line ([{code, amountMinor}]), so a refund's taxes keep Mirakl's codes.
ALTER TABLE mirakl_order_lines ADD COLUMN taxes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE mirakl_order_lines ADD COLUMN shipping_taxes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE mirakl_refunds ADD COLUMN tax_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mirakl_refunds ADD COLUMN shipping_tax_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mirakl_refunds ADD COLUMN tax_mode TEXT NOT NULL DEFAULT 'TAX_INCLUDED' CHECK (tax_mode IN ('TAX_INCLUDED', 'TAX_EXCLUDED'));

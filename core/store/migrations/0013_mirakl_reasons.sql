-- Mirakl's own reason lists (RE01), as last read (issue 24): the mapping editor offers their codes with their labels
-- and refuses a refund reason Mirakl does not have. Kept for offline use; replaced whole at each read (Mirakl allows
-- RE01 about once a day). `position` keeps Mirakl's order (by type, then its back-office sort index).
CREATE TABLE mirakl_reasons (
  type TEXT NOT NULL,
  code TEXT NOT NULL,
  label TEXT NOT NULL,
  is_shop_right INTEGER NOT NULL CHECK (is_shop_right IN (0, 1)),
  position INTEGER NOT NULL,
  PRIMARY KEY (type, code)
) STRICT;

-- When the lists were last read (one row): an empty list read from Mirakl is not the same as a list never read.
CREATE TABLE mirakl_reason_reads (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  read_at TEXT NOT NULL,
  reasons INTEGER NOT NULL
) STRICT;

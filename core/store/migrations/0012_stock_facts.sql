-- Stock decided from facts (issue 20, item 4). Mirakl's stock API sets absolute quantities, so each restock, and the
-- outcome of an import whose answer was lost, is worked out from what Mirakl showed: the offers' quantities in its
-- bulk export (OF52 → OF53 → files), and the units sold in its orders (OR11). Times named *_mirakl are Mirakl's clock
-- (its answers' Date header, OF53 last_updated), never ours.

-- Each export asked for: requested → applied (its offers are in offer_stock) or failed. Its contents were taken at
-- some moment between taken_from_mirakl and taken_by_mirakl. Ids only grow: a later id was asked for later.
CREATE TABLE offer_exports (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tracking_id TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('full', 'differential')),
  since_mirakl TEXT,
  state TEXT NOT NULL CHECK (state IN ('requested', 'applied', 'failed')),
  requested_at TEXT NOT NULL,
  taken_from_mirakl TEXT NOT NULL,
  taken_by_mirakl TEXT,
  applied_at TEXT,
  offers INTEGER,
  unreadable INTEGER,
  error TEXT
) STRICT;
CREATE INDEX offer_exports_state ON offer_exports (state, id);

-- The shop's offers as the latest applied export shows them. quantity is NULL when the offer's record could not be
-- read (it is held aside as MALFORMED_RECORD, and its restocks wait): no quantity is ever guessed.
CREATE TABLE offer_stock (
  shop_sku TEXT PRIMARY KEY,
  offer_id TEXT,
  quantity INTEGER CHECK (quantity IS NULL OR quantity >= 0),
  is_active INTEGER NOT NULL CHECK (is_active IN (0, 1)),
  export_id INTEGER NOT NULL REFERENCES offer_exports (id),
  updated_at TEXT NOT NULL
) STRICT;

-- Units sold, one row per order line, as OR11 shows them. A sale whose order could not be read keeps a row with
-- quantity NULL (and offer_sku NULL when even its offer cannot be told): every decision its window touches waits or
-- goes to a person.
CREATE TABLE offer_sales (
  order_line_id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL,
  offer_sku TEXT,
  quantity INTEGER CHECK (quantity IS NULL OR quantity >= 0),
  created_mirakl TEXT NOT NULL,
  seen_at TEXT NOT NULL
) STRICT;
CREATE INDEX offer_sales_created ON offer_sales (created_mirakl, offer_sku);
CREATE INDEX offer_sales_order ON offer_sales (order_id);

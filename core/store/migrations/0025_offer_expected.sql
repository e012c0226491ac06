-- What the engine expects of an offer it set (issue 25, FOREIGN_WRITE): the quantity Mirakl showed once our last import
-- of it was confirmed, and when (Mirakl's clock: the export was taken between from_mirakl and at_mirakl). Each later export showing the offer is compared with that less the
-- units sold since; a difference no sale explains is suspected, judged again once the sales are read well past that
-- export (an order OR11 lists late looks exactly like it), and only then raised as someone else's write.
-- correction: units a STOCK_OVERWRITTEN asked a person to take off (either quantity is expected until seen).
-- suspect_*: the reading suspected, kept as it was (the export's quantity, and when it was taken).
CREATE TABLE offer_expected (
  shop_sku TEXT PRIMARY KEY,
  quantity INTEGER NOT NULL CHECK (quantity >= 0),
  from_mirakl TEXT NOT NULL,
  at_mirakl TEXT NOT NULL,
  correction INTEGER NOT NULL DEFAULT 0 CHECK (correction >= 0),
  basis TEXT NOT NULL,
  suspect_shows INTEGER,
  suspect_from TEXT,
  suspect_by TEXT,
  suspect_export INTEGER,
  updated_at TEXT NOT NULL
) STRICT;

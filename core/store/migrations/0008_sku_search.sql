-- The returns grid's quick search also finds returns by SKU (the offer SKU of a returned line): an index per SKU so
-- the search stays a lookup with a year of returns in the store.
CREATE INDEX mirakl_order_lines_offer_sku ON mirakl_order_lines (offer_sku);

-- Stock: how many of a product the shop holds now (null: not known). /price raises a
-- scarce product's price and marks down an overstocked one; /recommend and /upsell
-- hold back a product whose forecast demand already exceeds its stock.
-- Statements end with a semicolon at the end of a line.
ALTER TABLE products ADD COLUMN stock integer CHECK (stock >= 0);

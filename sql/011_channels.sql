-- Channels: where an order came from (email, search, social, direct, ...: free text)
-- and how a customer was first won. Both optional; a customer without one counts in
-- the channel of their first order (the training derives it).
-- Statements end with a semicolon at the end of a line.
ALTER TABLE orders ADD COLUMN channel text CHECK (length(channel) BETWEEN 1 AND 64);

ALTER TABLE customers ADD COLUMN acquisition_channel text
    CHECK (length(acquisition_channel) BETWEEN 1 AND 64);

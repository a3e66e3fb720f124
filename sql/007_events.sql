-- What shoppers did with what they were shown (POST /events): impressions, clicks,
-- cart adds and product views. One row per event, partitioned by day of `at` so that
-- the retention window (XSELL_EVENTS_KEEP_DAYS) drops whole partitions; the training
-- leader keeps the partitions (events.h: events_maintain). events_default catches a
-- day whose partition is not made yet; maintenance moves its rows into their day's
-- partition. event_keys makes event_id idempotent across partitions (a unique index
-- on a partitioned table must hold the partition key); its rows go with their
-- events' window.
-- Statements end with a semicolon at the end of a line.

CREATE TABLE events (
    event_id text NOT NULL,
    type text NOT NULL CHECK (type IN ('impression', 'click', 'add_to_cart', 'view')),
    at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    session_id text NOT NULL,
    customer_id text,
    recommendation_id text,
    product_id text,
    items text[]
) PARTITION BY RANGE (at);

CREATE TABLE events_default PARTITION OF events DEFAULT;

CREATE INDEX events_session_idx ON events (session_id, at);

CREATE INDEX events_customer_idx ON events (customer_id, at) WHERE customer_id IS NOT NULL;

CREATE TABLE event_keys (
    event_id text PRIMARY KEY,
    at timestamptz NOT NULL
);

-- Core tables (DESIGN.md). Applied once by `xsell migrate`, recorded in schema_migrations.
-- Statements end with a semicolon at the end of a line.

CREATE TABLE products (
    product_id text PRIMARY KEY CHECK (length(product_id) BETWEEN 1 AND 200),
    name text,
    category text,
    price numeric NOT NULL CHECK (price >= 0),
    cost numeric CHECK (cost >= 0),
    in_stock boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
    customer_id text PRIMARY KEY CHECK (length(customer_id) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    order_id text PRIMARY KEY CHECK (length(order_id) BETWEEN 1 AND 200),
    customer_id text NULL REFERENCES customers (customer_id),
    ordered_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE INDEX orders_ordered_at_idx ON orders (ordered_at);

-- No foreign keys here: per-row FK triggers would halve bulk import speed. The one
-- writer (src/ingest.c) creates the order and any new product in the same
-- transaction as the lines, which keeps the references whole.
CREATE TABLE order_lines (
    order_id text NOT NULL,
    line_no int NOT NULL CHECK (line_no >= 1),
    product_id text NOT NULL,
    quantity int NOT NULL CHECK (quantity <> 0),
    unit_price numeric NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (order_id, line_no)
);

CREATE INDEX order_lines_product_idx ON order_lines (product_id);

-- One row per training run; version is the snapshot version it publishes.
CREATE TABLE model_runs (
    version bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trigger text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    status text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    error text,
    metrics jsonb
);

-- Core tables (DESIGN.md). Ids are opaque: COLLATE "C" compares their bytes, which
-- orders them sensibly and makes every key comparison a memcmp. Applied once by `xsell migrate`, recorded in schema_migrations.
-- Statements end with a semicolon at the end of a line.

CREATE TABLE products (
    product_id text COLLATE "C" PRIMARY KEY CHECK (length(product_id) BETWEEN 1 AND 200),
    name text,
    category text,
    price numeric NOT NULL CHECK (price >= 0),
    cost numeric CHECK (cost >= 0),
    in_stock boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
    customer_id text COLLATE "C" PRIMARY KEY CHECK (length(customer_id) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    order_id text COLLATE "C" PRIMARY KEY CHECK (length(order_id) BETWEEN 1 AND 200),
    -- Checked at commit: an import creates a batch's orders before their customers.
    customer_id text COLLATE "C" NULL REFERENCES customers (customer_id) DEFERRABLE INITIALLY DEFERRED,
    ordered_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE INDEX orders_ordered_at_idx ON orders (ordered_at);

-- No foreign keys and no index beyond the key here: per-row FK triggers and a
-- randomly filled product_id index would each cost more than the bulk COPY itself.
-- The one writer (src/ingest.c) creates each order and any new product in the same
-- transaction as its lines, which keeps the references whole; training reads the
-- whole table, so nothing needs to find lines by product.
CREATE TABLE order_lines (
    order_id text COLLATE "C" NOT NULL,
    line_no int NOT NULL CHECK (line_no >= 1),
    product_id text COLLATE "C" NOT NULL,
    quantity int NOT NULL CHECK (quantity <> 0),
    unit_price numeric NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (order_id, line_no)
);

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

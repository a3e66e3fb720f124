-- Attribution: every /recommend and /upsell answer (what was offered, to whom, from
-- which model, experiment and variant), written in batches by each serving process
-- and partitioned by day like events (the same window, the same maintenance); orders
-- may name the session they came from, and a line the recommendation that sold it.
-- Statements end with a semicolon at the end of a line.

CREATE TABLE recommendations (
    recommendation_id text NOT NULL,
    surface text NOT NULL CHECK (surface IN ('recommend', 'upsell')),
    at timestamptz NOT NULL,
    model_version bigint,
    strategy text,
    customer_id text,
    session_id text,
    experiment_id text,
    variant text,
    items text[] NOT NULL
) PARTITION BY RANGE (at);

CREATE TABLE recommendations_default PARTITION OF recommendations DEFAULT;

CREATE INDEX recommendations_id_idx ON recommendations (recommendation_id);

ALTER TABLE orders ADD COLUMN session_id text;

ALTER TABLE order_lines ADD COLUMN recommendation_id text;

CREATE INDEX events_recommendation_idx ON events (recommendation_id, product_id) WHERE recommendation_id IS NOT NULL;

-- Each sale line from p_from to p_to with the recommendation it is attributed to:
-- the line's own recommendation_id (how = 'direct'); else the latest click or cart
-- add of that product from a recommendation by the same customer or in the same
-- session within p_hours before the order (how = 'click' or 'add_to_cart'); else
-- none (recommendation_id null). surface, model, experiment and variant come from
-- the recorded answer (null when it is not kept: past the window, or an id never
-- given). margin is null where the product's cost is unknown.
CREATE FUNCTION attributed_lines(p_from timestamptz, p_to timestamptz, p_hours double precision)
RETURNS TABLE (order_id text, line_no int, ordered_at timestamptz, customer_id text,
               session_id text, product_id text, quantity int, revenue numeric, margin numeric,
               recommendation_id text, how text, surface text, model_version bigint,
               experiment_id text, variant text)
LANGUAGE sql STABLE AS $$
SELECT o.order_id, l.line_no, o.ordered_at, o.customer_id, o.session_id, l.product_id,
       l.quantity, l.quantity * l.unit_price, l.quantity * (l.unit_price - p.cost),
       a.recommendation_id, a.how, r.surface, r.model_version, r.experiment_id, r.variant
FROM orders o
JOIN order_lines l ON l.order_id = o.order_id
LEFT JOIN products p ON p.product_id = l.product_id
LEFT JOIN LATERAL (
    SELECT l.recommendation_id, 'direct'::text AS how
    WHERE l.recommendation_id IS NOT NULL
    UNION ALL
    (SELECT e.recommendation_id, e.type
     FROM events e
     WHERE l.recommendation_id IS NULL AND e.recommendation_id IS NOT NULL
       AND e.type IN ('click', 'add_to_cart') AND e.product_id = l.product_id
       AND e.at <= o.ordered_at AND e.at > o.ordered_at - make_interval(secs => p_hours * 3600)
       AND ((o.customer_id IS NOT NULL AND e.customer_id = o.customer_id)
            OR (o.session_id IS NOT NULL AND e.session_id = o.session_id))
     ORDER BY e.at DESC
     LIMIT 1)
    LIMIT 1
) a ON true
LEFT JOIN LATERAL (
    SELECT r.surface, r.model_version, r.experiment_id, r.variant
    FROM recommendations r
    WHERE r.recommendation_id = a.recommendation_id
    LIMIT 1
) r ON true
WHERE o.ordered_at >= p_from AND o.ordered_at < p_to AND l.quantity > 0
$$;

-- For BI tools: per day (UTC), surface, model, experiment and variant, the attributed
-- sale lines, orders, revenue and margin, with the default 24-hour window
-- (attributed_lines takes any other).
CREATE VIEW attribution_daily AS
SELECT (ordered_at AT TIME ZONE 'UTC')::date AS day, surface, model_version, experiment_id,
       variant, how, count(*) AS lines, count(DISTINCT order_id) AS orders,
       sum(revenue) AS revenue, sum(margin) AS margin
FROM attributed_lines('-infinity', 'infinity', 24)
WHERE recommendation_id IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6;

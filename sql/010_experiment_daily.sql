-- For BI tools (beside attribution_daily): per experiment, variant and day (UTC) of
-- the answers: the answers given, the units that got one, and the events on them.
-- Statements end with a semicolon at the end of a line.
CREATE VIEW experiment_daily AS
SELECT r.experiment_id, r.variant, (r.at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS answers,
       count(DISTINCT coalesce(r.customer_id, r.session_id)) AS units,
       coalesce(sum(e.impressions), 0) AS impressions, coalesce(sum(e.clicks), 0) AS clicks,
       coalesce(sum(e.add_to_carts), 0) AS add_to_carts
FROM recommendations r
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE type = 'impression') AS impressions,
           count(*) FILTER (WHERE type = 'click') AS clicks,
           count(*) FILTER (WHERE type = 'add_to_cart') AS add_to_carts
    FROM events WHERE events.recommendation_id = r.recommendation_id
) e ON true
WHERE r.experiment_id IS NOT NULL
GROUP BY 1, 2, 3;

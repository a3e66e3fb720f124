-- /churn's scores, rewritten after each training run (src/scores.c) so BI tools can
-- join them to customers. One row per customer who had bought by the run's as_of.
-- Statements end with a semicolon at the end of a line.

CREATE TABLE churn_scores (
    customer_id text COLLATE "C" PRIMARY KEY,
    version bigint NOT NULL,
    as_of date NOT NULL,
    horizon_days double precision NOT NULL,
    model text NOT NULL,
    segment text NOT NULL,
    p_alive double precision NOT NULL,
    churn_risk double precision NOT NULL,
    expected_purchases double precision NOT NULL,
    expected_value double precision NOT NULL,
    clv_12m double precision NOT NULL,
    value_at_risk double precision NOT NULL,
    frequency int NOT NULL,
    recency_days double precision NOT NULL,
    monetary double precision NOT NULL
);

CREATE INDEX churn_scores_segment_idx ON churn_scores (segment, value_at_risk DESC);

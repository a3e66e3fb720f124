-- Experiments (PUT /experiments/{id}): the definition as experiment_json.h writes it.
-- Which unit saw which variant is a hash, never stored; what each saw is in
-- recommendations (experiment_id, variant), what they did in events and orders.
-- Statements end with a semicolon at the end of a line.

CREATE TABLE experiments (
    experiment_id text PRIMARY KEY,
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX recommendations_experiment_idx ON recommendations (experiment_id, variant) WHERE experiment_id IS NOT NULL;

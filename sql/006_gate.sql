-- The quality gate: a full run that does worse than the serving snapshot on the same
-- recent holdout is recorded as gated (with both sets of figures in metrics) and not
-- published; force: a request that asked to publish it whatever the gate says.
-- Statements end with a semicolon at the end of a line.

ALTER TABLE model_runs DROP CONSTRAINT model_runs_status_check;
ALTER TABLE model_runs ADD CONSTRAINT model_runs_status_check
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'gated'));
ALTER TABLE model_runs ADD COLUMN force boolean NOT NULL DEFAULT false;

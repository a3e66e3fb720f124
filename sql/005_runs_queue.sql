-- The runs table is the queue of requested runs: any process may ask (POST
-- /admin/train on any replica), the one trainer holding the advisory lock runs them,
-- oldest first. refit: the request asked every model to be re-estimated.
-- Statements end with a semicolon at the end of a line.

ALTER TABLE model_runs ADD COLUMN refit boolean NOT NULL DEFAULT false;

CREATE INDEX model_runs_queued_idx ON model_runs (version) WHERE status = 'queued';

-- Every change to the purchase history other than a new order (an erasure, today),
-- with its time: a training run that updates the models from the new orders alone
-- (XSELL_REFIT_S) reads the whole history again when one came since the run before.
-- No ids: an erased customer leaves no trace here.
-- Statements end with a semicolon at the end of a line.

CREATE TABLE history_rewrites (
    at timestamptz NOT NULL DEFAULT now(),
    kind text NOT NULL
);

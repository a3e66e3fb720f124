-- Retention offers (GET /retention): an answer for one customer is logged like a
-- /recommend or /upsell answer, so that an order naming its recommendation_id is
-- attributed to it and an experiment on the retention surface measures its uplift.
-- Statements end with a semicolon at the end of a line.
ALTER TABLE recommendations DROP CONSTRAINT recommendations_surface_check;
ALTER TABLE recommendations ADD CONSTRAINT recommendations_surface_check CHECK (surface IN ('recommend', 'upsell', 'retention'));

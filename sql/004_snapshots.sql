-- Published snapshots (include/xsell/snapfile.h), so that a restarted or added
-- process serves the last one at once instead of training first. The row and its
-- chunks are written in one transaction: a row that is visible has all its bytes.
-- id is the file's table checksum, which names it in each host's local cache.
-- Statements end with a semicolon at the end of a line.

CREATE TABLE model_snapshots (
    version bigint PRIMARY KEY REFERENCES model_runs (version) ON DELETE CASCADE,
    id bigint NOT NULL,
    bytes bigint NOT NULL CHECK (bytes > 0),
    format int NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE model_snapshot_chunks (
    version bigint NOT NULL REFERENCES model_snapshots (version) ON DELETE CASCADE,
    seq int NOT NULL CHECK (seq >= 0),
    data bytea NOT NULL,
    PRIMARY KEY (version, seq)
);

-- Numbers compress poorly and are read whole: no compression, no time spent on it.
ALTER TABLE model_snapshot_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- How many rows each target table held just before a run loaded into it. Under
-- `if_exists: append` a table keeps the rows it had, so the row-count check expects these plus
-- the rows the run loaded; recorded in the load step's transaction, before its COPY.
CREATE TABLE decant.table_baselines (
    run_id bigint NOT NULL REFERENCES decant.runs (id) ON DELETE CASCADE,
    -- The target table, unqualified: the run's `target_schema` holds it.
    target_table text NOT NULL,
    rows_before bigint NOT NULL CHECK (rows_before >= 0),
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (run_id, target_table)
);

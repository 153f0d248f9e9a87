-- `decant sync`: what a run's plan looks like without its row counts (a sync refuses when it
-- changed), and one row per sync applied after a run, with its counts and wall time.
ALTER TABLE decant.runs ADD COLUMN schema_hash text;
CREATE TABLE decant.syncs (
    id bigserial PRIMARY KEY,
    run_id bigint NOT NULL REFERENCES decant.runs (id) ON DELETE CASCADE,
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    status text NOT NULL CHECK (status IN ('succeeded', 'failed')),
    inserted bigint NOT NULL DEFAULT 0,
    updated bigint NOT NULL DEFAULT 0,
    deleted bigint NOT NULL DEFAULT 0,
    rejected bigint NOT NULL DEFAULT 0,
    seconds double precision NOT NULL,
    error text
);

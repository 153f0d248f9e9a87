-- decant's journal: one row per run, one per step of a run, and the rows a run rejected.
CREATE TABLE decant.runs (
    id bigserial PRIMARY KEY,
    plan_name text NOT NULL,
    plan_hash text NOT NULL,
    source_fingerprint text NOT NULL,
    target_schema text NOT NULL,
    decant_version text NOT NULL,
    resumed_from bigint REFERENCES decant.runs (id),
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'rolled_back')),
    created_tables text[] NOT NULL DEFAULT '{}'
);

CREATE TABLE decant.steps (
    run_id bigint NOT NULL REFERENCES decant.runs (id) ON DELETE CASCADE,
    step_id text NOT NULL,
    state text NOT NULL CHECK (state IN ('running', 'done', 'failed')),
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    rows_read bigint,
    rows_written bigint,
    rows_rejected bigint,
    error text,
    PRIMARY KEY (run_id, step_id)
);

CREATE TABLE decant.decant_rejects (
    run_id bigint NOT NULL REFERENCES decant.runs (id) ON DELETE CASCADE,
    source_table text NOT NULL,
    primary_key jsonb NOT NULL,
    source_column text NOT NULL,
    value text,
    reason text NOT NULL,
    rejected_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX decant_rejects_run ON decant.decant_rejects (run_id, source_table);

-- What a sync kept of the source: per table, the sum of its rows' digests (storage class and
-- bytes as the source holds them) in each key window of `width` keys from `key_min`, as
-- little-endian u64s. The next sync digests the source again and compares rows only in the
-- windows whose sums changed.
CREATE TABLE decant.source_windows (
    run_id bigint NOT NULL REFERENCES decant.runs (id) ON DELETE CASCADE,
    source_table text NOT NULL,
    key_min bigint NOT NULL,
    width bigint NOT NULL CHECK (width > 0),
    sums bytea NOT NULL,
    PRIMARY KEY (run_id, source_table)
);

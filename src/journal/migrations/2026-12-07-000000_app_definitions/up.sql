-- The app's definitions on the tables a run into an app-owned schema loads, read from the
-- catalog in the same transaction that drops its keys: every key, index and foreign key as a
-- statement that makes it again, the details a drop loses (comments, cluster mark, replica
-- identity, statistics targets, trigger states), and how to empty what the run loaded.
-- `rollback`, `--resume` and a failed run restore from here.
CREATE TABLE decant.app_definitions (
    run_id bigint NOT NULL REFERENCES decant.runs (id) ON DELETE CASCADE,
    position integer NOT NULL,
    kind text NOT NULL CHECK (kind IN ('empty', 'constraint', 'index', 'foreign_key', 'detail')),
    table_name text NOT NULL,
    name text NOT NULL,
    statement text NOT NULL,
    PRIMARY KEY (run_id, position)
);
-- True from the commit that dropped the app's keys until the commit that put every one back.
ALTER TABLE decant.runs ADD COLUMN app_restore_pending boolean NOT NULL DEFAULT false;

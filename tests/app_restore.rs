//! The app's schema stays the app's: its catalog, down to storage parameters, comments,
//! cluster mark, replica identity, statistics targets and trigger states, is the same after a
//! clean run, a kill then rollback, a kill then resume, and failed runs.

use diesel::connection::SimpleConnection;

use crate::support::cli::Outcome;
use crate::support::setup::{assert_exit, query, Setup};

const SOURCE: &str = "
    PRAGMA foreign_keys = OFF;
    CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id), body TEXT NOT NULL);
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200)
    INSERT INTO parent SELECT x, 'parent ' || x FROM c;
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000)
    INSERT INTO child SELECT x, 1 + x % 200, 'body ' || x FROM c;
";

/// Everything a drop of keys loses, set the way an app's migrations set it.
const SCHEMA: &str = r#"
CREATE TABLE parent (id integer, name text NOT NULL, CONSTRAINT parent_pk PRIMARY KEY (id) WITH (fillfactor = 90));
CREATE TABLE child (id integer PRIMARY KEY, parent_id integer NOT NULL, body text NOT NULL);
ALTER TABLE child ADD CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE child ADD CONSTRAINT child_parent_nv FOREIGN KEY (parent_id) REFERENCES parent (id) NOT VALID;
CREATE UNIQUE INDEX child_body_key ON child (body) WITH (fillfactor = 70);
CREATE INDEX child_parent_idx ON child (parent_id);
CREATE INDEX child_lower_body ON child (lower(body));
ALTER INDEX child_lower_body ALTER COLUMN 1 SET STATISTICS 500;
ALTER TABLE child ALTER COLUMN body SET STATISTICS 300;
COMMENT ON INDEX child_parent_idx IS 'for joins';
COMMENT ON CONSTRAINT parent_pk ON parent IS 'the key';
COMMENT ON CONSTRAINT child_parent_fk ON child IS 'belongs to';
ALTER TABLE child CLUSTER ON child_parent_idx;
ALTER TABLE child REPLICA IDENTITY USING INDEX child_body_key;
CREATE FUNCTION keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER child_keep BEFORE INSERT ON child FOR EACH ROW EXECUTE FUNCTION keep();
CREATE TRIGGER child_audit BEFORE INSERT ON child FOR EACH ROW EXECUTE FUNCTION keep();
CREATE TRIGGER parent_replica BEFORE INSERT ON parent FOR EACH ROW EXECUTE FUNCTION keep();
ALTER TABLE child DISABLE TRIGGER child_audit;
ALTER TABLE parent ENABLE REPLICA TRIGGER parent_replica;
"#;

const PLAN: &str = "target: { url: \"${TARGET_DATABASE_URL}\", owner: app }
settings: { existing_keys: rebuild, if_exists: truncate, workers: 2 }
checks:
  - row_counts: all
  - foreign_keys: all
";

/// The catalog of the app's schema, as one text: what any of these losing would change.
const FINGERPRINT: &str = "SELECT concat_ws(E'\\n',
  (SELECT string_agg(indexname || ': ' || indexdef, E'\\n' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'),
  (SELECT string_agg(format('%s %s %s %s %s', conname, pg_get_constraintdef(oid), convalidated, condeferrable, condeferred), E'\\n' ORDER BY conname)
     FROM pg_constraint WHERE connamespace = 'public'::regnamespace),
  (SELECT string_agg(tgname || ' ' || tgenabled::text, E'\\n' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal),
  (SELECT string_agg(format('%s %s %s', c.relname, c.reloptions, c.relreplident), E'\\n' ORDER BY c.relname)
     FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i')),
  (SELECT string_agg(format('%s %s %s', ic.relname, i.indisclustered, i.indisreplident), E'\\n' ORDER BY ic.relname)
     FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE ic.relnamespace = 'public'::regnamespace),
  (SELECT string_agg(format('%s %s', d.objoid::regclass, d.description), E'\\n' ORDER BY d.objoid::regclass::text) FROM pg_description d
     JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass WHERE c.relnamespace = 'public'::regnamespace),
  (SELECT string_agg(format('%s %s', con.conname, d.description), E'\\n' ORDER BY con.conname) FROM pg_description d
     JOIN pg_constraint con ON con.oid = d.objoid AND d.classoid = 'pg_constraint'::regclass WHERE con.connamespace = 'public'::regnamespace),
  (SELECT string_agg(format('%s.%s %s', c.relname, a.attname, a.attstattarget), E'\\n' ORDER BY c.relname, a.attname) FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped))";

/// The app's schema applied to the target as its migrator would, the plan checked against a
/// snapshot of it; returns the setup and the catalog fingerprint before decant touched it.
fn setup(source: &str, plan: &str) -> (Setup, String) {
    let s = Setup::from_sql(source, "");
    let plan =
        format!("version: 1\nname: t\nsource: {{ url: \"sqlite://source.sqlite3\" }}\n{plan}");
    std::fs::write(s.path("plan.yaml"), plan).unwrap();
    s.db.connect().batch_execute(SCHEMA).unwrap();
    assert_exit(
        &s.decant(&["snapshot", "plan.yaml", "--from", &s.db.url]),
        0,
    );
    let before = query(&s.db, FINGERPRINT);
    for expected in [
        "fillfactor=90",
        "child_audit D",
        "child_parent_nv",
        "for joins",
        "child_parent_idx t f",
        "child.body 300",
    ] {
        assert!(before.contains(expected), "{expected} not in\n{before}");
    }
    (s, before)
}

/// `decant run plan.yaml [--resume]`, killed with SIGKILL at `kill` when given.
fn run(s: &Setup, resume: bool, kill: Option<&str>) -> Outcome {
    let args: &[&str] = if resume {
        &["run", "plan.yaml", "--resume"]
    } else {
        &["run", "plan.yaml"]
    };
    s.decant_killed_at(args, kill)
}

fn rows(s: &Setup) -> String {
    query(
        &s.db,
        "SELECT (SELECT count(*) FROM parent) || '/' || (SELECT count(*) FROM child)",
    )
}

#[test]
fn a_clean_run_leaves_the_apps_catalog_exactly_as_the_app_made_it() {
    let (s, before) = setup(SOURCE, PLAN);
    assert_exit(&run(&s, false, None), 0);
    assert_eq!(rows(&s), "200/2000");
    assert_eq!(query(&s.db, FINGERPRINT), before);
}

#[test]
fn a_run_killed_after_its_keys_were_dropped_refuses_a_new_run_and_rolls_back_or_resumes_to_the_apps_catalog(
) {
    for kill in [
        "after-commit:prepare-target",
        "after-commit:load:child",
        "after-commit:indexes:parent",
    ] {
        // Roll back: the tables are emptied and every definition is back.
        let (s, before) = setup(SOURCE, PLAN);
        assert_eq!(run(&s, false, Some(kill)).code, -1, "{kill}: not killed");
        assert_ne!(
            query(&s.db, FINGERPRINT),
            before,
            "{kill}: nothing was dropped"
        );
        let again = run(&s, false, None);
        assert_exit(&again, 2);
        assert!(
            again.stderr.contains("run --resume")
                && again.stderr.contains("decant rollback")
                && !again.stderr.contains("snapshot"),
            "{kill}: {}",
            again.stderr
        );
        let rolled = s.decant(&["rollback", "plan.yaml", "--yes"]);
        assert_exit(&rolled, 0);
        assert_eq!(query(&s.db, FINGERPRINT), before, "{kill}: after rollback");
        assert_eq!(rows(&s), "0/0", "{kill}: after rollback");
        // A new run after the rollback is a clean run.
        assert_exit(&run(&s, false, None), 0);
        assert_eq!(
            query(&s.db, FINGERPRINT),
            before,
            "{kill}: a run after the rollback"
        );
        drop(s);

        // Resume: the run ends with the app's catalog.
        let (s, before) = setup(SOURCE, PLAN);
        assert_eq!(run(&s, false, Some(kill)).code, -1, "{kill}: not killed");
        assert_exit(&run(&s, true, None), 0);
        assert_eq!(rows(&s), "200/2000", "{kill}: resumed");
        assert_eq!(query(&s.db, FINGERPRINT), before, "{kill}: resumed");
    }
}

#[test]
fn a_failed_run_puts_the_apps_definitions_back_and_a_resume_drops_them_again_for_its_loads() {
    // A plan SQL step that fails after the parents' load: the run fails, the app's keys are
    // back at once; the resume (the step fixed by a table it needed) loads and ends clean.
    let plan = format!(
        "{PLAN}steps:\n  - {{ id: needs-table, sql: \"insert into needed values (1)\", after: [\"load:parent\"], before: [\"load:child\"] }}\n"
    );
    let (s, before) = setup(SOURCE, &plan);
    let failed = run(&s, false, None);
    assert_exit(&failed, 2);
    assert_eq!(query(&s.db, FINGERPRINT), before, "after the failed run");
    assert_eq!(rows(&s), "200/0");
    s.db.connect()
        .batch_execute("CREATE TABLE needed (x int)")
        .unwrap();
    let before = query(&s.db, FINGERPRINT);
    assert_exit(&run(&s, true, None), 0);
    assert_eq!(rows(&s), "200/2000");
    assert_eq!(query(&s.db, FINGERPRINT), before, "after the resume");
}

#[test]
fn a_run_failing_on_an_orphan_rolls_back_to_the_apps_catalog() {
    let source = format!("{SOURCE} INSERT INTO child VALUES (5000, 9999, 'orphan');");
    let (s, before) = setup(&source, PLAN);
    let failed = run(&s, false, None);
    assert_exit(&failed, 2);
    // The orphan search beside the loads, or the foreign key's own check, whichever is first.
    assert!(failed.stderr.contains("9999"), "{}", failed.stderr);
    assert!(
        failed.stderr.contains("decant rollback"),
        "{}",
        failed.stderr
    );
    let rolled = s.decant(&["rollback", "plan.yaml", "--yes"]);
    assert_exit(&rolled, 0);
    assert_eq!(query(&s.db, FINGERPRINT), before);
    assert_eq!(rows(&s), "0/0");
}

#[test]
fn a_sync_into_the_apps_schema_leaves_each_trigger_as_the_app_set_it() {
    // A sync turns the app's triggers off for its changes and on again in its transaction,
    // with no restore after it: the disabled and the replica trigger must come back as they
    // were, not plainly enabled.
    let (s, before) = setup(SOURCE, PLAN);
    assert_exit(&run(&s, false, None), 0);
    let source = s.path("source.sqlite3");
    let mut app =
        <diesel::SqliteConnection as diesel::Connection>::establish(source.to_str().unwrap())
            .unwrap();
    app.batch_execute(
        "UPDATE child SET body = 'changed' WHERE id = 7; INSERT INTO parent VALUES (201, 'new');",
    )
    .unwrap();
    let synced = s.decant(&["sync", "plan.yaml"]);
    assert_exit(&synced, 0);
    assert!(
        synced.stdout.contains("1 inserted, 1 updated"),
        "{}",
        synced.stdout
    );
    assert_eq!(query(&s.db, FINGERPRINT), before);
}

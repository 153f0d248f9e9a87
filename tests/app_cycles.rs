//! An app-owned schema whose foreign keys form a cycle (`a.b_id → b`, `b.a_id → a`): the app's
//! keys are rebuilt or kept, and the cycle's foreign keys come back after the whole cycle.

use diesel::connection::SimpleConnection;

use crate::support::cli::assert_all_checks_passed;
use crate::support::postgres::TestDatabase;
use crate::support::setup::{assert_exit, query, Setup};

const SOURCE: &str = "
    CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT NOT NULL, b_id INTEGER REFERENCES b(id));
    CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id), label TEXT);
    CREATE TABLE c (id INTEGER PRIMARY KEY, a_id INTEGER NOT NULL REFERENCES a(id));
    INSERT INTO a VALUES (2, 'two', NULL);
    INSERT INTO b VALUES (1, 2, 'x'), (2, 2, 'y'), (3, NULL, 'z');
    INSERT INTO a VALUES (1, 'one', 2), (3, 'three', 1);
    UPDATE a SET b_id = 3 WHERE id = 2;
    UPDATE b SET a_id = 1 WHERE id = 2;
    INSERT INTO c VALUES (1, 1), (2, 3);
";

/// The app's schema: the cycle, an index on it, and a table outside it referencing it.
const SCHEMA: &str = "
CREATE TABLE a (id integer PRIMARY KEY, name text NOT NULL, b_id integer);
CREATE TABLE b (id integer PRIMARY KEY, a_id integer REFERENCES a (id) ON DELETE SET NULL, label varchar(10) UNIQUE);
ALTER TABLE a ADD CONSTRAINT a_b_fk FOREIGN KEY (b_id) REFERENCES b (id) DEFERRABLE;
CREATE INDEX a_b ON a (b_id);
CREATE TABLE c (id integer PRIMARY KEY, a_id integer NOT NULL REFERENCES a (id));
";

/// Every key, index and foreign key of the `public` schema, as PostgreSQL defines it.
const DEFINITIONS: &str = "SELECT string_agg(d, E'\\n' ORDER BY d) FROM (
    SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS d
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public') x";

fn setup(keys: &str) -> (Setup, String) {
    let s = Setup::from_sql(SOURCE, "");
    std::fs::write(s.path("schema.sql"), SCHEMA).unwrap();
    std::fs::write(
        s.path("plan.yaml"),
        format!(
            r#"version: 1
name: cycle
source: {{ url: "sqlite://source.sqlite3" }}
target: {{ url: "${{TARGET_DATABASE_URL}}", owner: app }}
settings: {{ existing_keys: {keys}, workers: 2 }}
steps:
  - {{ id: app-schema, run: "psql -q -v ON_ERROR_STOP=1 -f schema.sql", before: [load] }}
checks:
  - row_counts: all
  - checksums: all
  - foreign_keys: all
"#
        ),
    )
    .unwrap();
    let scratch = TestDatabase::new();
    scratch.connect().batch_execute(SCHEMA).unwrap();
    let snap = s.decant(&["snapshot", "plan.yaml", "--from", &scratch.url]);
    assert_exit(&snap, 0);
    let definitions = query(&scratch, DEFINITIONS);
    (s, definitions)
}

fn assert_cycle_loaded(keys: &str) {
    let (s, app_definitions) = setup(keys);
    let validate = s.decant(&["validate", "plan.yaml"]);
    assert_exit(&validate, 0);
    let plan = s.decant(&["plan", "plan.yaml"]);
    assert_exit(&plan, 0);
    assert!(
        plan.stdout.contains("foreign-keys:a") && plan.stdout.contains("foreign-keys:b"),
        "{keys}: {}",
        plan.stdout
    );
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 0);
    assert_all_checks_passed(&out);
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(format('%s|%s|%s', id, name, b_id), ' ; ' ORDER BY id) FROM a"
        ),
        "1|one|2 ; 2|two|3 ; 3|three|1",
        "{keys}"
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(format('%s|%s|%s', id, a_id, label), ' ; ' ORDER BY id) FROM b"
        ),
        "1|2|x ; 2|1|y ; 3||z",
        "{keys}"
    );
    assert_eq!(query(&s.db, "SELECT count(*) FROM c"), "2", "{keys}");
    // The app's schema is whole again: every key, index and foreign key, as the app made it.
    assert_eq!(query(&s.db, DEFINITIONS), app_definitions, "{keys}");
    // Each foreign key of the cycle came back after both tables had their keys.
    let order = query(
        &s.db,
        "SELECT string_agg(step_id, ',' ORDER BY finished_at, step_id) FROM decant.steps WHERE step_id ~ '^(indexes|foreign-keys):'",
    );
    let at = |id: &str| {
        order
            .split(',')
            .position(|s| s == id)
            .unwrap_or_else(|| panic!("{keys}: no `{id}` in {order}"))
    };
    if keys == "rebuild" {
        for fk in ["foreign-keys:a", "foreign-keys:b"] {
            assert!(
                at(fk) > at("indexes:a") && at(fk) > at("indexes:b"),
                "{keys}: {order}"
            );
        }
    } else {
        at("foreign-keys:a");
        at("foreign-keys:b");
    }
}

#[test]
fn rebuilding_an_apps_keys_re_creates_a_foreign_key_cycle_after_both_tables_have_their_keys() {
    assert_cycle_loaded("rebuild");
}

#[test]
fn keeping_an_apps_keys_drops_only_a_cycles_foreign_keys_for_the_load_and_makes_them_again() {
    assert_cycle_loaded("keep");
}

#[test]
fn a_cycle_run_failing_between_its_key_steps_resumes_and_ends_with_the_apps_schema() {
    // A plan step between `indexes:a` and `indexes:b` fails until the test opens its gate. The
    // failed run makes every definition again, so a's foreign key depends on b's key once
    // more; the resume, which must drop b's key for `indexes:b`, drops that foreign key first.
    let (s, app_definitions) = setup("rebuild");
    s.db.connect()
        .batch_execute(
            "CREATE TABLE public.gate_open (x int);
             CREATE FUNCTION public.decant_gate() RETURNS int LANGUAGE plpgsql AS $$
             BEGIN IF NOT EXISTS (SELECT 1 FROM public.gate_open) THEN RAISE EXCEPTION 'gate closed'; END IF; RETURN 1; END $$;",
        )
        .unwrap();
    let plan = std::fs::read_to_string(s.path("plan.yaml")).unwrap().replace(
        "steps:\n",
        "steps:\n  - { id: gate, sql: \"select public.decant_gate()\", after: [\"indexes:a\"], before: [\"indexes:b\"] }\n",
    );
    std::fs::write(s.path("plan.yaml"), plan).unwrap();
    let failed = s.decant(&["run", "plan.yaml"]);
    assert_exit(&failed, 2);
    assert!(failed.stderr.contains("gate closed"), "{}", failed.stderr);
    assert_eq!(
        query(&s.db, "SELECT string_agg(step_id || '=' || state, ',' ORDER BY step_id) FROM decant.steps WHERE step_id IN ('indexes:a', 'indexes:b')"),
        "indexes:a=done"
    );
    assert_eq!(
        query(&s.db, DEFINITIONS),
        app_definitions,
        "after the failure"
    );
    s.db.connect()
        .batch_execute("INSERT INTO public.gate_open VALUES (1)")
        .unwrap();
    let resumed = s.decant(&["run", "plan.yaml", "--resume"]);
    assert_exit(&resumed, 0);
    assert_eq!(
        query(&s.db, DEFINITIONS),
        app_definitions,
        "after the resume"
    );
    assert_eq!(query(&s.db, "SELECT count(*) FROM a"), "3");
}

//! `decant run`, `status` and `rollback` against a real PostgreSQL: rows accounted for,
//! if_exists modes, bad rows, the lock, resume and rollback.

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::RunQueryDsl;

use crate::support::cli::assert_all_checks_passed;
use crate::support::setup::{assert_exit, foreign_keys_made, query, Setup, Value};

#[test]
fn run_moves_every_row_with_keys_foreign_keys_and_sequences() {
    let s = Setup::from_example("savings", |p| p);
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 0);
    for (table, rows) in [
        ("chama_groups", 3),
        ("members", 14),
        ("contributions", 28),
        ("loans", 7),
        ("repayments", 12),
    ] {
        assert_eq!(
            query(&s.db, &format!("SELECT count(*) FROM public.{table}")),
            rows.to_string(),
            "{table}"
        );
    }
    // AUTOINCREMENT continues after sqlite_sequence (30), not after max(id) (28).
    assert_eq!(
        query(
            &s.db,
            "SELECT nextval(pg_get_serial_sequence('public.contributions', 'id'))"
        ),
        "31"
    );
    assert_eq!(foreign_keys_made(&s.db).split(' ').count(), 6);
    assert_eq!(
        query(&s.db, "SELECT sum(amount) FROM public.contributions"),
        query_source_sum(&s.path("data/savings.sqlite3"))
    );
    assert_eq!(query(&s.db, "SELECT term_months FROM public.loans WHERE term_months IS NOT NULL ORDER BY id LIMIT 1"), "6");
    // The plan's own template folder overrides create_table to label each table.
    assert_eq!(
        query(&s.db, "SELECT obj_description('public.loans'::regclass)"),
        "migrated from SQLite table loans by decant"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("reports/plan.report.json")).unwrap())
            .unwrap();
    assert_eq!(report["tables"].as_array().map(Vec::len), Some(5));
    assert!(std::fs::read_to_string(s.path("reports/plan.report.md"))
        .unwrap()
        .contains("| `contributions` | `contributions` | 28 | 28 | 0 |"));
    let status = s.decant(&["status", "plan.yaml"]);
    assert_exit(&status, 0);
    assert!(status.stdout.contains("succeeded"), "{}", status.stdout);
    assert!(
        status.stdout.contains("load:contributions"),
        "{}",
        status.stdout
    );
}

fn query_source_sum(path: &Path) -> String {
    use diesel::Connection;
    let mut conn = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    diesel::sql_query("SELECT printf('%.2f', sum(amount)) AS v FROM contributions")
        .get_result::<Value>(&mut conn)
        .unwrap()
        .v
}

#[test]
fn if_exists_fail_refuses_existing_tables_and_truncate_drop_reload_them() {
    let s = Setup::from_example("savings", |p| p);
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    // A table the run created takes its rows frozen (COPY FREEZE after a TRUNCATE in the
    // load's transaction): every page is all-frozen without a VACUUM.
    let frozen = || {
        s.db.connect()
            .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_visibility")
            .unwrap_or_else(|e| panic!("pg_visibility: {e}"));
        query(
            &s.db,
            "SELECT (all_frozen = pg_relation_size('public.contributions') / current_setting('block_size')::int)::text || ' ' || (all_frozen > 0)::text FROM pg_visibility_map_summary('public.contributions')",
        )
    };
    assert_eq!(frozen(), "true true");
    let again = s.decant(&["run", "plan.yaml"]);
    assert_exit(&again, 2);
    assert!(
        again
            .stderr
            .contains("target tables already exist in schema `public`: chama_groups"),
        "{}",
        again.stderr
    );
    let setting = regex::Regex::new(r"if_exists: \w+").unwrap();
    for mode in ["truncate", "drop"] {
        let plan = std::fs::read_to_string(s.path("plan.yaml")).unwrap();
        let edited = setting
            .replace(&plan, format!("if_exists: {mode}"))
            .into_owned();
        std::fs::write(s.path("plan.yaml"), edited).unwrap();
        assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
        assert_eq!(
            query(&s.db, "SELECT count(*) FROM public.contributions"),
            "28",
            "{mode}"
        );
        // Kept tables may be referenced by keys the run did not make: loaded as they are.
        let expected = if mode == "truncate" {
            "false false"
        } else {
            "true true"
        };
        assert_eq!(frozen(), expected, "{mode}");
        assert_eq!(
            query(
                &s.db,
                "SELECT count(*) FROM pg_constraint WHERE conname = 'contributions_pkey'"
            ),
            "1",
            "{mode}"
        );
    }
}

#[test]
fn kept_tables_are_loaded_parents_first_because_their_foreign_keys_remain() {
    for mode in ["truncate", "append", "drop"] {
        let s = Setup::from_example("savings", |p| {
            p.replace("if_exists: fail", &format!("if_exists: {mode}"))
        });
        let prepared =
            decant::commands::prepare(&s.path("plan.yaml"), decant::prepare::Profiling::Needed)
                .unwrap_or_else(|e| panic!("{e:?}"));
        let g = &prepared.graph;
        let load = g
            .graph
            .node_indices()
            .find(|n| g.graph[*n].id == "load:contributions")
            .unwrap();
        let waits_for_members = g.dependencies(load).contains(&"load:members".to_owned());
        // Dropped tables come back without foreign keys: no need to wait.
        assert_eq!(waits_for_members, mode != "drop", "{mode}");
    }
}

#[test]
fn append_adds_the_source_rows_to_an_existing_table() {
    let s = Setup::from_sql(
        "CREATE TABLE log (msg TEXT); INSERT INTO log VALUES ('a'), ('b');",
        "settings: { if_exists: append }\n",
    );
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    assert_eq!(query(&s.db, "SELECT count(*) FROM public.log"), "4");
}

const BAD: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER, label TEXT);
INSERT INTO items VALUES (1, 5, 'ok'), (2, 'lots', 'bad qty'), (3, 7, 'ok'), (4, 'many', 'bad too');";

#[test]
fn a_bad_row_under_stop_names_table_column_key_and_value_and_writes_nothing() {
    let s = Setup::from_sql(BAD, "settings: { on_bad_row: stop }\n");
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 2);
    for expected in ["items", "`qty`", "id=2", "lots", "load:items"] {
        assert!(
            out.stderr.contains(expected),
            "missing `{expected}` in {}",
            out.stderr
        );
    }
    assert_eq!(query(&s.db, "SELECT count(*) FROM public.items"), "0");
}

#[test]
fn bad_rows_under_reject_are_counted_reported_and_make_the_exit_code_1() {
    let s = Setup::from_sql(BAD, "settings: { on_bad_row: reject }\n");
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 1);
    assert_eq!(query(&s.db, "SELECT count(*) FROM public.items"), "2");
    assert_eq!(query(&s.db, "SELECT string_agg(primary_key->>'id', ',' ORDER BY primary_key->>'id') FROM decant.decant_rejects"), "2,4");
    assert_eq!(
        query(
            &s.db,
            "SELECT min(source_column) FROM decant.decant_rejects"
        ),
        "qty"
    );
    let lines = std::fs::read_to_string(s.path("reports/plan.rejects.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 2, "{lines}");
    assert!(lines.contains("lots") && lines.contains("many"), "{lines}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("reports/plan.report.json")).unwrap())
            .unwrap();
    assert_eq!(report["tables"][0]["read"], 4);
    assert_eq!(report["tables"][0]["written"], 2);
    assert_eq!(report["tables"][0]["rejected"], 2);
}

#[test]
fn a_second_run_on_a_locked_target_is_refused_and_one_after_it_ends_is_not() {
    let s = Setup::from_sql("CREATE TABLE t (id INTEGER PRIMARY KEY);", "");
    let mut holder = s.db.connect();
    holder
        .batch_execute("SELECT pg_advisory_lock(hashtextextended('decant:' || 'public', 0))")
        .unwrap();
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 2);
    assert!(
        out.stderr
            .contains("another decant run or check holds the lock"),
        "{}",
        out.stderr
    );
    drop(holder);
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
}

#[test]
fn rollback_drops_what_the_run_created_and_leaves_the_source_alone() {
    let s = Setup::from_example("savings", |p| p);
    let before = std::fs::read(s.path("data/savings.sqlite3")).unwrap();
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    let out = s.decant(&["rollback", "plan.yaml"]);
    assert_exit(&out, 0);
    assert!(out.stdout.contains("dropped 5 table(s)"), "{}", out.stdout);
    assert_eq!(
        query(
            &s.db,
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ),
        "0"
    );
    assert_eq!(
        std::fs::read(s.path("data/savings.sqlite3")).unwrap(),
        before,
        "the source must never be written"
    );
    let status = s.decant(&["status", "plan.yaml"]);
    assert!(status.stdout.contains("rolled_back"), "{}", status.stdout);
    let again = s.decant(&["rollback", "plan.yaml"]);
    assert!(
        again.stdout.contains("nothing to roll back"),
        "{}",
        again.stdout
    );
}

#[test]
fn resume_redoes_only_unfinished_steps_and_refuses_a_changed_plan() {
    let plan = "steps:\n  - { id: gate, sql: \"select public.decant_gate()\", after: [load] }\n";
    let s = Setup::from_sql(
        "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO a VALUES (1, 'x'), (2, 'y');",
        plan,
    );
    // The gate fails until the test opens it: a failure in the middle of a run.
    let mut conn = s.db.connect();
    conn.batch_execute(
        "CREATE TABLE public.gate_open (x int);
         CREATE FUNCTION public.decant_gate() RETURNS int LANGUAGE plpgsql AS $$
         BEGIN IF NOT EXISTS (SELECT 1 FROM public.gate_open) THEN RAISE EXCEPTION 'gate closed'; END IF; RETURN 1; END $$;",
    )
    .unwrap();
    let failed = s.decant(&["run", "plan.yaml"]);
    assert_exit(&failed, 2);
    assert!(
        failed.stderr.contains("step `gate` failed") && failed.stderr.contains("gate closed"),
        "{}",
        failed.stderr
    );
    assert!(
        failed
            .stderr
            .contains("completed steps: create-schema, create-table:a, load:a"),
        "{}",
        failed.stderr
    );
    conn.batch_execute("INSERT INTO public.gate_open VALUES (1)")
        .unwrap();
    let resumed = s.decant(&["run", "plan.yaml", "--resume"]);
    assert_exit(&resumed, 0);
    assert_eq!(
        query(&s.db, "SELECT count(*) FROM public.a"),
        "2",
        "no duplicates after resume"
    );
    assert_eq!(query(&s.db, "SELECT count(*) FROM decant.runs"), "1");
    let nothing = s.decant(&["run", "plan.yaml", "--resume"]);
    assert_exit(&nothing, 2);
    assert!(
        nothing.stderr.contains("nothing to resume"),
        "{}",
        nothing.stderr
    );

    let failed_again = {
        conn.batch_execute(
            "DELETE FROM public.gate_open; DROP TABLE public.a; DELETE FROM decant.runs",
        )
        .unwrap();
        s.decant(&["run", "plan.yaml"])
    };
    assert_exit(&failed_again, 2);
    let plan_text = std::fs::read_to_string(s.path("plan.yaml")).unwrap();
    std::fs::write(
        s.path("plan.yaml"),
        plan_text.replace("name: t", "name: t2"),
    )
    .unwrap();
    let refused = s.decant(&["run", "plan.yaml", "--resume"]);
    assert_exit(&refused, 2);
    assert!(
        refused.stderr.contains("the plan changed"),
        "{}",
        refused.stderr
    );
}

#[test]
fn kill_9_in_the_middle_of_a_copy_then_resume_carries_exactly_the_source_rows() {
    let s = Setup::from_sql(
        "CREATE TABLE small (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO small VALUES (1, 'a'), (2, 'b');
         CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT, n REAL);
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 600000)
         INSERT INTO big SELECT x, 'row number ' || x, x / 7.0 FROM c;",
        "settings: { workers: 1 }\n",
    );
    // SIGKILL in the middle of the COPY of `big` (after its first 4096 rows): no cleanup.
    let killed = std::process::Command::new(env!("CARGO_BIN_EXE_decant"))
        .args([
            "run",
            "plan.yaml",
            "--report-dir",
            s.path("reports").to_str().unwrap(),
        ])
        .current_dir(s.dir.path())
        .env("TARGET_DATABASE_URL", &s.db.url)
        .env("DECANT_TEST_KILL_AT", "copying:load:big")
        .output()
        .unwrap();
    assert_eq!(killed.status.code(), None, "not killed: {killed:?}");
    // The interrupted table's transaction died with the process: nothing half-written.
    assert_eq!(query(&s.db, "SELECT count(*) FROM public.big"), "0");
    let resumed = s.decant(&["run", "plan.yaml", "--resume"]);
    assert_exit(&resumed, 0);
    assert_eq!(query(&s.db, "SELECT count(*) FROM public.big"), "600000");
    assert_eq!(
        query(&s.db, "SELECT count(DISTINCT id) FROM public.big"),
        "600000"
    );
    assert_eq!(
        query(&s.db, "SELECT sum(id) FROM public.big"),
        "180000300000"
    );
    assert_eq!(query(&s.db, "SELECT count(*) FROM public.small"), "2");
    assert_eq!(query(&s.db, "SELECT status FROM decant.runs"), "succeeded");
}

#[test]
fn every_example_plan_runs_with_every_check_passing() {
    for name in [
        "savings",
        "escrow",
        "forecasting",
        "chat",
        "booking",
        "chat-app",
    ] {
        // booking reads its target from BOOKING_TARGET_URL; the others from TARGET_DATABASE_URL.
        let s = Setup::from_example(name, |p| {
            p.replace("${BOOKING_TARGET_URL:-", "${TARGET_DATABASE_URL:-")
        });
        let out = s.decant(&["run", "plan.yaml"]);
        assert_exit(&out, 0);
        assert_all_checks_passed(&out);
        let check = s.decant(&["check", "plan.yaml"]);
        assert_exit(&check, 0);
        if name == "chat" {
            let status = s.decant(&["status", "plan.yaml"]);
            assert!(
                status.stdout.contains("20240101000000")
                    && status.stdout.contains("20240201000000"),
                "{}",
                status.stdout
            );
            assert!(
                status.stdout.contains("app-migrations"),
                "{}",
                status.stdout
            );
        }
    }
}

#[test]
fn a_rejected_row_names_every_bad_value_and_keeps_the_first_in_column_value_reason() {
    let sql = "CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER, label TEXT, shipped DATE, n INTEGER);
        INSERT INTO items VALUES (1, 5, 'ok', '2024-01-02', 1), (2, 'lots', 'two bad', 'soon', 3),
                                 (3, 'many', 'one bad', '2024-03-04', 4);";
    let s = Setup::from_sql(sql, "settings: { on_bad_row: reject }\n");
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 1);
    let lines = std::fs::read_to_string(s.path("reports/plan.rejects.jsonl")).unwrap();
    let rejects: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rejects.len(), 2, "{lines}");
    let two = &rejects[0];
    assert_eq!(two["primary_key"]["id"], 2, "{lines}");
    // Where a reader of the earlier format looks: the first bad value.
    assert_eq!(two["column"], "qty", "{lines}");
    assert_eq!(two["value"], "lots", "{lines}");
    let columns: Vec<(&str, &str)> = two["columns"]
        .as_array()
        .unwrap_or_else(|| panic!("no `columns` list: {lines}"))
        .iter()
        .map(|b| (b["column"].as_str().unwrap(), b["value"].as_str().unwrap()))
        .collect();
    assert_eq!(columns, [("qty", "lots"), ("shipped", "soon")], "{lines}");
    assert_eq!(two["columns"][0]["reason"], two["reason"], "{lines}");
    assert!(
        two["columns"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("date"),
        "{lines}"
    );
    assert_eq!(
        rejects[1]["columns"].as_array().unwrap().len(),
        1,
        "{lines}"
    );
    // Under `stop`, the error names both.
    let s = Setup::from_sql(sql, "settings: { on_bad_row: stop }\n");
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 2);
    assert!(
        out.stderr.contains("column `qty` cannot take `lots`")
            && out.stderr.contains("column `shipped` cannot take `soon`"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_misspelled_column_with_a_broken_transform_reports_both_problems() {
    let s = Setup::from_sql(
        BAD,
        "columns:\n  items.qtty: { to: integr, transform: \"{{ value | }}\" }\n",
    );
    let out = s.decant(&["validate", "plan.yaml"]);
    assert_exit(&out, 2);
    for expected in [
        "table `items` has no column `qtty`; did you mean `qty`?",
        "bad transform expression `{{ value | }}`",
        "did you mean `integer`?",
    ] {
        assert!(
            out.stderr.contains(expected),
            "missing `{expected}` in:\n{}",
            out.stderr
        );
    }
}

#[test]
fn a_run_that_rejects_nothing_leaves_no_rejects_file_not_even_an_earlier_one() {
    let s = Setup::from_sql(BAD, "settings: { on_bad_row: reject }\n");
    let rejects = s.path("reports/plan.rejects.jsonl");
    assert_exit(&s.decant(&["run", "plan.yaml"]), 1);
    assert_eq!(
        std::fs::read_to_string(&rejects).unwrap().lines().count(),
        2
    );
    // The source is fixed: the next run rejects nothing, and the old file does not stay.
    assert_exit(&s.decant(&["rollback", "plan.yaml"]), 0);
    let path = s.path("source.sqlite3");
    let mut fix =
        <diesel::SqliteConnection as diesel::Connection>::establish(path.to_str().unwrap())
            .unwrap();
    fix.batch_execute("UPDATE items SET qty = 1 WHERE typeof(qty) = 'text'")
        .unwrap();
    let clean = s.decant(&["run", "plan.yaml"]);
    assert_exit(&clean, 0);
    assert!(s.path("reports/plan.report.json").exists());
    assert!(
        !rejects.exists(),
        "a rejects file with nothing rejected: {:?}",
        std::fs::read_to_string(&rejects)
    );
}

#[test]
fn a_rejects_file_that_cannot_be_written_is_named_as_such_not_as_the_source() {
    let s = Setup::from_sql(
        "CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);",
        "",
    );
    // Where the rejects file goes, a directory stands.
    std::fs::create_dir_all(s.path("reports/plan.rejects.jsonl")).unwrap();
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 2);
    assert!(
        out.stderr.contains("cannot write the rejects file `")
            && out.stderr.contains("plan.rejects.jsonl`: "),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("cannot open the source"),
        "{}",
        out.stderr
    );
}

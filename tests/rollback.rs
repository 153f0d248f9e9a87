//! `decant rollback` against a real PostgreSQL when there is nothing it may undo: a run that
//! loaded into tables it did not create, and a run that is already rolled back.

use crate::support::setup::{assert_exit, query, Setup};

const LOG: &str = "CREATE TABLE log (msg TEXT); INSERT INTO log VALUES ('a'), ('b');";

/// `id:status` of every run, oldest first.
fn runs(s: &Setup) -> String {
    query(
        &s.db,
        "SELECT string_agg(id || ':' || status, ',' ORDER BY id) FROM decant.runs",
    )
}

#[test]
fn rollback_of_truncate_and_append_runs_refuses_says_why_and_leaves_rows_and_journal_alone() {
    for mode in ["truncate", "append"] {
        let s = Setup::from_sql(LOG, &format!("settings: {{ if_exists: {mode} }}\n"));
        assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
        assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
        let rows = query(&s.db, "SELECT count(*) FROM public.log");
        for _ in 0..2 {
            let out = s.decant(&["rollback", "plan.yaml"]);
            assert_exit(&out, 2);
            assert!(
                out.stderr
                    .contains("cannot roll back run 2: it created no tables in schema `public`"),
                "{mode}: {}",
                out.stderr
            );
            assert!(
                out.stderr
                    .contains("loaded into tables that already existed"),
                "{mode}: {}",
                out.stderr
            );
            assert!(!out.stdout.contains("rolled back run"), "{}", out.stdout);
        }
        assert_eq!(
            query(&s.db, "SELECT count(*) FROM public.log"),
            rows,
            "{mode}"
        );
        // Neither run is marked: the second refusal did not move on to run 1 either.
        assert_eq!(runs(&s), "1:succeeded,2:succeeded", "{mode}");
    }
}

#[test]
fn a_second_rollback_says_the_newest_run_is_already_rolled_back_and_leaves_older_runs_alone() {
    let s = Setup::from_sql(LOG, "settings: { if_exists: drop }\n");
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    let first = s.decant(&["rollback", "plan.yaml"]);
    assert_exit(&first, 0);
    assert!(
        first
            .stdout
            .contains("rolled back run 2: dropped 1 table(s)"),
        "{}",
        first.stdout
    );
    let second = s.decant(&["rollback", "plan.yaml"]);
    assert_exit(&second, 0);
    assert!(
        second
            .stdout
            .contains("run 2 is already rolled back; nothing to roll back in schema `public`"),
        "{}",
        second.stdout
    );
    assert_eq!(runs(&s), "1:succeeded,2:rolled_back");
}

#[test]
fn rollback_dry_run_lists_the_tables_it_would_drop_and_drops_nothing() {
    let s = Setup::from_sql(
        "CREATE TABLE a (id INTEGER PRIMARY KEY); CREATE TABLE b (id INTEGER PRIMARY KEY);",
        "",
    );
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    let out = s.decant(&["rollback", "plan.yaml", "--dry-run"]);
    assert_exit(&out, 0);
    assert!(
        out.stdout
            .contains("dry run: `decant rollback` would drop 2 table(s) of run 1 in schema `public`; nothing was dropped"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("  - a") && out.stdout.contains("  - b"),
        "{}",
        out.stdout
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ),
        "2"
    );
    assert_eq!(runs(&s), "1:succeeded");
    // Without a terminal on standard input it does not ask: scripts go on as before.
    assert_exit(&s.decant(&["rollback", "plan.yaml"]), 0);
    assert_eq!(
        query(
            &s.db,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ),
        "0"
    );
}

#[test]
fn status_after_a_rollback_shows_when_the_run_finished_and_when_it_was_rolled_back() {
    let s = Setup::from_sql(LOG, "");
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    // The run as if it had ended a day ago: its finish and the rollback are seconds apart
    // when shown, without waiting.
    diesel::connection::SimpleConnection::batch_execute(
        &mut s.db.connect(),
        "UPDATE decant.runs SET started_at = started_at - interval '1 day', finished_at = finished_at - interval '1 day' WHERE id = 1",
    )
    .unwrap();
    let finished = query(&s.db, "SELECT finished_at FROM decant.runs WHERE id = 1");
    assert_exit(&s.decant(&["rollback", "plan.yaml"]), 0);
    assert_eq!(
        query(&s.db, "SELECT finished_at FROM decant.runs WHERE id = 1"),
        finished,
        "the rollback kept the run's own finish time"
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT rolled_back_at > finished_at FROM decant.runs WHERE id = 1"
        ),
        "true"
    );
    let status = s.decant(&["status", "plan.yaml"]);
    assert_exit(&status, 0);
    let shown = query(
        &s.db,
        "SELECT to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || 'Z' FROM decant.runs WHERE id = 1",
    );
    let line = status
        .stdout
        .lines()
        .find(|l| l.starts_with("run 1 "))
        .unwrap_or_else(|| panic!("{}", status.stdout));
    assert!(line.contains(&format!("finished {shown}")), "{line}");
    assert!(line.contains("rolled back 20"), "{line}");
}

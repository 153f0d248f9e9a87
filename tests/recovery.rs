//! What a user meets when a run cannot start or stops halfway: why the target refused the
//! connection, a report with the failure in it, and the way on that works for the plan.

use diesel::connection::SimpleConnection;
use diesel::Connection;

use crate::support::cli::decant_in;
use crate::support::setup::{assert_exit, query, Setup};

const ITEMS: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT);
INSERT INTO items VALUES (1, 'a'), (2, 'b');";

/// A plan step that fails after the load, so the run stops with a table loaded.
const FAILING_STEP: &str =
    "steps:\n  - { id: boom, sql: \"select * from no_such_table\", after: [load] }\n";

#[test]
fn every_command_says_why_the_target_refused_the_connection() {
    let s = Setup::from_sql(ITEMS, "");
    let missing = decant::url::with_database(&s.db.url, &format!("{}_missing", s.db.name));
    let cases = [
        (missing.as_str(), "does not exist"),
        ("postgres://postgres@127.0.0.1:1/x", "Connection refused"),
        (
            "postgres://postgres@no-such-host.invalid:5432/x",
            "could not translate host name",
        ),
    ];
    for (url, reason) in cases {
        for command in ["run", "check", "status", "rollback"] {
            let out = decant_in(
                s.dir.path(),
                &[command, "plan.yaml"],
                &[("TARGET_DATABASE_URL", url)],
            );
            assert_exit(&out, 2);
            assert!(
                out.stderr.contains("cannot connect to the target") && out.stderr.contains(reason),
                "`decant {command}` against `{url}` does not say `{reason}`:\n{}",
                out.stderr
            );
        }
    }
    // A missing database: how to create it, naming it.
    let out = decant_in(
        s.dir.path(),
        &["run", "plan.yaml"],
        &[("TARGET_DATABASE_URL", &missing)],
    );
    assert!(
        out.stderr
            .contains(&format!("CREATE DATABASE \"{}_missing\"", s.db.name))
            && out.stderr.contains("--create-database"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_connection_reason_never_shows_the_password() {
    let s = Setup::from_sql(ITEMS, "");
    // Nothing listens on port 1, so libpq's message is about the connection, not the password.
    let out = decant_in(
        s.dir.path(),
        &["run", "plan.yaml"],
        &[(
            "TARGET_DATABASE_URL",
            "postgres://app:s3cr3t-pw@127.0.0.1:1/x",
        )],
    );
    assert_exit(&out, 2);
    assert!(out.stderr.contains("Connection refused"), "{}", out.stderr);
    assert!(!out.stderr.contains("s3cr3t-pw"), "{}", out.stderr);
}

/// Drops a database that a test had decant create, also when the test fails.
struct CreatedDatabase {
    server: String,
    name: String,
}

impl Drop for CreatedDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = diesel::PgConnection::establish(&self.server) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

#[test]
fn run_with_create_database_creates_a_missing_target_database_and_loads_it() {
    let s = Setup::from_sql(ITEMS, "");
    let created = CreatedDatabase {
        server: s.db.url.clone(),
        name: format!("{}_created", s.db.name),
    };
    let url = decant::url::with_database(&s.db.url, &created.name);
    let out = decant_in(
        s.dir.path(),
        &[
            "run",
            "plan.yaml",
            "--create-database",
            "--report-dir",
            "reports",
        ],
        &[("TARGET_DATABASE_URL", &url)],
    );
    assert_exit(&out, 0);
    assert!(
        out.stderr
            .contains(&format!("created database `{}`", created.name)),
        "{}",
        out.stderr
    );
    // The rows are in the database it created.
    let mut conn = diesel::PgConnection::establish(&url).unwrap();
    let items: crate::support::setup::Value = diesel::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT coalesce(string_agg(id || ':' || label, ',' ORDER BY id), '') AS v FROM items",
        ),
        &mut conn,
    )
    .unwrap();
    assert_eq!(items.v, "1:a,2:b");
    // A second run finds the database there and says nothing about creating it.
    let status = decant_in(
        s.dir.path(),
        &["status", "plan.yaml"],
        &[("TARGET_DATABASE_URL", &url)],
    );
    assert_exit(&status, 0);
    assert!(status.stdout.contains("succeeded"), "{}", status.stdout);
}

#[test]
fn a_failed_run_writes_its_reports_with_the_failed_step_its_sql_and_the_completed_steps() {
    let s = Setup::from_sql(ITEMS, FAILING_STEP);
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 2);
    assert!(
        out.stderr.contains("reports (with the failure in them)"),
        "{}",
        out.stderr
    );
    let report = s.report("plan");
    let failure = &report["failure"];
    assert_eq!(failure["state"], "failed", "{report}");
    assert_eq!(failure["step"], "boom", "{report}");
    assert!(
        failure["sql"].as_str().unwrap().contains("no_such_table"),
        "{report}"
    );
    assert!(
        failure["reason"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{report}"
    );
    let completed: Vec<&str> = failure["completed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(completed.contains(&"load:items"), "{completed:?}");
    assert_eq!(report["tables"][0]["written"], 2, "{report}");
    let md = std::fs::read_to_string(s.path("reports/plan.report.md")).unwrap();
    assert!(md.contains("**Result: run failed at step `boom`:"), "{md}");
    assert!(
        md.contains("## What stopped it") && md.contains("no_such_table"),
        "{md}"
    );
}

#[test]
fn after_a_failed_run_whose_plan_must_change_the_hint_leads_to_rollback_and_that_path_works() {
    let s = Setup::from_sql(ITEMS, FAILING_STEP);
    let failed = s.decant(&["run", "plan.yaml"]);
    assert_exit(&failed, 2);
    assert!(
        failed.stderr.contains("decant run plan.yaml --resume")
            && failed.stderr.contains("decant rollback plan.yaml")
            && failed.stderr.contains("if_exists: drop"),
        "{}",
        failed.stderr
    );
    // The plan is fixed: resuming refuses, and says what to do instead.
    std::fs::write(
        s.path("plan.yaml"),
        std::fs::read_to_string(s.path("plan.yaml"))
            .unwrap()
            .replace("no_such_table", "items"),
    )
    .unwrap();
    let resumed = s.decant(&["run", "plan.yaml", "--resume"]);
    assert_exit(&resumed, 2);
    assert!(
        resumed.stderr.contains("the plan changed")
            && resumed.stderr.contains("decant rollback plan.yaml"),
        "{}",
        resumed.stderr
    );
    // What the hint says works.
    assert_exit(&s.decant(&["rollback", "plan.yaml"]), 0);
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    assert_eq!(query(&s.db, "SELECT count(*) FROM public.items"), "2");
}

#[test]
fn after_a_failed_truncate_run_the_hint_says_to_run_again_and_that_rollback_cannot_undo_it() {
    let s = Setup::from_sql(
        ITEMS,
        &format!("settings: {{ if_exists: truncate }}\n{FAILING_STEP}"),
    );
    let failed = s.decant(&["run", "plan.yaml"]);
    assert_exit(&failed, 2);
    assert!(
        failed
            .stderr
            .contains("`decant run plan.yaml` empties the tables first")
            && failed.stderr.contains("`decant rollback` cannot undo"),
        "{}",
        failed.stderr
    );
    assert!(
        !failed.stderr.contains("undo this run with"),
        "{}",
        failed.stderr
    );
}

#[test]
fn the_markdown_report_leads_with_the_result_and_totals_and_puts_checks_before_step_timings() {
    let s = Setup::from_sql(
        "CREATE TABLE a (id INTEGER PRIMARY KEY); INSERT INTO a VALUES (1), (2);
         CREATE TABLE b (id INTEGER PRIMARY KEY); INSERT INTO b VALUES (1);",
        "checks:\n  - row_counts: all\n",
    );
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    let md = std::fs::read_to_string(s.path("reports/plan.report.md")).unwrap();
    let lines: Vec<&str> = md.lines().collect();
    assert!(lines[0].starts_with("# decant run 1 — `t`"), "{md}");
    assert_eq!(
        lines[2], "**Result: run succeeded: every row accounted for, 2 check(s) passed**",
        "{md}"
    );
    assert!(
        md.contains("| **total** (2 tables) | | **3** | **3** | **0** |"),
        "{md}"
    );
    let checks = md.find("## Checks").unwrap();
    let timings = md.find("## Step timings").unwrap();
    assert!(checks < timings, "{md}");
}

/// `small` loads, then the run is interrupted (SIGINT) in the middle of the COPY of `big`:
/// the journal has run 1 `interrupted`, `big` exists and is empty.
fn interrupted_setup() -> Setup {
    let s = Setup::from_sql(
        "CREATE TABLE small (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO small VALUES (1, 'a'), (2, 'b');
         CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT);
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000)
         INSERT INTO big SELECT x, 'row ' || x FROM c;",
        "settings: { workers: 1 }\nchecks:\n  - checksums: all\n",
    );
    let run = crate::support::cli::Paused::start(
        s.dir.path(),
        &["run", "plan.yaml", "--report-dir", "reports"],
        &[("TARGET_DATABASE_URL", &s.db.url)],
        "copying:load:big",
    );
    let sent = std::process::Command::new("/bin/sh")
        .args(["-c", "kill -INT \"$1\"", "sh", &run.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = run.finish_within(std::time::Duration::from_secs(60));
    assert_eq!(out.code, 130, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        query(&s.db, "SELECT status FROM decant.runs"),
        "interrupted"
    );
    assert_eq!(query(&s.db, "SELECT count(*) FROM public.big"), "0");
    s
}

#[test]
fn a_plain_run_after_an_interrupted_one_names_that_run_and_leads_to_resume_or_rollback() {
    let s = interrupted_setup();
    let again = s.decant(&["run", "plan.yaml"]);
    assert_exit(&again, 2);
    assert!(
        again.stderr.contains(
            "run 1 into schema `public` never finished (the journal has it `interrupted`)"
        ) && again.stderr.contains("`decant run plan.yaml --resume`")
            && again.stderr.contains("`decant rollback plan.yaml`"),
        "{}",
        again.stderr
    );
    // Dropping the tables would lose what run 1 committed: not the advice.
    assert!(!again.stderr.contains("if_exists"), "{}", again.stderr);
    // What it says works.
    assert_exit(&s.decant(&["run", "plan.yaml", "--resume"]), 0);
    assert_eq!(query(&s.db, "SELECT count(*) FROM public.big"), "5000");
}

#[test]
fn check_on_an_interrupted_target_says_first_that_the_run_never_finished_and_caps_the_listing() {
    let s = interrupted_setup();
    let check = s.decant(&["check", "plan.yaml"]);
    assert_exit(&check, 1);
    let lines: Vec<&str> = check.stdout.lines().collect();
    assert!(
        lines[1].starts_with("run 1 never finished (the journal has it `interrupted`)")
            && lines[1].contains("`decant run plan.yaml --resume`"),
        "{}",
        check.stdout
    );
    let missing = lines
        .iter()
        .filter(|l| l.contains("missing in the target"))
        .count();
    assert!(missing <= 21, "{missing} lines:\n{}", check.stdout);
    assert!(
        check
            .stdout
            .contains("… and 980 more line(s) of this check: `decant check -v` lists them all"),
        "{}",
        check.stdout
    );
    // `-v` lists every one the check kept (1000 at most).
    let all = s.decant(&["check", "plan.yaml", "-v"]);
    assert_eq!(
        all.stdout
            .lines()
            .filter(|l| l.contains("in the source, missing in the target"))
            .count(),
        1000,
        "{}",
        all.stdout
    );
}

#[test]
fn tables_no_decant_run_made_lead_to_app_schema_never_to_dropping_them() {
    let s = Setup::from_sql(ITEMS, "");
    // The app's migrator made `items`, and the app wrote a row.
    s.db.connect()
        .batch_execute("CREATE TABLE public.items (id integer PRIMARY KEY, label text); INSERT INTO public.items VALUES (7, 'app')")
        .unwrap();
    let run = s.decant(&["run", "plan.yaml"]);
    assert_exit(&run, 2);
    assert!(
        run.stderr.contains("no decant run made them")
            && run.stderr.contains("decant init --app-schema"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("if_exists` to drop"), "{}", run.stderr);
    let init = decant_in(
        s.dir.path(),
        &[
            "init",
            "--source",
            "sqlite://source.sqlite3",
            "--target",
            &s.db.url,
        ],
        &[],
    );
    assert_exit(&init, 0);
    assert!(
        init.stderr.contains("warning: schema `public` of")
            && init
                .stderr
                .contains("1 table(s) no decant run made (`items`)")
            && init.stderr.contains("decant init --app-schema"),
        "{}",
        init.stderr
    );
    // A schema decant made is not an app's.
    let own = Setup::from_sql(ITEMS, "");
    assert_exit(&own.decant(&["run", "plan.yaml"]), 0);
    let init = decant_in(
        own.dir.path(),
        &[
            "init",
            "--source",
            "sqlite://source.sqlite3",
            "--target",
            &own.db.url,
        ],
        &[],
    );
    assert_exit(&init, 0);
    assert!(!init.stderr.contains("warning"), "{}", init.stderr);
    let again = own.decant(&["run", "plan.yaml"]);
    assert!(
        again.stderr.contains("set `settings.if_exists` to drop"),
        "{}",
        again.stderr
    );
}

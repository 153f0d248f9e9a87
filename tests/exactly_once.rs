//! Exactly once: kills placed at every step boundary and inside every kind of step's commit
//! window, signals mid-load, checks during a run, and a source written to while it is copied.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl, SqliteConnection};

use crate::support::setup::{
    assert_exit, assert_tables_reconcile, foreign_keys_made, query, Setup,
};

/// A source with every kind of step: tables with keys, an index, foreign keys (so
/// constraint, index, foreign-key and sequence steps), a view, a user SQL step that inserts a
/// row (a repeat would show as a second row), and a Diesel migration that does the same.
const SOURCE: &str = "
    CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE);
    CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), total REAL, note TEXT);
    CREATE INDEX orders_customer ON orders (customer_id);
    CREATE TABLE lines (order_id INTEGER NOT NULL REFERENCES orders(id), line INTEGER NOT NULL, sku TEXT, PRIMARY KEY (order_id, line));
    CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300)
    INSERT INTO customers SELECT x, 'customer ' || x, 'c' || x || '@example.com' FROM c;
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000)
    INSERT INTO orders SELECT x, 1 + x % 300, x / 7.0, CASE WHEN x % 5 = 0 THEN NULL ELSE 'note ' || x END FROM c;
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 6000)
    INSERT INTO lines SELECT 1 + (x - 1) / 2, 1 + (x - 1) % 2, 'sku-' || x FROM c;
";

const PLAN: &str = "settings: { workers: 2 }
steps:
  - { id: audit-table, sql: \"create table run_audit (note text not null)\", before: [schema] }
  - { id: audit-insert, sql: \"insert into run_audit values ('loaded')\", after: [load] }
  - { id: app-migrations, migrations: \"migrations/\", after: [foreign-keys] }
checks:
  - row_counts: all
  - checksums: all
  - foreign_keys: all
";

fn setup() -> Setup {
    let s = Setup::from_sql(SOURCE, PLAN);
    let migration = s.path("migrations/2024-01-01-000000_settings");
    std::fs::create_dir_all(&migration).unwrap();
    std::fs::write(
        migration.join("up.sql"),
        "CREATE TABLE app_settings (k text PRIMARY KEY, v text);\nINSERT INTO app_settings VALUES ('theme', 'dark');\n",
    )
    .unwrap();
    std::fs::write(migration.join("down.sql"), "DROP TABLE app_settings;\n").unwrap();
    s
}

/// `decant run plan.yaml [--resume]` with a kill point set (or none).
fn run_with_kill(s: &Setup, resume: bool, kill_at: Option<&str>) -> crate::support::cli::Outcome {
    let args: &[&str] = if resume {
        &["run", "plan.yaml", "--resume"]
    } else {
        &["run", "plan.yaml"]
    };
    s.decant_killed_at(args, kill_at)
}

/// Runs the plan with a SIGKILL at `kill`, and checks the process died there.
fn run_killed_at(s: &Setup, kill: &str) {
    let first = run_with_kill(s, false, Some(kill));
    assert_eq!(
        first.code, -1,
        "{kill}: the run was not killed\n{}{}",
        first.stdout, first.stderr
    );
}

/// Resumes the killed run, which must then succeed.
fn resume_to_the_end(s: &Setup, kill: &str) {
    let resumed = run_with_kill(s, true, None);
    assert_eq!(
        resumed.code, 0,
        "{kill}\n{}{}",
        resumed.stdout, resumed.stderr
    );
}

/// The target holds exactly the source's rows, the user step and the migration ran once,
/// every check passes, and the report accounts for every table.
fn assert_exact(s: &Setup, context: &str) {
    assert_eq!(
        query(
            &s.db,
            "SELECT status FROM decant.runs ORDER BY id DESC LIMIT 1"
        ),
        "succeeded",
        "{context}"
    );
    assert_eq!(
        query(&s.db, "SELECT count(*) FROM public.customers"),
        "300",
        "{context}"
    );
    assert_eq!(
        query(&s.db, "SELECT count(*) FROM public.orders"),
        "3000",
        "{context}"
    );
    assert_eq!(
        query(&s.db, "SELECT count(*) FROM public.lines"),
        "6000",
        "{context}"
    );
    assert_eq!(
        query(&s.db, "SELECT count(*) FROM public.run_audit"),
        "1",
        "{context}: the user SQL step ran more than once"
    );
    assert_eq!(
        query(&s.db, "SELECT count(*) FROM public.app_settings"),
        "1",
        "{context}: the migration ran more than once"
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT count(*) FROM pg_views WHERE viewname = 'big_orders'"
        ),
        "1",
        "{context}"
    );
    let check = s.decant(&["check", "plan.yaml"]);
    assert_eq!(
        check.code, 0,
        "{context}: check after the resume\n{}{}",
        check.stdout, check.stderr
    );
    let report = s.report("plan");
    let tables = report["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 3, "{context}: report tables {tables:?}");
    assert_tables_reconcile(&report, context);
    let written: u64 = tables.iter().map(|t| t["written"].as_u64().unwrap()).sum();
    assert_eq!(written, 9300, "{context}: {tables:?}");
}

#[test]
fn a_kill_at_every_step_boundary_and_commit_window_then_resume_carries_each_step_exactly_once() {
    // The steps a clean run journals, in the order they ran.
    let clean = setup();
    assert_exit(&run_with_kill(&clean, false, None), 0);
    assert_exact(&clean, "clean run");
    let steps: Vec<String> = query(
        &clean.db,
        "SELECT string_agg(step_id, ',' ORDER BY started_at, step_id) FROM decant.steps",
    )
    .split(',')
    .map(str::to_owned)
    .collect();
    for kind in [
        "load:",
        "constraints:",
        "indexes:",
        "foreign-keys:",
        "sequence",
        "views",
        "audit-insert",
        "app-migrations",
        "create-table:",
    ] {
        assert!(
            steps
                .iter()
                .any(|s| s.starts_with(kind) || s.contains(kind)),
            "no `{kind}` step in {steps:?}"
        );
    }
    drop(clean);
    let scenarios: Vec<(String, String)> = steps
        .iter()
        .enumerate()
        .flat_map(|(i, step)| {
            ["started", "before-commit", "after-commit"]
                .into_iter()
                .map(move |point| (format!("{point}:{step}"), i))
        })
        .map(|(kill, i)| {
            // The resume is killed again, a few steps later, after that step's commit.
            let later = steps.get(i + 2).unwrap_or(&steps[i]);
            (kill, format!("after-commit:{later}"))
        })
        .collect();
    for (kill, second_kill) in scenarios {
        let s = setup();
        run_killed_at(&s, &kill);
        let resumed = run_with_kill(&s, true, Some(&second_kill));
        if resumed.code == -1 {
            let again = run_with_kill(&s, true, None);
            assert_eq!(
                again.code, 0,
                "{kill}, then {second_kill}, then a resume\n{}{}",
                again.stdout, again.stderr
            );
        } else {
            assert_eq!(
                resumed.code, 0,
                "{kill}, then {second_kill}\n{}{}",
                resumed.stdout, resumed.stderr
            );
        }
        assert_exact(&s, &format!("killed at {kill}, then at {second_kill}"));
    }
}

/// A source big enough that its load takes a second or more.
const BIG: &str = "CREATE TABLE small (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO small VALUES (1, 'a'), (2, 'b');
     CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT, n REAL);
     WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 600000)
     INSERT INTO big SELECT x, 'row number ' || x, x / 7.0 FROM c;";

fn spawn_run(s: &Setup, pause_at: Option<&str>) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_decant"));
    if let Some(point) = pause_at {
        command
            .env("DECANT_TEST_PAUSE_AT", point)
            .env("DECANT_TEST_RELEASE", s.path("release"));
    }
    command
        .args([
            "run",
            "plan.yaml",
            "--report-dir",
            s.path("reports").to_str().unwrap(),
        ])
        .current_dir(s.dir.path())
        .env("TARGET_DATABASE_URL", &s.db.url)
        .env_remove("DECANT_TEST_KILL_AT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn send(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Reads the child's stderr on a thread; returns once the run says it paused at its pause
/// point, and a handle that yields all of stderr when the child ends.
fn wait_paused(child: &mut Child) -> std::thread::JoinHandle<String> {
    use std::io::BufRead;
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line.unwrap_or_default();
            // Anywhere in the line: another thread may have been mid-line when the pause spoke.
            if line.contains("decant: paused at") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the run never reached its pause point");
    reader
}

/// Lets a paused run go on.
fn release(s: &Setup) {
    std::fs::write(s.path("release"), "").unwrap();
}

#[test]
fn sigterm_and_sigint_mid_load_roll_the_table_back_mark_the_run_interrupted_and_resume_exactly() {
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        let s = Setup::from_sql(BIG, "settings: { workers: 1 }\n");
        // Paused in the middle of the COPY of `big`; the signal ends the pause.
        let mut child = spawn_run(&s, Some("copying:load:big"));
        let stderr = wait_paused(&mut child);
        send(&child, signal);
        let status = child.wait().unwrap();
        let stderr = stderr.join().unwrap();
        assert_eq!(status.code(), Some(code), "SIG{signal}: {stderr}");
        assert!(
            stderr.contains(&format!("interrupted by SIG{signal}"))
                && stderr.contains("load:big")
                && stderr.contains("--resume"),
            "{stderr}"
        );
        assert_eq!(
            query(&s.db, "SELECT status FROM decant.runs"),
            "interrupted"
        );
        assert_eq!(
            query(
                &s.db,
                "SELECT state FROM decant.steps WHERE step_id = 'load:big'"
            ),
            "interrupted"
        );
        assert_eq!(query(&s.db, "SELECT count(*) FROM public.big"), "0");
        let status = s.decant(&["status", "plan.yaml"]);
        assert!(status.stdout.contains("interrupted"), "{}", status.stdout);
        let resumed = s.decant(&["run", "plan.yaml", "--resume"]);
        assert_exit(&resumed, 0);
        assert_eq!(query(&s.db, "SELECT count(*) FROM public.big"), "600000");
        assert_eq!(
            query(&s.db, "SELECT sum(id) FROM public.big"),
            "180000300000"
        );
        assert_eq!(query(&s.db, "SELECT count(*) FROM public.small"), "2");
        assert_eq!(query(&s.db, "SELECT status FROM decant.runs"), "succeeded");
    }
}

#[test]
fn check_during_a_run_refuses_and_status_tells_a_live_run_from_an_abandoned_one() {
    let s = Setup::from_sql(
        BIG,
        "settings: { workers: 1 }\nchecks:\n  - row_counts: all\n",
    );
    // The run waits, alive and holding its lock, right after `load:small` committed.
    let mut child = spawn_run(&s, Some("after-commit:load:small"));
    let _stderr = wait_paused(&mut child);
    let check = s.decant(&["check", "plan.yaml"]);
    assert_exit(&check, 2);
    assert!(
        check.stderr.contains("a decant run is in progress"),
        "{}{}",
        check.stdout,
        check.stderr
    );
    let status = s.decant(&["status", "plan.yaml"]);
    assert!(
        status.stdout.contains(" running ") && !status.stdout.contains("abandoned"),
        "{}",
        status.stdout
    );
    child.kill().unwrap(); // SIGKILL: the journal stays `running`.
    let _ = child.wait();
    // PostgreSQL lets the lock go when it notices the client is gone.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut status = s.decant(&["status", "plan.yaml"]);
    while !status.stdout.contains("abandoned") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        status = s.decant(&["status", "plan.yaml"]);
    }
    assert!(status.stdout.contains("abandoned"), "{}", status.stdout);
    assert_exit(&s.decant(&["run", "plan.yaml", "--resume"]), 0);
    let check = s.decant(&["check", "plan.yaml"]);
    assert_exit(&check, 0);
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[test]
fn a_source_written_during_the_run_is_checked_against_the_snapshot_that_was_loaded() {
    let s = Setup::from_sql(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, payload TEXT);
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000)
         INSERT INTO events SELECT x, 'k' || (x % 7), 'payload ' || x FROM c;
         CREATE TABLE counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
         INSERT INTO counters VALUES ('events', 300000);",
        "settings: { workers: 1 }\nchecks:\n  - row_counts: all\n  - checksums: all\n",
    );
    // The app: inserts, updates and deletes in small commits for as long as the run lasts.
    let source = s.path("source.sqlite3");
    let mut app = SqliteConnection::establish(source.to_str().unwrap()).unwrap();
    app.batch_execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000")
        .unwrap();
    // Paused in the middle of the COPY of `events`: the snapshot is taken, and the app writes.
    let mut child = spawn_run(&s, Some("copying:load:events"));
    let stderr = wait_paused(&mut child);
    let mut commits = 0u64;
    let mut next = 300_001u64;
    while commits < 50 {
        app.batch_execute(&format!(
            "BEGIN; INSERT INTO events VALUES ({next}, 'live', 'written during the run');
             UPDATE events SET payload = 'changed' WHERE id = {};
             DELETE FROM events WHERE id = {};
             UPDATE counters SET n = n + 1; COMMIT;",
            next % 300_000 + 1,
            (next * 7) % 300_000 + 1
        ))
        .unwrap();
        next += 1;
        commits += 1;
    }
    release(&s);
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        stderr.join().unwrap()
    );
    assert!(stdout.contains(" passed, 0 failed, 0 error(s)"), "{stdout}");
    // The target is the snapshot that was loaded, row for row the source before the app's
    // writes: all 300 000 rows with their first payloads, none of the app's later rows or
    // changes, and the counter as it was; the source has moved on since.
    assert_eq!(
        query(
            &s.db,
            "SELECT count(*) || '/' || count(*) FILTER (WHERE payload = 'payload ' || id AND kind = 'k' || (id % 7)) || '/' || min(id) || '/' || max(id) FROM public.events"
        ),
        "300000/300000/1/300000"
    );
    assert_eq!(query(&s.db, "SELECT n FROM public.counters"), "300000");
    let moved: i64 = diesel::sql_query(
        "SELECT count(*) AS n FROM events WHERE kind = 'live' OR payload = 'changed'",
    )
    .get_result::<Count>(&mut app)
    .unwrap()
    .n;
    assert!(moved > 0, "the app's writes are not in the source");
    let report = s.report("plan");
    let events = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["source"] == "events")
        .unwrap()
        .clone();
    assert_eq!(
        query(&s.db, "SELECT count(*) FROM public.events"),
        events["written"].to_string()
    );
    // A standalone check now sees the app's later writes, and says the source moved on.
    drop(app);
    let check = s.decant(&["check", "plan.yaml"]);
    assert_exit(&check, 1);
    assert!(
        check.stdout.contains("the source changed since run"),
        "{}",
        check.stdout
    );
}

#[test]
fn a_run_whose_connections_are_cut_mid_load_is_journaled_failed_and_resumes_exactly() {
    let s = Setup::from_sql(BIG, "settings: { workers: 2 }\n");
    let mut child = spawn_run(&s, Some("copying:load:big"));
    let stderr = wait_paused(&mut child);
    // As when the target restarts: every connection of the run is terminated at once, in the
    // middle of the COPY of `big`.
    query(
        &s.db,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    release(&s);
    let status = child.wait().unwrap();
    let stderr = stderr.join().unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("load:big"), "{stderr}");
    assert_eq!(query(&s.db, "SELECT status FROM decant.runs"), "failed");
    assert_eq!(
        query(
            &s.db,
            "SELECT count(*) FROM decant.steps WHERE state = 'running'"
        ),
        "0"
    );
    assert_eq!(query(&s.db, "SELECT count(*) FROM public.big"), "0");
    assert_exit(&s.decant(&["run", "plan.yaml", "--resume"]), 0);
    assert_eq!(query(&s.db, "SELECT count(*) FROM public.big"), "600000");
    assert_eq!(query(&s.db, "SELECT status FROM decant.runs"), "succeeded");
}

/// The steps a clean run of `s`'s plan journals, in the order they ran.
fn journaled_steps(s: &Setup) -> Vec<String> {
    query(
        &s.db,
        "SELECT string_agg(step_id, ',' ORDER BY started_at, step_id) FROM decant.steps",
    )
    .split(',')
    .map(str::to_owned)
    .collect()
}

#[test]
fn an_app_owned_run_killed_after_any_steps_commit_resumes_to_the_same_data() {
    // plans/chat-app.yaml: the app's migrator as a `run:` step, prepare-target dropping the
    // app's keys, loads, each table's keys re-created in its `indexes:` step.
    let clean = Setup::from_example("chat-app", |p| p);
    assert_exit(&run_with_kill(&clean, false, None), 0);
    let steps = journaled_steps(&clean);
    for kind in [
        "app-migrate",
        "prepare-target",
        "load:",
        "indexes:",
        "sequence:",
    ] {
        assert!(
            steps.iter().any(|s| s.starts_with(kind)),
            "no `{kind}` step in {steps:?}"
        );
    }
    let fingerprint =
        "SELECT (SELECT count(*) FROM users) || '/' || (SELECT count(*) FROM messages) || '/' || \
         (SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations)";
    let expected = query(&clean.db, fingerprint);
    // The oracle for the schema is the app's own, as its snapshot holds it: every index and
    // key, foreign key and check with its exact definition, not a count from a clean run.
    let app = app_definitions_in_snapshot();
    assert_eq!(definitions_in_target(&clean), app, "clean run");
    drop(clean);
    for step in &steps {
        let s = Setup::from_example("chat-app", |p| p);
        let kill = format!("after-commit:{step}");
        run_killed_at(&s, &kill);
        resume_to_the_end(&s, &kill);
        assert_eq!(query(&s.db, fingerprint), expected, "{kill}");
        assert_eq!(definitions_in_target(&s), app, "{kill}");
        assert_exit(&s.decant(&["check", "plan.yaml"]), 0);
    }
}

/// The app's indexes and constraints as `plans/chat-app.schema.json` (its snapshot) holds
/// them, one `table name definition` line each, sorted.
fn app_definitions_in_snapshot() -> Vec<String> {
    let path = crate::support::cli::repo_root().join("plans/chat-app.schema.json");
    let snapshot: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut lines = Vec::new();
    for t in snapshot["tables"].as_array().unwrap() {
        let table = t["name"].as_str().unwrap();
        for kind in ["indexes", "constraints"] {
            for d in t[kind].as_array().unwrap() {
                lines.push(format!(
                    "{table} {} {}",
                    d["name"].as_str().unwrap(),
                    d["definition"].as_str().unwrap()
                ));
            }
        }
    }
    lines.sort();
    lines
}

/// The same lines, read from the target's catalog.
fn definitions_in_target(s: &Setup) -> Vec<String> {
    let mut lines: Vec<String> = query(
        &s.db,
        "SELECT string_agg(line, E'\\n') FROM ( \
           SELECT tablename || ' ' || indexname || ' ' || indexdef AS line FROM pg_indexes WHERE schemaname = 'public' \
           UNION ALL SELECT c.relname || ' ' || con.conname || ' ' || pg_get_constraintdef(con.oid) \
           FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid WHERE con.connamespace = 'public'::regnamespace \
           AND con.contype IN ('p', 'u', 'f', 'c')) d",
    )
    .lines()
    .map(str::to_owned)
    .collect();
    lines.sort();
    lines
}

#[test]
fn a_run_killed_around_the_commit_of_reject_children_resumes_without_rejecting_twice() {
    for point in ["started", "before-commit", "after-commit"] {
        let s = Setup::from_example("savings", |p| p);
        let kill = format!("{point}:reject-children");
        run_killed_at(&s, &kill);
        resume_to_the_end(&s, &kill);
        assert_eq!(
            query(&s.db, "SELECT count(*) FROM decant.decant_rejects WHERE reason LIKE 'parent rejected%'"),
            query(&s.db, "SELECT count(DISTINCT primary_key) FROM decant.decant_rejects WHERE reason LIKE 'parent rejected%'"),
            "{kill}"
        );
        assert_tables_reconcile(&s.report("plan"), &kill);
        assert_exit(&s.decant(&["check", "plan.yaml"]), 0);
    }
}

#[test]
fn foreign_keys_and_checks_wait_for_the_orphan_search_that_runs_beside_the_loads() {
    let s = Setup::from_sql(
        "PRAGMA foreign_keys = OFF;
         CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors (id), title TEXT);
         INSERT INTO authors VALUES (1, 'ann');
         INSERT INTO books VALUES (10, 1, 'kept'), (11, 2, 'author 2 was deleted');",
        "checks:\n  - foreign_keys: all\n",
    );
    // The search holds its result back: every load finishes meanwhile, and no foreign key or
    // check starts until the result is in.
    let mut child = spawn_run(&s, Some("searched:books_author_id_fkey"));
    let stderr = wait_paused(&mut child);
    let loads_done =
        "SELECT count(*) FROM decant.steps WHERE step_id LIKE 'load:%' AND state = 'done'";
    let deadline = Instant::now() + Duration::from_secs(60);
    while query(&s.db, loads_done) != "2" {
        assert!(
            Instant::now() < deadline,
            "the loads did not finish beside the search"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        query(&s.db, "SELECT count(*) FROM decant.steps WHERE step_id LIKE 'foreign-keys:%' OR step_id = 'checks'"),
        "0"
    );
    release(&s);
    let status = child.wait().unwrap();
    let stderr = stderr.join().unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("stopped before any foreign key was made") && stderr.contains("id=11"),
        "{stderr}"
    );
    assert_eq!(foreign_keys_made(&s.db), "");
}

#[test]
fn orphans_of_the_search_from_the_start_and_of_the_one_after_the_loads_stop_the_run_together() {
    // `author_code` is text: searched in the source from the start, where it finds orphans.
    // `author_id` is watched by the loads, then searched on its own (after the loads, or at
    // once when the run stops), and that search is held back at its result: the stop waits
    // for it and names both.
    let s = Setup::from_sql(
        "PRAGMA foreign_keys = OFF;
         CREATE TABLE authors (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);
         CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors (id), author_code TEXT REFERENCES authors (code));
         INSERT INTO authors VALUES (1, 'a1');
         INSERT INTO books VALUES (10, 1, 'a1'), (11, 2, 'a2');",
        "settings: { workers: 1 }\n",
    );
    let mut child = spawn_run(&s, Some("searched:books_author_id_fkey"));
    let stderr = wait_paused(&mut child);
    release(&s);
    let status = child.wait().unwrap();
    let stderr = stderr.join().unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("id=11 → author_id=2") && stderr.contains("id=11 → author_code=\"a2\""),
        "{stderr}"
    );
    assert_eq!(
        s.report("plan")["orphans_searched_in_source"],
        serde_json::json!(["books_author_code_fkey", "books_author_id_fkey"])
    );
    assert_eq!(foreign_keys_made(&s.db), "");
}

#[test]
fn a_resumed_run_searches_the_source_for_the_foreign_keys_of_tables_loaded_before() {
    let s = Setup::from_sql(
        "CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors (id));
         CREATE TABLE reviews (id INTEGER PRIMARY KEY, book_id INTEGER REFERENCES books (id));
         INSERT INTO authors VALUES (1, 'ann'), (2, 'bo');
         INSERT INTO books VALUES (10, 1), (11, 2);
         INSERT INTO reviews VALUES (100, 10), (101, 11), (102, NULL);",
        "settings: { workers: 1 }\n",
    );
    run_killed_at(&s, "after-commit:load:authors");
    resume_to_the_end(&s, "after-commit:load:authors");
    let report = s.report("plan");
    let names = |field: &str| {
        report[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    // The authors' keys were loaded by the killed attempt: nothing watched them this time.
    assert_eq!(
        names("orphans_searched_in_source"),
        ["books_author_id_fkey"]
    );
    assert_eq!(names("orphans_settled_by_loads"), ["reviews_book_id_fkey"]);
    assert_eq!(
        foreign_keys_made(&s.db),
        "books_author_id_fkey reviews_book_id_fkey"
    );
}

#[test]
fn a_step_postgresql_rolls_back_as_a_deadlocks_victim_runs_again() {
    let s = Setup::from_sql(
        "CREATE TABLE a (id INTEGER PRIMARY KEY);
         CREATE TABLE b (id INTEGER PRIMARY KEY);
         INSERT INTO a VALUES (1);
         INSERT INTO b VALUES (1);",
        "settings: { workers: 1 }\nsteps:\n  - { id: lock-both, sql: \"LOCK TABLE public.a IN ACCESS EXCLUSIVE MODE; LOCK TABLE public.b IN ACCESS EXCLUSIVE MODE\", after: [load] }\n",
    );
    let mut child = spawn_run(&s, Some("started:lock-both"));
    let stderr = wait_paused(&mut child);
    // This transaction holds `b` before the step starts, and waits for `a` once the step holds
    // it and waits for `b`. Its deadlock timeout is a minute, the step's the server's second:
    // the step's backend finds the deadlock and is rolled back.
    let mut other = s.db.connect();
    other
        .batch_execute("BEGIN; SET LOCAL deadlock_timeout = '1min'; LOCK TABLE public.b IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    release(&s);
    let waits_for_b = "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'b' AND NOT l.granted";
    let deadline = Instant::now() + Duration::from_secs(60);
    while query(&s.db, waits_for_b) != "1" {
        assert!(Instant::now() < deadline, "the step never waited for `b`");
        std::thread::sleep(Duration::from_millis(20));
    }
    other
        .batch_execute("LOCK TABLE public.a IN ACCESS EXCLUSIVE MODE; COMMIT")
        .unwrap();
    let status = child.wait().unwrap();
    let stderr = stderr.join().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(
        query(
            &s.db,
            "SELECT state FROM decant.steps WHERE step_id = 'lock-both'"
        ),
        "done"
    );
}

/// A PostgreSQL backend stopped with SIGSTOP, continued when dropped (also when the test
/// fails), so no stopped server process outlives the test.
struct StoppedBackend(i32);

impl StoppedBackend {
    fn stop(pid: i32) -> StoppedBackend {
        signal_pid(pid, "STOP");
        StoppedBackend(pid)
    }
}

impl Drop for StoppedBackend {
    fn drop(&mut self) {
        signal_pid(self.0, "CONT");
    }
}

fn signal_pid(pid: i32, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}

/// The child's output, or a failed test (the child killed) if it does not end in time: a
/// resume that works instead of refusing blocks on the stopped process's locks.
fn within(mut child: Child, limit: Duration, context: &str) -> std::process::Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{context}: still running after {limit:?}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// Waits until bytes sent to server process `pid` lie unread in its socket (`ss`'s Recv-Q):
/// the process is stopped, so they stay there.
fn wait_for_unread_input(pid: i32, context: &str) {
    let started = Instant::now();
    loop {
        let out = Command::new("ss").args(["-Hanp"]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let unread = text
            .lines()
            .filter(|l| l.contains(&format!("pid={pid},")))
            .any(|l| {
                l.split_whitespace()
                    .nth(2)
                    .and_then(|q| q.parse::<u64>().ok())
                    .is_some_and(|q| q > 0)
            });
        if unread {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{context}: the COMMIT never reached server process {pid}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The server process of the lane paused before its COMMIT: the one lane idle in a transaction
/// whose last statement was a step's `done` record. Another lane may sit between its own
/// `done` record and COMMIT for a moment (longer on a loaded machine), so the search is repeated
/// until the paused lane is the only one left.
fn paused_lane(s: &Setup, step: &str) -> i32 {
    let started = Instant::now();
    loop {
        let pids = query(
            &s.db,
            "SELECT coalesce(string_agg(pid::text, ' '), '') FROM pg_stat_activity \
             WHERE datname = current_database() \
             AND application_name LIKE 'decant run % lane %' \
             AND state = 'idle in transaction' AND query LIKE 'UPDATE decant.steps SET state = ''done''%'",
        );
        let pids: Vec<i32> = pids
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect();
        if let [pid] = pids[..] {
            return pid;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{step}: no single paused lane found: {pids:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn resume_with_wait(s: &Setup, wait_seconds: u64) -> Child {
    Command::new(env!("CARGO_BIN_EXE_decant"))
        .args([
            "run",
            "plan.yaml",
            "--resume",
            "--report-dir",
            s.path("reports").to_str().unwrap(),
        ])
        .current_dir(s.dir.path())
        .env("TARGET_DATABASE_URL", &s.db.url)
        .env("DECANT_EARLIER_ATTEMPT_WAIT", wait_seconds.to_string())
        .env_remove("DECANT_TEST_KILL_AT")
        .env_remove("DECANT_TEST_PAUSE_AT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_resume_waits_for_a_killed_runs_commit_still_in_flight_and_never_repeats_the_step() {
    // The reproduction: a lane paused before its COMMIT, its server process stopped, the
    // COMMIT sent, decant killed, a resume started, the server process continued 4 s later.
    // Whether the old COMMIT lands or not, every step must end up done exactly once.
    for step in ["load:orders", "audit-insert", "indexes:orders"] {
        let s = setup();
        let mut child = spawn_run(&s, Some(&format!("before-commit:{step}")));
        let _stderr = wait_paused(&mut child);
        // The paused lane's last statement was its step's `done` record, not yet committed.
        let pid = paused_lane(&s, step);
        let stopped = StoppedBackend::stop(pid);
        release(&s);
        // decant sends COMMIT to the stopped server process and waits for its answer: killed
        // once the COMMIT lies unread in that process's socket.
        wait_for_unread_input(pid, step);
        child.kill().unwrap();
        child.wait().unwrap();

        // A resume that may wait only a second refuses, naming the process, and does nothing.
        let refused = within(resume_with_wait(&s, 1), Duration::from_secs(30), step);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{step}: {stderr}");
        assert!(
            stderr.contains(&format!("pid {pid}")) && stderr.contains("may still commit"),
            "{step}: {stderr}"
        );

        let resumed = resume_with_wait(&s, 60);
        std::thread::sleep(Duration::from_secs(4));
        drop(stopped);
        let out = resumed.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{step}: the resume\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_exact(
            &s,
            &format!("a COMMIT of {step} in flight during the resume"),
        );
    }
}

/// Every `done` step of the newest run with when it started and finished: a resume must
/// leave each of these as it was (it never runs a committed step again).
fn done_steps(s: &Setup) -> Vec<String> {
    query(
        &s.db,
        "SELECT coalesce(string_agg(step_id || ' ' || started_at || ' ' || finished_at, E'\\n' ORDER BY step_id), '') \
         FROM decant.steps WHERE state = 'done' AND run_id = (SELECT max(id) FROM decant.runs)",
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

#[test]
fn under_truncate_and_append_a_kill_around_each_loads_commit_then_resume_loads_each_table_once() {
    // Under `truncate` and `append` a load repeated by a resume would not replace the rows it
    // loaded, as under `fail`/`drop`, but add to them: every table must hold the source's
    // rows once, and the steps done before the resume must be untouched by it.
    const PLAIN: &str = "settings: { workers: 2, if_exists: MODE }
checks:
  - row_counts: all
  - checksums: all
";
    for mode in ["truncate", "append"] {
        for table in ["customers", "orders", "lines"] {
            for point in ["before-commit", "after-commit"] {
                let kill = format!("{point}:load:{table}");
                let context = format!("if_exists: {mode}, killed at {kill}");
                let s = Setup::from_sql(SOURCE, &PLAIN.replace("MODE", mode));
                // The tables exist before the run; under append they are empty, under
                // truncate they hold a first run's rows, which the run must replace.
                assert_exit(&run_with_kill(&s, false, None), 0);
                if mode == "append" {
                    s.db.connect()
                        .batch_execute("TRUNCATE public.lines, public.orders, public.customers")
                        .unwrap();
                }
                run_killed_at(&s, &kill);
                let before = done_steps(&s);
                let resumed = run_with_kill(&s, true, None);
                assert_eq!(
                    resumed.code, 0,
                    "{context}\n{}{}",
                    resumed.stdout, resumed.stderr
                );
                let after = done_steps(&s);
                for step in &before {
                    assert!(
                        after.contains(step),
                        "{context}: the resume ran `{step}` again:\n{after:?}"
                    );
                }
                assert_eq!(
                    query(
                        &s.db,
                        "SELECT (SELECT count(*) FROM public.customers) || '/' || (SELECT count(*) FROM public.orders) || '/' || (SELECT count(*) FROM public.lines)"
                    ),
                    "300/3000/6000",
                    "{context}"
                );
                assert_exit(&s.decant(&["check", "plan.yaml"]), 0);
            }
        }
    }
}

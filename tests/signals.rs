//! Signals and panics end a run with its bookkeeping: a supervisor's signal delivered twice is
//! one request, and a panicking worker or reader fails its step instead of hanging the process.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::mysql::MysqlDatabase;
use crate::support::postgres::TestDatabase;
use crate::support::setup::{query, Setup};

/// A source whose load of `big` takes a while, after a small table.
const BIG: &str = "CREATE TABLE small (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO small VALUES (1, 'a'), (2, 'b');
     CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT, n REAL);
     WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000)
     INSERT INTO big SELECT x, 'row number ' || x, x / 7.0 FROM c;";

/// What a finished child said and how it ended.
struct Ended {
    code: Option<i32>,
    stderr: String,
}

/// A `decant` child with its stderr read on a thread.
struct Running {
    child: Child,
    stderr: std::thread::JoinHandle<String>,
}

impl Running {
    fn start(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Running {
        use std::io::BufRead;
        let mut command = Command::new(env!("CARGO_BIN_EXE_decant"));
        command
            .args(args)
            .current_dir(dir)
            .env_remove("DECANT_TEST_KILL_AT")
            .env_remove("DECANT_TEST_PAUSE_AT")
            .env_remove("DECANT_TEST_PANIC_AT")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut all = String::new();
            for line in std::io::BufReader::new(err).lines() {
                all.push_str(&line.unwrap_or_default());
                all.push('\n');
            }
            all
        });
        Running { child, stderr }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the end; a child still alive after `limit` is killed and the test fails.
    fn end_within(mut self, limit: Duration, context: &str) -> Ended {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "{context}: still running after {limit:?} (a hang)\n{}",
                    self.stderr.join().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Ended {
            code: status.code(),
            stderr: self.stderr.join().unwrap(),
        }
    }
}

fn sqlite_run(s: &Setup, env: &[(&str, &str)]) -> Running {
    let reports = s.path("reports");
    let mut all = vec![("TARGET_DATABASE_URL", s.db.url.as_str())];
    all.extend_from_slice(env);
    Running::start(
        s.dir.path(),
        &[
            "run",
            "plan.yaml",
            "--report-dir",
            reports.to_str().unwrap(),
        ],
        &all,
    )
}

#[test]
fn two_sigints_100_ms_apart_are_one_request_and_the_run_is_journaled_and_reported() {
    // The signals arrive while a `run:` step's command is still busy: the run winds down only
    // after it, well after the second signal.
    let s = Setup::from_sql(
        "CREATE TABLE small (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO small VALUES (1, 'a');",
        "settings: { workers: 1 }\nsteps:\n  - { id: slow, run: \"touch started; sleep 3\", after: [load] }\n",
    );
    let run = sqlite_run(&s, &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !s.path("started").exists() {
        assert!(Instant::now() < deadline, "the `slow` step never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    // As `timeout -s INT` does: the process, then its group.
    run.signal("INT");
    std::thread::sleep(Duration::from_millis(100));
    run.signal("INT");
    let ended = run.end_within(Duration::from_secs(120), "two SIGINTs");
    assert_eq!(ended.code, Some(130), "{}", ended.stderr);
    assert!(
        !ended.stderr.contains("second signal"),
        "the second SIGINT was taken for a second request:\n{}",
        ended.stderr
    );
    assert!(
        ended.stderr.contains("interrupted by SIGINT") && ended.stderr.contains("--resume"),
        "{}",
        ended.stderr
    );
    assert_eq!(
        query(&s.db, "SELECT status FROM decant.runs"),
        "interrupted"
    );
    let report = s.report("plan");
    assert_eq!(report["failure"]["state"], "interrupted", "{report}");
    assert!(s.path("reports/plan.report.md").exists());
}

/// The journal's state of the run and of `step`, and the report's failure.
fn assert_failed_with_bookkeeping(
    db: &TestDatabase,
    step: &str,
    report: &std::path::Path,
    ended: &Ended,
) {
    assert_eq!(ended.code, Some(2), "{}", ended.stderr);
    assert!(
        ended.stderr.contains("internal error") && ended.stderr.contains("test panic at"),
        "{}",
        ended.stderr
    );
    assert_eq!(query(db, "SELECT status FROM decant.runs"), "failed");
    assert_eq!(
        query(
            db,
            &format!("SELECT state FROM decant.steps WHERE step_id = '{step}'")
        ),
        "failed"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    assert_eq!(report["failure"]["state"], "failed", "{report}");
    assert_eq!(report["failure"]["step"], step, "{report}");
}

#[test]
fn a_panic_in_a_mysql_reader_thread_fails_the_load_step_and_the_process_ends() {
    let source = MysqlDatabase::new();
    source.execute(
        "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO t VALUES (1, 'a'), (2, 'b');",
    );
    let target = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plan.yaml"),
        "version: 1\nname: p\nsource: { url: \"${SOURCE_DATABASE_URL}\" }\ntarget: { url: \"${TARGET_DATABASE_URL}\" }\n",
    )
    .unwrap();
    let run = Running::start(
        dir.path(),
        &["run", "plan.yaml"],
        &[
            ("SOURCE_DATABASE_URL", source.url.as_str()),
            ("TARGET_DATABASE_URL", target.url.as_str()),
            ("DECANT_TEST_PANIC_AT", "reading:page"),
        ],
    );
    let ended = run.end_within(Duration::from_secs(120), "a reader's panic");
    assert_failed_with_bookkeeping(
        &target,
        "load:t",
        &dir.path().join("plan.report.json"),
        &ended,
    );
    assert_eq!(query(&target, "SELECT count(*) FROM public.t"), "0");
    // The failed run resumes once the cause is gone.
    let resumed = Running::start(
        dir.path(),
        &["run", "plan.yaml", "--resume"],
        &[
            ("SOURCE_DATABASE_URL", source.url.as_str()),
            ("TARGET_DATABASE_URL", target.url.as_str()),
        ],
    )
    .end_within(Duration::from_secs(120), "the resume");
    assert_eq!(resumed.code, Some(0), "{}", resumed.stderr);
    assert_eq!(query(&target, "SELECT count(*) FROM public.t"), "2");
}

#[test]
fn a_panic_in_a_loading_worker_fails_the_step_and_the_process_ends() {
    let s = Setup::from_sql(BIG, "settings: { workers: 2 }\n");
    let ended = sqlite_run(&s, &[("DECANT_TEST_PANIC_AT", "copying:load:big")])
        .end_within(Duration::from_secs(120), "a worker's panic");
    assert_failed_with_bookkeeping(
        &s.db,
        "load:big",
        &s.path("reports/plan.report.json"),
        &ended,
    );
    assert_eq!(query(&s.db, "SELECT count(*) FROM public.big"), "0");
}

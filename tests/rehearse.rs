//! `decant rehearse`: the whole plan in a temporary cluster or a scratch database, per-step
//! timings, and nothing left behind — after success, after a failure and after Ctrl-C.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use diesel::{QueryableByName, RunQueryDsl};

use crate::support::cli::{decant_in, repo_root, Outcome, Paused};
use crate::support::postgres::TestDatabase;

/// A target the rehearsal must never contact: nothing listens on port 1.
const UNREACHABLE_TARGET: &str = "postgres://nobody@127.0.0.1:1/never_contacted";

/// The savings example in a temporary folder, optionally with extra plan `steps`, and a
/// temporary-files folder of its own (open to the server user) where the cluster must go.
struct Setup {
    dir: tempfile::TempDir,
    tmp: tempfile::TempDir,
}

impl Setup {
    fn savings(extra_steps: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::fs::copy(
            repo_root().join("plans/data/savings.sqlite3"),
            dir.path().join("data/savings.sqlite3"),
        )
        .unwrap();
        let mut plan = std::fs::read_to_string(repo_root().join("plans/savings.yaml")).unwrap();
        if !extra_steps.is_empty() {
            plan = plan.replacen("\nchecks:", &format!("\nsteps:\n{extra_steps}\nchecks:"), 1);
        }
        std::fs::write(dir.path().join("plan.yaml"), plan).unwrap();
        let tmp = tempfile::Builder::new()
            .prefix("decant-rehearse-test-")
            .tempdir()
            .unwrap();
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        Setup { dir, tmp }
    }

    fn env(&self) -> [(&str, &str); 2] {
        [
            ("TARGET_DATABASE_URL", UNREACHABLE_TARGET),
            ("TMPDIR", self.tmp.path().to_str().unwrap()),
        ]
    }

    fn rehearse(&self, extra: &[&str]) -> Outcome {
        let mut args = vec!["rehearse", "plan.yaml", "--report-dir", "reports"];
        args.extend_from_slice(extra);
        decant_in(self.dir.path(), &args, &self.env())
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The cluster's folder, as decant announced it, and checks that it was in `TMPDIR`.
    fn cluster_dir(&self, stderr: &str) -> PathBuf {
        let line = stderr
            .lines()
            .find(|l| l.starts_with("temporary cluster ready"))
            .unwrap_or_else(|| panic!("no `temporary cluster ready` line in:\n{stderr}"));
        let dir = PathBuf::from(line.split('`').nth(1).unwrap());
        assert!(
            dir.starts_with(self.tmp.path()),
            "{} is not in TMPDIR",
            dir.display()
        );
        dir
    }

    /// Nothing of the cluster is left: no folder, no process.
    fn assert_nothing_left(&self, cluster_dir: &Path) {
        assert!(
            !cluster_dir.exists(),
            "{} was left behind",
            cluster_dir.display()
        );
        let left: Vec<_> = std::fs::read_dir(self.tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "left in TMPDIR: {left:?}");
        let processes = processes_mentioning(&cluster_dir.display().to_string());
        assert!(processes.is_empty(), "still running: {processes:?}");
    }
}

fn assert_exit(out: &Outcome, code: i32) {
    assert_eq!(
        out.code, code,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
}

/// Command lines of running processes that contain `needle`.
fn processes_mentioning(needle: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let raw = std::fs::read(entry.path().join("cmdline")).ok()?;
            let text = String::from_utf8_lossy(&raw).replace('\0', " ");
            text.contains(needle).then_some(text)
        })
        .collect()
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// The databases on the test server whose names start with `decant_rehearsal_`.
fn scratch_databases(db: &TestDatabase) -> Vec<String> {
    diesel::sql_query(
        "SELECT datname::text AS name FROM pg_database WHERE datname LIKE 'decant\\_rehearsal\\_%' ORDER BY 1",
    )
    .load::<Name>(&mut db.connect())
    .unwrap()
    .into_iter()
    .map(|n| n.name)
    .collect()
}

/// The scratch database's name, as decant announced it.
fn scratch_name(stderr: &str) -> String {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("rehearsing in scratch database"))
        .unwrap_or_else(|| panic!("no `rehearsing in scratch database` line in:\n{stderr}"));
    line.split('`').nth(1).unwrap().to_owned()
}

#[test]
fn rehearse_runs_the_savings_plan_in_a_temporary_cluster_and_leaves_nothing_behind() {
    let s = Setup::savings("");
    let out = s.rehearse(&[]);
    assert_exit(&out, 0);
    let dir = s.cluster_dir(&out.stderr);
    s.assert_nothing_left(&dir);
    // A line per table as it loads, the table summary and the reports; the steps are not
    // listed a second time, and the other steps are in the report (and shown with `-v`).
    let load = out
        .stderr
        .lines()
        .find(|l| l.trim_start().starts_with("load:contributions"))
        .unwrap_or_else(|| panic!("no timing for load:contributions in:\n{}", out.stderr));
    assert!(
        load.contains("s  28 read, 28 written, 0 rejected"),
        "{load}"
    );
    assert!(!out.stdout.contains("load:contributions"), "{}", out.stdout);
    assert!(!out.stderr.contains("foreign-keys:loans"), "{}", out.stderr);
    let md = std::fs::read_to_string(s.path("reports/plan.rehearsal.report.md")).unwrap();
    assert!(
        md.starts_with("# decant rehearsal — `savings-to-postgres`"),
        "{md}"
    );
    assert!(md.contains("| `foreign-keys:loans` | done |"), "{md}");
    assert!(out.stdout.contains("decant_rehearsal"), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("cleaned up: the temporary cluster was stopped"),
        "{}",
        out.stderr
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.path("reports/plan.rehearsal.report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["tables"].as_array().map(Vec::len), Some(5));
    let target = report["target"].as_str().unwrap();
    assert!(
        target.contains("/decant_rehearsal") && target.contains(":***@"),
        "the report names the rehearsal target without its password: {target}"
    );
    assert!(s.path("reports/plan.rehearsal.report.md").is_file());
    assert!(!s.path("reports/plan.report.json").exists());
}

#[test]
fn rehearse_cleans_up_the_temporary_cluster_after_a_failing_plan() {
    let s = Setup::savings("  - { id: boom, sql: \"select 1/0\", after: [load] }\n");
    let out = s.rehearse(&[]);
    assert_exit(&out, 2);
    assert!(
        out.stderr.contains("step `boom` failed") && out.stderr.contains("division by zero"),
        "{}",
        out.stderr
    );
    let dir = s.cluster_dir(&out.stderr);
    s.assert_nothing_left(&dir);
}

#[test]
fn rehearse_on_a_server_creates_and_drops_a_scratch_database() {
    // The test's own database stands in for the server's maintenance database.
    let server = TestDatabase::new();
    let before = scratch_databases(&server);
    let s = Setup::savings("");
    let out = s.rehearse(&["--server", &server.url]);
    assert_exit(&out, 0);
    let name = scratch_name(&out.stderr);
    assert!(!before.contains(&name), "{name} existed before");
    assert!(
        !scratch_databases(&server).contains(&name),
        "{name} was not dropped"
    );
    assert!(out.stdout.contains(&format!("/{name}")), "{}", out.stdout);
    assert!(
        out.stderr.contains("28 read, 28 written, 0 rejected"),
        "{}",
        out.stderr
    );
    // The plan ran in the scratch database, not in the one named by --server.
    let tables = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .load::<Name>(&mut server.connect())
    .unwrap();
    assert!(tables.is_empty(), "tables in the server's database");
    assert!(
        s.tmp.path().read_dir().unwrap().next().is_none(),
        "no cluster with --server"
    );

    // A failing plan drops its scratch database too.
    let failing = Setup::savings("  - { id: boom, sql: \"select 1/0\", after: [load] }\n");
    let out = failing.rehearse(&["--server", &server.url]);
    assert_exit(&out, 2);
    let name = scratch_name(&out.stderr);
    assert!(
        !scratch_databases(&server).contains(&name),
        "{name} was not dropped"
    );
}

#[test]
fn a_server_that_cannot_be_reached_is_said_with_its_cause() {
    let s = Setup::savings("");
    let out = s.rehearse(&["--server", UNREACHABLE_TARGET]);
    assert_exit(&out, 2);
    let lines: Vec<&str> = out.stderr.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == format!("error: cannot connect to the server `{UNREACHABLE_TARGET}`"))
        .unwrap_or_else(|| panic!("no connect error in:\n{}", out.stderr));
    // libpq's own reason is the cause, on its own line, without a blank line after it.
    let cause = lines.get(at + 1).copied().unwrap_or_default();
    assert!(
        cause.starts_with("  caused by: ") && cause.contains("127.0.0.1"),
        "{}",
        out.stderr
    );
    assert!(
        lines.get(at + 2).is_none_or(|l| !l.is_empty()),
        "{}",
        out.stderr
    );
}

#[test]
fn a_failed_rehearsal_writes_its_reports_with_the_failure_in_them() {
    let server = TestDatabase::new();
    let s = Setup::savings("  - { id: boom, sql: \"select 1/0\", after: [load] }\n");
    let out = s.rehearse(&["--server", &server.url]);
    assert_exit(&out, 2);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.path("reports/plan.rehearsal.report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["kind"], "rehearsal");
    assert_eq!(report["failure"]["step"], "boom", "{report}");
    assert!(
        report["failure"]["reason"]
            .as_str()
            .unwrap()
            .contains("division by zero"),
        "{report}"
    );
    assert_eq!(report["tables"].as_array().map(Vec::len), Some(5));
    let md = std::fs::read_to_string(s.path("reports/plan.rehearsal.report.md")).unwrap();
    assert!(
        md.contains("**Result: rehearsal failed at step `boom`:"),
        "{md}"
    );
}

#[test]
fn rehearse_interrupted_by_ctrl_c_stops_the_cluster_and_exits_130() {
    let s = Setup::savings("  - { id: slow, sql: \"select pg_sleep(60)\", after: [load] }\n");
    // Interrupt once the tables are loaded and the slow step starts: the run pauses there
    // until the signal arrives.
    let run = Paused::start(
        s.dir.path(),
        &["rehearse", "plan.yaml", "--report-dir", "reports"],
        &s.env(),
        "started:slow",
    );
    let sent = Command::new("/bin/sh")
        .args(["-c", "kill -INT \"$1\"", "sh", &run.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = run.finish_within(Duration::from_secs(30));
    let seen = format!("{}{}", out.stdout, out.stderr);
    assert_eq!(
        out.code, 130,
        "decant did not end within 30 s of Ctrl-C, or not with 130:\n{seen}"
    );
    assert!(seen.contains("interrupted: cleaning up"), "{seen}");
    assert!(
        seen.contains("cleaned up: the temporary cluster was stopped"),
        "{seen}"
    );
    let dir = s.cluster_dir(&seen);
    s.assert_nothing_left(&dir);
}

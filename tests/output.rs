//! What a person reads: a closed pipe ends quietly, passing checks take a line each, every
//! plan problem comes in one pass, and the shell completions, man page and help are there.

use std::process::{Command, Stdio};

use crate::support::cli::{decant, decant_in, repo_root, tally, Tally};
use crate::support::setup::{assert_exit, Setup};

#[test]
fn a_reader_that_closes_the_pipe_early_ends_decant_quietly_with_exit_0() {
    for args in [
        &["plan", "plans/savings.yaml"][..],
        &["plan", "plans/forecasting.yaml", "--format", "sql"][..],
        &["schema"][..],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_decant"))
            .args(args)
            .current_dir(repo_root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end before decant writes: every write then meets a closed pipe,
        // as it does under `| head` once head has read its lines.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("Broken pipe") && stderr.is_empty(),
            "{args:?}: {stderr}"
        );
    }
}

const SHOP: &str = "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id));
INSERT INTO customers VALUES (1, 'a'), (2, 'b');
INSERT INTO orders VALUES (1, 1), (2, 2);";

const CHECKS: &str = "checks:\n  - row_counts: all\n  - checksums: all\n  - foreign_keys: all\n";

#[test]
fn check_prints_one_line_per_passing_check_and_every_detail_with_verbose() {
    let s = Setup::from_sql(SHOP, CHECKS);
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    let quiet = s.decant(&["check", "plan.yaml"]);
    assert_exit(&quiet, 0);
    let results: Vec<&str> = quiet
        .stdout
        .lines()
        .filter(|l| !l.starts_with("checking ") && !l.contains(" check(s): "))
        .collect();
    // Two tables: two row counts, two checksums, one foreign key.
    assert_eq!(tally(&quiet), Tally::all_passed(5), "{}", quiet.stdout);
    assert_eq!(
        results.iter().filter(|l| l.starts_with("PASS")).count(),
        5,
        "one PASS line per check, and nothing else:\n{}",
        quiet.stdout
    );
    assert_eq!(results.len(), 5, "{}", quiet.stdout);
    let verbose = s.decant(&["check", "plan.yaml", "-v"]);
    assert_exit(&verbose, 0);
    assert!(
        verbose.stdout.lines().count() > quiet.stdout.lines().count(),
        "-v shows what each check looked at:\n{}",
        verbose.stdout
    );
    // Not a terminal: no colour codes, whatever the result.
    assert!(!verbose.stdout.contains('\x1b'), "{}", verbose.stdout);
}

#[test]
fn run_shows_a_line_per_table_by_default_and_every_step_with_verbose() {
    let s = Setup::from_sql(SHOP, CHECKS);
    let quiet = s.decant(&["run", "plan.yaml"]);
    assert_exit(&quiet, 0);
    let steps: Vec<&str> = quiet.stderr.lines().collect();
    assert!(
        steps.iter().any(|l| l.starts_with("load:customers")),
        "{}",
        quiet.stderr
    );
    assert!(
        !quiet.stderr.contains("create-table:") && !quiet.stderr.contains("foreign-keys:"),
        "{}",
        quiet.stderr
    );
    let s = Setup::from_sql(SHOP, CHECKS);
    let verbose = s.decant(&["run", "plan.yaml", "-v"]);
    assert_exit(&verbose, 0);
    assert!(
        verbose.stderr.contains("create-table:customers")
            && verbose.stderr.contains("foreign-keys:orders"),
        "{}",
        verbose.stderr
    );
}

#[test]
fn validate_reports_an_unknown_setting_and_the_source_problems_in_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::copy(
        repo_root().join("plans/data/savings.sqlite3"),
        dir.path().join("data/savings.sqlite3"),
    )
    .unwrap();
    let plan = "version: 1
source: { url: \"sqlite://data/savings.sqlite3\" }
target: { url: \"postgres://postgres@127.0.0.1:5432/x\" }
settings:
  workerz: 2
columns:
  members.phon: { to: text }
  groups.name: { transform: \"{{ value | trimm }}\" }
steps:
  - { id: a, sql: \"select 1\", after: [b] }
  - { id: b, sql: \"select 1\", after: [a] }
";
    std::fs::write(dir.path().join("plan.yaml"), plan).unwrap();
    let out = decant_in(dir.path(), &["validate", "plan.yaml"], &[]);
    assert_exit(&out, 2);
    for expected in [
        "unknown key `workerz` in `settings`",
        "`phon`",
        "trimm",
        "cycle",
    ] {
        assert!(
            out.stderr.contains(expected),
            "missing `{expected}` in:\n{}",
            out.stderr
        );
    }
    // `status` and `rollback` read the plan strictly: an unknown key stops them.
    let status = decant_in(dir.path(), &["status", "plan.yaml"], &[]);
    assert_exit(&status, 2);
    assert!(status.stderr.contains("workerz"), "{}", status.stderr);
}

#[test]
fn completions_and_the_man_page_are_generated_for_every_command() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = decant(&["completions", shell]);
        assert_exit(&out, 0);
        assert!(
            out.stdout.contains("rehearse") && out.stdout.contains("create-database"),
            "{shell}: {}",
            out.stdout
        );
    }
    let man = decant(&["man"]);
    assert_exit(&man, 0);
    assert!(
        man.stdout.starts_with(".ie") || man.stdout.contains(".TH decant"),
        "{}",
        man.stdout
    );
    assert!(man.stdout.contains("rollback"), "{}", man.stdout);
}

#[test]
fn run_help_says_the_target_comes_from_target_database_url() {
    let out = decant(&["run", "--help"]);
    assert_exit(&out, 0);
    assert!(out.stdout.contains("TARGET_DATABASE_URL"), "{}", out.stdout);
    assert!(out.stdout.contains("--create-database"), "{}", out.stdout);
}

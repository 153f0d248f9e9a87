//! The commands as a user runs them: validate, plan, graph, init, schema, and their messages.

use std::path::Path;

use crate::support::cli::{decant, decant_in, repo_root};

fn example_plans() -> Vec<String> {
    let mut plans: Vec<String> = std::fs::read_dir(repo_root().join("plans"))
        .unwrap_or_else(|e| panic!("plans/: {e}"))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| {
            format!(
                "plans/{}",
                p.file_name().and_then(|n| n.to_str()).unwrap_or_default()
            )
        })
        .collect();
    plans.sort();
    assert!(
        plans.len() >= 4,
        "expected the example plans, found {plans:?}"
    );
    plans
}

#[test]
fn every_example_plan_validates() {
    for plan in example_plans() {
        let out = decant(&["validate", &plan]);
        assert_eq!(out.code, 0, "{plan}:\n{}{}", out.stdout, out.stderr);
        assert!(out.stdout.contains(": ok"), "{}", out.stdout);
    }
}

#[test]
fn plan_output_of_every_example_is_stable() {
    for plan in example_plans() {
        let name = Path::new(&plan)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        let text = decant(&["plan", &plan]);
        assert_eq!(text.code, 0, "{}", text.stderr);
        insta::assert_snapshot!(format!("plan_text_{name}"), text.stdout);
        let sql = decant(&["plan", &plan, "--format", "sql"]);
        assert_eq!(sql.code, 0, "{}", sql.stderr);
        insta::assert_snapshot!(format!("plan_sql_{name}"), sql.stdout);
    }
}

#[test]
fn plan_json_and_markdown_carry_every_table_and_step() {
    let json = decant(&["plan", "plans/savings.yaml", "--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let value: serde_json::Value =
        serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("json: {e}"));
    assert_eq!(value["tables"].as_array().map(Vec::len), Some(5));
    let steps = value["steps"].as_array().cloned().unwrap_or_default();
    // The table this run creates is emptied in the load's transaction, then takes its rows
    // frozen.
    let load = steps.iter().find(|s| s["id"] == "load:loans").cloned();
    let target_sql: Vec<&str> = load
        .as_ref()
        .and_then(|s| s["target_sql"].as_array())
        .map(|a| a.iter().filter_map(|q| q.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(target_sql.len(), 2, "{load:?}");
    assert!(target_sql[0].starts_with("TRUNCATE TABLE"), "{load:?}");
    assert!(
        target_sql[1].starts_with("COPY")
            && target_sql[1].ends_with("WITH (FORMAT binary, FREEZE 1)"),
        "{load:?}"
    );
    let md = decant(&["plan", "plans/savings.yaml", "--format", "markdown"]);
    assert_eq!(md.code, 0, "{}", md.stderr);
    assert!(md.stdout.contains("| `loans` | `loans` |"), "{}", md.stdout);
    assert!(md.stdout.contains("```sql"));
}

#[test]
fn plan_never_connects_to_the_target_and_never_prints_its_password() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(
        repo_root().join("plans/data/savings.sqlite3"),
        dir.path().join("s.sqlite3"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.path().join("plan.yaml"),
        "version: 1\nsource: { url: \"sqlite://s.sqlite3\" }\ntarget: { url: \"${SECRET_URL}\" }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // Port 1 is closed: a connection attempt would fail the command.
    let out = decant_in(
        dir.path(),
        &["plan", "plan.yaml"],
        &[("SECRET_URL", "postgres://app:hunter2@127.0.0.1:1/app")],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("postgres://app:***@127.0.0.1:1/app"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("hunter2") && !out.stderr.contains("hunter2"));
}

#[test]
fn graph_prints_dot_and_mermaid() {
    let dot = decant(&["graph", "plans/chat.yaml"]);
    assert_eq!(dot.code, 0, "{}", dot.stderr);
    assert!(dot.stdout.starts_with("digraph decant {"));
    assert!(
        dot.stdout
            .contains("\"load:users\" -> \"constraints:users\";"),
        "{}",
        dot.stdout
    );
    let mermaid = decant(&["graph", "plans/chat.yaml", "--format", "mermaid"]);
    assert_eq!(mermaid.code, 0, "{}", mermaid.stderr);
    insta::assert_snapshot!("graph_mermaid_chat", mermaid.stdout);
}

/// A plan with one problem of every kind, next to a copy of the savings fixture.
const BAD_PLAN: &str = r#"version: 1
name: broken
source: { url: "sqlite://s.sqlite3" }
target: { url: "${TARGET_URL:-postgres://localhost/x}", schema: public }
settings:
  if_exist: drop
  on_bad_row: rejct
  workers: two
tables:
  rename: { grups: groups2 }
types:
  - match: { type: "datetime" }
    to: timestampz
columns:
  members.emial: { to: text }
  loans.status: { transform: "{{ value | trimm }}" }
  members.phone: { transform: to_bool }
filters:
  loan: "status = 'active'"
indexes:
  - { table: loans, columns: [member_id, due_date desc] }
steps:
  - { id: a, sql: "select 1", after: [b] }
  - { id: b, sql: "select 2", after: [a] }
  - { id: c, sql: "select 3", before: [lod] }
checks:
  - row_counts: [loans, payments]
  - { name: total, target: "select 1" }
"#;

pub(crate) fn bad_plan_dir(plan: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(
        repo_root().join("plans/data/savings.sqlite3"),
        dir.path().join("s.sqlite3"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("plan.yaml"), plan).unwrap_or_else(|e| panic!("{e}"));
    dir
}

#[test]
fn validate_reports_structural_problems_all_at_once_with_positions() {
    let dir = bad_plan_dir(BAD_PLAN);
    let out = decant_in(dir.path(), &["validate", "plan.yaml"], &[]);
    assert_eq!(out.code, 2);
    insta::assert_snapshot!("validate_structural_problems", out.stderr);
}

#[test]
fn validate_reports_every_reference_problem_with_suggestions() {
    let fixed = BAD_PLAN.replace(
        "  if_exist: drop\n  on_bad_row: rejct\n  workers: two\n",
        "  if_exists: drop\n",
    );
    let dir = bad_plan_dir(&fixed);
    let out = decant_in(dir.path(), &["validate", "plan.yaml"], &[]);
    assert_eq!(out.code, 2);
    for expected in [
        "plan.yaml:8:13",
        "did you mean `groups`?",
        "did you mean `timestamptz`?",
        "did you mean `email`?",
        "unknown filter",
        "did you mean `to_boolean`?",
        "did you mean `loans`?",
        "did you mean `due_on`?",
        "dependency cycle: a → b → a",
        "did you mean `load`?",
        "table `payments` is not in the source",
        "needs `expect`",
    ] {
        assert!(
            out.stderr.contains(expected),
            "missing `{expected}` in:\n{}",
            out.stderr
        );
    }
    insta::assert_snapshot!("validate_reference_problems", out.stderr);
}

#[test]
fn validate_checks_checksum_limits_and_where_they_belong() {
    let plan = r#"version: 1
source: { url: "sqlite://s.sqlite3" }
target: { url: "postgres://localhost/x" }
checks:
  - checksums: all
    row_limit: 0
  - checksums: [loans]
    sample_rate: 1.5
  - row_counts: all
    sample_rate: 0.5
  - checksums: [loans]
    row_limit: 1000
    sample_rate: 0.25
"#;
    let dir = bad_plan_dir(plan);
    let out = decant_in(dir.path(), &["validate", "plan.yaml"], &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    for expected in [
        "plan.yaml:6:16",
        "`row_limit` must be at least 1",
        "plan.yaml:8:18",
        "`sample_rate` must be above 0 and at most 1",
        "plan.yaml:10:18",
        "`sample_rate` belongs to `checksums` checks",
    ] {
        assert!(
            out.stderr.contains(expected),
            "missing `{expected}` in:\n{}",
            out.stderr
        );
    }
    // The last check is valid: three problems, not four.
    assert_eq!(out.stderr.matches("error:").count(), 3, "{}", out.stderr);
}

#[test]
fn validate_names_a_missing_environment_variable() {
    let dir = bad_plan_dir("version: 1\nsource: { url: \"sqlite://s.sqlite3\" }\ntarget: { url: \"${NO_SUCH_DECANT_VAR}\" }\n");
    let out = decant_in(dir.path(), &["validate", "plan.yaml"], &[]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("`NO_SUCH_DECANT_VAR`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("plan.yaml:3:"), "{}", out.stderr);
}

#[test]
fn validate_reports_a_missing_source_file_at_the_url() {
    let dir = bad_plan_dir("version: 1\nsource: { url: \"sqlite://missing.db\" }\ntarget: { url: \"postgres://localhost/x\" }\n");
    let out = decant_in(dir.path(), &["validate", "plan.yaml"], &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("plan.yaml:2:"), "{}", out.stderr);
    assert!(out.stderr.contains("missing.db"), "{}", out.stderr);
    assert!(
        !dir.path().join("missing.db").exists(),
        "validation must never create the source"
    );
}

#[test]
fn init_writes_a_starter_plan_that_flags_lossy_columns_and_validates() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_keep, db) = crate::support::sqlite_from_sql(
        "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, at DATETIME, token TEXT, payload TEXT, qty INTEGER, misc);
         INSERT INTO events (at, token, payload, qty, misc) VALUES
           (1700000000000, '0123456789abcdef0123456789abcdef', '{\"a\": 1}', 1, 1),
           (1700000001000, 'fedcba9876543210fedcba9876543210', '[1, 2]', 'two', 'x');",
    );
    std::fs::create_dir_all(dir.path().join("data")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(&db, dir.path().join("data/app.sqlite3")).unwrap_or_else(|e| panic!("{e}"));
    let out = decant_in(
        dir.path(),
        &[
            "init",
            "--source",
            "sqlite://data/app.sqlite3",
            "-o",
            "plan.yaml",
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(dir.path().join("plan.yaml")).unwrap_or_default();
    assert!(
        text.contains("url: \"sqlite://data/app.sqlite3\""),
        "{text}"
    );
    assert!(
        text.contains("events.at: { to: timestamptz, transform: epoch_ms_to_timestamptz }"),
        "{text}"
    );
    assert!(
        text.contains("events.token: { to: uuid, transform: hex_to_uuid }"),
        "{text}"
    );
    assert!(
        text.contains("events.payload: { to: jsonb, transform: json_to_jsonb }"),
        "{text}"
    );
    assert!(text.contains("events.qty: { to: \"bigint\" }"), "{text}");
    assert!(text.contains("mixed storage classes"), "{text}");
    let validated = decant_in(dir.path(), &["validate", "plan.yaml"], &[]);
    assert_eq!(validated.code, 0, "{}\n{}", validated.stderr, text);
    let again = decant_in(
        dir.path(),
        &[
            "init",
            "--source",
            "sqlite://data/app.sqlite3",
            "-o",
            "plan.yaml",
        ],
        &[],
    );
    assert_eq!(again.code, 2, "init must not overwrite without --force");
}

#[test]
fn help_lists_the_commands() {
    let out = decant(&["--help"]);
    assert_eq!(out.code, 0);
    insta::assert_snapshot!("help", out.stdout);
}

#[test]
fn schema_file_matches_the_plan_types() {
    let out = decant(&["schema"]);
    assert_eq!(out.code, 0);
    let path = repo_root().join("schemas/plan.schema.json");
    // Compared before anything is written: blessing rewrites a stale file, but the test that
    // found it stale still fails, so a blessed run can never hide a difference.
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    let stale = checked_in != out.stdout;
    let bless = std::env::var_os("DECANT_BLESS").is_some();
    assert!(
        !(bless && std::env::var_os("CI").is_some()),
        "DECANT_BLESS is for a developer's machine, not CI"
    );
    if stale && bless {
        std::fs::write(&path, &out.stdout).unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(
        !stale,
        "schemas/plan.schema.json is stale: {}",
        if bless {
            "it has been rewritten; review the diff and run the tests again"
        } else {
            "run `cargo run -- schema > schemas/plan.schema.json` (or the tests with DECANT_BLESS=1)"
        }
    );
}

/// The two ways to write a target with a password: a URL and a libpq `key=value` string. Port 1
/// has no server, so every command that connects fails, and its error must not quote the secret.
const SECRET: &str = "s3cretpw";
const SECRET_TARGETS: [&str; 2] = [
    "postgres://app:s3cretpw@127.0.0.1:1/shop",
    "host=127.0.0.1 port=1 user=app password=s3cretpw dbname=shop",
];

fn assert_no_secret(what: &str, out: &crate::support::cli::Outcome) {
    assert!(
        !out.stdout.contains(SECRET) && !out.stderr.contains(SECRET),
        "{what} printed the password:\nstdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
}

#[test]
fn no_command_prints_the_target_password_of_a_url_or_a_key_value_string() {
    let commands: [&[&str]; 10] = [
        &["validate", "plan.yaml"],
        &["plan", "plan.yaml"],
        &["plan", "plan.yaml", "--format", "json"],
        &["plan", "plan.yaml", "--format", "markdown"],
        &["graph", "plan.yaml"],
        &["run", "plan.yaml"],
        &["check", "plan.yaml"],
        &["status", "plan.yaml"],
        &["rollback", "plan.yaml"],
        &["rehearse", "plan.yaml", "--server", "SERVER"],
    ];
    for target in SECRET_TARGETS {
        let dir = bad_plan_dir(
            "version: 1\nsource: { url: \"sqlite://s.sqlite3\" }\ntarget: { url: \"${TARGET_DATABASE_URL}\" }\n",
        );
        for command in commands {
            let args: Vec<&str> = command
                .iter()
                .map(|a| if *a == "SERVER" { target } else { a })
                .collect();
            let out = decant_in(dir.path(), &args, &[("TARGET_DATABASE_URL", target)]);
            assert_no_secret(
                &format!("`decant {}` with `{target}`", args.join(" ")),
                &out,
            );
            // The key=value form is a target decant accepts, not an unsupported scheme.
            assert!(
                !out.stderr.contains("unsupported target URL scheme"),
                "{}",
                out.stderr
            );
        }
        let validated = decant_in(
            dir.path(),
            &["validate", "plan.yaml"],
            &[("TARGET_DATABASE_URL", target)],
        );
        assert_eq!(validated.code, 0, "{}", validated.stderr);
        let connected = decant_in(
            dir.path(),
            &["run", "plan.yaml"],
            &[("TARGET_DATABASE_URL", target)],
        );
        assert_eq!(connected.code, 2, "{}", connected.stderr);
        assert!(
            connected.stderr.contains("cannot connect to the target"),
            "{}",
            connected.stderr
        );
    }
}

#[test]
fn a_password_written_into_the_plan_is_masked_in_problem_snippets() {
    for target in SECRET_TARGETS {
        // `schema: 5` is wrong, and its snippet quotes the line that holds the URL.
        let dir = bad_plan_dir(&format!(
            "version: 1\nsource: {{ url: \"sqlite://s.sqlite3\" }}\ntarget: {{ url: \"{target}\", schema: [5] }}\n"
        ));
        let out = decant_in(dir.path(), &["validate", "plan.yaml"], &[]);
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(out.stderr.contains("plan.yaml:3:"), "{}", out.stderr);
        assert_no_secret(&format!("`decant validate` with `{target}`"), &out);
        // `init --target` writes the URL into the plan without its password.
        let init = decant_in(
            dir.path(),
            &[
                "init",
                "--source",
                "sqlite://s.sqlite3",
                "--target",
                target,
                "-o",
                "new.yaml",
            ],
            &[],
        );
        assert_eq!(init.code, 0, "{}", init.stderr);
        assert_no_secret("`decant init`", &init);
        let written = std::fs::read_to_string(dir.path().join("new.yaml")).unwrap_or_default();
        assert!(!written.contains(SECRET), "{written}");
        assert!(written.contains("127.0.0.1"), "{written}");
    }
}

/// A plan over `s.sqlite3`: 2 000 rows and an index over a few dozen pages, after `damage`.
fn plan_over_damaged_source(damage: impl Fn(&Path)) -> tempfile::TempDir {
    let dir = bad_plan_dir(
        "version: 1\nsource: { url: \"sqlite://s.sqlite3\" }\ntarget: { url: \"postgres://localhost/x\" }\n",
    );
    let path = dir.path().join("s.sqlite3");
    std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let (_guard, built) = crate::support::sqlite_from_sql(
        "PRAGMA page_size = 4096;
         CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, v TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
         INSERT INTO t (k, v) SELECT i, printf('%.100c', 'x') FROM n;
         CREATE INDEX t_k ON t (k);",
    );
    std::fs::copy(&built, &path).unwrap_or_else(|e| panic!("{e}"));
    damage(&path);
    dir
}

#[test]
fn validate_calls_a_truncated_source_corrupt_and_says_why() {
    let dir = plan_over_damaged_source(|path| {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .unwrap_or_else(|e| panic!("{e}"));
        file.set_len(5000).unwrap_or_else(|e| panic!("{e}"));
    });
    let out = decant_in(dir.path(), &["validate", "plan.yaml"], &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("is a SQLite database but it is corrupt or truncated: the header says"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("is not a SQLite database"),
        "{}",
        out.stderr
    );
}

#[test]
fn validate_quick_check_reports_a_garbled_page_that_plain_validate_does_not_read() {
    let dir = plan_over_damaged_source(|path| {
        let mut bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{e}"));
        // Page 5 is a leaf of `t`; `count(*)` reads the index (made last) instead.
        bytes[4 * 4096..5 * 4096].fill(0xA5);
        std::fs::write(path, &bytes).unwrap_or_else(|e| panic!("{e}"));
    });
    let plain = decant_in(dir.path(), &["validate", "plan.yaml"], &[]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    let checked = decant_in(dir.path(), &["validate", "--quick-check", "plan.yaml"], &[]);
    assert_eq!(checked.code, 2, "{}", checked.stderr);
    assert!(
        checked
            .stderr
            .contains("is corrupt: `PRAGMA quick_check` found"),
        "{}",
        checked.stderr
    );
    let clean = plan_over_damaged_source(|_| {});
    let out = decant_in(
        clean.path(),
        &["validate", "--quick-check", "plan.yaml"],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
}

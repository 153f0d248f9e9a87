//! What `validate` must refuse, quickly and briefly, before any step runs: a table wider than
//! PostgreSQL allows, and a transform of megabytes.

use std::time::{Duration, Instant};

use crate::support::cli::{decant_in, Outcome};

/// A folder with `source.sqlite3` built from `sql` and `plan.yaml` made of a header and
/// `plan_body`; the target is never connected to.
fn plan_dir(sql: &str, plan_body: &str) -> tempfile::TempDir {
    let (dir, _) = crate::support::sqlite_from_sql(sql);
    let plan = format!(
        "version: 1\nname: t\nsource: {{ url: \"sqlite://source.sqlite3\" }}\ntarget: {{ url: \"postgres://127.0.0.1:1/x\" }}\n{plan_body}"
    );
    std::fs::write(dir.path().join("plan.yaml"), plan).unwrap();
    dir
}

fn validate(dir: &tempfile::TempDir) -> Outcome {
    decant_in(dir.path(), &["validate", "plan.yaml"], &[])
}

/// `CREATE TABLE wide (id INTEGER PRIMARY KEY, c1 …, c<n>)`.
fn wide_table(columns: usize) -> String {
    let list: Vec<String> = (1..columns).map(|i| format!("c{i} INTEGER")).collect();
    format!(
        "CREATE TABLE wide (id INTEGER PRIMARY KEY, {}); CREATE TABLE narrow (id INTEGER PRIMARY KEY);",
        list.join(", ")
    )
}

#[test]
fn a_table_wider_than_postgresql_allows_is_refused_at_validate_with_its_place() {
    let dir = plan_dir(&wide_table(1601), "tables: { include: [\"*\"] }\n");
    let out = validate(&dir);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("error: table `wide` has 1601 columns to carry; PostgreSQL allows at most 1600 in a table"),
        "{}",
        out.stderr
    );
    // Located at the plan's table selection, with what to do.
    assert!(out.stderr.contains("--> plan.yaml:5:"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("help: leave 1 column(s) out with `columns.wide.<column>.skip: true`"),
        "{}",
        out.stderr
    );
    // One column left out, and it validates.
    let dir = plan_dir(
        &wide_table(1601),
        "tables: { include: [\"*\"] }\ncolumns:\n  wide.c7: { skip: true }\n",
    );
    let out = validate(&dir);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // 1600 is allowed.
    let out = validate(&plan_dir(&wide_table(1600), ""));
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn a_transform_of_megabytes_is_refused_fast_and_not_echoed_whole() {
    for transform in [
        "x".repeat(5_000_000),
        format!(
            "{{{{ value ~ '{}' | nosuchfilter }}}}",
            "x".repeat(5_000_000)
        ),
        format!("{{{{ value {}}}}}", "| trim ".repeat(400_000)),
    ] {
        let dir = plan_dir(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, c TEXT);",
            &format!("columns:\n  t.c:\n    transform: \"{transform}\"\n"),
        );
        let started = Instant::now();
        let out = validate(&dir);
        let took = started.elapsed();
        assert_eq!(out.code, 2, "{}", &out.stderr[..out.stderr.len().min(2000)]);
        assert!(
            out.stderr
                .contains("characters long; decant reads transforms of at most 10000"),
            "{}",
            &out.stderr[..out.stderr.len().min(2000)]
        );
        assert!(out.stderr.len() < 2_000, "{} bytes", out.stderr.len());
        // It took 13 s in a debug build, most of it comparing the name with every built-in's.
        assert!(took < Duration::from_secs(5), "{took:?}");
    }
}

#[test]
fn a_bad_transform_expression_is_quoted_cut() {
    let expression = format!("{{{{ value ~ '{}' | nosuchfilter }}}}", "y".repeat(9_000));
    let dir = plan_dir(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, c TEXT);",
        &format!("columns:\n  t.c:\n    transform: \"{expression}\"\n"),
    );
    let out = validate(&dir);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("error: bad transform expression `{{ value ~ 'yyy"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("…` (9031 characters): "),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("nosuchfilter"), "{}", out.stderr);
    assert!(out.stderr.len() < 2_000, "{}", out.stderr);
}

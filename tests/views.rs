//! The source's views checked against PostgreSQL before any run: `decant plan` names each view
//! PostgreSQL refuses, with PostgreSQL's reason, and leaves nothing behind on the target.

use crate::support::setup::{assert_exit, query, Setup};

const SOURCE: &str = "
    CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, code TEXT NOT NULL,
                    label TEXT NOT NULL, at TEXT NOT NULL);
    INSERT INTO t VALUES (1, 2, '1', 'a', '2024-01-31 10:00:00'), (2, 3, '2', 'b', '2024-02-01 11:00:00');
    CREATE VIEW doubled AS SELECT id, n * 2 AS twice FROM t;
    CREATE VIEW coded AS SELECT id FROM t WHERE code = 1;
    CREATE VIEW dated AS SELECT id, DATETIME(at, '+1 day') AS later FROM t;
    CREATE VIEW shouted AS SELECT id, label + '!' AS shout FROM t;
";

#[test]
fn plan_warns_of_each_view_postgresql_refuses_with_its_reason_and_leaves_nothing() {
    let s = Setup::from_sql(SOURCE, "");
    let plan = s.decant(&["plan", "plan.yaml"]);
    assert_exit(&plan, 0);
    for (view, reason) in [
        ("coded", "operator does not exist: text = integer"),
        ("dated", "function datetime("),
        ("shouted", "operator"),
    ] {
        let line = plan
            .stderr
            .lines()
            .find(|l| l.contains(&format!("view `{view}`")))
            .unwrap_or_else(|| panic!("no warning for `{view}`:\n{}", plan.stderr));
        assert!(
            line.starts_with("warning: ")
                && line.contains("PostgreSQL refuses its rewritten SELECT")
                && line.contains(reason),
            "{line}"
        );
    }
    assert!(!plan.stderr.contains("`doubled`"), "{}", plan.stderr);
    assert!(plan.stdout.contains("\nwarnings (3)\n"), "{}", plan.stdout);
    // The check's tables and views were rolled back.
    assert_eq!(
        query(
            &s.db,
            "SELECT count(*) FROM pg_class WHERE relname IN ('t', 'doubled', 'coded')"
        ),
        "0"
    );
    // A run makes the one PostgreSQL takes and names the same three.
    let run = s.decant(&["run", "plan.yaml"]);
    assert_exit(&run, 0);
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(twice::text, ',' ORDER BY id) FROM doubled"
        ),
        "4,6"
    );
    let not_carried = s.report("plan")["not_carried"].to_string();
    for view in ["coded", "dated", "shouted"] {
        assert!(
            not_carried.contains(&format!("view `{view}` is not carried")),
            "{not_carried}"
        );
    }
}

#[test]
fn plan_says_when_the_views_could_not_be_checked() {
    let s = Setup::from_sql(SOURCE, "");
    let yaml = std::fs::read_to_string(s.path("plan.yaml"))
        .unwrap()
        .replace(
            "${TARGET_DATABASE_URL}",
            "postgres://postgres@127.0.0.1:1/nowhere",
        );
    std::fs::write(s.path("plan.yaml"), yaml).unwrap();
    let plan = s.decant(&["plan", "plan.yaml"]);
    assert_exit(&plan, 0);
    assert!(
        plan.stderr
            .contains("note: the views were not checked against PostgreSQL: cannot connect"),
        "{}",
        plan.stderr
    );
}

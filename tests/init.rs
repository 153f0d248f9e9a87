//! `decant init` on what real apps store: JSON in TEXT columns, IP addresses in CHAR(39).

use crate::support::cli::assert_all_checks_passed;
use crate::support::setup::{assert_exit, assert_tables_reconcile, query, Setup};

const SOURCE: &str = r#"
    CREATE TABLE django_admin_log (id INTEGER PRIMARY KEY, change_message TEXT NOT NULL,
                                   data JSON, extra TEXT CHECK (json_valid(extra)));
    INSERT INTO django_admin_log VALUES
      (1, '[{"added": {}}]', '{"a": 1}', '[1]'),
      (2, '[{"changed": {"fields": ["Name"]}}]', '{"b": 2}', '{}');
    CREATE TABLE visits (id INTEGER PRIMARY KEY, ip CHAR(39) NOT NULL, code CHAR(3));
    INSERT INTO visits VALUES (1, '10.1.0.1', 'ab'), (2, 'fe80::1ff:fe23:4567:890a', 'xyz');
"#;

#[test]
fn init_makes_jsonb_only_of_columns_the_source_declares_json_and_suggests_it_for_text() {
    let s = Setup::from_sql(SOURCE, "");
    let out = s.decant(&["init", "--source", "sqlite://source.sqlite3"]);
    assert_exit(&out, 0);
    let plan = out.stdout;
    // Declared JSON, or TEXT with a json_valid CHECK: jsonb by the defaults.
    assert!(plan.contains("#   data "), "{plan}");
    assert!(
        plan.lines()
            .any(|l| l.starts_with("#   data") && l.contains("→ jsonb")),
        "{plan}"
    );
    assert!(
        plan.lines()
            .any(|l| l.starts_with("#   extra") && l.contains("→ jsonb")),
        "{plan}"
    );
    // TEXT that happens to hold JSON stays text; jsonb is a commented suggestion.
    assert!(
        plan.contains(
            "  #   django_admin_log.change_message: { to: jsonb, transform: json_to_jsonb }"
        ),
        "{plan}"
    );
    assert!(
        plan.contains("  django_admin_log.change_message: { to: \"text\" }"),
        "{plan}"
    );
}

#[test]
fn char_columns_load_as_varchar_without_blank_padding_and_ip_addresses_are_proposed_as_inet() {
    let s = Setup::from_sql(SOURCE, "");
    let init = s.decant(&["init", "--source", "sqlite://source.sqlite3"]);
    assert_exit(&init, 0);
    assert!(
        init.stdout
            .lines()
            .any(|l| l.starts_with("#   ip") && l.contains("→ varchar(39)")),
        "{}",
        init.stdout
    );
    assert!(
        init.stdout.contains("  visits.ip: { to: inet }"),
        "{}",
        init.stdout
    );
    // With the defaults (no init proposals taken): what went in comes back, unpadded.
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 0);
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(ip || '|' || coalesce(code, ''), ',' ORDER BY id) FROM visits"
        ),
        "10.1.0.1|ab,fe80::1ff:fe23:4567:890a|xyz"
    );
    assert_eq!(
        query(&s.db, "SELECT data_type FROM information_schema.columns WHERE table_name = 'visits' AND column_name = 'ip'"),
        "character varying"
    );
}

#[test]
fn the_starter_plan_of_the_readme_fixture_runs_and_a_rejected_parent_takes_its_children_along() {
    let s = Setup::from_example("savings", |p| p);
    std::fs::remove_file(s.path("plan.yaml")).unwrap();
    let init = s.decant(&[
        "init",
        "--source",
        "sqlite://data/savings.sqlite3",
        "-o",
        "plan.yaml",
    ]);
    assert_exit(&init, 0);
    let plan = std::fs::read_to_string(s.path("plan.yaml")).unwrap();
    assert!(plan.contains("on_bad_row: reject"), "{plan}");
    // `plan` shows the flagged column as a warning.
    let shown = s.decant(&["plan", "plan.yaml"]);
    assert!(
        shown
            .stdout
            .contains("loans.term_months: 1 non-numeric text value(s)"),
        "{}",
        shown.stdout
    );
    // The run goes through: the bad loan is rejected, and its repayment with it, so the
    // foreign keys are made and every check passes; exit 1 because rows were rejected.
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 1);
    assert_all_checks_passed(&out);
    let rejects = std::fs::read_to_string(s.path("reports/plan.rejects.jsonl")).unwrap();
    assert!(
        rejects.contains(r#""table":"repayments","primary_key":{"id":8},"column":"loan_id","value":"4","reason":"parent rejected: its row in `loans` was rejected""#),
        "{rejects}"
    );
    assert_tables_reconcile(&s.report("plan"), "savings");
    assert_eq!(
        query(&s.db, "SELECT rows_written || '/' || rows_rejected FROM decant.steps WHERE step_id = 'load:repayments'"),
        "11/1"
    );
}

#[test]
fn a_rejection_carries_down_every_level_and_through_a_table_that_references_itself() {
    let s = Setup::from_sql(
        "CREATE TABLE teams (id INTEGER PRIMARY KEY, size INTEGER);
         CREATE TABLE people (id INTEGER PRIMARY KEY, team_id INTEGER REFERENCES teams(id),
                              mentor_id INTEGER REFERENCES people(id));
         CREATE TABLE notes (id INTEGER PRIMARY KEY, person_id INTEGER REFERENCES people(id), body TEXT);
         INSERT INTO teams VALUES (1, 5), (2, 'many');
         INSERT INTO people VALUES (10, 1, NULL), (11, 2, NULL), (12, 1, 11), (13, 1, 12), (14, 1, 10);
         INSERT INTO notes VALUES (100, 13, 'x'), (101, 14, 'y'), (102, 11, 'z');",
        "settings: { on_bad_row: reject }\nchecks:\n  - row_counts: all\n  - foreign_keys: all\n",
    );
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 1);
    // Team 2 is bad; person 11 is in it; 12 is mentored by 11, 13 by 12; notes 100 and 102
    // belong to 13 and 11. Person 14 and note 101 hang from good rows and stay.
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(id::text, ',' ORDER BY id) FROM people"
        ),
        "10,14"
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(id::text, ',' ORDER BY id) FROM notes"
        ),
        "101"
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT count(*) FROM decant.decant_rejects WHERE reason LIKE 'parent rejected%'"
        ),
        "5"
    );
    assert_all_checks_passed(&out);
}

/// A source named as MySQL apps often are, and the app's schema in snake_case.
const CUSTOMERS: &str = "
    CREATE TABLE Customers (CustomerID INTEGER PRIMARY KEY, CompanyName TEXT NOT NULL);
    INSERT INTO Customers VALUES (1, 'Alfreds'), (2, 'Ana Trujillo');
    CREATE TABLE Orders (OrderID INTEGER PRIMARY KEY,
                         CustomerID INTEGER REFERENCES Customers (CustomerID), ShipCity TEXT);
    INSERT INTO Orders VALUES (10, 1, 'Berlin'), (11, 2, NULL), (12, 1, 'Berlin');
";

#[test]
fn init_app_schema_matches_tables_and_columns_through_the_naming_rule_and_writes_it() {
    use diesel::connection::SimpleConnection;
    let s = Setup::from_sql(CUSTOMERS, "");
    s.db.connect()
        .batch_execute(
            "CREATE TABLE public.customers (customer_id integer PRIMARY KEY, company_name text NOT NULL);
             CREATE TABLE public.orders (order_id integer PRIMARY KEY,
                                         customer_id integer REFERENCES public.customers, ship_city text);",
        )
        .unwrap();
    std::fs::remove_file(s.path("plan.yaml")).unwrap();
    let init = s.decant(&[
        "init",
        "--source",
        "sqlite://source.sqlite3",
        "--target",
        &s.db.url,
        "--app-schema",
        "-o",
        "plan.yaml",
    ]);
    assert_exit(&init, 0);
    let plan = std::fs::read_to_string(s.path("plan.yaml")).unwrap();
    assert!(
        plan.contains("naming:\n  identifiers: snake_case # preserve | snake_case | lower: the rule under which the most source tables and columns (7) have the app's names"),
        "{plan}"
    );
    assert!(
        plan.contains("exclude: [\"sqlite_*\"]\n") && !plan.contains("skip: true"),
        "{plan}"
    );
    let run = s.decant(&["run", "plan.yaml"]);
    assert_exit(&run, 0);
    assert_all_checks_passed(&run);
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(order_id || ':' || customer_id || ':' || coalesce(ship_city, '-'), ' ' ORDER BY order_id) FROM public.orders"
        ),
        "10:1:Berlin 11:2:- 12:1:Berlin"
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(company_name, ', ' ORDER BY customer_id) FROM public.customers"
        ),
        "Alfreds, Ana Trujillo"
    );
}

#[test]
fn a_plan_that_carries_no_table_is_an_error_and_a_run_that_loads_no_row_says_so() {
    let s = Setup::from_sql(CUSTOMERS, "tables:\n  exclude: [Customers, Orders]\n");
    for command in ["validate", "run"] {
        let out = s.decant(&[command, "plan.yaml"]);
        assert_exit(&out, 2);
        assert!(
            out.stderr.contains(
                "the plan carries no table: `tables.include` and `tables.exclude` leave out every one of the source's 2 table(s)"
            ),
            "{command}: {}",
            out.stderr
        );
    }
    // Carried, but the filters leave nothing: the run is not a success.
    let s = Setup::from_sql(
        CUSTOMERS,
        "filters:\n  Customers: \"CustomerID < 0\"\n  Orders: \"OrderID < 0\"\n",
    );
    let run = s.decant(&["run", "plan.yaml"]);
    assert_exit(&run, 1);
    assert!(
        run.stdout
            .contains("WARNING: no row was loaded, though the source holds 5 row(s)"),
        "{}",
        run.stdout
    );
    let md = std::fs::read_to_string(s.path("reports/plan.report.md")).unwrap();
    assert!(
        md.contains("**Result: run failed: no row was loaded, though the source holds 5 row(s)"),
        "{md}"
    );
    assert_eq!(s.report("plan")["source_rows"], 5);
}

#[test]
fn init_says_views_are_carried_and_a_run_names_the_one_postgresql_refuses_with_its_reason() {
    let s = Setup::from_sql(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, label TEXT NOT NULL);
         INSERT INTO t VALUES (1, 2, 'a'), (2, 3, 'b');
         CREATE VIEW doubled AS SELECT id, n * 2 AS twice FROM t;
         CREATE VIEW odd_sum AS SELECT id, label + 1 AS bumped FROM t;
         CREATE TRIGGER t_touch AFTER INSERT ON t BEGIN SELECT 1; END;",
        "",
    );
    std::fs::remove_file(s.path("plan.yaml")).unwrap();
    let init = s.decant(&[
        "init",
        "--source",
        "sqlite://source.sqlite3",
        "-o",
        "plan.yaml",
    ]);
    assert_exit(&init, 0);
    let plan = std::fs::read_to_string(s.path("plan.yaml")).unwrap();
    for expected in [
        "# Views, carried:",
        "#   view `doubled`",
        "#   view `odd_sum`",
        "# Not carried; recreate them with a `steps:` entry if the target needs them:\n#   trigger `t_touch` on `t`",
    ] {
        assert!(plan.contains(expected), "missing {expected:?} in\n{plan}");
    }
    // The run makes the view PostgreSQL takes, and names the other with PostgreSQL's reason.
    let run = s.decant(&["run", "plan.yaml"]);
    assert_exit(&run, 0);
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(twice::text, ',' ORDER BY id) FROM doubled"
        ),
        "4,6"
    );
    let report = s.report("plan");
    let not_carried = report["not_carried"].to_string();
    assert!(
        not_carried.contains("view `odd_sum` is not carried: PostgreSQL refused")
            && not_carried.contains("operator does not exist"),
        "{not_carried}"
    );
}

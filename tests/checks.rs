//! Checks against a real PostgreSQL: row counts, foreign keys and orphans, SQL assertions and
//! their shorthands, through `decant run` and `decant check`.

use diesel::connection::SimpleConnection;

use crate::support::cli::{assert_all_checks_passed, assert_contains};
use crate::support::cli::{decant_in, tally, Outcome, Tally};
use crate::support::postgres::TestDatabase;
use crate::support::setup::{assert_exit, foreign_keys_made, query, Setup};

fn execute(db: &TestDatabase, sql: &str) {
    db.connect()
        .batch_execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The line `decant check` printed for a check: `STATUS  id  seconds  summary`.
fn line_of<'o>(out: &'o Outcome, id: &str) -> &'o str {
    out.stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(id))
        .unwrap_or_else(|| panic!("no line for `{id}` in:\n{}", out.stdout))
}

fn assert_status(out: &Outcome, id: &str, status: &str) {
    let line = line_of(out, id);
    assert!(
        line.starts_with(status),
        "`{id}` should be {status}: {line}\n{}",
        out.stdout
    );
}

const SHOP: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, role TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id), total INTEGER NOT NULL, note TEXT);
CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders (id), sku TEXT);
INSERT INTO customers VALUES (1, 'ann@example.com', 'admin'), (2, 'bob@example.com', 'member'), (3, 'cy@example.com', 'member');
INSERT INTO orders VALUES (10, 1, 1250, 'first'), (11, 2, 990, NULL), (12, 2, 4100, 'big'), (13, NULL, 50, 'walk-in');
INSERT INTO order_items VALUES (100, 10, 'A'), (101, 10, 'B'), (102, 12, 'C');
";

const SHOP_ORPHANS: &str = "
PRAGMA foreign_keys = OFF;
INSERT INTO orders VALUES (14, 99, 700, 'customer 99 was deleted');
INSERT INTO order_items VALUES (103, 14, 'D'), (104, 77, 'E');
";

const COUNTS_AND_KEYS: &str = "checks:\n  - row_counts: all\n  - foreign_keys: all\n";

#[test]
fn every_check_passes_after_a_correct_run_of_an_example() {
    let s = Setup::from_example("savings", |p| p);
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 0);
    let report = s.report("plan");
    let checks = report["checks"].as_array().unwrap();
    assert!(checks.len() >= 15, "{checks:?}");
    for check in checks {
        assert_eq!(check["status"], "pass", "{check}");
    }
    assert_all_checks_passed(&out);
    let md = std::fs::read_to_string(s.path("reports/plan.report.md")).unwrap();
    assert!(
        md.contains("## Checks") && md.contains("`row-counts:members` | pass"),
        "{md}"
    );

    let out = s.decant(&["check", "plan.yaml"]);
    assert_exit(&out, 0);
    for id in [
        "row-counts:contributions",
        "foreign-keys:repayments",
        "assertion:contributions-total",
        "not-null:members.phone",
        "accepted-values:loans.status",
    ] {
        assert_status(&out, id, "PASS");
    }
}

#[test]
fn row_counts_and_foreign_keys_pass_after_a_run_and_fail_when_the_target_changes() {
    let s = Setup::from_sql(SHOP, COUNTS_AND_KEYS);
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 0);
    let out = s.decant(&["check", "plan.yaml", "-v"]);
    assert_exit(&out, 0);
    assert_status(&out, "row-counts:orders", "PASS");
    assert_status(&out, "foreign-keys:orders", "PASS");
    assert_status(&out, "foreign-keys:order_items", "PASS");
    assert!(
        out.stdout.contains("present and validated"),
        "{}",
        out.stdout
    );
    // Tables without foreign keys have nothing to confirm under `all`.
    assert!(
        !out.stdout.contains("foreign-keys:customers"),
        "{}",
        out.stdout
    );

    // Delete a row, insert an extra one, change a value; drop a foreign key.
    execute(
        &s.db,
        "DELETE FROM public.order_items WHERE id = 101;
         INSERT INTO public.customers VALUES (4, 'dan@example.com', 'member');
         UPDATE public.orders SET total = 1 WHERE id = 11;
         ALTER TABLE public.orders DROP CONSTRAINT orders_customer_id_fkey;",
    );
    let out = s.decant(&["check", "plan.yaml"]);
    assert_exit(&out, 1);
    assert_status(&out, "row-counts:order_items", "FAIL");
    assert!(line_of(&out, "row-counts:order_items").contains("1 row(s) missing"));
    assert_status(&out, "row-counts:customers", "FAIL");
    assert!(line_of(&out, "row-counts:customers").contains("1 row(s) too many"));
    assert_status(&out, "row-counts:orders", "PASS");
    assert_status(&out, "foreign-keys:orders", "FAIL");
    assert!(
        out.stdout.contains("`orders_customer_id_fkey` `orders` (customer_id) → `customers` (id): missing in the target"),
        "{}",
        out.stdout
    );
    // Exactly the three broken things fail; the other two checks still pass.
    assert_eq!(tally(&out), Tally::new(5, 2, 3, 0), "{}", out.stdout);
}

#[test]
fn check_names_changed_missing_and_extra_rows_by_key_and_column() {
    let s = Setup::from_sql(SHOP, "checks:\n  - row_counts: all\n  - checksums: all\n");
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    execute(
        &s.db,
        "DELETE FROM public.orders WHERE id = 11;
         INSERT INTO public.orders VALUES (20, 1, 5, 'extra');
         UPDATE public.orders SET note = 'changed' WHERE id = 10;
         DELETE FROM public.order_items WHERE id = 101;",
    );
    let out = s.decant(&["check", "plan.yaml"]);
    assert_exit(&out, 1);
    // The deleted + inserted order keep the count; the checksum names every row.
    assert_status(&out, "row-counts:orders", "PASS");
    assert_status(&out, "row-counts:order_items", "FAIL");
    assert_status(&out, "checksums:orders", "FAIL");
    for expected in ["id=11", "id=20", "id=10", "note", "changed", "first"] {
        assert!(
            out.stdout.contains(expected),
            "missing `{expected}` in {}",
            out.stdout
        );
    }
}

#[test]
fn orphans_stop_the_run_before_any_foreign_key_and_a_rollback_leaves_nothing() {
    let s = Setup::from_sql(&format!("{SHOP}{SHOP_ORPHANS}"), COUNTS_AND_KEYS);
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 2);
    for expected in [
        "orphan",
        "orders_customer_id_fkey",
        "id=14 → customer_id=99",
        "order_items_order_id_fkey",
        "id=104 → order_id=77",
        "settings.orphans",
        "decant rollback plan.yaml",
    ] {
        assert!(
            out.stderr.contains(expected),
            "missing `{expected}` in {}",
            out.stderr
        );
    }
    // The search ran beside the loads: the foreign keys waited for it and none was made.
    assert_eq!(foreign_keys_made(&s.db), "");
    assert_exit(&s.decant(&["rollback", "plan.yaml", "--yes"]), 0);
    assert_eq!(
        query(
            &s.db,
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ),
        "0"
    );
}

/// Both tables have a `status` column, which their filters name bare.
const FILTERED_SHELF: &str = "PRAGMA foreign_keys = OFF;
CREATE TABLE authors (id INTEGER PRIMARY KEY, status TEXT NOT NULL);
CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors (id), status TEXT NOT NULL);
INSERT INTO authors VALUES (1, 'live'), (2, 'hidden');
INSERT INTO books VALUES (10, 1, 'live'), (11, 2, 'live'), (12, 3, 'live'), (13, 2, 'hidden'), (14, 3, 'hidden');";

#[test]
fn the_orphan_search_counts_only_rows_read_against_parents_carried_with_or_without_filters() {
    let cases = [
        // Unfiltered, the search is an anti-join: only the books whose author does not exist.
        (
            "",
            ["id=12 → author_id=3", "id=14 → author_id=3"],
            ["id=11", "id=13"],
        ),
        // Filtered, a book is an orphan when its author is not carried, and only books read
        // count; the filters' bare `status` would be ambiguous in a join of the two tables.
        (
            "filters:\n  authors: \"status = 'live'\"\n  books: \"status = 'live'\"\n",
            ["id=11 → author_id=2", "id=12 → author_id=3"],
            ["id=13", "id=14"],
        ),
    ];
    for (filters, orphans, not_orphans) in cases {
        let s = Setup::from_sql(
            FILTERED_SHELF,
            &format!("{filters}checks:\n  - foreign_keys: all\n"),
        );
        let out = s.decant(&["run", "plan.yaml"]);
        assert_exit(&out, 2);
        assert_contains(&out.stderr, &["2 row(s) whose (author_id)"]);
        assert_contains(&out.stderr, &orphans);
        for row in not_orphans {
            assert!(!out.stderr.contains(row), "{row} in:\n{}", out.stderr);
        }
    }
}

/// Authors have an integer key and a text one; books reference both. With the filters, the
/// books carried reference carried authors only.
const TWO_KEY_SHELF: &str = "PRAGMA foreign_keys = OFF;
CREATE TABLE authors (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, status TEXT NOT NULL);
CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors (id), author_code TEXT REFERENCES authors (code), status TEXT NOT NULL);
INSERT INTO authors VALUES (1, 'a1', 'live'), (2, 'a2', 'hidden');
INSERT INTO books VALUES (10, 1, 'a1', 'live'), (11, NULL, NULL, 'live'), (12, 2, 'a2', 'hidden'), (13, 3, 'a1', 'hidden');";

/// The report's list of foreign keys (target names) under `field`, sorted.
fn constraints_in(report: &serde_json::Value, field: &str) -> Vec<String> {
    let mut names: Vec<String> = report[field]
        .as_array()
        .unwrap_or_else(|| panic!("no `{field}` in the report"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn the_loads_settle_integer_foreign_keys_of_the_rows_they_carry_and_the_source_is_searched_for_the_rest(
) {
    let s = Setup::from_sql(
        TWO_KEY_SHELF,
        "filters:\n  authors: \"status = 'live'\"\n  books: \"status = 'live'\"\nchecks:\n  - foreign_keys: all\n",
    );
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 0);
    let report = s.report("plan");
    // Book 13's author 3 does not exist, but book 13 is not carried: no orphan.
    assert_eq!(
        constraints_in(&report, "orphans_settled_by_loads"),
        ["books_author_id_fkey"]
    );
    // Text is compared by the source's rules (SQLite's affinity, MySQL's collations).
    assert_eq!(
        constraints_in(&report, "orphans_searched_in_source"),
        ["books_author_code_fkey"]
    );
    assert_eq!(
        foreign_keys_made(&s.db),
        "books_author_code_fkey books_author_id_fkey"
    );
    assert_all_checks_passed(&out);

    // Unfiltered, the loads see book 13's author 3 without a parent: the source is searched
    // for that key after the loads and names the row. Its `author_code` has a parent.
    let s = Setup::from_sql(TWO_KEY_SHELF, "checks:\n  - foreign_keys: all\n");
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 2);
    assert_contains(
        &out.stderr,
        &["1 row(s) whose (author_id)", "id=13 → author_id=3"],
    );
    assert!(!out.stderr.contains("(author_code)"), "{}", out.stderr);
    assert_eq!(
        constraints_in(&s.report("plan"), "orphans_searched_in_source"),
        ["books_author_code_fkey", "books_author_id_fkey"]
    );
}

#[test]
fn orphans_under_reject_are_left_out_with_their_children_and_recorded_as_rejects() {
    let s = Setup::from_sql(
        &format!("{SHOP}{SHOP_ORPHANS}"),
        &format!("settings: {{ orphans: reject }}\n{COUNTS_AND_KEYS}  - checksums: all\n"),
    );
    let out = s.decant(&["run", "plan.yaml"]);
    // Rows were rejected: exit 1, but every check passes.
    assert_exit(&out, 1);
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(id::text, ',' ORDER BY id) FROM public.orders"
        ),
        "10,11,12,13"
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(id::text, ',' ORDER BY id) FROM public.order_items"
        ),
        "100,101,102"
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(source_table || ':' || (primary_key->>'id') || ':' || reason, ' | ' ORDER BY source_table, primary_key->>'id') FROM decant.decant_rejects"
        ),
        "order_items:103:orphan: no `orders` row with id=14 | order_items:104:orphan: no `orders` row with id=77 | orders:14:orphan: no `customers` row with id=99"
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated AND connamespace = 'public'::regnamespace"
        ),
        "2"
    );
    let lines = std::fs::read_to_string(s.path("reports/plan.rejects.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 3, "{lines}");
    let report = s.report("plan");
    let orders = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["source"] == "orders")
        .unwrap();
    assert_eq!(
        (
            orders["read"].as_u64(),
            orders["written"].as_u64(),
            orders["rejected"].as_u64()
        ),
        (Some(5), Some(4), Some(1))
    );
    for check in report["checks"].as_array().unwrap() {
        assert_eq!(check["status"], "pass", "{check}");
    }
    let out = s.decant(&["check", "plan.yaml", "-v"]);
    assert_exit(&out, 0);
    assert!(
        out.stdout.contains("rejected by settings.orphans: reject"),
        "{}",
        out.stdout
    );
}

#[test]
fn orphans_under_skip_constraint_load_every_row_without_that_foreign_key() {
    let s = Setup::from_sql(
        &format!("{SHOP}{SHOP_ORPHANS}"),
        &format!("settings: {{ orphans: skip_constraint }}\n{COUNTS_AND_KEYS}"),
    );
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 0);
    assert_eq!(query(&s.db, "SELECT count(*) FROM public.orders"), "5");
    assert_eq!(query(&s.db, "SELECT count(*) FROM public.order_items"), "5");
    assert_eq!(foreign_keys_made(&s.db), "");
    assert!(
        out.stdout
            .contains("foreign key `orders_customer_id_fkey` not created"),
        "{}",
        out.stdout
    );
    let report = s.report("plan");
    assert_eq!(report["orphans"].as_array().unwrap().len(), 2);
    let out = s.decant(&["check", "plan.yaml", "-v"]);
    assert_exit(&out, 0);
    assert!(
        out.stdout
            .contains("not created, as settings.orphans: skip_constraint says"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_rejected_orphan_takes_its_self_referencing_descendants_with_it() {
    let s = Setup::from_sql(
        "PRAGMA foreign_keys = OFF;
         CREATE TABLE staff (id INTEGER PRIMARY KEY, name TEXT, manager_id INTEGER REFERENCES staff (id));
         INSERT INTO staff VALUES (1, 'boss', NULL), (2, 'ann', 1), (3, 'bob', 99), (4, 'cy', 3), (5, 'di', 4), (6, 'ed', 2);",
        &format!("settings: {{ orphans: reject }}\n{COUNTS_AND_KEYS}"),
    );
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 1);
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(id::text, ',' ORDER BY id) FROM public.staff"
        ),
        "1,2,6"
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg((primary_key->>'id') || ':' || reason, ' | ' ORDER BY primary_key->>'id') FROM decant.decant_rejects"
        ),
        "3:orphan: no `staff` row with id=99 | 4:orphan: no `staff` row with id=3 | 5:orphan: no `staff` row with id=4"
    );
    let out = s.decant(&["check", "plan.yaml"]);
    assert_exit(&out, 0);
    assert_status(&out, "row-counts:staff", "PASS");
    assert_status(&out, "foreign-keys:staff", "PASS");
}

#[test]
fn checksums_with_a_row_limit_or_a_sample_say_so_and_still_find_differences() {
    let s = Setup::from_sql(
        SHOP,
        "checks:\n  - checksums: [orders]\n    row_limit: 2\n  - checksums: [customers]\n    sample_rate: 0.999\n",
    );
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 0);
    let out = s.decant(&["check", "plan.yaml"]);
    assert_exit(&out, 0);
    for id in ["checksums:orders", "checksums:customers"] {
        assert_status(&out, id, "PASS");
    }
    let report = s.report("plan");
    let orders = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "checksums:orders")
        .unwrap()
        .clone();
    assert_eq!(
        orders["summary"],
        "2 row(s) compared, all equal (not every row: see details)"
    );
    assert!(
        orders["details"]
            .to_string()
            .contains("only the first 2 source rows by key"),
        "{orders}"
    );
    // A change inside the limit is found; one past it is not looked at.
    s.db.connect()
        .batch_execute("UPDATE public.orders SET note = 'changed' WHERE id IN (11, 13)")
        .unwrap();
    let out = s.decant(&["check", "plan.yaml", "-v"]);
    assert_exit(&out, 1);
    assert_status(&out, "checksums:orders", "FAIL");
    assert!(
        out.stdout.contains("`orders` id=11: `note` differs") && !out.stdout.contains("id=13"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("a sample of about 99.9% of the rows"),
        "{}",
        out.stdout
    );
}

const ASSERTIONS: &str = r#"checks:
  - { name: order-count, target: "select count(*) from orders", expect: 4 }
  - { name: order-count-wrong, target: "select count(*) from orders", expect: 5 }
  - { name: revenue, source: "select sum(total) from orders", target: "select sum(total) from orders", expect: equal }
  - { name: revenue-numeric, source: "select sum(total) / 100.0 from orders", target: "select (sum(total) / 100.0)::numeric(12,4) from orders", expect: equal }
  - { name: within-tolerance, source: "select 10.004", target: "select 10", expect: equal, tolerance: 0.005 }
  - { name: outside-tolerance, source: "select 10.006", target: "select 10", expect: equal, tolerance: 0.005 }
  - { name: no-tolerance, source: "select 10.004", target: "select 10", expect: equal }
  - { name: text-equal, source: "select email from customers where id = 1", target: "select email from customers where id = 1", expect: equal }
  - { name: text-expected, target: "select role from customers where id = 1", expect: admin }
  - { name: text-is-not-a-number, target: "select '42'::text", expect: 42 }
  - { name: null-equals-null, source: "select null", target: "select null::int", expect: equal }
  - { name: null-is-not-zero, source: "select null", target: "select 0", expect: equal }
  - { name: boolean-and-integer, source: "select 1 > 0", target: "select true", expect: equal }
  - { name: two-rows, target: "select id from orders", expect: 1 }
  - { name: bad-sql, target: "select nope from orders", expect: 1 }
  - not_null: customers.email
  - not_null: orders.note
  - unique: customers.email
  - unique: orders.customer_id
  - accepted_values: { column: customers.role, values: [admin, member] }
  - accepted_values: { column: customers.role, values: [member] }
  - accepted_values: { column: orders.total, values: [1250, 990, 4100, 50] }
"#;

#[test]
fn assertions_and_shorthands_pass_and_fail_as_they_should() {
    let s = Setup::from_sql(SHOP, ASSERTIONS);
    let out = s.decant(&["run", "plan.yaml"]);
    // The data all arrived; the failing assertions make the exit code 1.
    assert_exit(&out, 1);
    assert!(
        out.stdout.contains("FAIL  assertion:order-count-wrong"),
        "{}",
        out.stdout
    );
    let report = s.report("plan");
    let statuses: Vec<(String, String)> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(statuses.len(), 22, "{statuses:?}");

    let out = s.decant(&["check", "plan.yaml"]);
    assert_exit(&out, 1);
    for (id, status) in [
        ("assertion:order-count", "PASS"),
        ("assertion:order-count-wrong", "FAIL"),
        ("assertion:revenue", "PASS"),
        ("assertion:revenue-numeric", "PASS"),
        ("assertion:within-tolerance", "PASS"),
        ("assertion:outside-tolerance", "FAIL"),
        ("assertion:no-tolerance", "FAIL"),
        ("assertion:text-equal", "PASS"),
        ("assertion:text-expected", "PASS"),
        ("assertion:text-is-not-a-number", "FAIL"),
        ("assertion:null-equals-null", "PASS"),
        ("assertion:null-is-not-zero", "FAIL"),
        ("assertion:boolean-and-integer", "PASS"),
        ("assertion:two-rows", "ERROR"),
        ("assertion:bad-sql", "ERROR"),
        ("not-null:customers.email", "PASS"),
        ("not-null:orders.note", "FAIL"),
        ("unique:customers.email", "PASS"),
        ("unique:orders.customer_id", "FAIL"),
        ("accepted-values:customers.role", "PASS"),
        ("accepted-values:orders.total", "PASS"),
    ] {
        assert_status(&out, id, status);
    }
    // The second accepted_values on customers.role has the same id and fails.
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("FAIL") && l.contains("accepted-values:customers.role")),
        "{}",
        out.stdout
    );
    for expected in [
        "4 ≠ 5",
        "text \"42\" and number 42 are different kinds of value",
        "more than one row",
        "nope",
        "id=11",
        "\"admin\" (1 row(s))",
        "e.g. 2 (2 row(s))",
    ] {
        assert!(
            out.stdout.contains(expected),
            "missing `{expected}` in {}",
            out.stdout
        );
    }
    assert!(out.stdout.contains("check(s):"), "{}", out.stdout);
}

#[test]
fn check_without_a_reachable_target_exits_2() {
    let s = Setup::from_sql(SHOP, COUNTS_AND_KEYS);
    let out = decant_in(
        s.dir.path(),
        &["check", "plan.yaml"],
        &[("TARGET_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")],
    );
    assert_exit(&out, 2);
    assert!(out.stderr.contains("cannot connect"), "{}", out.stderr);
}

const LOG: &str =
    "CREATE TABLE log (id INTEGER, msg TEXT); INSERT INTO log VALUES (1, 'a'), (2, 'b');";
const APPEND: &str = "settings: { if_exists: append }\n";
const ROW_COUNTS: &str = "checks:\n  - row_counts: all\n";

/// The target table `log` with three rows from before any run, as an app would have left it.
fn log_with_earlier_rows(s: &Setup) {
    execute(
        &s.db,
        "CREATE TABLE public.log (id bigint, msg text);
         INSERT INTO public.log VALUES (7, 'x'), (8, 'y'), (9, 'z');",
    );
}

/// Adds the row-count check to the plan after the run (which then ran without checks).
fn add_row_counts(s: &Setup) {
    let path = s.path("plan.yaml");
    let plan = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{plan}{ROW_COUNTS}")).unwrap();
}

#[test]
fn an_append_run_whose_rows_were_duplicated_fails_row_counts() {
    let s = Setup::from_sql(LOG, &format!("{APPEND}{ROW_COUNTS}"));
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    execute(&s.db, "INSERT INTO public.log SELECT * FROM public.log");
    let out = s.decant(&["check", "plan.yaml"]);
    assert_exit(&out, 1);
    assert_status(&out, "row-counts:log", "FAIL");
    assert!(
        line_of(&out, "row-counts:log").contains("2 row(s) "),
        "{}",
        out.stdout
    );
    assert_eq!(tally(&out), Tally::new(1, 0, 1, 0), "{}", out.stdout);
}

#[test]
fn append_row_counts_expect_the_rows_from_before_the_run_plus_the_rows_it_loaded() {
    // End to end: the run records how many rows `log` held before its load, and both its own
    // row-count check and a later `check` expect those plus the rows it loaded.
    let s = Setup::from_sql(LOG, &format!("{APPEND}{ROW_COUNTS}"));
    log_with_earlier_rows(&s);
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 0);
    let report = s.report("plan");
    let checks: Vec<String> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{} {}: {}", c["status"], c["id"], c["summary"]))
        .collect();
    assert_eq!(
        checks,
        [r#""pass" "row-counts:log": "5 row(s) in the target, as expected""#]
    );
    assert_eq!(query(&s.db, "SELECT count(*) FROM public.log"), "5");
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(target_table || '=' || rows_before, ',') FROM decant.table_baselines"
        ),
        "log=3"
    );
    let out = s.decant(&["check", "plan.yaml", "-v"]);
    assert_exit(&out, 0);
    assert_status(&out, "row-counts:log", "PASS");
    assert!(
        out.stdout.contains("`log` held 3 row(s) before run 1"),
        "{}",
        out.stdout
    );
    // One row loaded twice is one too many, even with rows from before the run around.
    execute(&s.db, "INSERT INTO public.log VALUES (1, 'a')");
    let out = s.decant(&["check", "plan.yaml"]);
    assert_exit(&out, 1);
    assert!(
        line_of(&out, "row-counts:log").contains("1 row(s) too many: expected 5, the target has 6"),
        "{}",
        out.stdout
    );
}

#[test]
fn append_row_counts_without_a_recorded_baseline_do_not_pass_on_extra_rows() {
    let s = Setup::from_sql(LOG, APPEND);
    log_with_earlier_rows(&s);
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    // As after a run by a decant that recorded no baselines.
    execute(&s.db, "DELETE FROM decant.table_baselines");
    add_row_counts(&s);
    let out = s.decant(&["check", "plan.yaml"]);
    assert_exit(&out, 1);
    assert_status(&out, "row-counts:log", "FAIL");
    assert!(
        line_of(&out, "row-counts:log").contains("3 row(s) more than the run loaded (2)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("the journal does not record how many rows `log` held before the run"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_recorded_baseline_is_the_count_before_the_load_and_is_never_overwritten() {
    let s = Setup::from_sql(LOG, APPEND);
    log_with_earlier_rows(&s);
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    let run: i64 = query(&s.db, "SELECT max(id) FROM decant.runs")
        .parse()
        .unwrap();
    execute(&s.db, "DELETE FROM decant.table_baselines");
    let mut conn = s.db.connect_target();
    // Five rows now: recorded as this run's baseline, then kept when asked again after more rows.
    let first = decant::journal::record_baseline(&mut conn, run, "public", "log")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first, 5);
    execute(&s.db, "INSERT INTO public.log SELECT * FROM public.log");
    let again = decant::journal::record_baseline(&mut conn, run, "public", "log")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again, 5);
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(target_table || '=' || rows_before, ',') FROM decant.table_baselines"
        ),
        "log=5"
    );
}

/// Each step's statements by id: `source_sql` and `target_sql` of a plan's or a report's steps.
fn statements_by_step(steps: &serde_json::Value) -> Vec<(String, String)> {
    steps
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["source_sql"].is_array() || s["target_sql"].is_array())
        .map(|s| {
            // A report leaves out an empty list; a plan shows it.
            let list = |v: &serde_json::Value| {
                if v.is_null() {
                    "[]".to_owned()
                } else {
                    v.to_string()
                }
            };
            (
                s["id"].as_str().unwrap().to_owned(),
                format!("{}\n{}", list(&s["source_sql"]), list(&s["target_sql"])),
            )
        })
        .collect()
}

#[test]
fn decant_plan_prints_the_statements_a_run_sends_when_orphans_change_them() {
    // Under `reject` the loads leave the orphans out; under `skip_constraint` the foreign keys
    // with orphans are not made. Either way the plan shows what the run then sent, step by step.
    for policy in ["reject", "skip_constraint"] {
        let s = Setup::from_sql(
            &format!("{SHOP}{SHOP_ORPHANS}"),
            &format!("settings: {{ orphans: {policy} }}\n{COUNTS_AND_KEYS}"),
        );
        let plan = s.decant(&["plan", "plan.yaml", "--format", "json"]);
        assert_exit(&plan, 0);
        let shown: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
        let shown = statements_by_step(&shown["steps"]);
        let run = s.decant(&["run", "plan.yaml"]);
        assert!(run.code <= 1, "{policy}: {}{}", run.stdout, run.stderr);
        let sent = statements_by_step(&s.report("plan")["steps"]);
        assert!(sent.len() > 5, "{policy}: {sent:?}");
        for (id, statements) in &sent {
            let planned = shown
                .iter()
                .find(|(i, _)| i == id)
                .map(|(_, st)| st.as_str());
            assert_eq!(planned, Some(statements.as_str()), "{policy}: step `{id}`");
        }
        assert!(
            plan.stderr.contains("note: orphans:"),
            "{policy}: {}",
            plan.stderr
        );
    }
}

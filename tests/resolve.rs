//! Resolution, graph and rendering on real SQLite sources: names, keys and order in the target.

use std::path::PathBuf;

use decant::commands::{prepare, Failure, Prepared};

/// A source built from `sql` and a plan (its `source` pointing at it), prepared like `decant plan`.
fn prepared(sql: &str, plan_body: &str) -> (tempfile::TempDir, Result<Prepared, Failure>) {
    let (dir, db) = crate::support::sqlite_from_sql(sql);
    let plan = format!(
        "version: 1\nsource: {{ url: \"sqlite://{}\" }}\ntarget: {{ url: \"postgres://localhost/t\" }}\n{plan_body}",
        db.file_name().and_then(|n| n.to_str()).unwrap()
    );
    let path: PathBuf = dir.path().join("plan.yaml");
    std::fs::write(&path, plan).unwrap();
    let result = prepare(&path, decant::prepare::Profiling::All).map_err(Failure::Plan);
    (dir, result)
}

fn ok(p: Result<Prepared, Failure>) -> Prepared {
    match p {
        Ok(p) => p,
        Err(Failure::Plan(d)) => panic!("{}", d.render()),
        Err(Failure::Other(e)) => panic!("{e:#}"),
    }
}

fn all_sql(p: &Prepared) -> String {
    p.steps
        .iter()
        .flat_map(|s| s.target_sql.iter().cloned())
        .collect::<Vec<_>>()
        .join(";\n")
}

const SHOP: &str = r#"
CREATE TABLE "Customer" (customerId INTEGER PRIMARY KEY AUTOINCREMENT, emailAddress TEXT NOT NULL COLLATE NOCASE UNIQUE, isActive BOOLEAN NOT NULL DEFAULT 1 CHECK (isActive IN (0, 1)), createdAt DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE "Order" (orderId INTEGER PRIMARY KEY, customerId INTEGER NOT NULL REFERENCES "Customer"(customerId) ON DELETE CASCADE, "select" TEXT, totalCents INTEGER CHECK (totalCents >= 0));
CREATE INDEX orderByCustomer ON "Order"(customerId, orderId DESC) WHERE totalCents > 0;
INSERT INTO "Customer" (emailAddress) VALUES ('a@x'), ('b@x'), ('c@x');
DELETE FROM "Customer" WHERE customerId = 3;
INSERT INTO "Order" (customerId, "select", totalCents) VALUES (1, 'x', 100);
"#;

#[test]
fn snake_case_naming_reaches_keys_indexes_checks_and_foreign_keys() {
    let (_d, p) = prepared(SHOP, "naming: { identifiers: snake_case }\n");
    let p = ok(p);
    insta::assert_snapshot!("snake_case_shop_ddl", all_sql(&p));
    let order = p.resolved.table("Order").unwrap();
    assert_eq!(order.target, "order");
    assert_eq!(order.foreign_keys[0].referenced_table, "customer");
    assert_eq!(order.foreign_keys[0].columns, vec!["customer_id"]);
    assert_eq!(
        order.indexes[0].predicate.as_deref(),
        Some("\"total_cents\" > 0")
    );
}

#[test]
fn autoincrement_identity_continues_after_sqlite_sequence_not_max_id() {
    let p = ok(prepared(SHOP, "").1);
    let customer = p.resolved.table("Customer").unwrap();
    let identity = customer.identity.as_ref().unwrap();
    assert_eq!(identity.column, "customerId");
    assert_eq!(identity.autoincrement_after, Some(3));
    let seq = p
        .steps
        .iter()
        .find(|s| s.id == "sequence:Customer")
        .unwrap();
    assert!(
        seq.target_sql[0].contains("), 3) + 1, false)"),
        "{}",
        seq.target_sql[0]
    );
}

#[test]
fn nocase_unique_becomes_a_unique_index_on_lower() {
    let p = ok(prepared(SHOP, "").1);
    let customer = p.resolved.table("Customer").unwrap();
    assert!(customer.uniques.is_empty());
    assert!(customer
        .indexes
        .iter()
        .any(|i| i.unique && i.keys[0].sql == "lower(\"emailAddress\")"));
}

#[test]
fn renames_win_over_naming_and_collisions_are_errors() {
    let p = ok(prepared(
        SHOP,
        "tables: { rename: { Order: purchases } }\ncolumns:\n  Order.select: { rename: choice }\n",
    )
    .1);
    let sql = all_sql(&p);
    assert!(
        sql.contains("CREATE TABLE \"public\".\"purchases\""),
        "{sql}"
    );
    assert!(sql.contains("\"choice\" text"), "{sql}");
    let (_d, clash) = prepared(SHOP, "tables: { rename: { Order: Customer } }\n");
    match clash {
        Err(Failure::Plan(d)) => assert!(
            d.render().contains("would both become `Customer`"),
            "{}",
            d.render()
        ),
        _ => panic!("a rename collision must be an error"),
    }
}

#[test]
fn after_load_builds_constraints_after_the_copy_and_foreign_keys_after_both_ends() {
    let p = ok(prepared(SHOP, "").1);
    let position = |id: &str| {
        p.steps
            .iter()
            .position(|s| s.id == id)
            .unwrap_or_else(|| panic!("no step {id}"))
    };
    assert!(position("load:Order") < position("constraints:Order"));
    assert!(position("constraints:Customer") < position("foreign-keys:Order"));
    assert!(position("load:Customer") < position("foreign-keys:Order"));
    assert!(position("foreign-keys:Order") < position("checks"));
    let fk = p
        .steps
        .iter()
        .find(|s| s.id == "foreign-keys:Order")
        .unwrap();
    assert_eq!(fk.depends_on.len(), 4, "{:?}", fk.depends_on);
}

#[test]
fn before_load_loads_parents_first_and_defers_foreign_keys_of_table_cycles() {
    let sql = "CREATE TABLE a (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b(id));
               CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id));
               CREATE TABLE parent (id INTEGER PRIMARY KEY);
               CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));";
    let p = ok(prepared(sql, "settings: { constraints: before_load }\n").1);
    let position = |id: &str| {
        p.steps
            .iter()
            .position(|s| s.id == id)
            .unwrap_or_else(|| panic!("no step {id}"))
    };
    assert!(position("load:parent") < position("load:child"));
    assert!(position("foreign-keys:child") < position("load:child"));
    assert!(
        position("load:a") < position("foreign-keys:a")
            && position("load:b") < position("foreign-keys:a")
    );
}

#[test]
fn reserved_words_spaces_and_quotes_are_always_quoted() {
    let sql = r#"CREATE TABLE "group" ("user" TEXT, "first name" TEXT, "say ""hi""" TEXT, "Mixed" INTEGER PRIMARY KEY);"#;
    let p = ok(prepared(sql, "").1);
    insta::assert_snapshot!("quoted_identifiers_ddl", all_sql(&p));
}

#[test]
fn untranslatable_checks_and_defaults_are_reported_not_dropped_silently() {
    let sql = "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT DEFAULT (hex(randomblob(4))) CHECK (typeof(v) = 'text'), j TEXT CHECK (json_valid(j)));";
    let p = ok(prepared(sql, "").1);
    let t = p.resolved.table("t").unwrap();
    assert!(
        t.warnings.iter().any(|w| w.contains("typeof")),
        "{:?}",
        t.warnings
    );
    assert!(t
        .column("v")
        .unwrap()
        .warnings
        .iter()
        .any(|w| w.starts_with("default not carried")));
    assert_eq!(t.column("j").unwrap().target_type.sql(), "jsonb");
    assert!(
        t.checks.is_empty(),
        "json_valid is enforced by jsonb; typeof is reported"
    );
}

#[test]
fn type_rules_first_match_wins_and_column_overrides_win_over_rules() {
    let sql = "CREATE TABLE e (id INTEGER PRIMARY KEY, at DATETIME, seen DATETIME, ext TEXT);";
    let body = "types:\n  - { match: { type: datetime }, to: timestamptz, transform: epoch_s_to_timestamptz }\n  - { match: { type: datetime }, to: date }\n  - { match: { column: \"*.ext\" }, to: uuid, transform: hex_to_uuid }\ncolumns:\n  e.seen: { to: timestamp }\n";
    let p = ok(prepared(sql, body).1);
    let e = p.resolved.table("e").unwrap();
    assert_eq!(
        (
            e.column("at").unwrap().target_type.sql(),
            e.column("at").unwrap().rule.as_str()
        ),
        ("timestamptz".to_owned(), "types[0]")
    );
    assert_eq!(
        (
            e.column("seen").unwrap().target_type.sql(),
            e.column("seen").unwrap().rule.as_str()
        ),
        ("timestamp".to_owned(), "columns.e.seen")
    );
    assert_eq!(e.column("ext").unwrap().target_type.sql(), "uuid");
}

/// 70 bytes that the two names share, then what tells them apart.
fn long_prefix() -> String {
    "customer_loyalty_programme_membership_tier_history_snapshot_by_region".to_owned()
}

/// The rendered problems of a plan that must not prepare.
fn plan_problems(p: Result<Prepared, Failure>) -> String {
    match p {
        Err(Failure::Plan(d)) => d.render(),
        Err(Failure::Other(e)) => panic!("a plan problem was expected, not {e:#}"),
        Ok(_) => panic!("the plan must not prepare"),
    }
}

#[test]
fn two_tables_that_share_their_first_63_bytes_are_a_plan_error_with_a_rename_to_suggest() {
    let long = long_prefix();
    let sql = format!("CREATE TABLE {long}_a (id INTEGER); CREATE TABLE {long}_b (id INTEGER);");
    let out = plan_problems(prepared(&sql, "").1);
    assert!(
        out.contains(&format!(
            "tables `{long}_a` and `{long}_b` would both become `{}` in the target: PostgreSQL keeps only the first 63 bytes of a name",
            &long[..63]
        )),
        "{out}"
    );
    assert!(out.contains("plan.yaml:1:1"), "{out}");
    assert!(
        out.contains("rename one of them in `tables.rename`"),
        "{out}"
    );
    // The suggested name fits, and with it the plan prepares.
    let suggested = out
        .split(&format!("e.g. `{long}_b: "))
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("no suggestion in {out}"))
        .to_owned();
    assert!(suggested.len() <= 63, "{suggested}");
    ok(prepared(
        &sql,
        &format!("tables:\n  rename:\n    {long}_b: {suggested}\n"),
    )
    .1);
}

#[test]
fn a_rename_that_collides_after_63_bytes_is_reported_on_the_rename() {
    let long = long_prefix();
    let sql = format!("CREATE TABLE {long}_a (id INTEGER); CREATE TABLE other (id INTEGER);");
    let out =
        plan_problems(prepared(&sql, &format!("tables:\n  rename:\n    other: {long}_z\n")).1);
    assert!(out.contains("plan.yaml:6:5"), "{out}");
    assert!(
        out.contains(&format!("would both become `{}`", &long[..63])),
        "{out}"
    );
}

#[test]
fn two_columns_that_share_their_first_63_bytes_after_naming_rules_are_a_plan_error() {
    // Different in SQLite; equal in their first 63 bytes once snake_case has lowered them.
    let camel = "customerLoyaltyProgrammeMembershipTierHistorySnapshotByRegionAndQuarter";
    let sql = format!("CREATE TABLE t (id INTEGER, {camel}Start TEXT, {camel}End TEXT);");
    let out = plan_problems(prepared(&sql, "naming: { identifiers: snake_case }\n").1);
    let snake = decant::naming::snake_case(camel);
    assert!(
        out.contains(&format!(
            "columns `{camel}Start` and `{camel}End` of `t` would both become `{}`: PostgreSQL keeps only the first 63 bytes of a name",
            &snake[..63]
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("columns.t.{camel}End.rename")),
        "{out}"
    );
    // Renaming one of them settles it.
    ok(prepared(
        &sql,
        &format!("naming: {{ identifiers: snake_case }}\ncolumns:\n  t.{camel}End: {{ rename: period_end }}\n"),
    )
    .1);
}

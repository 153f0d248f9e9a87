//! Tests of loading a plan: the design plan's model, defaults, `${VAR}`s, and every problem
//! reported at once with its position.

// `doc_path!` builds a `Vec`; tests pass it where a slice is wanted.
#![allow(clippy::useless_vec)]

use super::*;
use crate::doc_path;
use crate::plan::diagnostic::Span;
use crate::plan::model::*;
use indexmap::IndexMap;

fn no_env(_: &str) -> Option<String> {
    None
}

fn load(text: &str) -> Result<LoadedPlan, Diagnostics> {
    load_plan_str("plans/shop.yaml", text, &no_env)
}

fn load_err(text: &str) -> Diagnostics {
    load(text).expect_err("the plan has problems")
}

fn messages(d: &Diagnostics) -> Vec<&str> {
    d.items.iter().map(|d| d.message.as_str()).collect()
}

const MINIMAL: &str =
    "version: 1\nsource: { url: \"sqlite://a.db\" }\ntarget: { url: \"postgres://h/db\" }\n";

const DESIGN_PLAN: &str = r#"version: 1
name: shop-to-postgres
source: { url: "sqlite://data/shop.sqlite3" }          # relative to the plan file
target: { url: "${TARGET_DATABASE_URL}", schema: public } # from the environment
settings:
  if_exists: fail            # fail | drop | truncate | append
  on_bad_row: stop           # stop | reject
  constraints: after_load    # after_load | before_load
  workers: 2
naming: { identifiers: preserve }   # preserve | snake_case | lower
tables:
  include: ["*"]
  exclude: ["sqlite_*"]
  rename: { Customer: customers }
types:                       # rules, first match wins
  - match: { type: "datetime" }
    to: timestamptz
  - match: { column: "*.external_id" }
    to: uuid
    transform: hex_to_uuid
columns:                     # per-column overrides
  shop_customer.session_length: { to: interval, transform: "{{ value | microseconds_to_interval }}" }
  users.email: { transform: "{{ value | trim | lower }}" }
filters:
  audit_log: "created_at >= '2024-01-01'"
indexes:
  - { table: pfa_records, columns: [organizationId, areaSilo, category], where: "isDiscontinued = false" }
steps:
  - { id: citext, sql: "create extension if not exists citext", before: [schema] }
  - { id: app-migrations, migrations: "migrations/", after: [load] }
  - { id: analyze, sql: "analyze", after: [load] }
checks:
  - row_counts: all
  - checksums: all
  - foreign_keys: all
  - { name: no-null-emails, target: "select count(*) from users where email is null", expect: 0 }
  - { name: revenue, source: "select round(sum(total), 2) from orders", target: "select sum(total) from orders", expect: equal }
"#;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn design_plan_model() -> Plan {
    let mut rename = IndexMap::new();
    rename.insert("Customer".to_owned(), "customers".to_owned());
    let mut columns = IndexMap::new();
    columns.insert(
        "shop_customer.session_length".to_owned(),
        ColumnOverride {
            to: Some("interval".to_owned()),
            transform: Some("{{ value | microseconds_to_interval }}".to_owned()),
            ..ColumnOverride::default()
        },
    );
    columns.insert(
        "users.email".to_owned(),
        ColumnOverride {
            transform: Some("{{ value | trim | lower }}".to_owned()),
            ..ColumnOverride::default()
        },
    );
    let mut filters = IndexMap::new();
    filters.insert(
        "audit_log".to_owned(),
        "created_at >= '2024-01-01'".to_owned(),
    );
    let step = |id: &str| Step {
        id: id.to_owned(),
        sql: None,
        migrations: None,
        run: None,
        before: vec![],
        after: vec![],
        phase: None,
    };
    Plan {
        version: 1,
        name: Some("shop-to-postgres".to_owned()),
        source: Source {
            url: "sqlite://data/shop.sqlite3".to_owned(),
        },
        target: Target {
            url: "postgres://app:hunter2@db.internal:5432/shop".to_owned(),
            schema: "public".to_owned(),
            owner: Default::default(),
            snapshot: None,
        },
        settings: Settings {
            if_exists: IfExists::Fail,
            on_bad_row: OnBadRow::Stop,
            constraints: ConstraintTiming::AfterLoad,
            workers: 2,
            orphans: Default::default(),
            existing_keys: Default::default(),
            app_triggers: Default::default(),
            reversible: false,
        },
        naming: Naming {
            identifiers: IdentifierCase::Preserve,
        },
        tables: Tables {
            include: strings(&["*"]),
            exclude: strings(&["sqlite_*"]),
            rename,
        },
        types: vec![
            TypeRule {
                matcher: TypeMatch {
                    declared_type: Some("datetime".to_owned()),
                    column: None,
                },
                to: "timestamptz".to_owned(),
                transform: None,
                inverse: None,
            },
            TypeRule {
                matcher: TypeMatch {
                    declared_type: None,
                    column: Some("*.external_id".to_owned()),
                },
                to: "uuid".to_owned(),
                transform: Some("hex_to_uuid".to_owned()),
                inverse: None,
            },
        ],
        columns,
        filters,
        indexes: vec![ExtraIndex {
            table: "pfa_records".to_owned(),
            columns: strings(&["organizationId", "areaSilo", "category"]),
            name: None,
            unique: false,
            predicate: Some("isDiscontinued = false".to_owned()),
            method: None,
        }],
        steps: vec![
            Step {
                sql: Some("create extension if not exists citext".to_owned()),
                before: strings(&["schema"]),
                ..step("citext")
            },
            Step {
                migrations: Some("migrations/".to_owned()),
                after: strings(&["load"]),
                ..step("app-migrations")
            },
            Step {
                sql: Some("analyze".to_owned()),
                after: strings(&["load"]),
                ..step("analyze")
            },
        ],
        checks: vec![
            Check {
                row_counts: Some(Selection::All(AllKeyword::All)),
                ..Check::default()
            },
            Check {
                checksums: Some(Selection::All(AllKeyword::All)),
                ..Check::default()
            },
            Check {
                foreign_keys: Some(Selection::All(AllKeyword::All)),
                ..Check::default()
            },
            Check {
                name: Some("no-null-emails".to_owned()),
                target: Some("select count(*) from users where email is null".to_owned()),
                expect: Some(serde_json::json!(0)),
                ..Check::default()
            },
            Check {
                name: Some("revenue".to_owned()),
                source: Some("select round(sum(total), 2) from orders".to_owned()),
                target: Some("select sum(total) from orders".to_owned()),
                expect: Some(serde_json::json!("equal")),
                ..Check::default()
            },
        ],
        templates: None,
    }
}

#[test]
fn the_design_plan_loads_and_equals_the_expected_model() {
    let env = |name: &str| {
        (name == "TARGET_DATABASE_URL")
            .then(|| "postgres://app:hunter2@db.internal:5432/shop".to_owned())
    };
    let loaded =
        load_plan_str("plans/shop.yaml", DESIGN_PLAN, &env).expect("the design plan loads");
    assert_eq!(loaded.plan, design_plan_model());
    assert_eq!(loaded.warnings, []);
    assert_eq!(loaded.base_dir(), Path::new("plans"));
    assert_eq!(loaded.text, DESIGN_PLAN);
}

#[test]
fn defaults_fill_what_the_plan_leaves_out() {
    let loaded = load(MINIMAL).expect("loads");
    assert_eq!(loaded.plan.settings, Settings::default());
    assert_eq!(loaded.plan.tables, Tables::default());
    assert_eq!(loaded.plan.target.schema, "public");
    assert!(loaded.plan.checks.is_empty());
}

#[test]
fn default_is_used_when_variable_is_missing() {
    let text = MINIMAL.replace(
        "postgres://h/db",
        "${TARGET_DATABASE_URL:-postgres://localhost/dev}",
    );
    let loaded = load(&text).expect("loads");
    assert_eq!(loaded.plan.target.url, "postgres://localhost/dev");
}

#[test]
fn missing_environment_variable_is_named() {
    let text = MINIMAL.replace("postgres://h/db", "${TARGET_DATABASE_URL}");
    let d = load_err(&text);
    assert_eq!(
        messages(&d),
        ["environment variable `TARGET_DATABASE_URL` is not set"]
    );
    let item = &d.items[0];
    assert_eq!(
        item.help.as_deref(),
        Some("set it, or write `${TARGET_DATABASE_URL:-default}`")
    );
    assert_eq!(item.path, doc_path!["target", "url"]);
    assert_eq!(
        item.span,
        Some(Span {
            line: 3,
            col: 17,
            len: 22
        })
    );
    assert_eq!(d.file, "plans/shop.yaml");
}

#[test]
fn password_from_environment_never_appears_in_diagnostics() {
    let secret = "s3cr3t-Pa55";
    let env = |name: &str| match name {
        "TARGET_DATABASE_URL" => Some(format!("postgres://app:{secret}@db/shop")),
        "SOURCE_URL" => Some(secret.to_owned()),
        _ => None,
    };
    // Problems elsewhere in a plan that uses the secret.
    let text = "version: 1\nsource: { url: \"${SOURCE_URL}\" }\ntarget: { url: \"${TARGET_DATABASE_URL}\" }\nsettings: { workers: \"${SOURCE_URL}\", if_exists: \"${SOURCE_URL}\" }\nchecks:\n  - { name: \"${SOURCE_URL}\", expect: \"${MISSING}\" }\n";
    let d = load_plan_str("plan.yaml", text, &env).expect_err("problems");
    assert!(d.items.len() >= 3, "{}", d.render());
    assert!(!d.render().contains(secret), "{}", d.render());
    assert!(!format!("{d:?}").contains(secret));
    // A problem that only deserialization finds still keeps the value out.
    let d = load_plan_str(
        "plan.yaml",
        "version: 1\nsource: { url: a }\ntarget: { url: b }\nchecks:\n  - row_counts: \"${SOURCE_URL}\"\n",
        &env,
    )
    .expect_err("not a selection");
    assert!(!d.render().contains(secret), "{}", d.render());
    assert_eq!(d.items[0].path, doc_path!["checks", 0, "row_counts"]);
}

#[test]
fn wrong_enum_value_is_reported_with_suggestion() {
    let d = load_err(&format!("{MINIMAL}settings:\n  if_exists: dorp\n"));
    assert_eq!(
        messages(&d),
        ["`dorp` is not a valid value for `if_exists`"]
    );
    assert_eq!(d.items[0].help.as_deref(), Some("did you mean `drop`?"));
    assert_eq!(
        d.items[0].span,
        Some(Span {
            line: 5,
            col: 14,
            len: 4
        })
    );
}

#[test]
fn misspelt_setting_key_is_reported_with_suggestion_and_position() {
    let d = load_err(&format!("{MINIMAL}settings:\n  on_bad_rows: reject\n"));
    assert_eq!(messages(&d), ["unknown key `on_bad_rows` in `settings`"]);
    assert_eq!(
        d.items[0].help.as_deref(),
        Some("did you mean `on_bad_row`?")
    );
    assert_eq!(
        d.items[0].span,
        Some(Span {
            line: 5,
            col: 3,
            len: 11
        })
    );
}

#[test]
fn wrong_type_is_reported() {
    let d = load_err(&format!("{MINIMAL}tables:\n  exclude: sqlite_*\n"));
    assert_eq!(messages(&d), ["expected a list of strings, found a string"]);
    assert_eq!(
        d.items[0].help.as_deref(),
        Some("write it as a list: `[sqlite_*]`")
    );
}

#[test]
fn selection_takes_all_or_a_list_of_tables() {
    let loaded = load(&format!(
        "{MINIMAL}checks:\n  - row_counts: [users, orders]\n  - checksums: all\n"
    ))
    .expect("loads");
    assert_eq!(
        loaded.plan.checks[0].row_counts,
        Some(Selection::Tables(strings(&["users", "orders"])))
    );
    assert_eq!(
        loaded.plan.checks[1].checksums,
        Some(Selection::All(AllKeyword::All))
    );
    let d = load_err(&format!("{MINIMAL}checks:\n  - row_counts: 5\n"));
    assert_eq!(
        messages(&d),
        ["expected `all` or a list of strings, found an integer"]
    );
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let d = load_err(
        "version: 1\nsource: { url: \"${SRC}\" }\ntarget: { urls: x }\nsettings: { workers: 0 }\ntables:\n  rename: { a: b, a: c }\n",
    );
    assert_eq!(
        messages(&d),
        [
            "environment variable `SRC` is not set",
            "missing required key `url` in `target`",
            "unknown key `urls` in `target`",
            "`0` is out of range for `workers`",
            "duplicate key `a` in `tables.rename`",
        ]
    );
    assert!(d.items.iter().all(|i| i.span.is_some()));
}

#[test]
fn duplicate_keys_are_reported() {
    let d = load_err(&format!("{MINIMAL}version: 1\n"));
    assert_eq!(messages(&d), ["duplicate key `version` at the top level"]);
    assert_eq!(
        d.items[0].span,
        Some(Span {
            line: 4,
            col: 1,
            len: 7
        })
    );
}

#[test]
fn syntax_error_position_is_reported() {
    let d = load_err("version: 1\nsource:\n  url: \"unclosed\ntarget: {}\n");
    assert_eq!(d.items.len(), 1);
    assert!(
        d.items[0].message.starts_with("invalid YAML"),
        "{}",
        d.items[0].message
    );
    assert!(d.items[0].span.is_some());
}

#[test]
fn unsupported_version_is_refused() {
    let d = load_err("version: 2\nsource: { uri: x }\n");
    assert_eq!(
        messages(&d),
        ["unsupported plan version `2`; this decant reads version 1"]
    );
    assert_eq!(
        d.items[0].span,
        Some(Span {
            line: 1,
            col: 10,
            len: 1
        })
    );
}

#[test]
fn an_empty_file_is_reported() {
    let d = load_err("# nothing yet\n");
    assert_eq!(messages(&d), ["the plan file is empty"]);
}

#[test]
fn an_unreadable_file_is_a_diagnostic() {
    let d = load_plan(Path::new("/nonexistent/decant/plan.yaml")).expect_err("no such file");
    assert_eq!(d.file, "/nonexistent/decant/plan.yaml");
    assert!(
        d.items[0]
            .message
            .starts_with("cannot read the plan file: "),
        "{}",
        d.items[0].message
    );
}

#[test]
fn load_plan_reads_the_file_and_keeps_the_path_as_given() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.yaml");
    std::fs::write(&path, MINIMAL).expect("write");
    let loaded = load_plan(&path).expect("loads");
    assert_eq!(loaded.path, path);
    assert_eq!(loaded.base_dir(), dir.path());
    let loaded = load_plan_str("plan.yaml", MINIMAL, &no_env).expect("loads");
    assert_eq!(loaded.base_dir(), Path::new("."));
}

#[test]
fn later_problems_are_located_by_path() {
    let loaded = load(&format!(
        "{MINIMAL}steps:\n  - {{ id: a, after: [nope] }}\n"
    ))
    .expect("loads");
    let d = Diagnostic::error(
        doc_path!["steps", 0, "after", 0],
        "step `a` depends on unknown step `nope`",
    );
    let located = loaded.locate(d.clone());
    assert_eq!(
        located.span,
        Some(Span {
            line: 5,
            col: 22,
            len: 4
        })
    );
    let missing = Diagnostic::error(doc_path!["steps", 0, "before"], "x");
    assert_eq!(
        loaded.locate(missing).span,
        Some(Span {
            line: 5,
            col: 5,
            len: 1
        })
    );
    let all = loaded.diagnostics(vec![d, Diagnostic::error(doc_path!["version"], "first")]);
    assert_eq!(
        messages(&all),
        ["first", "step `a` depends on unknown step `nope`"]
    );
}

#[test]
fn bad_plan_with_several_problems_renders_every_one() {
    let text = r#"version: 1
name: shop
source: { url: "sqlite://shop.db" }
target:
  url: "${TARGET_DATABASE_URL}"
  shema: public
settings:
  if_exists: dorp
  workers: 100
tables:
  include: "*"
checks:
  - row_count: all
  - checksums: everything
"#;
    insta::assert_snapshot!(load_err(text).render());
}

#[test]
fn second_bad_plan_with_types_steps_and_indexes_renders_every_one() {
    let text = r#"version: 1
source:
  url: sqlite://shop.db
target: { url: "postgres://localhost/${DB:-shop}", schema: 5 }
naming: { identifiers: camelCase }
types:
  - match: { type: datetime }
  - match: { column: "*.id" }
    to: uuid
    transfrom: hex_to_uuid
indexes:
  - { table: users, columns: email, unique: yes }
steps:
  - { sql: "analyze", after: load }
filters:
  orders: 42
columns:
  users.email: { nullable: "no", to: text }
workers: 4
"#;
    insta::assert_snapshot!(load_err(text).render());
}

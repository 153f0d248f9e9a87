//! `decant init`: a starter plan from an introspected, profiled source. Every column's inferred
//! mapping is stated; lossy or ambiguous columns are flagged and given an explicit entry.

use std::fmt::Write as _;

use crate::catalog::{Catalog, Column, ColumnProfile, Engine, Table};
use crate::introspect::postgres::{TargetColumn, TargetSchema};
use crate::mapping::mysql::{narrowing, Narrowing};
use crate::mapping::target_types::TypeFamily;
use crate::mapping::types::classes;
use crate::mapping::{default_mapping, TypeDecision};
use crate::plan::model::IdentifierCase;

/// What `init` proposes for one column beyond the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub to: String,
    pub transform: Option<&'static str>,
    pub why: String,
    /// Written as an active choice; otherwise as a commented suggestion a reviewer may take.
    pub active: bool,
}

/// A column's values suggest a better mapping than its declaration: epoch integers in a
/// DATETIME, UUID or JSON text, 0/1 in a `TINYINT(1)` (Rails) column.
pub fn propose(column: &Column, decision: &TypeDecision) -> Option<Proposal> {
    let p = column.profile.as_ref()?;
    let n = p.non_null();
    if n == 0 {
        return None;
    }
    let family = decision.target.family();
    if p.unfit > 0 {
        return unfit_proposal(p, decision, family);
    }
    let temporal = matches!(
        family,
        TypeFamily::Timestamp | TypeFamily::TimestampTz | TypeFamily::Date
    );
    if temporal && p.integers == n {
        let (transform, unit) = if p.max_integer.is_some_and(|m| m.abs() > 100_000_000_000) {
            ("epoch_ms_to_timestamptz", "milliseconds")
        } else {
            ("epoch_s_to_timestamptz", "seconds")
        };
        return Some(Proposal { to: "timestamptz".into(), transform: Some(transform), why: format!("every value is an integer: epoch {unit} (Prisma and many apps store dates this way)"), active: true });
    }
    if temporal && p.reals == n {
        return Some(Proposal {
            to: "timestamptz".into(),
            transform: Some("julian_to_timestamp"),
            why: "every value is a real: Julian day numbers".into(),
            active: true,
        });
    }
    if family == TypeFamily::Text && p.texts == n {
        if p.hex32_texts == n {
            return Some(Proposal {
                to: "uuid".into(),
                transform: Some("hex_to_uuid"),
                why: "every value is 32 hex digits: a UUID without dashes".into(),
                active: true,
            });
        }
        if p.uuid_texts == n {
            return Some(Proposal {
                to: "uuid".into(),
                transform: Some("hex_to_uuid"),
                why: "every value is a UUID (Sequelize, Django and Prisma store them as text)"
                    .into(),
                active: true,
            });
        }
        if p.json_texts == n {
            // Only a column the source declares as JSON becomes jsonb by itself: an app reads
            // a TEXT column as a string (Django's admin log `change_message`), and jsonb
            // comes back as a parsed object.
            return Some(Proposal {
                to: "jsonb".into(),
                transform: Some("json_to_jsonb"),
                why: "every value is a JSON object or array, but the column is declared as text: jsonb only if the app reads it as JSON".into(),
                active: false,
            });
        }
        if p.ip_texts == n {
            return Some(Proposal {
                to: "inet".into(),
                transform: None,
                why: "every value is an IP address (Django's GenericIPAddressField stores them as text)".into(),
                active: true,
            });
        }
    }
    if family == TypeFamily::Integer
        && p.integers == n
        && names_a_microsecond_duration(&column.name)
    {
        return Some(Proposal {
            to: "interval".into(),
            transform: Some("microseconds_to_interval"),
            why: "integers in a column named like a duration: Django's DurationField stores microseconds (check the unit before accepting)".into(),
            active: true
        });
    }
    let declared = column.declared_type.to_uppercase().replace(' ', "");
    if (declared == "TINYINT(1)" || declared == "BIT" || declared == "BIT(1)")
        && p.integers == n
        && p.zero_one_integers == n
    {
        return Some(Proposal {
            to: "boolean".into(),
            transform: Some("to_boolean"),
            why: "a TINYINT(1)/BIT column holding only 0 and 1: a boolean (Rails, MySQL exports)"
                .into(),
            active: true,
        });
    }
    None
}

/// `duration`, `trial_duration`, `elapsedMicros`, `timeout_us`: a name that says duration and
/// either says microseconds or no unit at all (`duration_seconds`, `timeoutMs` say otherwise).
fn names_a_microsecond_duration(name: &str) -> bool {
    const MICROS: &str = "us usec usecs micros microsecond microseconds";
    const OTHER_UNITS: &str = "s sec secs second seconds ms msec millis millisecond milliseconds \
        ns nanos nanoseconds min mins minute minutes h hour hours day days weeks months years";
    const DURATIONS: &str = "duration elapsed interval timeout ttl runtime uptime";
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in name.chars() {
        if (matches!(c, '_' | '-' | ' ') || c.is_uppercase()) && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        }
    }
    words.push(word);
    let has = |list: &str| {
        words
            .iter()
            .any(|w| list.split_whitespace().any(|x| x == w))
    };
    (has(MICROS) || has(DURATIONS)) && !has(OTHER_UNITS)
}

/// Why a column is flagged for review even when nothing better can be proposed.
fn flag(column: &Column, decision: &TypeDecision, p: &ColumnProfile) -> Vec<String> {
    let mut flags = decision.warnings.clone();
    if p.storage_classes() > 1 && !flags.iter().any(|f| f.contains("mixed storage")) {
        flags.push(format!("mixed storage classes: {}", classes(p)));
    }
    if column.declared_type.is_empty() && !flags.iter().any(|f| f.contains("declared type")) {
        flags.push("no declared type: decided from the values".into());
    }
    flags
}

/// What to do with values a MySQL column's target type cannot hold; a commented suggestion,
/// since NULL, a sentinel or a bad row is the team's decision.
fn unfit_proposal(
    p: &ColumnProfile,
    decision: &TypeDecision,
    family: TypeFamily,
) -> Option<Proposal> {
    let kind = p.unfit_kind.as_deref().unwrap_or_default();
    match family {
        TypeFamily::Date | TypeFamily::Timestamp | TypeFamily::TimestampTz
            if kind.contains("zero date") =>
        {
            Some(Proposal {
                to: decision.target.sql(),
                transform: Some(if family == TypeFamily::Date {
                    "\"{{ value | nullif('0000-00-00') }}\""
                } else {
                    "\"{{ value | nullif('0000-00-00 00:00:00') }}\""
                }),
                why: format!(
                    "{} zero date(s): NULL instead of bad rows (or keep them as bad rows, or map a sentinel)",
                    p.unfit
                ),
                active: false,
            })
        }
        TypeFamily::Boolean => Some(Proposal {
            to: "smallint".into(),
            transform: None,
            why: format!("{} value(s) other than 0 and 1: smallint keeps them", p.unfit),
            active: false,
        }),
        _ => None,
    }
}

fn yaml_key(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && !text.is_empty()
    {
        text.to_owned()
    } else {
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// `version`, `name`, `source` and the start of `target` (its URL) of a starter plan.
fn write_head(out: &mut String, name: &str, source_url: &str, target_url: &str) {
    let _ = writeln!(out, "version: 1");
    let _ = writeln!(out, "name: {}", yaml_key(name));
    let _ = writeln!(
        out,
        "source:\n  url: {}{}",
        yaml_key(source_url),
        if source_url.starts_with("sqlite:") {
            "  # relative to this file"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "target:\n  url: \"{}\"",
        target_url.replace('"', "\\\"")
    );
}

/// Writes the starter plan text.
/// `postgis`: PostGIS is installed in the target database, so a MySQL spatial column is
/// proposed as `geometry` (its SRID kept) rather than left as WKB in `bytea`.
pub fn starter_plan(
    catalog: &Catalog,
    name: &str,
    source_url: &str,
    target_url: &str,
    postgis: bool,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# decant plan, started by `decant init`. Review it like code: every column's mapping is"
    );
    let _ = writeln!(
        out,
        "# stated below; entries under `columns:` are the ones decant flagged for a decision."
    );
    let _ = writeln!(
        out,
        "# Reference: schemas/plan.schema.json (point your editor's YAML language server at it)."
    );
    write_head(&mut out, name, source_url, target_url);
    let _ = writeln!(out, "  schema: public");
    // Values that will not convert make `stop` end the first run: start with `reject`, so the
    // run goes through and lists them (their child rows are rejected with them). When the
    // profile found none, `stop`: a bad value that turns up later is a surprise a reviewer
    // wants to hear about before the run goes on, not a row set aside among the rejects.
    let bad_rows = catalog.tables.iter().any(|t| {
        t.columns.iter().any(|c| {
            c.profile.as_ref().is_some_and(|p| {
                flag(c, &default_mapping(catalog.engine, t, c), p)
                    .iter()
                    .any(|f| f.contains("bad row"))
            })
        })
    });
    let on_bad_row = if bad_rows {
        "reject      # stop | reject — some values flagged below will not convert: they are listed, with their child rows"
    } else {
        "stop        # stop | reject — the profile found no value that will not convert: one that turns up at run time stops the run (its table rolls back)"
    };
    let _ = writeln!(out, "settings:\n  if_exists: fail       # fail | drop | truncate | append\n  on_bad_row: {on_bad_row}\n  constraints: after_load\n  workers: 2");
    let _ = writeln!(
        out,
        "naming:\n  identifiers: preserve # preserve | snake_case | lower"
    );
    let _ = writeln!(out, "tables:\n  include: [\"*\"]");
    let mut entries = String::new();
    let mut summary = String::new();
    for table in &catalog.tables {
        write_table_summary(catalog.engine, table, postgis, &mut summary, &mut entries);
    }
    let _ = writeln!(
        out,
        "\n# Inferred mapping of every column (declared type → target type, and the rule):"
    );
    out.push_str(&summary);
    if entries.is_empty() {
        let _ = writeln!(
            out,
            "\n# No column needs a decision: the defaults above are used."
        );
    } else if entries.lines().all(|l| l.trim_start().starts_with('#')) {
        // Only warnings: an empty mapping, or the plan would not load.
        let _ = writeln!(out, "\ncolumns: {{}}");
        out.push_str(&entries);
    } else {
        let _ = writeln!(out, "\ncolumns:");
        out.push_str(&entries);
    }
    if !catalog.views.is_empty() {
        // Views are carried: rewritten for PostgreSQL and made after the tables. What
        // PostgreSQL refuses even so is only known on a PostgreSQL: `plan` asks the target.
        let _ = writeln!(out, "\n# Views, carried: each is made after the tables from its SELECT rewritten for PostgreSQL;");
        let _ = writeln!(out, "# `decant plan` lists one it cannot rewrite and warns of one PostgreSQL refuses (made on the");
        let _ = writeln!(
            out,
            "# target in a transaction it rolls back), with its reason; a run reports such a view as not carried:"
        );
        for v in &catalog.views {
            let _ = writeln!(out, "#   view `{}`", v.name);
        }
    }
    if !catalog.triggers.is_empty() {
        let _ = writeln!(
            out,
            "\n# Not carried; recreate them with a `steps:` entry if the target needs them:"
        );
        for t in &catalog.triggers {
            let _ = writeln!(out, "#   trigger `{}` on `{}`", t.name, t.table);
        }
    }
    let _ = writeln!(
        out,
        "\nchecks:\n  - row_counts: all\n  - checksums: all\n  - foreign_keys: all"
    );
    out
}

fn write_table_summary(
    engine: Engine,
    table: &Table,
    postgis: bool,
    summary: &mut String,
    entries: &mut String,
) {
    let _ = writeln!(
        summary,
        "#\n# {} ({} rows{})",
        table.name,
        table.row_count,
        if table.without_rowid && engine == Engine::Sqlite {
            ", WITHOUT ROWID"
        } else {
            ""
        }
    );
    for column in &table.columns {
        let decision = default_mapping(engine, table, column);
        let proposal = propose(column, &decision).or_else(|| {
            (postgis
                && engine == Engine::Mysql
                && crate::mapping::mysql::is_spatial(&column.declared_type))
            .then(|| Proposal {
                to: "geometry".into(),
                transform: None,
                why: "PostGIS is installed in the target database: `geometry` keeps the value and its SRID".into(),
                active: true,
            })
        });
        let flags = column
            .profile
            .as_ref()
            .map(|p| flag(column, &decision, p))
            .unwrap_or_default();
        let declared = if column.declared_type.is_empty() {
            "(none)"
        } else {
            column.declared_type.as_str()
        };
        let identity = if table.rowid_alias.as_deref() == Some(column.name.as_str()) {
            " identity"
        } else {
            ""
        };
        let marker = if proposal.is_some() || !flags.is_empty() {
            "  <- FLAGGED, see `columns:`"
        } else {
            ""
        };
        let _ = writeln!(
            summary,
            "#   {:<24} {:<16} → {}{identity}  [{}]{marker}",
            column.name,
            declared,
            decision.target.sql(),
            decision.rule
        );
        if proposal.is_none() && flags.is_empty() {
            continue;
        }
        let key = yaml_key(&format!("{}.{}", table.name, column.name));
        for f in &flags {
            let _ = writeln!(entries, "  # {}", f.replace('\n', " "));
        }
        match proposal {
            Some(p) if p.active => {
                let _ = writeln!(entries, "  # proposed: {}", p.why);
                let transform = p
                    .transform
                    .map(|t| format!(", transform: {t}"))
                    .unwrap_or_default();
                let _ = writeln!(entries, "  {key}: {{ to: {}{transform} }}", yaml_key(&p.to));
            }
            Some(p) => {
                // A suggestion only: the default stays, the alternative is one uncomment away.
                let transform = p
                    .transform
                    .map(|t| format!(", transform: {t}"))
                    .unwrap_or_default();
                let _ = writeln!(entries, "  # {}; to take it:", p.why);
                let _ = writeln!(
                    entries,
                    "  #   {key}: {{ to: {}{transform} }}",
                    yaml_key(&p.to)
                );
                let _ = writeln!(
                    entries,
                    "  {key}: {{ to: \"{}\" }}  # the default, stated so a reviewer decides",
                    decision.target.sql()
                );
            }
            None => {
                let _ = writeln!(
                    entries,
                    "  {key}: {{ to: \"{}\" }}  # the default, stated so a reviewer decides",
                    decision.target.sql()
                );
            }
        }
    }
}

/// Tables an app's migrator keeps for itself (which migrations ran): never merged from the
/// source when the app's schema has its own.
pub const BOOKKEEPING_TABLES: &[&str] = &[
    "django_migrations",
    "_prisma_migrations",
    "SequelizeMeta",
    "schema_migrations",
    "ar_internal_metadata",
    "__diesel_schema_migrations",
    "knex_migrations",
    "knex_migrations_lock",
];

/// What the app's schema looks like to `init --app-schema`: its tables, and those its
/// migrator already filled (with their row counts).
pub struct AppSide<'a> {
    pub schema: &'a TargetSchema,
    pub filled: &'a [(String, i64)],
    /// The snapshot file the plan names, relative to the plan.
    pub snapshot_file: &'a str,
    /// Values of the source the app's column types narrow, as the profile counted them:
    /// source table, column, how many values, and what they are.
    pub narrowed: &'a [(String, String, u64, Narrowing)],
}

/// The source columns whose values the app's column types may narrow (a MySQL DATETIME into
/// `date`, text into a shorter `varchar(n)`, a number into a smaller integer), matched to the
/// app's tables and columns by the naming rule the plan will use; the profile counts them.
pub fn narrowing_candidates(
    catalog: &Catalog,
    schema: &TargetSchema,
) -> Vec<(String, Vec<(String, Narrowing)>)> {
    if catalog.engine != Engine::Mysql {
        return Vec::new();
    }
    let (case, _) = app_naming(catalog, schema);
    let app_name = |name: &str| crate::naming::apply_case(name, case);
    catalog
        .tables
        .iter()
        .filter_map(|table| {
            let app_table = schema.table(&app_name(&table.name))?;
            let tests: Vec<(String, Narrowing)> = table
                .columns
                .iter()
                .filter_map(|c| {
                    let app_column = app_table.column(&app_name(&c.name))?;
                    let target = crate::resolve::app_target_type(app_column)?;
                    narrowing(&c.declared_type, &c.name, &target).map(|n| (c.name.clone(), n))
                })
                .collect();
            (!tests.is_empty()).then(|| (table.name.clone(), tests))
        })
        .collect()
}

/// `settings.app_triggers` for tables with a NOT NULL column, without a default, that no
/// source column fills and a trigger of the app's does: decant turns the app's triggers off for
/// a load, so the plan proposes to keep them on there, for the reviewer to accept.
fn write_kept_triggers(
    out: &mut String,
    catalog: &Catalog,
    app: &crate::introspect::postgres::TargetSchema,
    app_name: &dyn Fn(&str) -> String,
) {
    let mut kept = Vec::new();
    for table in &catalog.tables {
        let Some(app_table) = app.table(&app_name(&table.name)) else {
            continue;
        };
        let needs: Vec<&str> = app_table
            .columns
            .iter()
            .filter(|c| {
                !c.fills_itself()
                    && app_table.trigger_filled.contains(&c.name)
                    && !table.columns.iter().any(|s| app_name(&s.name) == c.name)
            })
            .map(|c| c.name.as_str())
            .collect();
        if !needs.is_empty() {
            kept.push((table.name.as_str(), needs));
        }
    }
    if kept.is_empty() {
        return;
    }
    let _ = writeln!(out, "  # The app's triggers fill these NOT NULL columns, which no source column fills; they stay");
    let _ = writeln!(
        out,
        "  # on during these tables' loads and syncs and fire for every row (the load is slower)."
    );
    let _ = writeln!(out, "  app_triggers:");
    for (table, columns) in kept {
        let _ = writeln!(
            out,
            "    {}: keep   # fills {}",
            yaml_key(table),
            columns.join(", ")
        );
    }
}

/// A starter plan that loads the source into the app's schema: `target.owner: app`, every
/// source table matched to the app's (or left out, saying why), and transforms proposed where
/// a value's meaning depends on the app's column type.
pub fn starter_plan_for_app(
    catalog: &Catalog,
    app: &AppSide<'_>,
    name: &str,
    source_url: &str,
    target_url: &str,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# decant plan, started by `decant init --app-schema`: the app's migrator makes the schema,");
    let _ = writeln!(
        out,
        "# decant loads the source into it. Checked against `{}` (the app's schema, written",
        app.snapshot_file
    );
    let _ = writeln!(
        out,
        "# by init; refresh it with `decant snapshot`). Review it like code."
    );
    write_head(&mut out, name, source_url, target_url);
    let _ = writeln!(
        out,
        "  schema: {}\n  owner: app\n  snapshot: {}",
        yaml_key(&app.schema.schema),
        yaml_key(app.snapshot_file)
    );
    let _ = writeln!(out, "settings:\n  if_exists: fail       # the app's tables must be empty; truncate | append otherwise\n  on_bad_row: reject    # a value that does not fit the app's column is a rejected row\n  workers: 2");
    let (case, matched) = app_naming(catalog, app.schema);
    let app_name = |name: &str| crate::naming::apply_case(name, case);
    write_kept_triggers(&mut out, catalog, app.schema, &app_name);
    let _ = writeln!(
        out,
        "naming:\n  identifiers: {} # preserve | snake_case | lower: {}",
        case_name(case),
        if matched == 0 {
            "no rule matches a source table with one of the app's".to_owned()
        } else {
            format!(
                "the rule under which the most source tables and columns ({matched}) have the app's names"
            )
        }
    );
    let django = catalog.tables.iter().any(|t| t.name == "django_migrations");
    let mut excluded: Vec<(String, String)> = Vec::new();
    let mut entries = String::new();
    for table in &catalog.tables {
        if table.name.starts_with("sqlite_") {
            continue;
        }
        let Some(app_table) = app.schema.table(&app_name(&table.name)) else {
            excluded.push((
                table.name.clone(),
                format!(
                    "not in the app's schema as `{}` (rename it with `tables.rename` to load it)",
                    app_name(&table.name)
                ),
            ));
            continue;
        };
        if let Some((_, rows)) = app.filled.iter().find(|(t, _)| *t == app_table.name) {
            let why = if BOOKKEEPING_TABLES.contains(&table.name.as_str()) {
                format!("the app's migration bookkeeping: its migrator keeps its own ({rows} row(s)); never merged")
            } else {
                format!("the app's migrator already filled it ({rows} row(s)): its own rows, not merged with the source's")
            };
            excluded.push((table.name.clone(), why));
            continue;
        }
        if BOOKKEEPING_TABLES.contains(&table.name.as_str()) {
            excluded.push((
                table.name.clone(),
                "the app's migration bookkeeping: the app's schema has its own".to_owned(),
            ));
            continue;
        }
        for column in &table.columns {
            let key = yaml_key(&format!("{}.{}", table.name, column.name));
            let Some(app_column) = app_table.column(&app_name(&column.name)) else {
                let _ = writeln!(
                    entries,
                    "  # `{}` has no column `{}` in the app's schema: left out",
                    table.name, column.name
                );
                let _ = writeln!(entries, "  {key}: {{ skip: true }}");
                continue;
            };
            if let Some((transform, why)) = app_transform(column, app_column, django) {
                let _ = writeln!(entries, "  # {why}");
                let _ = writeln!(entries, "  {key}: {{ transform: {transform} }}");
            } else if let Some((_, _, found, n)) = app
                .narrowed
                .iter()
                .find(|(t, c, found, _)| *t == table.name && *c == column.name && *found > 0)
            {
                // Values that would be bad rows: a named transform is proposed for the reviewer
                // to accept (uncomment), never applied unseen; otherwise the warning.
                let what = format!(
                    "{found} value(s) of `{}.{}` {}",
                    table.name, column.name, n.what
                );
                match n.transform {
                    Some(t) => {
                        let _ = writeln!(
                            entries,
                            "  # {what}; to accept `{t}`{}, take the line below instead  <- FLAGGED",
                            if t == "datetime_to_date" {
                                " (keeps the calendar date of the source's wall clock, drops the time)"
                            } else {
                                ""
                            }
                        );
                        let _ = writeln!(entries, "  #   {key}: {{ transform: {t} }}");
                        let _ = writeln!(
                            entries,
                            "  {key}: {{}}  # no transform: those values are bad rows"
                        );
                    }
                    None => {
                        let _ = writeln!(entries, "  # WARNING: {what}  <- FLAGGED");
                    }
                }
            }
        }
        for app_column in &app_table.columns {
            let filled = table
                .columns
                .iter()
                .any(|c| app_name(&c.name) == app_column.name);
            // A column the app's trigger fills is proposed under `settings.app_triggers`.
            let by_trigger = app_table.trigger_filled.contains(&app_column.name);
            if !filled && !app_column.fills_itself() && !by_trigger {
                let _ = writeln!(entries, "  # WARNING: `{}`.`{}` is NOT NULL without a default and no source column fills it: map one onto it with `rename`", app_table.name, app_column.name);
            }
        }
    }
    let _ = writeln!(out, "tables:\n  include: [\"*\"]");
    let mut exclude = vec!["\"sqlite_*\"".to_owned()];
    exclude.extend(excluded.iter().map(|(t, _)| yaml_key(t)));
    for (table, why) in &excluded {
        let _ = writeln!(out, "  # `{table}`: {why}");
    }
    let _ = writeln!(out, "  exclude: [{}]", exclude.join(", "));
    if entries.is_empty() {
        let _ = writeln!(
            out,
            "\n# Every value converts to the app's column types by itself."
        );
    } else if entries.lines().all(|l| l.trim_start().starts_with('#')) {
        // Only warnings and proposals to accept: an empty mapping, or the plan would not load.
        let _ = writeln!(out, "\ncolumns: {{}}");
        out.push_str(&entries);
    } else {
        let _ = writeln!(out, "\ncolumns:");
        out.push_str(&entries);
    }
    write_migrator_step(&mut out, app.schema);
    let _ = writeln!(
        out,
        "\nchecks:\n  - row_counts: all\n  - checksums: all\n  - foreign_keys: all"
    );
    out
}

/// The naming rule under which the source's tables and their columns have the app's names
/// most often (a Rails or Django schema is snake_case, a MySQL source often `Customers`), with
/// how many tables and columns match under it; `preserve` on a tie.
fn app_naming(catalog: &Catalog, schema: &TargetSchema) -> (IdentifierCase, usize) {
    use crate::naming::apply_case;
    [
        IdentifierCase::Preserve,
        IdentifierCase::Lower,
        IdentifierCase::SnakeCase,
    ]
    .into_iter()
    .map(|case| {
        let matched: usize = catalog
            .tables
            .iter()
            .filter_map(|t| Some((t, schema.table(&apply_case(&t.name, case))?)))
            .map(|(t, app)| {
                1 + t
                    .columns
                    .iter()
                    .filter(|c| app.column(&apply_case(&c.name, case)).is_some())
                    .count()
            })
            .sum();
        (case, matched)
    })
    .fold((IdentifierCase::Preserve, 0), |best, this| {
        if this.1 > best.1 {
            this
        } else {
            best
        }
    })
}

fn case_name(case: IdentifierCase) -> &'static str {
    match case {
        IdentifierCase::Preserve => "preserve",
        IdentifierCase::SnakeCase => "snake_case",
        IdentifierCase::Lower => "lower",
    }
}

/// The app's migrator, guessed from the bookkeeping table its schema has, as a commented
/// `run:` step: decant runs nothing the reviewed plan does not say.
fn write_migrator_step(out: &mut String, schema: &TargetSchema) {
    const MIGRATORS: &[(&str, &str)] = &[
        ("django_migrations", "python manage.py migrate --noinput"),
        ("_prisma_migrations", "npx prisma migrate deploy"),
        ("SequelizeMeta", "npx sequelize-cli db:migrate"),
        ("ar_internal_metadata", "bin/rails db:migrate"),
        ("knex_migrations", "npx knex migrate:latest"),
        ("schema_migrations", "<your migrator>"),
    ];
    let command = MIGRATORS
        .iter()
        .find(|(table, _)| schema.table(table).is_some())
        .map_or("<your migrator>", |(_, command)| *command);
    let _ = writeln!(
        out,
        "\n# The app's migrator makes the schema first, in the target the run is given (DATABASE_URL\n# and PG* are set for it). Uncomment and check the command; it must be safe to run twice.\n# steps:\n#   - {{ id: migrate, run: \"{command}\", before: [load] }}"
    );
}

/// The transform a source column needs to become the app's column, when its values alone do
/// not say (a number that counts some unit); with why.
fn app_transform(
    column: &Column,
    app_column: &TargetColumn,
    django: bool,
) -> Option<(&'static str, String)> {
    let p = column.profile.as_ref()?;
    let n = p.non_null();
    if n == 0 || p.integers != n {
        return None;
    }
    let app_type = app_column.base_type.as_str();
    if app_type == "interval" {
        return Some(if django || names_a_microsecond_duration(&column.name) {
            (
                "microseconds_to_interval",
                format!(
                    "integers into the app's `interval`: microseconds{}",
                    if django {
                        " (Django's DurationField)"
                    } else {
                        ""
                    }
                ),
            )
        } else {
            (
                "microseconds_to_interval",
                "integers into the app's `interval`: CHECK THE UNIT (microseconds assumed)"
                    .to_owned(),
            )
        });
    }
    if app_type.starts_with("timestamp") || app_type == "date" {
        let ms = p.max_integer.is_some_and(|m| m.abs() > 100_000_000_000);
        return Some(if ms {
            (
                "epoch_ms_to_timestamptz",
                format!("integers into the app's `{app_type}`: epoch milliseconds"),
            )
        } else {
            (
                "epoch_s_to_timestamptz",
                format!("integers into the app's `{app_type}`: epoch seconds"),
            )
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profiled(declared: &str, profile: ColumnProfile) -> Column {
        Column {
            name: "c".into(),
            declared_type: declared.into(),
            profile: Some(profile),
            ..Column::default()
        }
    }

    fn proposal(c: &Column) -> Option<Proposal> {
        propose(c, &default_mapping(Engine::Sqlite, &Table::default(), c))
    }

    #[test]
    fn epoch_milliseconds_in_datetime_columns_get_the_matching_transform() {
        let c = profiled(
            "DATETIME",
            ColumnProfile {
                rows: 2,
                integers: 2,
                max_integer: Some(1_700_000_000_000),
                ..ColumnProfile::default()
            },
        );
        assert_eq!(
            proposal(&c).and_then(|p| p.transform),
            Some("epoch_ms_to_timestamptz")
        );
        let c = profiled(
            "DATETIME",
            ColumnProfile {
                rows: 2,
                integers: 2,
                max_integer: Some(1_700_000_000),
                ..ColumnProfile::default()
            },
        );
        assert_eq!(
            proposal(&c).and_then(|p| p.transform),
            Some("epoch_s_to_timestamptz")
        );
    }

    #[test]
    fn uuid_and_json_text_are_proposed_as_uuid_and_jsonb() {
        let c = profiled(
            "TEXT",
            ColumnProfile {
                rows: 3,
                texts: 3,
                hex32_texts: 3,
                ..ColumnProfile::default()
            },
        );
        assert_eq!(proposal(&c).map(|p| p.to), Some("uuid".to_owned()));
        let c = profiled(
            "",
            ColumnProfile {
                rows: 3,
                texts: 3,
                json_texts: 3,
                ..ColumnProfile::default()
            },
        );
        // Suggested, not chosen: the column is declared as text.
        let json = proposal(&c).unwrap();
        assert_eq!((json.to.as_str(), json.active), ("jsonb", false));
        let c = profiled(
            "TEXT",
            ColumnProfile {
                rows: 3,
                texts: 3,
                json_texts: 2,
                ..ColumnProfile::default()
            },
        );
        assert_eq!(proposal(&c), None);
    }

    #[test]
    fn integer_durations_without_another_unit_are_proposed_as_intervals() {
        for name in ["duration", "trial_duration", "elapsedMicros", "timeout_us"] {
            assert!(names_a_microsecond_duration(name), "{name}");
        }
        for name in [
            "duration_seconds",
            "timeoutMs",
            "ttl_days",
            "user_id",
            "durable",
        ] {
            assert!(!names_a_microsecond_duration(name), "{name}");
        }
        let c = Column {
            name: "trial_duration".into(),
            ..profiled(
                "bigint",
                ColumnProfile {
                    rows: 2,
                    integers: 2,
                    ..ColumnProfile::default()
                },
            )
        };
        assert_eq!(
            proposal(&c).and_then(|p| p.transform),
            Some("microseconds_to_interval")
        );
    }

    #[test]
    fn rails_tinyint_booleans_are_proposed_as_boolean() {
        let c = profiled(
            "tinyint(1)",
            ColumnProfile {
                rows: 3,
                integers: 3,
                zero_one_integers: 3,
                ..ColumnProfile::default()
            },
        );
        assert_eq!(proposal(&c).map(|p| p.to), Some("boolean".to_owned()));
    }
}

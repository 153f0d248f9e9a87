//! `decant init --app-schema`: the starter plan for a target whose schema an app's migrator
//! made — its tables matched by name, the app's column types, the values they would narrow.

use std::fmt::Write as _;

use super::{names_a_microsecond_duration, write_head, yaml_key};
use crate::catalog::{Catalog, Column};
use crate::engines::mysql::types::{narrowing, Narrowing};
use crate::engines::postgres::introspect::{TargetColumn, TargetSchema};
use crate::plan::model::IdentifierCase;

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
    pub filled: &'a [(String, u64)],
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
    if !catalog.engine.declares_narrowable_types() {
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
    app: &crate::engines::postgres::introspect::TargetSchema,
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

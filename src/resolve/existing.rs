//! Fitting the resolved plan onto a schema the app owns: every carried table and column found
//! in it, values converted to its real types, and every disagreement a located plan problem.

use crate::catalog::Catalog;
use crate::doc_path;
use crate::engines::postgres::introspect::{TargetColumn, TargetSchema, TargetTable};
use crate::engines::postgres::TargetType;
use crate::engines::postgres::{parse_target_type, TypeFamily};
use crate::plan::diagnostic::did_you_mean;
use crate::plan::model::{AppTriggers, ExistingKeys, IfExists, OnBadRow, OrphanPolicy, Plan};
use crate::plan::Diagnostic;
use crate::transform::Transform;

use super::{AppKey, Identity, ResolvedColumn, ResolvedForeignKey, ResolvedPlan, ResolvedTable};

/// Replaces decant's own decisions with the app's schema: column types, nullability, defaults,
/// identities and foreign keys come from `app`; decant makes no keys, indexes or views.
pub fn fit_to_app_schema(
    plan: &Plan,
    catalog: &Catalog,
    resolved: &mut ResolvedPlan,
    app: &TargetSchema,
    problems: &mut Vec<Diagnostic>,
) {
    if plan.settings.if_exists == IfExists::Drop {
        problems.push(
            Diagnostic::error(
                doc_path!["settings", "if_exists"],
                "`if_exists: drop` would drop the app's tables, which `target.owner: app` leaves to the app",
            )
            .with_help("use `truncate` (empty them, in one statement) or `append` (keep their rows)"),
        );
    }
    if plan.settings.orphans == OrphanPolicy::SkipConstraint {
        problems.push(
            Diagnostic::error(
                doc_path!["settings", "orphans"],
                "`orphans: skip_constraint` would leave out a foreign key, and the app's are in place before the load",
            )
            .with_help("use `reject` (orphan rows become rejects) or `fail`"),
        );
    }
    if plan.settings.existing_keys == ExistingKeys::Keep
        && plan.settings.on_bad_row == OnBadRow::Reject
        && app.tables.iter().any(|t| t.foreign_keys().next().is_some())
    {
        problems.push(
            Diagnostic::warning(
                doc_path!["settings", "existing_keys"],
                "with the app's foreign keys in place during the load (`existing_keys: keep`), a child row whose parent row was rejected stops its table's load instead of being rejected with it",
            )
            .with_help("use `existing_keys: rebuild` (the default): the foreign keys come back after the rejected rows' children are rejected too"),
        );
    }
    let carried: Vec<(String, String)> = resolved
        .tables
        .iter()
        .map(|t| (t.source.clone(), t.target.clone()))
        .collect();
    for name in plan.settings.app_triggers.keys() {
        if !carried.iter().any(|(source, _)| source == name) {
            let near = did_you_mean(name, carried.iter().map(|(s, _)| s.as_str()));
            problems.push(
                Diagnostic::error(
                    doc_path!["settings", "app_triggers", name],
                    format!("`settings.app_triggers` names `{name}`, which is not a carried source table"),
                )
                .with_help(near.unwrap_or_else(|| "name a source table the plan carries".to_owned())),
            );
        }
    }
    // A key that a foreign key of a table decant does not load depends on cannot be dropped
    // for the load: PostgreSQL refuses, and that table's rows stay as they are anyway.
    let referenced_from_outside: Vec<&str> = app
        .tables
        .iter()
        .filter(|t| !carried.iter().any(|(_, target)| *target == t.name))
        .flat_map(|t| {
            t.foreign_keys()
                .filter_map(|fk| fk.referenced_table.as_deref())
        })
        .collect();
    for table in &mut resolved.tables {
        let Some(app_table) = app.table(&table.target) else {
            problems.push(missing_table(plan, table, app));
            continue;
        };
        let keys_stay = referenced_from_outside.contains(&table.target.as_str());
        fit_table(
            plan, catalog, table, app_table, &carried, keys_stay, problems,
        );
    }
    // `existing_keys: keep` and a foreign-key cycle: with the keys in place no table of the
    // cycle can be loaded first, so the cycle's foreign keys go for the load and come back
    // once every table of the cycle is loaded and keyed, as on the created-schema route.
    if plan.settings.existing_keys == ExistingKeys::Keep {
        let cyclic: Vec<String> = super::cyclic_tables(resolved)
            .into_iter()
            .map(str::to_owned)
            .collect();
        for table in resolved
            .tables
            .iter_mut()
            .filter(|t| cyclic.contains(&t.source))
        {
            let Some(app_table) = app.table(&table.target) else {
                continue;
            };
            let names: Vec<String> = table
                .foreign_keys
                .iter()
                .map(|fk| fk.name.clone())
                .collect();
            table.app_rebuilt = app_table
                .foreign_keys()
                .filter(|c| names.contains(&c.name))
                .map(|c| AppKey {
                    name: c.name.clone(),
                    kind: "foreign_key".to_owned(),
                    definition: c.definition.clone(),
                })
                .collect();
        }
    }
    for view in resolved.views.drain(..) {
        resolved.notes.push(format!(
            "view `{}` is not carried: with `target.owner: app` the app's migrator makes the schema",
            view.source
        ));
    }
}

fn missing_table(plan: &Plan, table: &ResolvedTable, app: &TargetSchema) -> Diagnostic {
    let path = if plan.tables.rename.contains_key(&table.source) {
        doc_path!["tables", "rename", &table.source]
    } else {
        doc_path!["target", "owner"]
    };
    let near = did_you_mean(&table.target, app.tables.iter().map(|t| t.name.as_str()));
    Diagnostic::error(
        path,
        format!(
            "source table `{}` would load into `{}`, which the app's schema `{}` does not have",
            table.source, table.target, app.schema
        ),
    )
    .with_help(format!(
        "{}rename it with `tables.rename: {{ {}: <app table> }}`, or leave it out with `tables.exclude`",
        near.map(|n| format!("{n} ")).unwrap_or_default(),
        table.source
    ))
}

fn fit_table(
    plan: &Plan,
    catalog: &Catalog,
    table: &mut ResolvedTable,
    app_table: &TargetTable,
    carried: &[(String, String)],
    keys_stay: bool,
    problems: &mut Vec<Diagnostic>,
) {
    let source_table = catalog.tables.iter().find(|t| t.name == table.source);
    for column in &mut table.columns {
        let key = format!("{}.{}", table.source, column.source);
        let Some(app_column) = app_table.column(&column.target) else {
            let near = did_you_mean(
                &column.target,
                app_table.columns.iter().map(|c| c.name.as_str()),
            );
            problems.push(
                Diagnostic::error(
                    column_path(plan, &key),
                    format!(
                        "column `{}` of `{}` would load into `{}`.`{}`, which the app's table does not have",
                        column.source, table.source, app_table.name, column.target
                    ),
                )
                .with_help(format!(
                    "{}rename it with `columns.{key}.rename`, or leave it out with `columns.{key}.skip: true`",
                    near.map(|n| format!("{n} ")).unwrap_or_default()
                )),
            );
            continue;
        };
        let source_column =
            source_table.and_then(|t| t.columns.iter().find(|c| c.name == column.source));
        let declared = source_column.map_or("", |c| c.declared_type.as_str());
        fit_column(plan, &key, declared, column, app_column, problems);
    }
    // NOT NULL columns of the app's that no source column fills and PostgreSQL cannot fill
    // (a trigger of the app's fills it only when its triggers stay on).
    let triggers_kept = plan.settings.app_triggers.get(&table.source) == Some(&AppTriggers::Keep);
    for app_column in &app_table.columns {
        let filled = table.columns.iter().any(|c| c.target == app_column.name);
        let by_trigger = app_table.trigger_filled.contains(&app_column.name);
        if !filled && !app_column.fills_itself() && by_trigger && !triggers_kept {
            problems.push(
                Diagnostic::error(
                    doc_path!["settings", "app_triggers"],
                    format!(
                        "column `{}`.`{}` of the app's schema is NOT NULL without a default and filled by the app's trigger, which decant turns off for the load; no column of source table `{}` fills it",
                        app_table.name, app_column.name, table.source
                    ),
                )
                .with_help(format!(
                    "let the app's triggers fire during the load with `settings.app_triggers: {{ {}: keep }}` (they run for every row), or map a source column onto it",
                    table.source
                )),
            );
            continue;
        }
        let filled_by_kept_trigger = by_trigger && triggers_kept;
        if !filled && !app_column.fills_itself() && !filled_by_kept_trigger {
            problems.push(
                Diagnostic::error(
                    doc_path!["target", "owner"],
                    format!(
                        "column `{}`.`{}` of the app's schema is NOT NULL without a default, and no column of source table `{}` fills it",
                        app_table.name, app_column.name, table.source
                    ),
                )
                .with_help(format!(
                    "map a source column onto it with `columns.{}.<column>.rename: {}`, or give it a default in the app's schema",
                    table.source, app_column.name
                )),
            );
        }
    }
    // The app's keys, indexes and checks exist already; its foreign keys order the loads
    // (parents first) and are what the foreign-key checks look for.
    // What decant would have done to make the table (keys, collations, WITHOUT ROWID) does not
    // happen: the app made it.
    table.warnings.clear();
    // Kept triggers fire for every row: nothing turns them off, so nothing turns them on.
    table.app_triggers = if triggers_kept {
        Vec::new()
    } else {
        app_table.triggers.clone()
    };
    table.app_trigger_modes = if triggers_kept {
        Vec::new()
    } else {
        app_table
            .trigger_modes
            .iter()
            .map(|(name, mode)| (name.clone(), mode.clone()))
            .collect()
    };
    // `existing_keys: rebuild`: keys (primary and unique), secondary indexes and foreign keys
    // go for the load and come back with their exact definitions, in the order they can:
    // keys, then indexes, then the foreign keys that need the parents' keys. CHECKs stay.
    let rebuild = plan.settings.existing_keys == ExistingKeys::Rebuild;
    let key = |kind: &str| {
        let kind = kind.to_owned();
        move |c: &crate::engines::postgres::introspect::TargetConstraint| AppKey {
            name: c.name.clone(),
            kind: kind.clone(),
            definition: c.definition.clone(),
        }
    };
    table.app_rebuilt = app_table
        .constraints
        .iter()
        .filter(|c| !keys_stay && (c.kind == "primary_key" || c.kind == "unique"))
        .map(key("constraint"))
        .chain(
            app_table
                .indexes
                .iter()
                .filter(|i| !i.constraint)
                .map(|i| AppKey {
                    name: i.name.clone(),
                    kind: "index".to_owned(),
                    definition: i.definition.clone(),
                }),
        )
        .chain(app_table.foreign_keys().map(key("foreign_key")))
        .filter(|_| rebuild)
        .collect();
    table.primary_key = None;
    table.uniques.clear();
    table.checks.clear();
    table.indexes.clear();
    table.foreign_keys = app_table
        .foreign_keys()
        .filter_map(|fk| {
            let referenced = fk.referenced_table.as_deref()?;
            let (referenced_source, _) = carried.iter().find(|(_, t)| t == referenced)?;
            let rule = |on: &str| {
                fk.definition
                    .split(on)
                    .nth(1)
                    .map(|rest| {
                        [
                            "NO ACTION",
                            "RESTRICT",
                            "CASCADE",
                            "SET NULL",
                            "SET DEFAULT",
                        ]
                        .into_iter()
                        .find(|r| rest.trim_start().starts_with(r))
                        .unwrap_or("NO ACTION")
                    })
                    .unwrap_or("NO ACTION")
                    .to_owned()
            };
            let deferrable = fk.definition.contains(" DEFERRABLE");
            Some(ResolvedForeignKey {
                initially_deferred: fk.definition.contains("INITIALLY DEFERRED"),
                name: fk.name.clone(),
                columns: fk.columns.clone(),
                referenced_source: referenced_source.clone(),
                referenced_table: referenced.to_owned(),
                referenced_columns: fk.referenced_columns.clone(),
                on_update: rule("ON UPDATE"),
                on_delete: rule("ON DELETE"),
                deferrable,
                not_valid: fk.definition.ends_with(" NOT VALID"),
            })
        })
        .collect();
    let autoincrement_after = table.identity.as_ref().and_then(|i| i.autoincrement_after);
    table.identity = table
        .columns
        .iter()
        .filter(|c| {
            app_table
                .column(&c.target)
                .is_some_and(TargetColumn::sequenced)
        })
        .map(|c| Identity {
            column: c.target.clone(),
            autoincrement_after,
        })
        .next();
}

fn column_path(plan: &Plan, key: &str) -> crate::plan::DocPath {
    match plan.columns.get(key) {
        Some(over) if over.rename.is_some() => doc_path!["columns", key, "rename"],
        Some(_) => doc_path!["columns", key],
        None => doc_path!["target", "owner"],
    }
}

/// The type values are written as into the app's column: its enum with the labels (or an
/// array of it), or its (base) type; `None` when the copy engine has no encoder for it.
pub fn app_target_type(app_column: &TargetColumn) -> Option<TargetType> {
    if app_column.labels.is_empty() {
        parse_target_type(&app_column.base_type)
            .ok()
            .filter(crate::mapping::wire::writable)
    } else {
        let element = app_column.type_sql.strip_suffix("[]");
        Some(TargetType {
            base: element.unwrap_or(&app_column.type_sql).to_owned(),
            modifiers: Vec::new(),
            array: element.is_some(),
            labels: app_column.labels.clone(),
            element_oid: None,
        })
    }
}

/// Counts the rows of a source table that meet each condition, or says why it cannot.
pub type CountWhere<'a> = dyn FnMut(&str, &[String]) -> Result<Vec<u64>, String> + 'a;

/// Flags, before any row moves, the values of a MySQL source that the app's column types cannot
/// hold (a time of day into `date`, text longer than `varchar(n)`, a number out of an integer's
/// range): `count` says how many rows of a source table meet each condition. Each is a warning
/// on its column that names how many values, and the transform that decides, when one does;
/// a column with a transform is the reviewer's decision already.
pub fn flag_narrowing(
    plan: &Plan,
    resolved: &mut ResolvedPlan,
    count: &mut CountWhere<'_>,
    problems: &mut Vec<Diagnostic>,
) {
    for table in &mut resolved.tables {
        let tests: Vec<(usize, crate::engines::mysql::types::Narrowing)> = table
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.transform.is_none() && c.generated.is_none())
            .filter_map(|(i, c)| {
                crate::engines::mysql::types::narrowing(&c.declared, &c.source, &c.target_type)
                    .map(|n| (i, n))
            })
            .collect();
        if tests.is_empty() {
            continue;
        }
        let conditions: Vec<String> = tests.iter().map(|(_, n)| n.condition.clone()).collect();
        let counts = match count(&table.source, &conditions) {
            Ok(counts) => counts,
            Err(why) => {
                problems.push(Diagnostic::warning(
                    doc_path!["target", "owner"],
                    format!(
                        "the values of source table `{}` could not be profiled against the app's column types: {why}",
                        table.source
                    ),
                ));
                continue;
            }
        };
        for ((i, n), found) in tests.iter().zip(counts) {
            if found == 0 {
                continue;
            }
            let column = &mut table.columns[*i];
            let key = format!("{}.{}", table.source, column.source);
            let message = format!("{found} value(s) of `{key}` {}", n.what);
            let help = match n.transform {
                Some(t) => format!(
                    "accept the conversion with `columns.{key}.transform: {t}`, or leave them as bad rows"
                ),
                None => format!(
                    "widen the app's column, decide with `columns.{key}.transform`, or leave them as bad rows"
                ),
            };
            column.warnings.push(message.clone());
            problems.push(Diagnostic::warning(column_path(plan, &key), message).with_help(help));
        }
    }
}

/// The app's type for one column, and whether the plan's transform (or its absence) fits it.
fn fit_column(
    plan: &Plan,
    key: &str,
    declared: &str,
    column: &mut ResolvedColumn,
    app_column: &TargetColumn,
    problems: &mut Vec<Diagnostic>,
) {
    // A type the copy engine has no encoder for, said once whether it does not parse or has
    // no encoder.
    let Some(target_type) = app_target_type(app_column) else {
        problems.push(
            Diagnostic::error(
                column_path(plan, key),
                format!(
                    "column `{}` is `{}` in the app's schema, a type decant cannot write yet",
                    app_column.name, app_column.type_sql
                ),
            )
            .with_help(format!(
                "leave the column out with `columns.{key}.skip: true` and fill it after the load with a plan step"
            )),
        );
        return;
    };
    let transform_path = match plan.columns.get(key) {
        Some(over) if over.transform.is_some() => doc_path!["columns", key, "transform"],
        _ => column_path(plan, key),
    };
    // A built-in that makes a type must make one the column takes.
    if let Some(Transform::Builtin(b)) = &column.transform {
        if let Some(produced) = b.produces().and_then(|p| parse_target_type(p).ok()) {
            if produced.family() != target_type.family() {
                problems.push(
                    Diagnostic::error(
                        transform_path.clone(),
                        format!(
                            "transform `{}` makes `{}`, but `{}` is `{}` in the app's schema",
                            b.name(),
                            produced.sql(),
                            app_column.name,
                            app_column.type_sql
                        ),
                    )
                    .with_help("choose a transform whose result fits the column, or none"),
                );
            }
        }
    }
    if column.transform.is_none() {
        if let Some(help) = needed_transform(declared, &target_type) {
            problems.push(
                Diagnostic::error(
                    column_path(plan, key),
                    format!(
                        "`{key}` is declared `{declared}` in the source, and `{}` is `{}` in the app's schema: {help}",
                        app_column.name, app_column.type_sql
                    ),
                )
                .with_help(format!("add `columns.{key}.transform`")),
            );
        }
    }
    column.rule = format!("the app's schema: `{}`", app_column.type_sql);
    // Warnings about how decant would have declared the column do not apply to the app's.
    column.warnings.retain(|w| {
        !w.contains("consider `to:")
            && !w.starts_with("VIRTUAL generated column")
            && !w.starts_with("default not carried")
            && !w.starts_with("generation expression not translated")
    });
    column.target_type = target_type;
    column.nullable = !app_column.not_null;
    column.default = app_column.default.clone();
    column.identity = app_column.identity;
    if app_column.generated {
        // PostgreSQL computes it; loading into it is an error.
        column.generated = Some("(computed by the app's schema)".to_owned());
        column
            .warnings
            .push("generated in the app's schema: computed by PostgreSQL, not loaded".to_owned());
    } else {
        column.generated = None;
    }
}

/// What a value of a column declared `declared` in SQLite needs to become `target`, when
/// the copy engine cannot tell by itself (a number that counts some unit).
fn needed_transform(declared: &str, target: &TargetType) -> Option<String> {
    // SQLite's first affinity rule: a declared type containing INT holds integers.
    let integer = declared.to_ascii_uppercase().contains("INT");
    match target.family() {
        TypeFamily::Interval if integer => Some(
            "an integer needs a unit: `microseconds_to_interval` (Django's DurationField), or an expression such as `{{ value }} seconds`"
                .to_owned(),
        ),
        TypeFamily::Timestamp | TypeFamily::TimestampTz if integer => Some(
            "an integer needs a unit: `epoch_s_to_timestamptz` or `epoch_ms_to_timestamptz`"
                .to_owned(),
        ),
        _ => None,
    }
}

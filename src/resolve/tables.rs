//! Which source tables are carried and under which target names: include/exclude globs,
//! renames, the naming rule, and the references in `filters` and `columns` that must exist.

use std::collections::HashMap;

use super::ResolvedTable;
use crate::catalog::{Catalog, Table};
use crate::doc_path;
use crate::naming::{
    apply_case, fit_identifier, glob_match, stored_identifier, MAX_IDENTIFIER_BYTES,
};
use crate::plan::diagnostic::did_you_mean;
use crate::plan::model::Plan;
use crate::plan::Diagnostic;

/// The carried tables with their target names, and notes on what was left out.
pub(super) struct Selection<'a> {
    pub tables: Vec<(&'a Table, String)>,
    pub notes: Vec<String>,
}

fn has_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

pub(super) fn target_table_name(plan: &Plan, source: &str) -> String {
    plan.tables
        .rename
        .get(source)
        .cloned()
        .unwrap_or_else(|| apply_case(source, plan.naming.identifiers))
}

pub(super) fn select_tables<'a>(
    plan: &Plan,
    catalog: &'a Catalog,
    problems: &mut Vec<Diagnostic>,
) -> Selection<'a> {
    let names: Vec<&str> = catalog.tables.iter().map(|t| t.name.as_str()).collect();
    for (field, patterns) in [
        ("include", &plan.tables.include),
        ("exclude", &plan.tables.exclude),
    ] {
        for (i, pattern) in patterns.iter().enumerate() {
            if !has_glob(pattern)
                && !names.contains(&pattern.as_str())
                && !pattern.starts_with("sqlite_")
            {
                problems.push(
                    Diagnostic::error(
                        doc_path!["tables", field, i],
                        format!("table `{pattern}` is not in the source"),
                    )
                    .with_help_opt(did_you_mean(pattern, names.iter().copied())),
                );
            }
        }
    }
    let mut selection = Selection {
        tables: Vec::new(),
        notes: Vec::new(),
    };
    for table in &catalog.tables {
        let included = plan
            .tables
            .include
            .iter()
            .any(|p| glob_match(p, &table.name, false));
        let excluded = plan
            .tables
            .exclude
            .iter()
            .any(|p| glob_match(p, &table.name, false));
        if included && !excluded {
            selection
                .tables
                .push((table, target_table_name(plan, &table.name)));
        } else {
            selection.notes.push(format!(
                "table `{}` is not carried: {}",
                table.name,
                if excluded {
                    "excluded by `tables.exclude`"
                } else {
                    "not matched by `tables.include`"
                }
            ));
        }
    }
    let user_tables = catalog
        .tables
        .iter()
        .filter(|t| !t.name.starts_with("sqlite_"))
        .count();
    if selection.tables.is_empty() && user_tables > 0 {
        // A run of it would load nothing and call that success.
        problems.push(
            Diagnostic::error(
                doc_path!["tables"],
                format!(
                    "the plan carries no table: `tables.include` and `tables.exclude` leave out every one of the source's {user_tables} table(s)"
                ),
            )
            .with_help("include at least one source table; `decant init --app-schema` excludes the tables it cannot match with the app's, so check its `naming:` and `tables.rename`"),
        );
    }
    for (source, _) in &plan.tables.rename {
        if catalog.table(source).is_none() {
            problems.push(
                Diagnostic::error(
                    doc_path!["tables", "rename", source],
                    format!("cannot rename `{source}`: the source has no such table"),
                )
                .on_key()
                .with_help_opt(did_you_mean(source, names.iter().copied())),
            );
        } else if !selection.tables.iter().any(|(t, _)| &t.name == source) {
            problems.push(Diagnostic::warning(
                doc_path!["tables", "rename", source],
                format!("table `{source}` is renamed but not carried"),
            ));
        }
    }
    // Keyed by the name PostgreSQL keeps: names that differ only after 63 bytes collide too.
    let mut seen: HashMap<&str, (&str, &str)> = HashMap::new();
    for (table, target) in &selection.tables {
        let stored = stored_identifier(target);
        let Some((other, other_target)) = seen.insert(stored, (&table.name, target)) else {
            continue;
        };
        let renamed = plan.tables.rename.contains_key(&table.name);
        let problem = if other_target == target {
            Diagnostic::error(
                if renamed {
                    doc_path!["tables", "rename", &table.name]
                } else {
                    doc_path!["naming", "identifiers"]
                },
                format!(
                    "tables `{other}` and `{}` would both become `{target}` in the target",
                    table.name
                ),
            )
            .with_help("rename one of them in `tables.rename`")
        } else {
            Diagnostic::error(
                // Without a rename of its own, point at where one would go.
                doc_path!["tables", "rename", &table.name],
                format!(
                    "tables `{other}` and `{}` would both become `{stored}` in the target: \
                     PostgreSQL keeps only the first {MAX_IDENTIFIER_BYTES} bytes of a name",
                    table.name
                ),
            )
            .with_help(format!(
                "rename one of them in `tables.rename` to a name of at most \
                 {MAX_IDENTIFIER_BYTES} bytes, e.g. `{}: {}`",
                table.name,
                fit_identifier(target)
            ))
        };
        problems.push(if renamed { problem.on_key() } else { problem });
    }
    selection
}

/// Splits `table.column` against the source's tables (table names may contain dots).
pub(super) fn split_column_key<'a>(
    catalog: &'a Catalog,
    key: &str,
) -> Result<(&'a Table, String), String> {
    let mut best: Option<(&Table, String)> = None;
    for table in &catalog.tables {
        if let Some(column) = key
            .strip_prefix(&table.name)
            .and_then(|rest| rest.strip_prefix('.'))
        {
            if best
                .as_ref()
                .is_none_or(|(t, _)| t.name.len() < table.name.len())
            {
                best = Some((table, column.to_owned()));
            }
        }
    }
    match best {
        Some((table, column)) if table.column(&column).is_some() => Ok((table, column)),
        Some((table, column)) => Err(format!(
            "table `{}` has no column `{column}`{}",
            table.name,
            suggestion_suffix(&column, table.columns.iter().map(|c| c.name.as_str()))
        )),
        None => {
            let table_part = key.split_once('.').map_or(key, |(t, _)| t);
            if !key.contains('.') {
                return Err(format!("`{key}` is not a `table.column` reference"));
            }
            Err(format!(
                "the source has no table `{table_part}`{}",
                suggestion_suffix(table_part, catalog.tables.iter().map(|t| t.name.as_str()))
            ))
        }
    }
}

fn suggestion_suffix<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    crate::plan::diagnostic::closest(wanted, candidates)
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

/// `filters` keys must be carried tables; `columns` keys must be existing `table.column`s.
pub(super) fn check_filters_and_overrides(
    plan: &Plan,
    catalog: &Catalog,
    carried: &[ResolvedTable],
    problems: &mut Vec<Diagnostic>,
) {
    let carried_names: Vec<&str> = carried.iter().map(|t| t.source.as_str()).collect();
    for (table, predicate) in &plan.filters {
        if catalog.table(table).is_none() {
            problems.push(
                Diagnostic::error(
                    doc_path!["filters", table],
                    format!("cannot filter `{table}`: the source has no such table"),
                )
                .on_key()
                .with_help_opt(did_you_mean(
                    table,
                    catalog.tables.iter().map(|t| t.name.as_str()),
                )),
            );
        } else if !carried_names.contains(&table.as_str()) {
            problems.push(Diagnostic::warning(
                doc_path!["filters", table],
                format!("table `{table}` has a filter but is not carried"),
            ));
        } else if predicate.trim().is_empty() || predicate.contains(';') {
            problems.push(Diagnostic::error(
                doc_path!["filters", table],
                format!("the filter of `{table}` must be one SQL predicate"),
            ));
        }
    }
    for (key, over) in &plan.columns {
        if let Err(message) = split_column_key(catalog, key) {
            problems.push(
                Diagnostic::error(
                    doc_path!["columns", key],
                    format!("`columns.{key}`: {message}"),
                )
                .on_key(),
            );
            // The entry is checked as well: fixing the name must not reveal the next problem.
            if let Some(to) = &over.to {
                super::columns::parse_type_at(to, doc_path!["columns", key, "to"], problems);
            }
            if let Some(transform) = &over.transform {
                super::columns::parse_transform_at(
                    transform,
                    doc_path!["columns", key, "transform"],
                    problems,
                );
            }
        }
    }
}

//! Checks of a plan that need the source's catalog but are not type decisions: the `checks`
//! entries (one kind each, tables and columns that exist) and the folders `steps` name.

use std::path::Path;

use super::ResolvedPlan;
use crate::catalog::Catalog;
use crate::doc_path;
use crate::plan::diagnostic::did_you_mean;
use crate::plan::model::{Check, Plan, Selection};
use crate::plan::{Diagnostic, DocPath};

/// The kinds a check entry can be, by the key that makes it one.
const CHECK_KINDS: &[&str] = &[
    "row_counts",
    "checksums",
    "foreign_keys",
    "not_null",
    "unique",
    "accepted_values",
    "target",
];

fn kinds_of(check: &Check) -> Vec<&'static str> {
    let present = [
        check.row_counts.is_some(),
        check.checksums.is_some(),
        check.foreign_keys.is_some(),
        check.not_null.is_some(),
        check.unique.is_some(),
        check.accepted_values.is_some(),
        check.target.is_some(),
    ];
    CHECK_KINDS
        .iter()
        .zip(present)
        .filter(|(_, p)| *p)
        .map(|(k, _)| *k)
        .collect()
}

/// Every problem in `checks` and `steps`.
pub fn validate_plan(
    plan: &Plan,
    catalog: &Catalog,
    resolved: &ResolvedPlan,
    plan_dir: &Path,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    for (i, check) in plan.checks.iter().enumerate() {
        validate_check(i, check, catalog, resolved, &mut problems);
    }
    for (i, step) in plan.steps.iter().enumerate() {
        if let Some(dir) = &step.migrations {
            if let Err(e) = crate::migrations::read_migrations(&plan_dir.join(dir)) {
                problems.push(Diagnostic::error(
                    doc_path!["steps", i, "migrations"],
                    e.to_string(),
                ));
            }
        }
    }
    if plan.target.schema.trim().is_empty() {
        problems.push(Diagnostic::error(
            doc_path!["target", "schema"],
            "the target schema cannot be empty",
        ));
    }
    problems
}

fn validate_check(
    i: usize,
    check: &Check,
    catalog: &Catalog,
    resolved: &ResolvedPlan,
    problems: &mut Vec<Diagnostic>,
) {
    let here = doc_path!["checks", i];
    let kinds = kinds_of(check);
    match kinds.as_slice() {
        [] => {
            problems.push(
                Diagnostic::error(here.clone(), "this check says nothing to check")
                    .with_help("give one of `row_counts`, `checksums`, `foreign_keys`, `not_null`, `unique`, `accepted_values`, or `name` + `target` + `expect`"),
            );
            return;
        }
        [_] => {}
        many => {
            problems.push(Diagnostic::error(
                here.clone(),
                format!(
                    "one check per entry; this one has {}",
                    many.iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
            return;
        }
    }
    let carried: Vec<&str> = resolved.tables.iter().map(|t| t.source.as_str()).collect();
    for (field, selection) in [
        ("row_counts", &check.row_counts),
        ("checksums", &check.checksums),
        ("foreign_keys", &check.foreign_keys),
    ] {
        if let Some(Selection::Tables(tables)) = selection {
            for (j, table) in tables.iter().enumerate() {
                if !carried.contains(&table.as_str()) {
                    let why = if catalog.table(table).is_some() {
                        "is not carried"
                    } else {
                        "is not in the source"
                    };
                    problems.push(
                        Diagnostic::error(
                            doc_path!["checks", i, field, j],
                            format!("table `{table}` {why}"),
                        )
                        .with_help_opt(did_you_mean(table, carried.iter().copied())),
                    );
                }
            }
        }
    }
    let column_refs = [
        ("not_null", check.not_null.as_ref()),
        ("unique", check.unique.as_ref()),
        (
            "accepted_values",
            check.accepted_values.as_ref().map(|a| &a.column),
        ),
    ];
    for (field, reference) in column_refs {
        if let Some(reference) = reference {
            let path = if field == "accepted_values" {
                doc_path!["checks", i, field, "column"]
            } else {
                doc_path!["checks", i, field]
            };
            if let Some(problem) = column_reference_problem(reference, resolved, path) {
                problems.push(problem);
            }
        }
    }
    if let Some(a) = &check.accepted_values {
        if a.values.is_empty() {
            problems.push(Diagnostic::error(
                doc_path!["checks", i, "accepted_values", "values"],
                "`values` cannot be empty",
            ));
        }
    }
    if check.checksums.is_some() {
        if check.row_limit == Some(0) {
            problems.push(Diagnostic::error(
                doc_path!["checks", i, "row_limit"],
                "`row_limit` must be at least 1",
            ));
        }
        if check.sample_rate.is_some_and(|r| !(r > 0.0 && r <= 1.0)) {
            problems.push(
                Diagnostic::error(
                    doc_path!["checks", i, "sample_rate"],
                    "`sample_rate` must be above 0 and at most 1",
                )
                .with_help("0.1 compares about one row in ten; leave it out to compare every row"),
            );
        }
    } else {
        let only_checksums = [
            ("row_limit", check.row_limit.is_some()),
            ("sample_rate", check.sample_rate.is_some()),
        ];
        for (field, present) in only_checksums {
            if present {
                problems.push(Diagnostic::error(
                    doc_path!["checks", i, field],
                    format!("`{field}` belongs to `checksums` checks"),
                ));
            }
        }
    }
    let assertion = check.target.is_some();
    let only_assertion = [
        ("name", check.name.is_some()),
        ("source", check.source.is_some()),
        ("expect", check.expect.is_some()),
        ("tolerance", check.tolerance.is_some()),
    ];
    if assertion {
        if check.name.is_none() {
            problems.push(Diagnostic::error(
                here.clone(),
                "an SQL assertion needs a `name`",
            ));
        }
        match &check.expect {
            None => problems.push(Diagnostic::error(
                here.clone(),
                "an SQL assertion needs `expect`: a value, or `equal` with a `source` query",
            )),
            Some(serde_json::Value::String(s)) if s == "equal" && check.source.is_none() => {
                problems.push(Diagnostic::error(
                    doc_path!["checks", i, "expect"],
                    "`expect: equal` compares with a `source` query, and there is none",
                ))
            }
            Some(_) => {}
        }
        if check
            .tolerance
            .is_some_and(|t| !(t >= 0.0 && t.is_finite()))
        {
            problems.push(Diagnostic::error(
                doc_path!["checks", i, "tolerance"],
                "`tolerance` must be a finite number ≥ 0",
            ));
        }
    } else {
        for (field, present) in only_assertion {
            if present && field != "name" {
                problems.push(Diagnostic::error(
                    doc_path!["checks", i, field],
                    format!("`{field}` belongs to SQL assertions (with `target`)"),
                ));
            }
        }
    }
}

fn column_reference_problem(
    reference: &str,
    resolved: &ResolvedPlan,
    path: DocPath,
) -> Option<Diagnostic> {
    let Some((table_name, column)) = resolved
        .tables
        .iter()
        .filter_map(|t| {
            reference
                .strip_prefix(t.source.as_str())
                .and_then(|r| r.strip_prefix('.'))
                .map(|c| (t.source.as_str(), c))
        })
        .max_by_key(|(t, _)| t.len())
    else {
        let table = reference.split_once('.').map_or(reference, |(t, _)| t);
        return Some(
            Diagnostic::error(
                path,
                format!("`{reference}` does not name a carried `table.column`"),
            )
            .with_help_opt(did_you_mean(
                table,
                resolved.tables.iter().map(|t| t.source.as_str()),
            )),
        );
    };
    let table = resolved.table(table_name)?;
    if table.column(column).is_some() {
        return None;
    }
    Some(
        Diagnostic::error(
            path,
            format!("table `{table_name}` has no column `{column}`"),
        )
        .with_help_opt(did_you_mean(
            column,
            table.columns.iter().map(|c| c.source.as_str()),
        )),
    )
}

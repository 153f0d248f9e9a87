//! Keys, CHECKs, indexes and foreign keys in target names; `COLLATE NOCASE` uniqueness
//! becomes a unique index on `lower()`, and whatever cannot be carried is reported.

use std::collections::HashSet;

use super::columns::{expression_context, target_column_name};
use super::{
    IndexKeySql, KeyConstraint, NamedCheck, ResolvedForeignKey, ResolvedIndex, ResolvedTable,
};
use crate::catalog::{Catalog, IndexKey, Table};
use crate::doc_path;
use crate::engines::sqlite::expressions::{is_json_valid_of_json_column, quote_ident, translate};
use crate::naming::{apply_case, derived_name, fit_identifier};
use crate::plan::diagnostic::did_you_mean;
use crate::plan::model::Plan;
use crate::plan::Diagnostic;

fn is_nocase(collation: Option<&str>) -> bool {
    collation.is_some_and(|c| c.eq_ignore_ascii_case("nocase"))
}

/// True when a foreign key of a carried table references exactly `columns` of `table`.
fn is_referenced(
    catalog: &Catalog,
    targets: &[(String, String)],
    table: &str,
    columns: &[String],
) -> bool {
    let same = |a: &[String], b: &[String]| {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
    };
    catalog
        .tables
        .iter()
        .filter(|t| targets.iter().any(|(s, _)| s == &t.name))
        .flat_map(|t| &t.foreign_keys)
        .any(|fk| fk.referenced_table == table && same(&fk.referenced_columns, columns))
}

/// Primary key, uniques, checks, source indexes and foreign keys of one table.
pub(super) fn resolve_constraints(
    plan: &Plan,
    source: &Table,
    table: &mut ResolvedTable,
    catalog: &Catalog,
    targets: &[(String, String)],
) {
    let target_col = |c: &str| target_column_name(plan, &source.name, c);
    let ctx = expression_context(&table.columns);
    // `citext` compares without case itself: its NOCASE keys stay plain columns.
    let citext: Vec<String> = table
        .columns
        .iter()
        .filter(|c| c.target_type.base == "citext")
        .map(|c| c.source.clone())
        .collect();
    let folds_case = |column: &str, collation: Option<&str>| {
        is_nocase(collation) && !citext.iter().any(|c| c.eq_ignore_ascii_case(column))
    };
    let column_folds_case = |column: &str| {
        folds_case(
            column,
            source.column(column).and_then(|c| c.collation.as_deref()),
        )
    };
    if !source.primary_key.is_empty() {
        let cols: Vec<String> = source.primary_key.iter().map(|c| target_col(c)).collect();
        table.primary_key = Some(KeyConstraint {
            name: fit_identifier(&format!("{}_pkey", table.target)),
            columns: cols,
        });
    }
    for unique in &source.uniques {
        let cols: Vec<String> = unique.columns.iter().map(|c| target_col(c)).collect();
        let nocase = unique.columns.iter().any(|c| column_folds_case(c));
        let name = unique
            .name
            .as_ref()
            .map(|n| fit_identifier(&apply_case(n, plan.naming.identifiers)))
            .unwrap_or_else(|| derived_name(&table.target, &cols, "key"));
        if nocase {
            let keys = unique
                .columns
                .iter()
                .zip(&cols)
                .map(|(src, tgt)| IndexKeySql {
                    sql: if column_folds_case(src) {
                        format!("lower({})", quote_ident(tgt))
                    } else {
                        quote_ident(tgt)
                    },
                    descending: false,
                })
                .collect();
            table.warnings.push(format!(
                "UNIQUE ({}) {}: carried as a unique index on lower()",
                unique.columns.join(", "),
                catalog.engine.case_insensitive_unique()
            ));
            // A foreign key needs a plain unique constraint on the columns it references; the
            // index on lower() implies it, so keeping both loses nothing.
            if is_referenced(catalog, targets, &source.name, &unique.columns) {
                table.uniques.push(KeyConstraint {
                    name: name.clone(),
                    columns: cols,
                });
            }
            table.indexes.push(ResolvedIndex {
                name,
                unique: true,
                keys,
                predicate: None,
                method: None,
                origin: "source".into(),
            });
        } else {
            table.uniques.push(KeyConstraint {
                name,
                columns: cols,
            });
        }
    }
    for (i, check) in source.checks.iter().enumerate() {
        if is_json_valid_of_json_column(&check.expression, &ctx) {
            continue;
        }
        match translate(&check.expression, &ctx) {
            Ok(sql) => table.checks.push(NamedCheck {
                name: check
                    .name
                    .as_ref()
                    .map(|n| fit_identifier(&apply_case(n, plan.naming.identifiers)))
                    .unwrap_or_else(|| {
                        fit_identifier(&format!(
                            "{}_check{}",
                            table.target,
                            if i == 0 { String::new() } else { i.to_string() }
                        ))
                    }),
                expression: sql,
            }),
            Err(why) => table
                .warnings
                .push(format!("CHECK ({}) not carried: {why}", check.expression)),
        }
    }
    let mut case_notes: Vec<String> = Vec::new();
    for index in &source.indexes {
        let mut keys = Vec::new();
        let mut failure = None;
        // MySQL's SPATIAL index: a GiST index where every column is PostGIS's geometry.
        let spatial = index.method.as_deref() == Some("spatial");
        if spatial {
            let not_geometry = index.parts.iter().find_map(|p| match &p.key {
                IndexKey::Column(c) => table
                    .column(c)
                    .filter(|col| col.target_type.base != "geometry")
                    .map(|col| {
                        format!(
                            "column `{c}` is `{}`, not `geometry`",
                            col.target_type.sql()
                        )
                    }),
                IndexKey::Expression(_) => Some("it indexes an expression".to_owned()),
            });
            if let Some(why) = not_geometry {
                table.warnings.push(format!(
                    "SPATIAL index `{}` not carried: {why}; with PostGIS in the target and `to: geometry` it becomes a GiST index",
                    index.name
                ));
                continue;
            }
        }
        for part in &index.parts {
            let sql = match &part.key {
                IndexKey::Column(c) => {
                    let col = quote_ident(&target_col(c));
                    let collation = part
                        .collation
                        .as_deref()
                        .or_else(|| source.column(c).and_then(|col| col.collation.as_deref()));
                    // A unique index keeps the source's case-insensitive uniqueness on
                    // lower(); a plain one stays on the column, so the app's `WHERE c = …`
                    // can use it (an index on lower() serves only `lower(c) = …`).
                    if index.unique && folds_case(c, collation) {
                        format!("lower({col})")
                    } else {
                        if folds_case(c, collation) {
                            case_notes.push(target_col(c));
                        }
                        col
                    }
                }
                IndexKey::Expression(e) => match translate(e, &ctx) {
                    Ok(sql) => format!("({sql})"),
                    Err(why) => {
                        failure = Some(why);
                        break;
                    }
                },
            };
            keys.push(IndexKeySql {
                sql,
                descending: part.descending,
            });
        }
        let predicate = match (&index.predicate, &failure) {
            (Some(p), None) => match translate(p, &ctx) {
                Ok(sql) => Some(sql),
                Err(why) => {
                    failure = Some(why);
                    None
                }
            },
            _ => None,
        };
        match failure {
            None => table.indexes.push(ResolvedIndex {
                name: fit_identifier(&apply_case(&index.name, plan.naming.identifiers)),
                unique: index.unique,
                keys,
                predicate,
                method: spatial.then(|| "gist".to_owned()),
                origin: "source".into(),
            }),
            Some(why) => table
                .warnings
                .push(format!("index `{}` not carried: {why}", index.name)),
        }
    }
    case_notes.sort();
    case_notes.dedup();
    for column in case_notes {
        table.warnings.push(format!(
            "`{column}` compares case-insensitively in the source; its plain index is carried on the column, where `=` is case-sensitive: map it `to: citext` to keep the source's comparisons (the citext extension; every comparison folds case)"
        ));
    }
    for fk in &source.foreign_keys {
        let Some((_, referenced_target)) = targets.iter().find(|(s, _)| s == &fk.referenced_table)
        else {
            table.warnings.push(format!(
                "foreign key ({}) → `{}` not carried: that table is not carried",
                fk.columns.join(", "),
                fk.referenced_table
            ));
            continue;
        };
        let referenced_columns: Vec<String> = if fk.referenced_columns.is_empty() {
            catalog
                .table(&fk.referenced_table)
                .map(|t| t.primary_key.clone())
                .unwrap_or_default()
        } else {
            fk.referenced_columns.clone()
        };
        if referenced_columns.len() != fk.columns.len() {
            table.warnings.push(format!(
                "foreign key ({}) → `{}` not carried: the referenced key has {} column(s)",
                fk.columns.join(", "),
                fk.referenced_table,
                referenced_columns.len()
            ));
            continue;
        }
        let cols: Vec<String> = fk.columns.iter().map(|c| target_col(c)).collect();
        table.foreign_keys.push(ResolvedForeignKey {
            name: derived_name(&table.target, &cols, "fkey"),
            columns: cols,
            referenced_source: fk.referenced_table.clone(),
            referenced_table: referenced_target.clone(),
            referenced_columns: referenced_columns
                .iter()
                .map(|c| target_column_name(plan, &fk.referenced_table, c))
                .collect(),
            on_update: fk.on_update.to_uppercase(),
            on_delete: fk.on_delete.to_uppercase(),
            deferrable: fk.deferrable,
            initially_deferred: fk.initially_deferred,
            not_valid: false,
        });
    }
}

/// `indexes:` entries of the plan, checked against the source and added to their tables.
pub(super) fn resolve_extra_indexes(
    plan: &Plan,
    tables: &mut [ResolvedTable],
    catalog: &Catalog,
    problems: &mut Vec<Diagnostic>,
) {
    for (i, extra) in plan.indexes.iter().enumerate() {
        let Some(table) = tables.iter_mut().find(|t| t.source == extra.table) else {
            let message = if catalog.table(&extra.table).is_some() {
                format!("table `{}` is not carried", extra.table)
            } else {
                format!("the source has no table `{}`", extra.table)
            };
            problems.push(
                Diagnostic::error(doc_path!["indexes", i, "table"], message).with_help_opt(
                    did_you_mean(&extra.table, catalog.tables.iter().map(|t| t.name.as_str())),
                ),
            );
            continue;
        };
        if extra.columns.is_empty() {
            problems.push(Diagnostic::error(
                doc_path!["indexes", i, "columns"],
                "an index needs at least one column",
            ));
            continue;
        }
        let mut keys = Vec::new();
        let mut names = Vec::new();
        for (j, spec) in extra.columns.iter().enumerate() {
            let (name, descending) = split_order(spec);
            match table.column(name) {
                Some(c) => {
                    names.push(c.target.clone());
                    keys.push(IndexKeySql {
                        sql: quote_ident(&c.target),
                        descending,
                    });
                }
                None => problems.push(
                    Diagnostic::error(
                        doc_path!["indexes", i, "columns", j],
                        format!("table `{}` has no column `{name}`", extra.table),
                    )
                    .with_help_opt(did_you_mean(
                        name,
                        table.columns.iter().map(|c| c.source.as_str()),
                    )),
                ),
            }
        }
        if keys.len() != extra.columns.len() {
            continue;
        }
        if let Some(p) = &extra.predicate {
            if p.contains(';') {
                problems.push(Diagnostic::error(
                    doc_path!["indexes", i, "where"],
                    "the `where` of an index must be one SQL predicate",
                ));
                continue;
            }
        }
        let name = extra
            .name
            .clone()
            .unwrap_or_else(|| derived_name(&table.target, &names, "idx"));
        table.indexes.push(ResolvedIndex {
            name,
            unique: extra.unique,
            keys,
            predicate: extra.predicate.clone(),
            method: extra.method.clone(),
            origin: "plan".into(),
        });
    }
}

/// `createdAt desc` → (`createdAt`, true).
fn split_order(spec: &str) -> (&str, bool) {
    let trimmed = spec.trim();
    let lower = trimmed.to_lowercase();
    if lower.ends_with(" desc") {
        (trimmed[..trimmed.len() - 5].trim_end(), true)
    } else if lower.ends_with(" asc") {
        (trimmed[..trimmed.len() - 4].trim_end(), false)
    } else {
        (trimmed, false)
    }
}

/// Index and constraint names share one namespace per schema in PostgreSQL: make them unique.
pub(super) fn dedupe_names(tables: &mut [ResolvedTable]) {
    let mut seen: HashSet<String> = tables.iter().map(|t| t.target.clone()).collect();
    let mut claim = |name: &mut String| {
        if seen.insert(name.clone()) {
            return;
        }
        for n in 1.. {
            let candidate = fit_identifier(&format!("{name}{n}"));
            if seen.insert(candidate.clone()) {
                *name = candidate;
                return;
            }
        }
    };
    for table in tables.iter_mut() {
        if let Some(pk) = &mut table.primary_key {
            claim(&mut pk.name);
        }
        table.uniques.iter_mut().for_each(|u| claim(&mut u.name));
        table.checks.iter_mut().for_each(|c| claim(&mut c.name));
        table.indexes.iter_mut().for_each(|i| claim(&mut i.name));
        table
            .foreign_keys
            .iter_mut()
            .for_each(|f| claim(&mut f.name));
    }
}

//! Each carried column's target name, type, transform, nullability, default and generation,
//! chosen by `columns` overrides, then `types` rules (first match wins), then the defaults.

use std::collections::HashMap;

use super::{Identity, ResolvedColumn, ResolvedTable};
use crate::catalog::{Column, Engine, Table};
use crate::doc_path;
use crate::engines::postgres::parse_target_type;
use crate::engines::postgres::{TargetType, TargetTypeError, TypeFamily};
use crate::engines::sqlite::defaults::{translate_default, DefaultTranslation};
use crate::engines::sqlite::expressions::{translate, ExpressionContext};
use crate::engines::{default_mapping, TypeDecision};
use crate::naming::{
    apply_case, fit_identifier, glob_match, stored_identifier, MAX_IDENTIFIER_BYTES,
};
use crate::plan::model::{ColumnOverride, Plan, TypeRule};
use crate::plan::{Diagnostic, DocPath};
use crate::transform::{check_expression, Builtin, Transform};

/// The target name of a source column: `columns.<t>.<c>.rename`, else the naming rule.
pub(crate) fn target_column_name(plan: &Plan, table: &str, column: &str) -> String {
    plan.columns
        .get(&format!("{table}.{column}"))
        .and_then(|o| o.rename.clone())
        .unwrap_or_else(|| apply_case(column, plan.naming.identifiers))
}

fn rule_matches(rule: &TypeRule, table: &Table, column: &Column) -> bool {
    let type_ok = rule.matcher.declared_type.as_ref().is_none_or(|pattern| {
        let declared = column.declared_type.trim();
        let bare = declared.split('(').next().unwrap_or(declared).trim();
        glob_match(pattern, declared, true) || glob_match(pattern, bare, true)
    });
    let column_ok = rule.matcher.column.as_ref().is_none_or(|pattern| {
        glob_match(pattern, &format!("{}.{}", table.name, column.name), true)
    });
    type_ok && column_ok && (rule.matcher.declared_type.is_some() || rule.matcher.column.is_some())
}

pub(super) fn parse_type_at(
    text: &str,
    path: DocPath,
    problems: &mut Vec<Diagnostic>,
) -> Option<TargetType> {
    match parse_target_type(text) {
        Ok(t) if !crate::mapping::wire::writable(&t) => {
            let instead = match (t.base.as_str(), t.array) {
                (_, true) => "`jsonb` or `text`",
                ("money", _) => "`numeric(p,s)`",
                _ => "`text`",
            };
            problems.push(
                Diagnostic::error(
                    path,
                    format!("decant cannot load `{}` columns (it has no binary COPY encoder for this type)", t.sql()),
                )
                .with_help(format!(
                    "load the column as {instead}, then convert it in a plan step after the load: `ALTER TABLE … ALTER COLUMN … TYPE {} USING …`",
                    t.sql()
                )),
            );
            None
        }
        Ok(t) => Some(t),
        Err(e) => {
            let help = match &e {
                TargetTypeError::Unknown { suggestion: Some(s), .. } => Some(format!("did you mean `{s}`?")),
                TargetTypeError::Unknown { .. } => Some("PostgreSQL types such as `bigint`, `text`, `timestamptz`, `numeric(12,2)`, `jsonb`, `uuid`".to_owned()),
                _ => None,
            };
            problems.push(Diagnostic::error(path, e.to_string()).with_help_opt(help));
            None
        }
    }
}

pub(super) fn parse_transform_at(
    text: &str,
    path: DocPath,
    problems: &mut Vec<Diagnostic>,
) -> Option<Transform> {
    let length = text.trim().chars().count();
    if length > MAX_TRANSFORM_CHARS {
        // Compiling megabytes of expression takes seconds (and a deep one the whole stack);
        // no transform a person writes is this long.
        problems.push(
            Diagnostic::error(
                path,
                format!(
                    "transform `{}…` is {length} characters long; decant reads transforms of at most {MAX_TRANSFORM_CHARS}",
                    text.trim().chars().take(80).collect::<String>()
                ),
            )
            .with_help("write a built-in name or one expression such as `{{ value | trim }}`; move long logic into a `sql:` step after the load"),
        );
        return None;
    }
    match Transform::parse(text) {
        Ok(Transform::Expression(e)) => match check_expression(&e) {
            Ok(()) => Some(Transform::Expression(e)),
            Err(why) => {
                problems.push(Diagnostic::error(
                    path,
                    format!("bad transform expression {}: {why}", shown_transform(&e)),
                ));
                None
            }
        },
        Ok(t) => Some(t),
        Err(help) => {
            problems.push(
                Diagnostic::error(path, format!("unknown transform {}", shown_transform(text)))
                    .with_help(help),
            );
            None
        }
    }
}

/// What a built-in that only decides bad rows is for, when a column of `family` gives it
/// nothing to decide (`keep_nan_infinity` on a `text` column).
fn idle_builtin(b: Builtin, family: TypeFamily) -> Option<&'static str> {
    match b {
        Builtin::KeepNanInfinity if family != TypeFamily::Float => Some("float columns"),
        Builtin::RoundTimes
            if !matches!(
                family,
                TypeFamily::Timestamp | TypeFamily::TimestampTz | TypeFamily::Time
            ) =>
        {
            Some("timestamp and time columns")
        }
        _ => None,
    }
}

/// The longest transform, in characters, that decant compiles.
const MAX_TRANSFORM_CHARS: usize = 10_000;

/// A transform quoted in a message: in backticks, cut after 80 characters (the code frame
/// shows where it is).
fn shown_transform(text: &str) -> String {
    const SHOWN: usize = 80;
    let text = text.trim();
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("`{}…` ({} characters)", &text[..cut], text.chars().count()),
        None => format!("`{text}`"),
    }
}

/// Decides the type (and transform) of one column, with the rule that chose it.
fn decide_type(
    plan: &Plan,
    engine: Engine,
    table: &Table,
    column: &Column,
    problems: &mut Vec<Diagnostic>,
) -> TypeDecision {
    let key = format!("{}.{}", table.name, column.name);
    let over = plan.columns.get(&key);
    let mut decision = default_mapping(engine, table, column);
    if let Some((i, rule)) = plan
        .types
        .iter()
        .enumerate()
        .find(|(_, r)| rule_matches(r, table, column))
    {
        if let Some(target) = parse_type_at(&rule.to, doc_path!["types", i, "to"], problems) {
            decision = TypeDecision {
                target,
                rule: format!("types[{i}]"),
                transform: rule.transform.clone(),
                warnings: Vec::new(),
            };
        }
    }
    if let Some(ColumnOverride { to: Some(to), .. }) = over {
        if let Some(target) = parse_type_at(to, doc_path!["columns", &key, "to"], problems) {
            decision = TypeDecision {
                target,
                rule: format!("columns.{key}"),
                transform: None,
                warnings: Vec::new(),
            };
        }
    }
    if let Some(ColumnOverride {
        transform: Some(t), ..
    }) = over
    {
        decision.transform = Some(t.clone());
    }
    // A transform that fixes the type (e.g. `hex_to_uuid`) with no `to:` given decides the type too.
    if let (Some(t), None) = (&decision.transform, over.and_then(|o| o.to.as_ref())) {
        if let Ok(Transform::Builtin(b)) = Transform::parse(t) {
            if let Some(produced) = b.produces() {
                if decision.rule.starts_with("default") {
                    if let Ok(target) = parse_target_type(produced) {
                        decision.target = target;
                        decision.rule = format!("columns.{key}.transform");
                        decision.warnings.clear();
                    }
                }
            }
        }
    }
    if !decision.rule.starts_with("default") && !decision.rule.starts_with("profile") {
        if let Some(profile) = &column.profile {
            if decision.transform.is_none() {
                decision.warnings = crate::engines::sqlite::types::profile_warnings(
                    &decision.target,
                    column,
                    profile,
                    None,
                );
            }
        }
    }
    // A built-in that decides which values are bad rows (`keep_nan_infinity`) changes what
    // the profile says about the column: its warnings are said again with it.
    if let (Some(profile), Some(Ok(Transform::Builtin(b)))) = (
        &column.profile,
        decision.transform.as_deref().map(Transform::parse),
    ) {
        if b.decides_bad_rows() {
            use crate::engines::sqlite::types::profile_warnings;
            let without = profile_warnings(&decision.target, column, profile, None);
            decision.warnings.retain(|w| !without.contains(w));
            decision
                .warnings
                .extend(profile_warnings(&decision.target, column, profile, Some(b)));
        }
    }
    decision
}

/// PostgreSQL's limit on the columns of one table (`MaxHeapAttributeNumber`).
const MAX_COLUMNS: usize = 1600;

/// Builds a resolved table's columns and identity; constraints come later.
pub(super) fn resolve_table_columns(
    plan: &Plan,
    engine: Engine,
    table: &Table,
    target_name: &str,
    problems: &mut Vec<Diagnostic>,
) -> ResolvedTable {
    let mut columns = Vec::new();
    let mut warnings = Vec::new();
    let mut seen: HashMap<String, (String, String)> = HashMap::new();
    for column in table.columns.iter().filter(|c| {
        !plan
            .columns
            .get(&format!("{}.{}", table.name, c.name))
            .is_some_and(|o| o.skip)
    }) {
        let key = format!("{}.{}", table.name, column.name);
        let over = plan.columns.get(&key);
        let target = target_column_name(plan, &table.name, &column.name);
        // Keyed by the name PostgreSQL keeps: names that differ only after 63 bytes collide too.
        let stored = stored_identifier(&target).to_owned();
        if let Some((previous, previous_target)) =
            seen.insert(stored.clone(), (column.name.clone(), target.clone()))
        {
            let renamed = over.and_then(|o| o.rename.as_ref()).is_some();
            problems.push(if previous_target == target {
                Diagnostic::error(
                    if renamed {
                        doc_path!["columns", &key, "rename"]
                    } else {
                        doc_path!["naming", "identifiers"]
                    },
                    format!(
                        "columns `{previous}` and `{}` of `{}` would both become `{target}`",
                        column.name, table.name
                    ),
                )
                .with_help(format!("rename one with `columns.{key}.rename`"))
            } else {
                Diagnostic::error(
                    // Without a rename of its own, point at where one would go.
                    if renamed {
                        doc_path!["columns", &key, "rename"]
                    } else {
                        doc_path!["columns", &key]
                    },
                    format!(
                        "columns `{previous}` and `{}` of `{}` would both become `{stored}`: \
                         PostgreSQL keeps only the first {MAX_IDENTIFIER_BYTES} bytes of a name",
                        column.name, table.name
                    ),
                )
                .with_help(format!(
                    "rename one with `columns.{key}.rename` to a name of at most \
                     {MAX_IDENTIFIER_BYTES} bytes, e.g. `{}`",
                    fit_identifier(&target)
                ))
            });
        }
        let decision = decide_type(plan, engine, table, column, problems);
        let transform_path = if over.and_then(|o| o.transform.as_ref()).is_some() {
            doc_path!["columns", &key, "transform"]
        } else {
            let rule_index = decision
                .rule
                .strip_prefix("types[")
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|i| i.parse::<usize>().ok());
            rule_index.map_or_else(
                || doc_path!["columns", &key],
                |i| doc_path!["types", i, "transform"],
            )
        };
        let transform = decision
            .transform
            .as_deref()
            .and_then(|t| parse_transform_at(t, transform_path.clone(), problems));
        if let Some(Transform::Builtin(b)) = &transform {
            if let Some(wants) = idle_builtin(*b, decision.target.family()) {
                problems.push(Diagnostic::warning(
                    transform_path.clone(),
                    format!(
                        "`{}` does nothing on `{key}`, mapped to `{}`: it is for {wants}",
                        b.name(),
                        decision.target.sql()
                    ),
                ));
            }
        }
        let inverse = inverse_of(plan, over, &decision.rule);
        if let Some(text) = inverse.as_deref() {
            // Where it is written: beside the transform's own place.
            let mut at = transform_path.clone();
            if at.len() > 2 {
                at.pop();
            }
            at.push("inverse".into());
            if let Err(why) = check_expression(text) {
                problems.push(Diagnostic::error(at, format!("inverse of `{key}`: {why}")));
            }
        } else if plan.settings.reversible {
            if let Err(why) = crate::mapping::inverse::invertible(transform.as_ref(), None) {
                problems.push(
                    Diagnostic::error(transform_path.clone(), format!("`{key}` cannot go back: {why}"))
                        .with_help("add `inverse:` beside the transform: an expression over `value` (the target's value as text) giving the source's value, e.g. `{{ value }}`; or leave `settings.reversible` off"),
                );
            }
        }
        let is_rowid_identity = table.rowid_alias.as_deref() == Some(column.name.as_str())
            && decision.target.family() == TypeFamily::Integer;
        let nullable = over
            .and_then(|o| o.nullable)
            .unwrap_or(!column.not_null && column.primary_key_position == 0);
        let mut column_warnings = decision.warnings.clone();
        let default = match over.and_then(|o| o.default.clone()) {
            Some(d) => Some(d),
            None => match column
                .default
                .as_deref()
                .map(|d| translate_default(d, &decision.target))
            {
                Some(DefaultTranslation::Sql(sql)) => Some(sql),
                Some(DefaultTranslation::Untranslatable(why)) => {
                    column_warnings.push(format!("default not carried: {why}"));
                    None
                }
                Some(DefaultTranslation::None) | None => None,
            },
        };
        columns.push(ResolvedColumn {
            source: column.name.clone(),
            target,
            declared: column.declared_type.clone(),
            target_type: decision.target,
            rule: decision.rule,
            transform,
            inverse,
            nullable,
            default,
            generated: None,
            identity: is_rowid_identity,
            warnings: column_warnings,
        });
    }
    if columns.len() > MAX_COLUMNS {
        // `create-table` would fail with "tables can have at most 1600 columns" after every
        // step before it ran; say so now, where the plan can change it.
        let path = if plan.tables.rename.contains_key(&table.name) {
            doc_path!["tables", "rename", &table.name]
        } else {
            doc_path!["tables", "include"]
        };
        problems.push(
            Diagnostic::error(
                path,
                format!(
                    "table `{}` has {} columns to carry; PostgreSQL allows at most {MAX_COLUMNS} in a table",
                    table.name,
                    columns.len()
                ),
            )
            .with_help(format!(
                "leave {} column(s) out with `columns.{}.<column>.skip: true`, or the table with `tables.exclude`",
                columns.len() - MAX_COLUMNS,
                table.name
            )),
        );
    }
    // Generated columns need every column's target name first.
    let ctx = expression_context(&columns);
    for resolved in columns.iter_mut() {
        let Some(column) = table.columns.iter().find(|c| c.name == resolved.source) else {
            continue;
        };
        if let Some(generated) = &column.generated {
            match translate(&generated.expression, &ctx) {
                Ok(sql) => {
                    resolved.generated = Some(sql);
                    resolved.default = None;
                    if !generated.stored {
                        resolved.warnings.push("VIRTUAL generated column becomes STORED (PostgreSQL stores generated columns)".to_owned());
                    }
                }
                Err(why) => resolved.warnings.push(format!(
                    "generation expression not translated ({why}); the values are copied as data"
                )),
            }
        }
    }
    let identity = columns.iter().find(|c| c.identity).map(|c| Identity {
        column: c.target.clone(),
        autoincrement_after: table.autoincrement.as_ref().and_then(|a| a.sequence_value),
    });
    if engine.without_rowid(table) {
        warnings.push(
            "WITHOUT ROWID table: carried as an ordinary table with its primary key".to_owned(),
        );
    }
    ResolvedTable {
        source: table.name.clone(),
        target: target_name.to_owned(),
        filter: None,
        source_rows: table.row_count,
        columns,
        key_columns: row_key(engine, table),
        rowid: engine.has_rowid() && !table.without_rowid,
        primary_key: None,
        uniques: Vec::new(),
        checks: Vec::new(),
        indexes: Vec::new(),
        foreign_keys: Vec::new(),
        identity,
        app_triggers: Vec::new(),
        app_trigger_modes: Vec::new(),
        app_rebuilt: Vec::new(),
        warnings,
    }
}

/// The columns that name a row: the primary key; on MySQL, which has no rowid, a table
/// without one is named by its first unique key whose columns are all NOT NULL (the key its
/// reads are paged by and its rejects are named by), when it has one.
fn row_key(engine: Engine, table: &Table) -> Vec<String> {
    if !table.primary_key.is_empty() || engine.has_rowid() {
        return table.primary_key.clone();
    }
    table
        .uniques
        .iter()
        .find(|u| {
            u.columns.iter().all(|c| {
                // Not a case-insensitive one: PostgreSQL gets it as a `lower()` index,
                // which a sync's ON CONFLICT cannot name.
                table
                    .column(c)
                    .is_some_and(|col| col.not_null && col.collation.is_none())
            })
        })
        .map(|u| u.columns.clone())
        .unwrap_or_default()
}

/// The expression context of a resolved table: source names → target names and kinds.
pub(super) fn expression_context(columns: &[ResolvedColumn]) -> ExpressionContext {
    let mut ctx = ExpressionContext::default();
    for c in columns {
        ctx.add_column(
            &c.source,
            &c.target,
            c.target_type.family() == TypeFamily::Boolean,
            c.target_type.family() == TypeFamily::Json,
        );
    }
    ctx
}

/// The plan's `inverse:` of a column: the column's own override's, else the type rule's that
/// gave its transform (`rule` is `types[i]`).
fn inverse_of(plan: &Plan, over: Option<&ColumnOverride>, rule: &str) -> Option<String> {
    if let Some(o) = over.filter(|o| o.transform.is_some() || o.inverse.is_some()) {
        return o.inverse.clone();
    }
    let i = rule
        .strip_prefix("types[")
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|i| i.parse::<usize>().ok())?;
    plan.types.get(i).and_then(|r| r.inverse.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::UniqueConstraint;

    fn table(
        primary_key: &[&str],
        unique: &[&str],
        not_null: bool,
        collation: Option<&str>,
    ) -> Table {
        let column = |name: &str| Column {
            name: name.to_owned(),
            declared_type: "varchar(20)".to_owned(),
            not_null,
            collation: collation.map(str::to_owned),
            ..Column::default()
        };
        Table {
            name: "t".to_owned(),
            columns: vec![column("id"), column("code")],
            primary_key: primary_key.iter().map(|c| (*c).to_owned()).collect(),
            uniques: vec![UniqueConstraint {
                name: None,
                columns: unique.iter().map(|c| (*c).to_owned()).collect(),
            }],
            ..Table::default()
        }
    }

    #[test]
    fn a_mysql_table_without_a_primary_key_is_named_by_a_not_null_case_sensitive_unique_key() {
        let key = |t: &Table, e: &str| row_key(Engine::from_dialect(e).unwrap(), t);
        assert_eq!(key(&table(&["id"], &["code"], true, None), "mysql"), ["id"]);
        assert_eq!(key(&table(&[], &["code"], true, None), "mysql"), ["code"]);
        // A NULL-able or case-insensitive unique key names no row; SQLite has its rowid.
        assert!(key(&table(&[], &["code"], false, None), "mysql").is_empty());
        assert!(key(&table(&[], &["code"], true, Some("NOCASE")), "mysql").is_empty());
        assert!(key(&table(&[], &["code"], true, None), "sqlite").is_empty());
    }
}

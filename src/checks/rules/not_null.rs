//! `not-null:<table.column>`: the dbt-style shorthand that no row of a target column holds
//! NULL; the failing rows are named by their keys.

use diesel::sql_types::{Nullable, Text};
use diesel::RunQueryDsl;

use super::{on_target_column, Check, Context, Needs, SourceReads};
use crate::checks::{target_table_sql, CheckError, CheckResult, Finding, Side};
use crate::dialect::{quote_ident, quote_literal};
use crate::engines::TargetConnection;
use crate::plan::model::Check as PlanCheck;
use crate::resolve::{ResolvedColumn, ResolvedTable};

/// `not-null:<table.column>`.
pub struct NotNull;

impl Check for NotNull {
    fn id(&self) -> &'static str {
        "not-null"
    }

    fn needs(&self) -> Needs {
        Needs {
            source: SourceReads::Nothing,
        }
    }

    fn applies(&self, entry: &PlanCheck) -> bool {
        entry.not_null.is_some()
    }

    fn one_per_entry(&self) -> bool {
        true
    }

    fn run(&self, entry: &PlanCheck, cx: &mut Context<'_, '_>, out: &mut dyn FnMut(CheckResult)) {
        let Some(reference) = &entry.not_null else {
            return;
        };
        out(on_target_column(
            cx,
            format!("not-null:{reference}"),
            reference,
            not_null,
        ));
    }
}

/// `json_build_object('id', "id", …)::text` naming a target row by the table's key (source
/// names); `NULL` when the table has no key.
fn key_sql(table: &ResolvedTable) -> String {
    let pairs: Vec<String> = table
        .key_columns
        .iter()
        .filter_map(|k| {
            table
                .column(k)
                .map(|c| format!("{}, {}", quote_literal(k), quote_ident(&c.target)))
        })
        .collect();
    if pairs.is_empty() {
        "NULL::text".to_owned()
    } else {
        format!("json_build_object({})::text", pairs.join(", "))
    }
}

/// A key sent as JSON text by the target, as `id=3`; text that is not a JSON object as it is.
fn key_text(json: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(key @ serde_json::Value::Object(_)) => crate::copy::key_text(&key),
        _ => json.to_owned(),
    }
}

#[derive(diesel::QueryableByName)]
struct Sample {
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
}

pub(super) fn not_null(
    conn: &mut TargetConnection,
    schema: &str,
    table: &ResolvedTable,
    column: &ResolvedColumn,
    id: &str,
) -> Result<Finding, CheckError> {
    let from = target_table_sql(schema, table);
    let col = quote_ident(&column.target);
    let n = conn
        .count_rows(&from, Some(&format!("{col} IS NULL")))
        .map_err(|e| CheckError::query(id, Side::Target, &e.sql, e.source))?;
    let place = format!("`{}`.`{}`.`{}`", schema, table.target, column.target);
    if n == 0 {
        return Ok(Finding::pass(
            "no NULL",
            vec![format!("{place}: no row holds NULL")],
        ));
    }
    let sample_sql = format!(
        "SELECT {} AS value FROM {from} WHERE {col} IS NULL LIMIT 5",
        key_sql(table)
    );
    let samples = diesel::sql_query(&sample_sql)
        .load::<Sample>(conn.postgres())
        .map_err(|e| CheckError::query(id, Side::Target, &sample_sql, e))?;
    let mut details = vec![format!("{place}: {n} row(s) hold NULL")];
    let keys: Vec<String> = samples
        .iter()
        .filter_map(|s| s.value.as_deref().map(key_text))
        .collect();
    if !keys.is_empty() {
        details.push(format!("e.g. {}", keys.join("; ")));
    }
    Ok(Finding::fail(format!("{n} NULL value(s)"), details))
}

//! `accepted-values:<table.column>`: the dbt-style shorthand that a target column holds only
//! the values the plan lists (or NULL); the others are listed with their row counts.

use diesel::sql_types::{Array, Text};
use diesel::RunQueryDsl;

use super::assertion::Scalar;
use super::grouped::{as_printed, group_lines, is_numeric, Group};
use super::{on_target_column, Check, Context, Needs, SourceReads};
use crate::checks::{target_table_sql, CheckError, CheckResult, Finding, Side};
use crate::dialect::quote_ident;
use crate::engines::TargetConnection;
use crate::plan::model::Check as PlanCheck;
use crate::resolve::{ResolvedColumn, ResolvedTable};

/// `accepted-values:<table.column>`.
pub struct AcceptedValues;

impl Check for AcceptedValues {
    fn id(&self) -> &'static str {
        "accepted-values"
    }

    fn needs(&self) -> Needs {
        Needs {
            source: SourceReads::Nothing,
        }
    }

    fn applies(&self, entry: &PlanCheck) -> bool {
        entry.accepted_values.is_some()
    }

    fn one_per_entry(&self) -> bool {
        true
    }

    fn run(&self, entry: &PlanCheck, cx: &mut Context<'_, '_>, out: &mut dyn FnMut(CheckResult)) {
        let Some(accepted) = &entry.accepted_values else {
            return;
        };
        let id = format!("accepted-values:{}", accepted.column);
        out(on_target_column(
            cx,
            id,
            &accepted.column,
            |conn, schema, table, column, id| {
                accepted_values(conn, schema, table, column, &accepted.values, id)
            },
        ));
    }
}

pub(super) fn accepted_values(
    conn: &mut TargetConnection,
    schema: &str,
    table: &ResolvedTable,
    column: &ResolvedColumn,
    values: &[serde_json::Value],
    id: &str,
) -> Result<Finding, CheckError> {
    let from = target_table_sql(schema, table);
    let col = quote_ident(&column.target);
    let numeric = is_numeric(column) && values.iter().all(serde_json::Value::is_number);
    let texts: Vec<String> = values
        .iter()
        .map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let shown = as_printed(&col, column);
    let outside = if numeric {
        format!("NOT ({col}::numeric = ANY($1::text[]::numeric[]))")
    } else {
        format!("NOT ({shown} = ANY($1::text[]))")
    };
    let sql = format!(
        "SELECT {shown} AS value, count(*) AS n, count(*) OVER () AS groups, \
         (sum(count(*)) OVER ())::bigint AS rows \
         FROM {from} WHERE {col} IS NOT NULL AND {outside} GROUP BY {col} \
         ORDER BY count(*) DESC, 1 LIMIT 5"
    );
    let groups = diesel::sql_query(&sql)
        .bind::<Array<Text>, _>(&texts)
        .load::<Group>(conn.postgres())
        .map_err(|e| CheckError::query(id, Side::Target, &sql, e))?;
    let place = format!("`{}`.`{}`.`{}`", schema, table.target, column.target);
    let accepted = values
        .iter()
        .map(|v| Scalar::from_json(v).show())
        .collect::<Vec<_>>()
        .join(", ");
    let Some(first) = groups.first() else {
        return Ok(Finding::pass(
            "every value is accepted",
            vec![format!(
                "{place}: every value is one of {accepted} (or NULL)"
            )],
        ));
    };
    Ok(Finding::fail(
        format!(
            "{} row(s) hold {} value(s) outside the accepted ones",
            first.rows, first.groups
        ),
        vec![
            format!("{place}: accepted {accepted}"),
            format!("found {}", group_lines(&groups, column)),
        ],
    ))
}

//! `unique:<table.column>`: the dbt-style shorthand that no value of a target column appears
//! twice (NULLs aside); the most repeated values are listed.

use diesel::RunQueryDsl;

use super::grouped::{as_printed, group_lines, Group};
use super::{on_target_column, Check, Context, Needs, SourceReads};
use crate::checks::{target_table_sql, CheckError, CheckResult, Finding, Side};
use crate::dialect::quote_ident;
use crate::engines::TargetConnection;
use crate::plan::model::Check as PlanCheck;
use crate::resolve::{ResolvedColumn, ResolvedTable};

/// `unique:<table.column>`.
pub struct Unique;

impl Check for Unique {
    fn id(&self) -> &'static str {
        "unique"
    }

    fn needs(&self) -> Needs {
        Needs {
            source: SourceReads::Nothing,
        }
    }

    fn applies(&self, entry: &PlanCheck) -> bool {
        entry.unique.is_some()
    }

    fn one_per_entry(&self) -> bool {
        true
    }

    fn run(&self, entry: &PlanCheck, cx: &mut Context<'_, '_>, out: &mut dyn FnMut(CheckResult)) {
        let Some(reference) = &entry.unique else {
            return;
        };
        out(on_target_column(
            cx,
            format!("unique:{reference}"),
            reference,
            unique,
        ));
    }
}

pub(super) fn unique(
    conn: &mut TargetConnection,
    schema: &str,
    table: &ResolvedTable,
    column: &ResolvedColumn,
    id: &str,
) -> Result<Finding, CheckError> {
    let from = target_table_sql(schema, table);
    let col = quote_ident(&column.target);
    let shown = as_printed(&col, column);
    let sql = format!(
        "SELECT {shown} AS value, count(*) AS n, count(*) OVER () AS groups, \
         (sum(count(*)) OVER ())::bigint AS rows \
         FROM {from} WHERE {col} IS NOT NULL GROUP BY {col} HAVING count(*) > 1 \
         ORDER BY count(*) DESC, 1 LIMIT 5"
    );
    let groups = diesel::sql_query(&sql)
        .load::<Group>(conn.postgres())
        .map_err(|e| CheckError::query(id, Side::Target, &sql, e))?;
    let place = format!("`{}`.`{}`.`{}`", schema, table.target, column.target);
    let Some(first) = groups.first() else {
        return Ok(Finding::pass(
            "every value is unique",
            vec![format!("{place}: no value appears twice (NULLs aside)")],
        ));
    };
    Ok(Finding::fail(
        format!(
            "{} value(s) appear more than once, in {} row(s)",
            first.groups, first.rows
        ),
        vec![
            format!("{place}: duplicated values"),
            format!("e.g. {}", group_lines(&groups, column)),
        ],
    ))
}

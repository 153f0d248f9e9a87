//! `row-counts:<table>`: the source rows the table's filter lets through, less the rows the
//! newest run rejected, against the rows in the target table.

use std::collections::HashMap;

use diesel::sql_types::Text;
use diesel::{PgConnection, RunQueryDsl, SqliteConnection};

use super::{count, target_table_sql, CheckError, Count, Finding, Side};
use crate::dialect::quote_ident;
use crate::plan::model::IfExists;
use crate::resolve::{ResolvedPlan, ResolvedTable};

/// The rows the newest run into a schema rejected, per source table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rejects {
    /// The newest run, when the journal records one.
    pub run: Option<i64>,
    pub by_table: HashMap<String, u64>,
}

#[derive(diesel::QueryableByName)]
struct RejectCount {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    run: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    source_table: Option<String>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Reads `decant.decant_rejects` for the newest run into `schema`; nothing when there is no
/// journal in the target.
pub fn newest_run_rejects(target: &mut PgConnection, schema: &str) -> Result<Rejects, CheckError> {
    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    let probe = "SELECT to_regclass('decant.decant_rejects') IS NOT NULL AND to_regclass('decant.runs') IS NOT NULL AS exists";
    let exists = diesel::sql_query(probe)
        .get_result::<Exists>(target)
        .map_err(|e| CheckError::query("row-counts", Side::Target, probe, e))?;
    if !exists.exists {
        return Ok(Rejects::default());
    }
    let sql = "WITH newest AS (SELECT max(id) AS id FROM decant.runs WHERE target_schema = $1) \
               SELECT newest.id AS run, r.source_table, count(r.run_id) AS n \
               FROM newest LEFT JOIN decant.decant_rejects r ON r.run_id = newest.id \
               GROUP BY newest.id, r.source_table";
    let rows = diesel::sql_query(sql)
        .bind::<Text, _>(schema)
        .load::<RejectCount>(target)
        .map_err(|e| CheckError::query("row-counts", Side::Target, sql, e))?;
    let mut rejects = Rejects::default();
    for row in rows {
        rejects.run = rejects.run.or(row.run);
        if let Some(table) = row.source_table {
            rejects.by_table.insert(table, count(row.n));
        }
    }
    Ok(rejects)
}

/// Compares one table's counts.
pub fn check(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
    resolved: &ResolvedPlan,
    table: &ResolvedTable,
    rejects: &Rejects,
    id: &str,
) -> Result<Finding, CheckError> {
    let mut source_sql = format!("SELECT count(*) AS n FROM {}", quote_ident(&table.source));
    if let Some(filter) = &table.filter {
        source_sql.push_str(&format!(" WHERE {filter}"));
    }
    let source_rows = diesel::sql_query(&source_sql)
        .get_result::<Count>(source)
        .map(|c| count(c.n))
        .map_err(|e| CheckError::query(id, Side::Source, &source_sql, e))?;
    let target_sql = format!(
        "SELECT count(*) AS n FROM {}",
        target_table_sql(&resolved.schema, table)
    );
    let target_rows = diesel::sql_query(&target_sql)
        .get_result::<Count>(target)
        .map(|c| count(c.n))
        .map_err(|e| CheckError::query(id, Side::Target, &target_sql, e))?;
    let rejected = rejects.by_table.get(&table.source).copied().unwrap_or(0);
    let expected = source_rows.saturating_sub(rejected);

    let mut details = vec![match &table.filter {
        Some(filter) => format!(
            "source `{}`: {source_rows} row(s) match the filter `{filter}`",
            table.source
        ),
        None => format!("source `{}`: {source_rows} row(s)", table.source),
    }];
    match rejects.run {
        Some(run) => details.push(format!("rejected by run {run}: {rejected} row(s)")),
        None => {
            details.push("no run recorded in the target's journal: no rejects subtracted".into())
        }
    }
    details.push(format!("expected in the target: {expected} row(s)"));
    details.push(format!(
        "target `{}`.`{}`: {target_rows} row(s)",
        resolved.schema, table.target
    ));
    let append = resolved.settings.if_exists == IfExists::Append;
    if append {
        details.push(
            "settings.if_exists is append: the target may also hold rows from before the run"
                .into(),
        );
    }
    let finding = if target_rows == expected || (append && target_rows > expected) {
        Finding::pass(
            format!("{target_rows} row(s) in the target, as expected"),
            details,
        )
    } else if target_rows < expected {
        Finding::fail(
            format!(
                "{} row(s) missing: expected {expected}, the target has {target_rows}",
                expected - target_rows
            ),
            details,
        )
    } else {
        Finding::fail(
            format!(
                "{} row(s) too many: expected {expected}, the target has {target_rows}",
                target_rows - expected
            ),
            details,
        )
    };
    Ok(finding)
}

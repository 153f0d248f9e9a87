//! `decant.decant_rejects`: the rows a run or a sync rejected, recorded, taken back and read
//! again, and the child rows a rejected parent takes with it.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::engines::TargetConnection;

use super::{query_error, Flag, JournalError};

/// Records a load's rejects in `decant.decant_rejects`, inside the load's transaction.
pub fn insert_rejects(
    conn: &mut TargetConnection,
    run: i64,
    rejects: &[crate::copy::Reject],
) -> Result<(), JournalError> {
    let sql = "INSERT INTO decant.decant_rejects (run_id, source_table, primary_key, source_column, value, reason) \
               SELECT $1::bigint, e->>'t', e->'k', e->>'c', e->>'v', e->>'r' FROM jsonb_array_elements($2::jsonb) AS e";
    for chunk in rejects.chunks(2000) {
        let payload = serde_json::Value::Array(
            chunk
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "t": r.table, "k": r.primary_key, "c": r.column, "v": r.value, "r": r.reason
                    })
                })
                .collect(),
        );
        diesel::sql_query(sql)
            .bind::<BigInt, _>(run)
            .bind::<Text, _>(payload.to_string())
            .execute(conn.postgres())
            .map_err(query_error(sql))?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct RejectRow {
    #[diesel(sql_type = Text)]
    source_table: String,
    #[diesel(sql_type = Text)]
    primary_key: String,
    #[diesel(sql_type = Text)]
    source_column: String,
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
    #[diesel(sql_type = Text)]
    reason: String,
}

impl RejectRow {
    fn into_reject(self) -> crate::copy::Reject {
        crate::copy::Reject {
            table: self.source_table,
            primary_key: serde_json::from_str(&self.primary_key).unwrap_or(serde_json::Value::Null),
            column: self.source_column,
            value: self.value.unwrap_or_default(),
            reason: self.reason,
            // The journal records the first bad value of a row (`source_column`, `value`).
            columns: Vec::new(),
        }
    }
}

/// Takes back rejects of `run` from `table` whose rows a sync looked at again: the row left
/// the source, or it was staged anew (it loads now, or is rejected again with a new record).
/// `keys` are rejects' primary keys as they are recorded (`{"id": 3}`).
pub fn delete_rejects(
    conn: &mut TargetConnection,
    run: i64,
    table: &str,
    keys: &[serde_json::Value],
) -> Result<(), JournalError> {
    let sql = "DELETE FROM decant.decant_rejects WHERE run_id = $1 AND source_table = $2 \
               AND primary_key IN (SELECT e FROM jsonb_array_elements($3::jsonb) AS e)";
    for chunk in keys.chunks(2000) {
        diesel::sql_query(sql)
            .bind::<BigInt, _>(run)
            .bind::<Text, _>(table)
            .bind::<Text, _>(serde_json::Value::Array(chunk.to_vec()).to_string())
            .execute(conn.postgres())
            .map_err(query_error(sql))?;
    }
    Ok(())
}

/// The rejects a run committed, in the order they were recorded.
pub fn run_rejects(
    conn: &mut TargetConnection,
    run: i64,
) -> Result<Vec<crate::copy::Reject>, JournalError> {
    let sql =
        "SELECT source_table, primary_key::text AS primary_key, source_column, value, reason \
               FROM decant.decant_rejects WHERE run_id = $1 ORDER BY rejected_at, ctid";
    let rows = diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .load::<RejectRow>(conn.postgres())
        .map_err(query_error(sql))?;
    Ok(rows.into_iter().map(RejectRow::into_reject).collect())
}

/// Runs a rendered `reject_children` statement: the child rows it deletes become rejects, and
/// are returned.
pub fn reject_children(
    conn: &mut TargetConnection,
    sql: &str,
) -> Result<Vec<crate::copy::Reject>, JournalError> {
    let rows = diesel::sql_query(sql)
        .load::<RejectRow>(conn.postgres())
        .map_err(query_error(sql))?;
    Ok(rows.into_iter().map(RejectRow::into_reject).collect())
}

/// The table rejects are recorded in, as decant's messages name it.
pub const REJECTS_TABLE: &str = "decant.decant_rejects";

/// What the newest run into a schema rejected: the run, `None` when the target records none
/// (no journal, or no run into the schema), and what it rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewestRunRejects<T> {
    pub run: Option<i64>,
    pub rejects: T,
}

/// Whether the target holds the journal's runs and rejects at all.
fn rejects_recorded(conn: &mut TargetConnection) -> Result<bool, JournalError> {
    let sql = "SELECT to_regclass('decant.decant_rejects') IS NOT NULL AND to_regclass('decant.runs') IS NOT NULL AS value";
    diesel::sql_query(sql)
        .get_result::<Flag>(conn.postgres())
        .map(|f| f.value)
        .map_err(query_error(sql))
}

#[derive(QueryableByName)]
struct RejectCount {
    #[diesel(sql_type = Nullable<BigInt>)]
    run: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    source_table: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many rows the newest run into `schema` rejected, per source table.
pub fn newest_run_reject_counts(
    conn: &mut TargetConnection,
    schema: &str,
) -> Result<NewestRunRejects<HashMap<String, u64>>, JournalError> {
    let mut newest = NewestRunRejects::default();
    if !rejects_recorded(conn)? {
        return Ok(newest);
    }
    let sql = "WITH newest AS (SELECT max(id) AS id FROM decant.runs WHERE target_schema = $1) \
               SELECT newest.id AS run, r.source_table, count(r.run_id) AS n \
               FROM newest LEFT JOIN decant.decant_rejects r ON r.run_id = newest.id \
               GROUP BY newest.id, r.source_table";
    let rows = diesel::sql_query(sql)
        .bind::<Text, _>(schema)
        .load::<RejectCount>(conn.postgres())
        .map_err(query_error(sql))?;
    for row in rows {
        newest.run = newest.run.or(row.run);
        if let Some(table) = row.source_table {
            // count() is never negative.
            newest
                .rejects
                .insert(table, u64::try_from(row.n).unwrap_or(0));
        }
    }
    Ok(newest)
}

#[derive(QueryableByName)]
struct RejectedKey {
    #[diesel(sql_type = Nullable<BigInt>)]
    run: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    k: Option<String>,
}

/// The primary keys of the rows the newest run into `schema` rejected from source table
/// `table`, as they are recorded (JSON text, `{"id": 3}`).
pub fn newest_run_rejected_keys(
    conn: &mut TargetConnection,
    schema: &str,
    table: &str,
) -> Result<NewestRunRejects<Vec<String>>, JournalError> {
    let mut newest = NewestRunRejects::default();
    if !rejects_recorded(conn)? {
        return Ok(newest);
    }
    let sql = "WITH run AS (SELECT max(id) AS id FROM decant.runs WHERE target_schema = $1) \
               SELECT run.id AS run, r.primary_key::text AS k FROM run \
               LEFT JOIN decant.decant_rejects r ON r.run_id = run.id AND r.source_table = $2";
    let rows = diesel::sql_query(sql)
        .bind::<Text, _>(schema)
        .bind::<Text, _>(table)
        .load::<RejectedKey>(conn.postgres())
        .map_err(query_error(sql))?;
    for row in rows {
        newest.run = newest.run.or(row.run);
        newest.rejects.extend(row.k);
    }
    Ok(newest)
}

//! `decant.table_baselines`: a table's row count before a run loaded it, recorded in the load's
//! own transaction (under `if_exists: append` the row-count check adds the run's rows to it).

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::engines::TargetConnection;

use super::{query_error, Flag, JournalError};

/// A table's row count before a run (`decant.table_baselines`): under `if_exists: append` the
/// row-count check expects those rows plus the ones the run loaded.
#[derive(QueryableByName)]
struct RowsBefore {
    #[diesel(sql_type = BigInt)]
    rows_before: i64,
}

/// Records how many rows `schema.table` holds now as its count before run `run`, and returns
/// the count recorded for it.
///
/// Call it on the load step's own connection, inside its transaction and before the COPY: then
/// the count and the load commit together or not at all, and no other writer can slip rows in
/// between (the load holds the table's lock). A count already recorded for this run and table is
/// kept: a load that runs again after its commit must not make its own rows the baseline.
pub fn record_baseline(
    conn: &mut TargetConnection,
    run: i64,
    schema: &str,
    table: &str,
) -> Result<u64, JournalError> {
    let from = format!(
        "{}.{}",
        crate::dialect::quote_ident(schema),
        crate::dialect::quote_ident(table)
    );
    let rows_now = conn
        .count_rows(&from, None)
        .map_err(|e| JournalError::Query {
            sql: e.sql,
            source: e.source,
        })?;
    // count(*) is a bigint: the count fits one.
    let rows_now = i64::try_from(rows_now).unwrap_or(i64::MAX);
    let sql =
        "WITH inserted AS (INSERT INTO decant.table_baselines (run_id, target_table, rows_before) \
             VALUES ($1, $2, $3) \
             ON CONFLICT (run_id, target_table) DO NOTHING RETURNING rows_before) \
         SELECT rows_before FROM inserted \
         UNION ALL SELECT rows_before FROM decant.table_baselines \
             WHERE run_id = $1 AND target_table = $2 AND NOT EXISTS (SELECT 1 FROM inserted)";
    let recorded = diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .bind::<Text, _>(table)
        .bind::<BigInt, _>(rows_now)
        .get_result::<RowsBefore>(conn.postgres())
        .map_err(query_error(sql))?;
    // count(*) is never negative, and the table's CHECK says so too.
    Ok(u64::try_from(recorded.rows_before).unwrap_or(0))
}

#[derive(QueryableByName)]
struct Baseline {
    #[diesel(sql_type = Text)]
    target_table: String,
    #[diesel(sql_type = BigInt)]
    rows_before: i64,
}

/// The row counts recorded for run `run`'s target tables before it loaded, by target table;
/// none when the journal predates `decant.table_baselines`.
pub fn rows_before(
    conn: &mut TargetConnection,
    run: i64,
) -> Result<HashMap<String, u64>, JournalError> {
    let probe = "SELECT to_regclass('decant.table_baselines') IS NOT NULL AS value";
    let exists = diesel::sql_query(probe)
        .get_result::<Flag>(conn.postgres())
        .map_err(query_error(probe))?;
    if !exists.value {
        return Ok(HashMap::new());
    }
    let sql = "SELECT target_table, rows_before FROM decant.table_baselines WHERE run_id = $1";
    let rows = diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .load::<Baseline>(conn.postgres())
        .map_err(query_error(sql))?;
    // count(*) is never negative, and the table's CHECK says so too.
    Ok(rows
        .into_iter()
        .map(|b| (b.target_table, u64::try_from(b.rows_before).unwrap_or(0)))
        .collect())
}

//! `decant.app_definitions`: the app's keys, indexes and details a run recorded before it dropped
//! them, and whether the run still owes the app their restore (`decant.runs.app_restore_pending`).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::engines::TargetConnection;

use super::{query_error, Flag, JournalError};

/// One of the app's definitions a run recorded before it touched them (`decant.app_definitions`).
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct AppDefinition {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub position: i32,
    /// `empty` (the statement that empties what the run loaded), `constraint`, `index`,
    /// `foreign_key` (each makes the object again) or `detail` (re-applied as it is).
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub table_name: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub statement: String,
}

/// Records the app's definitions for `run` and marks its restore pending. Call it in the
/// transaction that drops them, so the record and the drop commit together or neither.
pub fn record_app_definitions(
    conn: &mut TargetConnection,
    run: i64,
    definitions: &[AppDefinition],
) -> Result<(), JournalError> {
    let clear = "DELETE FROM decant.app_definitions WHERE run_id = $1";
    diesel::sql_query(clear)
        .bind::<BigInt, _>(run)
        .execute(conn.postgres())
        .map_err(query_error(clear))?;
    let sql =
        "INSERT INTO decant.app_definitions (run_id, position, kind, table_name, name, statement) \
               VALUES ($1, $2, $3, $4, $5, $6)";
    for d in definitions {
        diesel::sql_query(sql)
            .bind::<BigInt, _>(run)
            .bind::<diesel::sql_types::Integer, _>(d.position)
            .bind::<Text, _>(&d.kind)
            .bind::<Text, _>(&d.table_name)
            .bind::<Text, _>(&d.name)
            .bind::<Text, _>(&d.statement)
            .execute(conn.postgres())
            .map_err(query_error(sql))?;
    }
    set_app_restore_pending(conn, run, true)
}

/// The app's definitions `run` recorded, in the order they are made again.
pub fn app_definitions(
    conn: &mut TargetConnection,
    run: i64,
) -> Result<Vec<AppDefinition>, JournalError> {
    let sql = "SELECT position, kind, table_name, name, statement FROM decant.app_definitions \
               WHERE run_id = $1 ORDER BY position";
    diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .load(conn.postgres())
        .map_err(query_error(sql))
}

/// Whether `run` dropped the app's keys and has not put every one back.
pub fn app_restore_pending(conn: &mut TargetConnection, run: i64) -> Result<bool, JournalError> {
    let sql = "SELECT coalesce((SELECT app_restore_pending FROM decant.runs WHERE id = $1), false) AS value";
    diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .get_result::<Flag>(conn.postgres())
        .map(|f| f.value)
        .map_err(query_error(sql))
}

/// Marks whether `run` still owes the app its definitions.
pub fn set_app_restore_pending(
    conn: &mut TargetConnection,
    run: i64,
    pending: bool,
) -> Result<(), JournalError> {
    let sql = "UPDATE decant.runs SET app_restore_pending = $2 WHERE id = $1";
    diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .bind::<diesel::sql_types::Bool, _>(pending)
        .execute(conn.postgres())
        .map(|_| ())
        .map_err(query_error(sql))
}

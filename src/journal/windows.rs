//! `decant.source_windows`: the per-window sums of a source table a sync kept, so the next sync
//! reads only the windows that changed.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::engines::digest::WindowSums;
use crate::engines::TargetConnection;

use super::{query_error, JournalError};

#[derive(QueryableByName)]
struct KeptWindowsRow {
    #[diesel(sql_type = BigInt)]
    key_min: i64,
    #[diesel(sql_type = BigInt)]
    width: i64,
    #[diesel(sql_type = diesel::sql_types::Binary)]
    sums: Vec<u8>,
}

/// The windows a sync kept for `table` of `run`, if any.
pub fn kept_windows(
    conn: &mut TargetConnection,
    run: i64,
    table: &str,
) -> Result<Option<WindowSums>, JournalError> {
    let sql = "SELECT key_min, width, sums FROM decant.source_windows \
               WHERE run_id = $1 AND source_table = $2";
    let rows = diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .bind::<Text, _>(table)
        .load::<KeptWindowsRow>(conn.postgres())
        .map_err(query_error(sql))?;
    Ok(rows.into_iter().next().map(|r| WindowSums {
        key_min: r.key_min,
        width: r.width,
        sums: r
            .sums
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect(),
    }))
}

#[derive(QueryableByName)]
struct WindowShapeRow {
    #[diesel(sql_type = BigInt)]
    key_min: i64,
    #[diesel(sql_type = BigInt)]
    width: i64,
}

/// The first key and the width of the windows a sync kept for `table` of `run`, without their
/// sums (a table known unchanged needs only to place keys in them).
pub fn kept_window_shape(
    conn: &mut TargetConnection,
    run: i64,
    table: &str,
) -> Result<Option<(i64, i64)>, JournalError> {
    let sql = "SELECT key_min, width FROM decant.source_windows \
               WHERE run_id = $1 AND source_table = $2";
    let rows = diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .bind::<Text, _>(table)
        .load::<WindowShapeRow>(conn.postgres())
        .map_err(query_error(sql))?;
    Ok(rows.into_iter().next().map(|r| (r.key_min, r.width)))
}

/// Keeps `windows` for `table` of `run`, replacing what an earlier sync kept; in the sync's
/// transaction, so they change exactly when the target does.
pub fn keep_windows(
    conn: &mut TargetConnection,
    run: i64,
    table: &str,
    windows: &WindowSums,
) -> Result<(), JournalError> {
    let sql = "INSERT INTO decant.source_windows (run_id, source_table, key_min, width, sums) \
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT (run_id, source_table) DO UPDATE \
               SET key_min = excluded.key_min, width = excluded.width, sums = excluded.sums";
    let bytes: Vec<u8> = windows.sums.iter().flat_map(|s| s.to_le_bytes()).collect();
    diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .bind::<Text, _>(table)
        .bind::<BigInt, _>(windows.key_min)
        .bind::<BigInt, _>(windows.width)
        .bind::<diesel::sql_types::Binary, _>(bytes)
        .execute(conn.postgres())
        .map(|_| ())
        .map_err(query_error(sql))
}

//! `decant.syncs`: one row per `decant sync`, what it changed, and how long ago the target last
//! caught up with the source.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::engines::TargetConnection;

use super::{query_error, JournalError};

/// One `decant sync` as the journal keeps it.
#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct SyncRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub finished_at: String,
    #[diesel(sql_type = BigInt)]
    pub inserted: i64,
    #[diesel(sql_type = BigInt)]
    pub updated: i64,
    #[diesel(sql_type = BigInt)]
    pub deleted: i64,
    #[diesel(sql_type = BigInt)]
    pub rejected: i64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub seconds: f64,
    #[diesel(sql_type = Nullable<Text>)]
    pub error: Option<String>,
}

/// What a sync changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncCounts {
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    pub rejected: u64,
}

/// Records a sync of `run`; a succeeded one inside the sync's own transaction, so the record
/// commits with the changes.
pub fn record_sync(
    conn: &mut TargetConnection,
    run: i64,
    started: std::time::SystemTime,
    counts: SyncCounts,
    seconds: f64,
    error: Option<&str>,
) -> Result<(), JournalError> {
    let sql = "INSERT INTO decant.syncs (run_id, started_at, status, inserted, updated, deleted, rejected, seconds, error) \
               VALUES ($1, to_timestamp($2), $3, $4, $5, $6, $7, $8, $9)";
    let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let epoch = started
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .bind::<diesel::sql_types::Double, _>(epoch)
        .bind::<Text, _>(if error.is_some() {
            "failed"
        } else {
            "succeeded"
        })
        .bind::<BigInt, _>(as_i64(counts.inserted))
        .bind::<BigInt, _>(as_i64(counts.updated))
        .bind::<BigInt, _>(as_i64(counts.deleted))
        .bind::<BigInt, _>(as_i64(counts.rejected))
        .bind::<diesel::sql_types::Double, _>(seconds)
        .bind::<Nullable<Text>, _>(error)
        .execute(conn.postgres())
        .map(|_| ())
        .map_err(query_error(sql))
}

/// The syncs of a run, oldest first.
pub fn syncs(conn: &mut TargetConnection, run: i64) -> Result<Vec<SyncRow>, JournalError> {
    let sql = "SELECT id, status, to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || 'Z' AS finished_at, \
               inserted, updated, deleted, rejected, seconds, error FROM decant.syncs WHERE run_id = $1 ORDER BY id";
    diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .load::<SyncRow>(conn.postgres())
        .map_err(query_error(sql))
}

/// Seconds since the target last caught up with the source: the end of run `run` or of its
/// newest successful sync, whichever is later.
pub fn catch_up_age(conn: &mut TargetConnection, run: i64) -> Result<f64, JournalError> {
    #[derive(QueryableByName)]
    struct Age {
        #[diesel(sql_type = diesel::sql_types::Double)]
        seconds: f64,
    }
    let sql = "SELECT coalesce(extract(epoch FROM clock_timestamp() - greatest(r.finished_at, \
               (SELECT max(s.finished_at) FROM decant.syncs s WHERE s.run_id = r.id AND s.status = 'succeeded')))::float8, 1e12) AS seconds \
               FROM decant.runs r WHERE r.id = $1";
    diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .get_result::<Age>(conn.postgres())
        .map(|a| a.seconds)
        .map_err(query_error(sql))
}

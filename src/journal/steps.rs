//! `decant.steps`: a step's state (running, done exactly once in its own transaction, stopped)
//! and its row counts.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::engines::TargetConnection;

use super::{query_error, JournalError};

/// Where a step stands in `decant.steps.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    Running,
    Done,
    Failed,
    /// Rolled back because the run was stopped by a signal.
    Interrupted,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Running => "running",
            StepState::Done => "done",
            StepState::Failed => "failed",
            StepState::Interrupted => "interrupted",
        }
    }
}

/// Marks a step as running (again, when resumed).
pub fn step_started(conn: &mut TargetConnection, run: i64, step: &str) -> Result<(), JournalError> {
    // A `done` record is never overwritten: the step's effect committed with it.
    let sql = "INSERT INTO decant.steps (run_id, step_id, state) VALUES ($1, $2, 'running') \
               ON CONFLICT (run_id, step_id) DO UPDATE SET state = 'running', started_at = clock_timestamp(), finished_at = NULL, error = NULL \
               WHERE decant.steps.state <> 'done'";
    let changed = diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .bind::<Text, _>(step)
        .execute(conn.postgres())
        .map_err(query_error(sql))?;
    if changed == 0 {
        return Err(JournalError::StepAlreadyDone {
            run,
            step: step.to_owned(),
        });
    }
    Ok(())
}

/// Row counts of a load step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RowCounts {
    pub read: u64,
    pub written: u64,
    pub rejected: u64,
}

/// Marks a step as done, with its row counts when it moved rows. Call it inside the step's own
/// transaction, so the record commits with the step's effect (see the module doc).
pub fn step_done(
    conn: &mut TargetConnection,
    run: i64,
    step: &str,
    rows: Option<RowCounts>,
) -> Result<(), JournalError> {
    // Only a `running` record becomes `done`: anything else means another attempt has the
    // step, and this transaction must not commit.
    let sql = "UPDATE decant.steps SET state = 'done', finished_at = clock_timestamp(), rows_read = $3, rows_written = $4, rows_rejected = $5 \
               WHERE run_id = $1 AND step_id = $2 AND state = 'running'";
    let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let changed = diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .bind::<Text, _>(step)
        .bind::<Nullable<BigInt>, _>(rows.map(|r| as_i64(r.read)))
        .bind::<Nullable<BigInt>, _>(rows.map(|r| as_i64(r.written)))
        .bind::<Nullable<BigInt>, _>(rows.map(|r| as_i64(r.rejected)))
        .execute(conn.postgres())
        .map_err(query_error(sql))?;
    if changed == 0 {
        return Err(JournalError::StepNotRunning {
            run,
            step: step.to_owned(),
        });
    }
    Ok(())
}

/// Marks a step that did not finish as `failed` or `interrupted`, with the reason.
pub fn step_stopped(
    conn: &mut TargetConnection,
    run: i64,
    step: &str,
    state: StepState,
    error: &str,
) -> Result<(), JournalError> {
    let sql = "UPDATE decant.steps SET state = $4, finished_at = clock_timestamp(), error = $3 WHERE run_id = $1 AND step_id = $2";
    diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .bind::<Text, _>(step)
        .bind::<Text, _>(error)
        .bind::<Text, _>(state.as_str())
        .execute(conn.postgres())
        .map(|_| ())
        .map_err(query_error(sql))
}

/// One step of a run as `decant status` shows it.
#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct StepRow {
    #[diesel(sql_type = Text)]
    pub step_id: String,
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = Nullable<diesel::sql_types::Double>)]
    pub seconds: Option<f64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub rows_read: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub rows_written: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub rows_rejected: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub error: Option<String>,
}

/// The steps of a run in the order they started.
pub fn steps(conn: &mut TargetConnection, run: i64) -> Result<Vec<StepRow>, JournalError> {
    let sql = "SELECT step_id, state, extract(epoch FROM (finished_at - started_at))::float8 AS seconds, rows_read, rows_written, rows_rejected, error \
               FROM decant.steps WHERE run_id = $1 ORDER BY started_at, step_id";
    diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .load::<StepRow>(conn.postgres())
        .map_err(query_error(sql))
}

/// Moves `n` rows of a load step from written to rejected (rows rejected after the load).
pub fn move_to_rejected(
    conn: &mut TargetConnection,
    run: i64,
    step: &str,
    n: u64,
) -> Result<(), JournalError> {
    let sql = "UPDATE decant.steps SET rows_written = rows_written - $3, rows_rejected = rows_rejected + $3 \
               WHERE run_id = $1 AND step_id = $2";
    diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .bind::<Text, _>(step)
        .bind::<BigInt, _>(i64::try_from(n).unwrap_or(i64::MAX))
        .execute(conn.postgres())
        .map(|_| ())
        .map_err(query_error(sql))
}

//! `decant.runs`: a run's identity, its state, the statements that start and end it, and the
//! runs `decant status` lists.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::engines::TargetConnection;

use super::{query_error, JournalError, StepState};

/// Where a run stands in `decant.runs.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Running,
    Succeeded,
    Failed,
    /// Stopped by SIGINT/SIGTERM; resumable.
    Interrupted,
    RolledBack,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::Interrupted => "interrupted",
            RunState::RolledBack => "rolled_back",
        }
    }

    /// The state a journal row names; `None` for a value this version does not know.
    pub fn parse(text: &str) -> Option<RunState> {
        [
            RunState::Running,
            RunState::Succeeded,
            RunState::Failed,
            RunState::Interrupted,
            RunState::RolledBack,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// What identifies a run for resuming: the plan's hash and the source's fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunIdentity {
    pub plan_name: String,
    pub plan_hash: String,
    /// The plan and the source's schema without row counts (`decant sync` compares it).
    pub schema_hash: String,
    pub source_fingerprint: String,
    pub target_schema: String,
}

/// Records a new run and returns its id.
pub fn start_run(
    conn: &mut TargetConnection,
    who: &RunIdentity,
    resumed_from: Option<i64>,
    created_tables: &[String],
) -> Result<i64, JournalError> {
    let sql = "INSERT INTO decant.runs (plan_name, plan_hash, source_fingerprint, target_schema, decant_version, resumed_from, created_tables, schema_hash) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
    diesel::sql_query(sql)
        .bind::<Text, _>(&who.plan_name)
        .bind::<Text, _>(&who.plan_hash)
        .bind::<Text, _>(&who.source_fingerprint)
        .bind::<Text, _>(&who.target_schema)
        .bind::<Text, _>(env!("CARGO_PKG_VERSION"))
        .bind::<Nullable<BigInt>, _>(resumed_from)
        .bind::<diesel::sql_types::Array<Text>, _>(created_tables)
        .bind::<Text, _>(&who.schema_hash)
        .get_result::<Id>(conn.postgres())
        .map(|r| r.id)
        .map_err(query_error(sql))
}

/// Sets a run's state: its outcome, `running` again when it is resumed, or `rolled_back`,
/// which records `rolled_back_at` and keeps the time the run itself finished.
pub fn finish_run(
    conn: &mut TargetConnection,
    run: i64,
    state: RunState,
) -> Result<(), JournalError> {
    let sql = "UPDATE decant.runs SET status = $2, \
               finished_at = CASE $2 WHEN 'running' THEN NULL WHEN 'rolled_back' THEN finished_at ELSE clock_timestamp() END, \
               rolled_back_at = CASE WHEN $2 = 'rolled_back' THEN clock_timestamp() ELSE rolled_back_at END \
               WHERE id = $1";
    diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .bind::<Text, _>(state.as_str())
        .execute(conn.postgres())
        .map(|_| ())
        .map_err(query_error(sql))
}

/// One run as `decant status` shows it.
#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct RunRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub plan_name: String,
    #[diesel(sql_type = Text)]
    pub plan_hash: String,
    #[diesel(sql_type = Text)]
    pub source_fingerprint: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub started_at: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub finished_at: Option<String>,
    /// When `decant rollback` undid it.
    #[diesel(sql_type = Nullable<Text>)]
    pub rolled_back_at: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub resumed_from: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Array<Text>)]
    pub created_tables: Vec<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub schema_hash: Option<String>,
}

const RUN_COLUMNS: &str = "id, plan_name, plan_hash, source_fingerprint, status, \
    to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || 'Z' AS started_at, \
    to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || 'Z' AS finished_at, \
    to_char(rolled_back_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || 'Z' AS rolled_back_at, resumed_from, created_tables, schema_hash";

/// Runs into `schema`, newest first.
pub fn runs(
    conn: &mut TargetConnection,
    schema: &str,
    limit: i64,
) -> Result<Vec<RunRow>, JournalError> {
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM decant.runs WHERE target_schema = $1 ORDER BY id DESC LIMIT $2"
    );
    diesel::sql_query(&sql)
        .bind::<Text, _>(schema)
        .bind::<BigInt, _>(limit)
        .load::<RunRow>(conn.postgres())
        .map_err(query_error(&sql))
}

impl RunRow {
    /// The run's state; `None` for a value this version of decant does not know.
    pub fn state(&self) -> Option<RunState> {
        RunState::parse(&self.status)
    }
}

/// Ends a run that did not succeed, in one transaction: steps still `running` take the run's
/// state (`failed` or `interrupted`) with `reason`, and the run is closed with `state`.
pub fn end_run(
    conn: &mut TargetConnection,
    run: i64,
    state: RunState,
    reason: &str,
) -> Result<(), JournalError> {
    let step_state = match state {
        RunState::Interrupted => StepState::Interrupted,
        _ => StepState::Failed,
    };
    conn.transaction(|conn| {
        let sql = "UPDATE decant.steps SET state = $2, finished_at = clock_timestamp(), error = coalesce(error, $3) \
                   WHERE run_id = $1 AND state = 'running'";
        diesel::sql_query(sql)
            .bind::<BigInt, _>(run)
            .bind::<Text, _>(step_state.as_str())
            .bind::<Text, _>(reason)
            .execute(conn.postgres())
            .map_err(query_error(sql))?;
        finish_run(conn, run, state)
    })
}

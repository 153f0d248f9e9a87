//! decant's own tables in the target (`decant.runs`, `decant.steps`, `decant.decant_rejects`,
//! `decant.table_baselines`, `decant.syncs`, `decant.source_windows`, `decant.app_definitions`),
//! created and upgraded by embedded diesel migrations, every statement that reads or writes them
//! (one file per table family), and the one-run-per-target lock; [`reverse`] is the way back's
//! journal, a sidecar file beside the SQLite file it describes.
//!
//! Exactly once: a step's `done` record is written by [`step_done`] inside the step's own
//! transaction, on the lane connection that does the step's work, so PostgreSQL commits the
//! effect and the record together (its DDL is transactional) or neither. A resume trusts
//! `done` and nothing else. The other way — looking in the target for a step's effect before
//! running it again — was not chosen: "the table has rows" or "the index exists" cannot tell
//! a committed load from a half-made one, nor a user SQL step's effect at all. Two kinds of
//! step cannot share one transaction and are exact by other means: `migrations:` steps
//! (Diesel commits each migration with its row in `__diesel_schema_migrations`, so a repeat
//! applies only what is still pending) and checks (they write nothing).

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::engines::TargetConnection;

mod app_definitions;
mod baselines;
mod connect;
mod locks;
mod rejects;
pub mod reverse;
mod runs;
mod steps;
mod syncs;
mod windows;

pub use app_definitions::{
    app_definitions, app_restore_pending, record_app_definitions, set_app_restore_pending,
    AppDefinition,
};
pub use baselines::{record_baseline, rows_before};
pub use connect::{connect, connect_creating_database};
pub use locks::{
    await_earlier_attempts, backend_pid, cancel_backend, join_work, lock_target,
    lock_target_shared, run_alive, set_application_name, unlock_target, unlock_target_shared,
};
pub use rejects::{
    delete_rejects, insert_rejects, newest_run_reject_counts, newest_run_rejected_keys,
    reject_children, run_rejects, NewestRunRejects, REJECTS_TABLE,
};
pub use runs::{end_run, finish_run, runs, start_run, RunIdentity, RunRow, RunState};
pub use steps::{
    move_to_rejected, step_done, step_started, step_stopped, steps, RowCounts, StepRow, StepState,
};
pub use syncs::{catch_up_age, record_sync, syncs, SyncCounts, SyncRow};
pub use windows::{keep_windows, kept_window_shape, kept_windows};

/// The journal's schema migrations, embedded in the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("src/journal/migrations");

/// The schema that holds decant's journal in the target.
pub const JOURNAL_SCHEMA: &str = "decant";

/// What can go wrong with the target connection, the lock or the journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    // libpq's reason is part of the message, not a `#[source]`: every command prints it,
    // however it prints errors, and the password is masked in it.
    #[error("cannot connect to the target `{url}`: {reason}{}", help.as_ref().map(|h| format!("\n   = help: {h}")).unwrap_or_default())]
    Connect {
        url: String,
        reason: String,
        help: Option<String>,
        /// The database the server says does not exist, for `run --create-database`.
        missing_database: Option<String>,
    },
    #[error("journal: `{sql}` failed")]
    Query {
        sql: String,
        #[source]
        source: diesel::result::Error,
    },
    #[error("journal: upgrading decant's tables in schema `decant` failed: {0}")]
    Migrations(String),
    #[error(transparent)]
    Template(#[from] crate::dialect::TemplateError),
    #[error("journal: transaction failed")]
    Transaction(#[from] diesel::result::Error),
    #[error("another decant run or check holds the lock on this target (schema `{schema}`); wait for it to finish, or see `decant status`")]
    Locked { schema: String },
    #[error("a decant run is in progress on this target (schema `{schema}`): checks now would see it half-done; wait for it to finish (see `decant status`)")]
    RunInProgress { schema: String },
    #[error("a connection of an earlier attempt on this target (schema `{schema}`) is still alive after {seconds} s and may still commit: {backends}; decant cannot know what it will commit until it ends: end it (a stopped server process ends once it is continued), then run again")]
    EarlierAttemptAlive {
        schema: String,
        backends: String,
        seconds: u64,
    },
    #[error("step `{step}` of run {run} is already done: an earlier attempt committed it, and it is never run again")]
    StepAlreadyDone { run: i64, step: String },
    #[error("step `{step}` of run {run} is not running (another attempt of the run took it over); its work is rolled back")]
    StepNotRunning { run: i64, step: String },
}

fn query_error(sql: &str) -> impl FnOnce(diesel::result::Error) -> JournalError + '_ {
    move |source| JournalError::Query {
        sql: sql.to_owned(),
        source,
    }
}

/// Creates or upgrades the journal tables (the migration bookkeeping lives in `decant` too).
pub fn prepare_journal(conn: &mut TargetConnection) -> Result<(), JournalError> {
    use diesel::connection::SimpleConnection;
    let setup = "CREATE SCHEMA IF NOT EXISTS decant; SET search_path TO decant";
    conn.batch_execute(setup).map_err(query_error(setup))?;
    let outcome = conn
        .postgres()
        .run_pending_migrations(MIGRATIONS)
        .map(|_| ())
        .map_err(|e| JournalError::Migrations(e.to_string()));
    let reset = "SET search_path TO DEFAULT";
    conn.batch_execute(reset).map_err(query_error(reset))?;
    outcome
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    value: bool,
}

/// Whether the journal exists in this target at all.
pub fn journal_exists(conn: &mut TargetConnection) -> Result<bool, JournalError> {
    let sql = "SELECT to_regclass('decant.runs') IS NOT NULL AS value";
    diesel::sql_query(sql)
        .get_result::<Flag>(conn.postgres())
        .map(|f| f.value)
        .map_err(query_error(sql))
}

#[derive(QueryableByName)]
struct Applied {
    #[diesel(sql_type = Text)]
    version: String,
    #[diesel(sql_type = Text)]
    run_on: String,
}

/// Versions applied by `migrations:` plan steps, with when, oldest first; empty when none ran.
pub fn applied_migrations(
    conn: &mut TargetConnection,
) -> Result<Vec<(String, String)>, JournalError> {
    let exists = "SELECT to_regclass('__diesel_schema_migrations') IS NOT NULL AS value";
    let present = diesel::sql_query(exists)
        .get_result::<Flag>(conn.postgres())
        .map_err(query_error(exists))?;
    if !present.value {
        return Ok(Vec::new());
    }
    let sql = "SELECT version::text AS version, to_char(run_on, 'YYYY-MM-DD HH24:MI:SS') AS run_on FROM __diesel_schema_migrations ORDER BY version";
    diesel::sql_query(sql)
        .load::<Applied>(conn.postgres())
        .map(|rows| rows.into_iter().map(|a| (a.version, a.run_on)).collect())
        .map_err(query_error(sql))
}

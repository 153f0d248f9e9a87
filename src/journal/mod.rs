//! decant's own tables in the target (`decant.runs`, `decant.steps`, `decant.decant_rejects`,
//! `decant.table_baselines`, `decant.syncs`, `decant.source_windows`), created and upgraded by embedded diesel
//! migrations, the statements that write them, and the one-run-per-target lock.
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
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::dialect::quote_ident;
use crate::engines::TargetConnection;
use crate::source::digest::WindowSums;
use crate::url::{mask_passwords, redact_url, with_database};

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

/// Opens a connection to the target; the error shows the URL without its password and
/// libpq's reason, and says how to create the database when the server has none of that name.
pub fn connect(url: &str) -> Result<TargetConnection, JournalError> {
    TargetConnection::establish(url).map_err(|e| connect_error(url, &e))
}

fn connect_error(url: &str, e: &diesel::ConnectionError) -> JournalError {
    // libpq's message spans lines ("connection to server at … failed: FATAL:  …").
    let reason = mask_passwords(url, &e.to_string())
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let missing_database = missing_database(&reason);
    let help = missing_database.as_ref().map(|name| {
        format!(
            "create it with `psql '{}' -c 'CREATE DATABASE {}'` (or `createdb`), or let `decant run --create-database` create it",
            redact_url(&with_database(url, "postgres")),
            quote_ident(name)
        )
    });
    JournalError::Connect {
        url: redact_url(url),
        reason,
        help,
        missing_database,
    }
}

/// The name in libpq's `database "x" does not exist`.
fn missing_database(reason: &str) -> Option<String> {
    let start = reason.find("database \"")? + "database \"".len();
    let rest = &reason[start..];
    let end = rest.find("\" does not exist")?;
    Some(rest[..end].to_owned())
}

/// Connects to the target, first creating its database when the server has none of that
/// name (`run --create-database`); says whether it created one.
pub fn connect_creating_database(
    url: &str,
) -> Result<(TargetConnection, Option<String>), JournalError> {
    use diesel::connection::SimpleConnection;
    let name = match connect(url) {
        Ok(conn) => return Ok((conn, None)),
        Err(JournalError::Connect {
            missing_database: Some(name),
            ..
        }) => name,
        Err(e) => return Err(e),
    };
    let server = with_database(url, "postgres");
    let mut admin = connect(&server)?;
    let sql = format!("CREATE DATABASE {}", quote_ident(&name));
    admin.batch_execute(&sql).map_err(query_error(&sql))?;
    Ok((connect(url)?, Some(name)))
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

/// How long a held lock is tried again before the run is refused.
const LOCK_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Takes the session-level advisory lock of `schema` on this connection, exclusively (a run,
/// a rollback). PostgreSQL releases it when the connection ends, so a killed run can never
/// leave a stale lock.
///
/// The release happens when the holder's server process exits, a moment after its client has
/// gone: a run started right after another one ended may find the lock still held. So a held
/// lock is tried again for up to two seconds; a run that is really in progress holds it far
/// longer, and is then reported.
///
/// Holding it is not enough to start work: a killed run's lane may still be inside a COMMIT
/// (a stopped or slow backend outlives its client), so the lock is only taken once every
/// connection of an earlier attempt has ended (see [`await_earlier_attempts`]).
pub fn lock_target(conn: &mut TargetConnection, schema: &str) -> Result<(), JournalError> {
    let sql = "SELECT pg_try_advisory_lock(hashtextextended('decant:' || $1, 0)) AS value";
    try_lock(conn, schema, sql, || JournalError::Locked {
        schema: schema.to_owned(),
    })?;
    await_earlier_attempts(conn, schema, earlier_attempt_wait())
}

/// The key of the lock every lane of a run holds in shared mode for as long as its connection
/// lives (`decant-work:<schema>`), distinct from the run's own lock (`decant:<schema>`).
const WORK_KEY: &str = "hashtextextended('decant-work:' || $1, 0)";

/// How long a run waits for an earlier attempt's connections to end before it refuses:
/// `DECANT_EARLIER_ATTEMPT_WAIT` seconds, 60 unless set.
fn earlier_attempt_wait() -> std::time::Duration {
    let seconds = std::env::var("DECANT_EARLIER_ATTEMPT_WAIT")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(60);
    std::time::Duration::from_secs(seconds)
}

/// Marks a lane's connection as doing a run's work: it holds the work lock in shared mode
/// until it ends, and names itself in `pg_stat_activity`, so a later attempt can tell that it
/// may still commit and wait for it (a shared lock is free to take while no one holds it
/// exclusively, which only [`await_earlier_attempts`] does, for an instant).
pub fn join_work(
    conn: &mut TargetConnection,
    schema: &str,
    name: &str,
) -> Result<(), JournalError> {
    set_application_name(conn, name)?;
    let sql = format!("SELECT pg_try_advisory_lock_shared({WORK_KEY}) AS value");
    try_lock(conn, schema, &sql, || JournalError::Locked {
        schema: schema.to_owned(),
    })
}

/// Names this connection in `pg_stat_activity` (`decant run 7 lane 1`, …).
pub fn set_application_name(conn: &mut TargetConnection, name: &str) -> Result<(), JournalError> {
    let sql = "SELECT set_config('application_name', $1, false) IS NOT NULL AS value";
    diesel::sql_query(sql)
        .bind::<Text, _>(name)
        .get_result::<Flag>(conn.postgres())
        .map(|_| ())
        .map_err(query_error(sql))
}

#[derive(QueryableByName)]
struct WorkHolder {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
    #[diesel(sql_type = Text)]
    application_name: String,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Text)]
    query: String,
}

/// Waits until no connection of an earlier attempt on `schema` can still commit, ending them
/// first. A killed run's lanes hold the work lock until their backends exit; a backend stopped
/// or busy inside COMMIT exits only after the COMMIT has landed or failed, and then the journal
/// tells the truth about its step. So work (and reading the journal's `done` steps) starts only
/// once the work lock can be taken exclusively. `pg_terminate_backend` hurries the others: it
/// never cuts a COMMIT in half (PostgreSQL holds interrupts while it commits). After `wait`
/// the run is refused, naming the backends: they may still commit, and nothing can tell what
/// they will do until they end.
pub fn await_earlier_attempts(
    conn: &mut TargetConnection,
    schema: &str,
    wait: std::time::Duration,
) -> Result<(), JournalError> {
    let holders_sql = format!(
        "SELECT a.pid, coalesce(a.application_name, '') AS application_name, coalesce(a.state, '') AS state, \
         left(coalesce(a.query, ''), 200) AS query \
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.pid <> pg_backend_pid() \
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND ((l.classid::bigint << 32) | l.objid::bigint) = {WORK_KEY} ORDER BY a.pid"
    );
    let exclusive = format!("SELECT pg_try_advisory_lock({WORK_KEY}) AS value");
    let release = format!("SELECT pg_advisory_unlock({WORK_KEY}) AS value");
    let started = std::time::Instant::now();
    let mut ended: Vec<i32> = Vec::new();
    let mut told = false;
    loop {
        let free = diesel::sql_query(&exclusive)
            .bind::<Text, _>(schema)
            .get_result::<Flag>(conn.postgres())
            .map_err(query_error(&exclusive))?
            .value;
        if free {
            diesel::sql_query(&release)
                .bind::<Text, _>(schema)
                .get_result::<Flag>(conn.postgres())
                .map_err(query_error(&release))?;
            if told {
                crate::signals::say("decant: the earlier attempt's connections have ended\n");
            }
            return Ok(());
        }
        let holders = diesel::sql_query(&holders_sql)
            .bind::<Text, _>(schema)
            .load::<WorkHolder>(conn.postgres())
            .map_err(query_error(&holders_sql))?;
        for h in &holders {
            // A connection that is merely closing (a run that just ended) is gone within
            // milliseconds: only a wait that lasts is worth a word.
            if !told && started.elapsed() >= std::time::Duration::from_secs(1) {
                crate::signals::say(&format!(
                    "decant: waiting for the connections of an earlier attempt on schema `{schema}` to end (they may still commit): pid {} `{}` {} `{}`\n",
                    h.pid, h.application_name, h.state, h.query
                ));
                told = true;
            }
            if !ended.contains(&h.pid) {
                // Refused to a role that may not end it: then only waiting helps.
                let _ = cancel_backend_ending(conn, h.pid);
                ended.push(h.pid);
            }
        }
        if started.elapsed() >= wait {
            return Err(JournalError::EarlierAttemptAlive {
                schema: schema.to_owned(),
                backends: holders
                    .iter()
                    .map(|h| {
                        format!(
                            "pid {} `{}` ({}: `{}`)",
                            h.pid, h.application_name, h.state, h.query
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                seconds: wait.as_secs(),
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Asks PostgreSQL to end a backend (`pg_terminate_backend`, without waiting).
fn cancel_backend_ending(conn: &mut TargetConnection, pid: i32) -> Result<(), JournalError> {
    let sql = "SELECT pg_terminate_backend($1) AS value";
    diesel::sql_query(sql)
        .bind::<diesel::sql_types::Integer, _>(pid)
        .get_result::<Flag>(conn.postgres())
        .map(|_| ())
        .map_err(query_error(sql))
}

/// Lets the exclusive lock of `schema` go (the session's end would too, a moment later).
pub fn unlock_target(conn: &mut TargetConnection, schema: &str) -> Result<(), JournalError> {
    let sql = "SELECT pg_advisory_unlock(hashtextextended('decant:' || $1, 0)) AS value";
    diesel::sql_query(sql)
        .bind::<Text, _>(schema)
        .get_result::<Flag>(conn.postgres())
        .map(|_| ())
        .map_err(query_error(sql))
}

/// Lets the shared lock of `schema` go.
pub fn unlock_target_shared(conn: &mut TargetConnection, schema: &str) -> Result<(), JournalError> {
    let sql = "SELECT pg_advisory_unlock_shared(hashtextextended('decant:' || $1, 0)) AS value";
    diesel::sql_query(sql)
        .bind::<Text, _>(schema)
        .get_result::<Flag>(conn.postgres())
        .map(|_| ())
        .map_err(query_error(sql))
}

/// Takes the same lock in shared mode (a check): any number of checks at once, none while a
/// run holds it, and no run starts while a check holds it.
pub fn lock_target_shared(conn: &mut TargetConnection, schema: &str) -> Result<(), JournalError> {
    let sql = "SELECT pg_try_advisory_lock_shared(hashtextextended('decant:' || $1, 0)) AS value";
    try_lock(conn, schema, sql, || JournalError::RunInProgress {
        schema: schema.to_owned(),
    })
}

fn try_lock(
    conn: &mut TargetConnection,
    schema: &str,
    sql: &str,
    refused: impl Fn() -> JournalError,
) -> Result<(), JournalError> {
    let started = std::time::Instant::now();
    loop {
        let got = diesel::sql_query(sql)
            .bind::<Text, _>(schema)
            .get_result::<Flag>(conn.postgres())
            .map_err(query_error(sql))?;
        if got.value {
            return Ok(());
        }
        if started.elapsed() >= LOCK_GRACE {
            return Err(refused());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Whether some session holds the lock of `schema` exclusively, i.e. a run (or rollback) is
/// alive. Asked without waiting, and the probe's shared lock is let go at once.
pub fn run_alive(conn: &mut TargetConnection, schema: &str) -> Result<bool, JournalError> {
    let sql = "SELECT pg_try_advisory_lock_shared(hashtextextended('decant:' || $1, 0)) AS value";
    let free = diesel::sql_query(sql)
        .bind::<Text, _>(schema)
        .get_result::<Flag>(conn.postgres())
        .map_err(query_error(sql))?
        .value;
    if free {
        let unlock =
            "SELECT pg_advisory_unlock_shared(hashtextextended('decant:' || $1, 0)) AS value";
        diesel::sql_query(unlock)
            .bind::<Text, _>(schema)
            .get_result::<Flag>(conn.postgres())
            .map_err(query_error(unlock))?;
    }
    Ok(!free)
}

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

const RUN_COLUMNS: &str = "id, plan_name, plan_hash, source_fingerprint, status, \
    to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || 'Z' AS started_at, \
    to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || 'Z' AS finished_at, \
    to_char(rolled_back_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || 'Z' AS rolled_back_at, resumed_from, created_tables, schema_hash";

/// Whether the journal exists in this target at all.
pub fn journal_exists(conn: &mut TargetConnection) -> Result<bool, JournalError> {
    let sql = "SELECT to_regclass('decant.runs') IS NOT NULL AS value";
    diesel::sql_query(sql)
        .get_result::<Flag>(conn.postgres())
        .map(|f| f.value)
        .map_err(query_error(sql))
}

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

/// The steps of a run in the order they started.
pub fn steps(conn: &mut TargetConnection, run: i64) -> Result<Vec<StepRow>, JournalError> {
    let sql = "SELECT step_id, state, extract(epoch FROM (finished_at - started_at))::float8 AS seconds, rows_read, rows_written, rows_rejected, error \
               FROM decant.steps WHERE run_id = $1 ORDER BY started_at, step_id";
    diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .load::<StepRow>(conn.postgres())
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

#[derive(QueryableByName)]
struct Pid {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

/// The server process behind this connection, so another connection can cancel its statement.
pub fn backend_pid(conn: &mut TargetConnection) -> Result<i32, JournalError> {
    let sql = "SELECT pg_backend_pid() AS pid";
    diesel::sql_query(sql)
        .get_result::<Pid>(conn.postgres())
        .map(|p| p.pid)
        .map_err(query_error(sql))
}

/// Cancels the statement server process `pid` is running (nothing when it is idle); its
/// transaction then fails and rolls back.
pub fn cancel_backend(conn: &mut TargetConnection, pid: i32) -> Result<(), JournalError> {
    let sql = "SELECT pg_cancel_backend($1) AS value";
    diesel::sql_query(sql)
        .bind::<diesel::sql_types::Integer, _>(pid)
        .get_result::<Flag>(conn.postgres())
        .map(|_| ())
        .map_err(query_error(sql))
}

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

/// The rejects a run committed, in the order they were recorded.
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
    let sql = format!(
        "WITH counted AS (SELECT count(*) AS n FROM {}.{}), \
         inserted AS (INSERT INTO decant.table_baselines (run_id, target_table, rows_before) \
             SELECT $1, $2, n FROM counted \
             ON CONFLICT (run_id, target_table) DO NOTHING RETURNING rows_before) \
         SELECT rows_before FROM inserted \
         UNION ALL SELECT rows_before FROM decant.table_baselines \
             WHERE run_id = $1 AND target_table = $2 AND NOT EXISTS (SELECT 1 FROM inserted)",
        crate::dialect::quote_ident(schema),
        crate::dialect::quote_ident(table)
    );
    let recorded = diesel::sql_query(&sql)
        .bind::<BigInt, _>(run)
        .bind::<Text, _>(table)
        .get_result::<RowsBefore>(conn.postgres())
        .map_err(|source| JournalError::Query {
            sql: sql.clone(),
            source,
        })?;
    // count(*) is never negative, and the table's CHECK says so too.
    Ok(u64::try_from(recorded.rows_before).unwrap_or(0))
}

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

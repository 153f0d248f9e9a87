//! decant's own tables in the target (`decant.runs`, `decant.steps`, `decant.decant_rejects`),
//! created and upgraded by embedded diesel migrations, and the one-run-per-target lock.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::url::redact_url;

/// The journal's schema migrations, embedded in the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("src/journal/migrations");

/// The schema that holds decant's journal in the target.
pub const JOURNAL_SCHEMA: &str = "decant";

/// What can go wrong with the target connection, the lock or the journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot connect to the target `{url}`")]
    Connect {
        url: String,
        #[source]
        source: diesel::ConnectionError,
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
    #[error("another decant run holds the lock on this target (schema `{schema}`); wait for it to finish, or see `decant status`")]
    Locked { schema: String },
}

fn query_error(sql: &str) -> impl FnOnce(diesel::result::Error) -> JournalError + '_ {
    move |source| JournalError::Query {
        sql: sql.to_owned(),
        source,
    }
}

/// Opens a connection to the target; the error shows the URL without its password.
pub fn connect(url: &str) -> Result<PgConnection, JournalError> {
    PgConnection::establish(url).map_err(|source| JournalError::Connect {
        url: redact_url(url),
        source,
    })
}

/// Creates or upgrades the journal tables (the migration bookkeeping lives in `decant` too).
pub fn prepare_journal(conn: &mut PgConnection) -> Result<(), JournalError> {
    use diesel::connection::SimpleConnection;
    let setup = "CREATE SCHEMA IF NOT EXISTS decant; SET search_path TO decant";
    conn.batch_execute(setup).map_err(query_error(setup))?;
    let outcome = conn
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

/// Takes the session-level advisory lock of `schema` on this connection. PostgreSQL releases
/// it when the connection ends, so a killed run can never leave a stale lock.
///
/// The release happens when the holder's server process exits, a moment after its client has
/// gone: a run started right after another one ended may find the lock still held. So a held
/// lock is tried again for up to two seconds; a run that is really in progress holds it far
/// longer, and is then reported.
pub fn lock_target(conn: &mut PgConnection, schema: &str) -> Result<(), JournalError> {
    let sql = "SELECT pg_try_advisory_lock(hashtextextended('decant:' || $1, 0)) AS value";
    let started = std::time::Instant::now();
    loop {
        let got = diesel::sql_query(sql)
            .bind::<Text, _>(schema)
            .get_result::<Flag>(conn)
            .map_err(query_error(sql))?;
        if got.value {
            return Ok(());
        }
        if started.elapsed() >= LOCK_GRACE {
            return Err(JournalError::Locked {
                schema: schema.to_owned(),
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
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
    pub source_fingerprint: String,
    pub target_schema: String,
}

/// Records a new run and returns its id.
pub fn start_run(
    conn: &mut PgConnection,
    who: &RunIdentity,
    resumed_from: Option<i64>,
    created_tables: &[String],
) -> Result<i64, JournalError> {
    let sql = "INSERT INTO decant.runs (plan_name, plan_hash, source_fingerprint, target_schema, decant_version, resumed_from, created_tables) \
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    diesel::sql_query(sql)
        .bind::<Text, _>(&who.plan_name)
        .bind::<Text, _>(&who.plan_hash)
        .bind::<Text, _>(&who.source_fingerprint)
        .bind::<Text, _>(&who.target_schema)
        .bind::<Text, _>(env!("CARGO_PKG_VERSION"))
        .bind::<Nullable<BigInt>, _>(resumed_from)
        .bind::<diesel::sql_types::Array<Text>, _>(created_tables)
        .get_result::<Id>(conn)
        .map(|r| r.id)
        .map_err(query_error(sql))
}

/// Marks a step as running (again, when resumed).
pub fn step_started(conn: &mut PgConnection, run: i64, step: &str) -> Result<(), JournalError> {
    let sql = "INSERT INTO decant.steps (run_id, step_id, state) VALUES ($1, $2, 'running') \
               ON CONFLICT (run_id, step_id) DO UPDATE SET state = 'running', started_at = clock_timestamp(), finished_at = NULL, error = NULL";
    diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .bind::<Text, _>(step)
        .execute(conn)
        .map(|_| ())
        .map_err(query_error(sql))
}

/// Row counts of a load step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RowCounts {
    pub read: u64,
    pub written: u64,
    pub rejected: u64,
}

/// Marks a step as done, with its row counts when it moved rows.
pub fn step_done(
    conn: &mut PgConnection,
    run: i64,
    step: &str,
    rows: Option<RowCounts>,
) -> Result<(), JournalError> {
    let sql = "UPDATE decant.steps SET state = 'done', finished_at = clock_timestamp(), rows_read = $3, rows_written = $4, rows_rejected = $5 \
               WHERE run_id = $1 AND step_id = $2";
    let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .bind::<Text, _>(step)
        .bind::<Nullable<BigInt>, _>(rows.map(|r| as_i64(r.read)))
        .bind::<Nullable<BigInt>, _>(rows.map(|r| as_i64(r.written)))
        .bind::<Nullable<BigInt>, _>(rows.map(|r| as_i64(r.rejected)))
        .execute(conn)
        .map(|_| ())
        .map_err(query_error(sql))
}

/// Marks a step as failed with the error.
pub fn step_failed(
    conn: &mut PgConnection,
    run: i64,
    step: &str,
    error: &str,
) -> Result<(), JournalError> {
    let sql = "UPDATE decant.steps SET state = 'failed', finished_at = clock_timestamp(), error = $3 WHERE run_id = $1 AND step_id = $2";
    diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .bind::<Text, _>(step)
        .bind::<Text, _>(error)
        .execute(conn)
        .map(|_| ())
        .map_err(query_error(sql))
}

/// Closes a run with its outcome: `succeeded`, `failed` or `rolled_back`.
pub fn finish_run(conn: &mut PgConnection, run: i64, status: &str) -> Result<(), JournalError> {
    let sql = "UPDATE decant.runs SET status = $2, finished_at = clock_timestamp() WHERE id = $1";
    diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .bind::<Text, _>(status)
        .execute(conn)
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
    #[diesel(sql_type = Nullable<BigInt>)]
    pub resumed_from: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Array<Text>)]
    pub created_tables: Vec<String>,
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
    to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || 'Z' AS finished_at, resumed_from, created_tables";

/// Whether the journal exists in this target at all.
pub fn journal_exists(conn: &mut PgConnection) -> Result<bool, JournalError> {
    let sql = "SELECT to_regclass('decant.runs') IS NOT NULL AS value";
    diesel::sql_query(sql)
        .get_result::<Flag>(conn)
        .map(|f| f.value)
        .map_err(query_error(sql))
}

/// Runs into `schema`, newest first.
pub fn runs(
    conn: &mut PgConnection,
    schema: &str,
    limit: i64,
) -> Result<Vec<RunRow>, JournalError> {
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM decant.runs WHERE target_schema = $1 ORDER BY id DESC LIMIT $2"
    );
    diesel::sql_query(&sql)
        .bind::<Text, _>(schema)
        .bind::<BigInt, _>(limit)
        .load::<RunRow>(conn)
        .map_err(query_error(&sql))
}

/// The steps of a run in the order they started.
pub fn steps(conn: &mut PgConnection, run: i64) -> Result<Vec<StepRow>, JournalError> {
    let sql = "SELECT step_id, state, extract(epoch FROM (finished_at - started_at))::float8 AS seconds, rows_read, rows_written, rows_rejected, error \
               FROM decant.steps WHERE run_id = $1 ORDER BY started_at, step_id";
    diesel::sql_query(sql)
        .bind::<BigInt, _>(run)
        .load::<StepRow>(conn)
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
pub fn applied_migrations(conn: &mut PgConnection) -> Result<Vec<(String, String)>, JournalError> {
    let exists = "SELECT to_regclass('__diesel_schema_migrations') IS NOT NULL AS value";
    let present = diesel::sql_query(exists)
        .get_result::<Flag>(conn)
        .map_err(query_error(exists))?;
    if !present.value {
        return Ok(Vec::new());
    }
    let sql = "SELECT version::text AS version, to_char(run_on, 'YYYY-MM-DD HH24:MI:SS') AS run_on FROM __diesel_schema_migrations ORDER BY version";
    diesel::sql_query(sql)
        .load::<Applied>(conn)
        .map(|rows| rows.into_iter().map(|a| (a.version, a.run_on)).collect())
        .map_err(query_error(sql))
}

//! The one-run-per-target advisory locks (a run's exclusive one, a check's shared one, the lanes'
//! work lock) and the server processes behind the connections: named, awaited, cancelled.

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::engines::TargetConnection;

use super::{query_error, Flag, JournalError};

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

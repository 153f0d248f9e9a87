//! PostgreSQL's write pause: the plan's tables locked `IN EXCLUSIVE MODE` by an open read-only
//! transaction on a connection of its own; plain reads go on, the app's writers wait.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::PgConnection;
use minijinja::context;

use crate::dialect::{source_template, Templates};
use crate::engines::pause::PauseError;
use crate::url::{mask_passwords, redact_url};

/// The lock statement, as messages name it.
const LOCK: &str = "LOCK TABLE … IN EXCLUSIVE MODE";

/// Locks `tables` (the plan's source tables, in the connection's schema) of the database at
/// `raw` against every writer, waiting at most `wait` (`lock_timeout`) for the writes in flight
/// to end. The transaction is read-only: the lock is all it takes.
pub fn begin(raw: &str, tables: &[String], wait: Duration) -> Result<PgConnection, PauseError> {
    let open_failed = |reason: String| PauseError::Open {
        url: redact_url(raw),
        reason: mask_passwords(raw, &reason),
    };
    let mut conn = super::source::open(raw).map_err(|e| open_failed(e.to_string()))?;
    let mut tables = tables.to_vec();
    // One order for every pause, so two never wait for each other halfway.
    tables.sort();
    tables.dedup();
    let lock = Templates::new(None)
        .render(
            &source_template("postgres", "pause_tables"),
            context! { tables },
        )
        .map_err(|e| open_failed(e.to_string()))?;
    // A lock wait beyond `lock_timeout` is an error, and the transaction goes with it.
    let begin = format!(
        "BEGIN ISOLATION LEVEL READ COMMITTED, READ ONLY; SET LOCAL lock_timeout = '{}ms'",
        wait.as_millis().max(1)
    );
    conn.batch_execute(&begin)
        .map_err(|e| open_failed(e.to_string()))?;
    if tables.is_empty() {
        return Ok(conn);
    }
    let started = Instant::now();
    match conn.batch_execute(&lock) {
        Ok(()) => Ok(conn),
        Err(e) => {
            let reason = e.to_string();
            Err(if reason.contains("permission denied") {
                PauseError::LockDenied { reason }
            } else {
                PauseError::Busy {
                    sql: LOCK,
                    reason,
                    seconds: started.elapsed().as_secs(),
                }
            })
        }
    }
}

/// Ends the pause: the transaction wrote nothing, its end frees the tables.
pub fn release(mut conn: PgConnection) -> diesel::QueryResult<()> {
    conn.batch_execute("ROLLBACK")
}

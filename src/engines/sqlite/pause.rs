//! SQLite's write pause: the database's write lock held by an open `BEGIN IMMEDIATE` on a
//! handle that never writes; the app's writers wait on their busy timeout.

use std::path::Path;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};

use crate::engines::pause::PauseError;

/// Takes the write lock of the database at `path`, waiting at most `wait` for a write in
/// flight to end.
pub fn begin(path: &Path, wait: Duration) -> Result<SqliteConnection, PauseError> {
    if !path.exists() {
        return Err(PauseError::NotFound(path.to_path_buf()));
    }
    // A read-write handle only to take the lock: a read-only one's BEGIN IMMEDIATE
    // takes no write lock at all. Nothing is ever written through it.
    let text = path.to_string_lossy();
    let mut conn = SqliteConnection::establish(&text).map_err(|e| PauseError::Open {
        url: text.clone().into_owned(),
        reason: e.to_string(),
    })?;
    let timeout = format!("PRAGMA busy_timeout = {}", wait.as_millis());
    conn.batch_execute(&timeout).map_err(|e| PauseError::Open {
        url: text.clone().into_owned(),
        reason: e.to_string(),
    })?;
    let started = Instant::now();
    conn.batch_execute("BEGIN IMMEDIATE")
        .map_err(|e| PauseError::Busy {
            sql: "BEGIN IMMEDIATE",
            reason: e.to_string(),
            seconds: started.elapsed().as_secs(),
        })?;
    Ok(conn)
}

/// Ends the pause (the transaction wrote nothing).
pub fn release(mut conn: SqliteConnection) -> diesel::QueryResult<()> {
    conn.batch_execute("ROLLBACK")
}

//! A cutover's write pause on the source, without writing it, asked of the source's engine
//! (`<engine>/pause.rs`: SQLite's write lock, MySQL's global read lock, PostgreSQL's table locks).
//!
//! Readers go on meanwhile (decant's own final sync reads through other connections); the app's
//! writers wait: on SQLite for as long as their busy timeout allows, on MySQL for as long as
//! `lock_wait_timeout`, on PostgreSQL for as long as their `lock_timeout` (none by default). No
//! lock outlives this process: SQLite's is a file lock the kernel drops when the process dies,
//! MySQL's and PostgreSQL's end with the connection.

use std::time::Duration;

use diesel::{MysqlConnection, PgConnection, SqliteConnection};

use super::{mysql, postgres, sqlite};
use crate::url::SourceUrl;

/// A held write pause. `release` ends it; so does dropping it, or the process ending.
pub enum WritePause {
    Sqlite(SqliteConnection),
    Mysql(MysqlConnection),
    Postgres(PgConnection),
}

/// Why the pause could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum PauseError {
    #[error("source database `{}` does not exist", .0.display())]
    NotFound(std::path::PathBuf),
    #[error("cannot open the source `{url}` to hold its write lock: {reason}")]
    Open { url: String, reason: String },
    #[error("the app's writes did not let go of the source's write lock within {seconds} s (`{sql}`: {reason}); try again when the app is quieter, or raise `--lock-wait`")]
    Busy {
        sql: &'static str,
        reason: String,
        seconds: u64,
    },
    #[error("MySQL refused `FLUSH TABLES WITH READ LOCK`: {reason}; the pause needs the RELOAD privilege (`GRANT RELOAD ON *.* TO …`), or stop the app yourself and run `decant cutover --app-stopped`, which verifies that nothing changed")]
    Refused { reason: String },
    #[error("PostgreSQL refused `LOCK TABLE … IN EXCLUSIVE MODE` on the plan's tables: {reason}; the pause needs the UPDATE, DELETE or TRUNCATE privilege on each of them (`GRANT UPDATE ON … TO …`; decant only locks them, in a read-only transaction), or stop the app yourself and run `decant cutover --app-stopped`, which verifies that nothing changed")]
    LockDenied { reason: String },
}

impl WritePause {
    /// Takes the pause, waiting at most `wait` for the app's writes in flight to end. `tables`
    /// are the plan's source tables: where the engine locks tables (PostgreSQL), those.
    pub fn begin(
        url: &SourceUrl,
        tables: &[String],
        wait: Duration,
    ) -> Result<WritePause, PauseError> {
        match url {
            SourceUrl::Sqlite(path) => sqlite::pause::begin(path, wait).map(WritePause::Sqlite),
            SourceUrl::Mysql(raw) => mysql::pause::begin(raw, wait).map(WritePause::Mysql),
            SourceUrl::Postgres(raw) => {
                postgres::pause::begin(raw, tables, wait).map(WritePause::Postgres)
            }
        }
    }

    /// Lets the app's writers go on. Even when this fails the lock goes with the connection.
    pub fn release(self) -> Result<(), String> {
        match self {
            WritePause::Sqlite(conn) => sqlite::pause::release(conn),
            WritePause::Mysql(conn) => mysql::pause::release(conn),
            WritePause::Postgres(conn) => postgres::pause::release(conn),
        }
        .map_err(|e| e.to_string())
    }
}

//! A cutover's write pause on the source, without writing it, asked of the source's engine
//! (`<engine>/pause.rs`: SQLite's write lock, MySQL's global read lock); released on drop or death.
//!
//! Readers go on meanwhile (decant's own final sync reads through other connections); the app's
//! writers wait: on SQLite for as long as their busy timeout allows, on MySQL for as long as
//! `lock_wait_timeout`. Neither lock outlives this process: SQLite's is a file lock the kernel
//! drops when the process dies, MySQL's ends with the connection.

use std::time::Duration;

use diesel::{MysqlConnection, SqliteConnection};

use super::{mysql, sqlite};
use crate::url::SourceUrl;

/// A held write pause. `release` ends it; so does dropping it, or the process ending.
pub enum WritePause {
    Sqlite(SqliteConnection),
    Mysql(MysqlConnection),
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
}

impl WritePause {
    /// Takes the pause, waiting at most `wait` for the app's writes in flight to end.
    pub fn begin(url: &SourceUrl, wait: Duration) -> Result<WritePause, PauseError> {
        match url {
            SourceUrl::Sqlite(path) => sqlite::pause::begin(path, wait).map(WritePause::Sqlite),
            SourceUrl::Mysql(raw) => mysql::pause::begin(raw, wait).map(WritePause::Mysql),
            SourceUrl::Postgres(raw) => Err(PauseError::Open {
                url: crate::url::redact_url(raw),
                reason: "pausing the writers of a PostgreSQL source is not supported yet; stop the app yourself and run `decant cutover --app-stopped`".to_owned(),
            }),
        }
    }

    /// Lets the app's writers go on. Even when this fails the lock goes with the connection.
    pub fn release(self) -> Result<(), String> {
        match self {
            WritePause::Sqlite(conn) => sqlite::pause::release(conn),
            WritePause::Mysql(conn) => mysql::pause::release(conn),
        }
        .map_err(|e| e.to_string())
    }
}

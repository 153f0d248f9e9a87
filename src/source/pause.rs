//! A cutover's write pause on the source, without writing it: SQLite's write lock held by an
//! open `BEGIN IMMEDIATE`, MySQL's `FLUSH TABLES WITH READ LOCK`; released on drop or death.
//!
//! Readers go on meanwhile (decant's own final sync reads through other connections); the app's
//! writers wait: on SQLite for as long as their busy timeout allows, on MySQL for as long as
//! `lock_wait_timeout`. Neither lock outlives this process: SQLite's is a file lock the kernel
//! drops when the process dies, MySQL's ends with the connection.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, MysqlConnection, SqliteConnection};

use crate::url::{redact_url, SourceUrl};

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
            SourceUrl::Sqlite(path) => {
                if !path.exists() {
                    return Err(PauseError::NotFound(path.clone()));
                }
                // A read-write handle only to take the lock: a read-only one's BEGIN IMMEDIATE
                // takes no write lock at all. Nothing is ever written through it.
                let text = path.to_string_lossy();
                let mut conn =
                    SqliteConnection::establish(&text).map_err(|e| PauseError::Open {
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
                Ok(WritePause::Sqlite(conn))
            }
            SourceUrl::Postgres(raw) => Err(PauseError::Open {
                url: redact_url(raw),
                reason: "pausing the writers of a PostgreSQL source is not supported yet; stop the app yourself and run `decant cutover --app-stopped`".to_owned(),
            }),
            SourceUrl::Mysql(raw) => {
                let mut conn = super::mysql::open(raw).map_err(|e| PauseError::Open {
                    url: redact_url(raw),
                    reason: crate::url::mask_passwords(raw, &e.to_string()),
                })?;
                let timeout = format!("SET SESSION lock_wait_timeout = {}", wait.as_secs().max(1));
                conn.batch_execute(&timeout).map_err(|e| PauseError::Open {
                    url: redact_url(raw),
                    reason: e.to_string(),
                })?;
                let started = Instant::now();
                match conn.batch_execute("FLUSH TABLES WITH READ LOCK") {
                    Ok(()) => Ok(WritePause::Mysql(conn)),
                    Err(e) => {
                        let reason = e.to_string();
                        if reason.contains("denied") || reason.contains("RELOAD") {
                            Err(PauseError::Refused { reason })
                        } else {
                            Err(PauseError::Busy {
                                sql: "FLUSH TABLES WITH READ LOCK",
                                reason,
                                seconds: started.elapsed().as_secs(),
                            })
                        }
                    }
                }
            }
        }
    }

    /// Lets the app's writers go on. Even when this fails the lock goes with the connection.
    pub fn release(self) -> Result<(), String> {
        match self {
            WritePause::Sqlite(mut conn) => conn.batch_execute("ROLLBACK"),
            WritePause::Mysql(mut conn) => conn.batch_execute("UNLOCK TABLES"),
        }
        .map_err(|e| e.to_string())
    }
}

//! MySQL's write pause: `FLUSH TABLES WITH READ LOCK` on a connection of its own, which needs
//! the RELOAD privilege; the app's writers wait up to their `lock_wait_timeout`.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::MysqlConnection;

use crate::engines::pause::PauseError;
use crate::url::redact_url;

/// Takes the global read lock of the server at `raw`, waiting at most `wait` for the writes
/// in flight to end.
pub fn begin(raw: &str, wait: Duration) -> Result<MysqlConnection, PauseError> {
    let mut conn = super::session::open(raw).map_err(|e| PauseError::Open {
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
        Ok(()) => Ok(conn),
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

/// Ends the pause.
pub fn release(mut conn: MysqlConnection) -> diesel::QueryResult<()> {
    conn.batch_execute("UNLOCK TABLES")
}

//! `DECANT_TRACE_SQL=FILE`: every statement decant sends to any database, appended to FILE as
//! it goes on the wire — for an operator's review, and for the test that holds `decant plan` to it.
//!
//! Diesel reports each connection's events to the instrumentation made for it when it opens
//! ([`diesel::connection::set_default_instrumentation`]); decant installs one only when the
//! variable is set, so an untraced process pays nothing. One JSON object per line:
//! `{"connection":N,"url":"…"}` when connection N opens (its password masked), then
//! `{"connection":N,"sql":"…","binds":"[…]"}` per statement, in the order each connection sent
//! them (lines of different connections interleave as the threads ran).

use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use diesel::connection::{Instrumentation, InstrumentationEvent};

/// The environment variable naming the trace file.
pub const TRACE_SQL: &str = "DECANT_TRACE_SQL";

/// The trace file, shared by every connection's instrumentation.
static TRACE: OnceLock<Mutex<File>> = OnceLock::new();

/// The number the next connection opened gets.
static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

/// Starts tracing when [`TRACE_SQL`] names a file (appended to, created if missing); before
/// any connection opens, so every one is traced.
pub fn install_from_env() -> Result<(), TraceError> {
    let Some(path) = std::env::var_os(TRACE_SQL) else {
        return Ok(());
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|source| TraceError::Open {
            path: path.to_string_lossy().into_owned(),
            source,
        })?;
    // A second call keeps the first file: one process, one trace.
    let _ = TRACE.set(Mutex::new(file));
    diesel::connection::set_default_instrumentation(instrumentation)
        .map_err(|e| TraceError::Install(e.to_string()))
}

/// Why tracing could not start.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("cannot open the SQL trace file `{path}` ({TRACE_SQL})")]
    Open {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot install the SQL trace: {0}")]
    Install(String),
}

/// The instrumentation of one new connection: its number, then each statement it sends.
fn instrumentation() -> Option<Box<dyn Instrumentation>> {
    let connection = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    Some(Box::new(move |event: InstrumentationEvent<'_>| {
        let line = match event {
            InstrumentationEvent::StartEstablishConnection { url, .. } => serde_json::json!({
                "connection": connection,
                "url": crate::url::redact_url(url),
            }),
            InstrumentationEvent::StartQuery { query, .. } => {
                let shown = query.to_string();
                let (sql, binds) = split_binds(&shown);
                serde_json::json!({ "connection": connection, "sql": sql, "binds": binds })
            }
            _ => return,
        };
        write_line(&line.to_string());
    }))
}

/// A query's text as Diesel displays it, `SQL -- binds: [...]` for a prepared statement and
/// the bare text for a batch: the statement and its binds apart.
fn split_binds(shown: &str) -> (&str, &str) {
    match shown.rsplit_once(" -- binds: ") {
        Some((sql, binds)) => (sql, binds),
        None => (shown, "[]"),
    }
}

/// Appends one line; a trace that cannot be written must not fail the statement it records.
fn write_line(line: &str) {
    if let Some(file) = TRACE.get() {
        if let Ok(mut file) = file.lock() {
            let _ = writeln!(file, "{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_binds;

    #[test]
    fn a_prepared_statement_and_a_batch_split_into_text_and_binds() {
        assert_eq!(split_binds("SELECT $1 -- binds: [3]"), ("SELECT $1", "[3]"));
        assert_eq!(split_binds("BEGIN; SELECT 1"), ("BEGIN; SELECT 1", "[]"));
    }
}

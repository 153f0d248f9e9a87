//! Row counts, one way for every connection: `SourceConnection::count_rows` and
//! `TargetConnection::count_rows` send the one `SELECT count(*)` this file writes.
//!
//! Introspection, the row-count and not-null checks, the orphan search, the journal's baselines
//! and the app-schema guard all count through these two methods, so a count reads the same
//! everywhere and a new engine answers it once. SQLite's introspection, which holds the bare
//! connection inside its own transaction, counts through [`count_with`] on it.

/// A row count that failed: the statement sent and the database's error.
#[derive(Debug, thiserror::Error)]
#[error("`{sql}` failed")]
pub struct CountError {
    pub sql: String,
    #[source]
    pub source: diesel::result::Error,
}

/// `SELECT count(*) AS n FROM <from>[ WHERE <filter>]`: `from` is SQL as written after FROM (a
/// quoted, maybe schema-qualified table, or a join), `filter` a condition on its rows.
fn count_rows_sql(from: &str, filter: Option<&str>) -> String {
    match filter {
        Some(filter) => format!("SELECT count(*) AS n FROM {from} WHERE {filter}"),
        None => format!("SELECT count(*) AS n FROM {from}"),
    }
}

/// Counts the rows of `from` that `filter` lets through by handing the count's SQL to `run`,
/// which returns its one integer (`None`, for no row, counts as 0).
pub(crate) fn count_with(
    from: &str,
    filter: Option<&str>,
    run: impl FnOnce(&str) -> diesel::QueryResult<Option<i64>>,
) -> Result<u64, CountError> {
    let sql = count_rows_sql(from, filter);
    match run(&sql) {
        // count(*) is never negative.
        Ok(n) => Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0)),
        Err(source) => Err(CountError { sql, source }),
    }
}

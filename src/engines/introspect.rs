//! Opening and introspecting a source, whichever engine it is, into a
//! [`crate::catalog::Catalog`]; what can go wrong doing it. Each engine's folder does the work.

use std::path::PathBuf;

use crate::catalog::{Catalog, Column, Table};
use crate::engines::{
    mysql, postgres, sqlite, AnotherSource, CountError, SourceConnection, SqlValue,
};
use crate::url::{redact_url, SourceUrl};

/// Opens a source read-only (SQLite) or in decant's read session (MySQL/MariaDB).
pub fn open_source(url: &SourceUrl) -> Result<SourceConnection, IntrospectError> {
    match url {
        SourceUrl::Sqlite(path) => {
            sqlite::open_sqlite_read_only(path).map(SourceConnection::Sqlite)
        }
        SourceUrl::Mysql(url) => mysql::open(url)
            .map(SourceConnection::Mysql)
            .map_err(|source| IntrospectError::Connect {
                url: redact_url(url),
                source,
            }),
        SourceUrl::Postgres(url) => postgres::source::open(url)
            .map(SourceConnection::Postgres)
            .map_err(|source| IntrospectError::Connect {
                url: redact_url(url),
                source,
            }),
    }
}

/// The catalog of an open source, whichever engine it is; `another` may open one more
/// connection to read beside `conn` (MySQL counts two tables' rows at once).
pub fn introspect_source(
    conn: &mut SourceConnection,
    another: &AnotherSource<'_>,
    exact_counts: bool,
) -> Result<Catalog, IntrospectError> {
    match conn {
        SourceConnection::Sqlite(c) => sqlite::introspect_sqlite(c),
        SourceConnection::Mysql(_) => mysql::introspect_mysql(conn, another, exact_counts),
        SourceConnection::Postgres(_) => postgres::catalog::introspect_postgres(conn, exact_counts),
    }
}

impl SourceConnection {
    /// Profiles the columns of `catalog` that `wanted` picks: what their values really are.
    pub fn profile(
        &mut self,
        catalog: &mut Catalog,
        wanted: impl Fn(&Table, &Column) -> bool,
    ) -> Result<(), IntrospectError> {
        match self {
            SourceConnection::Sqlite(c) => sqlite::profile_catalog(c, catalog, wanted),
            SourceConnection::Mysql(_) => mysql::profile_mysql(self, catalog, wanted),
            // Its declared types are what the target gets: nothing depends on the values.
            SourceConnection::Postgres(_) => Ok(()),
        }
    }
}

/// What can go wrong while opening, introspecting or profiling a source database.
#[derive(Debug, thiserror::Error)]
pub enum IntrospectError {
    #[error("source database `{}` does not exist", path.display())]
    NotFound { path: PathBuf },

    #[error("cannot connect to the source `{url}`")]
    Connect {
        url: String,
        #[source]
        source: diesel::ConnectionError,
    },

    #[error("source database `{}` is not a file", path.display())]
    NotAFile { path: PathBuf },

    #[error("cannot read source database `{}`", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot open source database `{}` read-only", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: diesel::ConnectionError,
    },

    #[error("`{}` is a SQLite database but it is corrupt or truncated: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },

    #[error("`{}` is not a SQLite database: `{sql}` failed", path.display())]
    NotADatabase {
        path: PathBuf,
        sql: String,
        #[source]
        source: diesel::result::Error,
    },

    #[error("`{sql}` failed on table `{table}`")]
    Query {
        table: String,
        sql: String,
        #[source]
        source: diesel::result::Error,
    },

    #[error("cannot read the stored definition of `{object}`: {message}\n    {sql}")]
    Ddl {
        object: String,
        sql: String,
        message: String,
    },

    #[error("column `{table}.{column}` has type `{declared}`, which decant cannot carry from a PostgreSQL source: {reason}")]
    UnsupportedType {
        table: String,
        column: String,
        declared: String,
        reason: String,
    },

    #[error("table `{table}` has no column `{column}` to profile")]
    UnknownColumn { table: String, column: String },

    #[error("profiling table `{table}`: unexpected result `{result}` from `{sql}`")]
    ProfileResult {
        table: String,
        sql: String,
        result: String,
    },

    #[error("the read transaction around introspection failed")]
    Transaction {
        #[source]
        source: diesel::result::Error,
    },
}

/// Only for Diesel's transaction wrapper (BEGIN/COMMIT); every query maps its own error.
impl From<diesel::result::Error> for IntrospectError {
    fn from(source: diesel::result::Error) -> Self {
        IntrospectError::Transaction { source }
    }
}

/// Rows of `sql` on a server source's catalog, a failure naming `table` and the SQL.
pub(crate) fn query(
    conn: &mut SourceConnection,
    table: &str,
    sql: &str,
) -> Result<Vec<Vec<SqlValue>>, IntrospectError> {
    conn.load_rows(sql)
        .map_err(|source| IntrospectError::Query {
            table: table.to_owned(),
            sql: sql.to_owned(),
            source,
        })
}

/// A failed row count of `table`, as introspection reports it: its SQL and the error.
pub(crate) fn count_failed(table: &str) -> impl FnOnce(CountError) -> IntrospectError + '_ {
    move |e| IntrospectError::Query {
        table: table.to_owned(),
        sql: e.sql,
        source: e.source,
    }
}

/// A catalog value as text (NULL as empty).
pub(crate) fn text(value: &SqlValue) -> String {
    match value {
        SqlValue::Null => String::new(),
        SqlValue::Integer(i) => i.to_string(),
        SqlValue::Real(f) => f.to_string(),
        SqlValue::Text(t) => t.clone(),
        SqlValue::InvalidText(b) | SqlValue::Blob(b) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// A catalog value as an integer, whether the server sent it as one or as digits.
pub(crate) fn integer(value: &SqlValue) -> Option<i64> {
    match value {
        SqlValue::Integer(i) => Some(*i),
        SqlValue::Text(t) => t.parse().ok(),
        _ => None,
    }
}

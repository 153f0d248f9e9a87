//! The way back's seam: a source engine written to ([`WritableSource`], SQLite today), for
//! `decant sync --reverse`; the rows go in as [`SqlValue`]s, in the source's storage classes.

use std::path::PathBuf;

use crate::dialect::TemplateError;
use crate::engines::mysql::writer::{self as mysql, MysqlWriter};
use crate::engines::sqlite::writer::{self as sqlite, SqliteWriter};
use crate::engines::SqlValue;
use crate::url::SourceUrl;

/// The storage class a column prefers, by its declared type (SQLite's type affinity): what a
/// value written to it becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Affinity {
    Integer,
    Real,
    Numeric,
    Text,
    /// No preference: a value is stored as it is given.
    Blob,
}

/// Why writing back into the source failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("`{}` does not exist: the way back writes into the old file, it never creates one", .0.display())]
    NotFound(PathBuf),
    #[error("cannot open `{}` for writing", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: diesel::ConnectionError,
    },
    #[error("{}", crate::errors::database_chain(.0))]
    Statement(#[source] diesel::result::Error),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("writing back into {0} is not built yet: `sync --reverse` writes into a SQLite file or a MySQL/MariaDB database")]
    Unsupported(&'static str),
}

/// A source database open for writing.
pub enum WritableSource {
    Sqlite(SqliteWriter),
    Mysql(MysqlWriter),
}

/// Calls `$method` on whichever writer `$self` holds.
macro_rules! each_writer {
    ($self:expr, $w:ident => $call:expr) => {
        match $self {
            WritableSource::Sqlite($w) => $call,
            WritableSource::Mysql($w) => $call,
        }
    };
}

impl WritableSource {
    /// Opens the plan's source for writing.
    pub fn open(url: &SourceUrl) -> Result<WritableSource, WriteError> {
        match url {
            SourceUrl::Sqlite(path) => SqliteWriter::open(path).map(WritableSource::Sqlite),
            SourceUrl::Mysql(raw) => MysqlWriter::open(raw).map(WritableSource::Mysql),
            SourceUrl::Postgres(_) => Err(WriteError::Unsupported("PostgreSQL")),
        }
    }

    /// What the way back's journal lives beside: the SQLite file itself; for a server, a
    /// name (its host, port and database) that the caller places in the plan's folder.
    pub fn path(&self) -> &std::path::Path {
        match self {
            WritableSource::Sqlite(w) => w.path(),
            WritableSource::Mysql(w) => w.journal_anchor(),
        }
    }

    /// The affinity of a column declared `declared`.
    pub fn affinity(&self, declared: &str) -> Affinity {
        match self {
            WritableSource::Sqlite(_) => sqlite::affinity(declared),
            WritableSource::Mysql(_) => mysql::affinity(declared),
        }
    }

    /// Rows per statement for rows of `width` values.
    pub fn rows_per_statement(&self, width: usize) -> usize {
        match self {
            WritableSource::Sqlite(_) => SqliteWriter::rows_per_statement(width),
            WritableSource::Mysql(_) => MysqlWriter::rows_per_statement(width),
        }
    }

    /// Starts the one write transaction; the app's writers wait until it ends.
    pub fn begin(&mut self) -> Result<(), WriteError> {
        each_writer!(self, w => w.begin()).map_err(WriteError::Statement)
    }

    pub fn commit(&mut self) -> Result<(), WriteError> {
        each_writer!(self, w => w.commit()).map_err(WriteError::Statement)
    }

    pub fn rollback(&mut self) -> Result<(), WriteError> {
        each_writer!(self, w => w.rollback()).map_err(WriteError::Statement)
    }

    pub fn savepoint(&mut self, name: &str) -> Result<(), WriteError> {
        each_writer!(self, w => w.savepoint(name)).map_err(WriteError::Statement)
    }

    /// Undoes everything since the savepoint `name`, and ends it.
    pub fn rollback_to(&mut self, name: &str) -> Result<(), WriteError> {
        each_writer!(self, w => w.rollback_to(name)).map_err(WriteError::Statement)
    }

    pub fn release(&mut self, name: &str) -> Result<(), WriteError> {
        each_writer!(self, w => w.release(name)).map_err(WriteError::Statement)
    }

    /// Every row of `table` that `filter` (a predicate in the engine's SQL) keeps, `columns`
    /// in order.
    pub fn rows(
        &mut self,
        table: &str,
        columns: &[String],
        filter: Option<&str>,
    ) -> Result<Vec<Vec<SqlValue>>, WriteError> {
        each_writer!(self, w => w.rows(table, columns, filter)).map_err(WriteError::Statement)
    }

    /// Inserts `rows`, or updates the row with the same `keys` in place.
    pub fn upsert(
        &mut self,
        table: &str,
        columns: &[String],
        keys: &[String],
        rows: &[Vec<SqlValue>],
    ) -> Result<(), WriteError> {
        each_writer!(self, w => w.upsert(table, columns, keys, rows))
    }

    /// Deletes the rows with these key values.
    pub fn delete(
        &mut self,
        table: &str,
        keys: &[String],
        rows: &[Vec<SqlValue>],
    ) -> Result<(), WriteError> {
        each_writer!(self, w => w.delete(table, keys, rows))
    }

    /// Keys of `table`'s rows whose foreign key points at no row, with the table it points at.
    pub fn foreign_key_violations(
        &mut self,
        table: &str,
        keys: &[String],
    ) -> Result<Vec<(Vec<SqlValue>, String)>, WriteError> {
        match self {
            WritableSource::Sqlite(w) => w
                .foreign_key_violations(table, keys)
                .map_err(WriteError::Statement),
            WritableSource::Mysql(w) => w.foreign_key_violations(table, keys),
        }
    }
}

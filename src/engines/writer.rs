//! The way back's seam: a source engine written to ([`WritableSource`], SQLite today), for
//! `decant sync --reverse`; the rows go in as [`SqlValue`]s, in the source's storage classes.

use std::path::PathBuf;

use diesel::backend::Backend;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Binary, Double, HasSqlType, Nullable, Text};

use crate::dialect::{source_template, TemplateError, Templates};
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

    /// Inserts `rows`, or updates the row with the same `keys` in place: the engine's
    /// `reverse_upsert` template, one `?` per value.
    pub fn upsert(
        &mut self,
        table: &str,
        columns: &[String],
        keys: &[String],
        rows: &[Vec<SqlValue>],
    ) -> Result<(), WriteError> {
        let updated: Vec<&String> = columns.iter().filter(|c| !keys.contains(c)).collect();
        let sql = self.render(
            "reverse_upsert",
            minijinja::context! { table, columns, keys, updated, rows => rows.len() },
        )?;
        self.execute(&sql, rows)
    }

    /// Deletes the rows with these key values: the engine's `reverse_delete` template.
    pub fn delete(
        &mut self,
        table: &str,
        keys: &[String],
        rows: &[Vec<SqlValue>],
    ) -> Result<(), WriteError> {
        let sql = self.render(
            "reverse_delete",
            minijinja::context! { table, keys, rows => rows.len() },
        )?;
        self.execute(&sql, rows)
    }

    /// The engine's template `operation`, rendered with `context`.
    fn render(&self, operation: &str, context: minijinja::Value) -> Result<String, WriteError> {
        let dialect = match self {
            WritableSource::Sqlite(_) => "sqlite",
            WritableSource::Mysql(_) => "mysql",
        };
        render(dialect, operation, context)
    }

    /// Runs `sql` with every value of `rows`, in order, bound to its `?`s.
    fn execute(&mut self, sql: &str, rows: &[Vec<SqlValue>]) -> Result<(), WriteError> {
        let values = rows.iter().flatten();
        each_writer!(self, w => w.execute(sql, values)).map_err(WriteError::Statement)
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

thread_local! {
    /// decant's own templates, made once per thread for every statement the way back writes.
    static TEMPLATES: Templates = Templates::new(None);
}

/// `dialect`'s template `operation`, rendered with `context`: every statement the way back's
/// writers render comes from here.
pub(crate) fn render(
    dialect: &str,
    operation: &str,
    context: minijinja::Value,
) -> Result<String, WriteError> {
    Ok(TEMPLATES.with(|t| t.render(&source_template(dialect, operation), context))?)
}

/// `sql` with `values` bound to its `?`s in order, in the storage class each holds: one binder
/// for every engine the way back writes to.
pub(crate) fn bound<'q, DB>(
    sql: &'q str,
    values: impl Iterator<Item = &'q SqlValue>,
) -> BoxedSqlQuery<'q, DB, SqlQuery>
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Double> + HasSqlType<Text> + HasSqlType<Binary>,
    i64: ToSql<BigInt, DB>,
    f64: ToSql<Double, DB>,
    String: ToSql<Text, DB>,
    Vec<u8>: ToSql<Binary, DB>,
    Option<String>: ToSql<Nullable<Text>, DB>,
{
    let mut query = diesel::sql_query(sql).into_boxed::<DB>();
    for value in values {
        query = match value {
            SqlValue::Null => query.bind::<Nullable<Text>, _>(None::<String>),
            SqlValue::Integer(i) => query.bind::<BigInt, _>(*i),
            SqlValue::Real(f) => query.bind::<Double, _>(*f),
            SqlValue::Text(t) => query.bind::<Text, _>(t.clone()),
            SqlValue::InvalidText(b) | SqlValue::Blob(b) => query.bind::<Binary, _>(b.clone()),
        };
    }
    query
}

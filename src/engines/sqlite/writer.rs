//! SQLite as a target, for the way back: the app's old file opened read-write, one IMMEDIATE
//! transaction, prepared multi-row upserts and deletes by key, and its foreign keys enforced.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl, SqliteConnection};

use crate::dialect::{quote_ident, quote_literal};
use crate::engines::writer::{Affinity, WriteError};
use crate::engines::{SourceRow, SqlValue};

/// SQLite's limit on `?` parameters in one statement (since 3.32).
const MAX_PARAMETERS: usize = 32_766;

/// Rows per statement at most: past a few hundred, a longer statement gains nothing.
const MAX_ROWS: usize = 500;

/// The app's SQLite file, open for writing.
pub struct SqliteWriter {
    conn: SqliteConnection,
    path: PathBuf,
}

impl SqliteWriter {
    /// Opens the existing file at `path` read-write (never creating one), waiting up to 5 s
    /// for the app's own writes, with foreign keys enforced as the app's ORM enforces them
    /// (Django, Rails and Prisma turn `PRAGMA foreign_keys` on in every connection).
    pub fn open(path: &Path) -> Result<SqliteWriter, WriteError> {
        if !path.is_file() {
            return Err(WriteError::NotFound(path.to_path_buf()));
        }
        let mut uri = super::introspect::read_only_uri(path);
        uri.truncate(uri.len() - "?mode=ro".len());
        uri.push_str("?mode=rw");
        let mut conn = SqliteConnection::establish(&uri).map_err(|source| WriteError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON")
            .map_err(WriteError::Statement)?;
        Ok(SqliteWriter {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts the one transaction the whole way back happens in; IMMEDIATE, so the app
    /// cannot write between the reads that find the differences and the writes that apply them.
    /// Foreign keys are checked at its COMMIT (as Django declares its own): a child moved to
    /// another parent before its old parent is deleted is no violation in between.
    pub fn begin(&mut self) -> diesel::QueryResult<()> {
        self.conn
            .batch_execute("BEGIN IMMEDIATE; PRAGMA defer_foreign_keys = ON")
    }

    pub fn commit(&mut self) -> diesel::QueryResult<()> {
        self.conn.batch_execute("COMMIT")
    }

    pub fn rollback(&mut self) -> diesel::QueryResult<()> {
        self.conn.batch_execute("ROLLBACK")
    }

    pub fn savepoint(&mut self, name: &str) -> diesel::QueryResult<()> {
        self.conn
            .batch_execute(&format!("SAVEPOINT {}", quote_ident(name)))
    }

    pub fn rollback_to(&mut self, name: &str) -> diesel::QueryResult<()> {
        let name = quote_ident(name);
        self.conn
            .batch_execute(&format!("ROLLBACK TO {name}; RELEASE {name}"))
    }

    pub fn release(&mut self, name: &str) -> diesel::QueryResult<()> {
        self.conn
            .batch_execute(&format!("RELEASE {}", quote_ident(name)))
    }

    /// Every row of `table` (those `filter`, a predicate in SQLite's SQL, keeps), `columns`
    /// in order.
    pub fn rows(
        &mut self,
        table: &str,
        columns: &[String],
        filter: Option<&str>,
    ) -> diesel::QueryResult<Vec<Vec<SqlValue>>> {
        let list: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
        let mut sql = format!("SELECT {} FROM {}", list.join(", "), quote_ident(table));
        if let Some(filter) = filter {
            sql.push_str(&format!(" WHERE ({filter})"));
        }
        let rows = diesel::sql_query(sql).load::<SourceRow>(&mut self.conn)?;
        Ok(rows.into_iter().map(|SourceRow(v)| v).collect())
    }

    /// How many rows of `width` values one statement takes.
    pub fn rows_per_statement(width: usize) -> usize {
        (MAX_PARAMETERS / width.max(1)).clamp(1, MAX_ROWS)
    }

    /// The keys of the rows of `table` whose foreign key points at no row now, with the
    /// table each one points at: what the transaction would fail on at COMMIT when the
    /// constraint is deferred (Django's are).
    pub fn foreign_key_violations(
        &mut self,
        table: &str,
        keys: &[String],
    ) -> diesel::QueryResult<Vec<(Vec<SqlValue>, String)>> {
        let list: Vec<String> = keys.iter().map(|c| quote_ident(c)).collect();
        let sql = format!(
            "SELECT {}, \"v\".\"parent\" FROM {} JOIN pragma_foreign_key_check({}) AS \"v\" ON \"v\".\"rowid\" = {}.rowid",
            list.iter()
                .map(|k| format!("{}.{k}", quote_ident(table)))
                .collect::<Vec<_>>()
                .join(", "),
            quote_ident(table),
            quote_literal(table),
            quote_ident(table),
        );
        let rows = diesel::sql_query(sql).load::<SourceRow>(&mut self.conn)?;
        Ok(rows
            .into_iter()
            .map(|SourceRow(mut v)| {
                let parent = match v.pop() {
                    Some(SqlValue::Text(t)) => t,
                    _ => String::new(),
                };
                (v, parent)
            })
            .collect())
    }

    /// Runs `sql` with `values` bound to its `?`s in order.
    pub(crate) fn execute<'v>(
        &mut self,
        sql: &'v str,
        values: impl Iterator<Item = &'v SqlValue>,
    ) -> diesel::QueryResult<()> {
        crate::engines::writer::bound::<diesel::sqlite::Sqlite>(sql, values)
            .execute(&mut self.conn)
            .map(|_| ())
    }
}

/// The affinity SQLite gives a column declared `declared` (its rules, in their order).
pub fn affinity(declared: &str) -> Affinity {
    let d = declared.to_ascii_uppercase();
    if d.contains("INT") {
        Affinity::Integer
    } else if d.contains("CHAR") || d.contains("CLOB") || d.contains("TEXT") {
        Affinity::Text
    } else if d.contains("BLOB") || d.trim().is_empty() {
        Affinity::Blob
    } else if d.contains("REAL") || d.contains("FLOA") || d.contains("DOUB") {
        Affinity::Real
    } else {
        Affinity::Numeric
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affinity_follows_sqlites_rules_in_their_order() {
        assert_eq!(affinity("integer"), Affinity::Integer);
        assert_eq!(affinity("bigint"), Affinity::Integer);
        assert_eq!(affinity("POINT"), Affinity::Integer);
        assert_eq!(affinity("varchar(20)"), Affinity::Text);
        assert_eq!(affinity("char(32)"), Affinity::Text);
        assert_eq!(affinity(""), Affinity::Blob);
        assert_eq!(affinity("double"), Affinity::Real);
        assert_eq!(affinity("decimal"), Affinity::Numeric);
        assert_eq!(affinity("datetime"), Affinity::Numeric);
        assert_eq!(affinity("bool"), Affinity::Numeric);
    }
}

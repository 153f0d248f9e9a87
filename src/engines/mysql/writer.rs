//! MySQL and MariaDB as a target, for the way back: the app's old database written in one
//! transaction of prepared multi-row upserts and deletes by key, its foreign keys checked as it goes.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::mysql::Mysql;
use diesel::sql_types::Text;
use diesel::{MysqlConnection, RunQueryDsl};
use serde::Serialize;

use crate::dialect::quote_ident;
use crate::engines::writer::{Affinity, WriteError};
use crate::engines::{SourceRow, SqlValue};

/// The protocol's limit on `?` parameters in one prepared statement.
const MAX_PARAMETERS: usize = 65_535;

/// Rows per statement at most: past a few hundred, a longer statement gains nothing.
const MAX_ROWS: usize = 500;

/// The write session: decant's read session (ANSI quoting, standard string literals, UTC) made
/// strict, so a value the column cannot hold is an error (a rejected row), never a silently cut
/// or zeroed one.
const WRITE_SESSION: &str = "SET SESSION sql_mode = 'ANSI_QUOTES,PIPES_AS_CONCAT,NO_BACKSLASH_ESCAPES,STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'";

/// The app's old MySQL/MariaDB database, open for writing.
pub struct MysqlWriter {
    conn: MysqlConnection,
    /// Where the way back's journal is kept: named after the server and the database, beside
    /// the plan (a server has no folder of its own to put it in).
    journal_anchor: PathBuf,
}

/// One foreign key of a table, for the check before COMMIT.
#[derive(Debug, Serialize)]
struct ForeignKey {
    parent: String,
    columns: Vec<String>,
    referenced: Vec<String>,
}

impl MysqlWriter {
    /// Opens the database at `raw` (a `mysql://` or `mariadb://` URL) for writing.
    pub fn open(raw: &str) -> Result<MysqlWriter, WriteError> {
        let mut conn = super::session::open(raw).map_err(|source| WriteError::Open {
            path: PathBuf::from(crate::url::redact_url(raw)),
            source,
        })?;
        conn.batch_execute(WRITE_SESSION)
            .map_err(WriteError::Statement)?;
        let named: Vec<SourceRow> =
            diesel::sql_query("SELECT @@hostname AS host, @@port AS port, DATABASE() AS db")
                .load(&mut conn)
                .map_err(WriteError::Statement)?;
        let name = named
            .first()
            .map(|SourceRow(v)| {
                v.iter()
                    .map(|x| match x {
                        SqlValue::Text(t) => t.clone(),
                        SqlValue::Integer(i) => i.to_string(),
                        _ => String::new(),
                    })
                    .collect::<Vec<_>>()
                    .join("-")
            })
            .unwrap_or_default();
        Ok(MysqlWriter {
            conn,
            journal_anchor: PathBuf::from(format!("mysql-{name}")),
        })
    }

    /// What the journal is kept beside: a name, relative to the plan's folder.
    pub fn journal_anchor(&self) -> &Path {
        &self.journal_anchor
    }

    /// Starts the one transaction the whole way back happens in. Foreign keys stay checked
    /// statement by statement (MySQL has no deferred constraints): a delete that would orphan
    /// a row of a table the plan does not carry is refused there, and so left out and
    /// reported, never committed. Deletes go children first and upserts parents first, so
    /// the plan's own rows meet no violation on the way.
    pub fn begin(&mut self) -> diesel::QueryResult<()> {
        self.conn
            .batch_execute("SET SESSION foreign_key_checks = 1; START TRANSACTION")
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
        self.conn.batch_execute(&format!(
            "ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"
        ))
    }

    pub fn release(&mut self, name: &str) -> diesel::QueryResult<()> {
        self.conn
            .batch_execute(&format!("RELEASE SAVEPOINT {}", quote_ident(name)))
    }

    /// Every row of `table` (those `filter`, a predicate in MySQL's SQL, keeps), `columns` in
    /// order, as the source's reads decode them — but a
    /// text column's value as text: the protocol flags a text column with a binary collation
    /// (MariaDB's JSON is LONGTEXT `utf8mb4_bin`) as bytes, and the way back compares texts.
    pub fn rows(
        &mut self,
        table: &str,
        columns: &[String],
        filter: Option<&str>,
    ) -> diesel::QueryResult<Vec<Vec<SqlValue>>> {
        let texts = self.text_columns(table, columns)?;
        let list: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
        let mut sql = format!("SELECT {} FROM {}", list.join(", "), quote_ident(table));
        if let Some(filter) = filter {
            sql.push_str(&format!(" WHERE ({filter})"));
        }
        let rows = diesel::sql_query(sql).load::<SourceRow>(&mut self.conn)?;
        Ok(rows
            .into_iter()
            .map(|SourceRow(mut v)| {
                for (value, text) in v.iter_mut().zip(&texts) {
                    if let (true, SqlValue::Blob(bytes)) = (text, &*value) {
                        if let Ok(t) = std::str::from_utf8(bytes) {
                            *value = SqlValue::Text(t.to_owned());
                        }
                    }
                }
                v
            })
            .collect())
    }

    /// For each of `columns`, whether `table` declares it with text semantics.
    fn text_columns(&mut self, table: &str, columns: &[String]) -> diesel::QueryResult<Vec<bool>> {
        let rows: Vec<SourceRow> = diesel::sql_query(
            "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
        )
        .bind::<Text, _>(table)
        .load(&mut self.conn)?;
        let declared = |column: &str| {
            rows.iter().find_map(|SourceRow(v)| {
                let name = v.first().and_then(catalog_text)?;
                name.eq_ignore_ascii_case(column)
                    .then(|| v.get(1).and_then(catalog_text))
                    .flatten()
            })
        };
        Ok(columns
            .iter()
            .map(|c| declared(c).is_some_and(|d| affinity(&d) == Affinity::Text))
            .collect())
    }

    /// How many rows of `width` values one statement takes.
    pub fn rows_per_statement(width: usize) -> usize {
        (MAX_PARAMETERS / width.max(1)).clamp(1, MAX_ROWS)
    }

    /// The keys of the rows of `table` whose foreign key points at no row now, with the
    /// table each one points at: none while the server checks every statement (see
    /// [`Self::begin`]); asked all the same, as of every engine the way back writes to.
    pub fn foreign_key_violations(
        &mut self,
        table: &str,
        keys: &[String],
    ) -> Result<Vec<(Vec<SqlValue>, String)>, WriteError> {
        let mut found = Vec::new();
        for fk in self.foreign_keys(table)? {
            let sql = crate::engines::writer::render(
                "mysql",
                "foreign_key_violations",
                minijinja::context! { table, keys, fk },
            )?;
            let rows = diesel::sql_query(sql)
                .load::<SourceRow>(&mut self.conn)
                .map_err(WriteError::Statement)?;
            for SourceRow(mut v) in rows {
                let parent = v
                    .pop()
                    .and_then(|p| catalog_text(&p))
                    .unwrap_or_else(|| fk.parent.clone());
                found.push((v, parent));
            }
        }
        Ok(found)
    }

    /// `table`'s foreign keys, from the catalog, columns in their order.
    fn foreign_keys(&mut self, table: &str) -> Result<Vec<ForeignKey>, WriteError> {
        let rows: Vec<SourceRow> = diesel::sql_query(
            "SELECT CONSTRAINT_NAME, REFERENCED_TABLE_NAME, COLUMN_NAME, REFERENCED_COLUMN_NAME \
             FROM information_schema.KEY_COLUMN_USAGE \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND REFERENCED_TABLE_NAME IS NOT NULL \
             ORDER BY CONSTRAINT_NAME, ORDINAL_POSITION",
        )
        .bind::<Text, _>(table)
        .load(&mut self.conn)
        .map_err(WriteError::Statement)?;
        let mut keys: Vec<(String, ForeignKey)> = Vec::new();
        for SourceRow(v) in rows {
            let text = |i: usize| v.get(i).and_then(catalog_text).unwrap_or_default();
            let name = text(0);
            if keys.last().is_none_or(|(n, _)| *n != name) {
                keys.push((
                    name,
                    ForeignKey {
                        parent: text(1),
                        columns: Vec::new(),
                        referenced: Vec::new(),
                    },
                ));
            }
            if let Some((_, fk)) = keys.last_mut() {
                fk.columns.push(text(2));
                fk.referenced.push(text(3));
            }
        }
        Ok(keys.into_iter().map(|(_, fk)| fk).collect())
    }

    /// Runs `sql` with `values` bound to its `?`s in order.
    pub(crate) fn execute<'v>(
        &mut self,
        sql: &'v str,
        values: impl Iterator<Item = &'v SqlValue>,
    ) -> diesel::QueryResult<()> {
        crate::engines::writer::bound::<Mysql>(sql, values)
            .execute(&mut self.conn)
            .map(|_| ())
    }
}

/// A catalog value's text (the catalog's own columns may come flagged as bytes).
fn catalog_text(value: &SqlValue) -> Option<String> {
    match value {
        SqlValue::Text(t) => Some(t.clone()),
        SqlValue::Blob(b) | SqlValue::InvalidText(b) => String::from_utf8(b.clone()).ok(),
        _ => None,
    }
}

/// The storage class a MySQL column declared `declared` holds, as the source's reads decode
/// its values: integers; floating point; everything with text semantics, DECIMAL's exact
/// digits and dates and times included; bytes.
pub fn affinity(declared: &str) -> Affinity {
    let d = declared.trim().to_ascii_lowercase();
    let base = d.split(['(', ' ']).next().unwrap_or_default();
    match base {
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "bit" | "year"
        | "bool" | "boolean" | "serial" => Affinity::Integer,
        "float" | "double" | "real" => Affinity::Real,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" | "geometry"
        | "point" | "linestring" | "polygon" | "multipoint" | "multilinestring"
        | "multipolygon" | "geometrycollection" => Affinity::Blob,
        _ => Affinity::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affinity_follows_what_the_reads_decode() {
        assert_eq!(affinity("int(11)"), Affinity::Integer);
        assert_eq!(affinity("bigint unsigned"), Affinity::Integer);
        assert_eq!(affinity("tinyint(1)"), Affinity::Integer);
        assert_eq!(affinity("double"), Affinity::Real);
        assert_eq!(affinity("decimal(10,2)"), Affinity::Text);
        assert_eq!(affinity("datetime(6)"), Affinity::Text);
        assert_eq!(affinity("varchar(30)"), Affinity::Text);
        assert_eq!(affinity("json"), Affinity::Text);
        assert_eq!(affinity("varbinary(16)"), Affinity::Blob);
        assert_eq!(affinity("longblob"), Affinity::Blob);
    }
}

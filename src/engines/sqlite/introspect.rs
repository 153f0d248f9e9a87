//! SQLite introspection through Diesel: `sqlite_schema`, the table-valued pragmas, and the
//! stored `CREATE` statements (read by [`super::ddl`]) for what the pragmas do not say.

use crate::dialect::quote_ident;
use std::collections::HashSet;
use std::path::Path;

use diesel::connection::Connection;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel::{QueryableByName, RunQueryDsl};

use super::ddl::{self, ForeignKeyDdl, TableDdl};
use crate::catalog::{
    AutoIncrement, Catalog, Column, ForeignKey, Generated, Index, IndexKey, IndexPart, Table,
    Trigger, UniqueConstraint, View,
};
use crate::engines::introspect::count_failed;
use crate::engines::IntrospectError;

/// Puts SQLite in multi-thread mode: no mutex around each call on a connection.
///
/// SQLite's default (serialized) mode takes the connection's mutex for every column read,
/// which costs more than the read itself when a table is streamed. A Diesel connection is
/// never used by two threads at once (it is not `Sync`), which is all multi-thread mode asks.
/// Must run before any other SQLite call, while the process has one thread: the binary calls
/// it first thing. Returns whether SQLite accepted it (it refuses once initialised).
#[allow(unsafe_code)] // The crate's one unsafe call: a process setting Diesel does not expose.
pub fn use_sqlite_multithread_mode() -> bool {
    // SAFETY: sqlite3_config is called with a verb that takes no arguments, before any
    // connection exists and while no other thread can call SQLite (see above).
    unsafe {
        libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MULTITHREAD)
            == libsqlite3_sys::SQLITE_OK
    }
}

/// A fresh in-memory database, for tests that ask SQLite itself how it behaves.
#[cfg(test)]
pub fn open_in_memory() -> diesel::ConnectionResult<SqliteConnection> {
    SqliteConnection::establish(":memory:")
}

/// Opens a SQLite file read-only, so the source is never written and never created.
///
/// Fails, naming the path, when the file does not exist, is not a SQLite database, or is one
/// that is corrupt or cut short.
/// For a WAL-mode source SQLite itself may create (and, read-only, cannot remove) the usual
/// `-wal`/`-shm` files beside it; the database file is never written.
pub fn open_sqlite_read_only(path: &Path) -> Result<SqliteConnection, IntrospectError> {
    let path_buf = path.to_path_buf();
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => return Err(IntrospectError::NotAFile { path: path_buf }),
        Err(source) if source.kind() == std::io::ErrorKind::NotFound => {
            return Err(IntrospectError::NotFound { path: path_buf })
        }
        Err(source) => {
            return Err(IntrospectError::Unreadable {
                path: path_buf,
                source,
            })
        }
    }
    // A file cut short reads as "malformed" or not at all; its header tells it apart from a
    // file that was never a database.
    let header = read_header(path).map_err(|source| IntrospectError::Unreadable {
        path: path_buf.clone(),
        source,
    })?;
    if let Some(reason) = header.as_ref().and_then(Header::truncation) {
        return Err(IntrospectError::Corrupt {
            path: path_buf,
            reason,
        });
    }
    let uri = read_only_uri(path);
    let mut conn = SqliteConnection::establish(&uri).map_err(|source| IntrospectError::Open {
        path: path_buf.clone(),
        source,
    })?;
    // Opening is lazy: the header is only read by the first statement.
    let sql = "SELECT count(*) AS n FROM sqlite_schema";
    diesel::sql_query(sql)
        .load::<CountRow>(&mut conn)
        .map_err(|source| match header {
            Some(_) => IntrospectError::Corrupt {
                path: path_buf,
                reason: source.to_string(),
            },
            None => IntrospectError::NotADatabase {
                path: path_buf,
                sql: sql.into(),
                source,
            },
        })?;
    Ok(conn)
}

/// What the first 100 bytes of a SQLite file say about its size.
/// See <https://www.sqlite.org/fileformat.html#the_database_header>.
#[derive(Debug, Clone, Copy)]
struct Header {
    page_size: u64,
    /// The size in pages, when the header's own test says it can be trusted.
    pages: Option<u64>,
    file_len: u64,
}

/// The header of `path` if it starts like a SQLite database (`SQLite format 3\0`).
fn read_header(path: &Path) -> std::io::Result<Option<Header>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let file_len = file.metadata()?.len();
    let mut bytes = Vec::with_capacity(100);
    file.by_ref().take(100).read_to_end(&mut bytes)?;
    if !bytes.starts_with(b"SQLite format 3\0") {
        return Ok(None);
    }
    let be16 = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    let be32 = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    // 1 stands for 65 536, which does not fit in two bytes.
    let page_size = match be16(16) {
        Some(1) => 65_536,
        Some(n) => u64::from(n),
        None => 0,
    };
    // The size in pages is only valid when written by a SQLite that keeps it up to date: then
    // the "version-valid-for" number equals the change counter.
    let pages = match (be32(28), be32(24), be32(92)) {
        (Some(pages), Some(changes), Some(valid_for)) if pages > 0 && changes == valid_for => {
            Some(u64::from(pages))
        }
        _ => None,
    };
    Ok(Some(Header {
        page_size,
        pages,
        file_len,
    }))
}

impl Header {
    /// Why the file is shorter than a SQLite database can be, if it is.
    fn truncation(&self) -> Option<String> {
        if self.file_len < 100 {
            return Some(format!(
                "the file has {} bytes, less than the 100-byte header",
                self.file_len
            ));
        }
        let pages = self.pages?;
        let expected = pages * self.page_size;
        (self.file_len < expected).then(|| {
            format!(
                "the header says {pages} page(s) of {} bytes ({expected} bytes), but the file has {} bytes",
                self.page_size, self.file_len
            )
        })
    }
}

/// `PRAGMA quick_check` on an open source: what SQLite found wrong, nothing when it says `ok`.
pub fn quick_check(conn: &mut SqliteConnection) -> Result<Vec<String>, IntrospectError> {
    #[derive(QueryableByName)]
    struct Finding {
        #[diesel(sql_type = Text)]
        quick_check: String,
    }
    let sql = "PRAGMA quick_check";
    let rows = match diesel::sql_query(sql).load::<Finding>(conn) {
        Ok(rows) => rows,
        // A page too damaged to walk stops the check itself: that is its finding.
        Err(diesel::result::Error::DatabaseError(_, info)) => {
            return Ok(vec![format!("the check stopped: {}", info.message())])
        }
        Err(source) => {
            return Err(IntrospectError::Query {
                table: "sqlite_schema".into(),
                sql: sql.into(),
                source,
            })
        }
    };
    Ok(rows
        .into_iter()
        .map(|r| r.quick_check)
        .filter(|f| f != "ok")
        .collect())
}

/// A `file:` URI with `mode=ro` for `path`, escaping what a URI would misread.
pub(crate) fn read_only_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    let bytes = path.as_os_str().as_encoded_bytes();
    // `file:///abs` keeps a path starting with `//` from being read as an authority.
    if bytes.first() == Some(&b'/') {
        uri.push_str("//");
    }
    for &b in bytes {
        match b {
            b'?' | b'#' | b'%' | 0..=0x20 | 0x7f.. => uri.push_str(&format!("%{b:02X}")),
            _ => uri.push(char::from(b)),
        }
    }
    uri.push_str("?mode=ro");
    uri
}

/// Reads the whole schema of the `main` database, in one read transaction.
pub fn introspect_sqlite(conn: &mut SqliteConnection) -> Result<Catalog, IntrospectError> {
    conn.transaction(introspect_in_transaction)
}

#[derive(QueryableByName)]
struct SchemaRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    tbl_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    sql: Option<String>,
}

#[derive(QueryableByName)]
pub(crate) struct CountRow {
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    declared_type: Option<String>,
    #[diesel(sql_type = Integer)]
    not_null: i32,
    #[diesel(sql_type = Nullable<Text>)]
    default_value: Option<String>,
    #[diesel(sql_type = Integer)]
    pk: i32,
    #[diesel(sql_type = Integer)]
    hidden: i32,
}

#[derive(QueryableByName)]
struct TableListRow {
    #[diesel(sql_type = Integer)]
    without_rowid: i32,
}

#[derive(QueryableByName)]
struct IndexListRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Integer)]
    is_unique: i32,
    #[diesel(sql_type = Text)]
    origin: String,
}

#[derive(QueryableByName)]
struct IndexColumnRow {
    #[diesel(sql_type = Integer)]
    cid: i32,
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = Integer)]
    descending: i32,
    #[diesel(sql_type = Nullable<Text>)]
    collation: Option<String>,
}

#[derive(QueryableByName)]
struct ForeignKeyRow {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    referenced_table: String,
    #[diesel(sql_type = Text)]
    from_column: String,
    #[diesel(sql_type = Nullable<Text>)]
    to_column: Option<String>,
    #[diesel(sql_type = Text)]
    on_update: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

#[derive(QueryableByName)]
struct SequenceRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    seq: Option<i64>,
}

/// Runs `sql` with no parameters; errors name `table` and the SQL.
pub(crate) fn query<R>(
    conn: &mut SqliteConnection,
    sql: &str,
    table: &str,
) -> Result<Vec<R>, IntrospectError>
where
    R: QueryableByName<Sqlite> + 'static,
{
    diesel::sql_query(sql)
        .load::<R>(conn)
        .map_err(|source| IntrospectError::Query {
            table: table.to_string(),
            sql: sql.to_string(),
            source,
        })
}

/// Runs `sql` with `arg` bound to its one `?`; errors name `table` and the SQL.
fn query_with<R>(
    conn: &mut SqliteConnection,
    sql: &str,
    arg: &str,
    table: &str,
) -> Result<Vec<R>, IntrospectError>
where
    R: QueryableByName<Sqlite> + 'static,
{
    diesel::sql_query(sql)
        .bind::<Text, _>(arg)
        .load::<R>(conn)
        .map_err(|source| IntrospectError::Query {
            table: table.to_string(),
            sql: sql.replacen('?', &sql_literal(arg), 1),
            source,
        })
}

/// `'text'` with inner `'` doubled, for showing a bound value in an error message.
fn sql_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn is_internal(name: &str) -> bool {
    name.get(..7)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("sqlite_"))
}

fn introspect_in_transaction(conn: &mut SqliteConnection) -> Result<Catalog, IntrospectError> {
    let schema: Vec<SchemaRow> = query(
        conn,
        "SELECT type AS kind, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid",
        "sqlite_schema",
    )?;
    let has_sequence = schema
        .iter()
        .any(|row| row.kind == "table" && row.name == "sqlite_sequence");
    let mut catalog = Catalog::default();
    for row in &schema {
        match row.kind.as_str() {
            "table" if !is_internal(&row.name) => {
                let table = introspect_table(conn, row, &schema, has_sequence)?;
                catalog.tables.push(table);
            }
            "view" => catalog.views.push(View {
                name: row.name.clone(),
                sql: row.sql.clone().unwrap_or_default(),
            }),
            "trigger" => catalog.triggers.push(Trigger {
                name: row.name.clone(),
                table: row.tbl_name.clone(),
                sql: row.sql.clone().unwrap_or_default(),
            }),
            _ => {}
        }
    }
    Ok(catalog)
}

fn introspect_table(
    conn: &mut SqliteConnection,
    row: &SchemaRow,
    schema: &[SchemaRow],
    has_sequence: bool,
) -> Result<Table, IntrospectError> {
    let name = row.name.as_str();
    let sql = row.sql.clone().unwrap_or_default();
    let ddl = ddl::parse_create_table(&sql).map_err(|e| IntrospectError::Ddl {
        object: name.to_string(),
        sql: sql.clone(),
        message: e.to_string(),
    })?;

    let column_rows: Vec<ColumnRow> = query_with(
        conn,
        "SELECT name, type AS declared_type, \"notnull\" AS not_null, dflt_value AS default_value, \
         pk, hidden FROM pragma_table_xinfo(?, 'main') ORDER BY cid",
        name,
        name,
    )?;
    let mut columns = Vec::with_capacity(column_rows.len());
    let mut key: Vec<(i32, String)> = Vec::new();
    for c in column_rows {
        // hidden 1: a virtual table's hidden column, not data.
        if c.hidden == 1 {
            continue;
        }
        let parsed = ddl.column(&c.name);
        let generated = match c.hidden {
            2 | 3 => Some(Generated {
                expression: parsed.and_then(|p| p.generated.clone()).unwrap_or_default(),
                stored: c.hidden == 3,
            }),
            _ => None,
        };
        let collation = parsed
            .and_then(|p| p.collation.clone())
            .filter(|coll| !coll.eq_ignore_ascii_case("BINARY"));
        if c.pk > 0 {
            key.push((c.pk, c.name.clone()));
        }
        columns.push(Column {
            name: c.name,
            declared_type: c.declared_type.unwrap_or_default(),
            not_null: c.not_null != 0,
            default: c.default_value,
            primary_key_position: u32::try_from(c.pk).unwrap_or(0),
            generated,
            collation,
            profile: None,
        });
    }
    key.sort();
    let primary_key: Vec<String> = key.into_iter().map(|(_, column)| column).collect();

    let without_rowid = if ddl.is_virtual {
        false
    } else {
        let rows: Vec<TableListRow> = query_with(
            conn,
            "SELECT wr AS without_rowid FROM pragma_table_list(?) WHERE schema = 'main'",
            name,
            name,
        )?;
        rows.first().is_some_and(|r| r.without_rowid != 0)
    };

    let index_list: Vec<IndexListRow> = query_with(
        conn,
        "SELECT name, \"unique\" AS is_unique, origin FROM pragma_index_list(?, 'main')",
        name,
        name,
    )?;

    // SQLite makes a single-column `INTEGER PRIMARY KEY` the rowid, except in the
    // `INTEGER PRIMARY KEY DESC` quirk, which instead gets a `pk` index like any other key.
    let rowid_alias = match primary_key.as_slice() {
        [only] if !without_rowid && !ddl.is_virtual => {
            let integer = columns
                .iter()
                .any(|c| &c.name == only && c.declared_type.eq_ignore_ascii_case("INTEGER"));
            let has_pk_index = index_list.iter().any(|i| i.origin == "pk");
            (integer && !has_pk_index).then(|| only.clone())
        }
        _ => None,
    };

    let autoincrement = match (&rowid_alias, ddl.autoincrement) {
        (Some(column), true) => {
            let sequence_value = if has_sequence {
                let rows: Vec<SequenceRow> = query_with(
                    conn,
                    "SELECT max(seq) AS seq FROM sqlite_sequence WHERE name = ?",
                    name,
                    name,
                )?;
                rows.first().and_then(|r| r.seq)
            } else {
                None
            };
            Some(AutoIncrement {
                column: column.clone(),
                sequence_value,
            })
        }
        _ => None,
    };

    let uniques = unique_constraints(conn, name, &index_list, &ddl)?;
    let indexes = created_indexes(conn, name, &index_list, schema)?;
    let foreign_keys = foreign_keys(conn, name, &ddl)?;

    let row_count = crate::engines::count_with(&quote_ident(name), None, |sql| {
        diesel::sql_query(sql)
            .load::<CountRow>(conn)
            .map(|rows| rows.first().map(|r| r.n))
    })
    .map_err(count_failed(name))?;

    Ok(Table {
        name: name.to_string(),
        columns,
        primary_key,
        rowid_alias,
        autoincrement,
        without_rowid,
        uniques,
        indexes,
        foreign_keys,
        checks: ddl.checks.clone(),
        row_count,
        sql,
    })
}

fn index_columns(
    conn: &mut SqliteConnection,
    table: &str,
    index: &str,
) -> Result<Vec<IndexColumnRow>, IntrospectError> {
    query_with(
        conn,
        "SELECT cid, name, \"desc\" AS descending, coll AS collation \
         FROM pragma_index_xinfo(?, 'main') WHERE key = 1 ORDER BY seqno",
        index,
        table,
    )
}

/// UNIQUE constraints from the table definition, in the order SQLite numbered their indexes.
fn unique_constraints(
    conn: &mut SqliteConnection,
    table: &str,
    index_list: &[IndexListRow],
    ddl: &TableDdl,
) -> Result<Vec<UniqueConstraint>, IntrospectError> {
    let mut autoindexes: Vec<&IndexListRow> =
        index_list.iter().filter(|i| i.origin == "u").collect();
    // `sqlite_autoindex_<table>_<n>`: n follows the order of the constraints in the text.
    autoindexes.sort_by_key(|i| {
        i.name
            .rsplit('_')
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(u64::MAX)
    });
    let mut used = HashSet::new();
    let mut uniques = Vec::new();
    for index in autoindexes {
        let columns: Vec<String> = index_columns(conn, table, &index.name)?
            .into_iter()
            .map(|c| c.name.unwrap_or_default())
            .collect();
        let declared = ddl
            .uniques
            .iter()
            .enumerate()
            .find(|(i, u)| !used.contains(i) && same_names(&u.columns, &columns));
        let name = declared.and_then(|(i, u)| {
            used.insert(i);
            u.name.clone()
        });
        uniques.push(UniqueConstraint { name, columns });
    }
    Ok(uniques)
}

/// Indexes made by `CREATE INDEX`, in the order they were created.
fn created_indexes(
    conn: &mut SqliteConnection,
    table: &str,
    index_list: &[IndexListRow],
    schema: &[SchemaRow],
) -> Result<Vec<Index>, IntrospectError> {
    let mut indexes = Vec::new();
    for row in schema
        .iter()
        .filter(|r| r.kind == "index" && r.tbl_name == table)
    {
        let Some(listed) = index_list
            .iter()
            .find(|i| i.name == row.name && i.origin == "c")
        else {
            continue;
        };
        let sql = row.sql.clone().unwrap_or_default();
        let parsed = ddl::parse_create_index(&sql).map_err(|e| IntrospectError::Ddl {
            object: row.name.clone(),
            sql: sql.clone(),
            message: e.to_string(),
        })?;
        let parts = index_columns(conn, table, &row.name)?
            .into_iter()
            .enumerate()
            .map(|(position, c)| {
                let key = match (c.cid, c.name) {
                    (cid, Some(name)) if cid >= 0 => IndexKey::Column(name),
                    (-1, _) => IndexKey::Column("rowid".into()),
                    _ => IndexKey::Expression(
                        parsed.parts.get(position).cloned().unwrap_or_default(),
                    ),
                };
                IndexPart {
                    key,
                    descending: c.descending != 0,
                    collation: c
                        .collation
                        .filter(|coll| !coll.eq_ignore_ascii_case("BINARY")),
                }
            })
            .collect();
        indexes.push(Index {
            name: row.name.clone(),
            unique: listed.is_unique != 0,
            parts,
            predicate: parsed.predicate,
            sql,
            method: None,
        });
    }
    Ok(indexes)
}

/// Foreign keys in the order they are written (the pragma numbers them last-first).
fn foreign_keys(
    conn: &mut SqliteConnection,
    table: &str,
    ddl: &TableDdl,
) -> Result<Vec<ForeignKey>, IntrospectError> {
    let rows: Vec<ForeignKeyRow> = query_with(
        conn,
        "SELECT id, \"table\" AS referenced_table, \"from\" AS from_column, \"to\" AS to_column, \
         on_update, on_delete FROM pragma_foreign_key_list(?, 'main') ORDER BY id DESC, seq",
        table,
        table,
    )?;
    let mut keys: Vec<ForeignKey> = Vec::new();
    let mut implicit: Vec<bool> = Vec::new();
    let mut last_id = None;
    for row in rows {
        if last_id != Some(row.id) {
            last_id = Some(row.id);
            keys.push(ForeignKey {
                columns: Vec::new(),
                referenced_table: row.referenced_table.clone(),
                referenced_columns: Vec::new(),
                on_update: row.on_update.clone(),
                on_delete: row.on_delete.clone(),
                deferrable: false,
                initially_deferred: false,
            });
            implicit.push(false);
        }
        let (Some(key), Some(implicit)) = (keys.last_mut(), implicit.last_mut()) else {
            continue;
        };
        key.columns.push(row.from_column);
        match row.to_column {
            Some(to) if !to.is_empty() => key.referenced_columns.push(to),
            _ => *implicit = true,
        }
    }
    let mut used = HashSet::new();
    for (key, implicit) in keys.iter_mut().zip(implicit) {
        if implicit {
            key.referenced_columns.clear();
        }
        let declared: Option<(usize, &ForeignKeyDdl)> =
            ddl.foreign_keys.iter().enumerate().find(|(i, d)| {
                !used.contains(i)
                    && d.referenced_table
                        .eq_ignore_ascii_case(&key.referenced_table)
                    && same_names(&d.columns, &key.columns)
            });
        if let Some((i, declared)) = declared {
            used.insert(i);
            key.deferrable = declared.deferrable;
            key.initially_deferred = declared.initially_deferred;
        }
    }
    Ok(keys)
}

/// Same names in the same order, compared as SQLite compares identifiers.
fn same_names(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_uri_escapes_query_fragment_and_percent() {
        assert_eq!(
            read_only_uri(Path::new("/tmp/a?b#c%d e.db")),
            "file:///tmp/a%3Fb%23c%25d%20e.db?mode=ro"
        );
        assert_eq!(
            read_only_uri(Path::new("data/x.db")),
            "file:data/x.db?mode=ro"
        );
    }

    #[test]
    fn identifiers_are_quoted_with_inner_quotes_doubled() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn internal_names_are_recognised_case_insensitively() {
        assert!(is_internal("sqlite_sequence") && is_internal("SQLITE_stat1"));
        assert!(!is_internal("sqlitex") && !is_internal("sql"));
    }
}

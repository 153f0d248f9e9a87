//! The source side of a migration: one connection type over every engine decant reads, whose
//! rows all arrive as [`SqlValue`]s, so loads and checks are written once for every engine.
//!
//! Each engine is a variant of [`SourceConnection`]; what differs between them (opening, the
//! session, the snapshot, how a big result is streamed) stays in this module and its files.
//! The SQL the upper layers send is written for both: identifiers in `"`, standard literals
//! (MySQL's session is put in ANSI_QUOTES / NO_BACKSLASH_ESCAPES mode to read it).

pub mod digest;
pub mod mysql;
pub mod pause;
mod value;

use std::sync::mpsc::sync_channel;

use diesel::connection::{DefaultLoadingMode, SimpleConnection};
use diesel::{MysqlConnection, RunQueryDsl, SqliteConnection};
use minijinja::context;

pub use value::{AnyStorage, SourceRow, SqlValue};

use crate::catalog::Engine;
use crate::dialect::Templates;

/// Rows per query when a MySQL table is read in key order: MySQL's client library holds a
/// whole result in memory, so a big table is read as a series of key-ordered pages.
pub const MYSQL_PAGE_ROWS: usize = 20_000;

/// The bytes of text and blobs a page should hold at most: a table of wide rows (documents,
/// images) is read in smaller pages, so memory stays flat whatever the rows hold.
const MYSQL_PAGE_BYTES: usize = 32 << 20;

/// Opens one more connection to the source, for reads that run side by side; `None` when the
/// source cannot (SQLite, whose reads share the process) or a connection fails.
pub type AnotherSource<'a> = dyn Fn() -> Option<SourceConnection> + Sync + 'a;

/// An open source database.
pub enum SourceConnection {
    Sqlite(SqliteConnection),
    Mysql(MysqlConnection),
}

/// A key column a MySQL read is paged by: its name in the SELECT, its position in a row, and
/// whether it is numeric (its values, even those read as digits, are compared as numbers).
#[derive(Debug, Clone)]
pub struct PageKey {
    pub name: String,
    pub position: usize,
    pub numeric: bool,
}

impl PageKey {
    /// Whether a MySQL column type is numeric: a DECIMAL or a `bigint unsigned` above 2^63
    /// arrives as digits, and quoted it would compare as a double, losing precision.
    pub fn numeric_type(declared: &str) -> bool {
        mysql::is_numeric(declared)
    }
}

/// Why visiting rows stopped early: the source failed, or the visitor said stop.
#[derive(Debug)]
pub enum VisitError<E> {
    Read(diesel::result::Error),
    Stopped(E),
}

impl SourceConnection {
    /// Which engine this is.
    pub fn engine(&self) -> Engine {
        match self {
            SourceConnection::Sqlite(_) => Engine::Sqlite,
            SourceConnection::Mysql(_) => Engine::Mysql,
        }
    }

    /// Runs statements that return nothing.
    pub fn batch_execute(&mut self, sql: &str) -> diesel::QueryResult<()> {
        match self {
            SourceConnection::Sqlite(c) => c.batch_execute(sql),
            SourceConnection::Mysql(c) => c.batch_execute(sql),
        }
    }

    /// Starts the read transaction whose one snapshot every following read sees.
    pub fn begin_snapshot(&mut self) -> diesel::QueryResult<()> {
        match self {
            SourceConnection::Sqlite(c) => c.batch_execute("BEGIN"),
            SourceConnection::Mysql(c) => c.batch_execute(mysql::BEGIN_SNAPSHOT),
        }
    }

    /// A second connection (made by `open`) reading the very rows this one reads, for SQLite;
    /// call it right after [`Self::begin_snapshot`], before this connection reads anything.
    /// This connection's snapshot starts here, with its first read, and the twin's just after:
    /// - in a rollback-journal mode, this connection's shared lock holds every commit back
    ///   until its transaction ends, so nothing can be committed between the two;
    /// - in WAL mode writers commit beside readers, so a third connection reads
    ///   `PRAGMA data_version` before and after: the same value means no other connection
    ///   committed in between, and both snapshots hold the same commit.
    ///
    /// `None` otherwise (a commit came in between, a connection did not open or read, MySQL).
    pub fn begin_twin(
        &mut self,
        open: impl Fn() -> Option<SourceConnection>,
    ) -> Option<SourceConnection> {
        self.begin_twin_after(open, || ())
    }

    /// [`Self::begin_twin`], running `between` after this connection's snapshot starts and
    /// before the twin's: where the tests put an app's commit.
    fn begin_twin_after(
        &mut self,
        open: impl Fn() -> Option<SourceConnection>,
        between: impl FnOnce(),
    ) -> Option<SourceConnection> {
        if self.engine() != Engine::Sqlite {
            return None;
        }
        let mut probe = open()?;
        let before = probe.load_rows("PRAGMA data_version").ok()?;
        self.load_rows("SELECT count(*) FROM sqlite_schema").ok()?;
        let mode = self.load_rows("PRAGMA journal_mode").ok()?;
        let wal = matches!(
            mode.first().and_then(|row| row.first()),
            Some(SqlValue::Text(m)) if m.eq_ignore_ascii_case("wal")
        );
        between();
        let mut twin = open()?;
        twin.begin_snapshot().ok()?;
        twin.load_rows("SELECT count(*) FROM sqlite_schema").ok()?;
        if wal && probe.load_rows("PRAGMA data_version").ok()? != before {
            return None;
        }
        Some(twin)
    }

    /// Ends the read transaction of [`Self::begin_snapshot`].
    pub fn end_snapshot(&mut self) -> diesel::QueryResult<()> {
        self.batch_execute("COMMIT")
    }

    /// Every row `sql` returns, in memory.
    pub fn load_rows(&mut self, sql: &str) -> diesel::QueryResult<Vec<Vec<SqlValue>>> {
        let rows = match self {
            SourceConnection::Sqlite(c) => diesel::sql_query(sql).load::<SourceRow>(c)?,
            SourceConnection::Mysql(c) => diesel::sql_query(sql).load::<SourceRow>(c)?,
        };
        Ok(rows.into_iter().map(|SourceRow(v)| v).collect())
    }

    /// The first column of the first row as an integer (a count, a min, a max); `None` for no
    /// row or NULL. Integers written as text (a MySQL DECIMAL sum, say) are read too.
    pub fn integer(&mut self, sql: &str) -> diesel::QueryResult<Option<i64>> {
        let rows = self.load_rows(sql)?;
        Ok(
            match rows.into_iter().next().and_then(|r| r.into_iter().next()) {
                Some(SqlValue::Integer(n)) => Some(n),
                Some(SqlValue::Real(f)) => Some(f as i64),
                Some(SqlValue::Text(t)) => t.trim().parse::<i64>().ok(),
                _ => None,
            },
        )
    }

    /// The least and the greatest value of the integer `column` (quoted) among the rows of
    /// `select_sql`; `None` when there is no row.
    pub fn key_span(
        &mut self,
        select_sql: &str,
        column: &str,
    ) -> diesel::QueryResult<Option<(i64, i64)>> {
        // Two reads: SQLite finds a lone min() or max() of a key in its index, but scans the
        // whole table for both in one SELECT (0.2 s for 3 M rows).
        let mut bound = |f: &str| {
            self.integer(&format!(
                "SELECT {f}({column}) FROM ({select_sql}) AS \"span\""
            ))
        };
        Ok(bound("min")?.zip(bound("max")?))
    }

    /// Hands every row of `sql` to `visit`, in order, streamed where the engine streams:
    /// SQLite steps through its result; MySQL's client holds the result of one query, so
    /// callers over big tables use [`Self::visit_in_key_order`].
    pub fn visit_rows<E>(
        &mut self,
        sql: &str,
        mut visit: impl FnMut(Vec<SqlValue>) -> Result<(), E>,
    ) -> Result<(), VisitError<E>> {
        match self {
            SourceConnection::Sqlite(c) => {
                let rows = diesel::sql_query(sql)
                    .load_iter::<SourceRow, DefaultLoadingMode>(c)
                    .map_err(VisitError::Read)?;
                for row in rows {
                    let SourceRow(values) = row.map_err(VisitError::Read)?;
                    visit(values).map_err(VisitError::Stopped)?;
                }
                Ok(())
            }
            SourceConnection::Mysql(c) => {
                let rows = diesel::sql_query(sql)
                    .load::<SourceRow>(c)
                    .map_err(VisitError::Read)?;
                for SourceRow(values) in rows {
                    visit(values).map_err(VisitError::Stopped)?;
                }
                Ok(())
            }
        }
    }

    /// Like [`Self::visit_rows`], for a whole table's SELECT: on MySQL the rows are read in
    /// pages of at most [`MYSQL_PAGE_ROWS`] (fewer for wide rows) in the order of `keys` (the selected key columns, by name
    /// and position in the row), each page starting after the previous page's last key, so
    /// memory stays flat. Without keys, one query reads the table.
    pub fn visit_in_key_order<E>(
        &mut self,
        select_sql: &str,
        keys: &[PageKey],
        visit: impl FnMut(Vec<SqlValue>) -> Result<(), E>,
    ) -> Result<(), VisitError<E>> {
        if matches!(self, SourceConnection::Sqlite(_)) || keys.is_empty() {
            return self.visit_rows(select_sql, visit);
        }
        // A reader thread fetches the next page while this one hands out the current one: the
        // server's and the client library's work overlaps the caller's (converting, sending).
        self.visit_pages(&mut [], select_sql, keys, &[None], visit)
    }

    /// [`Self::visit_in_key_order`] for a big MySQL table whose one integer key is cut into
    /// `ranges` (first and last key, inclusive): this connection and `others` (which must read
    /// the same snapshot, see [`Self::begin_snapshot_with`]) each take the next range not
    /// taken yet and read it in pages, all at once; `visit` sees every page in the order the
    /// pages arrive.
    pub fn visit_ranges<E>(
        &mut self,
        others: &mut [SourceConnection],
        select_sql: &str,
        keys: &[PageKey],
        ranges: &[(i64, i64)],
        visit: impl FnMut(Vec<SqlValue>) -> Result<(), E>,
    ) -> Result<(), VisitError<E>> {
        let within: Vec<Option<(i64, i64)>> = ranges.iter().copied().map(Some).collect();
        self.visit_pages(others, select_sql, keys, &within, visit)
    }

    /// Reads `select_sql` in key-ordered pages, a part (all keys, or a range) at a time, on
    /// this connection and `others` at once; hands every row to `visit` as the pages arrive.
    fn visit_pages<E>(
        &mut self,
        others: &mut [SourceConnection],
        select_sql: &str,
        keys: &[PageKey],
        parts: &[Option<(i64, i64)>],
        mut visit: impl FnMut(Vec<SqlValue>) -> Result<(), E>,
    ) -> Result<(), VisitError<E>> {
        let readers = 1 + others.len();
        let (pages, received) = sync_channel::<diesel::QueryResult<Vec<Vec<SqlValue>>>>(readers);
        std::thread::scope(|scope| {
            let conns = std::iter::once(self).chain(others.iter_mut()).collect();
            // `pages` ends with this thread, and the channel with it once every part is read.
            // Once the caller stops, each part left ends at its first page, which finds no one
            // to take it.
            let reader = scope.spawn(move || {
                // In key order: all the same size.
                share_out(
                    conns,
                    parts,
                    |_| 0,
                    |conn, within| {
                        read_pages(conn, select_sql, keys, *within, |p| pages.send(p).is_ok());
                    },
                )
            });
            for page in received {
                for values in page.map_err(VisitError::Read)? {
                    visit(values).map_err(VisitError::Stopped)?;
                }
            }
            // A reader that panicked closed the channel as an ending would: its panic goes on
            // to the caller (a run fails the step), never a silently short read.
            if let Err(panic) = reader.join() {
                std::panic::resume_unwind(panic);
            }
            Ok(())
        })
    }

    /// Starts this connection's snapshot together with `twins`': all see the same rows.
    /// MySQL's snapshots are each connection's own, so they start while a global read lock
    /// (`FLUSH TABLES WITH READ LOCK`, taken on `control`) holds every commit back — for the
    /// moment it takes to start them — as mysqldump and mydumper do. Returns the twins whose
    /// snapshot began: none when the lock is refused (it needs the RELOAD privilege) or a twin
    /// fails, and this connection then reads alone.
    pub fn begin_snapshot_with(
        &mut self,
        mut control: SourceConnection,
        mut twins: Vec<SourceConnection>,
    ) -> diesel::QueryResult<Vec<SourceConnection>> {
        if control.batch_execute(mysql::LOCK_COMMITS).is_err() {
            self.begin_snapshot()?;
            return Ok(Vec::new());
        }
        // Where a test acts while the run holds every commit back.
        crate::signals::test_point("locked", "snapshot");
        let begun = self.begin_snapshot();
        let twins_begun = twins.iter_mut().all(|t| t.begin_snapshot().is_ok());
        // Closing the connection would release the lock too; unlocking says so.
        let _ = control.batch_execute(mysql::UNLOCK_COMMITS);
        begun?;
        Ok(if twins_begun { twins } else { Vec::new() })
    }
}

/// Hands `items` out to `conns`, a thread each, until every item is done: each connection
/// takes the biggest item (by `size`) not taken yet, so that the last ones taken are small,
/// and runs `work(connection, item)`. Returns each item's result, in the items' order. The
/// connections must read one snapshot (the caller's promise).
pub(crate) fn share_out<T: Sync, R: Send>(
    conns: Vec<&mut SourceConnection>,
    items: &[T],
    size: impl Fn(&T) -> u64,
    work: impl Fn(&mut SourceConnection, &T) -> R + Sync,
) -> Vec<R> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(size(&items[i])));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (next, order, work) = (&next, &order, &work);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let threads: Vec<_> = conns
            .into_iter()
            .map(|conn| {
                scope.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let taken = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&i) = order.get(taken) else {
                            return done;
                        };
                        done.push((i, work(conn, &items[i])));
                    }
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Reads `select_sql` in key-ordered pages (only keys within `within`, when given) and hands
/// each page to `send`, until the last page or until `send` says stop.
fn read_pages(
    conn: &mut SourceConnection,
    select_sql: &str,
    keys: &[PageKey],
    within: Option<(i64, i64)>,
    mut send: impl FnMut(diesel::QueryResult<Vec<Vec<SqlValue>>>) -> bool,
) {
    let templates = Templates::new(None);
    let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
    let mut after: Option<Vec<serde_json::Value>> = None;
    // The first page is small: how wide the rows are is not known before it.
    let mut limit = 16;
    loop {
        // Tests make a reader thread panic here, as a bug in a driver would.
        crate::signals::test_point("reading", "page");
        let page = templates
            .render(
                &crate::dialect::source_template("mysql", "select_page"),
                context! { select => select_sql, keys => names, after, limit, within },
            )
            .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))
            .and_then(|sql| conn.load_rows(&sql));
        let (full, last) = match &page {
            Ok(rows) => (
                rows.len() == limit,
                rows.last().map(|row| {
                    keys.iter()
                        .map(|k| {
                            row.get(k.position)
                                .map_or(serde_json::Value::Null, |v| literal_json(v, k.numeric))
                        })
                        .collect()
                }),
            ),
            Err(_) => (false, None),
        };
        let bytes = page.as_ref().map_or(0, |rows| page_bytes(rows));
        // A closed channel: the caller stopped reading.
        if !send(page) || !full {
            return;
        }
        after = last;
        limit = next_page_rows(limit, bytes);
    }
}

/// A key value as the page template writes it as a literal: numbers as numbers, text as
/// text, bytes as `{"hex": …}`, and the digits of a numeric column as `{"number": …}`.
fn literal_json(value: &SqlValue, numeric: bool) -> serde_json::Value {
    match value {
        SqlValue::Text(t) if numeric && crate::dialect::is_plain_number(t) => {
            serde_json::json!({ "number": t })
        }
        SqlValue::Null => serde_json::Value::Null,
        SqlValue::Integer(i) => serde_json::Value::from(*i),
        SqlValue::Real(f) => serde_json::Value::from(*f),
        SqlValue::Text(t) => serde_json::Value::from(t.as_str()),
        SqlValue::InvalidText(b) | SqlValue::Blob(b) => {
            let hex: String = b.iter().map(|b| format!("{b:02x}")).collect();
            serde_json::json!({ "hex": hex })
        }
    }
}

/// How many rows the next page asks for, after a page of `rows` rows held `bytes`: about
/// [`MYSQL_PAGE_BYTES`] of wide rows, at most [`MYSQL_PAGE_ROWS`] narrow ones.
fn next_page_rows(rows: usize, bytes: usize) -> usize {
    (rows * MYSQL_PAGE_BYTES / bytes.max(1)).clamp(16, MYSQL_PAGE_ROWS)
}

/// The bytes a page of rows holds in text and blobs (numbers are small and fixed).
fn page_bytes(rows: &[Vec<SqlValue>]) -> usize {
    rows.iter()
        .flatten()
        .map(|v| match v {
            SqlValue::Text(t) => t.len(),
            SqlValue::InvalidText(b) | SqlValue::Blob(b) => b.len(),
            _ => 8,
        })
        .sum()
}

/// What the source's SQL says differently from one engine to the next, for the queries the
/// layers above build (orphan searches, the comparison's reads): asked here, never by naming
/// an engine there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceSql {
    engine: Engine,
}

impl SourceSql {
    /// The SQL of a source of `engine`, when only the plan (not a connection) is at hand.
    pub fn of(engine: Engine) -> SourceSql {
        SourceSql { engine }
    }

    /// `left = right`, decided by bytes: SQLite by its `BINARY` collation; MySQL compares text
    /// under the column's collation (often `_ci`), so for `text` bytes decide after the plain
    /// equality that lets the parent's key index serve.
    pub fn byte_equality(self, left: &str, right: &str, text: bool) -> String {
        match self.engine {
            Engine::Sqlite => format!("{left} = {right} COLLATE BINARY"),
            Engine::Mysql if text => format!("{left} = {right} AND BINARY {left} = {right}"),
            Engine::Mysql => format!("{left} = {right}"),
        }
    }

    /// An `ORDER BY` term sorting the SELECT's column `position` (1-based), named `column`, by
    /// its bytes: SQLite's `BINARY` collation; MySQL orders by its collation (often
    /// case-insensitive), so `BINARY` of the column.
    pub fn byte_order(self, position: usize, column: &str) -> String {
        match self.engine {
            Engine::Sqlite => format!("{position} COLLATE BINARY"),
            Engine::Mysql => format!("BINARY {column}"),
        }
    }

    /// An expression JSON can hold for `column_sql`: SQLite's blobs become `x'…'` text;
    /// MySQL's columns hold their declared type, and `JSON_OBJECT` writes each as it is.
    pub fn json_value(self, column_sql: &str) -> String {
        match self.engine {
            Engine::Sqlite => format!("CASE WHEN typeof({column_sql}) = 'blob' THEN 'x''' || hex({column_sql}) || '''' ELSE {column_sql} END"),
            Engine::Mysql => column_sql.to_owned(),
        }
    }

    /// A JSON object naming a row of `table_sql` by its key, given as `(name, column
    /// expression)` pairs; without key columns SQLite's `rowid`, and for MySQL (no rowid) an
    /// empty object.
    pub fn row_key_json(self, table_sql: &str, key: &[(String, String)]) -> String {
        if key.is_empty() {
            return match self.engine {
                Engine::Sqlite => format!("json_object('rowid', {table_sql}.rowid)"),
                Engine::Mysql => "json_object()".to_owned(),
            };
        }
        let pairs: Vec<String> = key
            .iter()
            .map(|(name, column_sql)| {
                format!(
                    "{}, {}",
                    crate::dialect::quote_literal(name),
                    self.json_value(column_sql)
                )
            })
            .collect();
        format!("json_object({})", pairs.join(", "))
    }

    /// Whether one SELECT joining many key ranges from a list reads well: MariaDB plans such a
    /// join as a block nested loop (the table scanned once per range), so its ranges go in
    /// SELECTs of a few dozen each.
    pub fn joins_many_ranges(self) -> bool {
        match self.engine {
            Engine::Sqlite => true,
            Engine::Mysql => false,
        }
    }

    /// Whether numbers (a DECIMAL, and every SUM, even of integers) arrive as their digits in
    /// text: MySQL's do.
    pub fn numbers_as_text(self) -> bool {
        match self.engine {
            Engine::Sqlite => false,
            Engine::Mysql => true,
        }
    }
}

impl SourceConnection {
    /// The SQL this source speaks: see [`SourceSql`].
    pub fn sql(&self) -> SourceSql {
        SourceSql::of(self.engine())
    }

    /// Maps up to `bytes` of the database file into memory for reads (0: off), where the
    /// engine has such a setting (SQLite's `mmap_size`); nothing elsewhere. Takes effect for
    /// transactions begun after it.
    pub fn map_pages(&mut self, bytes: u64) -> diesel::QueryResult<()> {
        match self {
            SourceConnection::Sqlite(c) => c.batch_execute(&format!("PRAGMA mmap_size = {bytes}")),
            SourceConnection::Mysql(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::Connection;

    #[test]
    fn a_sqlite_twin_reads_the_same_rows_in_every_journal_mode() {
        let dir = tempfile::tempdir().unwrap();
        for mode in ["delete", "truncate", "wal"] {
            let path = dir.path().join(format!("{mode}.sqlite3"));
            let url = path.to_str().unwrap().to_owned();
            let mut writer = SqliteConnection::establish(&url).unwrap();
            writer
                .batch_execute(&format!(
                    "PRAGMA journal_mode = {mode}; CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);"
                ))
                .unwrap();
            let open = || {
                SqliteConnection::establish(&url)
                    .ok()
                    .map(SourceConnection::Sqlite)
            };
            let mut reader = open().unwrap();
            reader.begin_snapshot().unwrap();
            let mut twin = reader.begin_twin(open).expect(mode);
            // A rollback journal holds the commit back while the readers read; WAL takes it,
            // and neither reader sees it.
            let commit = writer.batch_execute("INSERT INTO t VALUES (2)");
            assert_eq!(commit.is_ok(), mode == "wal", "{mode}: {commit:?}");
            for conn in [&mut reader, &mut twin] {
                assert_eq!(
                    conn.integer("SELECT count(*) FROM t").unwrap(),
                    Some(1),
                    "{mode}"
                );
            }
            reader.end_snapshot().unwrap();
            twin.end_snapshot().unwrap();
            // An app's commit between the two snapshots: held back by the first reader's lock
            // in a rollback journal (the twin reads what the reader reads); in WAL mode it
            // goes through, the twin would see one row more, and there is none.
            reader.begin_snapshot().unwrap();
            let mut between = None;
            let twin = reader.begin_twin_after(open, || {
                between = Some(writer.batch_execute("INSERT INTO t VALUES (3)").is_ok());
            });
            assert_eq!(between, Some(mode == "wal"), "{mode}");
            assert_eq!(twin.is_none(), mode == "wal", "{mode}");
            reader.end_snapshot().unwrap();
        }
    }

    #[test]
    fn in_wal_mode_data_version_tells_a_commit_between_two_reads() {
        // What `begin_twin` relies on to tell that no commit came between the snapshots.
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("wal.sqlite3");
        let url = url.to_str().unwrap();
        let mut writer = SqliteConnection::establish(url).unwrap();
        writer
            .batch_execute("PRAGMA journal_mode = wal; CREATE TABLE t (x INTEGER);")
            .unwrap();
        let mut probe = SourceConnection::Sqlite(SqliteConnection::establish(url).unwrap());
        let mut version = || probe.load_rows("PRAGMA data_version").unwrap();
        let first = version();
        assert_eq!(version(), first);
        writer.batch_execute("INSERT INTO t VALUES (1)").unwrap();
        assert_ne!(version(), first);
    }

    #[test]
    fn pages_hold_about_32_mib_of_wide_rows_and_20_000_narrow_ones() {
        // The first page: 16 rows of 1 MiB, then 32 a page; of 100 bytes, then the most.
        assert_eq!(next_page_rows(16, 16 << 20), 32);
        assert_eq!(next_page_rows(16, 1_600), MYSQL_PAGE_ROWS);
        // Rows of 64 MiB: never fewer than 16.
        assert_eq!(next_page_rows(32, 32 * (64 << 20)), 16);
        let rows = vec![vec![SqlValue::Integer(1), SqlValue::Text("x".repeat(1000))]; 10];
        assert_eq!(page_bytes(&rows), 10 * (8 + 1000));
    }
}

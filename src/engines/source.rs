//! The source side of a migration: one connection type over every engine decant reads, whose
//! rows all arrive as [`SqlValue`]s, so loads and checks are written once for every engine.
//!
//! Each engine is a variant of [`SourceConnection`]; what differs between them (opening, the
//! session, the snapshot, how a big result is streamed) is dispatched here to the engine's
//! folder. The SQL the upper layers send is written for both: identifiers in `"`, standard
//! literals (MySQL's session is put in ANSI_QUOTES / NO_BACKSLASH_ESCAPES mode to read it).

use std::sync::mpsc::sync_channel;

use diesel::connection::{DefaultLoadingMode, SimpleConnection};
use diesel::{MysqlConnection, PgConnection, RunQueryDsl, SqliteConnection};

use crate::engines::count::{count_with, CountError};
use crate::engines::mysql::pages::read_pages;
use crate::engines::mysql::session as mysql;
use crate::engines::postgres::read as postgres_read;
use crate::engines::postgres::source as postgres;
use crate::engines::{SourceRow, SqlValue};

use crate::catalog::Engine;

/// Opens one more connection to the source, for reads that run side by side; `None` when the
/// source cannot (SQLite, whose reads share the process) or a connection fails.
pub type AnotherSource<'a> = dyn Fn() -> Option<SourceConnection> + Sync + 'a;

/// An open source database.
pub enum SourceConnection {
    Sqlite(SqliteConnection),
    Mysql(MysqlConnection),
    Postgres(PgConnection),
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
            SourceConnection::Postgres(_) => Engine::Postgres,
        }
    }

    /// Runs statements that return nothing.
    pub fn batch_execute(&mut self, sql: &str) -> diesel::QueryResult<()> {
        match self {
            SourceConnection::Sqlite(c) => c.batch_execute(sql),
            SourceConnection::Mysql(c) => c.batch_execute(sql),
            SourceConnection::Postgres(c) => c.batch_execute(sql),
        }
    }

    /// Starts the read transaction whose one snapshot every following read sees.
    pub fn begin_snapshot(&mut self) -> diesel::QueryResult<()> {
        match self {
            SourceConnection::Sqlite(c) => c.batch_execute("BEGIN"),
            SourceConnection::Mysql(c) => c.batch_execute(mysql::BEGIN_SNAPSHOT),
            SourceConnection::Postgres(c) => c.batch_execute(postgres::BEGIN_SNAPSHOT),
        }
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
            SourceConnection::Postgres(c) => diesel::sql_query(sql).load::<SourceRow>(c)?,
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

    /// The rows of `from` (SQL after FROM: a quoted table, or a join) that `filter` (a
    /// condition in the source's SQL) lets through; every row without one.
    pub fn count_rows(&mut self, from: &str, filter: Option<&str>) -> Result<u64, CountError> {
        count_with(from, filter, |sql| self.integer(sql))
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
            SourceConnection::Postgres(c) => postgres_read::stream_rows(c, sql, visit),
        }
    }

    /// Like [`Self::visit_rows`], for a whole table's SELECT: on MySQL the rows are read in
    /// pages of at most [`crate::engines::mysql::MYSQL_PAGE_ROWS`] (fewer for wide rows) in the order of `keys` (the selected key columns, by name
    /// and position in the row), each page starting after the previous page's last key, so
    /// memory stays flat. Without keys, one query reads the table.
    pub fn visit_in_key_order<E>(
        &mut self,
        select_sql: &str,
        keys: &[PageKey],
        visit: impl FnMut(Vec<SqlValue>) -> Result<(), E>,
    ) -> Result<(), VisitError<E>> {
        if matches!(
            self,
            SourceConnection::Sqlite(_) | SourceConnection::Postgres(_)
        ) || keys.is_empty()
        {
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
                        conn.read_part(select_sql, keys, *within, |p| pages.send(p).is_ok())
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

    /// Reads one part of [`Self::visit_pages`] and hands it to `send` a page at a time: MySQL in
    /// key-ordered pages, one query each; PostgreSQL streams the part's one query in batches.
    fn read_part(
        &mut self,
        select_sql: &str,
        keys: &[PageKey],
        within: Option<(i64, i64)>,
        send: impl FnMut(diesel::QueryResult<Vec<Vec<SqlValue>>>) -> bool,
    ) {
        match (self, keys.first()) {
            (SourceConnection::Postgres(c), Some(key)) => {
                postgres_read::read_range(c, select_sql, &key.name, within, send);
            }
            (conn, _) => read_pages(conn, select_sql, keys, within, send),
        }
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
        if let SourceConnection::Postgres(c) = self {
            // PostgreSQL shares one snapshot by name: the twins adopt the one this exports,
            // and no commit is held back. `control` is not needed.
            drop(control);
            let id = postgres::begin_exported(c)?;
            // Where a test commits between the first reader's start and the twins'.
            crate::signals::test_point("exported", "snapshot");
            let adopted = twins.iter_mut().all(|t| match t {
                SourceConnection::Postgres(t) => postgres::adopt_snapshot(t, &id).is_ok(),
                _ => false,
            });
            return Ok(if adopted { twins } else { Vec::new() });
        }
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

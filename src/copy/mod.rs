//! The copy engine: reads a source table value by value in its actual SQLite storage class,
//! converts each value to its target column's type in Rust, and streams the rows into
//! PostgreSQL with binary COPY through Diesel, rejecting or stopping at rows that cannot go.
//!
//! One table is one COPY statement fed from one streaming SELECT, with about 1 MiB buffered:
//! memory does not grow with the table. A bad row under `on_bad_row: stop`, a source error or
//! a sink error cancels the COPY, so the server keeps none of the table's rows; the caller
//! still owns the table's transaction (and the source's read transaction).

mod converter;
mod key_watch;
mod read;
mod rejects;
mod type_oids;

use std::path::PathBuf;

use crate::engines::digest::StreamedDigest;
use crate::engines::{PageKey, SourceConnection, VisitError};
use serde::Serialize;

use crate::convert::binary;
use crate::dialect::quote_ident;
use crate::engines::postgres::{copy_in, CopyFailure, CopyInto};
use crate::engines::TargetConnection;
use crate::plan::model::OnBadRow;
use crate::resolve::ResolvedTable;

pub use key_watch::{KeySet, KeyWatch, WatchedColumn};
pub use read::{show_value, sqlite_real_text, value_json, SqlValue};
pub use rejects::{JsonLinesRejects, VecRejects};

pub(crate) use crate::convert::IpNet;
pub(crate) use converter::Converter;
pub(crate) use read::SourceRow;
pub(crate) use type_oids::{with_type_oids, TYPE_OID};

/// Rows read by the copy in progress, for progress displays (the one loader lane copies one
/// table at a time); updated every few thousand rows.
static ROWS_READ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many rows the copy in progress has read so far.
pub fn rows_read_so_far() -> u64 {
    ROWS_READ.load(std::sync::atomic::Ordering::Relaxed)
}

/// Bytes buffered before each write to the COPY stream.
const CHUNK: usize = 1 << 20;

/// What happened to one table's rows: `read == written + rejected` when the copy succeeds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CopyStats {
    pub read: u64,
    pub written: u64,
    pub rejected: u64,
}

/// A row that could not be written, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reject {
    /// The source table.
    pub table: String,
    /// The row's source primary key, `{"column": value, …}`; `{"rowid": n}` for tables without
    /// one; `{"row": n}` (position in the read order) when the SELECT did not return the key.
    pub primary_key: serde_json::Value,
    /// The source column whose value could not be converted.
    pub column: String,
    /// The source value, shown safely: text escaped, blobs as `x'…'` hex, both truncated.
    pub value: String,
    pub reason: String,
    /// Every column of the row whose value could not be converted, in column order, the one
    /// in `column` first; empty for a reject that is not about values (an orphan row).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<BadValue>,
}

/// One value of a rejected row that could not be converted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BadValue {
    pub column: String,
    pub value: String,
    pub reason: String,
}

/// A row's key as `id=3` or `order_id=3, line=2` (any other JSON as it is written).
pub fn key_text(key: &serde_json::Value) -> String {
    match key {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

impl Reject {
    /// The primary key as `id=3` or `order_id=3, line=2`.
    pub fn key_text(&self) -> String {
        key_text(&self.primary_key)
    }

    /// What is wrong with the row: `column `a` cannot take `x`: why`, for each bad value.
    pub fn problems_text(&self) -> String {
        if self.columns.is_empty() {
            return format!(
                "column `{}` cannot take `{}`: {}",
                self.column, self.value, self.reason
            );
        }
        self.columns
            .iter()
            .map(|b| {
                format!(
                    "column `{}` cannot take `{}`: {}",
                    b.column, b.value, b.reason
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Where rejected rows go under `on_bad_row: reject`.
pub trait RejectSink {
    fn reject(&mut self, r: Reject) -> Result<(), CopyError>;

    /// Called once a table's rows are all read; makes its rejects durable.
    fn flush(&mut self) -> Result<(), CopyError> {
        Ok(())
    }
}

/// Why a table could not be copied.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("table `{table}`: the copy stopped on {signal}")]
    Interrupted { table: String, signal: &'static str },
    #[error("table `{table}`: column `{column}` has type `{type_sql}`, which the copy engine cannot write; choose another type with `to:`")]
    UnsupportedType {
        table: String,
        column: String,
        type_sql: String,
    },

    #[error("table `{table}`: the source query returns {found} columns where {expected} are copied: `{sql}`")]
    SelectShape {
        table: String,
        sql: String,
        expected: usize,
        found: usize,
    },

    #[error("table `{table}`: reading the source failed: `{sql}`")]
    Read {
        table: String,
        sql: String,
        #[source]
        source: diesel::result::Error,
    },

    #[error("table `{table}`: writing to the target failed: `{sql}`")]
    Write {
        table: String,
        sql: String,
        #[source]
        source: diesel::result::Error,
    },

    #[error("table `{table}`: sending rows to the target failed: `{sql}`")]
    Send {
        table: String,
        sql: String,
        #[source]
        source: std::io::Error,
    },

    #[error("table `{}`, row {}: {}", .0.table, .0.key_text(), .0.problems_text())]
    BadRow(Box<Reject>),

    #[error("table `{table}`: {written} rows were sent but the target reports {reported} copied")]
    CountMismatch {
        table: String,
        written: u64,
        reported: u64,
    },

    #[error("cannot write rejected rows to `{}`", path.display())]
    Rejects {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The source columns `select_sql` should return: the copied columns in order, then the key
/// columns that name a row in rejects when they are not copied (`rowid` when `primary_key`
/// is empty). A SELECT of the copied columns alone works too; rejects then name rows by key
/// columns among them, or by position.
pub fn select_columns(table: &ResolvedTable, primary_key: &[String]) -> Vec<String> {
    let mut columns: Vec<String> = table.copied_columns().map(|c| c.source.clone()).collect();
    let wanted = row_names(table, primary_key);
    for key in wanted {
        if !columns.iter().any(|c| c.eq_ignore_ascii_case(&key)) {
            columns.push(key);
        }
    }
    columns
}

/// The columns that name a row: its key, else `rowid` where the source has one, else none
/// (rows are then named by their position in the read).
fn row_names(table: &ResolvedTable, primary_key: &[String]) -> Vec<String> {
    match (primary_key.is_empty(), table.rowid) {
        (false, _) => primary_key.to_vec(),
        (true, true) => vec!["rowid".to_owned()],
        (true, false) => Vec::new(),
    }
}

/// Where a row's key values are in the selected row.
struct KeyPlan {
    /// Key column names and their positions; empty when the row is named by its position.
    columns: Vec<(String, usize)>,
}

impl KeyPlan {
    fn new(table: &ResolvedTable, primary_key: &[String], field_count: usize) -> KeyPlan {
        let all = select_columns(table, primary_key);
        let copied = table.copied_columns().count();
        let names = if field_count >= all.len() {
            &all[..]
        } else {
            &all[..copied.min(all.len())]
        };
        let wanted = row_names(table, primary_key);
        let columns: Option<Vec<(String, usize)>> = wanted
            .into_iter()
            .map(|key| {
                names
                    .iter()
                    .position(|n| n.eq_ignore_ascii_case(&key))
                    .map(|i| (key, i))
            })
            .collect();
        KeyPlan {
            columns: columns.unwrap_or_default(),
        }
    }

    fn json(&self, row: &[SqlValue], number: u64) -> serde_json::Value {
        if self.columns.is_empty() {
            return serde_json::json!({ "row": number });
        }
        let map = self.columns.iter().map(|(name, i)| {
            (
                name.clone(),
                row.get(*i)
                    .map_or(serde_json::Value::Null, read::value_json),
            )
        });
        serde_json::Value::Object(map.collect())
    }
}

/// Copies one table: streams `select_sql` from `source` through the column conversions into
/// `into` (the rendered step's COPY, [`crate::render::CopyStep`]; when `None`, the table's own
/// target names in `schema`) on `target`.
///
/// `select_sql` returns the copied columns in order, optionally followed by the key columns of
/// [`select_columns`]. `primary_key` names the source primary key columns (empty: `rowid`).
/// Under [`OnBadRow::Stop`] the first bad row ends the copy with [`CopyError::BadRow`] and the
/// COPY is cancelled; under [`OnBadRow::Reject`] bad rows go to `rejects` and the rest are written.
#[allow(clippy::too_many_arguments)]
pub fn copy_table(
    source: &mut SourceConnection,
    target: &mut TargetConnection,
    schema: &str,
    table: &ResolvedTable,
    primary_key: &[String],
    select_sql: &str,
    into: Option<CopyInto<'_>>,
    on_bad_row: OnBadRow,
    rejects: &mut dyn RejectSink,
    along: ReadAlong<'_>,
) -> Result<CopyStats, CopyError> {
    let ReadAlong {
        twins,
        digest,
        watch,
    } = along;
    let bound = with_type_oids(target, table).map_err(|source| CopyError::Write {
        table: table.source.clone(),
        sql: TYPE_OID.to_owned(),
        source,
    })?;
    let table = &*bound;
    let converter = Converter::new(table).map_err(|u| CopyError::UnsupportedType {
        table: table.source.clone(),
        column: u.column,
        type_sql: u.type_sql,
    })?;
    let made_target;
    let into = if let Some(into) = into {
        into
    } else {
        let columns: Vec<String> = table
            .copied_columns()
            .map(|c| quote_ident(&c.target))
            .collect();
        made_target = format!(
            "{}.{} ({})",
            quote_ident(schema),
            quote_ident(&table.target),
            columns.join(", ")
        );
        CopyInto {
            target: &made_target,
            freeze: false,
        }
    };
    let statement = into.statement();
    let mut job = Stream {
        source,
        twins,
        table,
        primary_key,
        select_sql,
        statement: &statement,
        converter: &converter,
        on_bad_row,
        rejects,
        digest,
        watch,
        stats: CopyStats::default(),
        failure: None,
    };
    let result = copy_in(target, into, |out| job.run(out));
    match (job.failure.take(), &result) {
        // A failed send means the server gave up first; its own error says why.
        (Some(CopyError::Send { .. }), Err(CopyFailure::Database(_))) => {}
        (Some(e), _) => return Err(e),
        (None, _) => {}
    }
    let stats = job.stats;
    match result {
        Ok(reported) if reported as u64 == stats.written => Ok(stats),
        Ok(reported) => Err(CopyError::CountMismatch {
            table: table.source.clone(),
            written: stats.written,
            reported: reported as u64,
        }),
        Err(CopyFailure::Database(source)) => Err(CopyError::Write {
            table: table.source.clone(),
            sql: statement,
            source,
        }),
        Err(CopyFailure::Aborted(message)) => Err(CopyError::Write {
            table: table.source.clone(),
            sql: statement,
            source: diesel::result::Error::QueryBuilderError(message.into()),
        }),
    }
}

/// Rows a MySQL or PostgreSQL table must have (by the catalog's count) to be read in key ranges by
/// several connections at once.
pub const PARALLEL_READ_ROWS: u64 = 200_000;

/// Ranges a table read by several connections is cut into, per connection: a connection that
/// finishes early takes another.
const RANGES_PER_READER: i64 = 4;

/// The key ranges `table` is read in by `1 + twins` connections: for a server's table of at least
/// [`PARALLEL_READ_ROWS`] rows with one integer key; `None` otherwise (one reader, in pages).
fn parallel_ranges(
    source: &mut SourceConnection,
    twins: usize,
    table: &ResolvedTable,
    select_sql: &str,
    keys: &[PageKey],
) -> Option<Vec<(i64, i64)>> {
    let [key] = keys else { return None };
    let integer = table
        .column(&key.name)
        .is_some_and(|c| c.target_type.family() == crate::engines::postgres::TypeFamily::Integer);
    if twins == 0
        || !source.engine().reads_key_ranges_side_by_side()
        || table.source_rows < PARALLEL_READ_ROWS
        || !integer
    {
        return None;
    }
    let (min, max) = source
        .key_span(select_sql, &quote_ident(&key.name))
        .ok()
        .flatten()?;
    let pieces = i128::from(RANGES_PER_READER) * (twins as i128 + 1);
    let width = ((i128::from(max) - i128::from(min)) / pieces + 1).max(1);
    let mut ranges = Vec::new();
    let mut lo = i128::from(min);
    while lo <= i128::from(max) {
        let hi = (lo + width - 1).min(i128::from(max));
        // Both ends lie between min and max, so they fit in i64.
        ranges.push((lo as i64, hi as i64));
        lo = hi + 1;
    }
    Some(ranges)
}

/// What reads along with a copy ([`copy_table`]); by default, nothing.
#[derive(Default)]
pub struct ReadAlong<'a> {
    /// More connections on `source`'s snapshot ([`SourceConnection::begin_snapshot_with`]): a
    /// big table of a server with one integer key is read in key ranges by all of them at once.
    pub twins: &'a mut [SourceConnection],
    /// Every row read (bad rows too) is added to it on the way.
    pub digest: Option<&'a mut StreamedDigest>,
    /// Columns whose values every row read (bad rows too) adds to a set.
    pub watch: Option<&'a mut KeyWatch>,
}

/// One table's stream: the source rows, their conversion, and where bad rows go.
struct Stream<'a> {
    source: &'a mut SourceConnection,
    twins: &'a mut [SourceConnection],
    table: &'a ResolvedTable,
    primary_key: &'a [String],
    select_sql: &'a str,
    statement: &'a str,
    converter: &'a Converter,
    on_bad_row: OnBadRow,
    rejects: &'a mut dyn RejectSink,
    digest: Option<&'a mut StreamedDigest>,
    watch: Option<&'a mut KeyWatch>,
    stats: CopyStats,
    /// Why the stream stopped, kept here: Diesel reports a cancelled COPY as a database error.
    failure: Option<CopyError>,
}

impl Stream<'_> {
    /// The COPY's data callback.
    fn run(&mut self, out: &mut dyn std::io::Write) -> Result<(), CopyFailure> {
        match self.send(out) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.failure = Some(e);
                // The server logs this message; row values stay out of it.
                Err(CopyFailure::Aborted(format!(
                    "decant stopped the copy of table `{}`",
                    self.table.source
                )))
            }
        }
    }

    /// Reads, converts and sends every row, then the trailer.
    fn send(&mut self, out: &mut dyn std::io::Write) -> Result<(), CopyError> {
        let Stream {
            source,
            twins,
            table,
            primary_key,
            select_sql,
            statement,
            converter,
            on_bad_row,
            rejects,
            digest,
            watch,
            stats,
            ..
        } = self;
        let (table, select_sql, statement): (&ResolvedTable, &str, &str) =
            (table, select_sql, statement);
        let read_error = |source| CopyError::Read {
            table: table.source.clone(),
            sql: select_sql.to_owned(),
            source,
        };
        let mut send = |buf: &[u8]| {
            out.write_all(buf).map_err(|source| CopyError::Send {
                table: table.source.clone(),
                sql: statement.to_owned(),
                source,
            })
        };
        let expected = converter.columns.len();
        let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + CHUNK / 4);
        buf.extend_from_slice(&binary::HEADER);
        let mut keys: Option<KeyPlan> = None;
        // MySQL reads a big table in key-ordered pages; the selected key columns say where.
        let page_keys: Vec<PageKey> = KeyPlan::new(table, primary_key, usize::MAX)
            .columns
            .into_iter()
            .map(|(name, position)| PageKey {
                numeric: table
                    .column(&name)
                    .is_some_and(|c| PageKey::numeric_type(&c.declared)),
                name,
                position,
            })
            .collect();
        ROWS_READ.store(0, std::sync::atomic::Ordering::Relaxed);
        let ranges = parallel_ranges(source, twins.len(), table, select_sql, &page_keys);
        let visitor = |values: Vec<SqlValue>| {
            stats.read += 1;
            if stats.read % 4096 == 0 {
                ROWS_READ.store(stats.read, std::sync::atomic::Ordering::Relaxed);
                if stats.read == 4096 {
                    // Tests pause or kill a load here, in the middle of its COPY.
                    crate::signals::test_point("copying", &format!("load:{}", table.source));
                }
                // A signal stops the copy here; the caller's transaction rolls the table back.
                if let Some(signal) = crate::signals::received() {
                    return Err(CopyError::Interrupted {
                        table: table.source.clone(),
                        signal: crate::signals::name(signal),
                    });
                }
            }
            if values.len() < expected {
                return Err(CopyError::SelectShape {
                    table: table.source.clone(),
                    sql: select_sql.to_owned(),
                    expected,
                    found: values.len(),
                });
            }
            if let Some(digest) = digest.as_deref_mut() {
                digest.add(&values);
            }
            if let Some(watch) = watch.as_deref_mut() {
                watch.add(&values);
            }
            let start = buf.len();
            match converter.encode_row(&values, &mut buf) {
                Ok(()) => stats.written += 1,
                Err((column, reason)) => {
                    buf.truncate(start);
                    let keys =
                        keys.get_or_insert_with(|| KeyPlan::new(table, primary_key, values.len()));
                    let bad = |(i, reason): (usize, String)| BadValue {
                        column: converter.columns[i].source.clone(),
                        value: show_value(&values[i]),
                        reason,
                    };
                    let mut columns = vec![bad((column, reason.clone()))];
                    columns.extend(
                        converter
                            .later_bad_columns(&values, column)
                            .into_iter()
                            .map(bad),
                    );
                    let reject = Reject {
                        table: table.source.clone(),
                        primary_key: keys.json(&values, stats.read),
                        column: converter.columns[column].source.clone(),
                        value: show_value(&values[column]),
                        reason,
                        columns,
                    };
                    match on_bad_row {
                        OnBadRow::Stop => return Err(CopyError::BadRow(Box::new(reject))),
                        OnBadRow::Reject => {
                            rejects.reject(reject)?;
                            stats.rejected += 1;
                        }
                    }
                }
            }
            if buf.len() >= CHUNK {
                send(&buf)?;
                buf.clear();
            }
            Ok(())
        };
        let visited = match ranges {
            Some(ranges) => source.visit_ranges(twins, select_sql, &page_keys, &ranges, visitor),
            None => source.visit_in_key_order(select_sql, &page_keys, visitor),
        };
        match visited {
            Ok(()) => {}
            Err(VisitError::Read(e)) => return Err(read_error(e)),
            Err(VisitError::Stopped(e)) => return Err(e),
        }
        buf.extend_from_slice(&binary::TRAILER);
        send(&buf)?;
        rejects.flush()
    }
}

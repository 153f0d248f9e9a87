//! The row-comparison engine `checks` (`checksums:<table>`) and `sync` share: every row of a
//! table compared across engines, after the plan's conversion, down to the rows that differ.
//!
//! Each source row goes through the copy engine's [`Converter`], the very code that loaded it,
//! and comes out as the PostgreSQL binary COPY tuple the load sent. Each target row is read back
//! with `COPY (SELECT …) TO STDOUT (FORMAT binary)`. Both are then one canonical form: field
//! bytes, with the three types whose binary form legitimately changes on the way in normalised
//! on both sides (`numeric`: display scale and zero digit groups; `json`/`jsonb`: key order,
//! duplicates, whitespace, escapes and number spelling; `char(n)`: trailing blanks). So SQLite
//! `1`/`0` and PostgreSQL `true`/`false`, epoch integers and `timestamptz`, REAL and
//! `numeric(p,s)` compare exactly as the plan converts them.
//!
//! First a quick pass: both sides read as they lie, each row hashed (XXH3) and the hashes summed
//! per value window of a single integer key, or over the whole table otherwise. Sums do not
//! depend on row order, so nothing is sorted and no row is kept. When every sum and count
//! matches, that is the result; most tables end here.
//!
//! Otherwise the rows are found. Tables with a primary key are read in key order on both
//! sides (only the windows that differed, for an integer key), streamed (a batch of rows
//! buffered, not the table) and cut into key ranges: value ranges for a single integer key,
//! row-count chunks otherwise. Each range's sums are compared; a range whose sums differ is
//! bisected by key until the exact rows are found, and the columns that differ are named with
//! both values. If the keys do not sort the same way on both sides (a transformed key, mixed
//! storage classes), the table is compared by key hash in memory instead. Tables without a
//! primary key are compared as multisets of row hashes.
//!
//! The source is read on a thread of its own while the target streams in, so the comparison
//! runs at the speed of the slower side.

mod batches;
mod canonical;
mod cursor;
mod display;
mod job;
mod json;
mod layout;
mod passes;
mod rejects;
mod report;
mod source;
mod target;
mod windows;

use crate::engines::SourceConnection;
use diesel::connection::SimpleConnection;

use serde::Serialize;

use crate::copy::Converter;
use crate::engines::TargetConnection;
use crate::prepare::Prepared;
use crate::resolve::ResolvedTable;
use batches::Grouping;
use job::{base_select, Job};
use layout::{Layout, Mode};
use rejects::load_rejects;
use report::{report_unconverted, Report};

/// How one row differs between source and target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum DifferenceKind {
    /// The row is on both sides, and `column` differs.
    Changed,
    /// The row is in the source but not in the target.
    MissingInTarget,
    /// The row is in the target but not in the source.
    ExtraInTarget,
}

/// One row (and column, when known) that differs, named by its key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowDifference {
    pub table: String,
    pub key: serde_json::Value,
    pub column: Option<String>,
    pub source_value: Option<String>,
    pub target_value: Option<String>,
    pub kind: DifferenceKind,
}

/// Options for the content checksum of one table.
#[derive(Debug, Clone, Default)]
pub struct ChecksumOptions {
    /// Compare at most this many rows (by key order).
    pub row_limit: Option<u64>,
    /// Compare this fraction of the key ranges (0 < rate <= 1).
    pub sample_rate: Option<f64>,
    /// List every difference, not the first thousand (`decant sync` applies them all).
    pub list_all: bool,
    /// Compare rows at once, without the pass of window sums first: when differences are
    /// expected everywhere (a sync after a day of writes), that pass only reads both sides twice.
    pub rows_only: bool,
    /// Compare the rows the newest run rejected too, rather than leave them out: `decant sync`
    /// looks at them again, since the source may have fixed or deleted them.
    pub keep_rejected: bool,
    /// Compare only the rows whose single integer key lies in one of these ranges (first and
    /// last key, in order, not overlapping): `decant sync` names the windows the source
    /// changed in. Ignored for tables without such a key.
    pub only_ranges: Option<Vec<(i64, i64)>>,
}

/// What a checksum comparison of one table found.
#[derive(Debug, Clone, Default)]
pub struct ChecksumOutcome {
    pub rows_compared: u64,
    pub differences: Vec<RowDifference>,
    /// Stated in the report, e.g. that only a sample was compared.
    pub note: Option<String>,
}

/// A comparison could not run; `check` names it (`checksums:<table>`).
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// A query failed; names the comparison, the database side and the SQL.
    #[error("check `{check}`: query on the {side} failed: {sql}")]
    Query {
        check: String,
        side: Side,
        sql: String,
        #[source]
        source: diesel::result::Error,
    },
    /// A value could not be read or compared.
    #[error("check `{check}`: {message}")]
    Value { check: String, message: String },
    /// The journal could not be read (the rows the newest run rejected).
    #[error("check `{check}`: cannot read the journal")]
    Journal {
        check: String,
        #[source]
        source: crate::journal::JournalError,
    },
}

impl CompareError {
    /// A failed query on `side` for the comparison `check`.
    pub fn query(
        check: impl Into<String>,
        side: Side,
        sql: impl Into<String>,
        source: diesel::result::Error,
    ) -> Self {
        CompareError::Query {
            check: check.into(),
            side,
            sql: sql.into(),
            source,
        }
    }
}

/// Which database a query ran on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Source,
    Target,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Source => "source",
            Side::Target => "target",
        })
    }
}

/// Rows in one key range (row-count chunks; the target value of integer windows).
const CHUNK: usize = 16_384;
/// Differences listed per table; the rest are counted.
const MAX_LISTED: usize = 1000;

/// The SELECT a table's load reads the source with (its columns, filter and key columns).
pub fn load_select(prepared: &Prepared, table: &ResolvedTable) -> String {
    base_select(prepared, table)
}

/// Compares the content of one table in `source` and `target`, as the plan converts it.
///
/// Reads the source with the `load:<table>` step's SELECT (so with the table's filter) and the
/// target table in `prepared.resolved.schema`; each side is read in one statement per pass (a
/// second pass only when there are differences to show), so the caller should hold a read
/// transaction on the source for a consistent snapshot. Rows the newest run into the schema
/// rejected (`decant.decant_rejects`) are left out of the source side.
///
/// Differences name the table, columns and key columns by their source names; the key is
/// `{"column": value, …}` (for a table without a primary key, the whole row); values are shown
/// as the target type prints them. At most 1000 differences are listed; `note` says when more
/// were found, and when a row limit, a sample or a fallback comparison was used.
pub fn checksum_table(
    source: &mut SourceConnection,
    target: &mut TargetConnection,
    prepared: &Prepared,
    table: &ResolvedTable,
    options: &ChecksumOptions,
) -> Result<ChecksumOutcome, CompareError> {
    let check = format!("checksums:{}", table.source);
    let value_error = |message: String| CompareError::Value {
        check: check.clone(),
        message,
    };
    if let Some(rate) = options.sample_rate {
        if !(rate > 0.0 && rate <= 1.0) {
            return Err(value_error(format!(
                "the sampling rate must be above 0 and at most 1, not {rate}"
            )));
        }
    }
    if options.row_limit == Some(0) {
        return Err(value_error("the row limit must be at least 1".to_owned()));
    }
    let bound = crate::copy::with_type_oids(target, table)
        .map_err(|e| CompareError::query(&check, Side::Target, crate::copy::TYPE_OID, e))?;
    let table = &*bound;
    Converter::new(table).map_err(|u| {
        value_error(format!(
            "column `{}` has type `{}`, which cannot be compared",
            u.column, u.type_sql
        ))
    })?;
    // The reads below are plain scans whose estimated cost passes `jit_above_cost`: PostgreSQL
    // would spend 100-400 ms compiling each with LLVM, more than a sync's ranges take to read.
    target
        .batch_execute("SET jit = off")
        .map_err(|e| CompareError::query(&check, Side::Target, "SET jit = off", e))?;
    let layout = Layout::new(table);
    let base_sql = base_select(prepared, table);
    let mut rejects = load_rejects(target, &check, &prepared.resolved.schema, table)?;
    if options.keep_rejected {
        rejects.keys.clear();
    }
    let job = Job {
        check: &check,
        table,
        layout: &layout,
        base_sql: &base_sql,
        schema: &prepared.resolved.schema,
        engine: prepared.resolved.engine,
        options,
        rejects: &rejects,
    };
    let mut notes = Vec::new();
    let mut report = Report::new(&layout, options.list_all);
    // Without a single integer key the quick pass sums the whole table: when it matches, that
    // is all; when not, the comparison below finds the rows. (With one, `ordered` does it by
    // key window.) A row limit needs rows in key order, so it goes straight to the comparison.
    let integer_windows = matches!(layout.mode, Mode::Ordered) && layout.integer_key().is_some();
    let mut equal_rows = None;
    if !integer_windows && options.row_limit.is_none() && !options.rows_only {
        match job.quick(source, target, Grouping::Whole, None)? {
            Ok(q) if q.differing.is_empty() => {
                report_unconverted(&mut report, q.unconverted);
                let by = match &layout.mode {
                    Mode::Multiset(why) => {
                        notes.push(format!("{why}: compared as multisets of whole rows"));
                        "row"
                    }
                    _ => "key",
                };
                job.sample_note(&mut notes, by);
                equal_rows = Some(q.rows);
            }
            _ => rejects
                .excluded
                .store(0, std::sync::atomic::Ordering::Relaxed),
        }
    }
    let rows_compared = match (equal_rows, layout.mode.clone()) {
        (Some(rows), _) => rows,
        (None, mode) => match mode {
            Mode::Ordered => match job.ordered(source, target, &mut report, &mut notes)? {
                Ok(rows) => rows,
                Err(why) => {
                    notes.clear();
                    report.reset();
                    rejects
                        .excluded
                        .store(0, std::sync::atomic::Ordering::Relaxed);
                    notes.push(format!(
                    "the keys do not sort the same way on both sides ({why}), so rows were matched by key hash in memory"
                ));
                    job.hashed(source, target, &mut report, &mut notes)?
                }
            },
            Mode::Hashed(why) => {
                notes.push(format!("rows were matched by key hash in memory: {why}"));
                job.hashed(source, target, &mut report, &mut notes)?
            }
            Mode::Multiset(why) => {
                notes.push(format!("{why}: compared as multisets of whole rows"));
                job.multiset(source, target, &mut report, &mut notes)?
            }
        },
    };
    rejects.excluded_note(&mut notes);
    if report.total > report.differences.len() as u64 {
        notes.push(format!(
            "{} differences found; the first {} are listed",
            report.total,
            report.differences.len()
        ));
    }
    Ok(ChecksumOutcome {
        rows_compared,
        differences: report.differences,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    })
}

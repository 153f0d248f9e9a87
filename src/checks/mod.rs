//! Checks that prove nothing was lost: row counts, content checksums, foreign keys and SQL
//! assertions, one file each in [`rules`] (the registry), every result with a stable
//! kebab-case id, a status and details; [`run_plan_checks`] runs a plan's.

pub mod rules;

use std::time::Instant;

use diesel::connection::SimpleConnection;
use serde::Serialize;

pub use crate::compare::{
    ChecksumOptions, ChecksumOutcome, CompareError, DifferenceKind, RowDifference, Side,
};
use crate::dialect::quote_ident;
use crate::engines::SourceConnection;
use crate::engines::TargetConnection;
use crate::errors::chain;
use crate::plan::model::Selection;
use crate::prepare::Prepared;
use crate::resolve::{ResolvedColumn, ResolvedPlan, ResolvedTable};

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// The target holds what the plan says it should.
    Pass,
    /// The check ran and found a difference.
    Fail,
    /// The check could not run (a database error, a bad query).
    Error,
}

/// The result of one check: `id` is stable kebab-case, e.g. `row-counts:users`,
/// `checksums:orders`, `foreign-keys:orders`, `assertion:revenue`, `not-null:users.email`,
/// `unique:users.email`, `accepted-values:users.role`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    pub id: String,
    pub status: CheckStatus,
    pub seconds: f64,
    pub summary: String,
    pub details: Vec<String>,
    pub differences: Vec<RowDifference>,
}

/// A check could not run. A failed query, a value that cannot be read and a journal that
/// cannot be read are the row comparison's errors too: [`CompareError`] owns them, and a check
/// wraps its (`CheckError::Compare`), built by [`CheckError::query`], [`CheckError::value`] and
/// [`CheckError::journal`].
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The orphan search read a row key that is not JSON.
    #[error("check `{check}`")]
    Orphans {
        check: String,
        #[source]
        source: crate::orphans::OrphanError,
    },
    /// A transaction around a check failed to begin or end.
    #[error("check transaction failed")]
    Transaction(#[from] diesel::result::Error),
    /// The source's read transaction (or its page map) around the checks failed.
    #[error("check `source-snapshot`: cannot {what}")]
    SourceSnapshot {
        what: String,
        #[source]
        source: diesel::result::Error,
    },
    /// A query failed, a value could not be read or compared, or the journal could not be
    /// read: in a check, or in the row comparison of a `checksums:` check.
    #[error(transparent)]
    Compare(#[from] CompareError),
}

impl CheckError {
    /// A failed query on `side` for the check `check`.
    pub fn query(
        check: impl Into<String>,
        side: Side,
        sql: impl Into<String>,
        source: diesel::result::Error,
    ) -> Self {
        CheckError::Compare(CompareError::query(check, side, sql, source))
    }

    /// A value of the check `check` could not be read or compared.
    pub fn value(check: impl Into<String>, message: impl Into<String>) -> Self {
        CheckError::Compare(CompareError::Value {
            check: check.into(),
            message: message.into(),
        })
    }

    /// Reading decant's journal (the newest run's rejects, its baselines) for `check` failed.
    pub fn journal(check: impl Into<String>, source: crate::journal::JournalError) -> Self {
        CheckError::Compare(CompareError::Journal {
            check: check.into(),
            source,
        })
    }
}

impl CheckResult {
    /// The check found nothing wrong.
    pub fn passed(&self) -> bool {
        self.status == CheckStatus::Pass
    }
}

impl CheckStatus {
    /// `PASS`, `FAIL` or `ERROR`, for terminals and reports.
    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Pass => "PASS",
            CheckStatus::Fail => "FAIL",
            CheckStatus::Error => "ERROR",
        }
    }
}

/// What one check found, before it is named and timed.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub status: CheckStatus,
    pub summary: String,
    pub details: Vec<String>,
    pub differences: Vec<RowDifference>,
}

impl Finding {
    pub fn pass(summary: impl Into<String>, details: Vec<String>) -> Finding {
        Finding {
            status: CheckStatus::Pass,
            summary: summary.into(),
            details,
            differences: Vec::new(),
        }
    }

    pub fn fail(summary: impl Into<String>, details: Vec<String>) -> Finding {
        Finding {
            status: CheckStatus::Fail,
            summary: summary.into(),
            details,
            differences: Vec::new(),
        }
    }
}

/// Runs `f`, timing it; an error becomes a result with status `error`.
pub fn timed(id: String, f: impl FnOnce() -> Result<Finding, CheckError>) -> CheckResult {
    let started = Instant::now();
    let outcome = f();
    let seconds = started.elapsed().as_secs_f64();
    match outcome {
        Ok(finding) => CheckResult {
            id,
            status: finding.status,
            seconds,
            summary: finding.summary,
            details: finding.details,
            differences: finding.differences,
        },
        Err(e) => CheckResult {
            id,
            status: CheckStatus::Error,
            seconds,
            summary: chain(&e),
            details: Vec::new(),
            differences: Vec::new(),
        },
    }
}

/// The source and target connections the checks read; neither is written.
pub struct Databases<'c> {
    pub source: &'c mut SourceConnection,
    pub target: &'c mut TargetConnection,
    /// More connections reading the same snapshot as `source` (a run's parallel readers of a
    /// MySQL source; none elsewhere): the source's row counts are shared out among them all.
    pub twins: &'c mut [SourceConnection],
    /// Orphans a run already counted in this source before loading (`None` outside a run).
    pub known_orphans: Option<&'c [crate::orphans::OrphanFinding]>,
    /// The source connection is already inside the read transaction to compare against (the
    /// snapshot a run loaded); otherwise the checks open one of their own.
    pub in_snapshot: bool,
}

/// Runs every check of the plan, in plan order, telling `progress` about each result.
pub fn run_plan_checks(
    prepared: &Prepared,
    dbs: &mut Databases<'_>,
    progress: &mut dyn FnMut(&CheckResult),
) -> Vec<CheckResult> {
    // Checksums stream whole tables: pages read through a memory map instead of copied into
    // SQLite's page cache cost ~15% less CPU. The mapped pages (page cache, up to 1 GiB) count
    // in the process's RSS, so the map is on only for plans with checksums, and it must be set
    // before the transaction begins to be used. Best effort: without it, reads are as before.
    let checksums = prepared.loaded.plan.checks.iter().any(|entry| {
        rules::for_entry(entry)
            .iter()
            .any(|check| check.needs().source == rules::SourceReads::WholeTables)
    });
    // Inside a run's snapshot the map cannot be turned on any more; the checks read as the
    // loads did.
    let checksums = checksums && !dbs.in_snapshot;
    let mut results = Vec::new();
    // One read transaction: every check sees one snapshot of the source.
    let frame = SourceFrame::open(dbs.source, checksums, dbs.in_snapshot, &mut results);
    for r in &results {
        progress(r);
    }
    let mut results = Vec::new();
    let mut out = |r: CheckResult| {
        progress(&r);
        results.push(r);
    };
    // Every row count is read first, both sides at once (see `rules::row_counts::count_planned`).
    let row_counts = rules::row_counts::count_planned(prepared, dbs).into_iter();
    let mut cx = rules::Context {
        prepared,
        dbs,
        row_counts,
    };
    for entry in &prepared.loaded.plan.checks {
        for check in rules::for_entry(entry) {
            check.run(entry, &mut cx, &mut out);
        }
    }
    let dbs = cx.dbs;
    let mut closing = Vec::new();
    frame.close(dbs.source, &mut closing);
    for r in closing {
        progress(&r);
        results.push(r);
    }
    results
}

/// Bytes of a SQLite source mapped into memory while checksums stream whole tables.
const MAPPED_BYTES: u64 = 1 << 30;

/// The id of the result that says the source's side of the checks failed to open or close.
pub const SOURCE_SNAPSHOT: &str = "source-snapshot";

/// The source's side of a plan's checks: its pages mapped for whole-table reads, and the read
/// transaction every check sees, begun and ended through the source's own capabilities; a
/// failure to do either is a result with status `error`, not dropped.
struct SourceFrame {
    mapped: bool,
    snapshot: bool,
}

impl SourceFrame {
    /// Maps the source's pages when `map`, and begins its snapshot unless `in_snapshot` (a
    /// run's, which the checks read as the loads did).
    fn open(
        source: &mut SourceConnection,
        map: bool,
        in_snapshot: bool,
        problems: &mut Vec<CheckResult>,
    ) -> SourceFrame {
        let mapped = map
            && kept(
                source.map_pages(MAPPED_BYTES),
                "map the source's pages",
                problems,
            );
        let snapshot = !in_snapshot
            && kept(
                source.begin_snapshot(),
                "begin the source's read transaction",
                problems,
            );
        SourceFrame { mapped, snapshot }
    }

    /// Ends what [`Self::open`] began.
    fn close(self, source: &mut SourceConnection, problems: &mut Vec<CheckResult>) {
        if self.snapshot {
            kept(
                source.end_snapshot(),
                "end the source's read transaction",
                problems,
            );
        }
        if self.mapped {
            kept(source.map_pages(0), "unmap the source's pages", problems);
        }
    }
}

/// True when `outcome` is fine; otherwise a `source-snapshot` error result saying what could
/// not be done, with the cause, goes to `problems`.
fn kept(outcome: diesel::QueryResult<()>, what: &str, problems: &mut Vec<CheckResult>) -> bool {
    let Err(e) = outcome else {
        return true;
    };
    problems.push(timed(SOURCE_SNAPSHOT.to_owned(), || {
        Err(CheckError::SourceSnapshot {
            what: what.to_owned(),
            source: e,
        })
    }));
    false
}

/// The carried tables a selection names, in plan order.
pub fn selected_tables<'r>(
    resolved: &'r ResolvedPlan,
    selection: &Selection,
) -> Vec<&'r ResolvedTable> {
    match selection {
        Selection::All(_) => resolved.tables.iter().collect(),
        Selection::Tables(names) => names.iter().filter_map(|n| resolved.table(n)).collect(),
    }
}

/// The table and column a `table.column` reference (source names) points at; the longest
/// table name wins when table names contain dots.
pub fn resolve_column<'r>(
    resolved: &'r ResolvedPlan,
    reference: &str,
) -> Option<(&'r ResolvedTable, &'r ResolvedColumn)> {
    resolved
        .tables
        .iter()
        .filter_map(|t| {
            reference
                .strip_prefix(t.source.as_str())
                .and_then(|r| r.strip_prefix('.'))
                .and_then(|c| t.column(c).map(|col| (t, col)))
        })
        .max_by_key(|(t, _)| t.source.len())
}

/// `"schema"."table"` in the target.
pub fn target_table_sql(schema: &str, table: &ResolvedTable) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(&table.target))
}

/// Runs `f` on the target in a read-only transaction whose `search_path` is the plan's schema
/// (then `public`), so assertion SQL can name tables unqualified and can change nothing.
pub fn read_only_on_target<T>(
    target: &mut TargetConnection,
    schema: &str,
    f: impl FnOnce(&mut TargetConnection) -> Result<T, CheckError>,
) -> Result<T, CheckError> {
    let set = format!("SET LOCAL search_path TO {}, public", quote_ident(schema));
    target.read_only_transaction(|conn| {
        conn.batch_execute(&set)?;
        f(conn)
    })
}

/// `12 check(s): 11 passed, 1 failed, 0 error(s)`.
pub fn tally_line(results: &[CheckResult]) -> String {
    let (pass, fail, error) = tally(results);
    format!(
        "{} check(s): {pass} passed, {fail} failed, {error} error(s)",
        results.len()
    )
}

/// How many passed, failed and could not run.
pub fn tally(results: &[CheckResult]) -> (usize, usize, usize) {
    let of = |s| results.iter().filter(|r| r.status == s).count();
    (
        of(CheckStatus::Pass),
        of(CheckStatus::Fail),
        of(CheckStatus::Error),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    /// A source on an empty SQLite file (an empty file is an empty database), opened as
    /// `decant check` opens one; the file lives as long as the connection is used.
    fn sqlite() -> (SourceConnection, tempfile::NamedTempFile) {
        let file = tempfile::NamedTempFile::new().unwrap();
        let url = crate::url::parse_source_url(
            &format!("sqlite://{}", file.path().display()),
            std::path::Path::new("/"),
        )
        .unwrap();
        (crate::engines::open_source(&url).unwrap(), file)
    }

    #[test]
    fn a_source_transaction_that_cannot_begin_is_an_error_result_with_its_cause() {
        let (mut source, _file) = sqlite();
        source.batch_execute("BEGIN").unwrap();
        let mut problems = Vec::new();
        let frame = SourceFrame::open(&mut source, true, false, &mut problems);
        assert!(!frame.snapshot);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].id, SOURCE_SNAPSHOT);
        assert_eq!(problems[0].status, CheckStatus::Error);
        assert!(
            problems[0]
                .summary
                .contains("begin the source's read transaction")
                && problems[0].summary.contains("within a transaction"),
            "{}",
            problems[0].summary
        );
    }

    #[test]
    fn a_source_transaction_that_cannot_end_is_an_error_result() {
        let (mut source, _file) = sqlite();
        let mut problems = Vec::new();
        let frame = SourceFrame::open(&mut source, true, false, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        // Something ended the transaction under the checks: their COMMIT fails.
        source.batch_execute("COMMIT").unwrap();
        frame.close(&mut source, &mut problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0]
                .summary
                .contains("end the source's read transaction"),
            "{}",
            problems[0].summary
        );
    }

    #[test]
    fn inside_a_runs_snapshot_the_checks_begin_and_end_nothing() {
        let (mut source, _file) = sqlite();
        source.batch_execute("BEGIN").unwrap();
        let mut problems = Vec::new();
        let frame = SourceFrame::open(&mut source, false, true, &mut problems);
        frame.close(&mut source, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        // The run's transaction is still open: it is the run's to end.
        source.batch_execute("COMMIT").unwrap();
    }
}

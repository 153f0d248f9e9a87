//! Checks that prove nothing was lost: row counts, content checksums, foreign keys and SQL
//! assertions, one file each, every result with a stable kebab-case id, a status and details.

pub mod assertions;
pub mod foreign_keys;
pub mod row_counts;

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

/// A check could not run.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// A query failed; names the check, the database side and the SQL.
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
    /// Reading decant's journal (the newest run's rejects, its baselines) failed.
    #[error("check `{check}`: reading decant's journal failed")]
    Journal {
        check: String,
        #[source]
        source: crate::journal::JournalError,
    },
    /// A transaction around a check failed to begin or end.
    #[error("check transaction failed")]
    Transaction(#[from] diesel::result::Error),
    /// The row comparison of a `checksums:` check could not run.
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
        CheckError::Query {
            check: check.into(),
            side,
            sql: sql.into(),
            source,
        }
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
    pub known_orphans: Option<&'c [foreign_keys::OrphanFinding]>,
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
    let resolved = &prepared.resolved;
    // Checksums stream whole tables: pages read through a memory map instead of copied into
    // SQLite's page cache cost ~15% less CPU. The mapped pages (page cache, up to 1 GiB) count
    // in the process's RSS, so the map is on only for plans with checksums, and it must be set
    // before the transaction begins to be used. Best effort: without it, reads are as before.
    let checksums = prepared
        .loaded
        .plan
        .checks
        .iter()
        .any(|c| c.checksums.is_some());
    // Inside a run's snapshot the map cannot be turned on any more; the checks read as the
    // loads did.
    let checksums = checksums && !dbs.in_snapshot;
    if checksums {
        let _ = dbs.source.batch_execute("PRAGMA mmap_size = 1073741824");
    }
    // One read transaction: every check sees one snapshot of the source.
    let snapshot = !dbs.in_snapshot && dbs.source.batch_execute("BEGIN").is_ok();
    let mut results = Vec::new();
    let mut push = |r: CheckResult, results: &mut Vec<CheckResult>| {
        progress(&r);
        results.push(r);
    };
    // Every row count is read first, both sides at once (see `row_counts::check_tables`).
    let counted: Vec<&ResolvedTable> = prepared
        .loaded
        .plan
        .checks
        .iter()
        .filter_map(|check| check.row_counts.as_ref())
        .flat_map(|selection| selected_tables(resolved, selection))
        .collect();
    let sources = std::iter::once(&mut *dbs.source)
        .chain(dbs.twins.iter_mut())
        .collect();
    // A run counted its source in the snapshot these checks read: those counts stand.
    let counted_in_snapshot =
        dbs.in_snapshot && prepared.source_counts == crate::prepare::SourceCounts::InSnapshot;
    let mut row_counts =
        row_counts::check_tables(sources, dbs.target, resolved, &counted, counted_in_snapshot)
            .into_iter();
    for check in &prepared.loaded.plan.checks {
        if let Some(selection) = &check.row_counts {
            // One result per table, in the order `counted` lists them.
            for _ in selected_tables(resolved, selection) {
                if let Some(r) = row_counts.next() {
                    push(r, &mut results);
                }
            }
        }
        if let Some(selection) = &check.checksums {
            let options = ChecksumOptions {
                row_limit: check.row_limit,
                sample_rate: check.sample_rate,
                list_all: false,
                rows_only: false,
                keep_rejected: false,
                only_ranges: None,
            };
            for table in selected_tables(resolved, selection) {
                push(
                    checksum_result(prepared, dbs, table, &options),
                    &mut results,
                );
            }
        }
        if let Some(selection) = &check.foreign_keys {
            let explicit = matches!(selection, Selection::Tables(_));
            for table in selected_tables(resolved, selection) {
                if !explicit && table.foreign_keys.is_empty() {
                    continue;
                }
                let id = format!("foreign-keys:{}", table.source);
                let r = timed(id.clone(), || {
                    foreign_keys::check_table(
                        dbs.source,
                        dbs.target,
                        resolved,
                        table,
                        dbs.known_orphans,
                        &id,
                    )
                });
                push(r, &mut results);
            }
        }
        if let Some(r) = assertions::run(check, resolved, dbs) {
            push(r, &mut results);
        }
    }
    if snapshot {
        let _ = dbs.source.batch_execute("COMMIT");
    }
    if checksums {
        let _ = dbs.source.batch_execute("PRAGMA mmap_size = 0");
    }
    results
}

/// The checksum comparison of one table, as a check result.
fn checksum_result(
    prepared: &Prepared,
    dbs: &mut Databases<'_>,
    table: &ResolvedTable,
    options: &ChecksumOptions,
) -> CheckResult {
    let id = format!("checksums:{}", table.source);
    timed(id, || {
        let outcome =
            crate::compare::checksum_table(dbs.source, dbs.target, prepared, table, options)?;
        let mut details = vec![format!("{} row(s) compared", outcome.rows_compared)];
        details.extend(outcome.note.clone());
        let partial = options.sample_rate.is_some_and(|r| r < 1.0)
            || options
                .row_limit
                .is_some_and(|n| outcome.rows_compared >= n);
        let finding = if outcome.differences.is_empty() {
            Finding::pass(
                format!(
                    "{} row(s) compared, all equal{}",
                    outcome.rows_compared,
                    if partial {
                        " (not every row: see details)"
                    } else {
                        ""
                    }
                ),
                details,
            )
        } else {
            let (mut changed, mut missing, mut extra) = (0usize, 0usize, 0usize);
            for d in &outcome.differences {
                match d.kind {
                    DifferenceKind::Changed => changed += 1,
                    DifferenceKind::MissingInTarget => missing += 1,
                    DifferenceKind::ExtraInTarget => extra += 1,
                }
            }
            Finding {
                status: CheckStatus::Fail,
                summary: format!(
                    "{} difference(s): {changed} changed value(s), {missing} row(s) missing in the target, {extra} extra row(s) in the target",
                    outcome.differences.len()
                ),
                details,
                differences: outcome.differences,
            }
        };
        Ok(finding)
    })
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

#[derive(diesel::QueryableByName)]
pub(crate) struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}

/// `n` as a count: negative counts cannot happen, and read as 0.
pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
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

/// `12 check(s): 11 passed, 1 failed, 0 error(s)`.
pub fn tally_line(results: &[CheckResult]) -> String {
    let (pass, fail, error) = tally(results);
    format!(
        "{} check(s): {pass} passed, {fail} failed, {error} error(s)",
        results.len()
    )
}

/// A row difference on one line: `orders id=7: column total: source 12.5, target 13`.
pub fn difference_line(d: &RowDifference) -> String {
    let key = crate::copy::key_text(&d.key);
    let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "NULL".into());
    match d.kind {
        DifferenceKind::Changed => format!(
            "`{}` {key}: `{}` differs: source {}, target {}",
            d.table,
            d.column.as_deref().unwrap_or("?"),
            shown(&d.source_value),
            shown(&d.target_value)
        ),
        DifferenceKind::MissingInTarget => {
            format!("`{}` {key}: in the source, missing in the target", d.table)
        }
        DifferenceKind::ExtraInTarget => {
            format!("`{}` {key}: in the target, not in the source", d.table)
        }
    }
}

/// One result for a terminal: status (in colour when it failed and `colour`), id, duration and
/// summary, then details and differences: of a passing check only when `verbose`, and at
/// most `LISTED_ON_SCREEN` of each unless `verbose`.
pub fn write_result(
    out: &mut dyn std::io::Write,
    r: &CheckResult,
    verbose: bool,
    colour: bool,
) -> std::io::Result<()> {
    let label = format!("{:<5}", r.status.label());
    let label = if r.passed() {
        label
    } else {
        crate::output::colour::alarm(&label, colour)
    };
    writeln!(
        out,
        "{label}  {:<44} {:>7.2}s  {}",
        r.id, r.seconds, r.summary
    )?;
    // A passing check is one line; what it looked at is there with `-v`.
    if r.passed() && !verbose {
        return Ok(());
    }
    // A target a run never finished can miss every row: a screenful says it, `-v` lists all.
    let cap = if verbose {
        usize::MAX
    } else {
        LISTED_ON_SCREEN
    };
    for d in r.details.iter().take(cap) {
        writeln!(out, "       {d}")?;
    }
    for d in r.differences.iter().take(cap) {
        writeln!(out, "       {}", difference_line(d))?;
    }
    let hidden = r.details.len().saturating_sub(cap) + r.differences.len().saturating_sub(cap);
    if hidden > 0 {
        writeln!(
            out,
            "       … and {hidden} more line(s) of this check: `decant check -v` lists them all"
        )?;
    }
    Ok(())
}

/// How many details and differences of one check `write_result` prints without `verbose`.
pub const LISTED_ON_SCREEN: usize = 20;

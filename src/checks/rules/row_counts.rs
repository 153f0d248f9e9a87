//! `row-counts:<table>`: the source rows the table's filter lets through, less the rows the
//! newest run rejected, plus (under `if_exists: append`) the rows the table held before that
//! run, against the rows in the target table.

use std::collections::HashMap;

use crate::engines::SourceConnection;

use super::{Check, Context, Needs, SourceReads};
use crate::checks::{
    selected_tables, target_table_sql, timed, CheckError, CheckResult, Databases, Finding, Side,
};
use crate::dialect::quote_ident;
use crate::engines::TargetConnection;
use crate::errors::chain;
use crate::journal;
use crate::plan::model::Check as PlanCheck;
use crate::plan::model::IfExists;
use crate::prepare::{Prepared, SourceCounts};
use crate::resolve::{ResolvedPlan, ResolvedTable};

/// `row-counts:<table>`.
pub struct RowCounts;

impl Check for RowCounts {
    fn id(&self) -> &'static str {
        "row-counts"
    }

    fn needs(&self) -> Needs {
        Needs {
            source: SourceReads::Rows,
        }
    }

    fn applies(&self, entry: &PlanCheck) -> bool {
        entry.row_counts.is_some()
    }

    /// The results [`count_planned`] read up front, one per table the entry names.
    fn run(&self, entry: &PlanCheck, cx: &mut Context<'_, '_>, out: &mut dyn FnMut(CheckResult)) {
        let Some(selection) = &entry.row_counts else {
            return;
        };
        for _ in selected_tables(&cx.prepared.resolved, selection) {
            if let Some(r) = cx.row_counts.next() {
                out(r);
            }
        }
    }
}

/// Every row count the plan's entries ask for, read first, both sides at once (see
/// [`check_tables`]), in the order the entries name their tables.
pub fn count_planned(prepared: &Prepared, dbs: &mut Databases<'_>) -> Vec<CheckResult> {
    let resolved = &prepared.resolved;
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
    let counted_in_snapshot = dbs.in_snapshot && prepared.source_counts == SourceCounts::InSnapshot;
    check_tables(sources, dbs.target, resolved, &counted, counted_in_snapshot)
}

/// The rows the newest run into a schema rejected, per source table, and the rows its target
/// tables held before it loaded into them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rejects {
    /// The newest run, when the journal records one.
    pub run: Option<i64>,
    pub by_table: HashMap<String, u64>,
    /// Rows each target table held before the newest run, by target table name
    /// ([`crate::journal::record_baseline`]); recorded under `if_exists: append`.
    pub rows_before: HashMap<String, u64>,
}

/// The newest run into `schema`, what it rejected and its tables' baselines, as the journal
/// records them; nothing when there is no journal in the target.
pub fn newest_run_rejects(
    target: &mut TargetConnection,
    schema: &str,
) -> Result<Rejects, CheckError> {
    let journal_error = |source| CheckError::journal("row-counts", source);
    let newest = journal::newest_run_reject_counts(target, schema).map_err(journal_error)?;
    let rows_before = match newest.run {
        Some(run) => journal::rows_before(target, run).map_err(journal_error)?,
        None => HashMap::new(),
    };
    Ok(Rejects {
        run: newest.run,
        by_table: newest.rejects,
        rows_before,
    })
}

/// The `row-counts` result of each of `tables`, in order, both sides counted at once (see
/// [`count_both_sides`]), less the rejects of the newest run. With `counted_in_snapshot`, the
/// tables' `source_rows` were counted in the snapshot `sources` read, and an unfiltered
/// table's source is not counted again.
pub fn check_tables(
    sources: Vec<&mut SourceConnection>,
    target: &mut TargetConnection,
    resolved: &ResolvedPlan,
    tables: &[&ResolvedTable],
    counted_in_snapshot: bool,
) -> Vec<CheckResult> {
    if tables.is_empty() {
        return Vec::new();
    }
    let rejects = match newest_run_rejects(target, &resolved.schema) {
        Ok(rejects) => rejects,
        Err(e) => {
            let message = format!("cannot read the rejects of the newest run: {}", chain(&e));
            return tables
                .iter()
                .map(|table| {
                    let check = check_id(table);
                    let message = message.clone();
                    timed(check.clone(), || Err(CheckError::value(check, message)))
                })
                .collect();
        }
    };
    count_both_sides(sources, target, resolved, tables, counted_in_snapshot)
        .into_iter()
        .zip(tables)
        .map(|(sides, table)| {
            let mut result = timed(check_id(table), || {
                Ok(compare(
                    resolved,
                    table,
                    &rejects,
                    sides.source_rows?,
                    sides.target_rows?,
                ))
            });
            result.seconds += sides.seconds;
            result
        })
        .collect()
}

/// Both sides' counts of `tables`, read at once: the source's by `sources` (connections that
/// read one snapshot: a run's parallel readers, or the one source connection), each taking the
/// biggest table not counted yet, the target's on `target` meanwhile. The counts are the longest
/// queries of a run's last step, where no other step keeps the cores busy.
fn count_both_sides(
    sources: Vec<&mut SourceConnection>,
    target: &mut TargetConnection,
    resolved: &ResolvedPlan,
    tables: &[&ResolvedTable],
    counted_in_snapshot: bool,
) -> Vec<SidesCounted> {
    let timed = |n: Result<u64, CheckError>, started: std::time::Instant| {
        (n, started.elapsed().as_secs_f64())
    };
    let (source_counts, target_counts): (Vec<Timed>, Vec<Timed>) = std::thread::scope(|scope| {
        let sources = scope.spawn(|| {
            crate::engines::share_out(
                sources,
                tables,
                |t| t.source_rows,
                |source, table| {
                    let started = std::time::Instant::now();
                    if counted_in_snapshot && table.filter.is_none() {
                        return timed(Ok(table.source_rows), started);
                    }
                    timed(source_rows(source, table), started)
                },
            )
        });
        let targets = tables
            .iter()
            .map(|table| {
                let started = std::time::Instant::now();
                timed(target_rows(target, resolved, table), started)
            })
            .collect();
        let sources = sources
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (sources, targets)
    });
    source_counts
        .into_iter()
        .zip(target_counts)
        .map(
            |((source_rows, source_s), (target_rows, target_s))| SidesCounted {
                source_rows,
                target_rows,
                seconds: source_s + target_s,
            },
        )
        .collect()
}

/// A count and the seconds its query took.
type Timed = (Result<u64, CheckError>, f64);

/// One table's counts on both sides, and the seconds their queries took together.
struct SidesCounted {
    source_rows: Result<u64, CheckError>,
    target_rows: Result<u64, CheckError>,
    seconds: f64,
}

/// The rows of `table` in the source that its filter lets through.
fn source_rows(source: &mut SourceConnection, table: &ResolvedTable) -> Result<u64, CheckError> {
    source
        .count_rows(&quote_ident(&table.source), table.filter.as_deref())
        .map_err(|e| CheckError::query(check_id(table), Side::Source, &e.sql, e.source))
}

/// The rows in `table`'s target table.
fn target_rows(
    target: &mut TargetConnection,
    resolved: &ResolvedPlan,
    table: &ResolvedTable,
) -> Result<u64, CheckError> {
    target
        .count_rows(&target_table_sql(&resolved.schema, table), None)
        .map_err(|e| CheckError::query(check_id(table), Side::Target, &e.sql, e.source))
}

/// `row-counts:<table>`.
fn check_id(table: &ResolvedTable) -> String {
    format!("row-counts:{}", table.source)
}

/// Compares one table's counts, as [`count_both_sides`] read them.
fn compare(
    resolved: &ResolvedPlan,
    table: &ResolvedTable,
    rejects: &Rejects,
    source_rows: u64,
    target_rows: u64,
) -> Finding {
    let rejected = rejects.by_table.get(&table.source).copied().unwrap_or(0);
    let loaded = source_rows.saturating_sub(rejected);
    // Under append the table keeps what it held: only the journal knows how much that was.
    let append = resolved.settings.if_exists == IfExists::Append;
    let before = if append {
        rejects.rows_before.get(&table.target).copied()
    } else {
        None
    };
    let expected = loaded + before.unwrap_or(0);

    let mut details = vec![match &table.filter {
        Some(filter) => format!(
            "source `{}`: {source_rows} row(s) match the filter `{filter}`",
            table.source
        ),
        None => format!("source `{}`: {source_rows} row(s)", table.source),
    }];
    match rejects.run {
        Some(run) => details.push(format!("rejected by run {run}: {rejected} row(s)")),
        None => {
            details.push("no run recorded in the target's journal: no rejects subtracted".into())
        }
    }
    if append {
        details.push(match (before, rejects.run) {
            (Some(n), Some(run)) => format!(
                "settings.if_exists is append: `{}` held {n} row(s) before run {run}",
                table.target
            ),
            _ => format!(
                "settings.if_exists is append: the journal does not record how many rows `{}` \
                 held before the run",
                table.target
            ),
        });
    }
    details.push(format!("expected in the target: {expected} row(s)"));
    details.push(format!(
        "target `{}`.`{}`: {target_rows} row(s)",
        resolved.schema, table.target
    ));
    let finding = if target_rows == expected {
        Finding::pass(
            format!("{target_rows} row(s) in the target, as expected"),
            details,
        )
    } else if target_rows < expected {
        Finding::fail(
            format!(
                "{} row(s) missing: expected {expected}, the target has {target_rows}",
                expected - target_rows
            ),
            details,
        )
    } else if append && before.is_none() {
        // Rows from before the run and rows loaded twice look the same: not knowing which, the
        // check must not pass.
        Finding::fail(
            format!(
                "{} row(s) more than the run loaded ({expected}), and the journal does not say \
                 how many the table held before the run: they cannot be told from duplicates",
                target_rows - expected
            ),
            details,
        )
    } else {
        Finding::fail(
            format!(
                "{} row(s) too many: expected {expected}, the target has {target_rows}",
                target_rows - expected
            ),
            details,
        )
    };
    finding
}

//! `checksums:<table>`: every row of a table compared with the target's, as the plan converts
//! it, by the [`crate::compare`] engine; the differences listed by key and column.

use super::{Check, Context, Needs, SourceReads};
use crate::checks::{
    selected_tables, timed, CheckResult, CheckStatus, ChecksumOptions, Databases, DifferenceKind,
    Finding,
};
use crate::plan::model::Check as PlanCheck;
use crate::prepare::Prepared;
use crate::resolve::ResolvedTable;

/// `checksums:<table>`.
pub struct Checksums;

impl Check for Checksums {
    fn id(&self) -> &'static str {
        "checksums"
    }

    fn needs(&self) -> Needs {
        Needs {
            source: SourceReads::WholeTables,
        }
    }

    fn applies(&self, entry: &PlanCheck) -> bool {
        entry.checksums.is_some()
    }

    fn run(&self, entry: &PlanCheck, cx: &mut Context<'_, '_>, out: &mut dyn FnMut(CheckResult)) {
        let Some(selection) = &entry.checksums else {
            return;
        };
        let options = ChecksumOptions {
            row_limit: entry.row_limit,
            sample_rate: entry.sample_rate,
            list_all: false,
            rows_only: false,
            keep_rejected: false,
            only_ranges: None,
        };
        for table in selected_tables(&cx.prepared.resolved, selection) {
            out(checksum_result(cx.prepared, cx.dbs, table, &options));
        }
    }
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

//! The registry of checks: one file per check id behind the [`Check`] trait, and [`CHECKS`],
//! the one list `decant check` and a run's checks go through, in the order they run.

pub mod accepted_values;
pub mod assertion;
pub mod checksums;
pub mod foreign_keys;
mod grouped;
pub mod not_null;
pub mod row_counts;
pub mod unique;

use super::{resolve_column, CheckError, CheckResult, Databases, Finding};
use crate::engines::TargetConnection;
use crate::plan::model::Check as PlanCheck;
use crate::prepare::Prepared;
use crate::resolve::{ResolvedColumn, ResolvedPlan, ResolvedTable};

/// How a check reads the source (it always reads the target).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceReads {
    /// Not at all.
    Nothing,
    /// Some rows or counts.
    Rows,
    /// Whole tables, streamed: worth mapping SQLite's pages into memory for.
    WholeTables,
}

/// What a check needs to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    pub source: SourceReads,
}

/// What the checks of one plan run with.
pub struct Context<'a, 'c> {
    pub prepared: &'a Prepared,
    pub dbs: &'a mut Databases<'c>,
    /// Every `row-counts:` result, read up front (see [`row_counts::count_planned`]), in the
    /// order the plan's entries name their tables.
    pub row_counts: std::vec::IntoIter<CheckResult>,
}

/// One kind of check, named by a stable kebab-case id; its results are `<id>:<what>`.
pub trait Check: Sync {
    /// `row-counts`, `checksums`, `foreign-keys`, …
    fn id(&self) -> &'static str;
    /// What it reads.
    fn needs(&self) -> Needs;
    /// Whether the plan's `checks:` entry asks for it.
    fn applies(&self, entry: &PlanCheck) -> bool;
    /// An entry holds at most one check of this sort (the single-value ones): the first that
    /// applies, in [`CHECKS`] order, runs.
    fn one_per_entry(&self) -> bool {
        false
    }
    /// Runs it for one entry, handing `out` each result (one per table or column) as it comes.
    fn run(&self, entry: &PlanCheck, cx: &mut Context<'_, '_>, out: &mut dyn FnMut(CheckResult));
}

/// Every check, in the order one plan entry's checks run.
pub const CHECKS: &[&dyn Check] = &[
    &row_counts::RowCounts,
    &checksums::Checksums,
    &foreign_keys::ForeignKeys,
    &not_null::NotNull,
    &unique::Unique,
    &accepted_values::AcceptedValues,
    &assertion::Assertion,
];

/// The checks `entry` asks for, in [`CHECKS`] order.
pub fn for_entry(entry: &PlanCheck) -> Vec<&'static dyn Check> {
    let mut single = false;
    CHECKS
        .iter()
        .copied()
        .filter(|check| check.applies(entry))
        .filter(|check| {
            if !check.one_per_entry() {
                return true;
            }
            !std::mem::replace(&mut single, true)
        })
        .collect()
}

/// Runs `check` on the carried column `reference` names, in a read-only transaction on the
/// target: the shape every single-column check (`not-null`, `unique`, `accepted-values`) shares.
fn on_target_column(
    cx: &mut Context<'_, '_>,
    id: String,
    reference: &str,
    check: impl FnOnce(
        &mut TargetConnection,
        &str,
        &ResolvedTable,
        &ResolvedColumn,
        &str,
    ) -> Result<Finding, CheckError>,
) -> CheckResult {
    let resolved = &cx.prepared.resolved;
    let target = &mut *cx.dbs.target;
    super::timed(id.clone(), || {
        let (table, column) = column_of(resolved, reference, &id)?;
        super::read_only_on_target(target, &resolved.schema, |conn| {
            check(conn, &resolved.schema, table, column, &id)
        })
    })
}

/// The carried table and column a `table.column` reference names, or why not.
fn column_of<'r>(
    resolved: &'r ResolvedPlan,
    reference: &str,
    id: &str,
) -> Result<(&'r ResolvedTable, &'r ResolvedColumn), CheckError> {
    resolve_column(resolved, reference).ok_or_else(|| {
        CheckError::value(
            id,
            format!("`{reference}` does not name a carried `table.column`"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case() {
        let mut seen = std::collections::BTreeSet::new();
        for check in CHECKS {
            let id = check.id();
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id}"
            );
            assert!(seen.insert(id), "{id} twice");
        }
    }

    #[test]
    fn an_entry_runs_its_table_checks_and_its_first_single_value_check() {
        let entry: PlanCheck = serde_yaml_ng::from_str(
            "{ row_counts: all, foreign_keys: all, not_null: a.b, unique: a.b, name: n, target: select 1 }",
        )
        .unwrap();
        let ids: Vec<_> = for_entry(&entry).iter().map(|c| c.id()).collect();
        assert_eq!(ids, ["row-counts", "foreign-keys", "not-null"]);
    }
}

//! Which rows differ in one table: the comparison of source and target over the key windows
//! that changed (or the whole table), and whether they can be applied by key or reloaded.

use std::collections::{BTreeMap, BTreeSet};

use super::{SyncError, TableSync};
use crate::compare::checksum_table;
use crate::compare::{ChecksumOptions, DifferenceKind};
use crate::copy::Reject;
use crate::engines::postgres::TypeFamily;
use crate::engines::SourceConnection;
use crate::engines::TargetConnection;
use crate::prepare::Prepared;
use crate::resolve::ResolvedTable;
use crate::source::digest::DigestError;

/// Why the rows of one table could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("cannot read the key's first and last value")]
    KeySpan(#[source] diesel::result::Error),
    #[error("cannot digest the source's rows")]
    Digest(#[source] DigestError),
    #[error("cannot compare the rows")]
    Rows(#[source] crate::compare::CompareError),
}

/// How one table's differences are applied.
pub(super) struct TablePlan<'p> {
    pub(super) table: &'p ResolvedTable,
    /// Source keys (as JSON values, in key column order) to stage and upsert.
    pub(super) upsert: Vec<Vec<serde_json::Value>>,
    /// Target keys to delete.
    pub(super) delete: Vec<Vec<serde_json::Value>>,
    /// Keys counted as inserted and as updated, so a rejected row is counted as neither.
    pub(super) inserted_keys: BTreeSet<String>,
    pub(super) updated_keys: BTreeSet<String>,
    /// Rows the run (or an earlier sync) rejected, staged again: by key, the column and value
    /// that were bad, so one rejected again in the same way is no change.
    pub(super) rechecked: BTreeMap<String, (String, String)>,
    /// Reject records to take back before the new ones are written: rows staged again, and
    /// rows the source no longer has.
    pub(super) retake: Vec<serde_json::Value>,
    /// Keys of source rows that do not convert (among the missing ones).
    pub(super) unconvertible: BTreeSet<String>,
    pub(super) result: TableSync,
}

/// Whether rows can be named by key on both sides: every key column copied as it is, of a
/// type whose JSON form is the same in SQLite and PostgreSQL (integers, text).
pub(super) fn keyed(table: &ResolvedTable) -> Result<(), String> {
    if table.key_columns.is_empty() {
        return Err("the table has no primary key".to_owned());
    }
    for key in &table.key_columns {
        let Some(c) = table.column(key) else {
            return Err(format!("key column `{key}` is not copied"));
        };
        if c.transform.is_some() {
            return Err(format!("key column `{key}` is transformed"));
        }
        if !matches!(
            c.target_type.family(),
            TypeFamily::Integer | TypeFamily::Text
        ) {
            return Err(format!("key column `{key}` is `{}`", c.target_type.sql()));
        }
    }
    Ok(())
}

/// The differences of one table, and how they will be applied; `only`: the key ranges to
/// compare (none: nothing changed), else the whole table.
pub(super) fn compare_table<'p>(
    prepared: &'p Prepared,
    source: &mut SourceConnection,
    target: &mut TargetConnection,
    table: &'p ResolvedTable,
    earlier: &[&Reject],
    only: Option<Vec<(i64, i64)>>,
) -> Result<TablePlan<'p>, SyncError> {
    let nothing_changed = only.as_ref().is_some_and(Vec::is_empty);
    let compared_ranges = only.as_ref().map(Vec::len);
    // Rows at once: after a while of app writes, changes are everywhere, and window sums
    // would only make both sides be read twice.
    let options = ChecksumOptions {
        list_all: true,
        rows_only: true,
        keep_rejected: true,
        only_ranges: only,
        ..ChecksumOptions::default()
    };
    let outcome = if nothing_changed {
        crate::compare::ChecksumOutcome::default()
    } else {
        checksum_table(source, target, prepared, table, &options).map_err(|e| {
            SyncError::Compare {
                table: table.source.clone(),
                source: Box::new(CompareError::Rows(e)),
            }
        })?
    };
    let mut result = TableSync {
        source: table.source.clone(),
        target: table.target.clone(),
        compared_ranges,
        ..TableSync::default()
    };
    let mut plan = TablePlan {
        table,
        upsert: Vec::new(),
        delete: Vec::new(),
        inserted_keys: BTreeSet::new(),
        updated_keys: BTreeSet::new(),
        rechecked: BTreeMap::new(),
        retake: Vec::new(),
        unconvertible: BTreeSet::new(),
        result: TableSync::default(),
    };
    if outcome.differences.is_empty() {
        plan.result = result;
        return Ok(plan);
    }
    let mut changed = BTreeSet::new();
    let mut missing = BTreeSet::new();
    let mut extra = BTreeSet::new();
    // Each key's values, by its text: what is staged and deleted.
    let mut values_of = BTreeMap::new();
    for d in &outcome.differences {
        let values = key_values(table, &d.key);
        let key = key_text(&values);
        values_of.insert(key.clone(), values);
        match d.kind {
            DifferenceKind::Changed => changed.insert(key),
            // A source row that does not convert (it names its column) is staged like a new
            // row, and rejected there with its reason.
            DifferenceKind::MissingInTarget => {
                if d.column.is_some() {
                    plan.unconvertible.insert(key.clone());
                }
                missing.insert(key)
            }
            DifferenceKind::ExtraInTarget => extra.insert(key),
        };
    }
    let values = |k: &String| values_of.get(k).cloned();
    // Rows rejected before are looked at again (`recheck_rejected`); they are no sign that the
    // table changed.
    let rejected_before: BTreeSet<String> = earlier
        .iter()
        .map(|r| key_text(&key_values(table, &r.primary_key)))
        .collect();
    let new_missing = missing.difference(&rejected_before).count();
    match keyed(table) {
        Ok(()) if (changed.len() + new_missing) as u64 * 2 <= table.source_rows.max(1) => {
            result.updated = changed.len() as u64;
            result.inserted = missing.len() as u64;
            result.deleted = extra.len() as u64;
            plan.upsert = changed.iter().chain(&missing).filter_map(values).collect();
            plan.delete = extra.iter().filter_map(values).collect();
        }
        reason => {
            // Every source row is staged and applied; rows the source no longer has go.
            result.reloaded = true;
            result.note = Some(match reason {
                Ok(()) => "most of the table differs: reloaded".to_owned(),
                Err(why) => format!("{why}: reloaded"),
            });
            result.updated = changed.len() as u64;
            result.inserted = missing.len() as u64;
            result.deleted = extra.len() as u64;
        }
    }
    plan.inserted_keys = missing;
    plan.updated_keys = changed;
    plan.result = result;
    Ok(plan)
}

/// A row's key values in key column order, from its `{"column": value, …}` (a difference's or
/// a reject's key).
pub(super) fn key_values(
    table: &ResolvedTable,
    named: &serde_json::Value,
) -> Vec<serde_json::Value> {
    table
        .key_columns
        .iter()
        .map(|k| named.get(k).cloned().unwrap_or_default())
        .collect()
}

/// The key values as one text, to look a row up in a set.
pub(super) fn key_text(values: &[serde_json::Value]) -> String {
    serde_json::Value::Array(values.to_vec()).to_string()
}

/// The target names of the key columns.
pub(super) fn target_keys(table: &ResolvedTable) -> Vec<&str> {
    table
        .key_columns
        .iter()
        .filter_map(|k| table.column(k).map(|c| c.target.as_str()))
        .collect()
}

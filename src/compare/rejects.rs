//! Rows rejected by the run: the source keys the newest run into the schema rejected, which
//! the comparison leaves out of the source side.

use std::collections::HashSet;

use serde_json::Value as Json;

use super::CompareError;
use crate::copy::{select_columns, value_json, SqlValue};
use crate::engines::TargetConnection;
use crate::resolve::ResolvedTable;

/// The source keys of the rows the newest run into the schema rejected from this table.
#[derive(Default)]
pub(super) struct Rejects {
    run: Option<i64>,
    /// Canonical JSON arrays of the key values, in the order of `names`.
    pub(super) keys: HashSet<String>,
    /// Rejects that name their row by position, which cannot be matched.
    unmatched: usize,
    /// Where the key values are in a source row.
    positions: Vec<usize>,
    names: Vec<String>,
    /// Source rows left out because they were rejected (filled in by the reading thread).
    pub(super) excluded: std::sync::atomic::AtomicU64,
}

impl Rejects {
    pub(super) fn key_of(&self, row: &[SqlValue]) -> String {
        let values: Vec<Json> = self
            .positions
            .iter()
            .map(|&i| row.get(i).map_or(Json::Null, value_json))
            .collect();
        Json::Array(values).to_string()
    }

    /// The key as rejects name it, `{"column": value}`.
    pub(super) fn key_json(&self, row: &[SqlValue]) -> Json {
        Json::Object(
            self.names
                .iter()
                .zip(&self.positions)
                .map(|(n, &i)| (n.clone(), row.get(i).map_or(Json::Null, value_json)))
                .collect(),
        )
    }

    pub(super) fn excluded_note(&self, notes: &mut Vec<String>) {
        let excluded = self.excluded.load(std::sync::atomic::Ordering::Relaxed);
        if let Some(run) = self.run {
            if excluded > 0 {
                notes.push(format!(
                    "{excluded} source row(s) rejected by run {run} are left out"
                ));
            }
            if self.unmatched > 0 {
                notes.push(format!(
                    "{} reject(s) of run {run} name their row by position and could not be left out",
                    self.unmatched
                ));
            }
        }
    }
}

pub(super) fn load_rejects(
    target: &mut TargetConnection,
    check: &str,
    schema: &str,
    table: &ResolvedTable,
) -> Result<Rejects, CompareError> {
    let names: Vec<String> = if table.key_columns.is_empty() {
        vec!["rowid".to_owned()]
    } else {
        table.key_columns.clone()
    };
    let selected = select_columns(table, &table.key_columns);
    let positions = names
        .iter()
        .filter_map(|n| selected.iter().position(|c| c.eq_ignore_ascii_case(n)))
        .collect();
    let mut rejects = Rejects {
        positions,
        names,
        ..Rejects::default()
    };
    let newest = crate::journal::newest_run_rejected_keys(target, schema, &table.source).map_err(
        |source| CompareError::Journal {
            check: check.to_owned(),
            source,
        },
    )?;
    rejects.run = newest.run;
    for k in newest.rejects {
        let Ok(Json::Object(map)) = serde_json::from_str::<Json>(&k) else {
            rejects.unmatched += 1;
            continue;
        };
        let values: Option<Vec<Json>> = rejects
            .names
            .iter()
            .map(|n| {
                map.get(n).cloned().or_else(|| {
                    map.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(n))
                        .map(|(_, v)| v.clone())
                })
            })
            .collect();
        match values {
            Some(values) if rejects.positions.len() == rejects.names.len() => {
                rejects.keys.insert(Json::Array(values).to_string());
            }
            _ => rejects.unmatched += 1,
        }
    }
    Ok(rejects)
}

//! The differences written into the old SQLite file inside its one transaction: deletes
//! children first, upserts parents first, in prepared multi-row statements; a statement the
//! file refuses is retried row by row, so only the rows it cannot hold are left out (rejected).

use std::collections::HashSet;

use super::compare::{key_json, key_text, ReverseReject, TableDiff};
use crate::engines::{SqlValue, WritableSource, WriteError};

/// The savepoint the whole application is undone to when rows must be left out.
const APPLY: &str = "decant_reverse";
/// The savepoint of one row retried alone.
const ROW: &str = "decant_reverse_row";

/// What was applied to one table.
#[derive(Debug, Default, Clone, Copy)]
pub struct Applied {
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
}

/// Applies every table's differences (`diffs` in parents-first `order`); rows the file
/// refuses — a CHECK, NOT NULL or UNIQUE constraint, a foreign key to a row that is not there
/// (checked before the commit, deferred keys too) — are left out, each with its reason, and
/// the rest applied again without them. Returns what was applied per table (in `diffs` order)
/// and the rows left out.
pub fn apply_all(
    file: &mut WritableSource,
    diffs: &[TableDiff<'_>],
    order: &[usize],
) -> Result<(Vec<Applied>, Vec<ReverseReject>), WriteError> {
    let mut left_out: HashSet<(usize, String)> = HashSet::new();
    let mut rejects = Vec::new();
    // Each pass either applies everything or leaves out at least one more row: it ends.
    loop {
        file.savepoint(APPLY)?;
        let mut applied = vec![Applied::default(); diffs.len()];
        let mut refused = Vec::new();
        for &i in order.iter().rev() {
            let d = &diffs[i];
            let rows: Vec<Vec<SqlValue>> = d
                .deletes
                .iter()
                .filter(|k| !left_out.contains(&(i, key_text(k))))
                .cloned()
                .collect();
            let done = write_rows(
                file,
                d,
                &rows,
                |f, batch| f.delete(&d.table.source, &d.keys, batch),
                |k| k.clone(),
                &mut refused,
                i,
            )?;
            applied[i].deleted = done.len() as u64;
        }
        for &i in order {
            let d = &diffs[i];
            let key_of = |row: &Vec<SqlValue>| -> Vec<SqlValue> {
                d.keys
                    .iter()
                    .filter_map(|k| d.columns.iter().position(|c| c == k))
                    .map(|p| row[p].clone())
                    .collect()
            };
            let rows: Vec<Vec<SqlValue>> = d
                .upserts
                .iter()
                .map(|(r, _)| r)
                .filter(|r| !left_out.contains(&(i, key_text(&key_of(r)))))
                .cloned()
                .collect();
            let done = write_rows(
                file,
                d,
                &rows,
                |f, batch| f.upsert(&d.table.source, &d.columns, &d.keys, batch),
                key_of,
                &mut refused,
                i,
            )?;
            let new: HashSet<String> = d
                .upserts
                .iter()
                .filter(|(_, new)| *new)
                .map(|(r, _)| key_text(&key_of(r)))
                .collect();
            for key in done {
                if new.contains(&key) {
                    applied[i].inserted += 1;
                } else {
                    applied[i].updated += 1;
                }
            }
        }
        // A deferred foreign key is checked at COMMIT only: look now, for the rows written.
        for &i in order {
            let d = &diffs[i];
            if d.upserts.is_empty() {
                continue;
            }
            for (key, parent) in file.foreign_key_violations(&d.table.source, &d.keys)? {
                let text = key_text(&key);
                let written = d.upserts.iter().any(|(r, _)| {
                    let k: Vec<SqlValue> = d
                        .keys
                        .iter()
                        .filter_map(|k| d.columns.iter().position(|c| c == k))
                        .map(|p| r[p].clone())
                        .collect();
                    key_text(&k) == text
                });
                if written && !left_out.contains(&(i, text.clone())) {
                    refused.push((
                        i,
                        text,
                        ReverseReject {
                            table: d.table.source.clone(),
                            key: key_json(&d.keys, &key),
                            column: None,
                            value: None,
                            reason: format!(
                                "FOREIGN KEY constraint failed: it points at no row of `{parent}` in the file (a row the file could not take, or one not carried)"
                            ),
                        },
                    ));
                }
            }
        }
        if refused.is_empty() {
            file.release(APPLY)?;
            return Ok((applied, rejects));
        }
        // Leave these rows out and apply the rest again from the start, so nothing of a
        // refused row (nor what was written around it) stays.
        file.rollback_to(APPLY)?;
        for (i, key, reject) in refused {
            if left_out.insert((i, key)) {
                rejects.push(reject);
            }
        }
    }
}

/// Writes `rows` in statements of as many rows as the file takes; a statement refused is
/// retried row by row, each refused row pushed to `refused`. Returns the keys written.
fn write_rows(
    file: &mut WritableSource,
    d: &TableDiff<'_>,
    rows: &[Vec<SqlValue>],
    mut write: impl FnMut(&mut WritableSource, &[Vec<SqlValue>]) -> Result<(), WriteError>,
    key_of: impl Fn(&Vec<SqlValue>) -> Vec<SqlValue>,
    refused: &mut Vec<(usize, String, ReverseReject)>,
    table_index: usize,
) -> Result<Vec<String>, WriteError> {
    let mut done = Vec::with_capacity(rows.len());
    let per = file.rows_per_statement(rows.first().map_or(1, Vec::len));
    for batch in rows.chunks(per) {
        file.savepoint(ROW)?;
        match write(file, batch) {
            Ok(()) => {
                file.release(ROW)?;
                done.extend(batch.iter().map(|r| key_text(&key_of(r))));
                continue;
            }
            Err(WriteError::Statement(_)) => file.rollback_to(ROW)?,
            Err(other) => return Err(other),
        }
        for row in batch {
            file.savepoint(ROW)?;
            let key = key_of(row);
            match write(file, std::slice::from_ref(row)) {
                Ok(()) => {
                    file.release(ROW)?;
                    done.push(key_text(&key));
                }
                Err(WriteError::Statement(e)) => {
                    file.rollback_to(ROW)?;
                    refused.push((
                        table_index,
                        key_text(&key),
                        ReverseReject {
                            table: d.table.source.clone(),
                            key: key_json(&d.keys, &key),
                            column: None,
                            value: None,
                            reason: e.to_string(),
                        },
                    ));
                }
                Err(other) => return Err(other),
            }
        }
    }
    Ok(done)
}

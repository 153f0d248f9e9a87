//! Which rows of one table differ between the target (mapped back through the plan's
//! inverse) and the old SQLite file, by key: the rows to upsert, the keys to delete, the
//! values the file cannot hold.

use std::collections::HashMap;

use serde::Serialize;
use xxhash_rust::xxh3::Xxh3;

use crate::engines::postgres::reverse::{select_current_rows, select_page, TargetRead};
use crate::engines::postgres::TypeFamily;
use crate::engines::{SourceConnection, SqlValue, VisitError, WritableSource, WriteError};
use crate::mapping::inverse::{shown, ColumnInverse};
use crate::resolve::ResolvedTable;
use crate::transform::TransformEnvironment;

/// Rows per page of the target's read.
const PAGE_ROWS: usize = 50_000;

/// A target row the old schema cannot hold: left as the file has it, and reported.
#[derive(Debug, Clone, Serialize)]
pub struct ReverseReject {
    pub table: String,
    /// The row's key, by source column name.
    pub key: serde_json::Value,
    /// The column whose value does not fit, when one does not.
    pub column: Option<String>,
    /// The value, as the target holds it.
    pub value: Option<String>,
    pub reason: String,
}

/// Why a table could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum ReverseCompareError {
    #[error("cannot read the file's rows")]
    File(#[source] WriteError),
    #[error("cannot read the target's rows")]
    Target(#[source] diesel::result::Error),
    #[error("column `{column}` has no way back: {reason}")]
    NotInvertible { column: String, reason: String },
}

/// One table's differences.
pub struct TableDiff<'p> {
    pub table: &'p ResolvedTable,
    /// Source column names, in row order.
    pub columns: Vec<String>,
    /// Source key column names.
    pub keys: Vec<String>,
    /// Rows to write (in the file's stored form), and whether each is new.
    pub upserts: Vec<(Vec<SqlValue>, bool)>,
    /// Key values of rows to delete.
    pub deletes: Vec<Vec<SqlValue>>,
    pub rejects: Vec<ReverseReject>,
    /// The rows the file holds now (for the sums), by key.
    pub before: HashMap<RowKey, Vec<SqlValue>>,
}

impl TableDiff<'_> {
    pub fn changes(&self) -> usize {
        self.upserts.len() + self.deletes.len()
    }
}

/// A row's key values, hashed and compared without formatting them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyPart {
    Null,
    Integer(i64),
    Real(u64),
    Text(String),
    Bytes(Vec<u8>),
}

/// A row's key.
pub type RowKey = Vec<KeyPart>;

fn key_part(v: &SqlValue) -> KeyPart {
    match v {
        SqlValue::Null => KeyPart::Null,
        SqlValue::Integer(i) => KeyPart::Integer(*i),
        SqlValue::Real(f) => KeyPart::Real(f.to_bits()),
        SqlValue::Text(t) => KeyPart::Text(t.clone()),
        SqlValue::InvalidText(b) | SqlValue::Blob(b) => KeyPart::Bytes(b.clone()),
    }
}

/// A key's values as one comparable text.
pub fn key_text(values: &[SqlValue]) -> String {
    let parts: Vec<String> = values.iter().map(shown).collect();
    parts.join("\u{1f}")
}

/// The key as JSON, by column name, for reports.
pub fn key_json(keys: &[String], values: &[SqlValue]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (k, v) in keys.iter().zip(values) {
        map.insert(
            k.clone(),
            match v {
                SqlValue::Null => serde_json::Value::Null,
                SqlValue::Integer(i) => (*i).into(),
                SqlValue::Real(f) => (*f).into(),
                SqlValue::Text(t) => t.clone().into(),
                other => shown(other).into(),
            },
        );
    }
    serde_json::Value::Object(map)
}

/// A row's hash, the same for the same values in the same storage classes.
pub fn row_hash(values: &[SqlValue]) -> u64 {
    let mut h = Xxh3::new();
    for v in values {
        match v {
            SqlValue::Null => h.update(&[0]),
            SqlValue::Integer(i) => {
                h.update(&[1]);
                h.update(&i.to_le_bytes());
            }
            SqlValue::Real(f) => {
                h.update(&[2]);
                h.update(&f.to_bits().to_le_bytes());
            }
            SqlValue::Text(t) => {
                h.update(&[3]);
                h.update(&(t.len() as u64).to_le_bytes());
                h.update(t.as_bytes());
            }
            SqlValue::InvalidText(b) | SqlValue::Blob(b) => {
                h.update(&[4]);
                h.update(&(b.len() as u64).to_le_bytes());
                h.update(b);
            }
        }
    }
    h.digest()
}

/// The wrapping sum of `rows`' hashes, as the sidecar journal keeps it.
pub fn rows_sum<'r>(rows: impl Iterator<Item = &'r Vec<SqlValue>>) -> String {
    let sum = rows.fold(0u64, |s, r| s.wrapping_add(row_hash(r)));
    format!("{sum:016x}")
}

/// Compares `table`'s rows in the target (read on `target`, in `schema`) with the file's.
pub fn diff_table<'p>(
    table: &'p ResolvedTable,
    schema: &str,
    target: &mut SourceConnection,
    file: &mut WritableSource,
    env: &TransformEnvironment,
) -> Result<TableDiff<'p>, ReverseCompareError> {
    let copied: Vec<_> = table.copied_columns().collect();
    let columns: Vec<String> = copied.iter().map(|c| c.source.clone()).collect();
    let key_positions: Vec<usize> = table
        .key_columns
        .iter()
        .filter_map(|k| columns.iter().position(|c| c == k))
        .collect();
    let keys: Vec<String> = key_positions.iter().map(|&i| columns[i].clone()).collect();
    let stored = file
        // Only the rows the plan carries: a row its filter leaves out is not the target's to delete.
        .rows(&table.source, &columns, table.filter.as_deref())
        .map_err(ReverseCompareError::File)?;
    let inverses = copied
        .iter()
        .enumerate()
        .map(|(i, c)| {
            ColumnInverse::decide(
                &c.target_type,
                c.transform.as_ref(),
                c.inverse.as_deref(),
                file.affinity(&c.declared),
                stored.iter().map(move |r| &r[i]),
            )
            .map_err(|reason| ReverseCompareError::NotInvertible {
                column: c.source.clone(),
                reason,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let key_of = |row: &[SqlValue]| -> Vec<SqlValue> {
        key_positions.iter().map(|&i| row[i].clone()).collect()
    };
    let row_key =
        |row: &[SqlValue]| -> RowKey { key_positions.iter().map(|&i| key_part(&row[i])).collect() };
    // Each with whether the target has it too.
    let mut before: HashMap<RowKey, (Vec<SqlValue>, bool)> = HashMap::with_capacity(stored.len());
    for row in stored {
        before.insert(row_key(&row), (row, false));
    }
    let reads: Vec<(String, TargetRead)> = copied
        .iter()
        .zip(&inverses)
        .map(|(c, inv)| (c.target.clone(), inv.read))
        .collect();
    let target_keys: Vec<String> = key_positions
        .iter()
        .map(|&i| copied[i].target.clone())
        .collect();
    let sql = select_current_rows(schema, &table.target, &reads, &target_keys);
    // `row` of an `inverse:` expression: the target's row by source column name.
    let wants_row = inverses.iter().any(|i| {
        matches!(
            i.form,
            crate::mapping::inverse::StoredForm::Expression { .. }
        )
    });
    let mut diff = TableDiff {
        table,
        columns: columns.clone(),
        keys: keys.clone(),
        upserts: Vec::new(),
        deletes: Vec::new(),
        rejects: Vec::new(),
        before: HashMap::new(),
    };
    let mut visit = |values: Vec<SqlValue>| -> Result<(), std::convert::Infallible> {
        let row = if wants_row {
            minijinja::Value::from_iter(
                columns
                    .iter()
                    .zip(&values)
                    .map(|(c, v)| (c.clone(), jinja(v))),
            )
        } else {
            minijinja::Value::from(())
        };
        let mut mapped = Vec::with_capacity(values.len());
        let mut bad = None;
        for ((value, inverse), column) in values.iter().zip(&inverses).zip(&columns) {
            match inverse.back(value.clone(), &row, env) {
                Ok(v) => mapped.push(v),
                Err(reason) => {
                    bad.get_or_insert((column.clone(), shown(value), reason));
                    mapped.push(SqlValue::Null);
                }
            }
        }
        let key = key_of(&mapped);
        let found = before.get_mut(&row_key(&mapped));
        let old = found.map(|(row, seen)| {
            *seen = true;
            &*row
        });
        if let Some((column, value, reason)) = bad {
            diff.rejects.push(ReverseReject {
                table: table.source.clone(),
                key: key_json(&keys, &key),
                column: Some(column),
                value: Some(value),
                reason,
            });
            return Ok(());
        }
        match old {
            Some(old) => {
                let kept: Vec<bool> = old
                    .iter()
                    .zip(&mapped)
                    .zip(&values)
                    .zip(&inverses)
                    .map(|(((o, m), t), inv)| inv.unchanged(o, t, m, &row, env))
                    .collect();
                if !kept.iter().all(|k| *k) {
                    // The values that did not change keep their stored spelling (a JSON
                    // document's key order, a date-time's fraction): the app, saving the row,
                    // writes back what it read.
                    let row: Vec<SqlValue> = mapped
                        .into_iter()
                        .zip(old)
                        .zip(&kept)
                        .map(|((m, o), k)| if *k { o.clone() } else { m })
                        .collect();
                    diff.upserts.push((row, false));
                }
            }
            None => diff.upserts.push((mapped, true)),
        }
        Ok(())
    };
    // One integer key: pages of whole results, in key order. Else one query, row by row.
    let integer_key = match (key_positions.as_slice(), target_keys.as_slice()) {
        ([p], [k]) if copied[*p].target_type.family() == TypeFamily::Integer => Some(k),
        _ => None,
    };
    if let Some(key) = integer_key {
        let position = key_positions[0];
        let mut after = None;
        loop {
            let page = select_page(schema, &table.target, &reads, key, after, PAGE_ROWS);
            let rows = target
                .load_rows(&page)
                .map_err(ReverseCompareError::Target)?;
            let full = rows.len() == PAGE_ROWS;
            for values in rows {
                if let SqlValue::Integer(k) = values[position] {
                    after = Some(k);
                }
                let Ok(()) = visit(values);
            }
            if !full {
                break;
            }
        }
    } else {
        match target.visit_rows(&sql, visit) {
            Ok(()) => {}
            Err(VisitError::Read(e)) => return Err(ReverseCompareError::Target(e)),
            Err(VisitError::Stopped(never)) => match never {},
        }
    }
    for (row, seen) in before.values() {
        if !seen {
            diff.deletes.push(key_of(row));
        }
    }
    // Deterministic order: by key.
    diff.deletes.sort_by_key(|k| key_text(k));
    diff.before = before.into_iter().map(|(k, (row, _))| (k, row)).collect();
    Ok(diff)
}

fn jinja(v: &SqlValue) -> minijinja::Value {
    match v {
        SqlValue::Null => minijinja::Value::from(()),
        SqlValue::Integer(i) => minijinja::Value::from(*i),
        SqlValue::Real(f) => minijinja::Value::from(*f),
        SqlValue::Text(t) => minijinja::Value::from(t.as_str()),
        other => minijinja::Value::from(shown(other)),
    }
}

//! Source values in one engine-neutral form: the storage class SQLite holds a value in, which
//! every other source engine's values are read into as well (each engine's folder decodes its own).

use std::cell::RefCell;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, QueryableByName};
use diesel::row::{NamedRow, Row};

/// A source value in the storage class SQLite holds it in.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Integer(i64),
    Real(f64),
    /// TEXT that is valid UTF-8.
    Text(String),
    /// TEXT whose bytes are not valid UTF-8, kept exactly.
    InvalidText(Vec<u8>),
    Blob(Vec<u8>),
}

/// The SQL type a column is read as: whatever the value's storage class is.
pub struct AnyStorage;

/// One source row: every selected column in order.
pub struct SourceRow(pub Vec<SqlValue>);

/// For every engine whose values read as [`SqlValue`]s (each engine's folder has its `FromSql`).
impl<DB: Backend> QueryableByName<DB> for SourceRow
where
    SqlValue: FromSql<AnyStorage, DB>,
{
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> deserialize::Result<Self> {
        let count = Row::field_count(row);
        let mut values = spare::row(count);
        for i in 0..count {
            values.push(Row::get_value::<AnyStorage, SqlValue, usize>(row, i)?);
        }
        Ok(SourceRow(values))
    }
}

impl SourceRow {
    /// Gives the row's buffers back to be reused by the next rows this thread reads; worth it
    /// when rows are dropped in bulk (batches), which defeats the allocator's per-thread caches.
    pub fn recycle(values: Vec<SqlValue>) {
        spare::keep(values);
    }
}

/// Buffers of rows read on this thread and given back by [`SourceRow::recycle`].
pub(crate) mod spare {
    use super::{RefCell, SqlValue};

    /// At most this many of each kept per thread.
    const KEPT: usize = 16_384;

    thread_local! {
        static STRINGS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
        static ROWS: RefCell<Vec<Vec<SqlValue>>> = const { RefCell::new(Vec::new()) };
    }

    pub(crate) fn string(text: &str) -> String {
        match STRINGS.with(|s| s.borrow_mut().pop()) {
            Some(mut s) => {
                s.clear();
                s.push_str(text);
                s
            }
            None => text.to_owned(),
        }
    }

    pub(crate) fn row(columns: usize) -> Vec<SqlValue> {
        ROWS.with(|r| r.borrow_mut().pop())
            .unwrap_or_else(|| Vec::with_capacity(columns))
    }

    pub(super) fn keep(mut values: Vec<SqlValue>) {
        STRINGS.with(|s| {
            let mut s = s.borrow_mut();
            for v in values.drain(..) {
                if let SqlValue::Text(t) = v {
                    if s.len() < KEPT {
                        s.push(t);
                    }
                }
            }
        });
        ROWS.with(|r| {
            let mut r = r.borrow_mut();
            if r.len() < KEPT {
                r.push(values);
            }
        });
    }
}

//! Source values in one engine-neutral form: the storage class SQLite holds a value in, which
//! every other source engine's values are read into as well (see `super::mysql`).

use std::cell::RefCell;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, QueryableByName};
use diesel::row::{NamedRow, Row};
use diesel::sqlite::{Sqlite, SqliteType, SqliteValue};

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

impl FromSql<AnyStorage, Sqlite> for SqlValue {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        Ok(match value.value_type() {
            None => SqlValue::Null,
            Some(SqliteType::Long | SqliteType::Integer | SqliteType::SmallInt) => {
                SqlValue::Integer(value.read_long())
            }
            Some(SqliteType::Double | SqliteType::Float) => SqlValue::Real(value.read_double()),
            Some(SqliteType::Binary) => SqlValue::Blob(value.read_blob().to_vec()),
            Some(SqliteType::Text) => {
                // `read_text` replaces invalid UTF-8 with U+FFFD; only then are the raw bytes
                // read (a copy), so valid text costs one validation and one copy.
                let valid = {
                    let text = value.read_text();
                    // U+FFFD is EF BF BD in UTF-8: a byte scan rules it out quickly.
                    let replaced = text.as_bytes().contains(&0xEF) && text.contains('\u{FFFD}');
                    (!replaced).then(|| spare::string(text))
                };
                match valid {
                    Some(text) => SqlValue::Text(text),
                    None => match String::from_utf8(value.read_blob().to_vec()) {
                        Ok(text) => SqlValue::Text(text),
                        Err(e) => SqlValue::InvalidText(e.into_bytes()),
                    },
                }
            }
        })
    }

    fn from_nullable_sql(value: Option<SqliteValue<'_, '_, '_>>) -> deserialize::Result<Self> {
        match value {
            None => Ok(SqlValue::Null),
            Some(value) => <Self as FromSql<AnyStorage, Sqlite>>::from_sql(value),
        }
    }
}

/// One source row: every selected column in order.
pub struct SourceRow(pub Vec<SqlValue>);

/// For every engine whose values read as [`SqlValue`]s (`super::mysql` has MySQL's).
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
pub(super) mod spare {
    use super::{RefCell, SqlValue};

    /// At most this many of each kept per thread.
    const KEPT: usize = 16_384;

    thread_local! {
        static STRINGS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
        static ROWS: RefCell<Vec<Vec<SqlValue>>> = const { RefCell::new(Vec::new()) };
    }

    pub(in crate::source) fn string(text: &str) -> String {
        match STRINGS.with(|s| s.borrow_mut().pop()) {
            Some(mut s) => {
                s.clear();
                s.push_str(text);
                s
            }
            None => text.to_owned(),
        }
    }

    pub(in crate::source) fn row(columns: usize) -> Vec<SqlValue> {
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

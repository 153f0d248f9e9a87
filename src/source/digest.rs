//! Digests of source rows as they lie — each value's storage class and bytes, before any
//! conversion — summed per key window: what a sync compares with the sums it kept, to find
//! the windows the source changed in without reading the target or converting a row.

use std::cell::RefCell;

use diesel::connection::DefaultLoadingMode;
use diesel::deserialize::{self, FromSql, QueryableByName};
use diesel::row::{NamedRow, Row};
use diesel::sqlite::{Sqlite, SqliteType, SqliteValue};
use diesel::RunQueryDsl;
use xxhash_rust::xxh3::xxh3_64;

use super::{AnyStorage, SourceConnection, SqlValue};

/// Most windows a table is cut into: beyond it (keys spread very thin) the windows are not
/// kept, and a sync compares the whole table.
pub const MAX_WINDOWS: usize = 1 << 24;

/// Per key window, the wrapping sum of its rows' digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSums {
    /// The first key of window 0.
    pub key_min: i64,
    /// Keys per window.
    pub width: i64,
    /// 0 for an empty window.
    pub sums: Vec<u64>,
}

impl WindowSums {
    /// The window of `key`, or `None` below `key_min` or past [`MAX_WINDOWS`].
    pub fn index_of(&self, key: i64) -> Option<usize> {
        let offset = i128::from(key) - i128::from(self.key_min);
        let index = offset.checked_div(i128::from(self.width))?;
        (offset >= 0)
            .then(|| usize::try_from(index).ok())
            .flatten()
            .filter(|i| *i < MAX_WINDOWS)
    }

    /// The first and last key of window `index`.
    pub fn bounds(&self, index: usize) -> (i64, i64) {
        let start = i128::from(self.key_min) + index as i128 * i128::from(self.width);
        let clamp = |v: i128| v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        (clamp(start), clamp(start + i128::from(self.width) - 1))
    }

    /// The key ranges covering `windows` (in order), adjacent ones joined.
    pub fn ranges(&self, windows: impl IntoIterator<Item = usize>) -> Vec<(i64, i64)> {
        let mut ranges: Vec<(i64, i64)> = Vec::new();
        for w in windows {
            let (start, end) = self.bounds(w);
            match ranges.last_mut() {
                Some(last) if last.1.checked_add(1) == Some(start) => last.1 = end,
                _ => ranges.push((start, end)),
            }
        }
        ranges
    }

    /// The windows whose sums differ from `kept`'s (a window past the end of either is 0).
    pub fn differing(&self, kept: &[u64]) -> Vec<usize> {
        let n = self.sums.len().max(kept.len());
        (0..n)
            .filter(|&i| {
                self.sums.get(i).copied().unwrap_or(0) != kept.get(i).copied().unwrap_or(0)
            })
            .collect()
    }
}

thread_local! {
    /// The bytes of the row being digested: every value's class, length and bytes.
    static ROW: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// One value appended to [`ROW`] (what `Row::get_value` needs a type for).
struct Appended;

impl FromSql<AnyStorage, Sqlite> for Appended {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        ROW.with(|row| {
            let mut row = row.borrow_mut();
            match value.value_type() {
                None => row.push(0),
                Some(SqliteType::Long | SqliteType::Integer | SqliteType::SmallInt) => {
                    row.push(1);
                    row.extend_from_slice(&value.read_long().to_le_bytes());
                }
                Some(SqliteType::Double | SqliteType::Float) => {
                    row.push(2);
                    row.extend_from_slice(&value.read_double().to_bits().to_le_bytes());
                }
                Some(class) => {
                    // TEXT and BLOB alike as their bytes, exactly as stored.
                    row.push(if class == SqliteType::Text { 3 } else { 4 });
                    let bytes = value.read_blob();
                    row.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
                    row.extend_from_slice(bytes);
                }
            }
        });
        Ok(Appended)
    }

    fn from_nullable_sql(value: Option<SqliteValue<'_, '_, '_>>) -> deserialize::Result<Self> {
        match value {
            Some(value) => Self::from_sql(value),
            None => {
                ROW.with(|row| row.borrow_mut().push(0));
                Ok(Appended)
            }
        }
    }
}

/// A row of `SELECT key, * FROM …`: its key, and the digest of every other column.
struct KeyedDigest {
    key: SqlValue,
    digest: u64,
}

impl QueryableByName<Sqlite> for KeyedDigest {
    fn build<'a>(row: &impl NamedRow<'a, Sqlite>) -> deserialize::Result<Self> {
        let count = Row::field_count(row);
        let key = Row::get_value::<AnyStorage, SqlValue, usize>(row, 0)?;
        ROW.with(|r| r.borrow_mut().clear());
        for i in 1..count {
            Row::get_value::<AnyStorage, Appended, usize>(row, i)?;
        }
        let digest = ROW.with(|r| xxh3_64(&r.borrow()));
        Ok(KeyedDigest { key, digest })
    }
}

/// Why window sums could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error(transparent)]
    Read(#[from] diesel::result::Error),
    /// A key that is not an integer, lies below the windows' first key or past the last
    /// window: the caller compares the whole table instead.
    #[error("key {0} is outside the windows")]
    OutOfWindows(String),
}

impl SourceConnection {
    /// The window sums of `select` (its rows' integer key first, then the columns digested),
    /// in windows of `width` keys from `key_min`; `Ok(None)` for engines whose rows are not
    /// digested as they lie (MySQL: its values arrive converted by the client library).
    pub fn window_sums(
        &mut self,
        select: &str,
        key_min: i64,
        width: i64,
    ) -> Result<Option<WindowSums>, DigestError> {
        let SourceConnection::Sqlite(c) = self else {
            return Ok(None);
        };
        let mut sums = WindowSums {
            key_min,
            width: width.max(1),
            sums: Vec::new(),
        };
        for row in diesel::sql_query(select).load_iter::<KeyedDigest, DefaultLoadingMode>(c)? {
            let row = row?;
            let index = match row.key {
                SqlValue::Integer(k) => sums.index_of(k),
                _ => None,
            }
            .ok_or_else(|| DigestError::OutOfWindows(format!("{:?}", row.key)))?;
            if index >= sums.sums.len() {
                sums.sums.resize(index + 1, 0);
            }
            sums.sums[index] = sums.sums[index].wrapping_add(row.digest);
        }
        Ok(Some(sums))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_index_keys_and_name_the_ones_that_differ() {
        let w = WindowSums {
            key_min: 10,
            width: 4,
            sums: vec![1, 0, 5],
        };
        assert_eq!(w.index_of(10), Some(0));
        assert_eq!(w.index_of(13), Some(0));
        assert_eq!(w.index_of(14), Some(1));
        assert_eq!(w.index_of(9), None);
        assert_eq!(w.index_of(i64::MAX), None);
        assert_eq!(w.bounds(2), (18, 21));
        assert_eq!(w.differing(&[1, 0, 5]), Vec::<usize>::new());
        assert_eq!(w.differing(&[1, 0, 6, 0, 3]), vec![2, 4]);
        assert_eq!(w.differing(&[1]), vec![2]);
        assert_eq!(w.ranges([0, 1, 3]), vec![(10, 17), (22, 25)]);
    }
}

//! SQLite's window sums: `SELECT key, *` digested as the rows lie in the file (each value's
//! storage class and bytes, read from SQLite's own buffers), summed per key window.

use std::cell::RefCell;

use diesel::connection::DefaultLoadingMode;
use diesel::deserialize::{self, QueryableByName};
use diesel::row::{Field, NamedRow, Row};
use diesel::sqlite::{Sqlite, SqliteType, SqliteValue};
use diesel::{RunQueryDsl, SqliteConnection};
use xxhash_rust::xxh3::xxh3_64;

use crate::engines::digest::{DigestError, DigestPart, Stored, WindowSums};
use crate::engines::{AnyStorage, SqlValue};

/// The window sums of `part`'s rows (`part.select` is `SELECT key, * FROM …`).
pub(crate) fn window_sums(
    c: &mut SqliteConnection,
    part: &DigestPart,
) -> Result<Option<WindowSums>, DigestError> {
    let mut sums = WindowSums {
        key_min: part.key_min,
        width: part.width.max(1),
        sums: Vec::new(),
    };
    for row in diesel::sql_query(&part.select).load_iter::<KeyedDigest, DefaultLoadingMode>(c)? {
        let row = row?;
        if !sums.add(&row.key, row.digest) {
            return Err(DigestError::OutOfWindows(format!("{:?}", row.key)));
        }
    }
    Ok(Some(sums))
}

/// A row of `SELECT key, * FROM …`: its key, and the digest of every other column.
pub(crate) struct KeyedDigest {
    key: SqlValue,
    digest: u64,
}

thread_local! {
    /// The bytes of the row being digested, reused from row to row (`QueryableByName` is
    /// handed no state of ours).
    static ROW: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Appends one value of a row SQLite hands over.
fn append_value(row: &mut Vec<u8>, value: Option<SqliteValue<'_, '_, '_>>) {
    let Some(mut value) = value else {
        return Stored::Null.append(row);
    };
    match value.value_type() {
        None => Stored::Null.append(row),
        Some(SqliteType::Long | SqliteType::Integer | SqliteType::SmallInt) => {
            Stored::Integer(value.read_long()).append(row)
        }
        Some(SqliteType::Double | SqliteType::Float) => {
            Stored::Real(value.read_double()).append(row)
        }
        Some(SqliteType::Text) => {
            // Text read as text is SQLite's own buffer; read as a blob, Diesel copies it
            // (a malloc and SQLite's allocator mutex per value). Text that is not UTF-8 comes
            // back with U+FFFD in place of its bytes, which would hide a change between two
            // such values: then, and for a real U+FFFD, its exact bytes are read after all.
            let text = value.read_text();
            // 0xEF leads U+FFFD's UTF-8; most text has none, and a byte search is cheap.
            if !(text.as_bytes().contains(&0xEF) && text.contains('\u{FFFD}')) {
                return Stored::Text(text.as_bytes()).append(row);
            }
            Stored::Text(value.read_blob()).append(row)
        }
        Some(_) => Stored::Blob(value.read_blob()).append(row),
    }
}

impl QueryableByName<Sqlite> for KeyedDigest {
    fn build<'a>(row: &impl NamedRow<'a, Sqlite>) -> deserialize::Result<Self> {
        let count = Row::field_count(row);
        let key = Row::get_value::<AnyStorage, SqlValue, usize>(row, 0)?;
        let digest = ROW.with(|bytes| {
            let mut bytes = bytes.borrow_mut();
            bytes.clear();
            for i in 1..count {
                let field = Row::get(row, i);
                append_value(&mut bytes, field.as_ref().and_then(|f| f.value()));
            }
            xxh3_64(&bytes)
        });
        Ok(KeyedDigest { key, digest })
    }
}

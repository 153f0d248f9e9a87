//! SQLite's values as [`SqlValue`]s: the storage class of each value as SQLite holds it,
//! invalid UTF-8 text kept byte for byte.

use diesel::deserialize::{self, FromSql};
use diesel::sqlite::{Sqlite, SqliteType, SqliteValue};

use crate::engines::value::spare;
use crate::engines::{AnyStorage, SqlValue};

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

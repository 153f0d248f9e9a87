//! MySQL and MariaDB as a source: the session decant reads in (UTC, utf8mb4, ANSI quoting, one
//! read-only consistent snapshot) and how the binary protocol's values become [`SqlValue`]s.

use diesel::connection::SimpleConnection;
use diesel::deserialize::{self, FromSql};
use diesel::mysql::data_types::MysqlTime;
use diesel::mysql::{Mysql, MysqlType, MysqlValue};
use diesel::sql_types::Datetime;
use diesel::{Connection, ConnectionResult, MysqlConnection};

use crate::engines::value::spare;
use crate::engines::{AnyStorage, SqlValue};

/// The session every read runs in. Diesel already sets `time_zone = '+00:00'` and utf8mb4 on
/// the wire; ANSI_QUOTES and PIPES_AS_CONCAT let the SQL decant writes for any source quote
/// identifiers with `"` and concatenate with `||`, and NO_BACKSLASH_ESCAPES makes string
/// literals standard, so a key value is quoted the same way for every engine.
const SESSION: &str = "SET SESSION sql_mode = 'ANSI_QUOTES,PIPES_AS_CONCAT,NO_BACKSLASH_ESCAPES'; \
     SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ";

/// Opens a connection in decant's read session; `mariadb://` is the same as `mysql://`.
pub fn open(url: &str) -> ConnectionResult<MysqlConnection> {
    let url = match url.strip_prefix("mariadb://") {
        Some(rest) => format!("mysql://{rest}"),
        None => url.to_owned(),
    };
    let mut conn = MysqlConnection::establish(&url)?;
    conn.batch_execute(SESSION)
        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

/// Starts the one consistent snapshot a whole copy (and its checks) reads: InnoDB's
/// REPEATABLE READ view, taken now rather than at the first read, and read-only.
pub const BEGIN_SNAPSHOT: &str = "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY";

/// Holds every commit back while several connections start their snapshots. The lock waits
/// for running statements to end, and the app's writes wait behind it: at most 2 seconds,
/// then decant reads with one connection instead.
pub const LOCK_COMMITS: &str = "SET SESSION lock_wait_timeout = 2; FLUSH TABLES WITH READ LOCK";
pub const UNLOCK_COMMITS: &str = "UNLOCK TABLES";

impl FromSql<AnyStorage, Mysql> for SqlValue {
    fn from_sql(value: MysqlValue<'_>) -> deserialize::Result<Self> {
        let bytes = value.as_bytes();
        Ok(match value.value_type() {
            MysqlType::Tiny => SqlValue::Integer(i64::from(i8::from_ne_bytes(fixed(bytes)?))),
            MysqlType::UnsignedTiny => {
                SqlValue::Integer(i64::from(u8::from_ne_bytes(fixed(bytes)?)))
            }
            MysqlType::Short => SqlValue::Integer(i64::from(i16::from_ne_bytes(fixed(bytes)?))),
            MysqlType::UnsignedShort => {
                SqlValue::Integer(i64::from(u16::from_ne_bytes(fixed(bytes)?)))
            }
            MysqlType::Long => SqlValue::Integer(i64::from(i32::from_ne_bytes(fixed(bytes)?))),
            MysqlType::UnsignedLong => {
                SqlValue::Integer(i64::from(u32::from_ne_bytes(fixed(bytes)?)))
            }
            MysqlType::LongLong => SqlValue::Integer(i64::from_ne_bytes(fixed(bytes)?)),
            // Above 2^63 a BIGINT UNSIGNED does not fit SQLite's storage class; its digits do,
            // and the numeric(20,0) it maps to reads them exactly.
            MysqlType::UnsignedLongLong => {
                let n = u64::from_ne_bytes(fixed(bytes)?);
                i64::try_from(n).map_or_else(|_| SqlValue::Text(n.to_string()), SqlValue::Integer)
            }
            MysqlType::Float => SqlValue::Real(f64::from(f32::from_ne_bytes(fixed(bytes)?))),
            MysqlType::Double => SqlValue::Real(f64::from_ne_bytes(fixed(bytes)?)),
            // DECIMAL arrives as its exact digits.
            MysqlType::Numeric => SqlValue::Text(String::from_utf8(bytes.to_vec())?),
            // BIT(n) is big-endian bytes.
            MysqlType::Bit => {
                let n = bytes.iter().fold(0u128, |n, b| (n << 8) | u128::from(*b));
                i64::try_from(n).map_or_else(|_| SqlValue::Text(n.to_string()), SqlValue::Integer)
            }
            // The load's SELECT reads TIME as text (it may be negative, which Diesel refuses);
            // a TIME read otherwise (a user's assertion) arrives here.
            MysqlType::Date | MysqlType::DateTime | MysqlType::Timestamp | MysqlType::Time => {
                let t = <MysqlTime as FromSql<Datetime, Mysql>>::from_sql(value.clone())?;
                SqlValue::Text(temporal_text(value.value_type(), &t))
            }
            MysqlType::Blob => SqlValue::Blob(bytes.to_vec()),
            // String, Enum, Set, JSON: the server converted them to utf8mb4 on the wire.
            _ => match std::str::from_utf8(bytes) {
                Ok(text) => SqlValue::Text(spare::string(text)),
                Err(_) => SqlValue::InvalidText(bytes.to_vec()),
            },
        })
    }

    fn from_nullable_sql(value: Option<MysqlValue<'_>>) -> deserialize::Result<Self> {
        match value {
            None => Ok(SqlValue::Null),
            Some(value) => <Self as FromSql<AnyStorage, Mysql>>::from_sql(value),
        }
    }
}

/// A fixed-width number's bytes, or an error naming the width.
fn fixed<const N: usize>(bytes: &[u8]) -> deserialize::Result<[u8; N]> {
    bytes
        .get(..N)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("expected {N} bytes for a number, got {}", bytes.len()).into())
}

/// A date or time as MySQL writes it: `2024-01-31`, `2024-01-31 10:00:00.250000`, `10:00:00`.
/// A zero date stays `0000-00-00`, so it reaches the plan's decision rather than a shift.
/// Written digit by digit: every temporal value of a load passes here, and `format!` took a
/// twentieth of a MySQL load's client CPU.
fn temporal_text(kind: MysqlType, t: &MysqlTime) -> String {
    let mut text = String::with_capacity(26);
    let date = |text: &mut String| {
        padded(text, t.year, 4);
        text.push('-');
        padded(text, t.month, 2);
        text.push('-');
        padded(text, t.day, 2);
    };
    let time = |text: &mut String, hours: u32| {
        padded(text, hours, 2);
        text.push(':');
        padded(text, t.minute, 2);
        text.push(':');
        padded(text, t.second, 2);
        if t.second_part > 0 {
            text.push('.');
            padded(text, u32::try_from(t.second_part).unwrap_or(u32::MAX), 6);
        }
    };
    match kind {
        MysqlType::Date => date(&mut text),
        MysqlType::Time => {
            if t.neg {
                text.push('-');
            }
            time(&mut text, t.hour + t.day * 24);
        }
        _ => {
            date(&mut text);
            text.push(' ');
            time(&mut text, t.hour);
        }
    }
    text
}

/// `n` in decimal, zero-padded to at least `width` digits.
fn padded(text: &mut String, n: u32, width: usize) {
    let mut digits = [b'0'; 10];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let start = at.min(digits.len().saturating_sub(width));
    // Only ASCII digits were written.
    text.push_str(std::str::from_utf8(&digits[start..]).unwrap_or_default());
}

/// Whether a MySQL column type holds numbers (`decimal(10,2) unsigned`, `int`, `bit(8)`, …).
pub fn is_numeric(declared: &str) -> bool {
    let base: String = declared
        .trim()
        .to_ascii_lowercase()
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    matches!(
        base.as_str(),
        "tinyint"
            | "smallint"
            | "mediumint"
            | "int"
            | "integer"
            | "bigint"
            | "decimal"
            | "numeric"
            | "dec"
            | "fixed"
            | "float"
            | "double"
            | "real"
            | "bit"
            | "year"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::mysql::data_types::MysqlTimestampType;

    /// What `temporal_text` wrote with `format!`, before it wrote digits itself.
    fn formatted(kind: MysqlType, t: &MysqlTime) -> String {
        let fraction = if t.second_part > 0 {
            format!(".{:06}", t.second_part)
        } else {
            String::new()
        };
        match kind {
            MysqlType::Date => format!("{:04}-{:02}-{:02}", t.year, t.month, t.day),
            MysqlType::Time => format!(
                "{}{:02}:{:02}:{:02}{fraction}",
                if t.neg { "-" } else { "" },
                t.hour + t.day * 24,
                t.minute,
                t.second
            ),
            _ => format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}{fraction}",
                t.year, t.month, t.day, t.hour, t.minute, t.second
            ),
        }
    }

    #[test]
    fn temporal_text_writes_what_format_wrote_for_zero_dates_fractions_and_long_negative_times() {
        let times = [
            (0, 0, 0, 0, 0, 0, 0, false),
            (2024, 1, 31, 10, 0, 0, 250_000, false),
            (9999, 12, 31, 23, 59, 59, 999_999, false),
            (1, 2, 3, 4, 5, 6, 1, false),
            (0, 0, 34, 22, 59, 59, 0, true),
            (0, 0, 0, 7, 8, 9, 120, true),
        ];
        for (year, month, day, hour, minute, second, part, neg) in times {
            let t = MysqlTime::new(
                year,
                month,
                day,
                hour,
                minute,
                second,
                part,
                neg,
                MysqlTimestampType::MYSQL_TIMESTAMP_DATETIME,
                0,
            );
            for kind in [
                MysqlType::Date,
                MysqlType::Time,
                MysqlType::DateTime,
                MysqlType::Timestamp,
            ] {
                assert_eq!(
                    temporal_text(kind, &t),
                    formatted(kind, &t),
                    "{kind:?} {t:?}"
                );
            }
        }
        let long = MysqlTime::new(
            0,
            0,
            34,
            22,
            59,
            59,
            0,
            true,
            MysqlTimestampType::MYSQL_TIMESTAMP_TIME,
            0,
        );
        assert_eq!(temporal_text(MysqlType::Time, &long), "-838:59:59");
    }
}

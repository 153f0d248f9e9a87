//! PostgreSQL as a source: the session decant reads in (UTC, ISO dates, one read-only
//! REPEATABLE READ snapshot shared by exported id) and how its binary values become [`SqlValue`]s.

use diesel::connection::SimpleConnection;
use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::{Connection, ConnectionResult, PgConnection, RunQueryDsl};

use crate::engines::value::spare;
use crate::engines::{AnyStorage, SqlValue};

/// The session every read runs in: times in UTC and ISO form, floats with every digit, so
/// the text a column is read as is the value itself.
const SESSION: &str = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; \
     SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; \
     SET default_transaction_read_only = on";

/// Opens a connection in decant's read session.
pub fn open(url: &str) -> ConnectionResult<PgConnection> {
    let mut conn = PgConnection::establish(url)?;
    conn.batch_execute(SESSION)
        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

/// Starts the one consistent snapshot a whole copy (and its checks) reads.
pub const BEGIN_SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/// Starts `conn`'s snapshot and exports it: the id other connections adopt with
/// [`adopt_snapshot`] to read the very same rows (valid while `conn`'s transaction lasts).
pub fn begin_exported(conn: &mut PgConnection) -> diesel::QueryResult<String> {
    #[derive(diesel::QueryableByName)]
    struct Exported {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
    }
    conn.batch_execute(BEGIN_SNAPSHOT)?;
    let row: Exported = diesel::sql_query("SELECT pg_export_snapshot() AS id").get_result(conn)?;
    Ok(row.id)
}

/// Starts `conn`'s snapshot as the one exported under `id`.
pub fn adopt_snapshot(conn: &mut PgConnection, id: &str) -> diesel::QueryResult<()> {
    conn.batch_execute(&format!(
        "{BEGIN_SNAPSHOT}; SET TRANSACTION SNAPSHOT {}",
        crate::dialect::quote_literal(id)
    ))
}

/// Type OIDs decoded from their binary form; a column of any other type is read as text
/// (see [`reads_as_text`]), so its value arrives as one of these.
mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const CHAR: u32 = 18;
    pub const NAME: u32 = 19;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const OID: u32 = 26;
    pub const JSON: u32 = 114;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const UUID: u32 = 2950;
    pub const JSONB: u32 = 3802;
}

/// Whether a column declared `declared` (as `format_type` writes it) is read as text rather
/// than in its binary form: every type but the integers, floats, boolean, bytea, the text
/// types, json(b) and uuid. The load's SELECT reads it as `to_json(col) #>> '{}'`: its own
/// text (ISO dates and times, exact numeric digits), and an array as a JSON array.
pub fn reads_as_text(declared: &str) -> bool {
    let d = declared.trim().to_ascii_lowercase();
    if d.ends_with("[]") {
        return true;
    }
    let base = d.split('(').next().unwrap_or("").trim();
    !matches!(
        base,
        "smallint"
            | "integer"
            | "bigint"
            | "oid"
            | "real"
            | "double precision"
            | "boolean"
            | "bytea"
            | "text"
            | "character varying"
            | "character"
            | "\"char\""
            | "name"
            | "json"
            | "jsonb"
            | "uuid"
    )
}

impl FromSql<AnyStorage, Pg> for SqlValue {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let bytes = value.as_bytes();
        Ok(match value.get_oid().get() {
            oid::BOOL => SqlValue::Integer(i64::from(bytes.first().copied().unwrap_or(0) != 0)),
            oid::INT2 => SqlValue::Integer(i64::from(i16::from_be_bytes(fixed(bytes)?))),
            oid::INT4 => SqlValue::Integer(i64::from(i32::from_be_bytes(fixed(bytes)?))),
            oid::OID => SqlValue::Integer(i64::from(u32::from_be_bytes(fixed(bytes)?))),
            oid::INT8 => SqlValue::Integer(i64::from_be_bytes(fixed(bytes)?)),
            oid::FLOAT4 => SqlValue::Real(f64::from(f32::from_be_bytes(fixed(bytes)?))),
            oid::FLOAT8 => SqlValue::Real(f64::from_be_bytes(fixed(bytes)?)),
            oid::BYTEA => SqlValue::Blob(bytes.to_vec()),
            oid::UUID => {
                let b: [u8; 16] = fixed(bytes)?;
                let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
                SqlValue::Text(format!(
                    "{}-{}-{}-{}-{}",
                    &hex[..8],
                    &hex[8..12],
                    &hex[12..16],
                    &hex[16..20],
                    &hex[20..]
                ))
            }
            // jsonb's binary form is a version byte (1) ahead of the document's text.
            oid::JSONB => match bytes.split_first() {
                Some((1, doc)) => utf8(doc),
                _ => return Err("jsonb in an unknown binary version".into()),
            },
            oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::NAME | oid::CHAR | oid::JSON => {
                utf8(bytes)
            }
            other => {
                return Err(format!(
                    "a value of type oid {other} arrived in binary form; decant reads it as text only through the load's SELECT"
                )
                .into())
            }
        })
    }

    fn from_nullable_sql(value: Option<PgValue<'_>>) -> deserialize::Result<Self> {
        match value {
            None => Ok(SqlValue::Null),
            Some(value) => <Self as FromSql<AnyStorage, Pg>>::from_sql(value),
        }
    }
}

/// Text as it arrived; PostgreSQL sends UTF-8 (the client encoding Diesel sets).
fn utf8(bytes: &[u8]) -> SqlValue {
    match std::str::from_utf8(bytes) {
        Ok(text) => SqlValue::Text(spare::string(text)),
        Err(_) => SqlValue::InvalidText(bytes.to_vec()),
    }
}

/// A fixed-width number's bytes, or an error naming the width.
fn fixed<const N: usize>(bytes: &[u8]) -> deserialize::Result<[u8; N]> {
    bytes
        .get(..N)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("expected {N} bytes, got {}", bytes.len()).into())
}

#[cfg(test)]
mod tests {
    use super::reads_as_text;

    #[test]
    fn only_types_decoded_in_binary_are_read_in_their_own_form() {
        for own in [
            "integer",
            "bigint",
            "text",
            "character varying(20)",
            "jsonb",
            "uuid",
        ] {
            assert!(!reads_as_text(own), "{own}");
        }
        for text in [
            "numeric(10,2)",
            "timestamp with time zone",
            "date",
            "integer[]",
            "text[]",
        ] {
            assert!(reads_as_text(text), "{text}");
        }
    }
}

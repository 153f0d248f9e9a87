//! PostgreSQL's binary wire types as decant writes and reads them: which target types have an
//! encoder, what each field is built from, and the epochs binary times count from. The copy
//! engine encodes with it, the checksums read back with it, resolution asks it.

use super::target_types::{TargetType, TypeFamily};

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01 00:00:00 UTC), where
/// binary timestamps count from.
pub const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
/// Days between the Unix epoch and PostgreSQL's, where binary dates count from.
pub const PG_EPOCH_DAYS: i64 = 10_957;

/// What a target column's binary field is built from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    /// `numeric(p,s)` rounds to `s` and refuses more than `p - s` integer digits.
    Numeric(Option<(u32, u32)>),
    Bool,
    /// Text types; `max_chars` for `varchar(n)`/`char(n)`, `max_bytes` for `name`.
    Text {
        max_chars: Option<u32>,
        max_bytes: Option<usize>,
    },
    Bytea,
    Date,
    Time,
    TimeTz,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
    Json,
    Jsonb,
    /// `inet`, or `cidr` (no bits right of the netmask).
    Inet {
        cidr: bool,
    },
    MacAddr,
    Point,
    /// PostGIS's `geometry`, from MySQL's spatial bytes as decant selects them (a 4-byte
    /// big-endian SRID, then WKB); written as EWKB, the SRID kept.
    Geometry,
    /// An enum of the app's schema; the labels are the column's.
    Enum,
    /// A one-dimensional array from JSON-array text or comma-separated labels; the element's
    /// OID (an app's enum's as its target database has it), and its encoder is the column's
    /// `element`.
    Array {
        element_oid: u32,
    },
}

/// The OID of an array element type the copy engine writes (binary COPY names it).
fn element_oid(base: &str) -> Option<u32> {
    Some(match base {
        "boolean" => 16,
        "bigint" => 20,
        "smallint" => 21,
        "integer" => 23,
        "text" => 25,
        "double precision" => 701,
        "real" => 700,
        "char" => 1042,
        "varchar" => 1043,
        "date" => 1082,
        "timestamp" => 1114,
        "timestamptz" => 1184,
        "numeric" => 1700,
        "uuid" => 2950,
        _ => return None,
    })
}

impl Kind {
    pub(crate) fn of(t: &TargetType) -> Option<Kind> {
        let modifier = t.modifiers.first().copied();
        if t.array {
            let element = TargetType {
                array: false,
                ..t.clone()
            };
            // An enum's OID is the target database's own: looked up there before copying
            // (0 until then, which the copy engine refuses).
            let enum_oid = (!t.labels.is_empty()).then(|| t.element_oid.unwrap_or(0));
            return Kind::of(&element)
                .and_then(|_| element_oid(&t.base).or(enum_oid))
                .map(|element_oid| Kind::Array { element_oid });
        }
        Some(match t.family() {
            TypeFamily::Enum => Kind::Enum,
            TypeFamily::Integer => match t.base.as_str() {
                "smallint" => Kind::Int2,
                "integer" => Kind::Int4,
                _ => Kind::Int8,
            },
            TypeFamily::Float => {
                if t.base == "real" {
                    Kind::Float4
                } else {
                    Kind::Float8
                }
            }
            TypeFamily::Numeric => {
                Kind::Numeric(modifier.map(|p| (p, t.modifiers.get(1).copied().unwrap_or(0))))
            }
            TypeFamily::Boolean => Kind::Bool,
            TypeFamily::Text => match t.base.as_str() {
                "varchar" => Kind::Text {
                    max_chars: modifier,
                    max_bytes: None,
                },
                // `char` without a length is `char(1)`.
                "char" => Kind::Text {
                    max_chars: Some(modifier.unwrap_or(1)),
                    max_bytes: None,
                },
                "name" => Kind::Text {
                    max_chars: None,
                    max_bytes: Some(63),
                },
                _ => Kind::Text {
                    max_chars: None,
                    max_bytes: None,
                },
            },
            TypeFamily::Bytes => Kind::Bytea,
            TypeFamily::Date => Kind::Date,
            TypeFamily::Time => {
                if t.base == "timetz" {
                    Kind::TimeTz
                } else {
                    Kind::Time
                }
            }
            TypeFamily::Timestamp => Kind::Timestamp,
            TypeFamily::TimestampTz => Kind::TimestampTz,
            TypeFamily::Interval => Kind::Interval,
            TypeFamily::Uuid => Kind::Uuid,
            TypeFamily::Json => {
                if t.base == "jsonb" {
                    Kind::Jsonb
                } else {
                    Kind::Json
                }
            }
            TypeFamily::Other if t.array => return None,
            TypeFamily::Other => match t.base.as_str() {
                "inet" => Kind::Inet { cidr: false },
                "cidr" => Kind::Inet { cidr: true },
                "macaddr" => Kind::MacAddr,
                "point" => Kind::Point,
                "geometry" => Kind::Geometry,
                _ => return None,
            },
        })
    }
}

/// Whether the copy engine can write columns of type `t` (it has a binary encoder for it).
pub fn writable(t: &TargetType) -> bool {
    Kind::of(t).is_some()
}

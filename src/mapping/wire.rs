//! PostgreSQL's binary wire types as decant writes and reads them: which target types have an
//! encoder, what each field is built from, and the epochs binary times count from. The copy
//! engine encodes with it, the checksums read back with it, resolution asks it.

pub(crate) use crate::convert::binary::Kind;
pub use crate::convert::binary::{PG_EPOCH_DAYS, PG_EPOCH_MICROS};
use crate::engines::postgres::{TargetType, TypeFamily};

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

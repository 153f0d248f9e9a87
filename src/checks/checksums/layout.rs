//! The table's layout: each column's type as the comparison treats it, the key, and how the
//! two sides are compared (in key order, by key hash, or as multisets).

use crate::mapping::target_types::TypeFamily;
use crate::mapping::TargetType;
use crate::resolve::ResolvedTable;

/// A target column's type as the comparison treats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ty {
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    Bool,
    Text,
    /// `char(n)`: PostgreSQL pads with blanks, which carry no meaning.
    Bpchar,
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
    Inet,
    Cidr,
    MacAddr,
    Point,
    Other,
}

impl Ty {
    fn of(t: &TargetType) -> Ty {
        match t.family() {
            TypeFamily::Integer => match t.base.as_str() {
                "smallint" => Ty::Int2,
                "integer" => Ty::Int4,
                _ => Ty::Int8,
            },
            TypeFamily::Float if t.base == "real" => Ty::Float4,
            TypeFamily::Float => Ty::Float8,
            TypeFamily::Numeric => Ty::Numeric,
            TypeFamily::Boolean => Ty::Bool,
            TypeFamily::Text if t.base == "char" => Ty::Bpchar,
            TypeFamily::Text => Ty::Text,
            TypeFamily::Bytes => Ty::Bytea,
            TypeFamily::Date => Ty::Date,
            TypeFamily::Time if t.base == "timetz" => Ty::TimeTz,
            TypeFamily::Time => Ty::Time,
            TypeFamily::Timestamp => Ty::Timestamp,
            TypeFamily::TimestampTz => Ty::TimestampTz,
            TypeFamily::Interval => Ty::Interval,
            TypeFamily::Uuid => Ty::Uuid,
            TypeFamily::Json if t.base == "jsonb" => Ty::Jsonb,
            TypeFamily::Json => Ty::Json,
            // An enum's binary form is its label: compared as text.
            TypeFamily::Enum => Ty::Text,
            TypeFamily::Other if t.array => Ty::Other,
            TypeFamily::Other => match t.base.as_str() {
                "inet" => Ty::Inet,
                "cidr" => Ty::Cidr,
                "macaddr" => Ty::MacAddr,
                "point" => Ty::Point,
                _ => Ty::Other,
            },
        }
    }

    /// Whether equal values may have different binary forms.
    fn normalised(self) -> bool {
        matches!(self, Ty::Numeric | Ty::Bpchar | Ty::Json | Ty::Jsonb)
    }

    /// How a key of this type sorts in both engines, if it does the same way.
    pub(super) fn key_order(self) -> Option<KeyOrder> {
        match self {
            Ty::Int2
            | Ty::Int4
            | Ty::Int8
            | Ty::Date
            | Ty::Time
            | Ty::Timestamp
            | Ty::TimestampTz => Some(KeyOrder::Integer),
            Ty::Text | Ty::Bpchar => Some(KeyOrder::Text),
            Ty::Bytea | Ty::Uuid | Ty::Bool => Some(KeyOrder::Bytes),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyOrder {
    /// A signed integer (also dates, times and timestamps): numeric order.
    Integer,
    /// Text in byte order (`COLLATE "C"` in PostgreSQL, `BINARY` in SQLite).
    Text,
    /// Bytes in byte order.
    Bytes,
}

/// How a table is compared.
#[derive(Debug, Clone)]
pub(super) enum Mode {
    /// Both sides read in key order and compared range by range.
    Ordered,
    /// Matched by key hash in memory, with the reason.
    Hashed(String),
    /// Compared as multisets of row hashes, with the reason.
    Multiset(String),
}

pub(super) struct Col {
    pub(super) source: String,
    pub(super) target: String,
    pub(super) ty: Ty,
    /// Whether the key is carried as it is (no transform, an integer or text type).
    plain: bool,
}

pub(super) struct Layout {
    pub(super) table: String,
    pub(super) columns: Vec<Col>,
    /// The key columns, as indexes into `columns`, in the source key's order.
    pub(super) key: Vec<usize>,
    /// Any column whose binary form needs normalising.
    pub(super) normalise: bool,
    pub(super) mode: Mode,
}

impl Layout {
    pub(super) fn new(table: &ResolvedTable) -> Layout {
        let columns: Vec<Col> = table
            .copied_columns()
            .map(|c| Col {
                source: c.source.clone(),
                target: c.target.clone(),
                ty: Ty::of(&c.target_type),
                plain: c.transform.is_none(),
            })
            .collect();
        let normalise = columns.iter().any(|c| c.ty.normalised());
        let mut key = Vec::new();
        let mut mode = Mode::Ordered;
        if table.key_columns.is_empty() {
            mode = Mode::Multiset("the table has no primary key".to_owned());
        }
        for name in &table.key_columns {
            match columns
                .iter()
                .position(|c| c.source.eq_ignore_ascii_case(name))
            {
                Some(i) => key.push(i),
                None => {
                    mode = Mode::Multiset(format!("key column `{name}` is not copied"));
                    key.clear();
                    break;
                }
            }
        }
        if matches!(mode, Mode::Ordered) {
            if let Some(&i) = key.iter().find(|&&i| columns[i].ty.key_order().is_none()) {
                mode = Mode::Hashed(format!(
                    "key column `{}` has a type whose order is not compared",
                    columns[i].source
                ));
            }
        }
        Layout {
            table: table.source.clone(),
            columns,
            key,
            normalise,
            mode,
        }
    }

    /// The single integer key carried as it is, for value-range windows.
    pub(super) fn integer_key(&self) -> Option<&Col> {
        match self.key.as_slice() {
            [i] => {
                let c = &self.columns[*i];
                (c.plain && matches!(c.ty, Ty::Int2 | Ty::Int4 | Ty::Int8)).then_some(c)
            }
            _ => None,
        }
    }
}

//! The table's layout: each column's type as the comparison treats it, the key, and how the
//! two sides are compared (in key order, by key hash, or as multisets).

use crate::engines::postgres::TargetType;
use crate::mapping::wire::Kind;
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
    /// What the copy engine writes for `t` ([`Kind`]), as the comparison reads it back.
    fn of(t: &TargetType) -> Ty {
        match Kind::of(t) {
            Some(Kind::Int2) => Ty::Int2,
            Some(Kind::Int4) => Ty::Int4,
            Some(Kind::Int8) => Ty::Int8,
            Some(Kind::Float4) => Ty::Float4,
            Some(Kind::Float8) => Ty::Float8,
            Some(Kind::Numeric(_)) => Ty::Numeric,
            Some(Kind::Bool) => Ty::Bool,
            Some(Kind::Text { .. }) if t.base == "char" => Ty::Bpchar,
            // An enum's binary form is its label: compared as text.
            Some(Kind::Text { .. } | Kind::Enum) => Ty::Text,
            // EWKB both ways: what the copy wrote is what PostGIS sends back.
            Some(Kind::Bytea | Kind::Geometry) => Ty::Bytea,
            Some(Kind::Date) => Ty::Date,
            Some(Kind::Time) => Ty::Time,
            Some(Kind::TimeTz) => Ty::TimeTz,
            Some(Kind::Timestamp) => Ty::Timestamp,
            Some(Kind::TimestampTz) => Ty::TimestampTz,
            Some(Kind::Interval) => Ty::Interval,
            Some(Kind::Uuid) => Ty::Uuid,
            Some(Kind::Json) => Ty::Json,
            Some(Kind::Jsonb) => Ty::Jsonb,
            Some(Kind::Inet { cidr: false }) => Ty::Inet,
            Some(Kind::Inet { cidr: true }) => Ty::Cidr,
            Some(Kind::MacAddr) => Ty::MacAddr,
            Some(Kind::Point) => Ty::Point,
            Some(Kind::Array { .. }) | None => Ty::Other,
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

impl Col {
    fn plain_integer(&self) -> bool {
        self.plain && matches!(self.ty, Ty::Int2 | Ty::Int4 | Ty::Int8)
    }
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
            [i] => Some(&self.columns[*i]).filter(|c| c.plain_integer()),
            _ => None,
        }
    }

    /// The key column that key ranges (a sync's changed windows) bound: the first one, when
    /// it is an integer carried as it is; the whole key when it is the only one.
    pub(super) fn range_key(&self) -> Option<&Col> {
        self.key
            .first()
            .map(|&i| &self.columns[i])
            .filter(|c| c.plain_integer())
    }

    /// The key columns with their positions, when every one is an integer carried as it is:
    /// both engines order such a key the same way, so a read may be paged by it.
    pub(super) fn integer_keys(&self) -> Option<Vec<(&Col, usize)>> {
        if self.key.is_empty() {
            return None;
        }
        self.key
            .iter()
            .map(|&i| Some((&self.columns[i], i)).filter(|(c, _)| c.plain_integer()))
            .collect()
    }
}

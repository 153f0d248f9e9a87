//! What introspection found in a source database: tables, columns, keys, indexes, views.
//! Plain data, engine-neutral, serialisable so `decant plan --format json` can show it.

use serde::Serialize;

/// Everything decant knows about one source database.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Catalog {
    /// The engine the source runs on; it picks the route (type mapping, SQL dialect).
    pub engine: Engine,
    /// Tables in the order the source lists them (`sqlite_*` internals excluded).
    pub tables: Vec<Table>,
    /// Views: reported, never silently dropped.
    pub views: Vec<View>,
    /// Triggers: reported, never silently dropped.
    pub triggers: Vec<Trigger>,
    /// What introspection found but the catalog cannot carry (a prefix or fulltext index).
    pub notes: Vec<String>,
}

/// A source engine decant reads; what the rest of the code may ask it is answered in
/// `crate::engines` (its dialect, whether it has a rowid, …).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    #[default]
    Sqlite,
    /// MySQL or MariaDB.
    Mysql,
    /// PostgreSQL (a PostgreSQL → PostgreSQL move).
    Postgres,
}

impl Catalog {
    /// The table with exactly this name.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

/// One source table.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// The primary key columns in key order; empty when the table has none.
    pub primary_key: Vec<String>,
    /// The column that aliases the rowid (`INTEGER PRIMARY KEY`), if any.
    pub rowid_alias: Option<String>,
    /// `AUTOINCREMENT` on the rowid alias, with the `sqlite_sequence` value.
    pub autoincrement: Option<AutoIncrement>,
    /// Declared `WITHOUT ROWID`.
    pub without_rowid: bool,
    /// UNIQUE constraints (from the table definition, not from `CREATE UNIQUE INDEX`).
    pub uniques: Vec<UniqueConstraint>,
    /// Indexes created with `CREATE INDEX` (not those backing PRIMARY KEY/UNIQUE constraints).
    pub indexes: Vec<Index>,
    pub foreign_keys: Vec<ForeignKey>,
    pub checks: Vec<CheckConstraint>,
    /// `count(*)` at introspection time.
    pub row_count: u64,
    /// The `CREATE TABLE` statement as the source stores it.
    pub sql: String,
}

impl Table {
    /// The column with exactly this name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// One source column.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Column {
    pub name: String,
    /// The declared type as written (`""` when none was declared).
    pub declared_type: String,
    pub not_null: bool,
    /// The default expression as written in the source, e.g. `CURRENT_TIMESTAMP`, `'draft'`.
    pub default: Option<String>,
    /// Position in the primary key, 1-based; 0 when not part of it.
    pub primary_key_position: u32,
    /// The generated-column expression, if the column is generated.
    pub generated: Option<Generated>,
    /// A declared `COLLATE` other than BINARY, e.g. `NOCASE`.
    pub collation: Option<String>,
    /// What the values actually are; filled by profiling.
    pub profile: Option<ColumnProfile>,
}

/// A generated column's definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Generated {
    pub expression: String,
    /// `STORED` (true) or `VIRTUAL` (false).
    pub stored: bool,
}

/// AUTOINCREMENT on a rowid alias.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AutoIncrement {
    pub column: String,
    /// The value in `sqlite_sequence`: the next id continues after it, not after max(id).
    pub sequence_value: Option<i64>,
}

/// A UNIQUE constraint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UniqueConstraint {
    pub name: Option<String>,
    pub columns: Vec<String>,
}

/// A `CREATE INDEX`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Index {
    pub name: String,
    pub unique: bool,
    pub parts: Vec<IndexPart>,
    /// The partial-index `WHERE` predicate, in SQLite SQL.
    pub predicate: Option<String>,
    /// The `CREATE INDEX` statement as stored.
    pub sql: String,
    /// `spatial` for MySQL's SPATIAL (R-tree) index; `None` for an ordinary (B-tree) one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

/// One key part of an index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexPart {
    pub key: IndexKey,
    pub descending: bool,
    /// A `COLLATE` other than BINARY.
    pub collation: Option<String>,
}

/// A column or an expression.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexKey {
    Column(String),
    Expression(String),
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub referenced_table: String,
    /// Empty means the referenced table's primary key.
    pub referenced_columns: Vec<String>,
    /// `NO ACTION`, `CASCADE`, `SET NULL`, `SET DEFAULT`, `RESTRICT`.
    pub on_update: String,
    pub on_delete: String,
    /// Declared `DEFERRABLE` (not `NOT DEFERRABLE`).
    pub deferrable: bool,
    /// Declared `DEFERRABLE INITIALLY DEFERRED`, the only form SQLite actually defers: the
    /// check runs at commit, so the application may insert children before their parents.
    pub initially_deferred: bool,
}

/// A CHECK constraint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckConstraint {
    pub name: Option<String>,
    /// The expression inside `CHECK (...)`, in SQLite SQL.
    pub expression: String,
}

/// A view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct View {
    pub name: String,
    pub sql: String,
}

/// A trigger.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trigger {
    pub name: String,
    pub table: String,
    pub sql: String,
}

/// What a column's values actually are, by SQLite storage class and by shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ColumnProfile {
    pub rows: u64,
    pub nulls: u64,
    pub integers: u64,
    pub reals: u64,
    pub texts: u64,
    pub blobs: u64,
    pub min_integer: Option<i64>,
    pub max_integer: Option<i64>,
    /// Longest text value in characters.
    pub max_text_length: Option<u64>,
    /// Integers that are 0 or 1.
    pub zero_one_integers: u64,
    /// Reals with a fractional part, or beyond what a 64-bit integer holds.
    pub fractional_reals: u64,
    /// Reals at or beyond ±2^63: how SQLite stores integers too large for 64 bits (counted in
    /// `fractional_reals` too).
    pub huge_reals: u64,
    /// Texts shaped like an IPv4 or IPv6 address (`10.1.0.1`, `fe80::1`), as Django's
    /// GenericIPAddressField stores them in a `char(39)`.
    pub ip_texts: u64,
    /// Texts shaped like an ISO-8601 date or date-time (`2024-01-31`, `2024-01-31 10:00:00`, `...T...Z`).
    pub iso_datetime_texts: u64,
    /// Texts that are a whole integer, e.g. `'42'`.
    pub integer_texts: u64,
    /// Texts that are a number with a fraction, e.g. `'4.20'`.
    pub real_texts: u64,
    /// Texts of 32 hex digits.
    pub hex32_texts: u64,
    /// Texts shaped like a dashed UUID.
    pub uuid_texts: u64,
    /// Texts that are valid JSON objects or arrays.
    pub json_texts: u64,
    /// Texts `t`/`f`/`true`/`false`/`yes`/`no` (any case).
    pub boolean_texts: u64,
    /// Texts that name a float that is not finite: `NaN`, `Infinity`, `-inf` (any case);
    /// counted in no numeric shape, so a bad row in a float column unless the column has
    /// `transform: keep_nan_infinity`.
    pub special_float_texts: u64,
    /// Texts with a time PostgreSQL would change on reading it: more than six digits after
    /// the second, or second 60.
    pub inexact_time_texts: u64,
    /// Date-time texts at hour 24, which PostgreSQL makes midnight of the next day.
    pub day_end_texts: u64,
    /// Values of a type the source enforces that its route's target type cannot hold as they
    /// are (MySQL: zero dates, `tinyint(1)` other than 0/1, …): each would be a bad row.
    pub unfit: u64,
    /// What those values are, as the warning says it: `a zero date (0000-00-00)`.
    pub unfit_kind: Option<String>,
}

impl ColumnProfile {
    /// Values that are not NULL.
    pub fn non_null(&self) -> u64 {
        self.rows - self.nulls
    }

    /// How many storage classes other than NULL occur.
    pub fn storage_classes(&self) -> usize {
        [self.integers, self.reals, self.texts, self.blobs]
            .iter()
            .filter(|n| **n > 0)
            .count()
    }
}

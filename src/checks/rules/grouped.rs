//! Values grouped with their row counts, as `unique:` and `accepted-values:` list what they
//! found: `"admin" (3 row(s)), "x" (1 row(s))`.

use diesel::sql_types::{BigInt, Nullable, Text};

use crate::engines::postgres::TypeFamily;
use crate::resolve::ResolvedColumn;

#[derive(diesel::QueryableByName)]
pub(super) struct Group {
    #[diesel(sql_type = Nullable<Text>)]
    pub value: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
    #[diesel(sql_type = BigInt)]
    pub groups: i64,
    #[diesel(sql_type = BigInt)]
    pub rows: i64,
}

/// `"admin" (3 row(s)), "x" (1 row(s))`; numbers bare.
pub(super) fn group_lines(groups: &[Group], column: &ResolvedColumn) -> String {
    let numeric = is_numeric(column);
    groups
        .iter()
        .map(|g| {
            let value = match g.value.as_deref() {
                None => "NULL".to_owned(),
                Some(v) if numeric => v.to_owned(),
                Some(v) => serde_json::Value::from(v).to_string(),
            };
            format!("{value} ({} row(s))", g.n)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A column's value as text, as the plan spells values: `::text` (so booleans are `true`),
/// except for `inet`, whose cast to text adds `/32` to a single address that its output (what
/// `format` prints) leaves out.
pub(super) fn as_printed(col: &str, column: &ResolvedColumn) -> String {
    if column.target_type.base == "inet" && !column.target_type.array {
        format!("format('%s', {col})")
    } else {
        format!("{col}::text")
    }
}

pub(super) fn is_numeric(column: &ResolvedColumn) -> bool {
    matches!(
        column.target_type.family(),
        TypeFamily::Integer | TypeFamily::Float | TypeFamily::Numeric
    )
}

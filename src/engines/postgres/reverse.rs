//! PostgreSQL read back for the way back (`decant sync --reverse`): each target column in the
//! form its inverse starts from, and the SELECT of a table's current rows in that form.

use super::{TargetType, TypeFamily};
use crate::dialect::quote_ident;

/// How a target column's value is read for its inverse mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetRead {
    /// In its own binary form: integers, floats, boolean (0/1), bytea, text types, json(b)
    /// (the document's text), uuid (dashed text).
    AsIs,
    /// A timestamp, timestamptz or interval as whole microseconds (since the Unix epoch in UTC,
    /// or in the interval): every stored form of it is computed from that.
    Micros,
    /// Its text (`numeric`'s exact digits, a date, a time, an enum label).
    Text,
    /// An `inet`: the address alone when it names one host, else `address/bits`.
    Host,
    /// An array (or any other type) as a JSON document: the form a source's text column
    /// holds a list in.
    Json,
}

impl TargetRead {
    /// How a column of `target` is read.
    pub fn of(target: &TargetType) -> TargetRead {
        if target.array {
            return TargetRead::Json;
        }
        match target.family() {
            TypeFamily::Integer
            | TypeFamily::Float
            | TypeFamily::Boolean
            | TypeFamily::Text
            | TypeFamily::Bytes
            | TypeFamily::Uuid
            | TypeFamily::Json => TargetRead::AsIs,
            TypeFamily::Timestamp | TypeFamily::TimestampTz | TypeFamily::Interval => {
                TargetRead::Micros
            }
            TypeFamily::Numeric | TypeFamily::Date | TypeFamily::Time | TypeFamily::Enum => {
                TargetRead::Text
            }
            TypeFamily::Other if target.base == "inet" => TargetRead::Host,
            TypeFamily::Other => TargetRead::Text,
        }
    }

    /// The SELECT expression reading `column` (unquoted) this way.
    fn expression(self, column: &str) -> String {
        let c = quote_ident(column);
        match self {
            TargetRead::AsIs => c,
            // Exact: epoch of a timestamp is whole microseconds apart from rounding that
            // numeric arithmetic avoids.
            TargetRead::Micros => format!("(extract(epoch FROM {c}) * 1000000)::bigint"),
            TargetRead::Text => format!("{c}::text"),
            TargetRead::Host => format!(
                "CASE WHEN masklen({c}) = CASE family({c}) WHEN 4 THEN 32 ELSE 128 END \
                 THEN host({c}) ELSE {c}::text END"
            ),
            TargetRead::Json => format!("to_jsonb({c})::text"),
        }
    }
}

/// The SELECT of every row of `schema.table` with `columns` (target name, how it is read), in
/// the order of `keys` (target names).
pub fn select_current_rows(
    schema: &str,
    table: &str,
    columns: &[(String, TargetRead)],
    keys: &[String],
) -> String {
    let list: Vec<String> = columns
        .iter()
        .map(|(name, read)| format!("{} AS {}", read.expression(name), quote_ident(name)))
        .collect();
    let order: Vec<String> = keys.iter().map(|k| quote_ident(k)).collect();
    let mut sql = format!(
        "SELECT {} FROM {}.{}",
        list.join(", "),
        quote_ident(schema),
        quote_ident(table)
    );
    if !order.is_empty() {
        sql.push_str(&format!(" ORDER BY {}", order.join(", ")));
    }
    sql
}

/// The next page of [`select_current_rows`] for a table named by one integer `key` (target
/// name): at most `limit` rows after the key `after`, in key order. A big result read in one
/// query comes row by row (libpq's single-row mode, slow per row); pages come whole.
pub fn select_page(
    schema: &str,
    table: &str,
    columns: &[(String, TargetRead)],
    key: &str,
    after: Option<i64>,
    limit: usize,
) -> String {
    let all = select_current_rows(schema, table, columns, &[]);
    let key = quote_ident(key);
    let from = after.map_or(String::new(), |k| format!(" WHERE {key} > {k}"));
    format!("{all}{from} ORDER BY {key} LIMIT {limit}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::postgres::parse_target_type;

    #[test]
    fn each_family_is_read_in_the_form_its_inverse_starts_from() {
        let read = |t: &str| TargetRead::of(&parse_target_type(t).unwrap());
        assert_eq!(read("timestamptz"), TargetRead::Micros);
        assert_eq!(read("interval"), TargetRead::Micros);
        assert_eq!(read("numeric(8,2)"), TargetRead::Text);
        assert_eq!(read("varchar(30)[]"), TargetRead::Json);
        assert_eq!(read("inet"), TargetRead::Host);
        assert_eq!(read("jsonb"), TargetRead::AsIs);
        let sql = select_current_rows(
            "public",
            "t",
            &[
                ("id".into(), TargetRead::AsIs),
                ("at".into(), TargetRead::Micros),
            ],
            &["id".into()],
        );
        assert_eq!(
            sql,
            "SELECT \"id\" AS \"id\", (extract(epoch FROM \"at\") * 1000000)::bigint AS \"at\" FROM \"public\".\"t\" ORDER BY \"id\""
        );
    }
}

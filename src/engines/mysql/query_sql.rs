//! MySQL's own words in the queries the layers above build: byte comparison and order (its
//! text compares and sorts under the column's collation, often `_ci`), a row named by its key.

/// `left = right` decided by bytes for `text`, after the plain equality that lets the
/// parent's key index serve.
pub fn byte_equality(left: &str, right: &str, text: bool) -> String {
    if text {
        format!("{left} = {right} AND BINARY {left} = {right}")
    } else {
        format!("{left} = {right}")
    }
}

/// An `ORDER BY` term sorting `column` by its bytes.
pub fn byte_order(column: &str) -> String {
    format!("BINARY {column}")
}

/// A JSON object of `(name, expression)` pairs (each column holds its declared type, and
/// `JSON_OBJECT` writes it as it is); a table without a key has no rowid: an empty object.
pub fn row_key_json(key: &[(String, String)]) -> String {
    let pairs: Vec<String> = key
        .iter()
        .map(|(name, column_sql)| format!("{}, {column_sql}", crate::dialect::quote_literal(name)))
        .collect();
    format!("JSON_OBJECT({})", pairs.join(", "))
}

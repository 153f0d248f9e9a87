//! SQLite's own words in the queries the layers above build: byte comparison and order, a
//! value JSON can hold, a row named by its key (or rowid), and the page map.

/// `left = right` decided by bytes (the `BINARY` collation).
pub fn byte_equality(left: &str, right: &str) -> String {
    format!("{left} = {right} COLLATE BINARY")
}

/// An `ORDER BY` term sorting the SELECT's column `position` (1-based) by its bytes.
pub fn byte_order(position: usize) -> String {
    format!("{position} COLLATE BINARY")
}

/// `column_sql` as JSON can hold it: blobs become `x'…'` text.
pub fn json_value(column_sql: &str) -> String {
    format!("CASE WHEN typeof({column_sql}) = 'blob' THEN 'x''' || hex({column_sql}) || '''' ELSE {column_sql} END")
}

/// A JSON object of `(name, expression)` pairs; without any, the row's `rowid`.
pub fn row_key_json(table_sql: &str, key: &[(String, String)]) -> String {
    if key.is_empty() {
        return format!("json_object('rowid', {table_sql}.rowid)");
    }
    let pairs: Vec<String> = key
        .iter()
        .map(|(name, column_sql)| {
            format!(
                "{}, {}",
                crate::dialect::quote_literal(name),
                json_value(column_sql)
            )
        })
        .collect();
    format!("json_object({})", pairs.join(", "))
}

/// Maps up to `bytes` of the database file into memory for the transactions begun after it.
pub fn map_pages(bytes: u64) -> String {
    format!("PRAGMA mmap_size = {bytes}")
}

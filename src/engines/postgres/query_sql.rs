//! PostgreSQL's own words in the queries the layers above build when it is the source: byte
//! order (`COLLATE "C"`), a row named by its key (`json_build_object`).

/// An `ORDER BY` term sorting `column` by its bytes, whatever the database's collation.
pub fn byte_order(column: &str) -> String {
    format!("{column} COLLATE \"C\"")
}

/// `left = right`: PostgreSQL's default collations are deterministic, so equal is byte-equal.
pub fn byte_equality(left: &str, right: &str) -> String {
    format!("{left} = {right}")
}

/// A JSON object of `(name, expression)` pairs; a table without a key has no rowid (its ctid
/// moves with every update): an empty object.
pub fn row_key_json(key: &[(String, String)]) -> String {
    let pairs: Vec<String> = key
        .iter()
        .map(|(name, column_sql)| format!("{}, {column_sql}", crate::dialect::quote_literal(name)))
        .collect();
    format!("json_build_object({})", pairs.join(", "))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_key_is_named_with_json_build_object_and_sorted_by_bytes() {
        assert_eq!(
            super::row_key_json(&[("id".into(), "\"t\".\"id\"".into())]),
            "json_build_object('id', \"t\".\"id\")"
        );
        assert_eq!(super::byte_order("\"name\""), "\"name\" COLLATE \"C\"");
    }
}

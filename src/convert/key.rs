//! A row's key as a source query writes it (JSON text from the source's own `json_object`),
//! read back: a key that is not JSON is an error naming its table, columns and text.

use serde::de::DeserializeOwned;

/// A key the source gave that does not read back as JSON.
#[derive(Debug, thiserror::Error)]
#[error("table `{table}`: the key of {columns} from the source, `{text}`, is not JSON")]
pub struct BadKey {
    pub table: String,
    /// The key's columns, comma-separated.
    pub columns: String,
    pub text: String,
    #[source]
    pub source: serde_json::Error,
}

/// The key `text` of `table`'s `columns`, read as JSON (an object, an array of values, …).
pub fn parse_key<T: DeserializeOwned>(table: &str, columns: &str, text: &str) -> Result<T, BadKey> {
    serde_json::from_str(text).map_err(|source| BadKey {
        table: table.to_owned(),
        columns: columns.to_owned(),
        text: text.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_is_not_json_names_its_table_columns_and_text() {
        let key: Result<serde_json::Value, _> = parse_key("orders", "id", "{\"id\": 7}");
        assert_eq!(key.ok(), Some(serde_json::json!({"id": 7})));
        let values: Result<Vec<serde_json::Value>, _> = parse_key("orders", "a, b", "[1,\"x\"]");
        assert_eq!(
            values.ok(),
            Some(vec![serde_json::json!(1), serde_json::json!("x")])
        );
        let err = parse_key::<serde_json::Value>("orders", "customer_id", "{\"id\": 7")
            .expect_err("truncated JSON");
        let message = err.to_string();
        assert!(message.contains("`orders`"), "{message}");
        assert!(message.contains("customer_id"), "{message}");
        assert!(message.contains("`{\"id\": 7`"), "{message}");
        assert!(std::error::Error::source(&err).is_some());
    }
}

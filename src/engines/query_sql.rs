//! What the source's SQL says differently from one engine to the next, for the queries the
//! layers above build (orphan searches, the comparison's reads, the checks' page map): asked
//! of the engine, each engine's text in its folder (`<engine>/query_sql.rs`).

use super::{mysql, postgres, sqlite, SourceConnection};
use crate::catalog::Engine;

impl Engine {
    /// `left = right`, decided by bytes (`text`: the columns hold text).
    pub fn byte_equality(self, left: &str, right: &str, text: bool) -> String {
        match self {
            Engine::Sqlite => sqlite::query_sql::byte_equality(left, right),
            Engine::Mysql => mysql::query_sql::byte_equality(left, right, text),
            Engine::Postgres => postgres::query_sql::byte_equality(left, right),
        }
    }

    /// An `ORDER BY` term sorting the SELECT's column `position` (1-based), named `column`
    /// (quoted), by its bytes.
    pub fn byte_order(self, position: usize, column: &str) -> String {
        match self {
            Engine::Sqlite => sqlite::query_sql::byte_order(position),
            Engine::Mysql => mysql::query_sql::byte_order(column),
            Engine::Postgres => postgres::query_sql::byte_order(column),
        }
    }

    /// An expression JSON can hold for `column_sql`.
    pub fn json_value(self, column_sql: &str) -> String {
        match self {
            Engine::Sqlite => sqlite::query_sql::json_value(column_sql),
            // Each column holds its declared type: the JSON builders write each as it is.
            Engine::Mysql | Engine::Postgres => column_sql.to_owned(),
        }
    }

    /// A JSON object naming a row of `table_sql` by its key, given as `(name, column
    /// expression)` pairs; without key columns, what the engine names a row by (SQLite's
    /// rowid; nothing for MySQL).
    pub fn row_key_json(self, table_sql: &str, key: &[(String, String)]) -> String {
        match self {
            Engine::Sqlite => sqlite::query_sql::row_key_json(table_sql, key),
            Engine::Mysql => mysql::query_sql::row_key_json(key),
            Engine::Postgres => postgres::query_sql::row_key_json(key),
        }
    }

    /// A JSON array of the expressions `values`.
    pub fn json_array(self, values: &[String]) -> String {
        match self {
            Engine::Sqlite | Engine::Mysql => format!("json_array({})", values.join(", ")),
            Engine::Postgres => format!("json_build_array({})", values.join(", ")),
        }
    }

    /// Whether one SELECT joining many key ranges from a list reads well: MariaDB plans such a
    /// join as a block nested loop (the table scanned once per range), so its ranges go in
    /// SELECTs of a few dozen each.
    pub fn joins_many_ranges(self) -> bool {
        match self {
            Engine::Sqlite | Engine::Postgres => true,
            Engine::Mysql => false,
        }
    }
}

impl SourceConnection {
    /// Maps up to `bytes` of the database file into memory for reads (0: off), where the
    /// engine has such a setting (SQLite); nothing elsewhere. Takes effect for transactions
    /// begun after it.
    pub fn map_pages(&mut self, bytes: u64) -> diesel::QueryResult<()> {
        match self.engine() {
            Engine::Sqlite => self.batch_execute(&sqlite::query_sql::map_pages(bytes)),
            Engine::Mysql | Engine::Postgres => Ok(()),
        }
    }
}

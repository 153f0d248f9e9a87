//! The type mapping's shared model: what a column becomes and why ([`TypeDecision`]), and the
//! route to each source engine's built-in mapping to PostgreSQL.

use serde::Serialize;

use crate::catalog::{Column, Engine, Table};
use crate::engines::postgres::TargetType;
use crate::engines::{mysql, postgres, sqlite};

/// What a column becomes, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypeDecision {
    pub target: TargetType,
    /// The rule that chose it: `default: DATETIME → timestamptz`, `types[1]`, `columns.users.email`.
    pub rule: String,
    /// A transform chosen with the type (built-in name or minijinja expression).
    pub transform: Option<String>,
    /// Things a reviewer must know: lossy conversions, ambiguous values.
    pub warnings: Vec<String>,
}

/// True when a CHECK on the table makes this text column hold JSON (`json_valid(col)`).
pub fn has_json_valid_check(table: &Table, column: &str) -> bool {
    table.checks.iter().any(|check| {
        let expr = check
            .expression
            .to_lowercase()
            .replace([' ', '"', '`', '[', ']'], "");
        expr.contains(&format!("json_valid({})", column.to_lowercase()))
    })
}

/// The built-in mapping of one column on the route from `engine` to PostgreSQL.
pub fn default_mapping(engine: Engine, table: &Table, column: &Column) -> TypeDecision {
    match engine {
        Engine::Sqlite => sqlite::types::default_mapping(table, column),
        Engine::Mysql => mysql::types::mysql_mapping(table, column),
        Engine::Postgres => postgres::catalog::postgres_mapping(column),
    }
}

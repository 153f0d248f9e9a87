//! From SQLite declarations to PostgreSQL: column types, default expressions, CHECK expressions.
//! Every decision records the rule that made it, so `decant plan` can say why.

pub mod defaults;
pub mod expressions;
pub mod mysql;
pub mod target_types;
pub mod types;
pub mod wire;

pub use target_types::{parse_target_type, TargetType};
pub use types::TypeDecision;

use crate::catalog::{Column, Engine, Table};

/// The built-in mapping of one column on the route from `engine` to PostgreSQL.
pub fn default_mapping(engine: Engine, table: &Table, column: &Column) -> TypeDecision {
    match engine {
        Engine::Sqlite => types::default_mapping(table, column),
        Engine::Mysql => mysql::mysql_mapping(table, column),
    }
}

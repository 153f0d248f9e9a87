//! From SQLite declarations to PostgreSQL: column types, default expressions, CHECK expressions.
//! Every decision records the rule that made it, so `decant plan` can say why.

pub mod defaults;
pub mod expressions;
pub mod target_types;
pub mod types;
pub mod wire;

pub use target_types::{parse_target_type, TargetType};
pub use types::{default_mapping, TypeDecision};

//! PostgreSQL as the target (the bulk loader and read-back stream, the schema an app's migrator
//! made, the type names a plan may ask for) and as a source (its session, catalog and values).

mod bulk;
pub mod catalog;
pub mod introspect;
pub mod pause;
pub mod query_sql;
pub(crate) mod read;
pub mod reverse;
pub mod source;
pub mod types;

pub use bulk::{copy_in, copy_out, copy_target_of, CopyFailure, CopyInto};
pub use types::{parse_target_type, TargetType, TargetTypeError, TypeFamily};

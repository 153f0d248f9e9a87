//! PostgreSQL as the target: the bulk loader and read-back stream (binary COPY), the schema an
//! app's migrator made (read from its catalog), and the type names a plan may ask for.

mod bulk;
pub mod introspect;
pub mod types;

pub use bulk::{copy_in, copy_out, copy_target_of, CopyFailure, CopyInto};
pub use types::{parse_target_type, TargetType, TargetTypeError, TypeFamily};

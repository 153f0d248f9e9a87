//! SQLite as a source: opening a file read-only, introspection (`sqlite_schema`, the pragmas,
//! the stored DDL), value profiling, its values and snapshots, its type mapping to PostgreSQL.

mod ddl;
pub mod defaults;
pub(crate) mod digest;
pub mod expressions;
pub(crate) mod file;
mod introspect;
pub mod pause;
mod profile;
pub mod query_sql;
mod twin;
pub mod types;
mod value;
pub mod writer;

pub use introspect::{
    introspect_sqlite, open_sqlite_read_only, quick_check, use_sqlite_multithread_mode,
};
pub use profile::{profile_catalog, profile_table};

#[cfg(test)]
pub use introspect::open_in_memory;

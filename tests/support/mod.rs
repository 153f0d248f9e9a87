//! Test support: SQLite fixtures built from SQL in temporary directories, and the command
//! runner that invokes the real `decant` binary.

pub mod cli;
pub mod mysql;
pub mod postgres;
pub mod setup;
mod sqlite;

pub use sqlite::sqlite_from_sql;

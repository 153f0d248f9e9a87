//! Test support: SQLite fixtures built from SQL in temporary directories.

mod sqlite;

pub use sqlite::sqlite_from_sql;

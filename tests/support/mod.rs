//! Test support: SQLite fixtures built from SQL in temporary directories.

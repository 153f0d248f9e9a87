//! Introspection of real SQLite files.

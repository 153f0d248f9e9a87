//! SQLite as a source: opening a file read-only, introspection (`sqlite_schema`, the pragmas,
//! the stored DDL), value profiling, its values and snapshots, its type mapping to PostgreSQL.

mod btree;
pub mod changes;
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
mod wal;
pub mod writer;

pub use introspect::{
    introspect_sqlite, open_sqlite_read_only, quick_check, use_sqlite_multithread_mode,
};
pub use profile::{profile_catalog, profile_table};

#[cfg(test)]
pub use introspect::open_in_memory;

#[cfg(test)]
mod count_tests {
    use crate::engines::{sqlite, SourceConnection};

    /// The one row count of `engines/count.rs`, on a SQLite source.
    #[test]
    fn a_count_keeps_to_its_filter_and_a_failed_one_names_its_sql() {
        let mut conn = SourceConnection::Sqlite(sqlite::open_in_memory().unwrap());
        conn.batch_execute("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2), (3);")
            .unwrap();
        assert_eq!(conn.count_rows("\"t\"", None).unwrap(), 3);
        assert_eq!(conn.count_rows("\"t\"", Some("\"n\" > 1")).unwrap(), 2);
        let failed = conn.count_rows("\"missing\"", Some("1 = 1")).unwrap_err();
        assert_eq!(
            failed.sql,
            "SELECT count(*) AS n FROM \"missing\" WHERE 1 = 1"
        );
        assert!(failed.source.to_string().contains("missing"));
    }
}

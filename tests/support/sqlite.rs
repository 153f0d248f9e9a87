//! SQLite source files for tests, built through Diesel like every other database access.

use std::path::PathBuf;

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};

/// A SQLite file made by running `sql`, in a temporary directory that lives as long as the
/// returned guard. The connection is closed before returning, so the file is complete.
pub fn sqlite_from_sql(sql: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("source.sqlite3");
    let url = path.to_str().expect("a UTF-8 temporary path");
    let mut conn = SqliteConnection::establish(url).expect("a new SQLite file");
    if let Err(error) = conn.batch_execute(sql) {
        panic!("fixture SQL failed: {error}\n{sql}");
    }
    drop(conn);
    (dir, path)
}

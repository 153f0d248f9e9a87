//! Two SQLite connections on one snapshot: the twin a sync reads beside the run's own
//! connection, proved to hold the same commit in every journal mode.

use crate::catalog::Engine;
use crate::engines::{SourceConnection, SqlValue};

impl SourceConnection {
    /// A second connection (made by `open`) reading the very rows this one reads, for SQLite;
    /// call it right after [`Self::begin_snapshot`], before this connection reads anything.
    /// This connection's snapshot starts here, with its first read, and the twin's just after:
    /// - in a rollback-journal mode, this connection's shared lock holds every commit back
    ///   until its transaction ends, so nothing can be committed between the two;
    /// - in WAL mode writers commit beside readers, so a third connection reads
    ///   `PRAGMA data_version` before and after: the same value means no other connection
    ///   committed in between, and both snapshots hold the same commit.
    ///
    /// `None` otherwise (a commit came in between, a connection did not open or read, MySQL).
    pub fn begin_twin(
        &mut self,
        open: impl Fn() -> Option<SourceConnection>,
    ) -> Option<SourceConnection> {
        self.begin_twin_after(open, || ())
    }

    /// [`Self::begin_twin`], running `between` after this connection's snapshot starts and
    /// before the twin's: where the tests put an app's commit.
    pub(crate) fn begin_twin_after(
        &mut self,
        open: impl Fn() -> Option<SourceConnection>,
        between: impl FnOnce(),
    ) -> Option<SourceConnection> {
        if self.engine() != Engine::Sqlite {
            return None;
        }
        let mut probe = open()?;
        let before = probe.load_rows("PRAGMA data_version").ok()?;
        self.load_rows("SELECT count(*) FROM sqlite_schema").ok()?;
        let mode = self.load_rows("PRAGMA journal_mode").ok()?;
        let wal = matches!(
            mode.first().and_then(|row| row.first()),
            Some(SqlValue::Text(m)) if m.eq_ignore_ascii_case("wal")
        );
        between();
        let mut twin = open()?;
        twin.begin_snapshot().ok()?;
        twin.load_rows("SELECT count(*) FROM sqlite_schema").ok()?;
        if wal && probe.load_rows("PRAGMA data_version").ok()? != before {
            return None;
        }
        Some(twin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, SqliteConnection};

    #[test]
    fn a_sqlite_twin_reads_the_same_rows_in_every_journal_mode() {
        let dir = tempfile::tempdir().unwrap();
        for mode in ["delete", "truncate", "wal"] {
            let path = dir.path().join(format!("{mode}.sqlite3"));
            let url = path.to_str().unwrap().to_owned();
            let mut writer = SqliteConnection::establish(&url).unwrap();
            writer
                .batch_execute(&format!(
                    "PRAGMA journal_mode = {mode}; CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);"
                ))
                .unwrap();
            let open = || {
                SqliteConnection::establish(&url)
                    .ok()
                    .map(SourceConnection::Sqlite)
            };
            let mut reader = open().unwrap();
            reader.begin_snapshot().unwrap();
            let mut twin = reader.begin_twin(open).expect(mode);
            // A rollback journal holds the commit back while the readers read; WAL takes it,
            // and neither reader sees it.
            let commit = writer.batch_execute("INSERT INTO t VALUES (2)");
            assert_eq!(commit.is_ok(), mode == "wal", "{mode}: {commit:?}");
            for conn in [&mut reader, &mut twin] {
                assert_eq!(
                    conn.integer("SELECT count(*) FROM t").unwrap(),
                    Some(1),
                    "{mode}"
                );
            }
            reader.end_snapshot().unwrap();
            twin.end_snapshot().unwrap();
            // An app's commit between the two snapshots: held back by the first reader's lock
            // in a rollback journal (the twin reads what the reader reads); in WAL mode it
            // goes through, the twin would see one row more, and there is none.
            reader.begin_snapshot().unwrap();
            let mut between = None;
            let twin = reader.begin_twin_after(open, || {
                between = Some(writer.batch_execute("INSERT INTO t VALUES (3)").is_ok());
            });
            assert_eq!(between, Some(mode == "wal"), "{mode}");
            assert_eq!(twin.is_none(), mode == "wal", "{mode}");
            reader.end_snapshot().unwrap();
        }
    }

    #[test]
    fn in_wal_mode_data_version_tells_a_commit_between_two_reads() {
        // What `begin_twin` relies on to tell that no commit came between the snapshots.
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("wal.sqlite3");
        let url = url.to_str().unwrap();
        let mut writer = SqliteConnection::establish(url).unwrap();
        writer
            .batch_execute("PRAGMA journal_mode = wal; CREATE TABLE t (x INTEGER);")
            .unwrap();
        let mut probe = SourceConnection::Sqlite(SqliteConnection::establish(url).unwrap());
        let mut version = || probe.load_rows("PRAGMA data_version").unwrap();
        let first = version();
        assert_eq!(version(), first);
        writer.batch_execute("INSERT INTO t VALUES (1)").unwrap();
        assert_ne!(version(), first);
    }
}

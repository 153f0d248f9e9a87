//! What changed in a source since a mark, when its engine can tell without reading every row
//! (SQLite's WAL, `sqlite/changes.rs`): a sync then digests only the windows holding them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Serialize;

use super::sqlite;
use crate::url::SourceUrl;

/// The rows of one table that may have changed since a mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableChanges {
    /// The rows with these rowids (deleted, inserted or updated ones among them); a rowid
    /// may be one the table never held.
    Rows(BTreeSet<i64>),
    /// Any row: the engine cannot name them (why).
    Whole(String),
}

/// What changed since a mark: the tables not named did not change at all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SourceChanges {
    /// Pages written since the mark.
    pub pages: usize,
    /// By source table name.
    pub tables: BTreeMap<String, TableChanges>,
}

impl SourceChanges {
    /// What changed in `table` (a source table name, matched as SQLite matches names);
    /// `None`: nothing.
    pub fn table(&self, table: &str) -> Option<&TableChanges> {
        self.tables
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(table))
            .map(|(_, c)| c)
    }
}

/// A moment of a source, kept so that later its changes since can be asked for.
pub enum ChangeMark {
    Sqlite(sqlite::changes::Mark),
}

impl ChangeMark {
    /// Takes a mark of the source at `url`, holding its writes for at most `wait` while one
    /// in flight ends (SQLite: the moment it takes to read the WAL). `Err`: why this source
    /// cannot tell its changes (an engine without a way, a SQLite file not in WAL mode).
    pub fn take(url: &SourceUrl, wait: Duration) -> Result<ChangeMark, String> {
        match url {
            SourceUrl::Sqlite(path) => {
                sqlite::changes::take_mark(path, wait).map(ChangeMark::Sqlite)
            }
            SourceUrl::Mysql(_) | SourceUrl::Postgres(_) => {
                Err("this source's engine cannot tell its changed rows".into())
            }
        }
    }

    /// How long the app's writes were held while the mark was taken.
    pub fn held(&self) -> Duration {
        match self {
            ChangeMark::Sqlite(m) => m.held,
        }
    }

    /// The rows that may have changed since the mark; to be asked while the source's writes
    /// are paused. `Err`: why it cannot tell (the caller reads every row instead).
    pub fn changes(self) -> Result<SourceChanges, String> {
        match self {
            ChangeMark::Sqlite(m) => sqlite::changes::changes_since(m),
        }
    }
}

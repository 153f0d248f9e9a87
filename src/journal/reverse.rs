//! The way back's journal: a sidecar file beside the SQLite file it describes
//! (`<file>.decant-reverse.json`), one record per reverse sync, settled by the file's own rows.
//!
//! Why a sidecar and not a `decant_*` table in the file: the app owns the file's schema, and
//! its migrator may refuse a table it did not make (Prisma reports drift; Django's `inspectdb`
//! and dump tools list it). The file stays exactly the app's.
//!
//! Exactly once, although the sidecar and the file commit apart: before the data transaction
//! commits, its record is written as `applying`, with what every planned table's rows will sum
//! to once it has ([`ReverseRecord::after`]); after the commit it is marked `applied`. A kill
//! between the two leaves `applying`: the next reverse sync reads the file's rows anyway, and
//! settles the record by them — `applied` when the file holds those sums (the commit happened),
//! `rolled_back` otherwise — before it records itself. A kill before the record is written
//! leaves no record and no change. So each sync that changed the file is recorded once, as
//! applied, and each that did not is not recorded as applied.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where a reverse sync stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReverseState {
    /// Written just before the commit; settled by the next reverse sync if it stays so.
    Applying,
    Applied,
    /// Killed before its commit: nothing of it is in the file.
    RolledBack,
}

/// One reverse sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReverseRecord {
    pub id: u64,
    /// The forward run whose target the rows came from.
    pub run_id: i64,
    /// When it started (UTC, RFC 3339).
    pub started_at: String,
    pub state: ReverseState,
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    pub rejected: u64,
    pub seconds: f64,
    /// Per planned table (source name), the wrapping sum of its rows' hashes once this sync
    /// has committed, as 16 hex digits.
    pub after: BTreeMap<String, String>,
}

/// Every reverse sync into one file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReverseJournal {
    pub syncs: Vec<ReverseRecord>,
}

/// Why the sidecar could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SidecarError {
    #[error("cannot read the way back's journal `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the way back's journal `{}` is not decant's: {source}", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot write the way back's journal `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The sidecar journal of the SQLite file at `file`.
pub fn sidecar_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".decant-reverse.json");
    file.with_file_name(name)
}

impl ReverseJournal {
    /// The journal at `path`; empty when there is none yet.
    pub fn read(path: &Path) -> Result<ReverseJournal, SidecarError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| SidecarError::Parse {
                path: path.to_path_buf(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ReverseJournal::default()),
            Err(source) => Err(SidecarError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Replaces the journal at `path` whole: written beside it, flushed to disk, renamed
    /// over it, so a kill leaves the old journal or the new one, never half of one.
    pub fn write(&self, path: &Path) -> Result<(), SidecarError> {
        let failed = |source| SidecarError::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut next = path.as_os_str().to_os_string();
        next.push(".next");
        let next = PathBuf::from(next);
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(std::io::Error::other)
            .map_err(failed)?;
        let mut file = std::fs::File::create(&next).map_err(failed)?;
        file.write_all(&bytes).map_err(failed)?;
        file.sync_all().map_err(failed)?;
        drop(file);
        std::fs::rename(&next, path).map_err(failed)?;
        // The rename itself is durable once the folder is.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }

    /// The next sync's id.
    pub fn next_id(&self) -> u64 {
        self.syncs.iter().map(|s| s.id).max().unwrap_or(0) + 1
    }

    /// Settles a record left `applying` by a kill, by the sums the file's tables have `now`:
    /// returns the settled record's id and state.
    pub fn settle(&mut self, now: &BTreeMap<String, String>) -> Option<(u64, ReverseState)> {
        let last = self.syncs.last_mut()?;
        if last.state != ReverseState::Applying {
            return None;
        }
        let committed = last
            .after
            .iter()
            .all(|(table, sum)| now.get(table) == Some(sum));
        last.state = if committed {
            ReverseState::Applied
        } else {
            ReverseState::RolledBack
        };
        Some((last.id, last.state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(state: ReverseState, after: &[(&str, &str)]) -> ReverseRecord {
        ReverseRecord {
            id: 1,
            run_id: 1,
            started_at: String::new(),
            state,
            inserted: 1,
            updated: 0,
            deleted: 0,
            rejected: 0,
            seconds: 0.0,
            after: after
                .iter()
                .map(|(t, s)| ((*t).to_owned(), (*s).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn a_record_left_applying_is_settled_by_what_the_file_holds() {
        let now: BTreeMap<String, String> = [("a".to_owned(), "01".to_owned())].into();
        let mut committed = ReverseJournal {
            syncs: vec![record(ReverseState::Applying, &[("a", "01")])],
        };
        assert_eq!(committed.settle(&now), Some((1, ReverseState::Applied)));
        let mut killed = ReverseJournal {
            syncs: vec![record(ReverseState::Applying, &[("a", "02")])],
        };
        assert_eq!(killed.settle(&now), Some((1, ReverseState::RolledBack)));
        // Settled once: an applied record stays as it is.
        assert_eq!(committed.settle(&BTreeMap::new()), None);
    }

    #[test]
    fn the_journal_is_replaced_whole_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = sidecar_path(&dir.path().join("app.sqlite3"));
        assert!(path.ends_with("app.sqlite3.decant-reverse.json"));
        assert_eq!(
            ReverseJournal::read(&path).unwrap(),
            ReverseJournal::default()
        );
        let journal = ReverseJournal {
            syncs: vec![record(ReverseState::Applied, &[("a", "01")])],
        };
        journal.write(&path).unwrap();
        assert_eq!(ReverseJournal::read(&path).unwrap(), journal);
        assert_eq!(journal.next_id(), 2);
    }
}

//! The source side of a run: the one consistent snapshot every load and the end-of-run checks
//! read (with a server's parallel readers on it), its row counts, and where rejects go.

use std::collections::HashMap;
use std::sync::Mutex;

use super::errors::RunError;
use crate::copy::{self, CopyError, JsonLinesRejects, Reject, RejectSink};
use crate::engines::mysql::count_tables;
use crate::engines::open_source;
use crate::engines::SourceConnection;
use crate::prepare::{Prepared, SourceCounts};
use crate::url::SourceUrl;

/// Rejects go to the JSON-lines file as they happen and to `decant.decant_rejects` after the COPY.
pub(super) struct RunRejects {
    pub(super) file: JsonLinesRejects,
    pub(super) pending: Vec<Reject>,
}

impl RejectSink for RunRejects {
    fn reject(&mut self, r: Reject) -> Result<(), CopyError> {
        self.file.reject(r.clone())?;
        self.pending.push(r);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), CopyError> {
        self.file.flush()
    }
}

/// A second connection for the orphan search: a server searches two foreign keys at once on
/// two connections; SQLite's reads in one process only get in each other's way.
pub(super) fn another_source(url: &SourceUrl) -> Option<SourceConnection> {
    url.engine()
        .reads_side_by_side()
        .then(|| open_source(url).ok())
        .flatten()
}

/// For a server source (MySQL, PostgreSQL) with a table big enough to be read in key ranges: a
/// connection to hold MySQL's commits back while the snapshots start (PostgreSQL's readers
/// adopt an exported snapshot instead), and `workers - 1` more readers. With estimated
/// counts a table half as big is enough: InnoDB's estimates can be well off, and a reader
/// too many costs only a connection.
pub(super) fn parallel_readers(
    prepared: &Prepared,
    url: &SourceUrl,
) -> Option<(SourceConnection, Vec<SourceConnection>)> {
    let enough = match prepared.source_counts {
        SourceCounts::Estimated => copy::PARALLEL_READ_ROWS / 2,
        SourceCounts::Introspected | SourceCounts::InSnapshot => copy::PARALLEL_READ_ROWS,
    };
    let big = prepared
        .resolved
        .tables
        .iter()
        .any(|t| t.key_columns.len() == 1 && t.source_rows >= enough);
    let readers = usize::try_from(prepared.resolved.settings.workers).map_or(1, |w| w.min(8));
    if !url.engine().reads_key_ranges_side_by_side() || !big || readers < 2 {
        return None;
    }
    let control = open_source(url).ok()?;
    let twins = (1..readers)
        .map(|_| open_source(url).ok())
        .collect::<Option<Vec<_>>>()?;
    Some((control, twins))
}

/// The exact rows of every table of the catalog, counted in the snapshot `source` and `twins`
/// read, by all of them at once ([`count_tables`]).
pub(super) fn count_in_snapshot(
    prepared: &Prepared,
    source: &mut SourceConnection,
    twins: &mut [SourceConnection],
) -> Result<HashMap<String, u64>, RunError> {
    let tables = &prepared.catalog.tables;
    let names: Vec<String> = tables.iter().map(|t| t.name.clone()).collect();
    let estimated: Vec<u64> = tables.iter().map(|t| t.row_count).collect();
    let conns = std::iter::once(source).chain(twins.iter_mut()).collect();
    let counts = count_tables(conns, &names, &estimated).map_err(|e| RunError::Source(e.into()))?;
    Ok(names.into_iter().zip(counts).collect())
}

/// The source side of loading: the one snapshot every load and the end-of-run checks read.
pub(super) struct Loader {
    pub(super) source: SourceConnection,
    /// More connections on the same snapshot, reading big tables of a server with `source`.
    pub(super) twins: Vec<SourceConnection>,
    pub(super) rejects: RunRejects,
}

pub(super) fn lock_loader(loader: &Mutex<Loader>) -> std::sync::MutexGuard<'_, Loader> {
    // A lane that panicked mid-load leaves the mutex poisoned; its transaction rolled back,
    // and the source connection is still a valid read transaction.
    loader.lock().unwrap_or_else(|p| p.into_inner())
}

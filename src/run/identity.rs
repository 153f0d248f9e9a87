//! What a run is of: the plan's hash (what would execute) and the source's fingerprint, so
//! `--resume` can refuse when either changed since the interrupted run.

use std::io::Read;

use sha2::{Digest, Sha256};

use crate::catalog::Catalog;
use crate::render::RenderedStep;
use crate::resolve::ResolvedPlan;
use crate::url::SourceUrl;

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A hash of everything the run would do: the resolved plan and every rendered statement.
/// The target URL is not part of it, so a rotated password does not block a resume.
pub fn plan_hash(resolved: &ResolvedPlan, steps: &[RenderedStep]) -> String {
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(resolved).unwrap_or_default());
    h.update(serde_json::to_vec(steps).unwrap_or_default());
    hex(&h.finalize())
}

/// A fingerprint of the source: its schema and row counts, its size, and SQLite's file change
/// counter (header bytes 24..28, bumped by every committed write) and WAL size.
pub fn source_fingerprint(url: &SourceUrl, catalog: &Catalog) -> std::io::Result<String> {
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(catalog).unwrap_or_default());
    let file = match url {
        SourceUrl::Sqlite(file) => file,
        // A server has no file to look at: its schema and exact row counts (in the catalog)
        // stand for its content, with the server and database it is.
        SourceUrl::Mysql(url) | SourceUrl::Postgres(url) => {
            h.update(crate::url::without_password(url).as_bytes());
            return Ok(hex(&h.finalize()));
        }
    };
    let mut header = [0u8; 100];
    let mut f = std::fs::File::open(file)?;
    let read = f.read(&mut header)?;
    h.update(&header[..read.min(100)]);
    h.update(f.metadata()?.len().to_le_bytes());
    let wal = file.with_extension(format!(
        "{}-wal",
        file.extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
    ));
    if let Ok(meta) = std::fs::metadata(&wal) {
        h.update(meta.len().to_le_bytes());
        if let Ok(modified) = meta.modified() {
            h.update(format!("{modified:?}").as_bytes());
        }
    }
    Ok(hex(&h.finalize()))
}

/// [`plan_hash`] without what the source's rows decide: row counts and the warnings profiling
/// wrote. It changes when the plan or the source's schema does, not when rows come and go, so
/// `decant sync` can tell a source that moved on from one that changed shape.
pub fn schema_hash(resolved: &ResolvedPlan, steps: &[RenderedStep], catalog: &Catalog) -> String {
    let mut resolved = resolved.clone();
    for t in &mut resolved.tables {
        t.source_rows = 0;
        if let Some(identity) = &mut t.identity {
            identity.autoincrement_after = None;
        }
        t.warnings.clear();
        for c in &mut t.columns {
            c.warnings.clear();
        }
    }
    let mut catalog = catalog.clone();
    for t in &mut catalog.tables {
        t.row_count = 0;
        if let Some(a) = &mut t.autoincrement {
            a.sequence_value = None;
        }
        for c in &mut t.columns {
            c.profile = None;
        }
    }
    // A sequence step names the source's `sqlite_sequence` value, which moves with inserts.
    let steps: Vec<RenderedStep> = steps
        .iter()
        .cloned()
        .map(|mut s| {
            if matches!(s.kind, crate::graph::StepKind::Sequence { .. }) {
                s.target_sql.clear();
            }
            s
        })
        .collect();
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(&resolved).unwrap_or_default());
    h.update(serde_json::to_vec(&steps).unwrap_or_default());
    h.update(serde_json::to_vec(&catalog).unwrap_or_default());
    hex(&h.finalize())
}

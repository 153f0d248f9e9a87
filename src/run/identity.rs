//! What a run is of: the plan's hash (what would execute) and the source's fingerprint, so
//! `--resume` can refuse when either changed since the interrupted run.

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

/// A fingerprint of the source: its schema and row counts, and what its engine says tells its
/// content changed ([`SourceUrl::fingerprint_into`]: SQLite's file, a server's address).
pub fn source_fingerprint(url: &SourceUrl, catalog: &Catalog) -> std::io::Result<String> {
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(catalog).unwrap_or_default());
    url.fingerprint_into(&mut h)?;
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

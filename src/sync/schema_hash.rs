//! What a sync starts from: the hash of the plan and the source's schema a run records, so a
//! sync can tell a source whose rows moved on from one that changed shape.

use sha2::{Digest, Sha256};

use crate::catalog::Catalog;
use crate::render::RenderedStep;
use crate::resolve::ResolvedPlan;

/// `run::identity::plan_hash` without what the source's rows decide: row counts and the warnings profiling
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
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

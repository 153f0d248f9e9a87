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

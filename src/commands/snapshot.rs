//! `decant snapshot PLAN [--from URL] [-o FILE]`: the app's schema, read from a database its
//! migrator built, written beside the plan so `validate` and `plan` check against it offline.

use std::io::Write;

use anyhow::Context;

use super::{Failure, EXIT_OK};
use crate::cli::SnapshotArgs;
use crate::engines::postgres::introspect::read_target_schema;
use crate::errors::chain;
use crate::journal;
use crate::plan::load_plan;
use crate::url::redact_url;

pub fn run(args: &SnapshotArgs, out: &mut dyn Write, _err: &mut dyn Write) -> Result<u8, Failure> {
    let loaded = load_plan(&args.plan).map_err(Failure::Plan)?;
    let url = args.from.as_deref().unwrap_or(&loaded.plan.target.url);
    let schema = &loaded.plan.target.schema;
    let mut conn = journal::connect(url).map_err(|e| Failure::Other(e.into()))?;
    let mut snapshot = read_target_schema(&mut conn, schema)
        .map_err(|e| Failure::Other(anyhow::anyhow!("{}", chain(&e))))?;
    // decant's own journal lives in its own schema; nothing of it belongs to the app.
    snapshot.tables.retain(|t| !t.name.starts_with("__diesel"));
    if snapshot.tables.is_empty() {
        return Err(Failure::Other(anyhow::anyhow!(
            "schema `{schema}` of {} has no tables: run the app's migrator on that database first",
            redact_url(url)
        )));
    }
    let path = args
        .output
        .clone()
        .unwrap_or_else(|| loaded.snapshot_path());
    let mut text = serde_json::to_string_pretty(&snapshot).context("snapshot")?;
    text.push('\n');
    std::fs::write(&path, text).with_context(|| format!("cannot write `{}`", path.display()))?;
    let columns: usize = snapshot.tables.iter().map(|t| t.columns.len()).sum();
    writeln!(
        out,
        "wrote `{}`: schema `{schema}` of {}, {} table(s), {columns} column(s)",
        path.display(),
        redact_url(url),
        snapshot.tables.len()
    )?;
    Ok(EXIT_OK)
}

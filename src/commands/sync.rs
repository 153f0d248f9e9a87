//! `decant sync PLAN [--dry-run]`: after a completed run, apply the source's inserts, updates
//! and deletes since; print per table what changed and the wall time (a cutover's downtime).

use std::io::Write;

use anyhow::Context;

use super::run::report_location;
use super::{prepare_and_warn, Failure, Profiling, EXIT_CHECKS_FAILED, EXIT_OK, EXIT_USAGE};
use crate::cli::SyncArgs;
use crate::run::sync::{sync, SyncReport};
use crate::signals;
use crate::url::redact_text;

pub fn run(args: &SyncArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Failure> {
    // The sync is one transaction: on a signal the process ends, and the transaction with it.
    signals::install().map_err(|e| Failure::Other(anyhow::anyhow!(e)))?;
    signals::set_hook(Some(Box::new(|signal| {
        signals::say(&format!(
            "\ninterrupted by {}: the sync's transaction is rolled back; nothing was applied, sync again\n",
            signals::name(signal)
        ));
        std::process::exit(signals::exit_code(signal).into());
    })));
    let prepared = prepare_and_warn(&args.plan, Profiling::Needed, err)?;
    let report = match sync(&prepared, &prepared.loaded.plan.target.url, args.dry_run) {
        Ok(report) => report,
        Err(e) => {
            writeln!(err, "error: {}", redact_text(&e.to_string()))?;
            return Ok(EXIT_USAGE);
        }
    };
    write_summary(&report, out)?;
    if !args.dry_run {
        let (dir, stem) = report_location(&prepared, &args.plan, args.report_dir.as_deref())?;
        let path = dir.join(format!("{stem}.sync.report.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(&report).context("report")?)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        writeln!(out, "  report: {}", path.display())?;
    }
    Ok(if report.counts().rejected > 0 {
        EXIT_CHECKS_FAILED
    } else {
        EXIT_OK
    })
}

fn write_summary(report: &SyncReport, out: &mut dyn Write) -> std::io::Result<()> {
    let c = report.counts();
    let verb = if report.dry_run {
        "would apply"
    } else {
        "applied"
    };
    writeln!(
        out,
        "sync after run {} {verb}: {} inserted, {} updated, {} deleted, {} rejected in {:.2}s",
        report.run_id, c.inserted, c.updated, c.deleted, c.rejected, report.seconds
    )?;
    writeln!(
        out,
        "  {:<28} {:>10} {:>10} {:>10} {:>9}  compared",
        "table", "insert", "update", "delete", "rejected"
    )?;
    for t in &report.tables {
        writeln!(
            out,
            "  {:<28} {:>10} {:>10} {:>10} {:>9}  {}{}",
            t.source,
            t.inserted,
            t.updated,
            t.deleted,
            t.rejected,
            match t.compared_ranges {
                None => "whole table".to_owned(),
                Some(1) => "1 key range".to_owned(),
                Some(n) => format!("{n} key ranges"),
            },
            t.note
                .as_deref()
                .map(|n| format!("  ({n})"))
                .unwrap_or_default()
        )?;
    }
    Ok(())
}

//! `decant sync PLAN [--dry-run | --follow | --reverse]`: after a completed run, apply the source's
//! inserts, updates and deletes since; print per table what changed and the wall time; or follow
//! the source; or, the way back, bring the old SQLite file up to the target.

use std::io::Write;

use anyhow::Context;

use super::run::report_location;
use super::{prepare_and_warn, Failure, Profiling, EXIT_CHECKS_FAILED, EXIT_OK, EXIT_USAGE};
use crate::cli::SyncArgs;
use crate::report::sync::write_reverse_summary;
use crate::signals;
use crate::sync::reverse::sync_reverse;
use crate::sync::sync;
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
    if args.reverse {
        return reverse(args, &prepared, out, err);
    }
    if args.follow {
        return follow(args, &prepared, out, err);
    }
    let report = match sync(&prepared, &prepared.loaded.plan.target.url, args.dry_run) {
        Ok(report) => report,
        Err(e) => {
            writeln!(err, "error: {}", redact_text(&crate::errors::chain(&e)))?;
            return Ok(EXIT_USAGE);
        }
    };
    crate::report::sync::write_summary(&report, out)?;
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

/// `--follow`: one sync after another until a signal (or `--until-lag`), each its own journaled
/// transaction; a line per pass. A signal mid-pass ends the process and rolls that pass back,
/// which loses nothing: the next sync (or the cutover's) applies the same changes.
fn follow(
    args: &SyncArgs,
    prepared: &crate::prepare::Prepared,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Failure> {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    let passes = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&passes);
    signals::set_hook(Some(Box::new(move |signal| {
        signals::say(&format!(
            "\nstopped by {} after {} pass(es); a pass in flight was rolled back, the target is as the last pass left it\n",
            signals::name(signal),
            counted.load(Ordering::SeqCst)
        ));
        std::process::exit(0);
    })));
    let (dir, stem) = report_location(prepared, &args.plan, args.report_dir.as_deref())?;
    let path = dir.join(format!("{stem}.sync.report.json"));
    let interval = Duration::from_secs_f64(args.interval.max(0.0));
    loop {
        let started = Instant::now();
        let report = match sync(prepared, &prepared.loaded.plan.target.url, false) {
            Ok(report) => report,
            Err(e) => {
                writeln!(
                    err,
                    "error: pass {}: {}",
                    passes.load(Ordering::SeqCst) + 1,
                    redact_text(&crate::errors::chain(&e))
                )?;
                return Ok(EXIT_USAGE);
            }
        };
        let pass = passes.fetch_add(1, Ordering::SeqCst) + 1;
        // The target now holds the source as this pass saw it when it started.
        let lag = started.elapsed().as_secs_f64();
        let c = report.counts();
        writeln!(
            out,
            "pass {pass}: {} inserted, {} updated, {} deleted, {} rejected; lag {lag:.2}s",
            c.inserted, c.updated, c.deleted, c.rejected
        )?;
        out.flush()?;
        std::fs::write(&path, serde_json::to_vec_pretty(&report).context("report")?)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        if let Some(limit) = args.until_lag {
            if lag <= limit {
                writeln!(
                    out,
                    "caught up after {pass} pass(es): lag {lag:.2}s <= {limit}s; report: {}",
                    path.display()
                )?;
                return Ok(if c.rejected > 0 {
                    EXIT_CHECKS_FAILED
                } else {
                    EXIT_OK
                });
            }
        }
        if let Some(rest) = interval.checked_sub(started.elapsed()) {
            std::thread::sleep(rest);
        }
    }
}

/// `--reverse`: the old SQLite file brought up to the target; the rows it cannot hold are
/// listed (table, key, column, value, reason) and make the exit code 1.
fn reverse(
    args: &SyncArgs,
    prepared: &crate::prepare::Prepared,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Failure> {
    let report = match sync_reverse(prepared, &prepared.loaded.plan.target.url, args.dry_run) {
        Ok(report) => report,
        Err(e) => {
            writeln!(err, "error: {}", redact_text(&crate::errors::chain(&e)))?;
            return Ok(EXIT_USAGE);
        }
    };
    write_reverse_summary(&report, out)?;
    if !args.dry_run {
        let (dir, stem) = report_location(prepared, &args.plan, args.report_dir.as_deref())?;
        let path = dir.join(format!("{stem}.reverse-sync.report.json"));
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

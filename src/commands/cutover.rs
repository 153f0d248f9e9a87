//! `decant cutover PLAN [--app-stopped]`: the switch as one measured window; prints each stage,
//! the exact write pause, and writes `<plan>.cutover.report.json` and `.md`.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;

use super::run::report_location;
use super::{prepare_and_warn, Failure, Profiling, EXIT_CHECKS_FAILED, EXIT_OK, EXIT_USAGE};
use crate::checks::CheckStatus;
use crate::cli::CutoverArgs;
use crate::run::cutover::{cutover, CutoverOptions};
use crate::signals;

pub fn run(args: &CutoverArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Failure> {
    if args.reverse {
        return super::cutover_reverse::run(args, out, err);
    }
    end_on_signal(
        "the pause ends with this process, the source was never written, and the target is as the last committed sync left it; the app stays on the source",
    )?;
    let prepared = prepare_and_warn(&args.plan, Profiling::Needed, err)?;
    let (dir, stem) = report_location(&prepared, &args.plan, args.report_dir.as_deref())?;
    let options = CutoverOptions {
        checksums: args.checksums,
        run_report: Some(dir.join(format!("{stem}.report.json"))),
        ..window_options(args)
    };
    let mut live = |stage: &str| {
        let _ = writeln!(err, "cutover: {stage}");
    };
    let report = match cutover(&prepared, &options, &mut live) {
        Ok(report) => report,
        Err(e) => {
            writeln!(err, "error: {e}")?;
            return Ok(EXIT_USAGE);
        }
    };
    let json = dir.join(format!("{stem}.cutover.report.json"));
    let md = dir.join(format!("{stem}.cutover.report.md"));
    std::fs::write(&json, serde_json::to_vec_pretty(&report).context("report")?)
        .with_context(|| format!("cannot write `{}`", json.display()))?;
    std::fs::write(&md, crate::report::cutover::markdown(&report))
        .with_context(|| format!("cannot write `{}`", md.display()))?;
    let pause = report.window.pause_seconds.unwrap_or(0.0);
    match &report.failure {
        None => writeln!(
            out,
            "cutover of run {} done: write pause {pause:.3}s ({}); switch the app to the target now",
            report.run_id,
            crate::report::cutover::summary(&report)
        )?,
        Some(failure) => writeln!(
            err,
            "error: the cutover failed inside the window (pause {pause:.3}s): {failure}"
        )?,
    }
    writeln!(out, "  reports: {} and {}", json.display(), md.display())?;
    Ok(match &report.failure {
        None => EXIT_OK,
        Some(_) if report.checks.iter().any(|c| c.status != CheckStatus::Pass) => {
            EXIT_CHECKS_FAILED
        }
        Some(_) => EXIT_USAGE,
    })
}

/// A signal inside a window ends the process: the pause ends with it (the lock is the
/// process's), and the final sync's transaction rolls back; `what` says where that leaves things.
pub(super) fn end_on_signal(what: &'static str) -> Result<(), Failure> {
    signals::install().map_err(|e| Failure::Other(anyhow::anyhow!(e)))?;
    signals::set_hook(Some(Box::new(move |signal| {
        signals::say(&format!(
            "\ninterrupted by {}: {what}\n",
            signals::name(signal)
        ));
        std::process::exit(signals::exit_code(signal).into());
    })));
    Ok(())
}

/// The window's options from the command line, without checksums or a run report.
pub(super) fn window_options(args: &CutoverArgs) -> CutoverOptions {
    CutoverOptions {
        app_stopped: args.app_stopped,
        max_catch_up_age: Duration::from_secs(args.max_catch_up_age),
        lock_wait: Duration::from_secs(args.lock_wait),
        checksums: false,
        run_report: None,
    }
}

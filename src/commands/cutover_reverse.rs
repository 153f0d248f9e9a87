//! `decant cutover PLAN --reverse`: the switch back to the old database as one measured window;
//! prints each stage and the exact pause, writes `<plan>.cutover-reverse.report.json` and `.md`.

use std::io::Write;

use anyhow::Context;

use super::run::report_location;
use super::{prepare_and_warn, Failure, Profiling, EXIT_OK, EXIT_USAGE};
use crate::cli::CutoverArgs;
use crate::run::cutover_reverse::cutover_reverse;

pub fn run(args: &CutoverArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Failure> {
    super::cutover::end_on_signal(
        "the pause ends with this process, PostgreSQL was never written, and the old database is as the last committed reverse sync left it; the app stays on PostgreSQL",
    )?;
    let prepared = prepare_and_warn(&args.plan, Profiling::Needed, err)?;
    let (dir, stem) = report_location(&prepared, &args.plan, args.report_dir.as_deref())?;
    let options = super::cutover::window_options(args);
    let mut live = |stage: &str| {
        let _ = writeln!(err, "cutover --reverse: {stage}");
    };
    let report = match cutover_reverse(&prepared, &options, &mut live) {
        Ok(report) => report,
        Err(e) => {
            writeln!(err, "error: {e}")?;
            return Ok(EXIT_USAGE);
        }
    };
    let json = dir.join(format!("{stem}.cutover-reverse.report.json"));
    let md = dir.join(format!("{stem}.cutover-reverse.report.md"));
    std::fs::write(&json, serde_json::to_vec_pretty(&report).context("report")?)
        .with_context(|| format!("cannot write `{}`", json.display()))?;
    std::fs::write(&md, crate::report::cutover::reverse_markdown(&report))
        .with_context(|| format!("cannot write `{}`", md.display()))?;
    let pause = report.window.pause_seconds.unwrap_or(0.0);
    match &report.failure {
        None => {
            let n = report.sync.as_ref().map(|s| s.counts()).unwrap_or_default();
            writeln!(
                out,
                "cutover --reverse after run {} done: write pause {pause:.3}s (final reverse sync {} inserted, {} updated, {} deleted; every row compared; {} step(s)); switch the app back to the old database now",
                report.run_id, n.inserted, n.updated, n.deleted, report.steps.len()
            )?
        }
        Some(failure) => writeln!(
            err,
            "error: the reverse cutover failed inside the window (pause {pause:.3}s): {failure}"
        )?,
    }
    writeln!(out, "  reports: {} and {}", json.display(), md.display())?;
    Ok(if report.failure.is_none() {
        EXIT_OK
    } else {
        EXIT_USAGE
    })
}

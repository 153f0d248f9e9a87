//! `decant cutover PLAN --reverse`: the switch back to the old database as one measured window;
//! prints each stage and the exact pause, writes `<plan>.cutover-reverse.report.json` and `.md`.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;

use super::run::report_location;
use super::{prepare_and_warn, Failure, Profiling, EXIT_OK, EXIT_USAGE};
use crate::cli::CutoverArgs;
use crate::run::cutover::CutoverOptions;
use crate::run::cutover_reverse::cutover_reverse;
use crate::signals;

pub fn run(args: &CutoverArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Failure> {
    // A signal inside the window ends the process: the locks end with its connection, and the
    // final reverse sync's transaction rolls back.
    signals::install().map_err(|e| Failure::Other(anyhow::anyhow!(e)))?;
    signals::set_hook(Some(Box::new(|signal| {
        signals::say(&format!(
            "\ninterrupted by {}: the pause ends with this process, PostgreSQL was never written, and the old database is as the last committed reverse sync left it; the app stays on PostgreSQL\n",
            signals::name(signal)
        ));
        std::process::exit(signals::exit_code(signal).into());
    })));
    let prepared = prepare_and_warn(&args.plan, Profiling::Needed, err)?;
    let (dir, stem) = report_location(&prepared, &args.plan, args.report_dir.as_deref())?;
    let options = CutoverOptions {
        app_stopped: args.app_stopped,
        max_catch_up_age: Duration::from_secs(args.max_catch_up_age),
        lock_wait: Duration::from_secs(args.lock_wait),
        checksums: false,
        run_report: None,
    };
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
    let pause = report.pause_seconds.unwrap_or(0.0);
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

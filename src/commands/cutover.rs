//! `decant cutover PLAN [--app-stopped]`: the switch as one measured window; prints each stage,
//! the exact write pause, and writes `<plan>.cutover.report.json` and `.md`.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;

use super::run::report_location;
use super::{prepare_and_warn, Failure, Profiling, EXIT_CHECKS_FAILED, EXIT_OK, EXIT_USAGE};
use crate::checks::CheckStatus;
use crate::cli::CutoverArgs;
use crate::run::cutover::{cutover, CutoverOptions, CutoverReport};
use crate::signals;

pub fn run(args: &CutoverArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Failure> {
    if args.reverse {
        return super::cutover_reverse::run(args, out, err);
    }
    // A signal inside the window ends the process: the pause ends with it (the lock is the
    // process's), and the final sync's transaction rolls back.
    signals::install().map_err(|e| Failure::Other(anyhow::anyhow!(e)))?;
    signals::set_hook(Some(Box::new(|signal| {
        signals::say(&format!(
            "\ninterrupted by {}: the pause ends with this process, the source was never written, and the target is as the last committed sync left it; the app stays on the source\n",
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
        checksums: args.checksums,
        run_report: Some(dir.join(format!("{stem}.report.json"))),
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
    std::fs::write(&md, markdown(&report))
        .with_context(|| format!("cannot write `{}`", md.display()))?;
    let pause = report.pause_seconds.unwrap_or(0.0);
    match &report.failure {
        None => writeln!(
            out,
            "cutover of run {} done: write pause {pause:.3}s ({}); switch the app to the target now",
            report.run_id,
            summary(&report)
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

fn summary(report: &CutoverReport) -> String {
    let applied = report.sync.as_ref().map(|s| s.counts()).unwrap_or_default();
    format!(
        "final sync {} inserted, {} updated, {} deleted; {} sequence(s); {} check(s) passed; {} step(s)",
        applied.inserted,
        applied.updated,
        applied.deleted,
        report.sequences.len(),
        report.checks.len(),
        report.steps.len()
    )
}

/// The report for people: the window first, then what happened inside it.
fn markdown(report: &CutoverReport) -> String {
    let mut md = format!("# Cutover of `{}` (run {})\n\n", report.plan, report.run_id);
    md.push_str(&format!(
        "- outcome: {}\n- write pause: **{:.3} s** ({})\n- the target had caught up {:.0} s before\n- whole cutover: {:.3} s\n\n",
        if report.failure.is_some() { "**failed**" } else { "done" },
        report.pause_seconds.unwrap_or(0.0),
        if report.pause_kind == "lock" {
            "decant held the source's write lock"
        } else {
            "the operator stopped the app"
        },
        report.catch_up_age_seconds,
        report.seconds
    ));
    if let Some(failure) = &report.failure {
        md.push_str(&format!("## Failure\n\n{failure}\n\n"));
    }
    if let Some(c) = &report.catch_up {
        let n = c.counts();
        md.push_str(&format!(
            "Before the pause, a catch-up sync applied {} inserted, {} updated, {} deleted in {:.3} s while the app still wrote.\n\n",
            n.inserted, n.updated, n.deleted, c.seconds
        ));
    }
    if !report.stages.is_empty() {
        md.push_str("## Inside the pause\n\n| stage | seconds |\n|---|---|\n");
        for (stage, seconds) in &report.stages {
            md.push_str(&format!("| {stage} | {seconds:.3} |\n"));
        }
        if let Some(p) = report.sync.as_ref().map(|s| &s.phases) {
            md.push_str(&format!(
                "\nThe final sync: {:.3} s opening, {:.3} s digesting the source, {:.3} s comparing the windows that changed, {:.3} s applying.\n",
                p.open, p.digest, p.compare, p.apply
            ));
        }
        md.push('\n');
    }
    if let Some(sync) = &report.sync {
        md.push_str("## Final sync\n\n| table | inserted | updated | deleted | rejected | compared |\n|---|---|---|---|---|---|\n");
        for t in &sync.tables {
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                t.source,
                t.inserted,
                t.updated,
                t.deleted,
                t.rejected,
                t.compared_ranges
                    .map_or("whole table".to_owned(), |n| format!("{n} key range(s)"))
            ));
        }
        md.push('\n');
    }
    if !report.sequences.is_empty() {
        md.push_str("## Sequences\n\n");
        for s in &report.sequences {
            md.push_str(&format!("- `{s}`\n"));
        }
        md.push('\n');
    }
    md.push_str("## Checks\n\n");
    for c in &report.checks {
        md.push_str(&format!(
            "- {} `{}`: {}\n",
            match c.status {
                CheckStatus::Pass => "PASS",
                CheckStatus::Fail => "FAIL",
                CheckStatus::Error => "ERROR",
            },
            c.id,
            c.summary
        ));
    }
    for s in &report.checks_skipped {
        md.push_str(&format!("- not in the pause: {s}\n"));
    }
    if let Some(unchanged) = report.verified_unchanged {
        md.push_str(&format!(
            "- the source {} during the window (`--app-stopped`)\n",
            if unchanged {
                "did not change"
            } else {
                "CHANGED"
            }
        ));
    }
    if !report.steps.is_empty() {
        md.push_str("\n## Cutover steps\n\n");
        for s in &report.steps {
            md.push_str(&format!(
                "### `{}`\n\n```\n{}\n```\n\n",
                s.id,
                s.output.trim_end()
            ));
        }
    }
    md
}

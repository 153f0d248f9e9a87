//! `decant rehearse PLAN [--server URL] [--keep]`: the whole plan against a throwaway target,
//! the report with per-step timings, and the target undone however the rehearsal ends.

use std::io::Write;
use std::time::Instant;

use super::run::{
    report_and_exit_code, report_location, report_of_failure, source_rows, write_report_paths,
};
use super::{prepare_and_warn, Failure, Profiling, EXIT_USAGE};
use crate::cli::RehearseArgs;
use crate::rehearse::{self, Binaries, Ending, Rehearsal, CLUSTER_DATABASE};
use crate::run::progress::ConsoleProgress;
use crate::run::{execute, RunOptions};
use crate::url::{redact_text, redact_url};

/// The throwaway target, as far as the run and the messages need it.
struct Target {
    /// With credentials: for connecting only.
    url: String,
    /// What to call it in messages and reports.
    shown: String,
    /// How to reach and remove it, printed when it is kept.
    keep_note: String,
}

pub fn run(args: &RehearseArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Failure> {
    let prepared = prepare_and_warn(&args.plan, Profiling::Run, err)?;
    let (dir, stem) = report_location(&prepared, &args.plan, args.report_dir.as_deref())?;
    let stem = format!("{stem}.rehearsal");

    let mut rehearsal = Rehearsal::begin().map_err(|e| Failure::Other(e.into()))?;
    let target = match start_target(&mut rehearsal, args, err) {
        Ok(target) => target,
        Err(e) => {
            if rehearse::interrupted() {
                rehearse::wait_for_interrupt_exit();
            }
            let _ = rehearsal.finish(false);
            return Err(Failure::Other(e));
        }
    };

    let options = RunOptions {
        resume: false,
        rejects_path: dir.join(format!("{stem}.rejects.jsonl")),
    };
    let mut progress = ConsoleProgress::new(err, args.verbose);
    let outcome = execute(&prepared, &target.url, &options, &mut progress);
    if rehearse::interrupted() {
        rehearse::wait_for_interrupt_exit();
    }
    let ending = rehearsal.finish(args.keep);

    // The steps were shown live on standard error (every one with `-v`); the per-step
    // timings are in the Markdown and JSON reports, so they are not listed a second time.
    let mut code = match outcome {
        Ok(mut report) => {
            report.kind = "rehearsal";
            report.target = target.shown.clone();
            report.source_rows = source_rows(&prepared);
            report_and_exit_code(&report, &dir, &stem, out)?
        }
        Err(mut e) => {
            let written = match e.report_mut() {
                Some(report) => {
                    report.kind = "rehearsal";
                    report.target = target.shown.clone();
                    report_of_failure(report, &dir, &stem, err)?
                }
                None => None,
            };
            writeln!(
                err,
                "error: the rehearsal failed: {}",
                redact_text(&e.text())
            )?;
            if let Some(line) = e.completed_line() {
                writeln!(err, "{line}")?;
            }
            write_report_paths(written.as_ref(), err)?;
            EXIT_USAGE
        }
    };
    match ending {
        Ok(Ending::CleanedUp(what)) => writeln!(err, "cleaned up: {what}")?,
        Ok(Ending::Kept) => writeln!(out, "{}", target.keep_note)?,
        Ok(Ending::Nothing) => {}
        Err(e) => {
            writeln!(
                err,
                "error: cleaning up after the rehearsal: {}",
                redact_text(&crate::errors::chain(&e))
            )?;
            code = EXIT_USAGE;
        }
    }
    Ok(code)
}

/// Starts a temporary cluster, or creates a scratch database on `--server`.
fn start_target(
    rehearsal: &mut Rehearsal,
    args: &RehearseArgs,
    err: &mut dyn Write,
) -> anyhow::Result<Target> {
    let started = Instant::now();
    if let Some(server) = &args.server {
        let (name, url) = rehearsal.scratch_database(server)?;
        let shown = redact_url(&url);
        writeln!(
            err,
            "rehearsing in scratch database `{name}` on `{}`",
            redact_url(server)
        )?;
        return Ok(Target {
            keep_note: format!(
                "kept: the scratch database `{name}` on `{}`\n  url: {shown}\n  remove it: DROP DATABASE \"{name}\" WITH (FORCE);",
                redact_url(server)
            ),
            url,
            shown,
        });
    }
    let bin = Binaries::find()?;
    writeln!(
        err,
        "starting a temporary PostgreSQL {} cluster ({})",
        bin.version,
        bin.dir.display()
    )?;
    let cluster = rehearsal.temporary_cluster(bin, args.keep)?;
    let url = cluster.url(CLUSTER_DATABASE);
    writeln!(
        err,
        "temporary cluster ready in {:.1}s: `{}`, port {}{}",
        started.elapsed().as_secs_f64(),
        cluster.dir().display(),
        cluster.port(),
        cluster
            .server_user()
            .map(|u| format!(", server running as `{u}`"))
            .unwrap_or_default()
    )?;
    Ok(Target {
        shown: redact_url(&url),
        keep_note: format!(
            "kept: the temporary cluster (PostgreSQL {}) is still running\n  url: {}\n  stop it: {}",
            cluster.version(),
            cluster.socket_url(CLUSTER_DATABASE),
            cluster.stop_command()
        ),
        url,
    })
}

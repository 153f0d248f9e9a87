//! `decant run PLAN [--resume]`: execute, report, and exit 0 only when every row is accounted
//! for; 1 when rows were rejected; 2 when the plan or a database error stopped the run.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{prepare_and_warn, Failure, Prepared, EXIT_CHECKS_FAILED, EXIT_OK, EXIT_USAGE};
use crate::cli::RunArgs;
use crate::run::execute::{execute, RunError, RunOptions};
use crate::run::progress::ConsoleProgress;
use crate::run::report::RunReport;
use crate::signals;

pub fn run(args: &RunArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Failure> {
    // SIGINT/SIGTERM are heard by the executor, which stops scheduling, rolls back the steps
    // in flight and marks the run `interrupted`.
    signals::install().map_err(|e| Failure::Other(anyhow::anyhow!(e)))?;
    signals::set_hook(None);
    let prepared = prepare_and_warn(&args.plan, false, err)?;
    let (dir, stem) = report_location(&prepared, &args.plan, args.report_dir.as_deref())?;
    let options = RunOptions {
        resume: args.resume,
        rejects_path: dir.join(format!("{stem}.rejects.jsonl")),
    };
    let mut progress = ConsoleProgress::new(err);
    let report = match execute(
        &prepared,
        &prepared.loaded.plan.target.url,
        &options,
        &mut progress,
    ) {
        Ok(report) => report,
        Err(e @ RunError::Interrupted { signal, run, .. }) => {
            writeln!(err, "{e}")?;
            if let Some(line) = e.completed_line() {
                writeln!(err, "{line}")?;
            }
            writeln!(
                err,
                "run {run} is `interrupted` in the journal; continue it with `decant run {} --resume`",
                args.plan.display()
            )?;
            return Ok(signals::exit_code(signal));
        }
        Err(e) => {
            writeln!(err, "error: {e}")?;
            if let Some(line) = e.completed_line() {
                writeln!(err, "{line}")?;
                writeln!(
                    err,
                    "the failed step was rolled back; fix the cause and run again with --resume"
                )?;
            }
            return Ok(EXIT_USAGE);
        }
    };
    Ok(report_and_exit_code(&report, &dir, &stem, out)?)
}

/// Where a run's reports go (`--report-dir`, else the plan's folder, created if needed) and
/// the plan file's stem that names them (shared with `rehearse`).
pub(super) fn report_location(
    prepared: &Prepared,
    plan: &Path,
    report_dir: Option<&Path>,
) -> Result<(PathBuf, String), Failure> {
    let dir = report_dir.map_or_else(
        || prepared.loaded.base_dir().to_path_buf(),
        Path::to_path_buf,
    );
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let stem = plan
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("decant")
        .to_owned();
    Ok((dir, stem))
}

/// Writes the reports, prints the summary and where the reports are, and gives the exit code:
/// 0 when every table and check is clean, else 1 (shared with `rehearse`).
pub(super) fn report_and_exit_code(
    report: &RunReport,
    dir: &Path,
    stem: &str,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let (json_path, md_path) = write_reports(report, dir, stem)?;
    report.write_summary(out)?;
    writeln!(
        out,
        "  reports: {} and {}",
        json_path.display(),
        md_path.display()
    )?;
    Ok(if report.clean() {
        EXIT_OK
    } else {
        EXIT_CHECKS_FAILED
    })
}

/// Writes `<stem>.report.json` and `<stem>.report.md` into `dir`.
fn write_reports(report: &RunReport, dir: &Path, stem: &str) -> anyhow::Result<(PathBuf, PathBuf)> {
    let json_path = dir.join(format!("{stem}.report.json"));
    let md_path = dir.join(format!("{stem}.report.md"));
    std::fs::write(
        &json_path,
        serde_json::to_vec_pretty(report).context("report")?,
    )
    .with_context(|| format!("cannot write `{}`", json_path.display()))?;
    let mut md = Vec::new();
    report.write_markdown(&mut md)?;
    std::fs::write(&md_path, md)
        .with_context(|| format!("cannot write `{}`", md_path.display()))?;
    Ok((json_path, md_path))
}

//! `decant run PLAN [--resume]`: execute, report, and exit 0 only when every row is accounted
//! for; 1 when rows were rejected; 2 when the plan or a database error stopped the run.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{
    prepare_and_warn, Failure, Prepared, Profiling, EXIT_CHECKS_FAILED, EXIT_OK, EXIT_USAGE,
};
use crate::cli::RunArgs;
use crate::journal;
use crate::plan::model::{IfExists, SchemaOwner};
use crate::run::progress::ConsoleProgress;
use crate::run::report::RunReport;
use crate::run::{execute, RunError, RunOptions};
use crate::signals;
use crate::url::redact_text;

pub fn run(args: &RunArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Failure> {
    // SIGINT/SIGTERM are heard by the executor, which stops scheduling, rolls back the steps
    // in flight and marks the run `interrupted`.
    signals::install().map_err(|e| Failure::Other(anyhow::anyhow!(e)))?;
    signals::set_hook(None);
    let prepared = prepare_and_warn(&args.plan, Profiling::Run, err)?;
    let (dir, stem) = report_location(&prepared, &args.plan, args.report_dir.as_deref())?;
    let target_url = &prepared.loaded.plan.target.url;
    if args.create_database {
        match journal::connect_creating_database(target_url) {
            Ok((_, Some(name))) => writeln!(err, "created database `{name}`")?,
            Ok((_, None)) => {}
            Err(e) => {
                writeln!(err, "error: {}", redact_text(&e.to_string()))?;
                return Ok(EXIT_USAGE);
            }
        }
    }
    let options = RunOptions {
        resume: args.resume,
        rejects_path: dir.join(format!("{stem}.rejects.jsonl")),
    };
    let mut progress = ConsoleProgress::new(err, args.verbose);
    let mut report = match execute(&prepared, target_url, &options, &mut progress) {
        Ok(report) => report,
        Err(mut e) => {
            let written = match e.report_mut() {
                Some(report) => report_of_failure(report, &dir, &stem, err)?,
                None => None,
            };
            if let RunError::Interrupted { signal, run, .. } = &e {
                writeln!(err, "{e}")?;
                if let Some(line) = e.completed_line() {
                    writeln!(err, "{line}")?;
                }
                writeln!(
                    err,
                    "run {run} is `interrupted` in the journal; continue it with `decant run {} --resume`",
                    args.plan.display()
                )?;
                write_report_paths(written.as_ref(), err)?;
                return Ok(signals::exit_code(*signal));
            }
            // With its causes: a failed search or file names what failed under it.
            writeln!(err, "error: {}", redact_text(&e.text()))?;
            if let Some(line) = e.completed_line() {
                writeln!(err, "{line}")?;
            }
            if let RunError::TablesExist {
                unfinished: Some(_),
                ..
            } = &e
            {
                let plan = args.plan.display();
                writeln!(
                    err,
                    "   = help: continue it: `decant run {plan} --resume`; or undo it: `decant rollback {plan}`, then `decant run {plan}`"
                )?;
            }
            if matches!(
                e,
                RunError::Step { .. } | RunError::Changed { .. } | RunError::Orphans { .. }
            ) {
                for line in what_next(&prepared, &args.plan, &e) {
                    writeln!(err, "{line}")?;
                }
            }
            write_report_paths(written.as_ref(), err)?;
            return Ok(EXIT_USAGE);
        }
    };
    report.source_rows = source_rows(&prepared);
    Ok(report_and_exit_code(&report, &dir, &stem, out)?)
}

/// Rows in all of the source's tables, as prepared (shared with `rehearse`); 0 when those are
/// InnoDB's estimates, which can be stale: the rows the run read then tell.
pub(super) fn source_rows(prepared: &Prepared) -> u64 {
    if prepared.source_counts == crate::prepare::SourceCounts::Estimated {
        return 0;
    }
    prepared
        .catalog
        .tables
        .iter()
        .filter(|t| !t.name.starts_with("sqlite_"))
        .map(|t| t.row_count)
        .sum()
}

/// Writes the reports of a run that stopped; a report that cannot be written is said, and
/// does not hide why the run stopped (shared with `rehearse`).
pub(super) fn report_of_failure(
    report: &RunReport,
    dir: &Path,
    stem: &str,
    err: &mut dyn Write,
) -> std::io::Result<Option<(PathBuf, PathBuf)>> {
    match write_reports(report, dir, stem) {
        Ok(paths) => Ok(Some(paths)),
        Err(e) => {
            writeln!(err, "error: cannot write the report: {e:#}")?;
            Ok(None)
        }
    }
}

/// Where the reports of a run that stopped went.
pub(super) fn write_report_paths(
    written: Option<&(PathBuf, PathBuf)>,
    err: &mut dyn Write,
) -> std::io::Result<()> {
    if let Some((json, md)) = written {
        writeln!(
            err,
            "reports (with the failure in them): {} and {}",
            json.display(),
            md.display()
        )?;
    }
    Ok(())
}

/// How to go on after a failed step (or a refused resume), for this plan's way of owning its
/// tables: `--resume` only works when neither the plan nor the source changes, and what a
/// new run meets in the target depends on `target.owner` and `settings.if_exists`.
fn what_next(prepared: &Prepared, plan: &Path, e: &RunError) -> Vec<String> {
    let plan = plan.display();
    let resolved = &prepared.resolved;
    let mut lines = Vec::new();
    if matches!(e, RunError::Step { .. }) {
        lines.push(
            "the failed step was rolled back; the completed steps stay in the target".to_owned(),
        );
        lines.push(format!(
            "   = help: if the cause was in the target or its server (space, permissions, a lost connection) and neither the plan nor the source changes, fix it and continue with `decant run {plan} --resume`"
        ));
    }
    let rerun = if resolved.owner == SchemaOwner::App {
        if resolved.settings.if_exists == IfExists::Append {
            format!(
                "undo this run with `decant rollback {plan}`: it makes the app's keys, indexes and foreign keys again as they were, but cannot tell the rows the run appended from the app's: delete those yourself, then `decant run {plan}`"
            )
        } else {
            format!(
                "undo this run with `decant rollback {plan}` (it empties the app's tables the run loaded and makes the app's keys, indexes and foreign keys again as they were), then `decant run {plan}`"
            )
        }
    } else {
        match resolved.settings.if_exists {
            IfExists::Fail => format!(
                "undo this run with `decant rollback {plan}` (it drops the tables the run created), then `decant run {plan}`; or set `settings.if_exists: drop` and a new run replaces those tables"
            ),
            IfExists::Drop => format!(
                "run it again without `--resume`: `decant run {plan}` drops and re-creates the tables (`if_exists: drop`)"
            ),
            IfExists::Truncate => format!(
                "run it again without `--resume`: `decant run {plan}` empties the tables first (`if_exists: truncate`); `decant rollback` cannot undo a run into tables it did not create"
            ),
            IfExists::Append => format!(
                "a new run would append to the rows this run already committed, and `decant rollback` cannot undo a run into tables that already existed: delete those rows (or restore the target from a backup), then `decant run {plan}`"
            ),
        }
    };
    lines.push(format!(
        "   = help: if the plan or the source must change, `--resume` refuses; {rerun}"
    ));
    lines
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
    let report = &report.redacted();
    let (json_path, md_path) = write_reports(report, dir, stem)?;
    crate::report::run::write_summary(report, out, crate::colour::for_stdout())?;
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
    let report = &report.redacted();
    let json_path = dir.join(format!("{stem}.report.json"));
    let md_path = dir.join(format!("{stem}.report.md"));
    std::fs::write(
        &json_path,
        serde_json::to_vec_pretty(report).context("report")?,
    )
    .with_context(|| format!("cannot write `{}`", json_path.display()))?;
    let mut md = Vec::new();
    crate::report::run::write_markdown(report, &mut md)?;
    std::fs::write(&md_path, md)
        .with_context(|| format!("cannot write `{}`", md_path.display()))?;
    Ok((json_path, md_path))
}

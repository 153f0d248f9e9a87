//! `decant check PLAN`: every check of the plan against the existing source and target;
//! exit 0 when all pass, 1 when any fails or cannot run, 2 when the plan or a connection is wrong.

use std::io::Write;

use super::{prepare_and_warn, Failure, Profiling, EXIT_CHECKS_FAILED, EXIT_OK};
use crate::checks::tally_line;
use crate::checks::{run_plan_checks, tally, Databases};
use crate::cli::CheckArgs;
use crate::colour;
use crate::engines::open_source;
use crate::engines::TargetConnection;
use crate::errors::chain;
use crate::journal::{self, RunState};
use crate::report::checks::write_result;
use crate::run::identity::source_fingerprint;
use crate::signals;
use crate::url::{parse_source_url, redact_url, SourceUrl};

pub fn run(args: &CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Failure> {
    // Checks only read: on Ctrl-C or SIGTERM the process ends at once, and its read
    // transactions and shared lock end with its connections.
    signals::install().map_err(|e| Failure::Other(anyhow::anyhow!(e)))?;
    signals::set_hook(Some(Box::new(|signal| {
        signals::say(&format!(
            "\ninterrupted by {}: the checks stopped; nothing was written\n",
            signals::name(signal)
        ));
        std::process::exit(signals::exit_code(signal).into());
    })));
    let prepared = prepare_and_warn(&args.plan, Profiling::Needed, err)?;
    let plan = &prepared.loaded.plan;
    let url = parse_source_url(&plan.source.url, prepared.loaded.base_dir())
        .map_err(|e| Failure::Other(anyhow::anyhow!("{e}")))?;
    let mut source = open_source(&url)
        .map_err(|e| Failure::Other(anyhow::anyhow!("cannot open the source: {}", chain(&e))))?;
    let mut target = journal::connect(&plan.target.url).map_err(|e| Failure::Other(e.into()))?;
    // A run in progress would be seen half-done; while the checks hold the lock shared, no
    // run starts.
    journal::lock_target_shared(&mut target, &prepared.resolved.schema)
        .map_err(|e| Failure::Other(e.into()))?;
    writeln!(
        out,
        "checking `{}` ({} → {}, schema `{}`)",
        prepared.resolved.name,
        redact_url(&plan.source.url),
        redact_url(&plan.target.url),
        prepared.resolved.schema
    )?;
    if plan.checks.is_empty() {
        writeln!(out, "the plan has no checks")?;
        return Ok(EXIT_OK);
    }
    let unfinished = unfinished_run(&mut target, &prepared.resolved.schema);
    if let Some(line) = &unfinished {
        writeln!(
            out,
            "{line}: the checks below compare the source with what it committed, so they find what it did not load; continue it with `decant run {plan} --resume`, or undo it with `decant rollback {plan}`",
            plan = args.plan.display()
        )?;
    }
    let moved_on = source_moved_on(&mut target, &prepared, &url);
    if let Some(note) = &moved_on {
        writeln!(out, "note: {note}")?;
    }
    let mut dbs = Databases {
        source: &mut source,
        target: &mut target,
        twins: &mut [],
        known_orphans: None,
        in_snapshot: false,
    };
    let colour = colour::for_stdout();
    let mut progress = |r: &crate::checks::CheckResult| {
        let _ = write_result(out, r, args.verbose, colour);
    };
    let results = run_plan_checks(&prepared, &mut dbs, &mut progress);
    // Free for a run started right after (the session's end would free it a moment later).
    let _ = journal::unlock_target_shared(dbs.target, &prepared.resolved.schema);
    writeln!(out, "{}", tally_line(&results))?;
    let (_, failed, errors) = tally(&results);
    if let (Some(line), true) = (&unfinished, failed + errors > 0) {
        writeln!(out, "{line}")?;
    }
    if failed > 0 && moved_on.is_some() {
        writeln!(
            out,
            "the source changed after the run: the differences above include what was written to it since, and are not by themselves a loss; run the plan again to carry the current source"
        )?;
    }
    Ok(if failed + errors == 0 {
        EXIT_OK
    } else {
        EXIT_CHECKS_FAILED
    })
}

/// `run N never finished (…)` when the newest run into `schema` did not succeed and was not
/// rolled back; `None` otherwise, or when there is no journal.
fn unfinished_run(target: &mut TargetConnection, schema: &str) -> Option<String> {
    if !journal::journal_exists(target).ok()? {
        return None;
    }
    let run = journal::runs(target, schema, 1).ok()?.into_iter().next()?;
    matches!(
        run.state(),
        Some(RunState::Running | RunState::Failed | RunState::Interrupted)
    )
    .then(|| {
        format!(
            "run {} never finished (the journal has it `{}`)",
            run.id, run.status
        )
    })
}

/// Whether the source is no longer the one the newest run loaded (its fingerprint differs),
/// said as a sentence; `None` when it is the same, or no run is recorded.
fn source_moved_on(
    target: &mut TargetConnection,
    prepared: &super::Prepared,
    url: &SourceUrl,
) -> Option<String> {
    if !journal::journal_exists(target).ok()? {
        return None;
    }
    let run = journal::runs(target, &prepared.resolved.schema, 1)
        .ok()?
        .into_iter()
        .next()?;
    if run.state() == Some(RunState::RolledBack) {
        return None;
    }
    let now = source_fingerprint(url, &prepared.catalog).ok()?;
    (now != run.source_fingerprint).then(|| {
        format!(
            "the source changed since run {} loaded it (started {}): its content, size or write counter differ from the run's snapshot",
            run.id, run.started_at
        )
    })
}

//! `decant status PLAN`: the journal of the plan's target schema.

use std::io::Write;

use super::{Failure, EXIT_OK};
use crate::cli::PlanArgs;
use crate::journal::{self, RunState};
use crate::plan::load_plan;
use crate::url::redact_url;

pub fn run(args: &PlanArgs, out: &mut dyn Write, _err: &mut dyn Write) -> Result<u8, Failure> {
    let loaded = load_plan(&args.plan).map_err(Failure::Plan)?;
    let target = &loaded.plan.target;
    let mut conn = journal::connect(&target.url).map_err(|e| Failure::Other(e.into()))?;
    writeln!(
        out,
        "target {} (schema `{}`)",
        redact_url(&target.url),
        target.schema
    )?;
    if !journal::journal_exists(&mut conn).map_err(|e| Failure::Other(e.into()))? {
        writeln!(out, "no decant run recorded in this target")?;
        return Ok(EXIT_OK);
    }
    let runs =
        journal::runs(&mut conn, &target.schema, 10).map_err(|e| Failure::Other(e.into()))?;
    // A run journaled as running whose lock nobody holds has no process any more (killed, or
    // its machine went away): say so, and how to go on.
    let alive = if runs.iter().any(|r| r.state() == Some(RunState::Running)) {
        journal::run_alive(&mut conn, &target.schema).map_err(|e| Failure::Other(e.into()))?
    } else {
        false
    };
    if runs.is_empty() {
        writeln!(out, "no decant run recorded for schema `{}`", target.schema)?;
    }
    for (i, run) in runs.iter().enumerate() {
        let resumed = run
            .resumed_from
            .map(|r| format!(", resumed from {r}"))
            .unwrap_or_default();
        let status = match run.state() {
            Some(RunState::Running) if !alive => {
                "running, abandoned (no decant process holds the target's lock: it was killed or lost its connection; `decant run PLAN --resume` continues it)".to_owned()
            }
            _ => run.status.clone(),
        };
        let rolled_back = run
            .rolled_back_at
            .as_ref()
            .map(|at| format!("  rolled back {at}"))
            .unwrap_or_default();
        writeln!(
            out,
            "run {}  {}  plan `{}` ({})  started {}  finished {}{rolled_back}{resumed}",
            run.id,
            status,
            run.plan_name,
            &run.plan_hash[..run.plan_hash.len().min(12)],
            run.started_at,
            run.finished_at.as_deref().unwrap_or("-")
        )?;
        if i > 0 {
            continue;
        }
        let steps = journal::steps(&mut conn, run.id).map_err(|e| Failure::Other(e.into()))?;
        crate::report::status::write_steps(out, &steps)?;
        // Journals older than `decant sync` have no syncs table: nothing to list then.
        for sync in journal::syncs(&mut conn, run.id).unwrap_or_default() {
            crate::report::status::write_sync(out, &sync)?;
        }
    }
    let applied = journal::applied_migrations(&mut conn).map_err(|e| Failure::Other(e.into()))?;
    if !applied.is_empty() {
        writeln!(
            out,
            "migrations applied by plan steps (Diesel's `__diesel_schema_migrations`):"
        )?;
        for (version, run_on) in applied {
            writeln!(out, "  {version}  {run_on}")?;
        }
    }
    Ok(EXIT_OK)
}

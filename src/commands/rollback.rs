//! `decant rollback PLAN`: drop what the newest run created in the target.

use std::io::Write;

use super::{Failure, EXIT_OK, EXIT_USAGE};
use crate::cli::PlanArgs;
use crate::journal;
use crate::plan::load_plan;
use crate::run::rollback::{rollback, RollbackOutcome};

pub fn run(args: &PlanArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Failure> {
    let loaded = load_plan(&args.plan).map_err(Failure::Plan)?;
    let target = &loaded.plan.target;
    let mut conn = journal::connect(&target.url).map_err(|e| Failure::Other(e.into()))?;
    match rollback(&mut conn, &target.schema).map_err(|e| Failure::Other(e.into()))? {
        RollbackOutcome::NothingToDo => {
            writeln!(out, "nothing to roll back in schema `{}`", target.schema)?
        }
        RollbackOutcome::AlreadyRolledBack { run } => writeln!(
            out,
            "run {run} is already rolled back; nothing to roll back in schema `{}`",
            target.schema
        )?,
        RollbackOutcome::CreatedNoTables { run, status } => {
            writeln!(
                err,
                "error: cannot roll back run {run}: it created no tables in schema `{}`",
                target.schema
            )?;
            writeln!(
                err,
                "  its rows were loaded into tables that already existed (`if_exists: truncate` or \
                 `append`), where decant cannot tell them from the rows that were there before; \
                 under `truncate` those earlier rows were discarded by the run and only a backup \
                 still has them"
            )?;
            writeln!(
                err,
                "   = help: restore the target from a backup taken before run {run}, or remove the \
                 loaded rows yourself; the journal keeps run {run} as `{status}`"
            )?;
            return Ok(EXIT_USAGE);
        }
        RollbackOutcome::Dropped { run, tables } => {
            writeln!(
                out,
                "rolled back run {run}: dropped {} table(s) in schema `{}`",
                tables.len(),
                target.schema
            )?;
            for t in tables {
                writeln!(out, "  - {t}")?;
            }
            writeln!(out, "plan `steps:` (extensions, migrations) are not undone; the journal keeps the run as `rolled_back`")?;
        }
    }
    Ok(EXIT_OK)
}

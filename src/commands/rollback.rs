//! `decant rollback PLAN`: drop what the newest run created in the target.

use std::io::Write;

use super::{Failure, EXIT_OK};
use crate::cli::PlanArgs;
use crate::journal;
use crate::plan::load_plan;
use crate::run::rollback::{rollback, RollbackOutcome};

pub fn run(args: &PlanArgs, out: &mut dyn Write, _err: &mut dyn Write) -> Result<u8, Failure> {
    let loaded = load_plan(&args.plan).map_err(Failure::Plan)?;
    let target = &loaded.plan.target;
    let mut conn = journal::connect(&target.url).map_err(|e| Failure::Other(e.into()))?;
    match rollback(&mut conn, &target.schema).map_err(|e| Failure::Other(e.into()))? {
        RollbackOutcome::NothingToDo => {
            writeln!(out, "nothing to roll back in schema `{}`", target.schema)?
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

//! `decant rollback PLAN [--dry-run] [--yes]`: drop what the newest run created in the target,
//! after showing what that is and, on a terminal, asking.

use std::io::{BufRead, IsTerminal, Write};

use super::{Failure, EXIT_OK, EXIT_USAGE};
use crate::cli::RollbackArgs;
use crate::journal;
use crate::plan::load_plan;
use crate::run::rollback::{rollback, RollbackOutcome};

pub fn run(args: &RollbackArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Failure> {
    let loaded = load_plan(&args.plan).map_err(Failure::Plan)?;
    let target = &loaded.plan.target;
    let mut conn = journal::connect(&target.url).map_err(|e| Failure::Other(e.into()))?;
    // Scripts and CI give no terminal on standard input: they go ahead as before, so only a
    // person at a terminal is asked.
    let ask = !args.yes && !args.dry_run && std::io::stdin().is_terminal();
    let mut confirm = |run: i64, tables: &[String], app: bool| -> bool {
        if !args.dry_run && !ask {
            return true;
        }
        let _ = if app {
            writeln!(
                err,
                "run {run} loaded {} table(s) of the app's schema `{}`; rollback empties them (unless the run appended) and makes the app's keys, indexes and foreign keys again as they were:",
                tables.len(),
                target.schema
            )
        } else {
            writeln!(
                err,
                "run {run} created {} table(s) in schema `{}`; rollback drops them with what depends on them (CASCADE):",
                tables.len(),
                target.schema
            )
        };
        for t in tables {
            let _ = writeln!(err, "  - {t}");
        }
        if args.dry_run {
            return false;
        }
        let _ = write!(
            err,
            "{} [y/N] ",
            if app { "roll back?" } else { "drop them?" }
        );
        let _ = err.flush();
        let mut answer = String::new();
        if std::io::stdin().lock().read_line(&mut answer).is_err() {
            return false;
        }
        matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
    };
    let outcome =
        rollback(&mut conn, &target.schema, &mut confirm).map_err(|e| Failure::Other(e.into()))?;
    match outcome {
        RollbackOutcome::NotConfirmed { run, tables, app } => {
            if args.dry_run {
                writeln!(
                    out,
                    "dry run: `decant rollback` would {} {} table(s) of run {run} in schema `{}`; nothing was {}",
                    if app { "empty and restore" } else { "drop" },
                    tables.len(),
                    target.schema,
                    if app { "changed" } else { "dropped" }
                )?;
                for t in tables {
                    writeln!(out, "  - {t}")?;
                }
            } else {
                writeln!(out, "nothing was dropped; run {run} stays as it is")?;
            }
        }
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
        RollbackOutcome::Restored {
            run,
            tables,
            emptied,
            made,
        } => {
            writeln!(
                out,
                "rolled back run {run} in the app's schema `{}`: {} {} table(s), made {made} key(s), index(es) and foreign key(s) again, and put back their comments, cluster mark, replica identity, statistics targets and trigger states",
                target.schema,
                if emptied { "emptied" } else { "kept the rows of" },
                tables.len()
            )?;
            for t in tables {
                writeln!(out, "  - {t}")?;
            }
            if !emptied {
                writeln!(out, "the run appended rows (`if_exists: append`): decant cannot tell them from the app's, so they stay")?;
            }
        }
        RollbackOutcome::NotRestored { run, failures } => {
            writeln!(
                err,
                "error: cannot roll back run {run}: some of the app's definitions could not be made again (what could be is back; the journal keeps the run as it was):\n{failures}"
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

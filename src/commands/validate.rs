//! `decant validate PLAN`: every problem at once, exit 0 or 2.

use std::io::Write;

use super::{prepare_and_warn, Failure, EXIT_OK};
use crate::cli::PlanArgs;

pub fn run(args: &PlanArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Failure> {
    let prepared = prepare_and_warn(&args.plan, false, err)?;
    let tables = prepared.resolved.tables.len();
    let columns: usize = prepared
        .resolved
        .tables
        .iter()
        .map(|t| t.columns.len())
        .sum();
    let flagged: usize = prepared
        .resolved
        .tables
        .iter()
        .map(|t| t.columns.iter().filter(|c| !c.warnings.is_empty()).count())
        .sum();
    writeln!(
        out,
        "{}: ok — {tables} table(s), {columns} column(s), {} step(s){}",
        args.plan.display(),
        prepared.steps.len(),
        if flagged > 0 {
            format!("; {flagged} column(s) flagged, see `decant plan`")
        } else {
            String::new()
        }
    )?;
    Ok(EXIT_OK)
}

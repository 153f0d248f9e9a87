//! `decant plan PLAN --format text|json|sql|markdown`: what `run` would do, writing nothing.

use std::io::Write;

use super::{prepare_and_warn, Failure, Profiling, EXIT_OK};
use crate::cli::{PlanCommandArgs, PlanFormat};
use crate::output;

pub fn run(
    args: &PlanCommandArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Failure> {
    let prepared = prepare_and_warn(
        &args.plan,
        if args.profile {
            Profiling::All
        } else {
            Profiling::Reviewed
        },
        err,
    )?;
    let view = output::PlanView::new(&prepared);
    match args.format {
        PlanFormat::Text => output::text::write_plan(&view, out)?,
        PlanFormat::Markdown => output::markdown::write_plan(&view, out)?,
        PlanFormat::Sql => output::write_sql(&view, out)?,
        PlanFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &view).map_err(|e| Failure::Other(e.into()))?;
            writeln!(out)?;
        }
    }
    Ok(EXIT_OK)
}

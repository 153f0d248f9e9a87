//! `decant plan PLAN --format text|json|sql|markdown`: what `run` would do, writing nothing.
//! Under `settings.orphans: reject` or `skip_constraint` the orphans are settled first, as
//! `run` settles them, so the SQL shown is the SQL a run sends. Each view is made in a rolled-back
//! transaction on the target, and one PostgreSQL refuses is a warning with its reason.

use std::io::Write;

use super::{prepare_and_warn, Failure, Profiling, EXIT_OK};
use crate::cli::{PlanCommandArgs, PlanFormat};
use crate::engines::open_source;
use crate::errors::chain;
use crate::plan::model::OrphanPolicy;
use crate::prepare::{settle_orphans, Prepared, Settled};
use crate::report;
use crate::url::parse_source_url;

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
    let settled = settled_plan(&prepared, err)?;
    let prepared = settled
        .as_ref()
        .and_then(|s| s.plan.as_ref())
        .unwrap_or(&prepared);
    let views = super::view_check::check_views(prepared);
    for refused in &views.refused {
        writeln!(err, "warning: {refused}")?;
    }
    if let Some(why) = &views.unchecked {
        writeln!(
            err,
            "note: the views were not checked against PostgreSQL: {why}"
        )?;
    }
    let mut view = report::PlanView::new(prepared);
    view.view_warnings = views.refused;
    match args.format {
        PlanFormat::Text => report::text::write_plan(&view, out)?,
        PlanFormat::Markdown => report::markdown::write_plan(&view, out)?,
        PlanFormat::Sql => report::write_sql(&view, out)?,
        PlanFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &view).map_err(|e| Failure::Other(e.into()))?;
            writeln!(out)?;
        }
    }
    Ok(EXIT_OK)
}

/// Under `reject` and `skip_constraint` the source's orphans change the loads' SELECTs or
/// the foreign keys made: they are searched for here as a run does before it writes anything,
/// and said on standard error. Under `fail` they change nothing a run sends.
fn settled_plan(prepared: &Prepared, err: &mut dyn Write) -> Result<Option<Settled>, Failure> {
    if prepared.resolved.settings.orphans == OrphanPolicy::Fail {
        return Ok(None);
    }
    let url = parse_source_url(&prepared.loaded.plan.source.url, prepared.loaded.base_dir())
        .map_err(|e| Failure::Other(anyhow::anyhow!("{e}")))?;
    let mut source = open_source(&url)
        .map_err(|e| Failure::Other(anyhow::anyhow!("cannot open the source: {}", chain(&e))))?;
    let settled = settle_orphans(prepared, &mut source, None)
        .map_err(|e| Failure::Other(anyhow::anyhow!("{}", chain(&e))))?;
    let orphans = &settled.orphans;
    for finding in &orphans.findings {
        writeln!(err, "note: orphans: {}", finding.describe())?;
    }
    for note in &orphans.skipped {
        writeln!(err, "note: {note}")?;
    }
    Ok(Some(settled))
}

//! `decant check PLAN`: every check of the plan against the existing source and target;
//! exit 0 when all pass, 1 when any fails or cannot run, 2 when the plan or a connection is wrong.

use std::io::Write;

use super::{prepare_and_warn, Failure, EXIT_CHECKS_FAILED, EXIT_OK};
use crate::checks::{run_plan_checks, tally, tally_line, write_result, Databases};
use crate::cli::PlanArgs;
use crate::errors::chain;
use crate::introspect::open_sqlite_read_only;
use crate::journal;
use crate::url::{parse_source_url, redact_url, SourceUrl};

pub fn run(args: &PlanArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Failure> {
    let prepared = prepare_and_warn(&args.plan, false, err)?;
    let plan = &prepared.loaded.plan;
    let SourceUrl::Sqlite(file) = parse_source_url(&plan.source.url, prepared.loaded.base_dir())
        .map_err(|e| Failure::Other(anyhow::anyhow!("{e}")))?;
    let mut source = open_sqlite_read_only(&file)
        .map_err(|e| Failure::Other(anyhow::anyhow!("cannot open the source: {}", chain(&e))))?;
    let mut target = journal::connect(&plan.target.url).map_err(|e| Failure::Other(e.into()))?;
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
    let mut dbs = Databases {
        source: &mut source,
        target: &mut target,
        known_orphans: None,
    };
    let mut progress = |r: &crate::checks::CheckResult| {
        let _ = write_result(out, r);
    };
    let results = run_plan_checks(&prepared, &mut dbs, &mut progress);
    writeln!(out, "{}", tally_line(&results))?;
    let (_, failed, errors) = tally(&results);
    Ok(if failed + errors == 0 {
        EXIT_OK
    } else {
        EXIT_CHECKS_FAILED
    })
}

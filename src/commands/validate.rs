//! `decant validate PLAN`: every problem at once, exit 0 or 2.

use std::io::Write;

use super::{prepare_and_warn, Failure, Prepared, Profiling, EXIT_OK, EXIT_USAGE};
use crate::cli::ValidateArgs;
use crate::errors::chain;
use crate::url::parse_source_url;

/// How many of `PRAGMA quick_check`'s findings are printed; SQLite reports up to 100.
const QUICK_CHECK_SHOWN: usize = 20;

pub fn run(args: &ValidateArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Failure> {
    let prepared = prepare_and_warn(&args.plan, Profiling::Reviewed, err)?;
    if args.quick_check && !source_passes_quick_check(&prepared, err)? {
        return Ok(EXIT_USAGE);
    }
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

/// Runs `PRAGMA quick_check` on the plan's source; prints what it found, if anything.
fn source_passes_quick_check(prepared: &Prepared, err: &mut dyn Write) -> Result<bool, Failure> {
    let loaded = &prepared.loaded;
    // A server checks its own pages; only a SQLite file is checked here.
    let url = parse_source_url(&loaded.plan.source.url, loaded.base_dir())
        .map_err(|e| Failure::Other(e.into()))?;
    let Some((file, findings)) = url
        .integrity_check()
        .map_err(|e| Failure::Other(anyhow::anyhow!(chain(&e))))?
    else {
        return Ok(true);
    };
    if findings.is_empty() {
        return Ok(true);
    }
    writeln!(
        err,
        "error: `{}` is corrupt: `PRAGMA quick_check` found {} problem(s)",
        file.display(),
        findings.len()
    )?;
    for finding in findings.iter().take(QUICK_CHECK_SHOWN) {
        writeln!(err, "  - {finding}")?;
    }
    if findings.len() > QUICK_CHECK_SHOWN {
        writeln!(err, "  … and {} more", findings.len() - QUICK_CHECK_SHOWN)?;
    }
    writeln!(
        err,
        "   = help: restore the file from a backup, or try `sqlite3 <file> .recover`"
    )?;
    Ok(false)
}

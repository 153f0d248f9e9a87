//! Check results as a terminal shows them: one line per check (details and differences under a
//! failing one), a row difference on one line, and the tally.

use crate::checks::{CheckResult, DifferenceKind, RowDifference};

/// A row difference on one line: `orders id=7: column total: source 12.5, target 13`.
pub fn difference_line(d: &RowDifference) -> String {
    let key = crate::copy::key_text(&d.key);
    let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "NULL".into());
    match d.kind {
        DifferenceKind::Changed => format!(
            "`{}` {key}: `{}` differs: source {}, target {}",
            d.table,
            d.column.as_deref().unwrap_or("?"),
            shown(&d.source_value),
            shown(&d.target_value)
        ),
        DifferenceKind::MissingInTarget => {
            format!("`{}` {key}: in the source, missing in the target", d.table)
        }
        DifferenceKind::ExtraInTarget => {
            format!("`{}` {key}: in the target, not in the source", d.table)
        }
    }
}

/// One result for a terminal: status (in colour when it failed and `colour`), id, duration and
/// summary, then details and differences: of a passing check only when `verbose`, and at
/// most `LISTED_ON_SCREEN` of each unless `verbose`.
pub fn write_result(
    out: &mut dyn std::io::Write,
    r: &CheckResult,
    verbose: bool,
    colour: bool,
) -> std::io::Result<()> {
    let label = format!("{:<5}", r.status.label());
    let label = if r.passed() {
        label
    } else {
        crate::colour::alarm(&label, colour)
    };
    writeln!(
        out,
        "{label}  {:<44} {:>7.2}s  {}",
        r.id, r.seconds, r.summary
    )?;
    // A passing check is one line; what it looked at is there with `-v`.
    if r.passed() && !verbose {
        return Ok(());
    }
    // A target a run never finished can miss every row: a screenful says it, `-v` lists all.
    let cap = if verbose {
        usize::MAX
    } else {
        LISTED_ON_SCREEN
    };
    for d in r.details.iter().take(cap) {
        writeln!(out, "       {d}")?;
    }
    for d in r.differences.iter().take(cap) {
        writeln!(out, "       {}", difference_line(d))?;
    }
    let hidden = r.details.len().saturating_sub(cap) + r.differences.len().saturating_sub(cap);
    if hidden > 0 {
        writeln!(
            out,
            "       … and {hidden} more line(s) of this check: `decant check -v` lists them all"
        )?;
    }
    Ok(())
}

/// How many details and differences of one check `write_result` prints without `verbose`.
pub const LISTED_ON_SCREEN: usize = 20;

//! The run report as people read it: the summary table a terminal shows after a run, and the
//! Markdown report for a pull request or a cutover ticket (the JSON is the report serialised).

use std::io::{self, Write};

use crate::checks::{tally_line, CheckStatus};
use crate::colour::alarm;
use crate::run::report::{RunReport, TableReport};

use super::checks::difference_line;

/// The summary table for a terminal; with `colour`, what went wrong stands out.
pub fn write_summary(report: &RunReport, out: &mut dyn Write, colour: bool) -> io::Result<()> {
    writeln!(
        out,
        "run {} of `{}` ({} → {}) in {:.2}s",
        report.run_id, report.plan_name, report.source, report.target, report.seconds
    )?;
    let width = report
        .tables
        .iter()
        .map(|t| t.source.len())
        .max()
        .unwrap_or(5)
        .max(5);
    writeln!(
        out,
        "  {:width$}  {:>10}  {:>10}  {:>9}  {:>8}  ok",
        "table", "read", "written", "rejected", "seconds"
    )?;
    for t in &report.tables {
        writeln!(
            out,
            "  {:width$}  {:>10}  {:>10}  {:>9}  {:>8.2}  {}",
            t.source,
            t.read,
            t.written,
            t.rejected,
            t.seconds,
            if t.reconciles() && t.rejected == 0 {
                "yes".to_owned()
            } else {
                alarm("NO", colour)
            }
        )?;
    }
    if report.loaded_nothing() {
        writeln!(
            out,
            "  {}: {}",
            alarm("WARNING", colour),
            loaded_nothing_text(report)
        )?;
    }
    if report.rejected() > 0 {
        writeln!(
            out,
            "  {} row(s) rejected: see `{}` and `{}`",
            report.rejected(),
            report.rejects_file.display(),
            crate::journal::REJECTS_TABLE
        )?;
    }
    for finding in &report.orphans {
        writeln!(
            out,
            "  orphans: foreign key `{}`: {}",
            finding.constraint,
            finding.describe()
        )?;
    }
    for note in &report.notes {
        writeln!(out, "  note: {note}")?;
    }
    if !report.warnings.is_empty() || !report.not_carried.is_empty() {
        writeln!(
            out,
            "  {} type warning(s) and {} source object(s) not carried: listed in the report",
            report.warnings.len(),
            report.not_carried.len()
        )?;
    }
    if let Some(e) = &report.check_error {
        writeln!(out, "  checks: could not run: {e}")?;
    } else if report.checks.is_empty() {
        writeln!(out, "  checks: none in the plan")?;
    } else {
        writeln!(out, "  checks: {}", tally_line(&report.checks))?;
        for r in &report.checks {
            if r.status == CheckStatus::Pass {
                continue;
            }
            let label = alarm(&format!("{:<5}", r.status.label()), colour);
            writeln!(out, "    {label} {}: {}", r.id, r.summary)?;
            for d in &r.details {
                writeln!(out, "          {d}")?;
            }
            for d in &r.differences {
                writeln!(out, "          {}", difference_line(d))?;
            }
        }
    }
    Ok(())
}

/// The outcome in one sentence: succeeded, or failed and why.
pub fn result_line(report: &RunReport) -> String {
    let what = report.kind;
    if let Some(f) = &report.failure {
        let at = f
            .step
            .as_ref()
            .map(|s| format!(" at step `{s}`"))
            .unwrap_or_default();
        return format!("{what} {}{at}: {}", f.state, f.reason);
    }
    let mut problems = Vec::new();
    let unreconciled = report.tables.iter().filter(|t| !t.reconciles()).count();
    if unreconciled > 0 {
        problems.push(format!(
            "{unreconciled} table(s) do not reconcile read = written + rejected"
        ));
    }
    if report.loaded_nothing() {
        problems.push(loaded_nothing_text(report));
    }
    if report.rejected() > 0 {
        problems.push(format!("{} row(s) rejected", report.rejected()));
    }
    if let Some(e) = &report.check_error {
        problems.push(format!("the checks could not run: {e}"));
    }
    let (_, failed, errors) = crate::checks::tally(&report.checks);
    if failed + errors > 0 {
        problems.push(format!("{failed} check(s) failed, {errors} could not run"));
    }
    if problems.is_empty() {
        format!(
            "{what} succeeded: every row accounted for, {} check(s) passed",
            report.checks.len()
        )
    } else {
        format!("{what} failed: {}", problems.join("; "))
    }
}

/// The report for a pull request or a cutover ticket: the result first, then the tables
/// with their totals, the checks, and the step timings last.
pub fn write_markdown(report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    let title = if report.kind == "rehearsal" {
        "decant rehearsal".to_owned()
    } else {
        format!("decant run {}", report.run_id)
    };
    writeln!(out, "# {title} — `{}`\n", report.plan_name)?;
    writeln!(out, "**Result: {}**\n", md_escape(&result_line(report)))?;
    writeln!(
        out,
        "- source: `{}`\n- target: `{}`\n- plan hash: `{}`\n- decant {}\n- duration: {:.2}s\n",
        report.source, report.target, report.plan_hash, report.decant_version, report.seconds
    )?;
    if let Some(f) = &report.failure {
        writeln!(out, "## What stopped it\n")?;
        if let Some(step) = &f.step {
            writeln!(out, "- step: `{step}`")?;
        }
        writeln!(out, "- reason: {}", md_escape(&f.reason))?;
        let list = |steps: &[String]| {
            if steps.is_empty() {
                "none".to_owned()
            } else {
                steps
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        writeln!(out, "- completed steps: {}", list(&f.completed))?;
        if !f.in_flight.is_empty() {
            writeln!(out, "- rolled back: {}", list(&f.in_flight))?;
        }
        if let Some(sql) = &f.sql {
            writeln!(out, "\n```sql\n{}\n```", sql.trim_end())?;
        }
        writeln!(out)?;
    }
    writeln!(out, "## Tables\n")?;
    writeln!(out, "| table | target | read | written | rejected | seconds |\n| --- | --- | ---: | ---: | ---: | ---: |")?;
    for t in &report.tables {
        writeln!(
            out,
            "| `{}` | `{}` | {} | {} | {} | {:.2} |",
            t.source, t.target, t.read, t.written, t.rejected, t.seconds
        )?;
    }
    let sum = |f: fn(&TableReport) -> u64| report.tables.iter().map(f).sum::<u64>();
    writeln!(
        out,
        "| **total** ({} tables) | | **{}** | **{}** | **{}** | **{:.2}** |",
        report.tables.len(),
        sum(|t| t.read),
        sum(|t| t.written),
        sum(|t| t.rejected),
        report.tables.iter().map(|t| t.seconds).sum::<f64>()
    )?;
    writeln!(out, "\n## Checks\n")?;
    if let Some(e) = &report.check_error {
        writeln!(out, "The checks could not run: {}", md_escape(e))?;
    } else if report.checks.is_empty() {
        writeln!(
            out,
            "{}",
            if report.failure.is_some() {
                "The checks did not run."
            } else {
                "The plan has no checks."
            }
        )?;
    } else {
        writeln!(out, "{}\n", tally_line(&report.checks))?;
        writeln!(
            out,
            "| check | result | seconds | summary |\n| --- | --- | ---: | --- |"
        )?;
        for r in &report.checks {
            writeln!(
                out,
                "| `{}` | {} | {:.2} | {} |",
                r.id,
                r.status.label().to_lowercase(),
                r.seconds,
                md_escape(&r.summary)
            )?;
        }
        for r in report.checks.iter().filter(|r| !r.passed()) {
            writeln!(
                out,
                "\n### `{}`: {}\n",
                r.id,
                r.status.label().to_lowercase()
            )?;
            for d in &r.details {
                writeln!(out, "- {}", md_escape(d))?;
            }
            for d in &r.differences {
                writeln!(out, "- {}", md_escape(&difference_line(d)))?;
            }
        }
    }
    if !report.orphans.is_empty() || !report.notes.is_empty() {
        writeln!(out, "\n## Orphans and notes\n")?;
        for finding in &report.orphans {
            writeln!(
                out,
                "- foreign key `{}`: {}",
                finding.constraint,
                md_escape(&finding.describe())
            )?;
        }
        for note in &report.notes {
            writeln!(out, "- {}", md_escape(note))?;
        }
    }
    if !report.warnings.is_empty() || !report.not_carried.is_empty() {
        writeln!(out, "\n## Warnings and objects not carried\n")?;
        for line in report.warnings.iter().chain(&report.not_carried) {
            writeln!(out, "- {}", md_escape(line))?;
        }
    }
    writeln!(out, "\n## Step timings\n")?;
    writeln!(out, "| step | state | seconds |\n| --- | --- | ---: |")?;
    for s in &report.steps {
        writeln!(out, "| `{}` | {} | {:.2} |", s.id, s.state, s.seconds)?;
    }
    Ok(())
}

/// Why a run that loaded nothing is not a success.
fn loaded_nothing_text(report: &RunReport) -> String {
    format!(
        "no row was loaded, though the source holds {} row(s): check which tables the plan carries (`tables`, `naming`), its `filters` and the rejects",
        report.source_rows_seen()
    )
}

/// Text safe in a Markdown table cell or list item: pipes escaped, newlines flattened.
fn md_escape(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::checks::{CheckResult, CheckStatus};
    use crate::run::report::{RunFailure, RunReport, StepReport, TableReport};

    fn report() -> RunReport {
        let table = |source: &str, read: u64, rejected: u64| TableReport {
            source: source.to_owned(),
            target: source.to_owned(),
            read,
            written: read - rejected,
            rejected,
            seconds: 0.25,
        };
        RunReport {
            kind: "run",
            run_id: 3,
            plan_name: "shop".to_owned(),
            plan_hash: "abc".to_owned(),
            source_fingerprint: "def".to_owned(),
            decant_version: "0.1.0",
            source: "sqlite://shop.db".to_owned(),
            target: "postgres://app@db/shop".to_owned(),
            seconds: 2.0,
            tables: vec![table("customers", 10, 0), table("order_items", 40, 2)],
            source_readers: 1,
            steps: vec![StepReport {
                id: "load:customers".to_owned(),
                state: "done".to_owned(),
                seconds: 0.25,
                rows: None,
                output: None,
                source_sql: Vec::new(),
                target_sql: Vec::new(),
            }],
            rejects_file: PathBuf::from("shop.rejects.jsonl"),
            orphans: Vec::new(),
            orphans_settled_by_loads: Vec::new(),
            orphans_searched_in_source: Vec::new(),
            notes: vec!["a note | with a pipe".to_owned()],
            not_carried: Vec::new(),
            warnings: vec!["customers.id: a warning".to_owned()],
            checks: vec![CheckResult {
                id: "row-counts:customers".to_owned(),
                status: CheckStatus::Fail,
                seconds: 0.5,
                summary: "1 row(s) missing".to_owned(),
                details: vec!["expected 10".to_owned()],
                differences: Vec::new(),
            }],
            check_error: None,
            failure: None,
            source_rows: 50,
        }
    }

    /// The summary's bytes, as `decant run` printed them before `report/` owned them.
    #[test]
    fn the_run_summary_lines_up_its_table() {
        let mut out = Vec::new();
        super::write_summary(&report(), &mut out, false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "run 3 of `shop` (sqlite://shop.db → postgres://app@db/shop) in 2.00s\n  table              read     written   rejected   seconds  ok\n  customers            10          10          0      0.25  yes\n  order_items          40          38          2      0.25  NO\n  2 row(s) rejected: see `shop.rejects.jsonl` and `REJECTS`\n  note: a note | with a pipe\n  1 type warning(s) and 0 source object(s) not carried: listed in the report\n  checks: 1 check(s): 0 passed, 1 failed, 0 error(s)\n    FAIL  row-counts:customers: 1 row(s) missing\n          expected 10\n"
                .replace("REJECTS", crate::journal::REJECTS_TABLE)
        );
    }

    /// The Markdown report's bytes, a failed run's included.
    #[test]
    fn the_run_markdown_holds_the_result_tables_checks_and_timings() {
        let mut failed = report();
        failed.failure = Some(RunFailure {
            state: "failed".to_owned(),
            step: Some("load:order_items".to_owned()),
            sql: Some("COPY x\n".to_owned()),
            reason: "boom".to_owned(),
            completed: vec!["load:customers".to_owned()],
            in_flight: Vec::new(),
        });
        let mut out = Vec::new();
        super::write_markdown(&failed, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "# decant run 3 — `shop`\n\n**Result: run failed at step `load:order_items`: boom**\n\n- source: `sqlite://shop.db`\n- target: `postgres://app@db/shop`\n- plan hash: `abc`\n- decant 0.1.0\n- duration: 2.00s\n\n## What stopped it\n\n- step: `load:order_items`\n- reason: boom\n- completed steps: `load:customers`\n\n```sql\nCOPY x\n```\n\n## Tables\n\n| table | target | read | written | rejected | seconds |\n| --- | --- | ---: | ---: | ---: | ---: |\n| `customers` | `customers` | 10 | 10 | 0 | 0.25 |\n| `order_items` | `order_items` | 40 | 38 | 2 | 0.25 |\n| **total** (2 tables) | | **50** | **48** | **2** | **0.50** |\n\n## Checks\n\n1 check(s): 0 passed, 1 failed, 0 error(s)\n\n| check | result | seconds | summary |\n| --- | --- | ---: | --- |\n| `row-counts:customers` | fail | 0.50 | 1 row(s) missing |\n\n### `row-counts:customers`: fail\n\n- expected 10\n\n## Orphans and notes\n\n- a note \\| with a pipe\n\n## Warnings and objects not carried\n\n- customers.id: a warning\n\n## Step timings\n\n| step | state | seconds |\n| --- | --- | ---: |\n| `load:customers` | done | 0.25 |\n"
        );
    }
}

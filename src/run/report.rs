//! The run report: per table rows read/written/rejected and duration, per step timings,
//! plan hash and decant version; written as a terminal summary, JSON and Markdown.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use crate::checks::{CheckResult, CheckStatus};
use crate::journal::{RowCounts, RunIdentity};
use crate::orphans::OrphanFinding;
use crate::plan::model::Plan;
use crate::report::checks::{difference_line, tally_line};
use crate::report::colour::alarm;
use crate::url::redact_url;

/// One table's accounting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableReport {
    pub source: String,
    pub target: String,
    pub read: u64,
    pub written: u64,
    pub rejected: u64,
    pub seconds: f64,
}

impl TableReport {
    /// Every row read was written or rejected.
    pub fn reconciles(&self) -> bool {
        self.read == self.written + self.rejected
    }
}

/// One step's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepReport {
    pub id: String,
    pub state: String,
    pub seconds: f64,
    pub rows: Option<RowCounts>,
    /// What a `run:` step's command printed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// The statements the step sent to the source, as `decant plan` prints them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_sql: Vec<String>,
    /// The statements the step sent to the target, as `decant plan` prints them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target_sql: Vec<String>,
}

/// Why a run stopped before its end.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunFailure {
    /// `failed` (a step failed) or `interrupted` (a signal).
    pub state: String,
    /// The step that failed; `None` for a signal.
    pub step: Option<String>,
    /// The statement the failed step was running, when there was one.
    pub sql: Option<String>,
    pub reason: String,
    /// The steps that completed (and stay committed) before it stopped.
    pub completed: Vec<String>,
    /// The steps a signal found running, rolled back.
    pub in_flight: Vec<String>,
}

/// Everything a run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// `run`, or `rehearsal` for a run against a throwaway target.
    pub kind: &'static str,
    pub run_id: i64,
    pub plan_name: String,
    pub plan_hash: String,
    pub source_fingerprint: String,
    pub decant_version: &'static str,
    pub source: String,
    pub target: String,
    pub seconds: f64,
    pub tables: Vec<TableReport>,
    /// The connections that read the source, all in one snapshot: more than one when a big
    /// MySQL table is read in key ranges (their snapshots begin under one global read lock).
    pub source_readers: usize,
    pub steps: Vec<StepReport>,
    pub rejects_file: PathBuf,
    /// Orphan rows found in the source before loading, per foreign key.
    pub orphans: Vec<OrphanFinding>,
    /// Under `settings.orphans: fail`, the foreign keys (target names) whose child values the
    /// loads found all among their parent's keys, without a search in the source.
    pub orphans_settled_by_loads: Vec<String>,
    /// Under `settings.orphans: fail`, the foreign keys searched for orphans in the source.
    pub orphans_searched_in_source: Vec<String>,
    /// What the run did differently from the plan, and why (e.g. a foreign key left out).
    pub notes: Vec<String>,
    /// Source objects the plan does not carry (views, triggers, excluded tables), with why.
    pub not_carried: Vec<String>,
    /// Lossy or ambiguous type decisions, as `decant plan` shows them.
    pub warnings: Vec<String>,
    /// The plan's checks, run at the `checks` step.
    pub checks: Vec<CheckResult>,
    /// Why the checks could not run at all.
    pub check_error: Option<String>,
    /// Why the run stopped before its end; `None` when it ran to the end.
    pub failure: Option<RunFailure>,
    /// Rows in all of the source's tables when the plan was prepared, carried or not: a run
    /// that writes none of them is not a success.
    pub source_rows: u64,
}

impl RunReport {
    pub fn new(run_id: i64, who: &RunIdentity, plan: &Plan, rejects_file: PathBuf) -> Self {
        RunReport {
            kind: "run",
            run_id,
            plan_name: who.plan_name.clone(),
            plan_hash: who.plan_hash.clone(),
            source_fingerprint: who.source_fingerprint.clone(),
            decant_version: env!("CARGO_PKG_VERSION"),
            source: redact_url(&plan.source.url),
            target: redact_url(&plan.target.url),
            seconds: 0.0,
            tables: Vec::new(),
            source_readers: 1,
            steps: Vec::new(),
            rejects_file,
            orphans: Vec::new(),
            orphans_settled_by_loads: Vec::new(),
            orphans_searched_in_source: Vec::new(),
            notes: Vec::new(),
            not_carried: Vec::new(),
            warnings: Vec::new(),
            checks: Vec::new(),
            check_error: None,
            failure: None,
            source_rows: 0,
        }
    }

    /// The report as it may be written and printed: what a migrator printed, why a step
    /// failed, notes and warnings may quote a URL (a `run:` step gets `DATABASE_URL`), so
    /// every secret in them is masked ([`crate::url::redact_text`]).
    pub fn redacted(&self) -> RunReport {
        use crate::url::redact_text;
        let mut report = self.clone();
        for step in &mut report.steps {
            step.output = step.output.as_deref().map(redact_text);
        }
        if let Some(failure) = &mut report.failure {
            failure.reason = redact_text(&failure.reason);
        }
        report.check_error = report.check_error.as_deref().map(redact_text);
        for text in report.notes.iter_mut().chain(report.warnings.iter_mut()) {
            *text = redact_text(text);
        }
        report
    }

    /// It ran to the end and wrote no row, while the source holds some: a plan that matched
    /// nothing, or filters and rejects that left nothing.
    pub fn loaded_nothing(&self) -> bool {
        self.failure.is_none()
            && self.source_rows_seen() > 0
            && self.tables.iter().map(|t| t.written).sum::<u64>() == 0
    }

    /// The source's rows as prepared, or the rows the run read when more.
    fn source_rows_seen(&self) -> u64 {
        self.source_rows
            .max(self.tables.iter().map(|t| t.read).sum::<u64>())
    }

    fn loaded_nothing_text(&self) -> String {
        format!(
            "no row was loaded, though the source holds {} row(s): check which tables the plan carries (`tables`, `naming`), its `filters` and the rejects",
            self.source_rows_seen()
        )
    }

    pub fn rejected(&self) -> u64 {
        self.tables.iter().map(|t| t.rejected).sum()
    }

    /// True when every check passed (and there was none that could not run).
    pub fn checks_passed(&self) -> bool {
        self.check_error.is_none() && self.checks.iter().all(CheckResult::passed)
    }

    /// True when every row is accounted for, none was rejected and every check passed.
    pub fn clean(&self) -> bool {
        self.failure.is_none()
            && self.tables.iter().all(TableReport::reconciles)
            && self.rejected() == 0
            && self.checks_passed()
            && !self.loaded_nothing()
    }

    /// The summary table for a terminal; with `colour`, what went wrong stands out.
    pub fn write_summary(&self, out: &mut dyn Write, colour: bool) -> io::Result<()> {
        writeln!(
            out,
            "run {} of `{}` ({} → {}) in {:.2}s",
            self.run_id, self.plan_name, self.source, self.target, self.seconds
        )?;
        let width = self
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
        for t in &self.tables {
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
        if self.loaded_nothing() {
            writeln!(
                out,
                "  {}: {}",
                alarm("WARNING", colour),
                self.loaded_nothing_text()
            )?;
        }
        if self.rejected() > 0 {
            writeln!(
                out,
                "  {} row(s) rejected: see `{}` and `{}`",
                self.rejected(),
                self.rejects_file.display(),
                crate::journal::REJECTS_TABLE
            )?;
        }
        for finding in &self.orphans {
            writeln!(
                out,
                "  orphans: foreign key `{}`: {}",
                finding.constraint,
                finding.describe()
            )?;
        }
        for note in &self.notes {
            writeln!(out, "  note: {note}")?;
        }
        if !self.warnings.is_empty() || !self.not_carried.is_empty() {
            writeln!(
                out,
                "  {} type warning(s) and {} source object(s) not carried: listed in the report",
                self.warnings.len(),
                self.not_carried.len()
            )?;
        }
        if let Some(e) = &self.check_error {
            writeln!(out, "  checks: could not run: {e}")?;
        } else if self.checks.is_empty() {
            writeln!(out, "  checks: none in the plan")?;
        } else {
            writeln!(out, "  checks: {}", tally_line(&self.checks))?;
            for r in &self.checks {
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
    pub fn result_line(&self) -> String {
        let what = self.kind;
        if let Some(f) = &self.failure {
            let at = f
                .step
                .as_ref()
                .map(|s| format!(" at step `{s}`"))
                .unwrap_or_default();
            return format!("{what} {}{at}: {}", f.state, f.reason);
        }
        let mut problems = Vec::new();
        let unreconciled = self.tables.iter().filter(|t| !t.reconciles()).count();
        if unreconciled > 0 {
            problems.push(format!(
                "{unreconciled} table(s) do not reconcile read = written + rejected"
            ));
        }
        if self.loaded_nothing() {
            problems.push(self.loaded_nothing_text());
        }
        if self.rejected() > 0 {
            problems.push(format!("{} row(s) rejected", self.rejected()));
        }
        if let Some(e) = &self.check_error {
            problems.push(format!("the checks could not run: {e}"));
        }
        let (_, failed, errors) = crate::checks::tally(&self.checks);
        if failed + errors > 0 {
            problems.push(format!("{failed} check(s) failed, {errors} could not run"));
        }
        if problems.is_empty() {
            format!(
                "{what} succeeded: every row accounted for, {} check(s) passed",
                self.checks.len()
            )
        } else {
            format!("{what} failed: {}", problems.join("; "))
        }
    }

    /// The report for a pull request or a cutover ticket: the result first, then the tables
    /// with their totals, the checks, and the step timings last.
    pub fn write_markdown(&self, out: &mut dyn Write) -> io::Result<()> {
        let title = if self.kind == "rehearsal" {
            "decant rehearsal".to_owned()
        } else {
            format!("decant run {}", self.run_id)
        };
        writeln!(out, "# {title} — `{}`\n", self.plan_name)?;
        writeln!(out, "**Result: {}**\n", md_escape(&self.result_line()))?;
        writeln!(
            out,
            "- source: `{}`\n- target: `{}`\n- plan hash: `{}`\n- decant {}\n- duration: {:.2}s\n",
            self.source, self.target, self.plan_hash, self.decant_version, self.seconds
        )?;
        if let Some(f) = &self.failure {
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
        for t in &self.tables {
            writeln!(
                out,
                "| `{}` | `{}` | {} | {} | {} | {:.2} |",
                t.source, t.target, t.read, t.written, t.rejected, t.seconds
            )?;
        }
        let sum = |f: fn(&TableReport) -> u64| self.tables.iter().map(f).sum::<u64>();
        writeln!(
            out,
            "| **total** ({} tables) | | **{}** | **{}** | **{}** | **{:.2}** |",
            self.tables.len(),
            sum(|t| t.read),
            sum(|t| t.written),
            sum(|t| t.rejected),
            self.tables.iter().map(|t| t.seconds).sum::<f64>()
        )?;
        writeln!(out, "\n## Checks\n")?;
        if let Some(e) = &self.check_error {
            writeln!(out, "The checks could not run: {}", md_escape(e))?;
        } else if self.checks.is_empty() {
            writeln!(
                out,
                "{}",
                if self.failure.is_some() {
                    "The checks did not run."
                } else {
                    "The plan has no checks."
                }
            )?;
        } else {
            writeln!(out, "{}\n", tally_line(&self.checks))?;
            writeln!(
                out,
                "| check | result | seconds | summary |\n| --- | --- | ---: | --- |"
            )?;
            for r in &self.checks {
                writeln!(
                    out,
                    "| `{}` | {} | {:.2} | {} |",
                    r.id,
                    r.status.label().to_lowercase(),
                    r.seconds,
                    md_escape(&r.summary)
                )?;
            }
            for r in self.checks.iter().filter(|r| !r.passed()) {
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
        if !self.orphans.is_empty() || !self.notes.is_empty() {
            writeln!(out, "\n## Orphans and notes\n")?;
            for finding in &self.orphans {
                writeln!(
                    out,
                    "- foreign key `{}`: {}",
                    finding.constraint,
                    md_escape(&finding.describe())
                )?;
            }
            for note in &self.notes {
                writeln!(out, "- {}", md_escape(note))?;
            }
        }
        if !self.warnings.is_empty() || !self.not_carried.is_empty() {
            writeln!(out, "\n## Warnings and objects not carried\n")?;
            for line in self.warnings.iter().chain(&self.not_carried) {
                writeln!(out, "- {}", md_escape(line))?;
            }
        }
        writeln!(out, "\n## Step timings\n")?;
        writeln!(out, "| step | state | seconds |\n| --- | --- | ---: |")?;
        for s in &self.steps {
            writeln!(out, "| `{}` | {} | {:.2} |", s.id, s.state, s.seconds)?;
        }
        Ok(())
    }
}

/// Text safe in a Markdown table cell or list item: pipes escaped, newlines flattened.
fn md_escape(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

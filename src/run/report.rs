//! The run report: per table rows read/written/rejected and duration, per step timings,
//! plan hash and decant version; written as a terminal summary, JSON and Markdown.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use crate::checks::foreign_keys::OrphanFinding;
use crate::checks::{difference_line, tally_line, CheckResult, CheckStatus};
use crate::journal::{RowCounts, RunIdentity};
use crate::plan::model::Plan;
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
}

/// Everything a run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run_id: i64,
    pub plan_name: String,
    pub plan_hash: String,
    pub source_fingerprint: String,
    pub decant_version: &'static str,
    pub source: String,
    pub target: String,
    pub seconds: f64,
    pub tables: Vec<TableReport>,
    pub steps: Vec<StepReport>,
    pub rejects_file: PathBuf,
    /// Orphan rows found in the source before loading, per foreign key.
    pub orphans: Vec<OrphanFinding>,
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
}

impl RunReport {
    pub fn new(run_id: i64, who: &RunIdentity, plan: &Plan, rejects_file: PathBuf) -> Self {
        RunReport {
            run_id,
            plan_name: who.plan_name.clone(),
            plan_hash: who.plan_hash.clone(),
            source_fingerprint: who.source_fingerprint.clone(),
            decant_version: env!("CARGO_PKG_VERSION"),
            source: redact_url(&plan.source.url),
            target: redact_url(&plan.target.url),
            seconds: 0.0,
            tables: Vec::new(),
            steps: Vec::new(),
            rejects_file,
            orphans: Vec::new(),
            notes: Vec::new(),
            not_carried: Vec::new(),
            warnings: Vec::new(),
            checks: Vec::new(),
            check_error: None,
        }
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
        self.tables.iter().all(TableReport::reconciles)
            && self.rejected() == 0
            && self.checks_passed()
    }

    /// The summary table for a terminal.
    pub fn write_summary(&self, out: &mut dyn Write) -> io::Result<()> {
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
                    "yes"
                } else {
                    "NO"
                }
            )?;
        }
        if self.rejected() > 0 {
            writeln!(
                out,
                "  {} row(s) rejected: see `{}` and `decant.decant_rejects`",
                self.rejected(),
                self.rejects_file.display()
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
                writeln!(out, "    {:<5} {}: {}", r.status.label(), r.id, r.summary)?;
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

    /// The report for a pull request or a cutover ticket.
    pub fn write_markdown(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "# decant run {} — `{}`\n", self.run_id, self.plan_name)?;
        writeln!(
            out,
            "- source: `{}`\n- target: `{}`\n- plan hash: `{}`\n- decant {}\n- duration: {:.2}s\n",
            self.source, self.target, self.plan_hash, self.decant_version, self.seconds
        )?;
        writeln!(out, "| table | target | read | written | rejected | seconds |\n| --- | --- | ---: | ---: | ---: | ---: |")?;
        for t in &self.tables {
            writeln!(
                out,
                "| `{}` | `{}` | {} | {} | {} | {:.2} |",
                t.source, t.target, t.read, t.written, t.rejected, t.seconds
            )?;
        }
        writeln!(out, "\n| step | state | seconds |\n| --- | --- | ---: |")?;
        for s in &self.steps {
            writeln!(out, "| `{}` | {} | {:.2} |", s.id, s.state, s.seconds)?;
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
        writeln!(out, "\n## Checks\n")?;
        if let Some(e) = &self.check_error {
            writeln!(out, "The checks could not run: {}", md_escape(e))?;
        } else if self.checks.is_empty() {
            writeln!(out, "The plan has no checks.")?;
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
        Ok(())
    }
}

/// Text safe in a Markdown table cell or list item: pipes escaped, newlines flattened.
fn md_escape(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

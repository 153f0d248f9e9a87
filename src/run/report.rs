//! The run report: per table rows read/written/rejected and duration, per step timings,
//! plan hash and decant version; written as a terminal summary, JSON and Markdown.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

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
        }
    }

    pub fn rejected(&self) -> u64 {
        self.tables.iter().map(|t| t.rejected).sum()
    }

    /// True when every row is accounted for and none was rejected.
    pub fn clean(&self) -> bool {
        self.tables.iter().all(TableReport::reconciles) && self.rejected() == 0
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
        writeln!(
            out,
            "  checks: not run by this version of decant (`decant check` comes next)"
        )?;
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
        Ok(())
    }
}

//! The run report: per table rows read/written/rejected and duration, per step timings,
//! plan hash and decant version, and what they add up to; `report::run` prints it.

use std::path::PathBuf;

use serde::Serialize;

use crate::checks::CheckResult;
use crate::journal::{RowCounts, RunIdentity};
use crate::orphans::OrphanFinding;
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
    pub fn source_rows_seen(&self) -> u64 {
        self.source_rows
            .max(self.tables.iter().map(|t| t.read).sum::<u64>())
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
}

//! Why a run stopped ([`RunError`]) and how each reason reads on the terminal, with the
//! partial report a run that started hands back.

use super::app_definitions;
use super::step::StepError;
use crate::errors::chain;
use crate::journal::JournalError;
use crate::orphans::OrphanFinding;
use crate::run::report::RunReport;
use crate::signals;

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    AppDefinitions(#[from] app_definitions::AppDefinitionsError),
    #[error("cannot open the source")]
    Source(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("cannot read the source `{url}`")]
    SourceFile {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the rejects file `{}`", path.display())]
    Rejects {
        path: std::path::PathBuf,
        #[source]
        source: crate::copy::CopyError,
    },
    #[error("{}", tables_exist_text(schema, tables, unfinished.as_ref(), *made_by_decant))]
    TablesExist {
        schema: String,
        tables: Vec<String>,
        /// The newest run into the schema, when it never finished: its id and journal status.
        unfinished: Option<(i64, String)>,
        /// Whether a decant run recorded creating any of these tables; when none did they
        /// may be an app's, and dropping them is never the advice.
        made_by_decant: bool,
    },
    #[error("run {run} into the app's schema `{schema}` dropped the app's keys, indexes and foreign keys and has not made them all again (it is `{status}`); a new run would start from a schema that is not the app's: continue run {run} with `run --resume`, or undo it with `decant rollback`, which empties what it loaded and makes them again as they were")]
    AppKeysDropped {
        run: i64,
        status: String,
        schema: String,
    },
    #[error("nothing to resume: {0}")]
    NothingToResume(String),
    #[error("refusing to resume run {run}: the {what} changed since it started, and a resume carries on exactly the run that started")]
    Changed { run: i64, what: &'static str },
    #[error("orphan rows in the source: settings.orphans is fail, so the run stopped before any foreign key was made:\n{}\nset `settings.orphans` to `reject` (leave those rows out, as rejects) or `skip_constraint` (load them, without the foreign key)", orphans_text(findings))]
    Orphans {
        findings: Vec<OrphanFinding>,
        completed: Vec<String>,
        /// What the run did up to the search's result, with the orphans in it.
        report: Box<RunReport>,
    },
    #[error(transparent)]
    OrphanSearch(crate::prepare::SettleError),
    #[error("interrupted by {}: {}", signals::name(*.signal), interrupted_text(.in_flight))]
    Interrupted {
        signal: i32,
        run: i64,
        in_flight: Vec<String>,
        completed: Vec<String>,
        /// What the run did up to the signal, with the interruption in it.
        report: Box<RunReport>,
    },
    /// A step failed. Its note, when there is one, says what else is wrong after the failure
    /// (the app's schema not whole again); [`RunError::text`] ends with it.
    #[error("step `{step}` failed{}", sql.as_ref().map(|s| format!(" at `{}`", first_line(s))).unwrap_or_default())]
    Step {
        step: String,
        sql: Option<String>,
        #[source]
        cause: Box<StepError>,
        note: Option<String>,
        completed: Vec<String>,
        /// What the run did up to the failure, with the failure in it: the report a team
        /// pastes into an incident ticket.
        report: Box<RunReport>,
    },
}

fn tables_exist_text(
    schema: &str,
    tables: &[String],
    unfinished: Option<&(i64, String)>,
    made_by_decant: bool,
) -> String {
    let tables = tables.join(", ");
    if let Some((run, status)) = unfinished {
        return format!(
            "run {run} into schema `{schema}` never finished (the journal has it `{status}`), and the tables it made are still there: {tables}; continue that run with `decant run --resume`, or undo it with `decant rollback` (it drops the tables the run created) and then run again"
        );
    }
    if made_by_decant {
        format!("target tables already exist in schema `{schema}`: {tables}; set `settings.if_exists` to drop, truncate or append")
    } else {
        format!("target tables already exist in schema `{schema}`: {tables}; no decant run made them, so they may be an app's: to load into an app's tables, write the plan with `decant init --app-schema` (`target.owner: app`, which never drops them); otherwise choose another `target.schema`, or set `settings.if_exists` to truncate or append")
    }
}

pub(super) fn interrupted_text(in_flight: &[String]) -> String {
    if in_flight.is_empty() {
        "no step was in flight".to_owned()
    } else {
        format!(
            "the step(s) in flight were rolled back ({})",
            in_flight.join(", ")
        )
    }
}

pub(super) fn orphans_text(findings: &[OrphanFinding]) -> String {
    findings
        .iter()
        .map(|f| format!("  foreign key `{}`: {}", f.constraint, f.describe()))
        .collect::<Vec<_>>()
        .join("\n")
}

impl RunError {
    /// The error on one line with its causes ([`chain`]), then a failed step's note.
    pub fn text(&self) -> String {
        let mut text = chain(self);
        if let RunError::Step {
            note: Some(note), ..
        } = self
        {
            text.push('\n');
            text.push_str(note);
        }
        text
    }

    /// The steps that completed before a step failed, as a line for the terminal.
    pub fn completed_line(&self) -> Option<String> {
        match self {
            RunError::Step { completed, .. }
            | RunError::Interrupted { completed, .. }
            | RunError::Orphans { completed, .. } => Some(format!(
                "completed steps: {}",
                if completed.is_empty() {
                    "none".to_owned()
                } else {
                    completed.join(", ")
                }
            )),
            _ => None,
        }
    }

    /// The partial report of a run that started and then stopped: a failed step, orphans or
    /// a signal.
    pub fn report_mut(&mut self) -> Option<&mut RunReport> {
        match self {
            RunError::Step { report, .. }
            | RunError::Interrupted { report, .. }
            | RunError::Orphans { report, .. } => Some(report),
            _ => None,
        }
    }
}

fn first_line(sql: &str) -> String {
    let line = sql.lines().next().unwrap_or_default();
    if sql.lines().nth(1).is_some() {
        format!("{line} …")
    } else {
        line.to_owned()
    }
}

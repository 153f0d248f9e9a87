//! How a run ends: the app's schema gets its definitions back, the journal records the run's
//! state (retrying on a fresh connection), and the scheduler's stop becomes the run's result.

use std::time::Instant;

use super::app_definitions;
use super::errors::{interrupted_text, orphans_text, RunError};
use super::scheduler::Stop;
use super::step::StepError;
use crate::engines::TargetConnection;
use crate::errors::chain;
use crate::journal::{self, RunState};
use crate::orphans::OrphanFinding;
use crate::plan::model::SchemaOwner;
use crate::resolve::ResolvedPlan;
use crate::run::report::{RunFailure, RunReport};
use crate::signals;

/// Closes a run that did not succeed: steps still `running` in the journal take the run's
/// state. The control connection may be gone (the target restarted under the run), so a new
/// one is tried for a while before giving up; the journal then still says `running`, and
/// `decant status` shows that no process holds the run's lock.
pub(super) fn end_run(
    control: &mut TargetConnection,
    url: &str,
    run: i64,
    state: RunState,
    reason: &str,
) {
    if journal::end_run(control, run, state, reason).is_ok() {
        return;
    }
    let deadline = Instant::now() + std::time::Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(mut fresh) = journal::connect(url) {
            if journal::end_run(&mut fresh, run, state, reason).is_ok() {
                return;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// Ends a run after the scheduler stopped: the app's schema gets its definitions back, the
/// journal takes the run's state, and the stop becomes the run's result with its report.
#[allow(clippy::too_many_arguments)]
pub(super) fn conclude(
    target: &mut TargetConnection,
    target_url: &str,
    resolved: &ResolvedPlan,
    run_id: i64,
    stop: Option<Stop>,
    completed: Vec<String>,
    found_orphans: Vec<OrphanFinding>,
    mut report: RunReport,
) -> Result<RunReport, RunError> {
    let schema = &resolved.schema;
    // Whatever the outcome, the app's schema gets back every definition the run recorded:
    // after a success that is its comments, cluster mark, replica identity, statistics
    // targets and trigger states; after a failure or a signal, its keys too.
    let app_owned = resolved.owner == SchemaOwner::App;
    let restored = app_owned.then(|| app_definitions::restore(target, schema, run_id, false));
    let not_restored = match &restored {
        Some(Ok(r)) if !r.failed.is_empty() => Some(format!(
            "the app's schema is not whole again: these definitions could not be made:\n{}\ncontinue with `run --resume`, or undo the run with `decant rollback` (it empties what the run loaded, then makes them)",
            app_definitions::failures_text(&r.failed)
        )),
        Some(Err(e)) => Some(format!(
            "the app's definitions could not be restored: {}; continue with `run --resume`, or undo the run with `decant rollback`",
            chain(e)
        )),
        _ => None,
    };
    // A failed step's message carries the note after its causes.
    let (stop, note) = match (stop, &not_restored) {
        (None, Some(message)) => (
            Some(Stop::Failed {
                step: "restore-app-schema".to_owned(),
                sql: None,
                cause: Box::new(StepError::NotRestored(message.clone())),
            }),
            None,
        ),
        (Some(failed @ Stop::Failed { .. }), Some(note)) => (Some(failed), Some(note.clone())),
        (stop, _) => (stop, None),
    };
    if let Some(note) = &not_restored {
        report.notes.push(note.clone());
        // A failed step's message carries it; any other ending says it here.
        if !matches!(stop, Some(Stop::Failed { .. })) {
            signals::say(&format!("{note}\n"));
        }
    }
    let outcome = match stop {
        None => {
            journal::finish_run(target, run_id, RunState::Succeeded)?;
            Ok(report)
        }
        Some(Stop::Signal { signal, in_flight }) => {
            let reason = format!("stopped by {}", signals::name(signal));
            end_run(target, target_url, run_id, RunState::Interrupted, &reason);
            report.failure = Some(RunFailure {
                state: RunState::Interrupted.as_str().to_owned(),
                step: None,
                sql: None,
                reason: format!("{reason}; {}", interrupted_text(&in_flight)),
                completed: completed.clone(),
                in_flight: in_flight.clone(),
            });
            Err(RunError::Interrupted {
                signal,
                run: run_id,
                in_flight,
                completed,
                report: Box::new(report),
            })
        }
        Some(Stop::Orphans) => {
            let reason = format!(
                "orphan rows in the source (settings.orphans: fail):\n{}",
                orphans_text(&found_orphans)
            );
            end_run(target, target_url, run_id, RunState::Failed, &reason);
            report.orphans = found_orphans.clone();
            report.failure = Some(RunFailure {
                state: RunState::Failed.as_str().to_owned(),
                step: None,
                sql: None,
                reason,
                completed: completed.clone(),
                in_flight: Vec::new(),
            });
            Err(RunError::Orphans {
                findings: found_orphans,
                completed,
                report: Box::new(report),
            })
        }
        Some(Stop::Failed { step, sql, cause }) => {
            let mut message = chain(&cause);
            if let Some(note) = &note {
                message = format!("{message}\n{note}");
            }
            end_run(target, target_url, run_id, RunState::Failed, &message);
            report.failure = Some(RunFailure {
                state: RunState::Failed.as_str().to_owned(),
                step: Some(step.clone()),
                sql: sql.clone(),
                reason: message.clone(),
                completed: completed.clone(),
                in_flight: Vec::new(),
            });
            Err(RunError::Step {
                step,
                sql,
                cause,
                note,
                completed,
                report: Box::new(report),
            })
        }
    };
    // Let the lock go now rather than when the server notices the connection closed: a
    // command started right after this one (a check, a resume) finds it free.
    let _ = journal::unlock_target(target, schema);
    outcome
}

//! `decant cutover --reverse`: the switch back from PostgreSQL to the old database as one
//! measured window — pre-flight, catch-up reverse sync, the app's PostgreSQL tables paused,
//! final reverse sync, a comparison of every row through the inverse, `cutover_reverse` steps.
//!
//! PostgreSQL is never written: the pause is `LOCK TABLE … IN EXCLUSIVE MODE` on the plan's
//! target tables, held by a read-only transaction (`engines::pause`), or the operator's word
//! that the app is stopped (`--app-stopped`), verified by the comparison. Whatever fails
//! inside the window, the pause is released first; the final reverse sync is one transaction
//! of the old database, so it holds the last good reverse sync or PostgreSQL as of the pause.

use std::time::Instant;

use serde::Serialize;

use super::cutover::{run_cutover_steps, CutoverError, CutoverOptions, PauseWindow, StepOutput};
use crate::engines::pause::WritePause;
use crate::engines::target_as_source;
use crate::errors::chain;
use crate::journal::reverse::ReverseState;
use crate::plan::model::StepPhase;
use crate::prepare::Prepared;
use crate::signals;
use crate::sync::reverse::{read_journal, sync_reverse, ReverseReport};

/// What a reverse cutover did, for `<plan>.cutover-reverse.report.json` and `.md`.
#[derive(Debug, Clone, Serialize)]
pub struct ReverseCutoverReport {
    pub plan: String,
    /// The forward run whose target the app ran on.
    pub run_id: i64,
    /// The write pause (`lock`: decant held the app's PostgreSQL tables), when, and where
    /// its seconds went.
    #[serde(flatten)]
    pub window: PauseWindow,
    /// How long ago the last reverse sync before this window applied.
    pub catch_up_age_seconds: f64,
    /// The reverse sync just before the pause, while the app still wrote on PostgreSQL.
    pub catch_up: Option<ReverseReport>,
    /// The final reverse sync, inside the pause.
    pub sync: Option<ReverseReport>,
    /// Every row of every planned table compared through the inverse after the final sync
    /// (a dry reverse sync): `true` when the old database holds all of PostgreSQL's rows.
    pub verified_equal: Option<bool>,
    pub steps: Vec<StepOutput>,
    /// What failed inside the window, and what to do.
    pub failure: Option<String>,
    pub seconds: f64,
}

/// Does the reverse cutover; `say` hears each stage as it starts.
pub fn cutover_reverse(
    prepared: &Prepared,
    options: &CutoverOptions,
    say: &mut dyn FnMut(&str),
) -> Result<ReverseCutoverReport, CutoverError> {
    let started = Instant::now();
    let target_url = prepared.loaded.plan.target.url.clone();
    let (run_id, age) = preflight(prepared, options)?;
    say(&format!(
        "pre-flight: the old database caught up with run {run_id}'s target {age:.0}s ago"
    ));
    let mut report = ReverseCutoverReport {
        plan: prepared.resolved.name.clone(),
        run_id,
        window: PauseWindow::new(options.app_stopped),
        catch_up_age_seconds: age,
        catch_up: None,
        sync: None,
        verified_equal: None,
        steps: Vec::new(),
        failure: None,
        seconds: 0.0,
    };
    if !options.app_stopped {
        say("catch-up reverse sync (the app still writes on PostgreSQL)");
        let caught_up = sync_reverse(prepared, &target_url, false).map_err(|e| {
            CutoverError::Refused(format!(
                "the catch-up reverse sync before the pause failed: {}",
                chain(&e)
            ))
        })?;
        report.catch_up = Some(caught_up);
    }
    let pause = if options.app_stopped {
        None
    } else {
        let tables: Vec<String> = prepared
            .resolved
            .tables
            .iter()
            .map(|t| t.target.clone())
            .collect();
        let url = with_search_path(&target_url, &prepared.resolved.schema);
        Some(WritePause::begin(
            &target_as_source(&url),
            &tables,
            options.lock_wait,
        )?)
    };
    report.window.hold();
    say("write pause: the app's writers on PostgreSQL wait now");
    signals::test_point("paused", "cutover-reverse");
    let outcome = inside_the_pause(prepared, &target_url, &mut report, say);
    report.window.release(pause, say);
    if let Err(message) = outcome {
        report.failure = Some(format!(
            "{message}\nthe pause is released and PostgreSQL was never written; the old database holds {}: the app stays on PostgreSQL. Fix the cause, then `decant sync --reverse` and `decant cutover --reverse` again",
            if report.sync.is_some() {
                "PostgreSQL's rows as of the pause (the final reverse sync committed)"
            } else {
                "the last good reverse sync"
            }
        ));
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The window: final reverse sync, the comparison, the plan's `cutover_reverse` steps. The
/// first failure ends it.
fn inside_the_pause(
    prepared: &Prepared,
    target_url: &str,
    report: &mut ReverseCutoverReport,
    say: &mut dyn FnMut(&str),
) -> Result<(), String> {
    let mut next = |report: &mut ReverseCutoverReport, name: &str| {
        report.window.next_stage(name);
        say(name);
    };
    let outcome = (|| {
        next(report, "final reverse sync");
        let synced = sync_reverse(prepared, target_url, false)
            .map_err(|e| format!("the final reverse sync failed: {}", chain(&e)))?;
        let rejected = synced.counts().rejected;
        report.sync = Some(synced);
        if rejected > 0 {
            return Err(format!(
                "the final reverse sync left {rejected} row(s) out (see the report): the old database would not hold PostgreSQL's rows"
            ));
        }
        next(report, "every row compared through the inverse");
        let compared = sync_reverse(prepared, target_url, true)
            .map_err(|e| format!("the comparison failed: {}", chain(&e)))?;
        let c = compared.counts();
        let equal = c.inserted + c.updated + c.deleted + c.rejected == 0;
        report.verified_equal = Some(equal);
        if !equal {
            return Err(format!(
                "after the final reverse sync the old database still differs from PostgreSQL ({} to insert, {} to update, {} to delete, {} left out): {}",
                c.inserted,
                c.updated,
                c.deleted,
                c.rejected,
                if report.window.app_stopped() {
                    "the app was not stopped"
                } else {
                    "something wrote during the pause"
                }
            ));
        }
        let steps =
            run_cutover_steps(prepared, StepPhase::CutoverReverse, target_url, &mut |id| {
                next(report, &format!("step `{id}`"))
            })?;
        report.steps = steps;
        Ok(())
    })();
    report.window.end_stages();
    outcome
}

/// Refuses a reverse cutover without a recent reverse sync: the final one inside the pause
/// would carry everything the app wrote since.
fn preflight(prepared: &Prepared, options: &CutoverOptions) -> Result<(i64, f64), CutoverError> {
    let journal = read_journal(prepared).map_err(|e| CutoverError::Refused(chain(&e)))?;
    let last = journal
        .syncs
        .iter()
        .rev()
        .find(|r| r.state == ReverseState::Applied)
        .ok_or_else(|| {
            CutoverError::Refused(
                "no reverse sync has brought the old database up to PostgreSQL yet: run `decant sync PLAN --reverse` first".to_owned(),
            )
        })?;
    let age = last
        .started_at
        .parse::<jiff::Timestamp>()
        .map(|then| (jiff::Timestamp::now() - then).get_seconds() as f64)
        .map_err(|e| {
            CutoverError::Refused(format!(
                "the way back's journal names a time that is not one (`{}`: {e}): look at the journal before switching",
                last.started_at
            ))
        })?;
    if age > options.max_catch_up_age.as_secs_f64() {
        return Err(CutoverError::Refused(format!(
            "the old database last caught up with PostgreSQL {age:.0}s ago (reverse sync {}), more than {}s: the final reverse sync inside the pause would be long; run `decant sync PLAN --reverse` first",
            last.id,
            options.max_catch_up_age.as_secs()
        )));
    }
    Ok((last.run_id, age))
}

/// `url` with its session's `search_path` set to `schema`, so the pause names the plan's
/// target tables as they are named in the plan (libpq's `options` URL parameter).
fn with_search_path(url: &str, schema: &str) -> String {
    let option = format!("-c search_path={}", crate::dialect::quote_ident(schema));
    let encoded: String = option
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}options={encoded}")
}

#[cfg(test)]
mod tests {
    use super::with_search_path;

    #[test]
    fn the_pause_connection_names_the_plans_schema_in_its_options() {
        assert_eq!(
            with_search_path("postgres://u@h/db", "app"),
            "postgres://u@h/db?options=-c%20search_path%3D%22app%22"
        );
        assert_eq!(
            with_search_path("postgres://u@h/db?sslmode=disable", "My Schema"),
            "postgres://u@h/db?sslmode=disable&options=-c%20search_path%3D%22My%20Schema%22"
        );
    }
}

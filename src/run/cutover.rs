//! `decant cutover`: the switch from the old database to PostgreSQL as one measured window —
//! pre-flight, catch-up, write pause, final sync, sequences, checks, cutover steps, release.
//!
//! The source is never written: the pause is a lock held (see `engines::pause`), or the
//! operator's word that the app is stopped, verified afterwards by a sync that finds nothing.
//! Whatever fails inside the window, the pause is released first; the final sync is one
//! transaction, so the target is the last good sync or the source as of the pause.

use std::time::{Duration, Instant, SystemTime};

use diesel::connection::SimpleConnection;
use serde::Serialize;

use crate::checks::{run_plan_checks, CheckResult, CheckStatus, Databases};
use crate::engines::changes::{ChangeMark, SourceChanges, TableChanges};
use crate::engines::open_source;
use crate::engines::pause::WritePause;
use crate::errors::chain;
use crate::graph::StepKind;
use crate::journal::{self, RunState};
use crate::plan::model::StepPhase;
use crate::prepare::Prepared;
use crate::signals;
use crate::sync::{sync, sync_changes, SyncReport};
use crate::url::parse_source_url;

/// How a cutover is done.
#[derive(Debug, Clone)]
pub struct CutoverOptions {
    /// No lock: the operator stopped the app; a dry sync after the window proves it.
    pub app_stopped: bool,
    /// The run or a sync must have caught up at most this long ago.
    pub max_catch_up_age: Duration,
    /// How long the pause may wait for the app's writes in flight.
    pub lock_wait: Duration,
    /// Run the plan's checksums inside the pause too.
    pub checksums: bool,
    /// The run's JSON report, whose checks must have passed (when it exists).
    pub run_report: Option<std::path::PathBuf>,
}

/// One check as the cutover report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CheckLine {
    pub id: String,
    pub status: CheckStatus,
    pub summary: String,
}

/// A plan step of `phase: cutover` and what it printed.
#[derive(Debug, Clone, Serialize)]
pub struct StepOutput {
    pub id: String,
    pub output: String,
}

/// What a cutover did, for `cutover.report.json` and `.md`.
#[derive(Debug, Clone, Serialize)]
pub struct CutoverReport {
    pub plan: String,
    pub run_id: i64,
    /// The write pause: how it was held, when, and where its seconds went.
    #[serde(flatten)]
    pub window: PauseWindow,
    pub catch_up_age_seconds: f64,
    /// The sync just before the pause, while the app still wrote.
    pub catch_up: Option<SyncReport>,
    /// The final sync, inside the pause.
    pub sync: Option<SyncReport>,
    /// What the final sync read: only what changed since the catch-up, or why everything.
    pub final_sync_scope: Option<FinalSyncScope>,
    pub sequences: Vec<String>,
    pub checks: Vec<CheckLine>,
    /// The plan's checks left out of the pause (checksums, unless `--checksums`).
    pub checks_skipped: Vec<String>,
    /// Which tables the row counts (and checksums) inside the pause covered, and why.
    pub checks_scope: Option<String>,
    pub steps: Vec<StepOutput>,
    /// With `--app-stopped`: the dry sync after the window found no change.
    pub verified_unchanged: Option<bool>,
    /// What failed inside the window, and what to do.
    pub failure: Option<String>,
    pub seconds: f64,
}

/// What the final sync inside the pause read. Incremental: the source's engine named the
/// rows written since the catch-up began (SQLite: the pages its WAL holds since a mark taken
/// just before it), so only the windows holding them were read again; every other table
/// was left alone. Otherwise `fallback` says why every row was read, as without a mark.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FinalSyncScope {
    pub incremental: bool,
    pub fallback: Option<String>,
    /// How long the app's writes were held while the mark was taken, before the catch-up.
    pub mark_held_seconds: f64,
    /// Pages written since the mark.
    pub pages_changed: usize,
    /// Tables with rows named as changed.
    pub tables_changed: Vec<String>,
    /// Tables read whole all the same, and why (an overflow page changed, no rowid).
    pub tables_read_whole: Vec<(String, String)>,
    /// Tables not read at all: nothing of theirs was written since the mark.
    pub tables_skipped: usize,
    /// Key ranges compared row by row by the final sync.
    pub ranges_compared: usize,
}

/// Why a cutover did not start; nothing was paused or written.
#[derive(Debug, thiserror::Error)]
pub enum CutoverError {
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    #[error("cutover refused: {0}")]
    Refused(String),
    #[error("cannot pause the source's writes: {0}")]
    Pause(#[from] crate::engines::pause::PauseError),
}

/// Does the cutover; `say` hears each stage as it starts (the console's live lines).
pub fn cutover(
    prepared: &Prepared,
    options: &CutoverOptions,
    say: &mut dyn FnMut(&str),
) -> Result<CutoverReport, CutoverError> {
    let started = Instant::now();
    let plan = &prepared.loaded.plan;
    let source_url = parse_source_url(&plan.source.url, prepared.loaded.base_dir())
        .map_err(|e| CutoverError::Refused(e.to_string()))?;
    // Pre-flight: nothing is paused until every reason to refuse has been looked for.
    let (run_id, age) = preflight(prepared, options)?;
    say(&format!(
        "pre-flight: run {run_id} succeeded; the target caught up {age:.0}s ago"
    ));
    let mut report = CutoverReport {
        plan: prepared.resolved.name.clone(),
        run_id,
        window: PauseWindow::new(options.app_stopped),
        catch_up_age_seconds: age,
        catch_up: None,
        sync: None,
        final_sync_scope: None,
        sequences: Vec::new(),
        checks: Vec::new(),
        checks_skipped: Vec::new(),
        checks_scope: None,
        steps: Vec::new(),
        verified_unchanged: None,
        failure: None,
        seconds: 0.0,
    };
    // A catch-up while the app still writes: the final sync inside the pause then carries only
    // what the app wrote during this one, which is what keeps the pause short.
    // The mark before the catch-up: the final sync then reads only what was written since.
    let mut mark = None;
    if !options.app_stopped {
        mark = Some(ChangeMark::take(&source_url, options.lock_wait));
        say("catch-up sync (the app still writes)");
        let caught_up = sync(prepared, &plan.target.url, false).map_err(|e| {
            CutoverError::Refused(format!(
                "the catch-up sync before the pause failed: {}",
                chain(&e)
            ))
        })?;
        report.catch_up = Some(caught_up);
        signals::test_point("caught-up", "cutover");
    }
    let pause = if options.app_stopped {
        None
    } else {
        let tables: Vec<String> = prepared
            .resolved
            .tables
            .iter()
            .map(|t| t.source.clone())
            .collect();
        Some(WritePause::begin(&source_url, &tables, options.lock_wait)?)
    };
    report.window.hold();
    say("write pause: the source's writers wait now");
    signals::test_point("paused", "cutover");
    let outcome = inside_the_pause(prepared, options, mark, &mut report, say);
    report.window.release(pause, say);
    if let Err(message) = outcome {
        report.failure = Some(format!(
            "{message}\nthe pause is released and the source was never written; the target holds {}: the app stays on the source. Fix the cause, then `decant sync` and `decant cutover` again",
            if report.sync.is_some() {
                "the source as of the pause (the final sync committed)"
            } else {
                "the last good sync"
            }
        ));
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The window: final sync, sequences, checks, the plan's cutover steps and, without a lock,
/// the proof that nothing changed. The first failure ends it.
fn inside_the_pause(
    prepared: &Prepared,
    options: &CutoverOptions,
    mark: Option<Result<ChangeMark, String>>,
    report: &mut CutoverReport,
    say: &mut dyn FnMut(&str),
) -> Result<(), String> {
    let mut say = |report: &mut CutoverReport, next: &str| {
        report.window.next_stage(next);
        say(next);
    };
    let outcome = pause_stages(prepared, options, mark, report, &mut say);
    report.window.end_stages();
    outcome
}

/// The stages of [`inside_the_pause`], each announced through `say`.
fn pause_stages(
    prepared: &Prepared,
    options: &CutoverOptions,
    mark: Option<Result<ChangeMark, String>>,
    report: &mut CutoverReport,
    say: &mut dyn FnMut(&mut CutoverReport, &str),
) -> Result<(), String> {
    let plan = &prepared.loaded.plan;
    let target_url = &plan.target.url;
    let mut changes = None;
    if let Some(mark) = mark {
        say(report, "changes since the catch-up");
        let held = mark.as_ref().map_or(0.0, |m| m.held().as_secs_f64());
        let found = mark.and_then(ChangeMark::changes);
        report.final_sync_scope = Some(FinalSyncScope {
            incremental: found.is_ok(),
            fallback: found.as_ref().err().cloned(),
            mark_held_seconds: held,
            ..FinalSyncScope::default()
        });
        changes = found.ok();
    }
    say(report, "final sync");
    let synced = sync_changes(prepared, target_url, false, changes.as_ref())
        .map_err(|e| format!("the final sync failed: {}", chain(&e)))?;
    if let (Some(scope), Some(changes)) = (report.final_sync_scope.as_mut(), &changes) {
        describe_scope(scope, prepared, changes, &synced);
    }
    let rejected = synced.counts().rejected;
    report.sync = Some(synced);
    if rejected > 0 {
        return Err(format!(
            "the final sync rejected {rejected} row(s) (see the report): the target would not be the source"
        ));
    }
    say(report, "sequences");
    let mut target = journal::connect(target_url).map_err(|e| chain(&e))?;
    let sequences: Vec<String> = prepared
        .steps
        .iter()
        .filter(|s| matches!(s.kind, StepKind::Sequence { .. }))
        .flat_map(|s| s.target_sql.iter().cloned())
        .collect();
    target
        .transaction::<_, diesel::result::Error, _>(|t| {
            for sql in &sequences {
                t.batch_execute(sql)?;
            }
            Ok(())
        })
        .map_err(|e| {
            format!(
                "setting the sequences failed: {}",
                crate::errors::database_chain(&e)
            )
        })?;
    report.sequences = sequences;
    say(report, "checks");
    let mut checked = prepared.clone();
    if !options.checksums {
        let (kept, skipped): (Vec<_>, Vec<_>) = checked
            .loaded
            .plan
            .checks
            .drain(..)
            .partition(|c| c.checksums.is_none());
        report.checks_skipped = skipped
            .iter()
            .map(|_| {
                "checksums (run `decant check` after the switch, or `cutover --checksums`)"
                    .to_owned()
            })
            .collect();
        checked.loaded.plan.checks = kept;
    }
    if let Some(changes) = &changes {
        report.checks_scope = Some(narrow_checks(&mut checked, changes, report.sync.as_ref()));
    }
    let source_url = parse_source_url(&plan.source.url, prepared.loaded.base_dir())
        .map_err(|e| e.to_string())?;
    let mut source = open_source(&source_url).map_err(|e| chain(&e))?;
    let mut dbs = Databases {
        source: &mut source,
        target: &mut target,
        twins: &mut [],
        known_orphans: None,
        in_snapshot: false,
    };
    let results: Vec<CheckResult> = run_plan_checks(&checked, &mut dbs, &mut |_| {});
    report.checks = results
        .iter()
        .map(|r| CheckLine {
            id: r.id.clone(),
            status: r.status,
            summary: r.summary.clone(),
        })
        .collect();
    let failing: Vec<String> = results
        .iter()
        .filter(|r| r.status != CheckStatus::Pass)
        .map(|r| format!("`{}`: {}", r.id, r.summary))
        .collect();
    if !failing.is_empty() {
        return Err(format!(
            "checks failed inside the pause: {}",
            failing.join("; ")
        ));
    }
    let steps = run_cutover_steps(prepared, StepPhase::Cutover, target_url, &mut |id| {
        say(report, &format!("step `{id}`"))
    })?;
    report.steps = steps;
    if options.app_stopped {
        say(report, "verifying that the source did not change");
        let after = sync(prepared, target_url, true)
            .map_err(|e| format!("the verifying sync failed: {}", chain(&e)))?;
        let c = after.counts();
        let unchanged = c.inserted + c.updated + c.deleted == 0;
        report.verified_unchanged = Some(unchanged);
        if !unchanged {
            return Err(format!(
                "the source changed during the window ({} inserted, {} updated, {} deleted since the final sync): the app was not stopped",
                c.inserted, c.updated, c.deleted
            ));
        }
    }
    Ok(())
}

/// Fills `scope` from the changes the final sync was told and what it compared.
fn describe_scope(
    scope: &mut FinalSyncScope,
    prepared: &Prepared,
    changes: &SourceChanges,
    synced: &SyncReport,
) {
    scope.pages_changed = changes.pages;
    for table in &prepared.resolved.tables {
        match changes.table(&table.source) {
            None => scope.tables_skipped += 1,
            Some(TableChanges::Rows(_)) => scope.tables_changed.push(table.source.clone()),
            Some(TableChanges::Whole(why)) => {
                scope.tables_changed.push(table.source.clone());
                scope
                    .tables_read_whole
                    .push((table.source.clone(), why.clone()));
            }
        }
    }
    scope.ranges_compared = synced.tables.iter().filter_map(|t| t.compared_ranges).sum();
}

/// Narrows the row counts and checksums of `checked` to the tables that may differ from the
/// last checks' state: those written since the catch-up began, or changed by the final sync.
/// The others are as the catch-up left them, proven by the source's pages. Returns what the
/// report says about it.
fn narrow_checks(
    checked: &mut Prepared,
    changes: &SourceChanges,
    synced: Option<&SyncReport>,
) -> String {
    use crate::plan::model::Selection;
    let applied = |name: &str| {
        synced.is_some_and(|s| {
            s.tables
                .iter()
                .any(|t| t.source == name && t.inserted + t.updated + t.deleted + t.rejected > 0)
        })
    };
    let changed: Vec<String> = checked
        .resolved
        .tables
        .iter()
        .filter(|t| changes.table(&t.source).is_some() || applied(&t.source))
        .map(|t| t.source.clone())
        .collect();
    let narrow = |selection: &mut Option<Selection>| {
        if let Some(sel) = selection.as_mut() {
            let keep = |t: &String| match &*sel {
                Selection::All(_) => true,
                Selection::Tables(names) => names.iter().any(|n| n.eq_ignore_ascii_case(t)),
            };
            let tables: Vec<String> = changed.iter().filter(|t| keep(t)).cloned().collect();
            *sel = Selection::Tables(tables);
        }
    };
    for check in &mut checked.loaded.plan.checks {
        narrow(&mut check.row_counts);
        narrow(&mut check.checksums);
    }
    let total = checked.resolved.tables.len();
    format!(
        "row counts and checksums covered the {} table(s) written since the catch-up began or changed by the final sync ({}); the other {} were not written since the catch-up, whose sync left them as the source holds them (the source's WAL shows no page of theirs written since)",
        changed.len(),
        if changed.is_empty() { "none".to_owned() } else { changed.join(", ") },
        total - changed.len()
    )
}

/// A window's write pause as both cutover reports give it (flattened into each, so their JSON
/// keeps these keys): how it was held, from when to when, and where its seconds went.
#[derive(Debug, Clone, Serialize)]
pub struct PauseWindow {
    /// `lock` (decant held the writers' lock) or `app_stopped`.
    pub pause_kind: String,
    /// Seconds since the Unix epoch when the pause began and ended.
    pub pause_started_at: f64,
    pub pause_ended_at: Option<f64>,
    /// The measured write pause: from the lock taken to the lock released.
    pub pause_seconds: Option<f64>,
    /// Wall seconds of each stage inside the pause, in order: where the pause went.
    pub stages: Vec<(String, f64)>,
    /// When the pause was taken, and when the running stage began.
    #[serde(skip)]
    held: Instant,
    #[serde(skip)]
    stage: Instant,
}

impl PauseWindow {
    pub(super) fn new(app_stopped: bool) -> PauseWindow {
        PauseWindow {
            pause_kind: if app_stopped { "app_stopped" } else { "lock" }.to_owned(),
            pause_started_at: epoch_seconds(),
            pause_ended_at: None,
            pause_seconds: None,
            stages: Vec::new(),
            held: Instant::now(),
            stage: Instant::now(),
        }
    }

    /// The pause is held from now.
    pub(super) fn hold(&mut self) {
        self.held = Instant::now();
        self.pause_started_at = epoch_seconds();
    }

    /// Starts stage `name`: the running stage's seconds are kept first.
    pub(super) fn next_stage(&mut self, name: &str) {
        self.end_stages();
        self.stage = Instant::now();
        self.stages.push((name.to_owned(), 0.0));
    }

    /// Keeps the running stage's seconds.
    pub(super) fn end_stages(&mut self) {
        if let Some((_, seconds)) = self.stages.last_mut() {
            *seconds = self.stage.elapsed().as_secs_f64();
        }
    }

    /// Releases `pause` and keeps how long it was held, saying so when it did not end cleanly
    /// (the lock ended with its connection then).
    pub(super) fn release(&mut self, pause: Option<WritePause>, say: &mut dyn FnMut(&str)) {
        let released = pause.map(WritePause::release);
        self.pause_seconds = Some(self.held.elapsed().as_secs_f64());
        self.pause_ended_at = Some(epoch_seconds());
        if let Some(Err(e)) = released {
            say(&format!(
                "releasing the pause said: {e}; the lock ended with its connection"
            ));
        }
    }

    /// Whether the operator stopped the app, rather than decant holding a lock.
    pub fn app_stopped(&self) -> bool {
        self.pause_kind == "app_stopped"
    }
}

/// Runs the plan's steps of `phase` in order (a command, or SQL in a transaction on the target
/// at `target_url`), each announced by its id first; what each printed. The first failure
/// ends them.
pub(super) fn run_cutover_steps(
    prepared: &Prepared,
    phase: StepPhase,
    target_url: &str,
    announce: &mut dyn FnMut(&str),
) -> Result<Vec<StepOutput>, String> {
    let mut outputs = Vec::new();
    for step in prepared
        .loaded
        .plan
        .steps
        .iter()
        .filter(|s| s.phase == Some(phase))
    {
        announce(&step.id);
        let output = if let Some(run) = &step.run {
            super::command::run_command(run, prepared.loaded.base_dir(), target_url)
                .map_err(|e| format!("step `{}` failed: {e}", step.id))?
                .text
        } else if let Some(sql) = &step.sql {
            let mut target = journal::connect(target_url).map_err(|e| chain(&e))?;
            target
                .transaction::<_, diesel::result::Error, _>(|t| t.batch_execute(sql))
                .map_err(|e| {
                    format!(
                        "step `{}` failed at `{}`: {}",
                        step.id,
                        sql.trim(),
                        crate::errors::database_chain(&e)
                    )
                })?;
            "ok".to_owned()
        } else {
            return Err(format!("step `{}` has neither `run` nor `sql`", step.id));
        };
        outputs.push(StepOutput {
            id: step.id.clone(),
            output,
        });
    }
    Ok(outputs)
}

/// Refuses a cutover that would start from a run that did not finish, a target far behind
/// the source, or checks that did not pass.
fn preflight(prepared: &Prepared, options: &CutoverOptions) -> Result<(i64, f64), CutoverError> {
    let schema = &prepared.resolved.schema;
    let mut target = journal::connect(&prepared.loaded.plan.target.url)?;
    if !journal::journal_exists(&mut target)? {
        return Err(CutoverError::Refused(format!(
            "no decant run is recorded in schema `{schema}`: run the plan, then sync"
        )));
    }
    let run = journal::runs(&mut target, schema, 1)?
        .into_iter()
        .next()
        .ok_or_else(|| {
            CutoverError::Refused(format!(
                "no run into schema `{schema}` is recorded: run the plan, then sync"
            ))
        })?;
    if run.state() != Some(RunState::Succeeded) {
        return Err(CutoverError::Refused(format!(
            "the newest run ({}) is `{}`: finish it (`decant run --resume`) before switching",
            run.id, run.status
        )));
    }
    let age = journal::catch_up_age(&mut target, run.id)?;
    if age > options.max_catch_up_age.as_secs_f64() {
        return Err(CutoverError::Refused(format!(
            "the target last caught up with the source {age:.0}s ago (run {} or its newest sync), more than {}s: the final sync inside the pause would be long; run `decant sync` (or `decant sync --follow`) first",
            run.id,
            options.max_catch_up_age.as_secs()
        )));
    }
    if let Some(path) = &options.run_report {
        if let Ok(text) = std::fs::read_to_string(path) {
            // A report that is not JSON hides whether the run's checks passed: refuse.
            let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                CutoverError::Refused(format!(
                    "the run report `{}` is not a report decant wrote ({e}): it cannot say whether run {}'s checks passed; run `decant check` and write it again, or move it away",
                    path.display(),
                    run.id
                ))
            })?;
            if value["run_id"].as_i64() == Some(run.id) {
                let failed: Vec<String> = value["checks"]
                    .as_array()
                    .map(|checks| {
                        checks
                            .iter()
                            .filter(|c| c["status"] != "pass")
                            .filter_map(|c| c["id"].as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                if !failed.is_empty() {
                    return Err(CutoverError::Refused(format!(
                        "run {}'s checks did not all pass ({}; `{}`): find out why before switching",
                        run.id,
                        failed.join(", "),
                        path.display()
                    )));
                }
            }
        }
    }
    Ok((run.id, age))
}

pub(super) fn epoch_seconds() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

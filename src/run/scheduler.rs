//! Dispatches a run's ready steps to its lanes in graph order: loads to the loader lane, the
//! rest to any lane; views, checks and reject-children run inline; signals stop it cleanly.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::beside::BesideSearch;
use super::snapshot::{lock_loader, Loader};
use super::start::RunObserver;
use super::step::{
    create_views, lost_a_deadlock, plan_templates, run_step, LoadSource, StepDone, StepError,
    StepFailure, DEADLOCK_ATTEMPTS,
};
use crate::checks::{run_plan_checks, Databases};
use crate::copy::{self, KeyWatch, Reject, RejectSink};
use crate::engines::TargetConnection;
use crate::graph::StepKind;
use crate::journal::{self, JournalError, StepState};
use crate::orphans::OrphanFinding;
use crate::prepare::Prepared;
use crate::render::RenderedStep;
use crate::run::report::{RunReport, StepReport, TableReport};
use crate::signals;
use crate::sync::rejects::reject_children_sql;

/// A worker: its own target connection (and the server process behind it, to cancel a
/// statement on a signal); lane 0 also takes the loads, one at a time from the one snapshot.
pub(super) struct Lane {
    pub(super) target: TargetConnection,
    pub(super) pid: i32,
    pub(super) loads: bool,
}

/// What a lane reports back.
pub(super) struct Finished {
    pub(super) lane: usize,
    pub(super) step: usize,
    pub(super) seconds: f64,
    pub(super) outcome: Result<StepDone, StepFailure>,
}

/// Why the scheduler stopped handing out steps.
pub(super) enum Stop {
    /// A step failed (its transaction rolled back) or the journal could not be written.
    Failed {
        step: String,
        sql: Option<String>,
        cause: Box<StepError>,
    },
    /// SIGINT/SIGTERM: the steps in flight were cancelled and rolled back.
    Signal { signal: i32, in_flight: Vec<String> },
    /// The orphan search beside the loads found orphans (`settings.orphans: fail`); they are
    /// in the scheduler's `known_orphans`.
    Orphans,
}

/// Dispatches ready steps to idle lanes in graph order: loads to the loader lane (one source
/// snapshot, read sequentially), everything else to any lane, so one table's index build
/// overlaps another table's copy.
pub(super) struct Scheduler<'p> {
    pub(super) prepared: &'p Prepared,
    /// Unfinished dependencies of each step, by index.
    pub(super) waiting: Vec<usize>,
    /// Indexes of the steps that depend on each step.
    pub(super) dependents: Vec<Vec<usize>>,
    pub(super) ready: Vec<usize>,
    pub(super) completed: Vec<String>,
    /// Under `settings.orphans: reject`, the orphan rows of each table, rejected at its load.
    pub(super) orphan_rejects: &'p HashMap<String, Vec<Reject>>,
    /// The source snapshot and the rejects; the loader lane holds it during a load.
    pub(super) loader: &'p Mutex<Loader>,
    /// The plan whose checks the `checks` step runs (as written, before orphan handling).
    pub(super) checks: Option<&'p Prepared>,
    /// The orphans found before loading (or beside the loads), so the foreign-key checks do
    /// not search again.
    pub(super) known_orphans: Vec<OrphanFinding>,
    /// Under `settings.orphans: fail`, the orphan search beside the loads; foreign keys and
    /// checks wait for it.
    pub(super) beside: Option<BesideSearch>,
    /// The target, for `run:` steps' environment.
    pub(super) target_url: &'p str,
}

impl<'p> Scheduler<'p> {
    pub(super) fn new(
        prepared: &'p Prepared,
        done: &[String],
        orphan_rejects: &'p HashMap<String, Vec<Reject>>,
        loader: &'p Mutex<Loader>,
    ) -> Self {
        let steps = &prepared.steps;
        let index: std::collections::HashMap<&str, usize> = steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        let mut waiting = vec![0; steps.len()];
        let mut dependents = vec![Vec::new(); steps.len()];
        for (i, step) in steps.iter().enumerate() {
            for dep in &step.depends_on {
                if let Some(&d) = index.get(dep.as_str()) {
                    if !done.contains(dep) {
                        waiting[i] += 1;
                        dependents[d].push(i);
                    }
                }
            }
        }
        let ready = (0..steps.len())
            .filter(|i| waiting[*i] == 0 && !done.contains(&steps[*i].id))
            .collect();
        Scheduler {
            prepared,
            waiting,
            dependents,
            ready,
            completed: done.to_vec(),
            orphan_rejects,
            loader,
            checks: None,
            known_orphans: Vec::new(),
            beside: None,
            target_url: "",
        }
    }

    /// The next ready step a lane may take: the loader lane prefers loads. While the orphan
    /// search runs, foreign keys (orphans would fail them with a less telling error) and the
    /// checks (which take its findings) wait.
    fn next_for(&mut self, is_loader: bool) -> Option<usize> {
        let steps = &self.prepared.steps;
        let searching = self.beside.as_ref().is_some_and(BesideSearch::busy);
        if self.beside.as_ref().is_some_and(|b| !b.found.is_empty()) {
            // The run stops once every search has ended: nothing new starts meanwhile.
            return None;
        }
        let is_load = |i: &usize| matches!(steps[*i].kind, StepKind::Load { .. });
        let waits = |i: &usize| {
            searching
                && matches!(
                    steps[*i].kind,
                    StepKind::ForeignKeys { .. } | StepKind::Checks
                )
        };
        let other = |i: &usize| !is_load(i) && !waits(i);
        let position = if is_loader {
            self.ready
                .iter()
                .position(is_load)
                .or_else(|| self.ready.iter().position(other))
        } else {
            self.ready.iter().position(other)
        }?;
        Some(self.ready.remove(position))
    }

    /// Takes the results of the orphan searches beside the loads ([`BesideSearch::result`]);
    /// the orphans they found become the run's.
    fn orphan_search_result(&mut self, wait: Duration, report: &mut RunReport) -> Option<Stop> {
        let beside = self.beside.as_mut()?;
        let stop = beside.result(&self.prepared.resolved, wait, report);
        if matches!(stop, Some(Stop::Orphans)) {
            self.known_orphans = std::mem::take(&mut beside.found);
        }
        stop
    }

    fn release(&mut self, step: usize) {
        for &d in &self.dependents[step] {
            self.waiting[d] -= 1;
            if self.waiting[d] == 0 {
                self.ready.push(d);
            }
        }
        self.ready.sort_unstable();
    }

    /// Runs the plan's checks against the snapshot the loads read; the step's state says how
    /// they went.
    fn run_checks(&self, target: &mut TargetConnection, report: &mut RunReport) -> String {
        let Some(checked) = self.checks else {
            return "skipped".into();
        };
        if checked.loaded.plan.checks.is_empty() {
            return "done (the plan has no checks)".into();
        }
        let mut loader = lock_loader(self.loader);
        let Loader { source, twins, .. } = &mut *loader;
        let mut dbs = Databases {
            source,
            twins,
            target,
            known_orphans: Some(&self.known_orphans),
            in_snapshot: true,
        };
        report.checks = run_plan_checks(checked, &mut dbs, &mut |_| {});
        crate::checks::tally_line(&report.checks)
    }

    /// Runs one step on the control connection, here: views and checks, in graph order.
    fn run_inline(
        &mut self,
        step: usize,
        control: &mut TargetConnection,
        run_id: i64,
        report: &mut RunReport,
    ) -> Result<String, Stop> {
        let prepared = self.prepared;
        let rendered = &prepared.steps[step];
        if rendered.kind == StepKind::RejectChildren {
            return self.reject_children(rendered, control, run_id, report);
        }
        if rendered.kind != StepKind::Views {
            return Ok(self.run_checks(control, report));
        }
        let journal_failed = |e: JournalError| Stop::Failed {
            step: rendered.id.clone(),
            sql: None,
            cause: Box::new(StepError::Journal(e)),
        };
        journal::step_started(control, run_id, &rendered.id).map_err(journal_failed)?;
        signals::test_point("started", &rendered.id);
        let state = create_views(control, prepared, rendered, run_id, report).map_err(|e| {
            Stop::Failed {
                step: rendered.id.clone(),
                sql: None,
                cause: Box::new(StepError::Database(e)),
            }
        })?;
        signals::test_point("after-commit", &rendered.id);
        self.completed.push(rendered.id.clone());
        Ok(state)
    }

    /// Rows whose parent row was rejected are rejected too, parents first so a rejection
    /// carries down every level; in one transaction with the step's journal record and the
    /// load steps' counts, so every table still reconciles read = written + rejected.
    fn reject_children(
        &mut self,
        rendered: &RenderedStep,
        control: &mut TargetConnection,
        run_id: i64,
        report: &mut RunReport,
    ) -> Result<String, Stop> {
        let prepared = self.prepared;
        let resolved = &prepared.resolved;
        let failed = |cause: StepError| Stop::Failed {
            step: rendered.id.clone(),
            sql: None,
            cause: Box::new(cause),
        };
        journal::step_started(control, run_id, &rendered.id)
            .map_err(|e| failed(StepError::Journal(e)))?;
        signals::test_point("started", &rendered.id);
        let templates = plan_templates(prepared);
        // Parents first, so a rejection carries down every level.
        let mut statements = Vec::new();
        for i in crate::graph::parents_first(resolved) {
            let child = &resolved.tables[i];
            for fk in &child.foreign_keys {
                if let Some(sql) =
                    reject_children_sql(&templates, resolved, child, fk, run_id, None)
                        .map_err(|e| failed(StepError::Template(e)))?
                {
                    statements.push((child, sql));
                }
            }
        }
        let outcome = control.transaction::<_, JournalError, _>(|conn| {
            let mut all = Vec::new();
            // Passes until one rejects nothing: a table that references itself, or tables whose
            // foreign keys form a cycle, carry a rejection back to a table already passed.
            loop {
                let before = all.len();
                for (child, statement) in &statements {
                    let rows = journal::reject_children(conn, statement)?;
                    if rows.is_empty() {
                        continue;
                    }
                    let step = format!("load:{}", child.source);
                    journal::move_to_rejected(conn, run_id, &step, rows.len() as u64)?;
                    all.extend(rows);
                }
                if all.len() == before {
                    break;
                }
            }
            journal::step_done(conn, run_id, &rendered.id, None)?;
            signals::test_point("before-commit", &rendered.id);
            Ok(all)
        });
        let rejected = outcome.map_err(|e| failed(StepError::Journal(e)))?;
        signals::test_point("after-commit", &rendered.id);
        self.completed.push(rendered.id.clone());
        let mut loader = lock_loader(self.loader);
        for r in &rejected {
            if let Some(t) = report.tables.iter_mut().find(|t| t.source == r.table) {
                t.written = t.written.saturating_sub(1);
                t.rejected += 1;
            }
            loader
                .rejects
                .file
                .reject(r.clone())
                .map_err(|e| failed(StepError::Copy(e)))?;
        }
        let _ = loader.rejects.file.flush();
        Ok(match rejected.len() {
            0 => "done".to_owned(),
            n => format!("done, {n} row(s) rejected because their parent row was"),
        })
    }

    #[allow(clippy::type_complexity)]
    pub(super) fn run<'scope, 'env>(
        &mut self,
        scope: &'scope std::thread::Scope<'scope, 'env>,
        lanes: Vec<Lane>,
        control: &mut TargetConnection,
        run_id: i64,
        report: &mut RunReport,
        progress: &mut dyn RunObserver,
    ) -> Option<Stop>
    where
        'p: 'scope,
    {
        let prepared = self.prepared;
        let orphan_rejects = self.orphan_rejects;
        let loader = self.loader;
        let target_url = self.target_url;
        let (done_tx, done_rx) = std::sync::mpsc::channel::<Finished>();
        let mut job_txs = Vec::new();
        let mut loader_flags = Vec::new();
        let mut pids = Vec::new();
        for (lane_no, mut lane) in lanes.into_iter().enumerate() {
            // A step, and for a load the columns it watches.
            let (tx, rx) = std::sync::mpsc::channel::<(usize, Option<KeyWatch>)>();
            job_txs.push(tx);
            loader_flags.push(lane.loads);
            pids.push(lane.pid);
            let done_tx = done_tx.clone();
            scope.spawn(move || {
                for (step, mut watch) in rx {
                    let started = Instant::now();
                    let rendered = &prepared.steps[step];
                    let mut attempts = 0;
                    // A panic in a step (or in a reader thread, passed on) fails the step: the
                    // scheduler is told, instead of waiting for a lane that is gone.
                    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| loop {
                        let source = lane.loads.then_some(LoadSource {
                            loader,
                            orphan_rejects,
                            watch: watch.as_mut(),
                        });
                        let outcome = run_step(
                            prepared,
                            rendered,
                            target_url,
                            &mut lane.target,
                            source,
                            run_id,
                        );
                        attempts += 1;
                        if attempts < DEADLOCK_ATTEMPTS && lost_a_deadlock(rendered, &outcome) {
                            continue;
                        }
                        break outcome;
                    }));
                    let panicked = caught.is_err();
                    let outcome = caught
                        .unwrap_or_else(|panic| {
                            Err(StepError::Broken(panic_text(panic.as_ref())).failure(None))
                        })
                        .map(|done| StepDone { watch, ..done });
                    let _ = done_tx.send(Finished {
                        lane: lane_no,
                        step,
                        seconds: started.elapsed().as_secs_f64(),
                        outcome,
                    });
                    if panicked {
                        // The lane's connection may be mid-statement: it ends with the lane,
                        // and its open transaction rolls back as it closes.
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let mut running: Vec<Option<usize>> = vec![None; job_txs.len()];
        let mut loading: Option<usize> = None;
        let mut stop: Option<Stop> = None;
        for step in &prepared.steps {
            if self.completed.contains(&step.id) {
                report.steps.push(StepReport {
                    id: step.id.clone(),
                    state: "skipped (done before)".into(),
                    seconds: 0.0,
                    rows: None,
                    output: None,
                    source_sql: Vec::new(),
                    target_sql: Vec::new(),
                });
            }
        }
        loop {
            notice_signal(&mut stop, &running, &pids, None, control, prepared);
            if stop.is_none() {
                stop = self.orphan_search_result(Duration::ZERO, report);
            }
            if stop.is_none() {
                for lane in 0..job_txs.len() {
                    if running[lane].is_some() {
                        continue;
                    }
                    let Some(step) = self.next_for(loader_flags[lane]) else {
                        continue;
                    };
                    let id = &prepared.steps[step].id;
                    if matches!(
                        prepared.steps[step].kind,
                        StepKind::Checks | StepKind::Views | StepKind::RejectChildren
                    ) {
                        let started = Instant::now();
                        match self.run_inline(step, control, run_id, report) {
                            Ok(state) => {
                                let entry = StepReport {
                                    id: id.clone(),
                                    state,
                                    seconds: started.elapsed().as_secs_f64(),
                                    rows: None,
                                    output: None,
                                    source_sql: prepared.steps[step].source_sql.clone(),
                                    target_sql: prepared.steps[step].target_sql.clone(),
                                };
                                progress.step_finished(&entry);
                                report.steps.push(entry);
                                self.release(step);
                            }
                            Err(failed) => {
                                stop = Some(failed);
                                break;
                            }
                        }
                        continue;
                    }
                    if let Err(e) = journal::step_started(control, run_id, id) {
                        stop = Some(Stop::Failed {
                            step: id.clone(),
                            sql: None,
                            cause: Box::new(StepError::Journal(e)),
                        });
                        break;
                    }
                    signals::test_point("started", id);
                    let expected = match &prepared.steps[step].kind {
                        StepKind::Load { table } => {
                            prepared.resolved.table(table).map(|t| t.source_rows)
                        }
                        _ => None,
                    };
                    progress.step_started(id, expected);
                    let mut watch = None;
                    if let StepKind::Load { table } = &prepared.steps[step].kind {
                        loading = Some(step);
                        watch = self.beside.as_ref().and_then(|b| {
                            prepared
                                .resolved
                                .table(table)
                                .and_then(|t| b.watch.for_load(t))
                        });
                    }
                    if job_txs[lane].send((step, watch)).is_err() {
                        stop = Some(Stop::Failed {
                            step: id.clone(),
                            sql: None,
                            cause: Box::new(StepError::Broken(
                                "a worker stopped unexpectedly".into(),
                            )),
                        });
                        break;
                    }
                    running[lane] = Some(step);
                }
            }
            if running.iter().all(Option::is_none) {
                if let Some(beside) = self.beside.as_mut().filter(|b| stop.is_none() && b.busy()) {
                    // Only steps that wait for the search are left: no load is coming that
                    // the watch could wait for.
                    beside.unsure.extend(beside.watch.give_up());
                    stop = self.orphan_search_result(Duration::from_millis(200), report);
                    continue;
                }
                break;
            }
            let finished = match done_rx.recv_timeout(std::time::Duration::from_millis(200)) {
                Ok(finished) => finished,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if let Some(step) = loading {
                        progress.rows(&prepared.steps[step].id, copy::rows_read_so_far());
                    }
                    continue;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            };
            if loading == Some(finished.step) {
                loading = None;
            }
            running[finished.lane] = None;
            let step = &prepared.steps[finished.step];
            match finished.outcome {
                Ok(StepDone {
                    rows,
                    output,
                    watch,
                }) => {
                    if let (Some(beside), Some(watch), StepKind::Load { table }) =
                        (self.beside.as_mut(), watch, &step.kind)
                    {
                        let settled = beside.watch.loaded(table, watch);
                        report
                            .orphans_settled_by_loads
                            .extend(settled.free.into_iter().map(|fk| fk.name));
                        beside.unsure.extend(settled.unsure);
                        beside.search_the_unsure(&prepared.resolved, report);
                    }
                    // Committed, together with its `done` record, on the lane's connection.
                    if let (Some(rows), StepKind::Load { table }) = (rows, &step.kind) {
                        let target_name = prepared
                            .resolved
                            .table(table)
                            .map(|t| t.target.clone())
                            .unwrap_or_default();
                        report.tables.push(TableReport {
                            source: table.clone(),
                            target: target_name,
                            read: rows.read,
                            written: rows.written,
                            rejected: rows.rejected,
                            seconds: finished.seconds,
                        });
                    }
                    let entry = StepReport {
                        id: step.id.clone(),
                        state: "done".into(),
                        seconds: finished.seconds,
                        rows,
                        output,
                        source_sql: step.source_sql.clone(),
                        target_sql: step.target_sql.clone(),
                    };
                    progress.step_finished(&entry);
                    report.steps.push(entry);
                    self.completed.push(step.id.clone());
                    self.release(finished.step);
                }
                Err(failure) => {
                    // The step's transaction rolled back; record why, keep the run resumable.
                    // A load notices a signal before this loop does: it is an interruption.
                    notice_signal(
                        &mut stop,
                        &running,
                        &pids,
                        Some(finished.step),
                        control,
                        prepared,
                    );
                    let interrupted = matches!(stop, Some(Stop::Signal { .. }));
                    let (state, shown) = if interrupted {
                        (StepState::Interrupted, "interrupted, rolled back")
                    } else {
                        (StepState::Failed, "failed")
                    };
                    let entry = StepReport {
                        id: step.id.clone(),
                        state: shown.into(),
                        seconds: finished.seconds,
                        rows: None,
                        output: None,
                        source_sql: step.source_sql.clone(),
                        target_sql: step.target_sql.clone(),
                    };
                    progress.step_finished(&entry);
                    report.steps.push(entry);
                    let message = failure.message();
                    let _ = journal::step_stopped(control, run_id, &step.id, state, &message);
                    if stop.is_none() {
                        stop = Some(Stop::Failed {
                            step: step.id.clone(),
                            sql: failure.sql,
                            cause: failure.cause,
                        });
                    }
                }
            }
        }
        drop(job_txs);
        stop
    }
}

/// What a step that panicked failed with: the panic's message, said to be a bug.
pub(super) fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned());
    format!("decant stopped on an internal error (a bug, please report it): {message}")
}

/// On the first signal: stop handing out steps and cancel what the lanes are doing; each
/// step's transaction rolls back, and with it the step's journal record. `just_stopped` is a
/// step that already ended without committing.
pub(super) fn notice_signal(
    stop: &mut Option<Stop>,
    running: &[Option<usize>],
    pids: &[i32],
    just_stopped: Option<usize>,
    control: &mut TargetConnection,
    prepared: &Prepared,
) {
    let (None, Some(signal)) = (&*stop, signals::received()) else {
        return;
    };
    let in_flight = just_stopped
        .iter()
        .chain(running.iter().flatten())
        .map(|&s| prepared.steps[s].id.clone())
        .collect();
    for (lane, step) in running.iter().enumerate() {
        if step.is_some() {
            let _ = journal::cancel_backend(control, pids[lane]);
        }
    }
    *stop = Some(Stop::Signal { signal, in_flight });
}

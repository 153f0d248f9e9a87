//! Executes a prepared plan: takes the target lock, records the run in the journal, runs the
//! steps in graph order (loads in one consistent source snapshot), and accounts for every row.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::Text;
use diesel::{Connection, RunQueryDsl, SqliteConnection};

use crate::checks::foreign_keys::{plan_orphans, OrphanFinding};
use crate::checks::{run_plan_checks, Databases};
use crate::commands::Prepared;
use crate::copy::{self, CopyError, JsonLinesRejects, Reject, RejectSink};
use crate::errors::chain;
use crate::graph::StepKind;
use crate::introspect::open_sqlite_read_only;
use crate::journal::{self, JournalError, RowCounts, RunIdentity};
use crate::plan::model::IfExists;
use crate::render::RenderedStep;
use crate::run::identity::{plan_hash, source_fingerprint};
use crate::run::report::{RunReport, StepReport, TableReport};
use crate::url::{parse_source_url, SourceUrl};

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Continue the newest interrupted run instead of starting a new one.
    pub resume: bool,
    /// Where the rejects file goes.
    pub rejects_path: PathBuf,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("cannot open the source: {0}")]
    Source(String),
    #[error("target tables already exist in schema `{schema}`: {}; set `settings.if_exists` to drop, truncate or append", tables.join(", "))]
    TablesExist { schema: String, tables: Vec<String> },
    #[error("nothing to resume: {0}")]
    NothingToResume(String),
    #[error("refusing to resume run {run}: the {what} changed since it started; start a new run (without --resume)")]
    Changed { run: i64, what: &'static str },
    #[error("orphan rows in the source: settings.orphans is fail, so nothing was loaded:\n{}\nset `settings.orphans` to `reject` (leave those rows out, as rejects) or `skip_constraint` (load them, without the foreign key)", orphans_text(.0))]
    Orphans(Vec<OrphanFinding>),
    #[error("looking for orphan rows in the source failed: {0}")]
    OrphanSearch(String),
    #[error("step `{step}` failed{}: {message}", sql.as_ref().map(|s| format!(" at `{}`", first_line(s))).unwrap_or_default())]
    Step {
        step: String,
        sql: Option<String>,
        message: String,
        completed: Vec<String>,
    },
}

fn orphans_text(findings: &[OrphanFinding]) -> String {
    findings
        .iter()
        .map(|f| format!("  foreign key `{}`: {}", f.constraint, f.describe()))
        .collect::<Vec<_>>()
        .join("\n")
}

impl RunError {
    /// The steps that completed before a step failed, as a line for the terminal.
    pub fn completed_line(&self) -> Option<String> {
        match self {
            RunError::Step { completed, .. } => Some(format!(
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
}

fn first_line(sql: &str) -> String {
    let line = sql.lines().next().unwrap_or_default();
    if sql.lines().nth(1).is_some() {
        format!("{line} …")
    } else {
        line.to_owned()
    }
}

/// Rejects go to the JSON-lines file as they happen and to `decant.decant_rejects` after the COPY.
struct RunRejects {
    file: JsonLinesRejects,
    pending: Vec<Reject>,
}

impl RejectSink for RunRejects {
    fn reject(&mut self, r: Reject) -> Result<(), CopyError> {
        self.file.reject(r.clone())?;
        self.pending.push(r);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), CopyError> {
        self.file.flush()
    }
}

fn insert_rejects(
    conn: &mut PgConnection,
    run: i64,
    rejects: &[Reject],
) -> Result<(), diesel::result::Error> {
    for chunk in rejects.chunks(2000) {
        let payload = serde_json::Value::Array(
            chunk
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "t": r.table, "k": r.primary_key, "c": r.column, "v": r.value, "r": r.reason
                    })
                })
                .collect(),
        );
        diesel::sql_query(
            "INSERT INTO decant.decant_rejects (run_id, source_table, primary_key, source_column, value, reason) \
             SELECT $1::bigint, e->>'t', e->'k', e->>'c', e->>'v', e->>'r' FROM jsonb_array_elements($2::jsonb) AS e",
        )
        .bind::<diesel::sql_types::BigInt, _>(run)
        .bind::<Text, _>(payload.to_string())
        .execute(conn)?;
    }
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

fn existing_tables(
    conn: &mut PgConnection,
    schema: &str,
    wanted: &[String],
) -> Result<Vec<String>, JournalError> {
    let sql = "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = $1 AND table_name = ANY($2) ORDER BY 1";
    diesel::sql_query(sql)
        .bind::<Text, _>(schema)
        .bind::<diesel::sql_types::Array<Text>, _>(wanted)
        .load::<Name>(conn)
        .map(|v| v.into_iter().map(|n| n.name).collect())
        .map_err(|source| JournalError::Query {
            sql: sql.to_owned(),
            source,
        })
}

/// Hears what a run does while it runs: progress display is a decorator around the executor.
pub trait RunObserver {
    /// A step was handed to a lane; `expected_rows` is the source's row count for loads.
    fn step_started(&mut self, _id: &str, _expected_rows: Option<u64>) {}
    /// Rows read so far by the running load step.
    fn rows(&mut self, _id: &str, _rows: u64) {}
    /// A step ended (done, failed, or the checks' outcome).
    fn step_finished(&mut self, step: &StepReport);
}

/// Runs the plan against `target_url`; `observer` hears about steps as they start and end.
pub fn execute(
    prepared: &Prepared,
    target_url: &str,
    options: &RunOptions,
    progress: &mut dyn RunObserver,
) -> Result<RunReport, RunError> {
    let SourceUrl::Sqlite(source_file) =
        parse_source_url(&prepared.loaded.plan.source.url, prepared.loaded.base_dir())
            .map_err(|e| RunError::Source(e.to_string()))?;
    // Orphans are found before anything touches the target; `settings.orphans` decides.
    let checked = prepared;
    let mut orphans = {
        let mut source =
            open_sqlite_read_only(&source_file).map_err(|e| RunError::Source(chain(&e)))?;
        plan_orphans(prepared, &mut source).map_err(|e| RunError::OrphanSearch(chain(&e)))?
    };
    if orphans.stops_the_run() {
        return Err(RunError::Orphans(orphans.findings));
    }
    let adjusted = orphans.adjusted.take();
    let prepared = adjusted.as_ref().unwrap_or(prepared);
    let resolved = &prepared.resolved;
    let schema = resolved.schema.clone();

    let mut target = journal::connect(target_url)?;
    journal::lock_target(&mut target, &schema)?;
    journal::prepare_journal(&mut target)?;

    let identity = RunIdentity {
        plan_name: resolved.name.clone(),
        plan_hash: plan_hash(resolved, &prepared.steps),
        source_fingerprint: source_fingerprint(&source_file, &prepared.catalog)
            .map_err(|e| RunError::Source(format!("`{}`: {e}", source_file.display())))?,
        target_schema: schema.clone(),
    };
    let target_tables: Vec<String> = resolved.tables.iter().map(|t| t.target.clone()).collect();
    let (run_id, done) = if options.resume {
        let last = journal::runs(&mut target, &schema, 1)?
            .into_iter()
            .next()
            .ok_or_else(|| {
                RunError::NothingToResume(format!("no run into schema `{schema}` is recorded"))
            })?;
        if last.status == "succeeded" || last.status == "rolled_back" {
            return Err(RunError::NothingToResume(format!(
                "the newest run ({}) {}",
                last.id,
                last.status.replace('_', " ")
            )));
        }
        if last.plan_hash != identity.plan_hash {
            return Err(RunError::Changed {
                run: last.id,
                what: "plan",
            });
        }
        if last.source_fingerprint != identity.source_fingerprint {
            return Err(RunError::Changed {
                run: last.id,
                what: "source",
            });
        }
        let done: Vec<String> = journal::steps(&mut target, last.id)?
            .into_iter()
            .filter(|s| s.state == "done")
            .map(|s| s.step_id)
            .collect();
        journal::finish_run(&mut target, last.id, "running")?;
        (last.id, done)
    } else {
        if resolved.settings.if_exists == IfExists::Fail {
            let existing = existing_tables(&mut target, &schema, &target_tables)?;
            if !existing.is_empty() {
                return Err(RunError::TablesExist {
                    schema,
                    tables: existing,
                });
            }
        }
        let created = if matches!(resolved.settings.if_exists, IfExists::Fail | IfExists::Drop) {
            target_tables.clone()
        } else {
            Vec::new()
        };
        (
            journal::start_run(&mut target, &identity, None, &created)?,
            Vec::new(),
        )
    };

    let mut source =
        open_sqlite_read_only(&source_file).map_err(|e| RunError::Source(chain(&e)))?;
    // One read transaction for every table: the copy is one consistent snapshot of the source.
    source
        .batch_execute("BEGIN")
        .map_err(|e| RunError::Source(chain(&e)))?;
    let rejects = RunRejects {
        file: if options.resume {
            JsonLinesRejects::append(&options.rejects_path)
        } else {
            JsonLinesRejects::create(&options.rejects_path)
        }
        .map_err(|e| RunError::Source(chain(&e)))?,
        pending: Vec::new(),
    };
    let started = Instant::now();
    let mut report = RunReport::new(
        run_id,
        &identity,
        &prepared.loaded.plan,
        options.rejects_path.clone(),
    );
    report.orphans = std::mem::take(&mut orphans.findings);
    report.notes.append(&mut orphans.skipped);
    report.not_carried = resolved.notes.clone();
    report.warnings = crate::output::resolution_warnings(&resolved.tables);
    let workers = usize::try_from(resolved.settings.workers)
        .unwrap_or(1)
        .max(1);
    let mut lanes = vec![Lane {
        target: journal::connect(target_url)?,
        loader: Some(Loader { source, rejects }),
    }];
    for _ in 1..workers {
        lanes.push(Lane {
            target: journal::connect(target_url)?,
            loader: None,
        });
    }
    let orphan_rejects = std::mem::take(&mut orphans.rejects);
    let mut scheduler = Scheduler::new(prepared, &done, &orphan_rejects);
    scheduler.checks = Some((checked, source_file.clone()));
    scheduler.known_orphans = std::mem::take(&mut orphans.direct);
    let failure = std::thread::scope(|scope| {
        scheduler.run(scope, lanes, &mut target, run_id, &mut report, progress)
    })?;
    if let Some((step, sql, message)) = failure {
        let _ = journal::finish_run(&mut target, run_id, "failed");
        return Err(RunError::Step {
            step,
            sql,
            message,
            completed: scheduler.completed,
        });
    }
    journal::finish_run(&mut target, run_id, "succeeded")?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The source side of the one lane that loads tables.
struct Loader {
    source: SqliteConnection,
    rejects: RunRejects,
}

/// A worker: its own target connection; lane 0 also owns the source snapshot and loads.
struct Lane {
    target: PgConnection,
    loader: Option<Loader>,
}

/// What a lane reports back.
struct Finished {
    lane: usize,
    step: usize,
    seconds: f64,
    outcome: Result<Option<RowCounts>, StepFailure>,
}

/// Dispatches ready steps to idle lanes in graph order: loads to the loader lane (one source
/// snapshot, read sequentially), everything else to any lane, so one table's index build
/// overlaps another table's copy.
struct Scheduler<'p> {
    prepared: &'p Prepared,
    /// Unfinished dependencies of each step, by index.
    waiting: Vec<usize>,
    /// Indexes of the steps that depend on each step.
    dependents: Vec<Vec<usize>>,
    ready: Vec<usize>,
    completed: Vec<String>,
    /// Under `settings.orphans: reject`, the orphan rows of each table, rejected at its load.
    orphan_rejects: &'p HashMap<String, Vec<Reject>>,
    /// The plan whose checks the `checks` step runs (as written, before orphan handling) and
    /// the source file they read.
    checks: Option<(&'p Prepared, PathBuf)>,
    /// The orphans found before loading, so the foreign-key checks do not search again.
    known_orphans: Vec<OrphanFinding>,
}

impl<'p> Scheduler<'p> {
    fn new(
        prepared: &'p Prepared,
        done: &[String],
        orphan_rejects: &'p HashMap<String, Vec<Reject>>,
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
            checks: None,
            known_orphans: Vec::new(),
        }
    }

    /// The next ready step a lane may take: the loader lane prefers loads.
    fn next_for(&mut self, is_loader: bool) -> Option<usize> {
        let steps = &self.prepared.steps;
        let is_load = |i: &usize| matches!(steps[*i].kind, StepKind::Load { .. });
        let position = if is_loader {
            self.ready
                .iter()
                .position(is_load)
                .or_else(|| self.ready.iter().position(|i| !is_load(i)))
        } else {
            self.ready.iter().position(|i| !is_load(i))
        }?;
        Some(self.ready.remove(position))
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

    /// Runs the plan's checks; the step's state says how they went.
    fn run_checks(&self, target: &mut PgConnection, report: &mut RunReport) -> String {
        let Some((checked, source_file)) = &self.checks else {
            return "skipped".into();
        };
        if checked.loaded.plan.checks.is_empty() {
            return "done (the plan has no checks)".into();
        }
        let mut source = match open_sqlite_read_only(source_file) {
            Ok(source) => source,
            Err(e) => {
                report.check_error = Some(format!("cannot open the source: {}", chain(&e)));
                return "failed: cannot open the source".into();
            }
        };
        let mut dbs = Databases {
            source: &mut source,
            target,
            known_orphans: Some(&self.known_orphans),
        };
        report.checks = run_plan_checks(checked, &mut dbs, &mut |_| {});
        crate::checks::tally_line(&report.checks)
    }

    #[allow(clippy::type_complexity)]
    fn run<'scope, 'env>(
        &mut self,
        scope: &'scope std::thread::Scope<'scope, 'env>,
        lanes: Vec<Lane>,
        control: &mut PgConnection,
        run_id: i64,
        report: &mut RunReport,
        progress: &mut dyn RunObserver,
    ) -> Result<Option<(String, Option<String>, String)>, RunError>
    where
        'p: 'scope,
    {
        let prepared = self.prepared;
        let orphan_rejects = self.orphan_rejects;
        let (done_tx, done_rx) = std::sync::mpsc::channel::<Finished>();
        let mut job_txs = Vec::new();
        let mut loader_flags = Vec::new();
        for (lane_no, mut lane) in lanes.into_iter().enumerate() {
            let (tx, rx) = std::sync::mpsc::channel::<usize>();
            job_txs.push(tx);
            loader_flags.push(lane.loader.is_some());
            let done_tx = done_tx.clone();
            scope.spawn(move || {
                for step in rx {
                    let started = Instant::now();
                    let outcome = run_step(
                        prepared,
                        &prepared.steps[step],
                        &mut lane,
                        run_id,
                        orphan_rejects,
                    );
                    let _ = done_tx.send(Finished {
                        lane: lane_no,
                        step,
                        seconds: started.elapsed().as_secs_f64(),
                        outcome,
                    });
                }
                if let Some(loader) = &mut lane.loader {
                    let _ = loader.source.batch_execute("COMMIT");
                    let _ = loader.rejects.file.flush();
                }
            });
        }
        drop(done_tx);
        let mut idle: Vec<bool> = vec![true; job_txs.len()];
        let mut in_flight = 0usize;
        let mut loading: Option<usize> = None;
        let mut failure: Option<(String, Option<String>, String)> = None;
        for step in &prepared.steps {
            if self.completed.contains(&step.id) {
                report.steps.push(StepReport {
                    id: step.id.clone(),
                    state: "skipped (done before)".into(),
                    seconds: 0.0,
                    rows: None,
                });
            }
        }
        loop {
            if failure.is_none() {
                for lane in 0..job_txs.len() {
                    if !idle[lane] {
                        continue;
                    }
                    let Some(step) = self.next_for(loader_flags[lane]) else {
                        continue;
                    };
                    let id = &prepared.steps[step].id;
                    if matches!(
                        prepared.steps[step].kind,
                        StepKind::Checks | StepKind::Views
                    ) {
                        // Checks and views run on the control connection, here, in order.
                        let started = Instant::now();
                        let state = if prepared.steps[step].kind == StepKind::Views {
                            journal::step_started(control, run_id, id)?;
                            let state =
                                create_views(control, prepared, &prepared.steps[step], report);
                            journal::step_done(control, run_id, id, None)?;
                            self.completed.push(id.clone());
                            state
                        } else {
                            self.run_checks(control, report)
                        };
                        let entry = StepReport {
                            id: id.clone(),
                            state,
                            seconds: started.elapsed().as_secs_f64(),
                            rows: None,
                        };
                        progress.step_finished(&entry);
                        report.steps.push(entry);
                        self.release(step);
                        continue;
                    }
                    journal::step_started(control, run_id, id)?;
                    let expected = match &prepared.steps[step].kind {
                        StepKind::Load { table } => {
                            prepared.resolved.table(table).map(|t| t.source_rows)
                        }
                        _ => None,
                    };
                    progress.step_started(id, expected);
                    if let StepKind::Load { .. } = prepared.steps[step].kind {
                        loading = Some(step);
                    }
                    if job_txs[lane].send(step).is_err() {
                        failure = Some((id.clone(), None, "a worker stopped unexpectedly".into()));
                        break;
                    }
                    idle[lane] = false;
                    in_flight += 1;
                }
            }
            if in_flight == 0 {
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
            in_flight -= 1;
            idle[finished.lane] = true;
            let step = &prepared.steps[finished.step];
            match finished.outcome {
                Ok(rows) => {
                    journal::step_done(control, run_id, &step.id, rows)?;
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
                    };
                    progress.step_finished(&entry);
                    report.steps.push(entry);
                    self.completed.push(step.id.clone());
                    self.release(finished.step);
                }
                Err((sql, message)) => {
                    // The step's transaction rolled back; record why, keep the run resumable.
                    progress.step_finished(&StepReport {
                        id: step.id.clone(),
                        state: "failed".into(),
                        seconds: finished.seconds,
                        rows: None,
                    });
                    let _ = journal::step_failed(control, run_id, &step.id, &message);
                    if failure.is_none() {
                        failure = Some((step.id.clone(), sql, message));
                    }
                }
            }
        }
        drop(job_txs);
        Ok(failure)
    }
}

/// Creates each rewritten view in its own savepoint: a view PostgreSQL refuses (a SQLite-only
/// function, say) is reported as not carried with PostgreSQL's reason; views hold no rows, so
/// the run goes on.
fn create_views(
    control: &mut PgConnection,
    prepared: &Prepared,
    step: &RenderedStep,
    report: &mut RunReport,
) -> String {
    let schema = crate::dialect::quote_ident(&prepared.resolved.schema);
    let mut refused = 0;
    for (view, sql) in prepared.resolved.views.iter().zip(&step.target_sql) {
        let attempt = control.transaction::<_, diesel::result::Error, _>(|conn| {
            conn.batch_execute(&format!("SET LOCAL search_path TO {schema}"))?;
            conn.batch_execute(sql)
        });
        if let Err(e) = attempt {
            refused += 1;
            report.not_carried.push(format!(
                "view `{}` is not carried: PostgreSQL refused its rewritten SELECT: {}",
                view.source,
                crate::errors::database_chain(&e)
            ));
        }
    }
    match refused {
        0 => "done".to_owned(),
        n => format!("done, {n} view(s) not carried (see the report)"),
    }
}

type StepFailure = (Option<String>, String);

/// What fails inside a step's transaction.
#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error(transparent)]
    Copy(#[from] CopyError),
    #[error("{source}")]
    Statement {
        sql: String,
        source: diesel::result::Error,
    },
}

impl StepError {
    fn failure(self, default_sql: Option<String>) -> StepFailure {
        match self {
            StepError::Statement { sql, source } => {
                (Some(sql), crate::errors::database_chain(&source))
            }
            StepError::Database(source) => (default_sql, crate::errors::database_chain(&source)),
            other => (default_sql, chain(&other)),
        }
    }
}

fn run_step(
    prepared: &Prepared,
    step: &RenderedStep,
    lane: &mut Lane,
    run_id: i64,
    orphan_rejects: &HashMap<String, Vec<Reject>>,
) -> Result<Option<RowCounts>, StepFailure> {
    let Lane { target, loader } = lane;
    match &step.kind {
        StepKind::Load { table } => {
            let t = prepared
                .resolved
                .table(table)
                .ok_or_else(|| (None, format!("table `{table}` is not in the plan")))?;
            let select = step.source_sql.first().cloned().unwrap_or_default();
            let copy_sql = step.target_sql.first().cloned().unwrap_or_default();
            let on_bad_row = prepared.resolved.settings.on_bad_row;
            let Some(Loader { source, rejects }) = loader.as_mut() else {
                return Err((
                    None,
                    "a load step reached a lane without the source".to_owned(),
                ));
            };
            rejects.pending.clear();
            // Orphans left out of the SELECT under `settings.orphans: reject` are this table's
            // rejects too: read, not written, each with its key and the row it lacks.
            let orphans = orphan_rejects.get(table).map_or(&[][..], Vec::as_slice);
            for orphan in orphans {
                rejects
                    .reject(orphan.clone())
                    .map_err(|e| (None, chain(&e)))?;
            }
            let result = target.transaction::<_, StepError, _>(|target| {
                let mut stats = copy::copy_table(
                    source,
                    target,
                    &prepared.resolved.schema,
                    t,
                    &t.key_columns,
                    &select,
                    &copy_sql,
                    on_bad_row,
                    rejects,
                )?;
                let orphans = orphans.len() as u64;
                stats.read += orphans;
                stats.rejected += orphans;
                if !rejects.pending.is_empty() {
                    insert_rejects(target, run_id, &rejects.pending).map_err(|source| {
                        StepError::Statement {
                            sql: "INSERT INTO decant.decant_rejects …".into(),
                            source,
                        }
                    })?;
                }
                Ok(stats)
            });
            let stats = result.map_err(|e| e.failure(Some(copy_sql.clone())))?;
            Ok(Some(RowCounts {
                read: stats.read,
                written: stats.written,
                rejected: stats.rejected,
            }))
        }
        StepKind::Migrations { directory } => {
            use diesel_migrations::{FileBasedMigrations, MigrationHarness};
            let dir = prepared.loaded.base_dir().join(directory);
            let migrations = FileBasedMigrations::from_path(&dir)
                .map_err(|e| (None, format!("`{}`: {e}", dir.display())))?;
            target
                .run_pending_migrations(migrations)
                .map(|_| None)
                .map_err(|e| (None, format!("applying `{}`: {e}", dir.display())))
        }
        _ => {
            let statements = &step.target_sql;
            target
                .transaction::<_, StepError, _>(|target| {
                    for sql in statements {
                        target
                            .batch_execute(sql)
                            .map_err(|source| StepError::Statement {
                                sql: sql.clone(),
                                source,
                            })?;
                    }
                    Ok(())
                })
                .map(|_| None)
                .map_err(|e| e.failure(None))
        }
    }
}

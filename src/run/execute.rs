//! Executes a prepared plan: takes the target lock, records the run in the journal, runs the
//! steps in graph order (loads in one consistent source snapshot), and accounts for every row.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel::RunQueryDsl;

use super::app_definitions;
use crate::checks::foreign_keys::{
    all_source_foreign_keys, find_orphans_of, plan_orphans, OrphanFinding, OrphanPlan,
    SourceForeignKey,
};
use crate::checks::{run_plan_checks, Databases};
use crate::copy::{self, CopyError, JsonLinesRejects, KeyWatch, Reject, RejectSink};
use crate::engines::mysql::count_tables;
use crate::engines::open_source;
use crate::engines::SourceConnection;
use crate::engines::TargetConnection;
use crate::errors::chain;
use crate::graph::StepKind;
use crate::journal::{self, JournalError, RowCounts, RunIdentity, RunState, StepRow, StepState};
use crate::plan::model::{IfExists, OrphanPolicy, SchemaOwner};
use crate::prepare::{Prepared, SourceCounts};
use crate::render::RenderedStep;
use crate::run::identity::{plan_hash, source_fingerprint};
use crate::run::orphan_watch::OrphanWatch;
use crate::run::report::{RunFailure, RunReport, StepReport, TableReport};
use crate::signals;
use crate::source::digest::StreamedDigest;
use crate::sync::rejects::reject_children_sql;
use crate::sync::schema_hash::schema_hash;
use crate::url::{parse_source_url, redact_url, SourceUrl};

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
    #[error(transparent)]
    AppDefinitions(#[from] app_definitions::AppDefinitionsError),
    #[error("cannot open the source: {0}")]
    Source(String),
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
    #[error("looking for orphan rows in the source failed: {0}")]
    OrphanSearch(String),
    #[error("interrupted by {}: {}", signals::name(*.signal), interrupted_text(.in_flight))]
    Interrupted {
        signal: i32,
        run: i64,
        in_flight: Vec<String>,
        completed: Vec<String>,
        /// What the run did up to the signal, with the interruption in it.
        report: Box<RunReport>,
    },
    #[error("step `{step}` failed{}: {message}", sql.as_ref().map(|s| format!(" at `{}`", first_line(s))).unwrap_or_default())]
    Step {
        step: String,
        sql: Option<String>,
        message: String,
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

fn interrupted_text(in_flight: &[String]) -> String {
    if in_flight.is_empty() {
        "no step was in flight".to_owned()
    } else {
        format!(
            "the step(s) in flight were rolled back ({})",
            in_flight.join(", ")
        )
    }
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

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

fn existing_tables(
    conn: &mut TargetConnection,
    schema: &str,
    wanted: &[String],
) -> Result<Vec<String>, JournalError> {
    let sql = "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = $1 AND table_name = ANY($2) ORDER BY 1";
    diesel::sql_query(sql)
        .bind::<Text, _>(schema)
        .bind::<diesel::sql_types::Array<Text>, _>(wanted)
        .load::<Name>(conn.postgres())
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
    let source_url = parse_source_url(&prepared.loaded.plan.source.url, prepared.loaded.base_dir())
        .map_err(|e| RunError::Source(e.to_string()))?;
    let mut source = open_source(&source_url).map_err(|e| RunError::Source(chain(&e)))?;
    // One read transaction for every table and for the checks at the end: the copy is one
    // consistent snapshot of the source, and the checks compare against that same snapshot.
    // Big MySQL tables are read by `workers` connections at once, on that same snapshot.
    let mut twins = match parallel_readers(prepared, &source_url) {
        Some((control, twins)) => source.begin_snapshot_with(control, twins),
        None => source.begin_snapshot().map(|()| Vec::new()),
    }
    .map_err(|e| RunError::Source(chain(&e)))?;
    // A MySQL source's rows are counted here, in the snapshot, once: the run's identity, its
    // parallel reads and its row-count check all take these counts.
    let counted;
    let prepared = if prepared.source_counts == SourceCounts::Estimated {
        let counts = count_in_snapshot(prepared, &mut source, &mut twins)?;
        counted = prepared.with_counts_in_snapshot(&counts);
        &counted
    } else {
        prepared
    };
    // Under `reject` and `skip_constraint` the orphans change what the steps do, so they are
    // found before anything touches the target. Under `fail` they change nothing a load
    // reads: the search runs beside the first loads, and only the foreign keys and the checks
    // wait for its result.
    let checked = prepared;
    let beside_the_loads = prepared.resolved.settings.orphans == OrphanPolicy::Fail;
    let mut orphans = if beside_the_loads {
        OrphanPlan::none(OrphanPolicy::Fail)
    } else {
        let mut source = open_source(&source_url).map_err(|e| RunError::Source(chain(&e)))?;
        plan_orphans(prepared, &mut source, Some(&|| another_source(&source_url)))
            .map_err(|e| RunError::OrphanSearch(chain(&e)))?
    };
    let adjusted = orphans.adjusted.take();
    let prepared = adjusted.as_ref().unwrap_or(prepared);
    let resolved = &prepared.resolved;
    let schema = resolved.schema.clone();

    let mut target = journal::connect(target_url)?;
    journal::lock_target(&mut target, &schema)?;
    journal::prepare_journal(&mut target)?;
    journal::set_application_name(&mut target, "decant run control")?;

    let identity = RunIdentity {
        plan_name: resolved.name.clone(),
        plan_hash: plan_hash(resolved, &prepared.steps),
        // Of the plan as written: orphan handling adjusts it by what the rows hold.
        schema_hash: schema_hash(&checked.resolved, &checked.steps, &checked.catalog),
        source_fingerprint: source_fingerprint(&source_url, &prepared.catalog).map_err(|e| {
            RunError::Source(format!(
                "`{}`: {e}",
                redact_url(&prepared.loaded.plan.source.url)
            ))
        })?,
        target_schema: schema.clone(),
    };
    let target_tables: Vec<String> = resolved.tables.iter().map(|t| t.target.clone()).collect();
    let (run_id, done_before) = if options.resume {
        let last = journal::runs(&mut target, &schema, 1)?
            .into_iter()
            .next()
            .ok_or_else(|| {
                RunError::NothingToResume(format!("no run into schema `{schema}` is recorded"))
            })?;
        if matches!(
            last.state(),
            Some(RunState::Succeeded | RunState::RolledBack)
        ) {
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
        let done: Vec<StepRow> = journal::steps(&mut target, last.id)?
            .into_iter()
            .filter(|s| s.state == StepState::Done.as_str())
            .collect();
        journal::finish_run(&mut target, last.id, RunState::Running)?;
        // A failed or interrupted attempt made the app's keys again; the steps still to run
        // expect them dropped, as prepare-target left them.
        let key_steps_done: Vec<&str> = done.iter().map(|s| s.step_id.as_str()).collect();
        let pending = |table: &str| {
            resolved
                .tables
                .iter()
                .find(|t| t.target == table)
                .is_some_and(|t| {
                    !key_steps_done.contains(&format!("indexes:{}", t.source).as_str())
                })
        };
        app_definitions::drop_again(
            &mut target,
            &plan_templates(prepared),
            &schema,
            last.id,
            &pending,
        )?;
        (last.id, done)
    } else {
        let app_owned = resolved.owner == SchemaOwner::App;
        if app_owned {
            if let Some(last) = journal::runs(&mut target, &schema, 1)?.into_iter().next() {
                if journal::app_restore_pending(&mut target, last.id)? {
                    return Err(RunError::AppKeysDropped {
                        run: last.id,
                        status: last.status,
                        schema,
                    });
                }
            }
        }
        if resolved.settings.if_exists == IfExists::Fail && !app_owned {
            let existing = existing_tables(&mut target, &schema, &target_tables)?;
            if !existing.is_empty() {
                // What made them says the way on: an unfinished run is continued or undone.
                let runs = journal::runs(&mut target, &schema, i64::MAX)?;
                let unfinished = runs
                    .first()
                    .filter(|r| {
                        matches!(
                            r.state(),
                            Some(RunState::Running | RunState::Failed | RunState::Interrupted)
                        )
                    })
                    .map(|r| (r.id, r.status.clone()));
                let made_by_decant = runs.iter().any(|r| {
                    r.state() != Some(RunState::RolledBack)
                        && r.created_tables.iter().any(|t| existing.contains(t))
                });
                return Err(RunError::TablesExist {
                    schema,
                    tables: existing,
                    unfinished,
                    made_by_decant,
                });
            }
        }
        // The app's tables are the app's: a rollback never drops them.
        let created = if app_owned {
            Vec::new()
        } else if matches!(resolved.settings.if_exists, IfExists::Fail | IfExists::Drop) {
            target_tables.clone()
        } else {
            Vec::new()
        };
        (
            journal::start_run(&mut target, &identity, None, &created)?,
            Vec::new(),
        )
    };
    let done: Vec<String> = done_before.iter().map(|s| s.step_id.clone()).collect();

    let rejects_file = if options.resume {
        // The file is rebuilt from the journal: rejects of steps that rolled back (killed or
        // failed mid-table) must not stay in it next to those of the step's next attempt.
        let committed = journal::run_rejects(&mut target, run_id)?;
        let mut file = JsonLinesRejects::create(&options.rejects_path)
            .map_err(|e| RunError::Source(chain(&e)))?;
        for r in committed {
            file.reject(r).map_err(|e| RunError::Source(chain(&e)))?;
        }
        file
    } else {
        JsonLinesRejects::create(&options.rejects_path).map_err(|e| RunError::Source(chain(&e)))?
    };
    let source_readers = 1 + twins.len();
    let loader = Mutex::new(Loader {
        source,
        twins,
        rejects: RunRejects {
            file: rejects_file,
            pending: Vec::new(),
        },
    });
    let started = Instant::now();
    let mut report = RunReport::new(
        run_id,
        &identity,
        &prepared.loaded.plan,
        options.rejects_path.clone(),
    );
    report.source_readers = source_readers;
    report.orphans = std::mem::take(&mut orphans.findings);
    report.notes.append(&mut orphans.skipped);
    report.not_carried = resolved.notes.clone();
    report.warnings = crate::output::resolution_warnings(&resolved.tables);
    report.tables = tables_done_before(prepared, &done_before);
    let workers = usize::try_from(resolved.settings.workers)
        .unwrap_or(1)
        .max(1);
    let mut lanes = Vec::new();
    for lane in 0..workers {
        let mut conn = journal::connect(target_url)?;
        // Held until the connection ends: a later attempt waits for it (it may be inside a
        // COMMIT when this process dies) before it trusts the journal.
        journal::join_work(
            &mut conn,
            &schema,
            &format!("decant run {run_id} lane {lane}"),
        )?;
        let pid = journal::backend_pid(&mut conn)?;
        lanes.push(Lane {
            target: conn,
            pid,
            loads: lane == 0,
        });
    }
    let orphan_rejects = std::mem::take(&mut orphans.rejects);
    let mut scheduler = Scheduler::new(prepared, &done, &orphan_rejects, &loader);
    scheduler.checks = Some(checked);
    scheduler.target_url = target_url;
    scheduler.known_orphans = std::mem::take(&mut orphans.direct);
    if beside_the_loads {
        let (watch, searched) = OrphanWatch::plan(prepared, &done);
        let mut beside = BesideSearch {
            watch,
            searches: Vec::new(),
            unsure: Vec::new(),
            found: Vec::new(),
            url: source_url.clone(),
        };
        beside.search(resolved, searched, &mut report);
        scheduler.beside = Some(beside);
    }
    let stop = std::thread::scope(|scope| {
        scheduler.run(scope, lanes, &mut target, run_id, &mut report, progress)
    });
    let completed = std::mem::take(&mut scheduler.completed);
    let found_orphans = std::mem::take(&mut scheduler.known_orphans);
    drop(scheduler);
    let mut loader = loader.into_inner().unwrap_or_else(|p| p.into_inner());
    let _ = loader.source.end_snapshot();
    let _ = loader.rejects.file.flush();
    report.seconds = started.elapsed().as_secs_f64();
    // Whatever the outcome, the app's schema gets back every definition the run recorded:
    // after a success that is its comments, cluster mark, replica identity, statistics
    // targets and trigger states; after a failure or a signal, its keys too.
    let app_owned = resolved.owner == SchemaOwner::App;
    let restored = app_owned.then(|| app_definitions::restore(&mut target, &schema, run_id, false));
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
    let stop = match (stop, &not_restored) {
        (None, Some(message)) => Some(Stop::Failed {
            step: "restore-app-schema".to_owned(),
            sql: None,
            message: message.clone(),
        }),
        (Some(Stop::Failed { step, sql, message }), Some(note)) => Some(Stop::Failed {
            step,
            sql,
            message: format!("{message}\n{note}"),
        }),
        (stop, _) => stop,
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
            journal::finish_run(&mut target, run_id, RunState::Succeeded)?;
            Ok(report)
        }
        Some(Stop::Signal { signal, in_flight }) => {
            let reason = format!("stopped by {}", signals::name(signal));
            end_run(
                &mut target,
                target_url,
                run_id,
                RunState::Interrupted,
                &reason,
            );
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
            end_run(&mut target, target_url, run_id, RunState::Failed, &reason);
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
        Some(Stop::Failed { step, sql, message }) => {
            end_run(&mut target, target_url, run_id, RunState::Failed, &message);
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
                message,
                completed,
                report: Box::new(report),
            })
        }
    };
    // Let the lock go now rather than when the server notices the connection closed: a
    // command started right after this one (a check, a resume) finds it free.
    let _ = journal::unlock_target(&mut target, &schema);
    outcome
}

/// A second connection for the orphan search: a server searches two foreign keys at once on
/// two connections; SQLite's reads in one process only get in each other's way.
fn another_source(url: &SourceUrl) -> Option<SourceConnection> {
    matches!(url, SourceUrl::Mysql(_))
        .then(|| open_source(url).ok())
        .flatten()
}

/// For a MySQL source with a table big enough to be read in key ranges: a connection to hold
/// commits back while the snapshots start, and `workers - 1` more readers. With estimated
/// counts a table half as big is enough: InnoDB's estimates can be well off, and a reader
/// too many costs only a connection.
fn parallel_readers(
    prepared: &Prepared,
    url: &SourceUrl,
) -> Option<(SourceConnection, Vec<SourceConnection>)> {
    let enough = match prepared.source_counts {
        SourceCounts::Estimated => copy::PARALLEL_READ_ROWS / 2,
        SourceCounts::Introspected | SourceCounts::InSnapshot => copy::PARALLEL_READ_ROWS,
    };
    let big = prepared
        .resolved
        .tables
        .iter()
        .any(|t| t.key_columns.len() == 1 && t.source_rows >= enough);
    let readers = usize::try_from(prepared.resolved.settings.workers).map_or(1, |w| w.min(8));
    if !matches!(url, SourceUrl::Mysql(_)) || !big || readers < 2 {
        return None;
    }
    let control = open_source(url).ok()?;
    let twins = (1..readers)
        .map(|_| open_source(url).ok())
        .collect::<Option<Vec<_>>>()?;
    Some((control, twins))
}

/// The exact rows of every table of the catalog, counted in the snapshot `source` and `twins`
/// read, by all of them at once ([`count_tables`]).
fn count_in_snapshot(
    prepared: &Prepared,
    source: &mut SourceConnection,
    twins: &mut [SourceConnection],
) -> Result<HashMap<String, u64>, RunError> {
    let tables = &prepared.catalog.tables;
    let names: Vec<String> = tables.iter().map(|t| t.name.clone()).collect();
    let estimated: Vec<u64> = tables.iter().map(|t| t.row_count).collect();
    let conns = std::iter::once(source).chain(twins.iter_mut()).collect();
    let counts =
        count_tables(conns, &names, &estimated).map_err(|e| RunError::Source(chain(&e)))?;
    Ok(names.into_iter().zip(counts).collect())
}

/// What an orphan search beside the loads hands back: the orphans, or why it failed.
type OrphanSearch = Receiver<Result<Vec<OrphanFinding>, String>>;

/// Starts an orphan search for the constraints `which` on connections of its own. The thread
/// is not scoped: a run stopped by a signal or a failed step does not wait for it.
fn search_orphans_beside(
    resolved: &crate::resolve::ResolvedPlan,
    url: &SourceUrl,
    which: Vec<SourceForeignKey>,
) -> OrphanSearch {
    let (tx, rx) = std::sync::mpsc::channel();
    let resolved = resolved.clone();
    let url = url.clone();
    // Tests hold one search back at its result by the constraints it searches.
    let names: Vec<&str> = which.iter().map(|fk| fk.name.as_str()).collect();
    let point = names.join(",");
    std::thread::spawn(move || {
        let result = open_source(&url)
            .map_err(|e| format!("cannot open the source: {}", chain(&e)))
            .and_then(|mut source| {
                find_orphans_of(
                    &mut source,
                    &resolved,
                    &which,
                    Some(&|| another_source(&url)),
                )
                .map_err(|e| chain(&e))
            });
        signals::test_point("searched", &point);
        let _ = tx.send(result);
    });
    rx
}

/// Under `settings.orphans: fail`, how the orphans are found beside the loads: the loads watch
/// the keys they can settle, and the source is searched for the rest, all before any foreign
/// key is made.
struct BesideSearch {
    watch: OrphanWatch,
    /// Searches still running.
    searches: Vec<OrphanSearch>,
    /// Constraints the loads could not settle, searched once the watch is over: one search
    /// shares two connections out among them all.
    unsure: Vec<SourceForeignKey>,
    /// The orphans the searches found so far.
    found: Vec<OrphanFinding>,
    url: SourceUrl,
}

impl BesideSearch {
    /// True until every constraint is settled or searched: foreign keys and checks wait.
    fn busy(&self) -> bool {
        self.watch.waiting() || !self.searches.is_empty()
    }

    /// Starts the search of `which` (none when empty) and names them in the report.
    fn search(
        &mut self,
        resolved: &crate::resolve::ResolvedPlan,
        which: Vec<SourceForeignKey>,
        report: &mut RunReport,
    ) {
        if which.is_empty() {
            return;
        }
        report
            .orphans_searched_in_source
            .extend(which.iter().map(|fk| fk.name.clone()));
        self.searches
            .push(search_orphans_beside(resolved, &self.url, which));
    }

    /// Once nothing is watched any more, the constraints the loads left unsure are searched.
    fn search_the_unsure(
        &mut self,
        resolved: &crate::resolve::ResolvedPlan,
        report: &mut RunReport,
    ) {
        if !self.watch.waiting() {
            let unsure = std::mem::take(&mut self.unsure);
            self.search(resolved, unsure, report);
        }
    }

    /// Takes the results of the searches that have ended, waiting up to `wait` for the first:
    /// orphans (once every constraint is settled or searched, so the stop names them all), or
    /// a failed search, stop the run before any foreign key is made.
    fn result(
        &mut self,
        resolved: &crate::resolve::ResolvedPlan,
        wait: Duration,
        report: &mut RunReport,
    ) -> Option<Stop> {
        let mut i = 0;
        while i < self.searches.len() {
            let result =
                match self.searches[i].recv_timeout(if i == 0 { wait } else { Duration::ZERO }) {
                    Ok(result) => result,
                    Err(RecvTimeoutError::Timeout) => {
                        i += 1;
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => {
                        Err("the search stopped without a result".to_owned())
                    }
                };
            self.searches.remove(i);
            match result {
                Ok(findings) => self.found.extend(findings),
                Err(message) => {
                    return Some(Stop::Failed {
                        step: "orphan search".to_owned(),
                        sql: None,
                        message: format!("looking for orphan rows in the source failed: {message}"),
                    })
                }
            }
        }
        if !self.found.is_empty() && self.watch.waiting() {
            // The run stops: what the loads still watch is searched now, so that the stop
            // lists every constraint with orphans.
            self.unsure.extend(self.watch.give_up());
        }
        self.search_the_unsure(resolved, report);
        if self.found.is_empty() || self.busy() {
            return None;
        }
        // In the plan's order, whichever search found them.
        let order = all_source_foreign_keys(resolved);
        let rank = |f: &OrphanFinding| {
            order
                .iter()
                .position(|fk| fk.table == f.table && fk.name == f.constraint)
        };
        self.found.sort_by_key(rank);
        Some(Stop::Orphans)
    }
}

/// Closes a run that did not succeed: steps still `running` in the journal take the run's
/// state. The control connection may be gone (the target restarted under the run), so a new
/// one is tried for a while before giving up; the journal then still says `running`, and
/// `decant status` shows that no process holds the run's lock.
fn end_run(control: &mut TargetConnection, url: &str, run: i64, state: RunState, reason: &str) {
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

/// The accounting of tables a resumed run loaded before, as its journal recorded them.
fn tables_done_before(prepared: &Prepared, done: &[StepRow]) -> Vec<TableReport> {
    let count = |n: Option<i64>| n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
    done.iter()
        .filter_map(|row| {
            let step = prepared.steps.iter().find(|s| s.id == row.step_id)?;
            let StepKind::Load { table } = &step.kind else {
                return None;
            };
            Some(TableReport {
                source: table.clone(),
                target: prepared
                    .resolved
                    .table(table)
                    .map(|t| t.target.clone())
                    .unwrap_or_default(),
                read: count(row.rows_read),
                written: count(row.rows_written),
                rejected: count(row.rows_rejected),
                seconds: row.seconds.unwrap_or(0.0),
            })
        })
        .collect()
}

/// The source side of loading: the one snapshot every load and the end-of-run checks read.
struct Loader {
    source: SourceConnection,
    /// More connections on the same snapshot, reading big MySQL tables with `source`.
    twins: Vec<SourceConnection>,
    rejects: RunRejects,
}

/// A worker: its own target connection (and the server process behind it, to cancel a
/// statement on a signal); lane 0 also takes the loads, one at a time from the one snapshot.
struct Lane {
    target: TargetConnection,
    pid: i32,
    loads: bool,
}

/// What a lane reports back.
struct Finished {
    lane: usize,
    step: usize,
    seconds: f64,
    outcome: Result<StepDone, StepFailure>,
}

/// What a committed step hands back: its row counts (a load) or its output (a command).
#[derive(Default)]
struct StepDone {
    rows: Option<RowCounts>,
    output: Option<String>,
    /// What a load saw in the columns it watched for the orphan search.
    watch: Option<KeyWatch>,
}

/// Why the scheduler stopped handing out steps.
enum Stop {
    /// A step failed (its transaction rolled back) or the journal could not be written.
    Failed {
        step: String,
        sql: Option<String>,
        message: String,
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
    /// The source snapshot and the rejects; the loader lane holds it during a load.
    loader: &'p Mutex<Loader>,
    /// The plan whose checks the `checks` step runs (as written, before orphan handling).
    checks: Option<&'p Prepared>,
    /// The orphans found before loading (or beside the loads), so the foreign-key checks do
    /// not search again.
    known_orphans: Vec<OrphanFinding>,
    /// Under `settings.orphans: fail`, the orphan search beside the loads; foreign keys and
    /// checks wait for it.
    beside: Option<BesideSearch>,
    /// The target, for `run:` steps' environment.
    target_url: &'p str,
}

fn lock_loader(loader: &Mutex<Loader>) -> std::sync::MutexGuard<'_, Loader> {
    // A lane that panicked mid-load leaves the mutex poisoned; its transaction rolled back,
    // and the source connection is still a valid read transaction.
    loader.lock().unwrap_or_else(|p| p.into_inner())
}

impl<'p> Scheduler<'p> {
    fn new(
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
            message: chain(&e),
        };
        journal::step_started(control, run_id, &rendered.id).map_err(journal_failed)?;
        signals::test_point("started", &rendered.id);
        let state = create_views(control, prepared, rendered, run_id, report).map_err(|e| {
            Stop::Failed {
                step: rendered.id.clone(),
                sql: None,
                message: crate::errors::database_chain(&e),
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
        let failed = |message: String| Stop::Failed {
            step: rendered.id.clone(),
            sql: None,
            message,
        };
        journal::step_started(control, run_id, &rendered.id).map_err(|e| failed(chain(&e)))?;
        signals::test_point("started", &rendered.id);
        let templates = plan_templates(prepared);
        // Parents first, so a rejection carries down every level.
        let mut statements = Vec::new();
        for i in crate::graph::parents_first(resolved) {
            let child = &resolved.tables[i];
            for fk in &child.foreign_keys {
                if let Some(sql) =
                    reject_children_sql(&templates, resolved, child, fk, run_id, None)
                        .map_err(|e| failed(e.to_string()))?
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
        let rejected = outcome.map_err(|e| failed(chain(&e)))?;
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
                .map_err(|e| failed(chain(&e)))?;
        }
        let _ = loader.rejects.file.flush();
        Ok(match rejected.len() {
            0 => "done".to_owned(),
            n => format!("done, {n} row(s) rejected because their parent row was"),
        })
    }

    #[allow(clippy::type_complexity)]
    fn run<'scope, 'env>(
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
                        .unwrap_or_else(|panic| Err((None, panic_text(panic.as_ref()))))
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
                            message: chain(&e),
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
                            message: "a worker stopped unexpectedly".into(),
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
                Err((sql, message)) => {
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
                    let _ = journal::step_stopped(control, run_id, &step.id, state, &message);
                    if stop.is_none() {
                        stop = Some(Stop::Failed {
                            step: step.id.clone(),
                            sql,
                            message,
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
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
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
fn notice_signal(
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

/// Creates each rewritten view in its own savepoint, inside one transaction that also records
/// the step as done: a view PostgreSQL refuses (a SQLite-only function, say) is reported as not
/// carried with PostgreSQL's reason; views hold no rows, so the run goes on.
fn create_views(
    control: &mut TargetConnection,
    prepared: &Prepared,
    step: &RenderedStep,
    run_id: i64,
    report: &mut RunReport,
) -> Result<String, diesel::result::Error> {
    let schema = crate::dialect::quote_ident(&prepared.resolved.schema);
    let mut refused = Vec::new();
    control.transaction::<_, diesel::result::Error, _>(|conn| {
        refused.clear();
        for (view, sql) in prepared.resolved.views.iter().zip(&step.target_sql) {
            let attempt = conn.transaction::<_, diesel::result::Error, _>(|conn| {
                conn.batch_execute(&format!("SET LOCAL search_path TO {schema}"))?;
                conn.batch_execute(sql)
            });
            if let Err(e) = attempt {
                refused.push(format!(
                    "view `{}` is not carried: PostgreSQL refused its rewritten SELECT: {}",
                    view.source,
                    crate::errors::database_chain(&e)
                ));
            }
        }
        journal::step_done(conn, run_id, &step.id, None).map_err(|e| match e {
            JournalError::Query { source, .. } | JournalError::Transaction(source) => source,
            other => diesel::result::Error::QueryBuilderError(other.to_string().into()),
        })?;
        signals::test_point("before-commit", &step.id);
        Ok(())
    })?;
    let count = refused.len();
    report.not_carried.append(&mut refused);
    Ok(match count {
        0 => "done".to_owned(),
        n => format!("done, {n} view(s) not carried (see the report)"),
    })
}

type StepFailure = (Option<String>, String);

/// What fails inside a step's transaction.
#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error(transparent)]
    Copy(#[from] CopyError),
    #[error(transparent)]
    Journal(JournalError),
    #[error("{0}")]
    Refused(String),
    #[error("{source}")]
    Statement {
        sql: String,
        source: diesel::result::Error,
    },
}

/// A journal statement's failure names its SQL, like any statement of the step.
impl From<JournalError> for StepError {
    fn from(e: JournalError) -> Self {
        match e {
            JournalError::Query { sql, source } => StepError::Statement { sql, source },
            other => StepError::Journal(other),
        }
    }
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

/// Times a step that PostgreSQL chose as a deadlock's victim is run in all.
const DEADLOCK_ATTEMPTS: usize = 3;

/// True when `step` failed as the victim of a deadlock, so running it again is safe and
/// likely to succeed: PostgreSQL rolled its whole transaction back, and the other side has
/// gone on. A plan's own SQL step (a bare `ANALYZE` holds every table's lock until its
/// commit) can meet a foreign-key step's locks in the other order. Loads and commands are
/// not run again: a load's reads feed sums and sets that would count its rows twice, and a
/// command ran outside the step's transaction. Diesel does not expose the SQLSTATE (40P01),
/// so PostgreSQL's message tells.
fn lost_a_deadlock(step: &RenderedStep, outcome: &Result<StepDone, StepFailure>) -> bool {
    !matches!(step.kind, StepKind::Load { .. } | StepKind::Command { .. })
        && matches!(outcome, Err((_, message)) if message.contains("deadlock detected"))
}

/// What a load reads from, on the loader lane.
struct LoadSource<'a> {
    /// The source snapshot and the rejects.
    loader: &'a Mutex<Loader>,
    /// Under `settings.orphans: reject`, the orphan rows of each table, rejected at its load.
    orphan_rejects: &'a HashMap<String, Vec<Reject>>,
    /// The columns the load watches for the orphan search beside the loads.
    watch: Option<&'a mut KeyWatch>,
}

/// Runs one step on a lane's connection, in one transaction with its `done` record.
fn run_step(
    prepared: &Prepared,
    step: &RenderedStep,
    target_url: &str,
    target: &mut TargetConnection,
    source: Option<LoadSource<'_>>,
    run_id: i64,
) -> Result<StepDone, StepFailure> {
    let record = |target: &mut TargetConnection, rows: Option<RowCounts>| {
        journal::step_done(target, run_id, &step.id, rows).map_err(StepError::from)?;
        signals::test_point("before-commit", &step.id);
        Ok::<_, StepError>(())
    };
    let statement = |target: &mut TargetConnection, sql: &str| {
        target
            .batch_execute(sql)
            .map_err(|source| StepError::Statement {
                sql: sql.to_owned(),
                source,
            })
    };
    let outcome = match &step.kind {
        StepKind::Load { table } => {
            let t = prepared
                .resolved
                .table(table)
                .ok_or_else(|| (None, format!("table `{table}` is not in the plan")))?;
            let select = step.source_sql.first().cloned().unwrap_or_default();
            // Around the COPY, statements for the app's tables: triggers off, secondary keys
            // dropped before it; all of them back after it, in the same transaction.
            let copy_at = step
                .target_sql
                .iter()
                .position(|sql| crate::engines::postgres::copy_target_of(sql).is_some())
                .unwrap_or(0);
            let (before_copy, rest) = step.target_sql.split_at(copy_at);
            let copy_sql = rest.first().cloned().unwrap_or_default();
            let after_copy = rest.get(1..).unwrap_or_default();
            let on_bad_row = prepared.resolved.settings.on_bad_row;
            let Some(LoadSource {
                loader,
                orphan_rejects,
                watch,
            }) = source
            else {
                return Err((
                    None,
                    "a load step reached a lane without the source".to_owned(),
                ));
            };
            let mut guard = lock_loader(loader);
            let Loader {
                source,
                twins,
                rejects,
            } = &mut *guard;
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
                // Under `append` the row-count check needs the rows the table held before:
                // counted here, so the count commits (or rolls back) with the load.
                if prepared.resolved.settings.if_exists == IfExists::Append {
                    journal::record_baseline(target, run_id, &prepared.resolved.schema, &t.target)?;
                }
                for sql in before_copy {
                    statement(target, sql)?;
                }
                // Every row passes here anyway: summed per key window on the way, the first
                // sync after this run compares only the windows the app changed since.
                let mut digest = crate::sync::digest::streamed_digest(prepared, source, target, t);
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
                    copy::ReadAlong {
                        twins,
                        digest: digest.as_mut(),
                        watch,
                    },
                )?;
                if let Some(sums) = digest.and_then(StreamedDigest::finish) {
                    journal::keep_windows(target, run_id, &t.source, &sums)?;
                }
                for sql in after_copy {
                    statement(target, sql)?;
                }
                let orphans = orphans.len() as u64;
                stats.read += orphans;
                stats.rejected += orphans;
                if !rejects.pending.is_empty() {
                    journal::insert_rejects(target, run_id, &rejects.pending)?;
                }
                let rows = RowCounts {
                    read: stats.read,
                    written: stats.written,
                    rejected: stats.rejected,
                };
                record(target, Some(rows))?;
                Ok(rows)
            });
            result
                .map(|rows| StepDone {
                    rows: Some(rows),
                    ..StepDone::default()
                })
                .map_err(|e| e.failure(Some(copy_sql.clone())))
        }
        StepKind::Migrations { directory } => {
            // Diesel commits each migration with its version row, so running the step again
            // after a kill applies only what is still pending; the `done` record follows.
            use diesel_migrations::{FileBasedMigrations, MigrationHarness};
            let dir = prepared.loaded.base_dir().join(directory);
            let migrations = FileBasedMigrations::from_path(&dir)
                .map_err(|e| (None, format!("`{}`: {e}", dir.display())))?;
            target
                .postgres()
                .run_pending_migrations(migrations)
                .map_err(|e| (None, format!("applying `{}`: {e}", dir.display())))?;
            record(target, None).map_err(|e| e.failure(None))?;
            Ok(StepDone::default())
        }
        StepKind::Command { run } => {
            // A command cannot share the step's transaction: after a kill between its end and
            // the `done` record it runs again, which migrators are made for.
            let output = super::command::run_command(run, prepared.loaded.base_dir(), target_url)
                .map_err(|message| (None, message))?;
            record(target, None).map_err(|e| e.failure(None))?;
            Ok(StepDone {
                output: Some(output.text),
                ..StepDone::default()
            })
        }
        StepKind::PrepareTarget => target
            .transaction::<_, StepError, _>(|target| {
                check_app_schema(prepared, target)?;
                record_app_definitions(prepared, target, run_id)?;
                for sql in &step.target_sql {
                    statement(target, sql)?;
                }
                record(target, None)
            })
            .map(|_| StepDone::default())
            .map_err(|e| e.failure(None)),
        _ => {
            let statements = &step.target_sql;
            target
                .transaction::<_, StepError, _>(|target| {
                    for sql in statements {
                        statement(target, sql)?;
                    }
                    record(target, None)
                })
                .map(|_| StepDone::default())
                .map_err(|e| e.failure(None))
        }
    };
    if outcome.is_ok() {
        signals::test_point("after-commit", &step.id);
    }
    outcome
}

/// The templates of the plan (its own folder over decant's).
fn plan_templates(prepared: &Prepared) -> crate::dialect::Templates {
    crate::dialect::Templates::for_plan(
        prepared.loaded.base_dir(),
        prepared.loaded.plan.templates.as_deref(),
    )
}

/// Into the app's schema: every definition on the tables the run loads goes into the journal
/// before anything is dropped, in the same transaction (see `app_definitions`).
fn record_app_definitions(
    prepared: &Prepared,
    target: &mut TargetConnection,
    run_id: i64,
) -> Result<(), StepError> {
    let resolved = &prepared.resolved;
    if resolved.owner != SchemaOwner::App {
        return Ok(());
    }
    let tables: Vec<String> = resolved.tables.iter().map(|t| t.target.clone()).collect();
    let empty = app_definitions::emptying_statement(
        &plan_templates(prepared),
        &resolved.schema,
        &tables,
        resolved.settings.if_exists == IfExists::Append,
    )
    .map_err(|e| StepError::Refused(e.to_string()))?;
    let definitions = app_definitions::capture(target, &resolved.schema, &tables, empty)?;
    journal::record_app_definitions(target, run_id, &definitions)?;
    Ok(())
}

/// Before any row moves into the app's schema: it is still the one the plan was checked
/// against, its tables are empty unless `if_exists` says what to do with their rows, and the
/// app's triggers can be turned off for the load.
fn check_app_schema(prepared: &Prepared, target: &mut TargetConnection) -> Result<(), StepError> {
    use crate::engines::postgres::introspect::{
        owns_table, read_target_schema, schema_differences, tables_with_rows,
    };
    let Some(snapshot) = &prepared.app_schema else {
        return Ok(());
    };
    let resolved = &prepared.resolved;
    let refuse = |message: String| Err(StepError::Refused(message));
    let live =
        read_target_schema(target, &resolved.schema).map_err(|e| StepError::Refused(chain(&e)))?;
    let differences = schema_differences(snapshot, &live);
    if !differences.is_empty() {
        return refuse(format!(
            "the app's schema `{}` is not the one the plan was checked against (`{}`):\n  {}\nrun `decant snapshot` again, review the plan against it, and run again",
            resolved.schema,
            prepared.loaded.snapshot_path().display(),
            differences.join("\n  ")
        ));
    }
    if resolved.settings.if_exists == IfExists::Fail {
        let tables: Vec<String> = resolved.tables.iter().map(|t| t.target.clone()).collect();
        let full = tables_with_rows(target, &resolved.schema, &tables)
            .map_err(|e| StepError::Refused(chain(&e)))?;
        if !full.is_empty() {
            let listed: Vec<String> = full
                .iter()
                .map(|(t, n)| format!("`{t}` ({n} row(s))"))
                .collect();
            return refuse(format!(
                "the app's tables already hold rows: {}; set `settings.if_exists` to `truncate` (empty them first, in one statement) or `append` (keep them)",
                listed.join(", ")
            ));
        }
    }
    for t in resolved
        .tables
        .iter()
        .filter(|t| !t.app_triggers.is_empty())
    {
        let owns = owns_table(target, &resolved.schema, &t.target)
            .map_err(|e| StepError::Refused(chain(&e)))?;
        if !owns {
            return refuse(format!(
                "table `{}` has the app's triggers ({}), which would rewrite loaded values, and this role does not own the table, so it cannot turn them off for the load; run as the table's owner",
                t.target,
                t.app_triggers.join(", ")
            ));
        }
    }
    Ok(())
}

//! Starts a run and drives it: opens the source snapshot, settles the orphans, takes the target
//! lock, records (or resumes) the run in the journal, then hands the steps to the scheduler.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use diesel::sql_types::Text;
use diesel::RunQueryDsl;

use super::app_definitions;
use super::beside::BesideSearch;
use super::errors::RunError;
use super::outcome::conclude;
use super::scheduler::{Lane, Scheduler};
use super::snapshot::{another_source, count_in_snapshot, parallel_readers, Loader, RunRejects};
use super::step::plan_templates;
use crate::copy::{JsonLinesRejects, RejectSink};
use crate::engines::open_source;
use crate::engines::TargetConnection;
use crate::graph::StepKind;
use crate::journal::{self, JournalError, RunIdentity, RunState, StepRow, StepState};
use crate::orphans::OrphanPlan;
use crate::plan::model::{IfExists, OrphanPolicy, SchemaOwner};
use crate::prepare::{settle_orphans, Prepared, SourceCounts};
use crate::run::identity::{plan_hash, source_fingerprint};
use crate::run::orphan_watch::OrphanWatch;
use crate::run::report::{RunReport, StepReport, TableReport};
use crate::sync::schema_hash::schema_hash;
use crate::url::{parse_source_url, redact_url};

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Continue the newest interrupted run instead of starting a new one.
    pub resume: bool,
    /// Where the rejects file goes.
    pub rejects_path: PathBuf,
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
        .map_err(|e| RunError::Source(e.into()))?;
    let mut source = open_source(&source_url).map_err(|e| RunError::Source(e.into()))?;
    // One read transaction for every table and for the checks at the end: the copy is one
    // consistent snapshot of the source, and the checks compare against that same snapshot.
    // A server's big tables are read by `workers` connections at once, on that same snapshot.
    let mut twins = match parallel_readers(prepared, &source_url) {
        Some((control, twins)) => source.begin_snapshot_with(control, twins),
        None => source.begin_snapshot().map(|()| Vec::new()),
    }
    .map_err(|e| RunError::Source(e.into()))?;
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
    let (mut orphans, adjusted) = if beside_the_loads {
        (OrphanPlan::none(OrphanPolicy::Fail), None)
    } else {
        let mut source = open_source(&source_url).map_err(|e| RunError::Source(e.into()))?;
        let settled = settle_orphans(prepared, &mut source, Some(&|| another_source(&source_url)))
            .map_err(RunError::OrphanSearch)?;
        (settled.orphans, settled.plan)
    };
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
        source_fingerprint: source_fingerprint(&source_url, &prepared.catalog).map_err(
            |source| RunError::SourceFile {
                url: redact_url(&prepared.loaded.plan.source.url),
                source,
            },
        )?,
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

    let rejects_failed = |source| RunError::Rejects {
        path: options.rejects_path.clone(),
        source,
    };
    let rejects_file = if options.resume {
        // The file is rebuilt from the journal: rejects of steps that rolled back (killed or
        // failed mid-table) must not stay in it next to those of the step's next attempt.
        let committed = journal::run_rejects(&mut target, run_id)?;
        let mut file = JsonLinesRejects::create(&options.rejects_path).map_err(rejects_failed)?;
        for r in committed {
            file.reject(r).map_err(rejects_failed)?;
        }
        file
    } else {
        JsonLinesRejects::create(&options.rejects_path).map_err(rejects_failed)?
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
    report.warnings = crate::resolve::resolution_warnings(&resolved.tables);
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
    // The read snapshot wrote nothing: ending it cannot lose anything, and the connection
    // goes next.
    let _ = loader.source.end_snapshot();
    // Every rejected row is in the journal's rejects table too; a rejects file that could not be
    // written to its end is said, never passed over.
    if let Err(e) = loader.rejects.file.flush() {
        report.notes.push(format!(
            "the rejects file `{}` may be incomplete: {}; `{}` holds every rejected row",
            report.rejects_file.display(),
            crate::errors::chain(&e),
            journal::REJECTS_TABLE
        ));
    }
    report.seconds = started.elapsed().as_secs_f64();
    conclude(
        &mut target,
        target_url,
        resolved,
        run_id,
        stop,
        completed,
        found_orphans,
        report,
    )
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

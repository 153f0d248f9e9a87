//! Executes a prepared plan: takes the target lock, records the run in the journal, runs the
//! steps in graph order (loads in one consistent source snapshot), and accounts for every row.

use std::path::PathBuf;
use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::Text;
use diesel::{Connection, RunQueryDsl, SqliteConnection};

use crate::commands::Prepared;
use crate::copy::{self, CopyError, JsonLinesRejects, Reject, RejectSink};
use crate::graph::StepKind;
use crate::introspect::open_sqlite_read_only;
use crate::journal::{self, JournalError, RowCounts, RunIdentity};
use crate::plan::model::{IfExists, OnBadRow};
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
    #[error("step `{step}` failed{}: {message}", sql.as_ref().map(|s| format!(" at `{}`", first_line(s))).unwrap_or_default())]
    Step {
        step: String,
        sql: Option<String>,
        message: String,
        completed: Vec<String>,
    },
}

fn first_line(sql: &str) -> String {
    let line = sql.lines().next().unwrap_or_default();
    if sql.lines().nth(1).is_some() {
        format!("{line} …")
    } else {
        line.to_owned()
    }
}

/// The error chain of anything on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
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

/// Runs the plan against `target_url`; `progress` hears about each step as it ends.
pub fn execute(
    prepared: &Prepared,
    target_url: &str,
    options: &RunOptions,
    progress: &mut dyn FnMut(&StepReport),
) -> Result<RunReport, RunError> {
    let resolved = &prepared.resolved;
    let schema = resolved.schema.clone();
    let SourceUrl::Sqlite(source_file) =
        parse_source_url(&prepared.loaded.plan.source.url, prepared.loaded.base_dir())
            .map_err(|e| RunError::Source(e.to_string()))?;

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
    let mut rejects = RunRejects {
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
    let mut completed: Vec<String> = done.clone();
    for step in &prepared.steps {
        if done.contains(&step.id) {
            report.steps.push(StepReport {
                id: step.id.clone(),
                state: "skipped (done before)".into(),
                seconds: 0.0,
                rows: None,
            });
            continue;
        }
        if step.kind == StepKind::Checks {
            continue;
        }
        journal::step_started(&mut target, run_id, &step.id)?;
        let step_start = Instant::now();
        let outcome = run_step(
            prepared,
            step,
            &mut source,
            &mut target,
            run_id,
            &mut rejects,
        );
        let seconds = step_start.elapsed().as_secs_f64();
        match outcome {
            Ok(rows) => {
                journal::step_done(&mut target, run_id, &step.id, rows)?;
                if let (Some(rows), StepKind::Load { table }) = (rows, &step.kind) {
                    let target_name = resolved
                        .table(table)
                        .map(|t| t.target.clone())
                        .unwrap_or_default();
                    report.tables.push(TableReport {
                        source: table.clone(),
                        target: target_name,
                        read: rows.read,
                        written: rows.written,
                        rejected: rows.rejected,
                        seconds,
                    });
                }
                let entry = StepReport {
                    id: step.id.clone(),
                    state: "done".into(),
                    seconds,
                    rows,
                };
                progress(&entry);
                report.steps.push(entry);
                completed.push(step.id.clone());
            }
            Err((sql, message)) => {
                // The step's transaction rolled back; record why, keep the run resumable.
                let _ = journal::step_failed(&mut target, run_id, &step.id, &message);
                let _ = journal::finish_run(&mut target, run_id, "failed");
                let _ = rejects.file.flush();
                return Err(RunError::Step {
                    step: step.id.clone(),
                    sql,
                    message,
                    completed,
                });
            }
        }
    }
    let _ = source.batch_execute("COMMIT");
    rejects
        .file
        .flush()
        .map_err(|e| RunError::Source(chain(&e)))?;
    journal::finish_run(&mut target, run_id, "succeeded")?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
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
            StepError::Statement { sql, source } => (Some(sql), chain(&source)),
            other => (default_sql, chain(&other)),
        }
    }
}

fn run_step(
    prepared: &Prepared,
    step: &RenderedStep,
    source: &mut SqliteConnection,
    target: &mut PgConnection,
    run_id: i64,
    rejects: &mut RunRejects,
) -> Result<Option<RowCounts>, StepFailure> {
    match &step.kind {
        StepKind::Load { table } => {
            let t = prepared
                .resolved
                .table(table)
                .ok_or_else(|| (None, format!("table `{table}` is not in the plan")))?;
            let select = step.source_sql.first().cloned().unwrap_or_default();
            let copy_sql = step.target_sql.first().cloned().unwrap_or_default();
            let on_bad_row = prepared.resolved.settings.on_bad_row;
            rejects.pending.clear();
            let result = target.transaction::<_, StepError, _>(|target| {
                let stats = copy::copy_table(
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
                if on_bad_row == OnBadRow::Reject && !rejects.pending.is_empty() {
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

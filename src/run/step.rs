//! Runs one step on a lane's connection, in one transaction with its `done` record: a load's
//! COPY from the snapshot, migrations, commands, views, and the app-schema guard before loading.

use std::collections::HashMap;
use std::sync::Mutex;

use diesel::connection::SimpleConnection;

use super::app_definitions;
use super::snapshot::{lock_loader, Loader};
use crate::copy::{self, CopyError, KeyWatch, Reject, RejectSink};
use crate::engines::digest::StreamedDigest;
use crate::engines::TargetConnection;
use crate::errors::chain;
use crate::graph::StepKind;
use crate::journal::{self, JournalError, RowCounts};
use crate::plan::model::{IfExists, SchemaOwner};
use crate::prepare::Prepared;
use crate::render::RenderedStep;
use crate::run::report::RunReport;
use crate::signals;

/// What a committed step hands back: its row counts (a load) or its output (a command).
#[derive(Default)]
pub(super) struct StepDone {
    pub(super) rows: Option<RowCounts>,
    pub(super) output: Option<String>,
    /// What a load saw in the columns it watched for the orphan search.
    pub(super) watch: Option<KeyWatch>,
}

/// Creates each rewritten view in its own savepoint, inside one transaction that also records
/// the step as done: a view PostgreSQL refuses (a SQLite-only function, say) is reported as not
/// carried with PostgreSQL's reason; views hold no rows, so the run goes on.
pub(super) fn create_views(
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

/// A step that failed: the statement it failed at, when one, and why.
#[derive(Debug)]
pub(crate) struct StepFailure {
    pub(crate) sql: Option<String>,
    pub(crate) cause: Box<StepError>,
}

impl StepFailure {
    /// Why, on one line with its causes (as the journal and the report keep it).
    pub(crate) fn message(&self) -> String {
        chain(&self.cause)
    }
}

/// Why a step failed, or the run could not go on around it; the database's own errors with
/// PostgreSQL's detail and hint ([`crate::errors::database_chain`]).
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("{}", crate::errors::database_chain(.0))]
    Database(diesel::result::Error),
    #[error(transparent)]
    Copy(#[from] CopyError),
    #[error(transparent)]
    Journal(JournalError),
    #[error(transparent)]
    Template(#[from] crate::dialect::TemplateError),
    #[error("{0}")]
    Refused(String),
    /// A statement of the step failed; the failure names it.
    #[error("{}", crate::errors::database_chain(.error))]
    Statement {
        sql: String,
        error: diesel::result::Error,
    },
    #[error("`{}`", .dir.display())]
    Migrations {
        dir: std::path::PathBuf,
        #[source]
        source: diesel_migrations::MigrationError,
    },
    #[error("applying `{}`", .dir.display())]
    Migrate {
        dir: std::path::PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A command step's failure as it tells it: its exit code and the end of its output.
    #[error("{0}")]
    Command(String),
    #[error("looking for orphan rows in the source failed")]
    OrphanSearch(#[source] super::beside::OrphanSearchError),
    /// The app's definitions could not all be made again after the run: the list of those
    /// that failed, each with PostgreSQL's reason.
    #[error("{0}")]
    NotRestored(String),
    /// What a plan decant rendered cannot hold (a load without its COPY), or a worker lost:
    /// said as a step's failure, never a panic of the run.
    #[error("{0}")]
    Broken(String),
}

impl From<diesel::result::Error> for StepError {
    fn from(e: diesel::result::Error) -> Self {
        StepError::Database(e)
    }
}

/// A journal statement's failure names its SQL, like any statement of the step.
impl From<JournalError> for StepError {
    fn from(e: JournalError) -> Self {
        match e {
            JournalError::Query { sql, source } => StepError::Statement { sql, error: source },
            other => StepError::Journal(other),
        }
    }
}

impl StepError {
    /// The step's failure: at the statement that failed, else at `default_sql`.
    pub(super) fn failure(self, default_sql: Option<String>) -> StepFailure {
        let sql = match &self {
            StepError::Statement { sql, .. } => Some(sql.clone()),
            _ => default_sql,
        };
        StepFailure {
            sql,
            cause: Box::new(self),
        }
    }
}

/// Times a step that PostgreSQL chose as a deadlock's victim is run in all.
pub(super) const DEADLOCK_ATTEMPTS: usize = 3;

/// True when `step` failed as the victim of a deadlock, so running it again is safe and
/// likely to succeed: PostgreSQL rolled its whole transaction back, and the other side has
/// gone on. A plan's own SQL step (a bare `ANALYZE` holds every table's lock until its
/// commit) can meet a foreign-key step's locks in the other order. Loads and commands are
/// not run again: a load's reads feed sums and sets that would count its rows twice, and a
/// command ran outside the step's transaction. Diesel does not expose the SQLSTATE (40P01),
/// so PostgreSQL's message tells.
pub(super) fn lost_a_deadlock(
    step: &RenderedStep,
    outcome: &Result<StepDone, StepFailure>,
) -> bool {
    !matches!(step.kind, StepKind::Load { .. } | StepKind::Command { .. })
        && matches!(outcome, Err(failure) if failure.message().contains("deadlock detected"))
}

/// What a load reads from, on the loader lane.
pub(super) struct LoadSource<'a> {
    /// The source snapshot and the rejects.
    pub(super) loader: &'a Mutex<Loader>,
    /// Under `settings.orphans: reject`, the orphan rows of each table, rejected at its load.
    pub(super) orphan_rejects: &'a HashMap<String, Vec<Reject>>,
    /// The columns the load watches for the orphan search beside the loads.
    pub(super) watch: Option<&'a mut KeyWatch>,
}

/// Runs one step on a lane's connection, in one transaction with its `done` record.
pub(super) fn run_step(
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
            .map_err(|error| StepError::Statement {
                sql: sql.to_owned(),
                error,
            })
    };
    let outcome = match &step.kind {
        StepKind::Load { table } => {
            let t = prepared.resolved.table(table).ok_or_else(|| {
                StepError::Broken(format!("table `{table}` is not in the plan")).failure(None)
            })?;
            let select = step.source_sql.first().cloned().unwrap_or_default();
            // Around the COPY, statements for the app's tables: triggers off, secondary keys
            // dropped before it; all of them back after it, in the same transaction.
            let copy = step.copy.as_ref().ok_or_else(|| {
                StepError::Broken(format!("load step `{}` carries no COPY", step.id)).failure(None)
            })?;
            let (before_copy, rest) = step.target_sql.split_at(copy.at.min(step.target_sql.len()));
            let copy_sql = rest.first().cloned().unwrap_or_default();
            let after_copy = rest.get(1..).unwrap_or_default();
            let on_bad_row = prepared.resolved.settings.on_bad_row;
            let Some(LoadSource {
                loader,
                orphan_rejects,
                watch,
            }) = source
            else {
                return Err(StepError::Broken(
                    "a load step reached a lane without the source".to_owned(),
                )
                .failure(None));
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
                    .map_err(|e| StepError::Copy(e).failure(None))?;
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
                    Some(copy.target()),
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
            let migrations = FileBasedMigrations::from_path(&dir).map_err(|source| {
                StepError::Migrations {
                    dir: dir.clone(),
                    source,
                }
                .failure(None)
            })?;
            target
                .postgres()
                .run_pending_migrations(migrations)
                .map_err(|source| {
                    StepError::Migrate {
                        dir: dir.clone(),
                        source,
                    }
                    .failure(None)
                })?;
            record(target, None).map_err(|e| e.failure(None))?;
            Ok(StepDone::default())
        }
        StepKind::Command { run } => {
            // A command cannot share the step's transaction: after a kill between its end and
            // the `done` record it runs again, which migrators are made for.
            let output = super::command::run_command(run, prepared.loaded.base_dir(), target_url)
                .map_err(|e| StepError::Command(e).failure(None))?;
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
pub(super) fn plan_templates(prepared: &Prepared) -> crate::dialect::Templates {
    crate::dialect::Templates::for_plan(
        prepared.loaded.base_dir(),
        prepared.loaded.plan.templates.as_deref(),
    )
}

/// Into the app's schema: every definition on the tables the run loads goes into the journal
/// before anything is dropped, in the same transaction (see `app_definitions`).
pub(super) fn record_app_definitions(
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
pub(super) fn check_app_schema(
    prepared: &Prepared,
    target: &mut TargetConnection,
) -> Result<(), StepError> {
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

#[cfg(test)]
mod tests {
    use super::StepError;
    use crate::engines::IntrospectError;
    use crate::run::beside::OrphanSearchError;

    #[test]
    fn a_failed_steps_cause_is_its_source_and_reads_as_one_line() {
        let cause = StepError::OrphanSearch(OrphanSearchError::Open(IntrospectError::NotFound {
            path: "gone.db".into(),
        }));
        let failure = cause.failure(Some("SELECT 1".into()));
        assert_eq!(failure.sql.as_deref(), Some("SELECT 1"));
        assert_eq!(
            failure.message(),
            "looking for orphan rows in the source failed: cannot open the source: \
             source database `gone.db` does not exist"
        );
        // The causes are errors, not text: the chain walks down to the introspection's.
        let mut causes = Vec::new();
        let mut next = std::error::Error::source(&*failure.cause);
        while let Some(e) = next {
            causes.push(e.to_string());
            next = e.source();
        }
        assert_eq!(
            causes,
            [
                "cannot open the source",
                "source database `gone.db` does not exist"
            ]
        );
    }
}

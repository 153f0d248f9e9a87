//! `decant rollback`: drop the tables the newest run into a schema created, in one
//! transaction, and mark that run rolled back; for a run into the app's schema, empty what it
//! loaded and make the app's definitions again. The source is never touched.

use diesel::connection::SimpleConnection;

use super::app_definitions;
use crate::dialect::{target_template, Templates};
use crate::engines::TargetConnection;
use crate::journal::{self, JournalError};

/// What a rollback did, or why it did nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollbackOutcome {
    /// No run into this schema is recorded.
    NothingToDo,
    /// The newest run is already rolled back. Older runs are left alone: undoing them is not
    /// what "roll back the run" means, and their tables may be the ones the newest run replaced.
    AlreadyRolledBack { run: i64 },
    /// The newest run created no tables (`if_exists: truncate` or `append`): its rows went
    /// into tables that existed before it, where decant cannot tell them from the others.
    /// The run is left as it is.
    CreatedNoTables { run: i64, status: String },
    /// These tables of this run were dropped.
    Dropped { run: i64, tables: Vec<String> },
    /// `confirm` said no (or it was a dry run): these tables would have been dropped.
    NotConfirmed {
        run: i64,
        tables: Vec<String>,
        app: bool,
    },
    /// A run into the app's schema: its tables were emptied (unless it appended: then its
    /// rows cannot be told from the app's and stay) and every definition the run recorded
    /// before dropping it is back.
    Restored {
        run: i64,
        tables: Vec<String>,
        emptied: bool,
        made: usize,
    },
    /// Some definitions could not be made again; the run stays as it was.
    NotRestored { run: i64, failures: String },
}

/// Drops what the newest run created, once `confirm` (given the run, its tables, and whether
/// they are the app's, emptied and restored rather than dropped) agrees;
/// holds the target lock meanwhile, so what was confirmed is what is dropped.
pub fn rollback(
    conn: &mut TargetConnection,
    schema: &str,
    confirm: &mut dyn FnMut(i64, &[String], bool) -> bool,
) -> Result<RollbackOutcome, JournalError> {
    journal::lock_target(conn, schema)?;
    if !journal::journal_exists(conn)? {
        return Ok(RollbackOutcome::NothingToDo);
    }
    let Some(run) = journal::runs(conn, schema, 1)?.into_iter().next() else {
        return Ok(RollbackOutcome::NothingToDo);
    };
    if run.status == "rolled_back" {
        return Ok(RollbackOutcome::AlreadyRolledBack { run: run.id });
    }
    if run.created_tables.is_empty() {
        let definitions = journal::app_definitions(conn, run.id)?;
        if !definitions.is_empty() {
            return restore_app_schema(conn, schema, run.id, &definitions, confirm);
        }
        return Ok(RollbackOutcome::CreatedNoTables {
            run: run.id,
            status: run.status,
        });
    }
    if !confirm(run.id, &run.created_tables, false) {
        return Ok(RollbackOutcome::NotConfirmed {
            run: run.id,
            tables: run.created_tables,
            app: false,
        });
    }
    // One statement a table, through the template the plan's drop step renders.
    let templates = Templates::new(None);
    let statements = run
        .created_tables
        .iter()
        .map(|t| {
            templates.render(
                &target_template("drop_tables"),
                minijinja::context! { schema, tables => [t] },
            )
        })
        .collect::<Result<Vec<String>, _>>()?;
    conn.transaction(|conn| {
        for sql in &statements {
            conn.batch_execute(sql)
                .map_err(|source| JournalError::Query {
                    sql: sql.clone(),
                    source,
                })?;
        }
        journal::finish_run(conn, run.id, journal::RunState::RolledBack)
    })?;
    Ok(RollbackOutcome::Dropped {
        run: run.id,
        tables: run.created_tables,
    })
}

/// Rolls back a run into the app's schema: empties its tables (when the run recorded how)
/// and makes every recorded definition again, then marks the run rolled back.
fn restore_app_schema(
    conn: &mut TargetConnection,
    schema: &str,
    run: i64,
    definitions: &[journal::AppDefinition],
    confirm: &mut dyn FnMut(i64, &[String], bool) -> bool,
) -> Result<RollbackOutcome, JournalError> {
    let mut tables: Vec<String> = definitions
        .iter()
        .filter(|d| !d.table_name.is_empty())
        .map(|d| d.table_name.clone())
        .collect();
    tables.sort();
    tables.dedup();
    let emptied = definitions.iter().any(|d| d.kind == "empty");
    if !confirm(run, &tables, true) {
        return Ok(RollbackOutcome::NotConfirmed {
            run,
            tables,
            app: true,
        });
    }
    let restored = app_definitions::restore(conn, schema, run, true)?;
    if !restored.failed.is_empty() {
        return Ok(RollbackOutcome::NotRestored {
            run,
            failures: app_definitions::failures_text(&restored.failed),
        });
    }
    journal::finish_run(conn, run, journal::RunState::RolledBack)?;
    Ok(RollbackOutcome::Restored {
        run,
        tables,
        emptied,
        made: restored.made,
    })
}

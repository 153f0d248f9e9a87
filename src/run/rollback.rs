//! `decant rollback`: drop the tables the newest run into a schema created, in one
//! transaction, and mark that run rolled back. The source is never touched.

use diesel::connection::SimpleConnection;

use crate::dialect::quote_ident;
use crate::journal::{self, JournalError};
use crate::target::TargetConnection;

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
    NotConfirmed { run: i64, tables: Vec<String> },
}

/// Drops what the newest run created, once `confirm` (given the run and its tables) agrees;
/// holds the target lock meanwhile, so what was confirmed is what is dropped.
pub fn rollback(
    conn: &mut TargetConnection,
    schema: &str,
    confirm: &mut dyn FnMut(i64, &[String]) -> bool,
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
        return Ok(RollbackOutcome::CreatedNoTables {
            run: run.id,
            status: run.status,
        });
    }
    if !confirm(run.id, &run.created_tables) {
        return Ok(RollbackOutcome::NotConfirmed {
            run: run.id,
            tables: run.created_tables,
        });
    }
    let statements: Vec<String> = run
        .created_tables
        .iter()
        .map(|t| {
            format!(
                "DROP TABLE IF EXISTS {}.{} CASCADE",
                quote_ident(schema),
                quote_ident(t)
            )
        })
        .collect();
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

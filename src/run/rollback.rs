//! `decant rollback`: drop the tables the newest run into a schema created, in one
//! transaction, and mark that run rolled back. The source is never touched.

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;

use crate::dialect::quote_ident;
use crate::journal::{self, JournalError};

/// What a rollback did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollbackOutcome {
    /// No run into this schema is recorded.
    NothingToDo,
    /// These tables of this run were dropped.
    Dropped { run: i64, tables: Vec<String> },
}

/// Drops what the newest not-yet-rolled-back run created; holds the target lock meanwhile.
pub fn rollback(conn: &mut PgConnection, schema: &str) -> Result<RollbackOutcome, JournalError> {
    journal::lock_target(conn, schema)?;
    if !journal::journal_exists(conn)? {
        return Ok(RollbackOutcome::NothingToDo);
    }
    let Some(run) = journal::runs(conn, schema, 50)?
        .into_iter()
        .find(|r| r.status != "rolled_back")
    else {
        return Ok(RollbackOutcome::NothingToDo);
    };
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

//! The app's schema stays the app's: before a run drops its keys, every definition on the
//! tables it loads is read from the catalog into the journal; after, they are made again.
//!
//! Read in the same transaction as the drop (`prepare-target`), so a run can never have dropped
//! what it did not record. Restored by a run's end (successful or failed), by `--resume` (which
//! first drops again what its pending steps make), and by `rollback` (after emptying the tables).
//! A definition is made again only where it is missing, so a restore can run any number of
//! times; the details a drop loses (comments, cluster mark, replica identity, statistics
//! targets, trigger states) are re-applied every time.

use diesel::connection::SimpleConnection;
use diesel::sql_types::{Array, Text};
use diesel::{QueryableByName, RunQueryDsl};

use minijinja::context;

use crate::dialect::{target_template, TemplateError, Templates};
use crate::engines::TargetConnection;
use crate::journal::{self, AppDefinition, JournalError};

/// Every definition on `tables` of `schema`, in the order they can be made again: keys, then
/// indexes, then foreign keys (they need the keys), then the details. `empty`, when the run's
/// rows can be told from the app's (the tables were empty or emptied first), is the statement
/// a rollback empties them with.
pub fn capture(
    conn: &mut TargetConnection,
    schema: &str,
    tables: &[String],
    empty: Option<String>,
) -> Result<Vec<AppDefinition>, JournalError> {
    let mut definitions: Vec<AppDefinition> = Vec::new();
    if let Some(statement) = empty {
        definitions.push(AppDefinition {
            position: 0,
            kind: "empty".to_owned(),
            table_name: String::new(),
            name: String::new(),
            statement,
        });
    }
    let rows = diesel::sql_query(CAPTURE)
        .bind::<Text, _>(schema)
        .bind::<Array<Text>, _>(tables)
        .load::<Captured>(conn.postgres())
        .map_err(|source| JournalError::Query {
            sql: CAPTURE.to_owned(),
            source,
        })?;
    for r in rows {
        definitions.push(AppDefinition {
            position: i32::try_from(definitions.len()).unwrap_or(i32::MAX),
            kind: r.kind,
            table_name: r.table_name,
            name: r.name,
            statement: r.statement,
        });
    }
    Ok(definitions)
}

#[derive(QueryableByName)]
struct Captured {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    statement: String,
}

/// One query over the catalog, each definition spelled as the statement that makes it.
/// `pg_get_constraintdef` leaves out a key's index storage parameters (`WITH (fillfactor=…)`),
/// so they are put back before any `DEFERRABLE`, where the grammar has them.
const CAPTURE: &str = "WITH t AS (
    SELECT c.oid, c.relname, c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relname = ANY($2) AND c.relkind IN ('r', 'p')
), d AS (
    SELECT 1 AS ord, 'constraint' AS kind, t.relname::text AS table_name, con.conname::text AS name,
        format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', $1, t.relname, con.conname,
            CASE WHEN ic.reloptions IS NULL THEN pg_get_constraintdef(con.oid)
            ELSE regexp_replace(pg_get_constraintdef(con.oid), '( DEFERRABLE.*)?$',
                ' WITH (' || array_to_string(ic.reloptions, ', ') || ')\\1') END) AS statement
    FROM t JOIN pg_constraint con ON con.conrelid = t.oid AND con.contype IN ('p', 'u')
    LEFT JOIN pg_class ic ON ic.oid = con.conindid
  UNION ALL
    SELECT 2, 'index', t.relname, ic.relname, pg_get_indexdef(i.indexrelid)
    FROM t JOIN pg_index i ON i.indrelid = t.oid JOIN pg_class ic ON ic.oid = i.indexrelid
    WHERE NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = t.oid)
  UNION ALL
    SELECT 3, 'foreign_key', t.relname, con.conname,
        format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', $1, t.relname, con.conname, pg_get_constraintdef(con.oid))
    FROM t JOIN pg_constraint con ON con.conrelid = t.oid AND con.contype = 'f'
  UNION ALL
    SELECT 4, 'detail', t.relname, ic.relname, format('COMMENT ON INDEX %I.%I IS %L', $1, ic.relname, ds.description)
    FROM t JOIN pg_index i ON i.indrelid = t.oid JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_description ds ON ds.objoid = i.indexrelid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0
    WHERE NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = t.oid)
  UNION ALL
    SELECT 4, 'detail', t.relname, con.conname, format('COMMENT ON CONSTRAINT %I ON %I.%I IS %L', con.conname, $1, t.relname, ds.description)
    FROM t JOIN pg_constraint con ON con.conrelid = t.oid
    JOIN pg_description ds ON ds.objoid = con.oid AND ds.classoid = 'pg_constraint'::regclass
  UNION ALL
    SELECT 5, 'detail', t.relname, ic.relname, format('ALTER TABLE %I.%I CLUSTER ON %I', $1, t.relname, ic.relname)
    FROM t JOIN pg_index i ON i.indrelid = t.oid AND i.indisclustered JOIN pg_class ic ON ic.oid = i.indexrelid
  UNION ALL
    SELECT 5, 'detail', t.relname, '', format('ALTER TABLE %I.%I REPLICA IDENTITY %s', $1, t.relname,
        CASE t.relreplident WHEN 'f' THEN 'FULL' WHEN 'n' THEN 'NOTHING'
        WHEN 'i' THEN (SELECT format('USING INDEX %I', ic.relname) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                       WHERE i.indrelid = t.oid AND i.indisreplident)
        ELSE 'DEFAULT' END)
    FROM t
  UNION ALL
    SELECT 5, 'detail', t.relname, ic.relname, format('ALTER INDEX %I.%I ALTER COLUMN %s SET STATISTICS %s', $1, ic.relname, a.attnum, a.attstattarget)
    FROM t JOIN pg_index i ON i.indrelid = t.oid JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_attribute a ON a.attrelid = i.indexrelid AND a.attnum > 0 AND a.attstattarget >= 0
  UNION ALL
    SELECT 5, 'detail', t.relname, a.attname, format('ALTER TABLE %I.%I ALTER COLUMN %I SET STATISTICS %s', $1, t.relname, a.attname, a.attstattarget)
    FROM t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attstattarget >= 0
  UNION ALL
    SELECT 6, 'detail', t.relname, tg.tgname, format('ALTER TABLE %I.%I %s TRIGGER %I', $1, t.relname,
        CASE tg.tgenabled WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA' WHEN 'A' THEN 'ENABLE ALWAYS' ELSE 'ENABLE' END, tg.tgname)
    FROM t JOIN pg_trigger tg ON tg.tgrelid = t.oid AND NOT tg.tgisinternal
)
SELECT kind, table_name, name, statement FROM d ORDER BY ord, table_name, name, statement";

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    value: bool,
}

/// Whether the object a definition makes is there now.
fn exists(
    conn: &mut TargetConnection,
    schema: &str,
    d: &AppDefinition,
) -> Result<bool, JournalError> {
    let sql = match d.kind.as_str() {
        "constraint" | "foreign_key" => {
            "SELECT EXISTS (SELECT 1 FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND con.conname = $3) AS value"
        }
        "index" => {
            "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
             JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = $2 AND ic.relname = $3) AS value"
        }
        _ => return Ok(false),
    };
    diesel::sql_query(sql)
        .bind::<Text, _>(schema)
        .bind::<Text, _>(&d.table_name)
        .bind::<Text, _>(&d.name)
        .get_result::<Exists>(conn.postgres())
        .map(|e| e.value)
        .map_err(|source| JournalError::Query {
            sql: sql.to_owned(),
            source,
        })
}

/// A definition that could not be made again, with the server's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotRestored {
    pub statement: String,
    pub reason: String,
}

/// What a restore did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restored {
    /// Keys, indexes and foreign keys made again (those already there are left alone).
    pub made: usize,
    /// What could not be made, each in its own savepoint so the rest still commits.
    pub failed: Vec<NotRestored>,
}

/// Makes every recorded definition of `run` that is missing, re-applies the details, and
/// clears the run's pending mark when all of it worked; in one transaction. `empty_first`
/// runs the recorded emptying statement first (a rollback).
pub fn restore(
    conn: &mut TargetConnection,
    schema: &str,
    run: i64,
    empty_first: bool,
) -> Result<Restored, JournalError> {
    let definitions = journal::app_definitions(conn, run)?;
    conn.transaction::<_, JournalError, _>(|conn| {
        let mut done = Restored::default();
        for d in &definitions {
            if d.kind == "empty" {
                if empty_first {
                    conn.batch_execute(&d.statement)
                        .map_err(|source| JournalError::Query {
                            sql: d.statement.clone(),
                            source,
                        })?;
                }
                continue;
            }
            if d.kind != "detail" && exists(conn, schema, d)? {
                continue;
            }
            let attempt = conn.transaction::<_, diesel::result::Error, _>(|conn| {
                conn.batch_execute(&d.statement)
            });
            match attempt {
                Ok(()) if d.kind != "detail" => done.made += 1,
                Ok(()) => {}
                Err(e) => done.failed.push(NotRestored {
                    statement: d.statement.clone(),
                    reason: crate::errors::database_chain(&e),
                }),
            }
        }
        journal::set_app_restore_pending(conn, run, !done.failed.is_empty())?;
        Ok(done)
    })
}

/// The statement a rollback empties the run's tables with (`truncate_tables.sql.j2`), when it
/// can tell the run's rows from the app's: not after an `append`.
pub fn emptying_statement(
    templates: &Templates,
    schema: &str,
    tables: &[String],
    appended: bool,
) -> Result<Option<String>, TemplateError> {
    if appended || tables.is_empty() {
        return Ok(None);
    }
    templates
        .render(
            &target_template("truncate_tables"),
            context! { schema, tables },
        )
        .map(Some)
}

/// What can go wrong dropping the app's definitions again.
#[derive(Debug, thiserror::Error)]
pub enum AppDefinitionsError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Template(#[from] TemplateError),
}

impl From<diesel::result::Error> for AppDefinitionsError {
    fn from(e: diesel::result::Error) -> Self {
        AppDefinitionsError::Journal(JournalError::Transaction(e))
    }
}

/// The statement that drops a recorded key, index or foreign key (`drop_index.sql.j2`,
/// `drop_constraint.sql.j2`).
fn drop_statement(
    templates: &Templates,
    schema: &str,
    kind: &str,
    table: &str,
    name: &str,
) -> Result<String, TemplateError> {
    if kind == "index" {
        templates.render(&target_template("drop_index"), context! { schema, name })
    } else {
        templates.render(
            &target_template("drop_constraint"),
            context! { schema, table, name },
        )
    }
}

/// Runs one drop statement, naming it on failure.
fn execute_drop(conn: &mut TargetConnection, sql: String) -> Result<(), AppDefinitionsError> {
    conn.batch_execute(&sql)
        .map_err(|source| JournalError::Query { sql, source }.into())
}

/// For a resume: drops again the recorded keys, indexes and foreign keys that the steps still
/// to run make (a failed or interrupted attempt put them back), foreign keys first.
/// `pending(table)` says whether the step that makes that table's keys is still to run.
pub fn drop_again(
    conn: &mut TargetConnection,
    templates: &Templates,
    schema: &str,
    run: i64,
    pending: &dyn Fn(&str) -> bool,
) -> Result<usize, AppDefinitionsError> {
    let definitions = journal::app_definitions(conn, run)?;
    conn.transaction::<_, AppDefinitionsError, _>(|conn| {
        let mut dropped = 0;
        for kind in ["foreign_key", "constraint", "index"] {
            for d in definitions
                .iter()
                .filter(|d| d.kind == kind && pending(&d.table_name))
            {
                if !exists(conn, schema, d)? {
                    continue;
                }
                // A key another table's foreign key depends on (a cycle's) goes after that
                // foreign key, which the run's end makes again with the rest.
                if kind == "constraint" {
                    dropped +=
                        drop_dependent_foreign_keys(conn, templates, schema, d, &definitions)?;
                }
                let sql = drop_statement(templates, schema, kind, &d.table_name, &d.name)?;
                execute_drop(conn, sql)?;
                dropped += 1;
            }
        }
        if dropped > 0 {
            journal::set_app_restore_pending(conn, run, true)?;
        }
        Ok(dropped)
    })
}

#[derive(QueryableByName)]
struct Dependent {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
}

/// Drops the recorded foreign keys that depend on key `d`'s index; returns how many.
fn drop_dependent_foreign_keys(
    conn: &mut TargetConnection,
    templates: &Templates,
    schema: &str,
    d: &AppDefinition,
    definitions: &[AppDefinition],
) -> Result<usize, AppDefinitionsError> {
    let sql = "SELECT t.relname::text AS table_name, fk.conname::text AS name FROM pg_constraint fk \
               JOIN pg_class t ON t.oid = fk.conrelid \
               WHERE fk.contype = 'f' AND fk.conindid = (SELECT k.conindid FROM pg_constraint k \
                 JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = $1 AND c.relname = $2 AND k.conname = $3)";
    let dependents = diesel::sql_query(sql)
        .bind::<Text, _>(schema)
        .bind::<Text, _>(&d.table_name)
        .bind::<Text, _>(&d.name)
        .load::<Dependent>(conn.postgres())
        .map_err(|source| JournalError::Query {
            sql: sql.to_owned(),
            source,
        })?;
    let mut dropped = 0;
    for fk in dependents.iter().filter(|fk| {
        definitions
            .iter()
            .any(|r| r.kind == "foreign_key" && r.table_name == fk.table_name && r.name == fk.name)
    }) {
        let sql = drop_statement(templates, schema, "foreign_key", &fk.table_name, &fk.name)?;
        execute_drop(conn, sql)?;
        dropped += 1;
    }
    Ok(dropped)
}

/// The failures of a restore as lines for a message.
pub fn failures_text(failed: &[NotRestored]) -> String {
    failed
        .iter()
        .map(|f| format!("  `{}`: {}", f.statement, f.reason))
        .collect::<Vec<_>>()
        .join("\n")
}

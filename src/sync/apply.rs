//! Applying a sync's changes in the target: the differing source rows staged in temporary
//! tables through the copy engine, then deleted and upserted in foreign-key-safe order.

use diesel::connection::SimpleConnection;
use minijinja::context;

use super::compare::{key_values, target_keys, TablePlan};
use super::rejects::count_as_rejected;
use super::SyncError;
use crate::copy::{self, CopyError, VecRejects};
use crate::dialect::{source_template, target_template, TemplateError, Templates};
use crate::engines::SourceConnection;
use crate::engines::TargetConnection;
use crate::plan::model::OnBadRow;
use crate::prepare::Prepared;
use crate::resolve::ResolvedTable;

/// Keys per statement when rows are named by key.
const KEYS_PER_STATEMENT: usize = 500;

/// Why one table's changes could not be staged or applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("cannot render a statement")]
    Template(#[from] TemplateError),
    #[error("cannot stage the source's rows")]
    Stage(#[from] CopyError),
    /// A statement the target refused: its first line, and what PostgreSQL adds to its
    /// message (the detail, e.g. the duplicated key, and the hint).
    #[error("`{sql}` failed{detail}")]
    Statement {
        sql: String,
        detail: String,
        #[source]
        source: diesel::result::Error,
    },
}

impl ApplyError {
    fn statement(sql: &str, source: diesel::result::Error) -> ApplyError {
        let mut detail = String::new();
        if let diesel::result::Error::DatabaseError(_, info) = &source {
            if let Some(d) = info.details() {
                detail.push_str(&format!(" (detail: {d})"));
            }
            if let Some(hint) = info.hint() {
                detail.push_str(&format!(" (hint: {hint})"));
            }
        }
        ApplyError::Statement {
            sql: sql.lines().next().unwrap_or_default().to_owned(),
            detail,
            source,
        }
    }
}

pub(super) fn staged_name(table: &ResolvedTable) -> String {
    format!("decant_sync_{}", table.target)
}

pub(super) fn apply_error(table: &ResolvedTable) -> impl Fn(ApplyError) -> SyncError + '_ {
    move |source| SyncError::Apply {
        table: table.source.clone(),
        source: Box::new(source),
    }
}

/// Copies the source rows to apply (the differing keys, or every row) into a temporary
/// table, through the copy engine: converted as the run converted them, bad rows rejected.
pub(super) fn stage(
    prepared: &Prepared,
    templates: &Templates,
    source: &mut SourceConnection,
    target: &mut TargetConnection,
    plan: &mut TablePlan<'_>,
    rejects: &mut VecRejects,
) -> Result<(), SyncError> {
    let t = plan.table;
    let reloaded = plan.result.reloaded;
    if !reloaded && plan.upsert.is_empty() {
        return Ok(());
    }
    let failed = apply_error(t);
    let schema = prepared.resolved.schema.as_str();
    let temp = staged_name(t);
    let create = templates
        .render(
            &target_template("sync_temp_table"),
            context! { temp, schema, table => t.target },
        )
        .map_err(|e| failed(e.into()))?;
    target
        .batch_execute(&create)
        .map_err(|e| failed(ApplyError::statement(&create, e)))?;
    let base = crate::compare::load_select(prepared, t);
    let staged_table = ResolvedTable {
        target: temp.clone(),
        ..t.clone()
    };
    let selects: Vec<String> = if reloaded {
        vec![base]
    } else {
        plan.upsert
            .chunks(KEYS_PER_STATEMENT)
            .map(|rows| {
                templates
                    .render(
                        &source_template(prepared.resolved.engine.dialect(), "select_keys"),
                        context! { select => base, keys => t.key_columns, rows },
                    )
                    .map_err(|e| failed(e.into()))
            })
            .collect::<Result<_, _>>()?
    };
    let before = rejects.rejects.len();
    for select in selects {
        copy::copy_table(
            source,
            target,
            "pg_temp",
            &staged_table,
            &t.key_columns,
            &select,
            None,
            prepared.resolved.settings.on_bad_row,
            rejects,
            copy::ReadAlong::default(),
        )
        .map_err(|e| failed(e.into()))?;
    }
    // A row that became a bad row is rejected, as in a run, and leaves the target; it is
    // counted as rejected, not as inserted or updated. A row rejected before that is bad in
    // the same column with the same value is no change; one that loads now is inserted.
    // Their target rows (a changed row's old version) leave the target.
    let leave = prepared.resolved.settings.on_bad_row == OnBadRow::Reject;
    for reject in &rejects.rejects[before..] {
        if count_as_rejected(plan, reject) && leave {
            let key = key_values(t, &reject.primary_key);
            if !plan.delete.contains(&key) {
                plan.delete.push(key);
            }
        }
    }
    Ok(())
}

pub(super) fn delete(
    prepared: &Prepared,
    templates: &Templates,
    target: &mut TargetConnection,
    plan: &TablePlan<'_>,
) -> Result<(), SyncError> {
    let t = plan.table;
    let failed = apply_error(t);
    let schema = prepared.resolved.schema.as_str();
    let keys = target_keys(t);
    let mut statements = Vec::new();
    if plan.result.reloaded {
        if keys.is_empty() {
            // No key to match rows by: the table's rows are replaced by the staged ones.
            statements.push(format!(
                "DELETE FROM {}.{}",
                crate::dialect::quote_ident(schema),
                crate::dialect::quote_ident(&t.target)
            ));
        } else {
            statements.push(
                templates
                    .render(
                        &target_template("sync_delete"),
                        context! { schema, table => t.target, keys, stage => staged_name(t) },
                    )
                    .map_err(|e| failed(e.into()))?,
            );
        }
    }
    for rows in plan.delete.chunks(KEYS_PER_STATEMENT) {
        statements.push(
            templates
                .render(
                    &target_template("sync_delete"),
                    context! { schema, table => t.target, keys, rows, stage => () },
                )
                .map_err(|e| failed(e.into()))?,
        );
    }
    execute_all(target, &statements, &failed)
}

pub(super) fn upsert(
    prepared: &Prepared,
    templates: &Templates,
    target: &mut TargetConnection,
    plan: &TablePlan<'_>,
) -> Result<(), SyncError> {
    let t = plan.table;
    if !plan.result.reloaded && plan.upsert.is_empty() {
        return Ok(());
    }
    let failed = apply_error(t);
    let schema = prepared.resolved.schema.as_str();
    let columns: Vec<&str> = t.copied_columns().map(|c| c.target.as_str()).collect();
    let keys = target_keys(t);
    let updated: Vec<&str> = columns
        .iter()
        .copied()
        .filter(|c| !keys.contains(c))
        .collect();
    let mut statements = vec![templates
        .render(
            &target_template("sync_upsert"),
            context! { schema, table => t.target, columns, keys, updated, stage => staged_name(t) },
        )
        .map_err(|e| failed(e.into()))?];
    if let Some(identity) = &t.identity {
        statements.push(
            templates
                .render(
                    &target_template("identity_reset"),
                    context! { schema, table => t.target, column => identity.column, continue_after => identity.autoincrement_after.unwrap_or(0) },
                )
                .map_err(|e| failed(e.into()))?,
        );
    }
    execute_all(target, &statements, &failed)
}

/// Turns the app's own triggers of every table that has some off (`enable` false) or on.
pub(super) fn app_triggers(
    prepared: &Prepared,
    templates: &Templates,
    target: &mut TargetConnection,
    enable: bool,
) -> Result<(), SyncError> {
    let schema = prepared.resolved.schema.as_str();
    for t in prepared
        .resolved
        .tables
        .iter()
        .filter(|t| !t.app_triggers.is_empty())
    {
        let sql = templates
            .render(
                &target_template("table_triggers"),
                context! { schema, table => t.target, enable, modes => t.app_trigger_modes },
            )
            .map_err(|e| apply_error(t)(e.into()))?;
        execute_all(target, &[sql], &apply_error(t))?;
    }
    Ok(())
}

/// Runs the statements in order; the first failure names its SQL and the server's reason.
fn execute_all(
    target: &mut TargetConnection,
    statements: &[String],
    failed: &impl Fn(ApplyError) -> SyncError,
) -> Result<(), SyncError> {
    for sql in statements {
        target
            .batch_execute(sql)
            .map_err(|e| failed(ApplyError::statement(sql, e)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_statement_keeps_its_cause_under_the_table_it_failed_for() {
        let refused = diesel::result::Error::QueryBuilderError("no such table".into());
        let e = SyncError::Apply {
            table: "books".to_owned(),
            source: Box::new(ApplyError::statement(
                "DELETE FROM books\nWHERE id = 1",
                refused,
            )),
        };
        let apply = std::error::Error::source(&e).expect("the apply error is the cause");
        let database = apply.source().expect("the database's error is its cause");
        assert_eq!(database.to_string(), "no such table");
        assert_eq!(
            crate::errors::chain(&e),
            "applying the changes of `books` failed: `DELETE FROM books` failed: no such table"
        );
    }
}

//! Rows rejected before, looked at again by a sync, and the rows whose parent row is rejected:
//! the statement a run's reject-children step and a sync's cascade both send.

use super::apply::{apply_error, staged_name};
use super::compare::{key_text, key_values, TablePlan};
use super::SyncError;
use crate::copy::Reject;
use crate::dialect::Templates;
use crate::engines::TargetConnection;
use crate::journal;
use crate::prepare::Prepared;

/// Looks again at the rows rejected earlier from this table: each is staged again by its key,
/// counted as inserted if it converts now and as rejected only if it is bad in a new way; one
/// the source no longer has loses its record. A row rejected because its parent was goes in
/// once its parent does.
pub(super) fn recheck_rejected<'r>(
    plan: &mut TablePlan<'_>,
    earlier: impl Iterator<Item = &'r Reject>,
) {
    let t = plan.table;
    for reject in earlier {
        let named_by_key = !t.key_columns.is_empty()
            && t.key_columns
                .iter()
                .all(|k| reject.primary_key.get(k).is_some());
        if !named_by_key {
            // Named by position: only a reload looks at it again.
            if plan.result.reloaded {
                plan.retake.push(reject.primary_key.clone());
            }
            continue;
        }
        let values = key_values(t, &reject.primary_key);
        let key = key_text(&values);
        let in_source = plan.inserted_keys.contains(&key);
        if reject.reason.starts_with("parent rejected") {
            // Staged like any row the source has (a gone one stages nothing): the cascade
            // after staging rejects it again while its parent is rejected, which is no change.
            if in_source || plan.result.reloaded {
                plan.rechecked
                    .insert(key, (reject.column.clone(), reject.value.clone()));
            }
            plan.retake.push(reject.primary_key.clone());
            continue;
        }
        // Still bad: staged again, and counted only if it is bad in a new way. One that
        // converts now stays counted as inserted. One the source no longer has stages nothing.
        if plan.unconvertible.contains(&key) && plan.inserted_keys.remove(&key) {
            plan.result.inserted = plan.result.inserted.saturating_sub(1);
            plan.rechecked
                .insert(key, (reject.column.clone(), reject.value.clone()));
        }
        if !plan.result.reloaded && !plan.upsert.contains(&values) {
            plan.upsert.push(values);
        }
        plan.retake.push(reject.primary_key.clone());
    }
}

/// Rejects the rows whose parent row is rejected (by this sync, or still by the run), parents
/// first so it carries down every level: among the staged rows (they are not applied) and in
/// the target (they leave it). Each is recorded once, with "parent rejected" as its reason.
pub(super) fn reject_children(
    prepared: &Prepared,
    templates: &Templates,
    target: &mut TargetConnection,
    plans: &mut [TablePlan<'_>],
    run_id: i64,
) -> Result<Vec<Reject>, SyncError> {
    let resolved = &prepared.resolved;
    let mut all = Vec::new();
    for i in crate::graph::parents_first(resolved) {
        let child = &resolved.tables[i];
        let failed = apply_error(child);
        let staged = plans[i].result.reloaded || !plans[i].upsert.is_empty();
        let stage = staged_name(child);
        for fk in &child.foreign_keys {
            let places: Vec<Option<(&str, &str)>> = if staged {
                vec![Some(("pg_temp", stage.as_str())), None]
            } else {
                vec![None]
            };
            for rows_in in places {
                let Some(sql) =
                    reject_children_sql(templates, resolved, child, fk, run_id, rows_in)
                        .map_err(|e| failed(e.into()))?
                else {
                    continue;
                };
                // A table that references itself: repeat until no row is left hanging.
                loop {
                    let rows = journal::reject_children(target, &sql)?;
                    if rows.is_empty() {
                        break;
                    }
                    for reject in &rows {
                        count_as_rejected(&mut plans[i], reject);
                    }
                    all.extend(rows);
                    if fk.referenced_source != child.source {
                        break;
                    }
                }
            }
        }
    }
    Ok(all)
}

/// Counts a row as rejected rather than as inserted or updated; a row rejected before in the
/// same column with the same value is no change. True when the target has the row (it changed).
pub(super) fn count_as_rejected(plan: &mut TablePlan<'_>, reject: &Reject) -> bool {
    let text = key_text(&key_values(plan.table, &reject.primary_key));
    let in_target = plan.updated_keys.remove(&text);
    if in_target {
        plan.result.updated = plan.result.updated.saturating_sub(1);
    } else if plan.inserted_keys.remove(&text) {
        plan.result.inserted = plan.result.inserted.saturating_sub(1);
    }
    match plan.rechecked.get(&text) {
        Some((column, value)) if column == &reject.column && value == &reject.value => {}
        _ => plan.result.rejected += 1,
    }
    in_target
}

/// The statement that rejects `child`'s rows whose parent row (through `fk`) a run (or
/// sync) rejected; `None` when `fk` does not reference its parent's key (rejects name rows by it).
/// `rows_in` is where the rows are: the child table itself, or a sync's staged copy of it.
pub fn reject_children_sql(
    templates: &crate::dialect::Templates,
    resolved: &crate::resolve::ResolvedPlan,
    child: &crate::resolve::ResolvedTable,
    fk: &crate::resolve::ResolvedForeignKey,
    run_id: i64,
    rows_in: Option<(&str, &str)>,
) -> Result<Option<String>, crate::dialect::TemplateError> {
    let Some(parent) = resolved.table(&fk.referenced_source) else {
        return Ok(None);
    };
    let parent_keys: Option<Vec<&str>> = fk
        .referenced_columns
        .iter()
        .map(|target| {
            parent
                .columns
                .iter()
                .find(|c| c.target == *target)
                .map(|c| c.source.as_str())
        })
        .collect();
    let Some(parent_keys) = parent_keys.filter(|k| !k.is_empty() && *k == parent.key_columns)
    else {
        return Ok(None);
    };
    let pairs: Vec<serde_json::Value> = fk
        .columns
        .iter()
        .zip(&parent_keys)
        .map(|(c, p)| serde_json::json!({ "child": c, "parent": p }))
        .collect();
    let keys: Vec<serde_json::Value> = child
        .key_columns
        .iter()
        .filter_map(|k| child.column(k))
        .map(|c| serde_json::json!({ "source": c.source, "target": c.target }))
        .collect();
    let column = child
        .columns
        .iter()
        .find(|c| fk.columns.first() == Some(&c.target))
        .map_or_else(
            || fk.columns.first().cloned().unwrap_or_default(),
            |c| c.source.clone(),
        );
    templates
        .render(
            &crate::dialect::target_template("reject_children"),
            minijinja::context! {
                schema => rows_in.map_or(resolved.schema.as_str(), |(schema, _)| schema),
                child => rows_in.map_or(child.target.as_str(), |(_, table)| table),
                child_source => child.source,
                parent_source => parent.source,
                run => run_id,
                pairs,
                keys,
                column,
                reason => format!("parent rejected: its row in `{}` was rejected", parent.source),
            },
        )
        .map(Some)
}

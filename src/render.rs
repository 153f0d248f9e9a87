//! Renders every step of the graph to the SQL `decant run` will execute, in order, through
//! the dialect templates. Plain data: `decant plan` prints it without touching the target.

use std::path::Path;

use minijinja::context;
use minijinja::value::Value;
use serde::Serialize;

use crate::dialect::{source_template, target_template, TemplateError, Templates};
use crate::engines::postgres::{copy_target_of, CopyInto};
use crate::graph::{StepGraph, StepKind};
use crate::plan::model::{ConstraintTiming, IfExists, SchemaOwner};
use crate::resolve::{ResolvedPlan, ResolvedTable};

/// One step and its SQL.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderedStep {
    pub id: String,
    #[serde(flatten)]
    pub kind: StepKind,
    /// Steps this one waits for.
    pub depends_on: Vec<String>,
    /// Steps in the same wave may run in parallel.
    pub wave: usize,
    /// Statements on the source (the read of a load step).
    pub source_sql: Vec<String>,
    /// Statements on the target, in order.
    pub target_sql: Vec<String>,
    /// A load's COPY as data, read once from the rendered `copy_from` template: the run
    /// copies through it and never parses SQL text. Not serialized: `target_sql` shows it.
    #[serde(skip)]
    pub copy: Option<CopyStep>,
}

/// Where a load's COPY stands among its statements and what it copies into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyStep {
    /// The COPY's index in the step's `target_sql`.
    pub at: usize,
    /// `"schema"."table" ("a", "b")`, as the template wrote it.
    pub into: String,
    /// Rows are written frozen: the table was created or emptied in the same transaction.
    pub freeze: bool,
}

impl CopyStep {
    /// What the bulk loader takes.
    pub fn target(&self) -> CopyInto<'_> {
        CopyInto {
            target: &self.into,
            freeze: self.freeze,
        }
    }
}

/// A rendering failure, naming the step.
#[derive(Debug, thiserror::Error)]
#[error("rendering step `{step}`: {source}")]
pub struct RenderError {
    pub step: String,
    #[source]
    pub source: TemplateError,
}

/// Renders all steps in execution order.
pub fn render_steps(
    resolved: &ResolvedPlan,
    graph: &StepGraph,
    templates: &Templates,
    plan_dir: &Path,
) -> Result<Vec<RenderedStep>, RenderError> {
    let waves = graph.waves();
    let mut out = Vec::new();
    for n in graph.ordered() {
        let step = &graph.graph[n];
        let (source_sql, target_sql, copy) = render_step(resolved, &step.kind, templates, plan_dir)
            .map_err(|source| RenderError {
                step: step.id.clone(),
                source,
            })?;
        out.push(RenderedStep {
            id: step.id.clone(),
            kind: step.kind.clone(),
            depends_on: graph.dependencies(n),
            wave: waves.get(&n).copied().unwrap_or(0),
            source_sql,
            target_sql,
            copy,
        });
    }
    Ok(out)
}

fn table<'a>(resolved: &'a ResolvedPlan, source: &str) -> Result<&'a ResolvedTable, TemplateError> {
    resolved.table(source).ok_or_else(|| TemplateError {
        name: "-".into(),
        line: None,
        message: format!("table `{source}` is not in the resolved plan"),
    })
}

/// The columns of a table as templates see them.
fn table_value(t: &ResolvedTable) -> Value {
    let columns: Vec<Value> = t
        .columns
        .iter()
        .map(|c| {
            Value::from_serialize(serde_json::json!({
                "source": c.source,
                "target": c.target,
                "type": c.target_type.sql(),
                "nullable": c.nullable,
                "default": c.default,
                "generated": c.generated,
                "identity": c.identity,
            }))
        })
        .collect();
    Value::from_serialize(
        serde_json::json!({ "source": t.source, "target": t.target, "columns": columns }),
    )
}

/// Kept tables in a foreign-key cycle cannot be loaded parents-first while an earlier run's
/// foreign keys are in place: those keys are dropped before any load, and their foreign-keys
/// step adds them back, validated.
fn drop_kept_cycle_keys(
    resolved: &ResolvedPlan,
    templates: &Templates,
) -> Result<Vec<String>, TemplateError> {
    let schema = resolved.schema.as_str();
    let cyclic = crate::graph::cyclic_tables(resolved);
    let mut statements = Vec::new();
    for t in resolved
        .tables
        .iter()
        .filter(|t| cyclic.contains(t.source.as_str()))
    {
        for fk in &t.foreign_keys {
            statements.push(templates.render(
                &target_template("drop_constraint"),
                context! { schema, table => t.target, name => fk.name },
            )?);
        }
    }
    Ok(statements)
}

/// `(source statements, target statements)` of one step.
/// A step's source statements, target statements and COPY.
type StepSql = (Vec<String>, Vec<String>, Option<CopyStep>);

fn render_step(
    resolved: &ResolvedPlan,
    kind: &StepKind,
    templates: &Templates,
    plan_dir: &Path,
) -> Result<StepSql, TemplateError> {
    let schema = resolved.schema.as_str();
    // Tables kept by `truncate`/`append` may already carry their constraints and indexes.
    let guard = matches!(
        resolved.settings.if_exists,
        IfExists::Truncate | IfExists::Append
    );
    let mut target = Vec::new();
    let mut source = Vec::new();
    let mut copy = None;
    match kind {
        StepKind::CreateSchema => {
            target.push(templates.render(&target_template("create_schema"), context! { schema })?);
            // Dropping or emptying every table in one statement, before any table is created or
            // loaded: parallel DROP ... CASCADE deadlocks, and a late TRUNCATE would empty a
            // table another step already loaded.
            let tables: Vec<&str> = resolved.tables.iter().map(|t| t.target.as_str()).collect();
            match resolved.settings.if_exists {
                IfExists::Drop if !tables.is_empty() => target.push(
                    templates
                        .render(&target_template("drop_tables"), context! { schema, tables })?,
                ),
                IfExists::Truncate if !tables.is_empty() => target.push(templates.render(
                    &target_template("truncate_tables"),
                    context! { schema, tables },
                )?),
                _ => {}
            }
            if guard {
                target.extend(drop_kept_cycle_keys(resolved, templates)?);
            }
        }
        StepKind::CreateTable { table: name } => {
            let t = table(resolved, name)?;
            let if_not_exists = matches!(
                resolved.settings.if_exists,
                IfExists::Truncate | IfExists::Append
            );
            target.push(templates.render(
                &target_template("create_table"),
                context! { schema, table => table_value(t), if_not_exists },
            )?);
        }
        StepKind::Load { table: name } => {
            let t = table(resolved, name)?;
            let source_columns = crate::copy::select_columns(t, &t.key_columns);
            let target_columns: Vec<&str> = t.copied_columns().map(|c| c.target.as_str()).collect();
            // Columns the source hands over as text rather than in their own form (MySQL's
            // TIME, which may be negative or past 24 hours).
            let text_columns: Vec<&str> = t
                .columns
                .iter()
                .filter(|c| resolved.engine.reads_as_text(&c.declared))
                .map(|c| c.source.as_str())
                .collect();
            // Spatial columns as WKB (`ST_AsBinary`): MySQL's own form cannot be read. Into
            // PostGIS's `geometry`, with their SRID ahead of it (4 bytes), for the EWKB.
            let spatial = |geometry: bool| -> Vec<&str> {
                t.columns
                    .iter()
                    .filter(|c| {
                        resolved.engine.is_spatial(&c.declared)
                            && (c.target_type.base == "geometry") == geometry
                    })
                    .map(|c| c.source.as_str())
                    .collect()
            };
            let (wkb_columns, srid_wkb_columns) = (spatial(false), spatial(true));
            source.push(templates.render(
                &source_template(resolved.engine.dialect(), "select_rows"),
                context! { table => t.source, columns => source_columns, filter => t.filter, text_columns, wkb_columns, srid_wkb_columns },
            )?);
            // Into the app's table: its triggers off for the load's transaction (they must
            // not rewrite loaded values), on again before it commits.
            let triggers = !t.app_triggers.is_empty();
            if triggers {
                target.push(templates.render(
                    &target_template("table_triggers"),
                    context! { schema, table => t.target, enable => false, modes => t.app_trigger_modes },
                )?);
            }
            // A table this run created has nothing referencing it before its foreign-keys
            // step: emptied in the load's transaction, it takes its rows frozen, which spares
            // the index builds, checks and autovacuum after it a pass that rewrites every page.
            let freeze = resolved.owner != SchemaOwner::App
                && matches!(resolved.settings.if_exists, IfExists::Fail | IfExists::Drop)
                && resolved.settings.constraints == ConstraintTiming::AfterLoad;
            if freeze {
                target.push(templates.render(
                    &target_template("empty_table"),
                    context! { schema, table => t.target },
                )?);
            }
            let name = target_template("copy_from");
            let sql = templates.render(
                &name,
                context! { schema, table => table_value(t), columns => target_columns, freeze },
            )?;
            let into = copy_target_of(&sql).ok_or_else(|| TemplateError {
                name: name.clone(),
                line: None,
                message: format!(
                    "`{sql}` is not a binary `COPY … FROM STDIN (FORMAT binary)`, the only COPY the loader runs"
                ),
            })?;
            copy = Some(CopyStep {
                at: target.len(),
                into: into.target.to_owned(),
                freeze: into.freeze,
            });
            // The text the loader sends, not the template's: the plan shows what the server
            // receives (`tests/plan_sql.rs` holds it to the wire).
            target.push(into.statement());
            if triggers {
                target.push(templates.render(
                    &target_template("table_triggers"),
                    context! { schema, table => t.target, enable => true, modes => t.app_trigger_modes },
                )?);
            }
        }
        StepKind::Constraints { table: name } => {
            let t = table(resolved, name)?;
            if let Some(pk) = &t.primary_key {
                target.push(templates.render(
                    &target_template("primary_key"),
                    context! { schema, table => t.target, name => pk.name, columns => pk.columns, guard },
                )?);
            }
            for u in &t.uniques {
                target.push(templates.render(
                    &target_template("unique"),
                    context! { schema, table => t.target, name => u.name, columns => u.columns, guard },
                )?);
            }
            for c in &t.checks {
                target.push(templates.render(&target_template("check"), context! { schema, table => t.target, name => c.name, expression => c.expression, guard })?);
            }
        }
        StepKind::Indexes { table: name } => {
            let t = table(resolved, name)?;
            // The app's own indexes and foreign keys, back with their exact definitions; the
            // foreign keys of a table in a cycle come back in its foreign-keys step.
            let in_cycle = crate::graph::cyclic_tables(resolved).contains(t.source.as_str());
            for key in t
                .app_rebuilt
                .iter()
                .filter(|k| !(in_cycle && k.kind == "foreign_key"))
            {
                target.push(if key.kind == "index" {
                    templates.render(
                        &target_template("app_index"),
                        context! { definition => key.definition },
                    )?
                } else {
                    templates.render(
                        &target_template("add_constraint"),
                        context! { schema, table => t.target, name => key.name, definition => key.definition },
                    )?
                });
            }
            for i in &t.indexes {
                target.push(templates.render(
                    &target_template("index"),
                    context! { schema, table => t.target, name => i.name, unique => i.unique, keys => Value::from_serialize(&i.keys), predicate => i.predicate, method => i.method, guard },
                )?);
            }
        }
        StepKind::ForeignKeys { table: name } if resolved.owner == SchemaOwner::App => {
            // The app's foreign keys of a table in a cycle, once every table of the cycle has
            // its keys; each only where missing (a failed attempt's restore may have made it).
            let t = table(resolved, name)?;
            let keys: Vec<&crate::resolve::AppKey> = t
                .app_rebuilt
                .iter()
                .filter(|k| k.kind == "foreign_key")
                .collect();
            let mut tables: Vec<&str> = t
                .foreign_keys
                .iter()
                .map(|fk| fk.referenced_table.as_str())
                .chain([t.target.as_str()])
                .collect();
            tables.sort_unstable();
            tables.dedup();
            if !keys.is_empty() {
                target.push(
                    templates
                        .render(&target_template("lock_tables"), context! { schema, tables })?,
                );
            }
            for key in keys {
                target.push(templates.render(
                    &target_template("app_foreign_key"),
                    context! { schema, table => t.target, name => key.name, definition => key.definition },
                )?);
            }
        }
        StepKind::ForeignKeys { table: name } => {
            let t = table(resolved, name)?;
            // ADD FOREIGN KEY locks the table, then the one it references: two such steps on
            // other lanes could take a shared table in the other order and deadlock.
            let mut tables: Vec<&str> = t
                .foreign_keys
                .iter()
                .map(|fk| fk.referenced_table.as_str())
                .chain([t.target.as_str()])
                .collect();
            tables.sort_unstable();
            tables.dedup();
            if !t.foreign_keys.is_empty() {
                target.push(
                    templates
                        .render(&target_template("lock_tables"), context! { schema, tables })?,
                );
            }
            for fk in &t.foreign_keys {
                target.push(templates.render(
                    &target_template("foreign_key"),
                    context! { schema, table => t.target, fk => Value::from_serialize(fk), guard },
                )?);
            }
        }
        StepKind::Sequence { table: name } => {
            let t = table(resolved, name)?;
            if let Some(identity) = &t.identity {
                let continue_after = identity.autoincrement_after.unwrap_or(0);
                target.push(templates.render(&target_template("identity_reset"), context! { schema, table => t.target, column => identity.column, continue_after })?);
            }
        }
        StepKind::Analyze { table: name } => {
            let t = table(resolved, name)?;
            target.push(templates.render(
                &target_template("analyze"),
                context! { schema, table => t.target },
            )?);
        }
        StepKind::Views => {
            for view in &resolved.views {
                target.push(templates.render(
                    &target_template("create_view"),
                    context! { schema, name => view.target, select => view.select },
                )?);
            }
        }
        StepKind::Checks => {}
        // Rendered when it runs: it names the run whose rejects it follows.
        StepKind::RejectChildren => target.push(
            "-- rows whose parent row this run rejected are rejected too (\"parent rejected\")"
                .to_owned(),
        ),
        StepKind::Sql { sql } => target.push(sql.trim().to_owned()),
        // Shown by `decant plan` as the command it is; nothing runs that the plan does not say.
        StepKind::Command { run } => target.push(format!("-- run: {}", run.trim())),
        StepKind::PrepareTarget => {
            let tables: Vec<&str> = resolved.tables.iter().map(|t| t.target.as_str()).collect();
            if resolved.settings.if_exists == IfExists::Truncate && !tables.is_empty() {
                target.push(templates.render(
                    &target_template("truncate_tables"),
                    context! { schema, tables },
                )?);
            }
            // `existing_keys: rebuild`: the app's keys, indexes and foreign keys go before any
            // load, foreign keys first (they need the keys), indexes last; each table's
            // `indexes:<t>` step re-creates them after its load, as decant does its own (the
            // foreign keys of a cycle: its `foreign-keys:<t>` step). Under `keep`, only the
            // foreign keys of a cycle go.
            let keys: Vec<(&ResolvedTable, &crate::resolve::AppKey)> = resolved
                .tables
                .iter()
                .flat_map(|t| t.app_rebuilt.iter().map(move |k| (t, k)))
                .collect();
            for kind in ["foreign_key", "constraint", "index"] {
                for (t, key) in keys.iter().filter(|(_, k)| k.kind == kind) {
                    target.push(if kind == "index" {
                        templates.render(
                            &target_template("drop_index"),
                            context! { schema, name => key.name },
                        )?
                    } else {
                        templates.render(
                            &target_template("drop_constraint"),
                            context! { schema, table => t.target, name => key.name },
                        )?
                    });
                }
            }
        }
        StepKind::Migrations { directory } => {
            for (version, up) in crate::migrations::read_migrations(&plan_dir.join(directory))
                .map_err(|e| TemplateError {
                    name: directory.clone(),
                    line: None,
                    message: e.to_string(),
                })?
            {
                target.push(format!("-- migration {version}\n{}", up.trim()));
            }
        }
    }
    Ok((source, target, copy))
}

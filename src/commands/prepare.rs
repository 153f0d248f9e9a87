//! The shared front half of every command: load the plan, introspect the source, resolve,
//! validate, build the graph and render the SQL — collecting every problem on the way.

use std::path::Path;

use crate::catalog::Catalog;
use crate::dialect::Templates;
use crate::doc_path;
use crate::errors::chain;
use crate::graph::{build_graph, StepGraph};
use crate::introspect::postgres::TargetSchema;
use crate::introspect::{introspect_sqlite, open_sqlite_read_only, profile_catalog};
use crate::plan::model::SchemaOwner;
use crate::plan::{load_plan_keep_going, Diagnostic, Diagnostics, LoadedPlan};
use crate::render::{render_steps, RenderedStep};
use crate::resolve::{fit_to_app_schema, resolve, ResolvedPlan};
use crate::url::{check_target_url, parse_source_url, SourceUrl};

/// A plan ready to show or run.
pub struct Prepared {
    pub loaded: LoadedPlan,
    pub catalog: Catalog,
    pub resolved: ResolvedPlan,
    pub graph: StepGraph,
    pub steps: Vec<RenderedStep>,
    /// Warnings only; errors end preparation.
    pub warnings: Diagnostics,
    /// With `target.owner: app`, the app's schema the plan was checked against (its snapshot).
    pub app_schema: Option<TargetSchema>,
}

/// Why a command could not go on.
#[derive(Debug)]
pub enum Failure {
    /// The plan is wrong; every problem, located.
    Plan(Diagnostics),
    /// Anything else.
    Other(anyhow::Error),
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Other(e.into())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

/// Loads, introspects and profiles the source, resolves, validates and renders.
/// `profile_all` profiles every column (a full scan); otherwise only those whose mapping
/// depends on their values ([`crate::mapping::types::decided_by_values`]).
pub fn prepare(path: &Path, profile_all: bool) -> Result<Prepared, Failure> {
    // Past unknown keys: the checks against the source below report their problems too.
    let loaded = load_plan_keep_going(path).map_err(Failure::Plan)?;
    let plan = &loaded.plan;
    let mut problems: Vec<Diagnostic> = loaded.skipped.clone();
    problems.extend(loaded.warnings.iter().cloned());
    if let Err(e) = check_target_url(&plan.target.url) {
        problems.push(Diagnostic::error(doc_path!["target", "url"], e.to_string()));
    }
    let catalog = match parse_source_url(&plan.source.url, loaded.base_dir()) {
        Err(e) => {
            problems.push(Diagnostic::error(doc_path!["source", "url"], e.to_string()));
            None
        }
        Ok(SourceUrl::Sqlite(file)) => {
            let introspected = open_sqlite_read_only(&file).and_then(|mut conn| {
                let mut catalog = introspect_sqlite(&mut conn)?;
                profile_catalog(&mut conn, &mut catalog, |_, c| {
                    profile_all || crate::mapping::types::decided_by_values(c)
                })?;
                Ok(catalog)
            });
            match introspected {
                Ok(c) => Some(c),
                Err(e) => {
                    problems.push(Diagnostic::error(doc_path!["source", "url"], chain(&e)));
                    None
                }
            }
        }
    };
    let Some(catalog) = catalog else {
        return Err(Failure::Plan(loaded.diagnostics(problems)));
    };
    let mut resolution = resolve(plan, &catalog);
    problems.extend(resolution.problems);
    let app_schema = match plan.target.owner {
        SchemaOwner::Decant => None,
        SchemaOwner::App => match read_snapshot(&loaded) {
            Ok(app) => {
                fit_to_app_schema(plan, &catalog, &mut resolution.plan, &app, &mut problems);
                Some(app)
            }
            Err(problem) => {
                problems.push(problem);
                None
            }
        },
    };
    problems.extend(crate::plan::validate::validate_plan(
        plan,
        &catalog,
        &resolution.plan,
        loaded.base_dir(),
    ));
    let (graph, graph_problems) = build_graph(plan, &resolution.plan);
    problems.extend(graph_problems);
    if problems.iter().any(Diagnostic::is_error) {
        return Err(Failure::Plan(loaded.diagnostics(problems)));
    }
    let templates = Templates::for_plan(loaded.base_dir(), plan.templates.as_deref());
    let steps = match render_steps(&resolution.plan, &graph, &templates, loaded.base_dir()) {
        Ok(steps) => steps,
        Err(e) => {
            problems.push(Diagnostic::error(
                if plan.templates.is_some() {
                    doc_path!["templates"]
                } else {
                    Vec::new()
                },
                e.to_string(),
            ));
            return Err(Failure::Plan(loaded.diagnostics(problems)));
        }
    };
    let warnings = loaded.diagnostics(problems);
    Ok(Prepared {
        loaded,
        catalog,
        resolved: resolution.plan,
        graph,
        steps,
        warnings,
        app_schema,
    })
}

/// The snapshot of the app's schema beside the plan, as `decant snapshot` wrote it.
fn read_snapshot(loaded: &LoadedPlan) -> Result<TargetSchema, Diagnostic> {
    let path = loaded.snapshot_path();
    let at = || {
        if loaded.plan.target.snapshot.is_some() {
            doc_path!["target", "snapshot"]
        } else {
            doc_path!["target", "owner"]
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Diagnostic::error(
            at(),
            format!(
                "with `target.owner: app` the plan is checked against a snapshot of the app's schema, and `{}` cannot be read: {e}",
                path.display()
            ),
        )
        .with_help("run the app's migrator on a database, then `decant snapshot PLAN --from URL` writes the file; commit it beside the plan")
    })?;
    let snapshot: TargetSchema = serde_json::from_str(&text).map_err(|e| {
        Diagnostic::error(
            at(),
            format!("`{}` is not a snapshot decant wrote: {e}", path.display()),
        )
        .with_help("write it again with `decant snapshot PLAN --from URL`")
    })?;
    if snapshot.schema != loaded.plan.target.schema {
        return Err(Diagnostic::error(
            doc_path!["target", "schema"],
            format!(
                "the snapshot `{}` is of schema `{}`, the plan loads into `{}`",
                path.display(),
                snapshot.schema,
                loaded.plan.target.schema
            ),
        ));
    }
    Ok(snapshot)
}

/// [`prepare`], then the plan's warnings on `err`: what every command that goes on does first.
pub fn prepare_and_warn(
    path: &Path,
    profile_all: bool,
    err: &mut dyn std::io::Write,
) -> Result<Prepared, Failure> {
    let prepared = prepare(path, profile_all)?;
    if !prepared.warnings.items.is_empty() {
        writeln!(err, "{}", prepared.warnings.render())?;
    }
    Ok(prepared)
}

//! The pipeline's front half, shared by every command and below them: load the plan, introspect
//! the source, resolve, validate, build the graph and render the SQL — every problem collected.

use std::collections::HashMap;
use std::path::Path;

use crate::catalog::Catalog;
use crate::catalog::{Column, Table};
use crate::dialect::Templates;
use crate::doc_path;
use crate::engines::postgres::introspect::TargetSchema;
use crate::engines::{introspect_source, open_source, SourceConnection};
use crate::errors::chain;
use crate::graph::{build_graph, StepGraph};
use crate::orphans::{AnotherSource, OrphanError, OrphanPlan};
use crate::plan::model::SchemaOwner;
use crate::plan::{load_plan_keep_going, Diagnostic, Diagnostics, LoadedPlan};
use crate::render::{render_steps, RenderError, RenderedStep};
use crate::resolve::{fit_to_app_schema, resolve, ResolvedPlan};
use crate::url::{check_target_url, parse_source_url};

/// Which source columns preparing a plan profiles (reads every value of).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profiling {
    /// Only those whose mapping depends on their values.
    Needed,
    /// What `run` needs: as [`Profiling::Needed`], and a MySQL source's rows are not counted
    /// here but estimated: `run` counts them in the snapshot it loads, once for its identity,
    /// its parallel reads and its row-count check ([`SourceCounts::Estimated`]).
    Run,
    /// Those, and the columns the plan states a type for, so a reviewer sees whether their
    /// values will convert (`plan`, `validate`). A scan of those columns' tables.
    Reviewed,
    /// Every column (`plan --profile`): a full scan.
    All,
}

/// A plan ready to show or run.
#[derive(Clone)]
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
    /// What the catalog's row counts (and the resolved tables' `source_rows`) are.
    pub source_counts: SourceCounts,
}

/// Where the row counts of a [`Prepared`] plan come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceCounts {
    /// Exact, counted while introspecting (outside any snapshot a run reads).
    Introspected,
    /// InnoDB's estimates ([`Profiling::Run`] on a MySQL source): `run` replaces them with
    /// exact counts taken in its snapshot before anything else reads them.
    Estimated,
    /// Exact, counted in the snapshot the run loads from: the row-count check compares the
    /// target with these rather than count the source again.
    InSnapshot,
}

impl Prepared {
    /// This plan with each table's rows as `counts` (source table name → rows) has them, all
    /// counted in the run's snapshot.
    pub fn with_counts_in_snapshot(&self, counts: &HashMap<String, u64>) -> Prepared {
        let mut counted = self.clone();
        for t in &mut counted.catalog.tables {
            if let Some(n) = counts.get(&t.name) {
                t.row_count = *n;
            }
        }
        for t in &mut counted.resolved.tables {
            if let Some(n) = counts.get(&t.source) {
                t.source_rows = *n;
            }
        }
        counted.source_counts = SourceCounts::InSnapshot;
        counted
    }
}

/// A plan with the source's orphans settled by `settings.orphans` ([`settle_orphans`]).
pub struct Settled {
    /// The orphans, and what the run does with them.
    pub orphans: OrphanPlan,
    /// The plan to run when the orphans change it (its steps rendered here, once): under
    /// `reject` the loads leave them out, under `skip_constraint` their foreign keys go.
    pub plan: Option<Prepared>,
}

/// Why a plan's orphans could not be settled.
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error("looking for orphan rows in the source failed")]
    Search(#[from] OrphanError),
    #[error("rendering the plan with the orphans settled failed")]
    Render(#[from] RenderError),
}

/// Searches the source for orphans and settles them as `settings.orphans` says: the one place
/// the plan that `decant plan` shows and `decant run` executes is adjusted by what the rows hold.
pub fn settle_orphans(
    prepared: &Prepared,
    source: &mut SourceConnection,
    another: Option<&AnotherSource<'_>>,
) -> Result<Settled, SettleError> {
    let mut orphans = crate::orphans::settle(&prepared.resolved, source, another)?;
    let plan = match orphans.settled.take() {
        Some(resolved) => Some(prepared.with_resolved(resolved)?),
        None => None,
    };
    Ok(Settled { orphans, plan })
}

impl Prepared {
    /// A copy of this plan with another resolved plan, its steps rendered anew.
    fn with_resolved(&self, resolved: ResolvedPlan) -> Result<Prepared, RenderError> {
        let base = self.loaded.base_dir();
        let templates = Templates::for_plan(base, self.loaded.plan.templates.as_deref());
        let steps = render_steps(&resolved, &self.graph, &templates, base)?;
        Ok(Prepared {
            loaded: self.loaded.clone(),
            catalog: self.catalog.clone(),
            resolved,
            graph: self.graph.clone(),
            steps,
            warnings: self.warnings.clone(),
            app_schema: self.app_schema.clone(),
            source_counts: self.source_counts,
        })
    }
}

/// Loads, introspects and profiles the source, resolves, validates and renders.
/// `profile_all` profiles every column (a full scan); otherwise only those whose mapping
/// depends on their values ([`crate::engines::sqlite::types::decided_by_values`]).
pub fn prepare(path: &Path, profiling: Profiling) -> Result<Prepared, Diagnostics> {
    // Past unknown keys: the checks against the source below report their problems too.
    let loaded = load_plan_keep_going(path)?;
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
        Ok(url) => {
            let introspected = open_source(&url).and_then(|mut conn| {
                let exact = profiling != Profiling::Run;
                let mut catalog = introspect_source(&mut conn, &|| open_source(&url).ok(), exact)?;
                // Columns the plan states a type for are profiled too (few, and a reviewer's
                // choice): `plan` then warns when their values will not convert.
                let engine = conn.engine();
                let wanted = |t: &Table, c: &Column| match profiling {
                    Profiling::All => true,
                    // MySQL enforces its declared types: no mapping depends on the values.
                    Profiling::Needed | Profiling::Run => engine.mapping_depends_on_values(c),
                    Profiling::Reviewed => {
                        engine.mapping_depends_on_values(c)
                            || plan
                                .columns
                                .get(&format!("{}.{}", t.name, c.name))
                                .is_some_and(|o| o.to.is_some())
                    }
                };
                conn.profile(&mut catalog, wanted)?;
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
        return Err(loaded.diagnostics(problems));
    };
    let mut resolution = resolve(plan, &catalog);
    problems.extend(resolution.problems);
    let app_schema = match plan.target.owner {
        SchemaOwner::Decant => None,
        SchemaOwner::App => match read_snapshot(&loaded) {
            Ok(app) => {
                fit_to_app_schema(plan, &catalog, &mut resolution.plan, &app, &mut problems);
                // A MySQL source's values the app's types narrow are found now, not at run
                // time: one scan of each table that has such a column (not for `run`, whose
                // rejects name them).
                if profiling != Profiling::Run && catalog.engine.declares_narrowable_types() {
                    flag_narrowing_in_source(&loaded, &mut resolution.plan, &mut problems);
                }
                Some(app)
            }
            Err(problem) => {
                problems.push(problem);
                None
            }
        },
    };
    problems.extend(crate::resolve::validate_plan(
        plan,
        &catalog,
        &resolution.plan,
        loaded.base_dir(),
    ));
    let (graph, graph_problems) = build_graph(plan, &resolution.plan);
    problems.extend(graph_problems);
    if problems.iter().any(Diagnostic::is_error) {
        return Err(loaded.diagnostics(problems));
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
            return Err(loaded.diagnostics(problems));
        }
    };
    let warnings = loaded.diagnostics(problems);
    let source_counts = if profiling == Profiling::Run && catalog.engine.estimates_row_counts() {
        SourceCounts::Estimated
    } else {
        SourceCounts::Introspected
    };
    Ok(Prepared {
        source_counts,
        loaded,
        catalog,
        resolved: resolution.plan,
        graph,
        steps,
        warnings,
        app_schema,
    })
}

/// [`crate::resolve::flag_narrowing`] on the plan's source, through a connection of its own.
fn flag_narrowing_in_source(
    loaded: &LoadedPlan,
    resolved: &mut ResolvedPlan,
    problems: &mut Vec<Diagnostic>,
) {
    let plan = &loaded.plan;
    let mut conn = match parse_source_url(&plan.source.url, loaded.base_dir())
        .map_err(|e| e.to_string())
        .and_then(|url| open_source(&url).map_err(|e| chain(&e)))
    {
        Ok(conn) => Some(conn),
        Err(why) => {
            problems.push(Diagnostic::warning(
                doc_path!["source", "url"],
                format!("the source's values could not be profiled against the app's column types: {why}"),
            ));
            None
        }
    };
    let Some(conn) = conn.as_mut() else {
        return;
    };
    let mut count = |table: &str, conditions: &[String]| {
        crate::engines::mysql::count_where(conn, table, conditions).map_err(|e| chain(&e))
    };
    crate::resolve::flag_narrowing(plan, resolved, &mut count, problems);
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

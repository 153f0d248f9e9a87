//! The resolved plan: every carried table with its target name, columns, types, transforms,
//! keys, indexes and foreign keys decided, each decision with the rule that made it.

mod columns;
mod constraints;
mod existing;
mod tables;
mod validate;

use serde::Serialize;

use crate::catalog::{Catalog, Engine};
use crate::engines::postgres::TargetType;
use crate::plan::model::{Plan, SchemaOwner, Settings};
use crate::plan::Diagnostic;
use crate::transform::Transform;

pub use existing::{app_target_type, fit_to_app_schema, flag_narrowing};
pub use validate::validate_plan;

/// Everything `decant run` will do, decided; plain data that `decant plan` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedPlan {
    pub name: String,
    /// The source's engine: with PostgreSQL, it picks the route.
    pub engine: Engine,
    /// The target schema.
    pub schema: String,
    /// Who makes the target's tables: decant, or the app (decant then only loads).
    pub owner: SchemaOwner,
    pub settings: Settings,
    pub tables: Vec<ResolvedTable>,
    /// Source views, rewritten for the target; created after the tables exist.
    pub views: Vec<ResolvedView>,
    /// Source objects that are not carried, and why (views, triggers, excluded tables).
    pub notes: Vec<String>,
}

/// A source view as the target gets it: its SELECT with target names, quoted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedView {
    pub source: String,
    pub target: String,
    pub select: String,
}

impl ResolvedPlan {
    pub fn table(&self, source_name: &str) -> Option<&ResolvedTable> {
        self.tables.iter().find(|t| t.source == source_name)
    }
}

/// The tables (source names) whose foreign keys reference each other in a cycle of two or more
/// tables; self-references alone do not count.
pub fn cyclic_tables(resolved: &ResolvedPlan) -> std::collections::BTreeSet<&str> {
    use petgraph::graph::{DiGraph, NodeIndex};
    let mut g: DiGraph<&str, ()> = DiGraph::new();
    let idx: std::collections::HashMap<&str, NodeIndex> = resolved
        .tables
        .iter()
        .map(|t| (t.source.as_str(), g.add_node(t.source.as_str())))
        .collect();
    for t in &resolved.tables {
        for fk in &t.foreign_keys {
            if let (Some(a), Some(b)) = (
                idx.get(fk.referenced_source.as_str()),
                idx.get(t.source.as_str()),
            ) {
                if a != b {
                    g.add_edge(*a, *b, ());
                }
            }
        }
    }
    petgraph::algo::tarjan_scc(&g)
        .into_iter()
        .filter(|scc| scc.len() > 1)
        .flatten()
        .map(|n| g[n])
        .collect()
}

/// One carried table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedTable {
    pub source: String,
    pub target: String,
    /// Rows to carry: a predicate on the source, from `filters`.
    pub filter: Option<String>,
    /// Rows in the source when introspected.
    pub source_rows: u64,
    pub columns: Vec<ResolvedColumn>,
    /// Source columns that name a row in reports and rejects: the primary key, or empty for `rowid`.
    pub key_columns: Vec<String>,
    /// Whether rows without a key are named by the source's `rowid` (SQLite) rather than by
    /// their position in the read.
    pub rowid: bool,
    pub primary_key: Option<KeyConstraint>,
    pub uniques: Vec<KeyConstraint>,
    pub checks: Vec<NamedCheck>,
    pub indexes: Vec<ResolvedIndex>,
    pub foreign_keys: Vec<ResolvedForeignKey>,
    /// The identity column and where its sequence continues.
    pub identity: Option<Identity>,
    /// With `target.owner: app`, the app's triggers on the table: disabled for the load, so
    /// they cannot rewrite loaded values (an `updated_at` toucher), enabled again after it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub app_triggers: Vec<String>,
    /// Those of `app_triggers` the app keeps not plainly enabled, and how (`disabled`,
    /// `replica`, `always`): turning the triggers on again after a load puts these back too.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub app_trigger_modes: Vec<(String, String)>,
    /// With `target.owner: app` and `existing_keys: rebuild`, the app's keys, secondary
    /// indexes and foreign keys of the table, in the order they are re-created: dropped before
    /// any load, re-created after the table's load by its `indexes:<t>` step, because loading
    /// with them in place measured about 4× slower.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub app_rebuilt: Vec<AppKey>,
    /// What of the source table is not carried, or carried differently, and why.
    pub warnings: Vec<String>,
}

impl ResolvedTable {
    /// Columns whose values are copied (generated columns are recomputed by the target).
    pub fn copied_columns(&self) -> impl Iterator<Item = &ResolvedColumn> {
        self.columns.iter().filter(|c| c.generated.is_none())
    }

    pub fn column(&self, source_name: &str) -> Option<&ResolvedColumn> {
        self.columns.iter().find(|c| c.source == source_name)
    }
}

/// One target column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedColumn {
    pub source: String,
    pub target: String,
    /// The source's declared type as written.
    pub declared: String,
    pub target_type: TargetType,
    /// The rule that chose the type.
    pub rule: String,
    pub transform: Option<Transform>,
    /// The plan's `inverse:` of an expression transform: how `sync --reverse` brings a value back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inverse: Option<String>,
    pub nullable: bool,
    /// The target default, a PostgreSQL expression.
    pub default: Option<String>,
    /// The target generation expression (stored), when the source column is generated.
    pub generated: Option<String>,
    /// `GENERATED BY DEFAULT AS IDENTITY`.
    pub identity: bool,
    pub warnings: Vec<String>,
}

/// A primary key or unique constraint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyConstraint {
    pub name: String,
    pub columns: Vec<String>,
}

/// A CHECK constraint in PostgreSQL SQL.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedCheck {
    pub name: String,
    pub expression: String,
}

/// A target index; `keys` are rendered SQL (a quoted column or a parenthesised expression).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedIndex {
    pub name: String,
    pub unique: bool,
    pub keys: Vec<IndexKeySql>,
    pub predicate: Option<String>,
    pub method: Option<String>,
    /// `source` for indexes found in the source, `plan` for `indexes:` entries.
    pub origin: String,
}

/// One index key as SQL.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexKeySql {
    /// A quoted column or a parenthesised expression.
    pub sql: String,
    pub descending: bool,
}

/// A target foreign key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedForeignKey {
    /// `DEFERRABLE INITIALLY DEFERRED` in the source.
    pub initially_deferred: bool,
    pub name: String,
    pub columns: Vec<String>,
    /// The referenced table's source name (for ordering) and target name.
    pub referenced_source: String,
    pub referenced_table: String,
    pub referenced_columns: Vec<String>,
    pub on_update: String,
    pub on_delete: String,
    pub deferrable: bool,
    /// The app made it `NOT VALID` (its rows are never checked against it), and so it stays.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_valid: bool,
}

/// An index or foreign key of the app's, as PostgreSQL defines it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppKey {
    pub name: String,
    /// `constraint` (a primary key or unique constraint), `index` or `foreign_key`.
    pub kind: String,
    /// `pg_get_indexdef` (a whole `CREATE INDEX`) or `pg_get_constraintdef`.
    pub definition: String,
}

/// An identity column whose sequence continues after the source's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identity {
    pub column: String,
    /// The `sqlite_sequence` value for AUTOINCREMENT tables: the sequence continues after it
    /// even when rows with the highest ids were deleted.
    pub autoincrement_after: Option<i64>,
}

/// The outcome of resolving: the plan as far as it could be decided, and every problem.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub plan: ResolvedPlan,
    pub problems: Vec<Diagnostic>,
}

/// Decides everything the plan leaves to decant, against what the source holds.
pub fn resolve(plan: &Plan, catalog: &Catalog) -> Resolution {
    let mut problems = Vec::new();
    let selection = tables::select_tables(plan, catalog, &mut problems);
    let mut resolved_tables = Vec::new();
    for (source_table, target_name) in &selection.tables {
        let mut table = columns::resolve_table_columns(
            plan,
            catalog.engine,
            source_table,
            target_name,
            &mut problems,
        );
        table.filter = plan.filters.get(&source_table.name).cloned();
        resolved_tables.push((source_table, table));
    }
    let targets: Vec<(String, String)> = resolved_tables
        .iter()
        .map(|(s, t)| (s.name.clone(), t.target.clone()))
        .collect();
    let mut out_tables = Vec::new();
    for (source_table, mut table) in resolved_tables {
        constraints::resolve_constraints(plan, source_table, &mut table, catalog, &targets);
        out_tables.push(table);
    }
    constraints::resolve_extra_indexes(plan, &mut out_tables, catalog, &mut problems);
    constraints::dedupe_names(&mut out_tables);
    tables::check_filters_and_overrides(plan, catalog, &out_tables, &mut problems);
    let mut notes = selection.notes;
    notes.extend(catalog.notes.iter().cloned());
    let views = resolve_views(plan, catalog, &out_tables, &mut notes);
    for trigger in &catalog.triggers {
        notes.push(format!(
            "trigger `{}` on `{}` is not carried: {} trigger bodies are not translated",
            trigger.name,
            trigger.table,
            catalog.engine.display_name()
        ));
    }
    Resolution {
        plan: ResolvedPlan {
            name: plan.name.clone().unwrap_or_else(|| "decant".to_owned()),
            engine: catalog.engine,
            schema: plan.target.schema.clone(),
            owner: plan.target.owner,
            settings: plan.settings.clone(),
            tables: out_tables,
            views,
            notes,
        },
        problems,
    }
}

/// Views whose SELECT can be rewritten with target names; the others become notes. PostgreSQL
/// may still refuse a rewritten view (a SQLite-only function): the run reports that too.
fn resolve_views(
    plan: &Plan,
    catalog: &Catalog,
    tables: &[ResolvedTable],
    notes: &mut Vec<String>,
) -> Vec<ResolvedView> {
    let mut names: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut ambiguous = std::collections::HashSet::new();
    let mut claim = |source: &str, target: &str| {
        let key = source.to_lowercase();
        match names.get(&key) {
            Some(existing) if existing != target => {
                ambiguous.insert(key);
            }
            _ => {
                names.insert(key, target.to_owned());
            }
        }
    };
    for t in tables {
        claim(&t.source, &t.target);
        for c in &t.columns {
            claim(&c.source, &c.target);
        }
    }
    for key in ambiguous {
        names.remove(&key);
    }
    let mut out = Vec::new();
    for view in &catalog.views {
        let target = crate::naming::apply_case(&view.name, plan.naming.identifiers);
        let rewritten = crate::engines::sqlite::expressions::view_select(&view.sql)
            .ok_or_else(|| "its definition has no `AS SELECT`".to_owned())
            .and_then(|select| {
                crate::engines::sqlite::expressions::translate_query(&select, &names)
            });
        match rewritten {
            Ok(select) => out.push(ResolvedView {
                source: view.name.clone(),
                target,
                select,
            }),
            Err(why) => notes.push(format!("view `{}` is not carried: {why}", view.name)),
        }
    }
    out
}

/// Lossy or ambiguous decisions of resolved tables, one line each: `table.column: warning`.
pub fn resolution_warnings(tables: &[ResolvedTable]) -> Vec<String> {
    let mut out = Vec::new();
    for t in tables {
        for w in &t.warnings {
            out.push(format!("{}: {w}", t.source));
        }
        for c in &t.columns {
            for w in &c.warnings {
                out.push(format!("{}.{}: {w}", t.source, c.source));
            }
        }
    }
    out
}

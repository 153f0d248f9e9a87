//! The step graph: schema, then per table create → load → constraints → indexes → foreign keys
//! → sequence → analyze, then checks; plan steps placed by `before`/`after`. Built on petgraph.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use serde::Serialize;

use crate::doc_path;
use crate::plan::diagnostic::did_you_mean;
use crate::plan::model::{ConstraintTiming, ExistingKeys, IfExists, OnBadRow, Plan, SchemaOwner};
use crate::plan::Diagnostic;
use crate::resolve::ResolvedPlan;

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum StepKind {
    CreateSchema,
    CreateTable {
        table: String,
    },
    Load {
        table: String,
    },
    Constraints {
        table: String,
    },
    Indexes {
        table: String,
    },
    ForeignKeys {
        table: String,
    },
    Sequence {
        table: String,
    },
    Analyze {
        table: String,
    },
    /// The source's views, rewritten, created once every table is loaded.
    Views,
    Checks,
    Sql {
        sql: String,
    },
    Migrations {
        directory: String,
    },
    /// A command the plan names (the app's migrator, say), run through `sh -c`.
    Command {
        run: String,
    },
    /// Under `on_bad_row: reject`, after every load: rows whose parent row was rejected are
    /// rejected too ("parent rejected"), so the foreign keys can be made and nothing is lost.
    RejectChildren,
    /// With `target.owner: app`, before any load: the live schema is compared with the
    /// snapshot the plan was checked against, the app's tables are checked for rows (and
    /// emptied in one statement under `if_exists: truncate`).
    PrepareTarget,
}

/// The phases a plan step can name in `before`/`after`.
pub const PHASES: &[&str] = &[
    "schema",
    "load",
    "constraints",
    "indexes",
    "foreign-keys",
    "sequences",
    "checks",
];

impl StepKind {
    /// The phase this step belongs to; plan steps belong to none.
    pub fn phase(&self) -> Option<&'static str> {
        Some(match self {
            StepKind::CreateSchema | StepKind::CreateTable { .. } => "schema",
            StepKind::Load { .. } | StepKind::PrepareTarget | StepKind::RejectChildren => "load",
            StepKind::Constraints { .. } => "constraints",
            StepKind::Indexes { .. } => "indexes",
            StepKind::ForeignKeys { .. } => "foreign-keys",
            StepKind::Sequence { .. } => "sequences",
            StepKind::Analyze { .. } => return None,
            StepKind::Views => "views",
            StepKind::Checks => "checks",
            StepKind::Sql { .. } | StepKind::Migrations { .. } | StepKind::Command { .. } => {
                return None
            }
        })
    }
}

/// One node of the graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Stable id: `create-schema`, `load:users`, `foreign-keys:orders`, or the plan step's id.
    pub id: String,
    #[serde(flatten)]
    pub kind: StepKind,
}

/// The steps and the order they must run in.
#[derive(Debug, Clone)]
pub struct StepGraph {
    pub graph: DiGraph<Step, ()>,
}

impl StepGraph {
    /// Steps in a deterministic order that respects every edge (ties keep creation order).
    pub fn ordered(&self) -> Vec<NodeIndex> {
        let mut indegree: HashMap<NodeIndex, usize> = self
            .graph
            .node_indices()
            .map(|n| {
                (
                    n,
                    self.graph
                        .neighbors_directed(n, Direction::Incoming)
                        .count(),
                )
            })
            .collect();
        let mut ready: BinaryHeap<Reverse<NodeIndex>> = indegree
            .iter()
            .filter(|(_, d)| **d == 0)
            .map(|(n, _)| Reverse(*n))
            .collect();
        let mut out = Vec::with_capacity(self.graph.node_count());
        while let Some(Reverse(n)) = ready.pop() {
            out.push(n);
            for next in self.graph.neighbors_directed(n, Direction::Outgoing) {
                if let Some(d) = indegree.get_mut(&next) {
                    *d -= 1;
                    if *d == 0 {
                        ready.push(Reverse(next));
                    }
                }
            }
        }
        out
    }

    /// The wave of each step: steps in one wave have no path between them and may run in parallel.
    pub fn waves(&self) -> HashMap<NodeIndex, usize> {
        let mut wave = HashMap::new();
        for n in self.ordered() {
            let w = self
                .graph
                .neighbors_directed(n, Direction::Incoming)
                .filter_map(|p| wave.get(&p))
                .map(|w: &usize| w + 1)
                .max()
                .unwrap_or(0);
            wave.insert(n, w);
        }
        wave
    }

    /// The ids of the steps a step waits for.
    pub fn dependencies(&self, n: NodeIndex) -> Vec<String> {
        let mut deps: Vec<NodeIndex> = self
            .graph
            .neighbors_directed(n, Direction::Incoming)
            .collect();
        deps.sort();
        deps.into_iter().map(|d| self.graph[d].id.clone()).collect()
    }

    /// Graphviz DOT.
    pub fn to_dot(&self) -> String {
        let mut out = String::from(
            "digraph decant {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n",
        );
        for n in self.ordered() {
            out.push_str(&format!("  {:?};\n", self.graph[n].id));
        }
        for e in self.sorted_edges() {
            out.push_str(&format!(
                "  {:?} -> {:?};\n",
                self.graph[e.0].id, self.graph[e.1].id
            ));
        }
        out.push_str("}\n");
        out
    }

    /// Mermaid flowchart.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for n in self.ordered() {
            out.push_str(&format!(
                "  n{}[\"{}\"]\n",
                n.index(),
                self.graph[n].id.replace('"', "#quot;")
            ));
        }
        for (a, b) in self.sorted_edges() {
            out.push_str(&format!("  n{} --> n{}\n", a.index(), b.index()));
        }
        out
    }

    fn sorted_edges(&self) -> Vec<(NodeIndex, NodeIndex)> {
        let mut edges: Vec<_> = self
            .graph
            .edge_references()
            .map(|e| (e.source(), e.target()))
            .collect();
        edges.sort();
        edges
    }
}

/// Builds the graph; problems with plan steps (unknown references, cycles) are diagnostics.
pub fn build_graph(plan: &Plan, resolved: &ResolvedPlan) -> (StepGraph, Vec<Diagnostic>) {
    let mut problems = Vec::new();
    let mut g: DiGraph<Step, ()> = DiGraph::new();
    let mut ids: HashMap<String, NodeIndex> = HashMap::new();
    let mut add = |g: &mut DiGraph<Step, ()>, id: String, kind: StepKind| {
        let n = g.add_node(Step {
            id: id.clone(),
            kind,
        });
        ids.insert(id, n);
        n
    };
    if resolved.owner == SchemaOwner::App {
        add_app_steps(resolved, &mut g, &mut add);
    } else {
        add_decant_steps(resolved, &mut g, &mut add);
    }
    if resolved.settings.on_bad_row == OnBadRow::Reject
        && resolved.tables.iter().any(|t| !t.foreign_keys.is_empty())
    {
        let cascade = add(&mut g, "reject-children".into(), StepKind::RejectChildren);
        let around: Vec<(NodeIndex, bool)> = g
            .node_indices()
            .filter_map(|n| match g[n].kind {
                StepKind::Load { .. } => Some((n, true)),
                StepKind::ForeignKeys { .. } | StepKind::Views => Some((n, false)),
                // With the app's keys rebuilt, its foreign keys come back in `indexes:<t>`.
                StepKind::Indexes { .. } if resolved.owner == SchemaOwner::App => Some((n, false)),
                _ => None,
            })
            .collect();
        for (n, before) in around {
            if before {
                g.add_edge(n, cascade, ());
            } else {
                g.add_edge(cascade, n, ());
            }
        }
    }
    let builtin_sinks: Vec<NodeIndex> = g
        .node_indices()
        .filter(|n| {
            g.neighbors_directed(*n, Direction::Outgoing)
                .next()
                .is_none()
        })
        .collect();
    let checks = add(&mut g, "checks".into(), StepKind::Checks);
    for s in builtin_sinks {
        g.add_edge(s, checks, ());
    }
    add_plan_steps(plan, &mut g, &mut ids, checks, &mut problems);
    let graph = StepGraph { graph: g };
    report_cycles(plan, &graph, &mut problems);
    (graph, problems)
}

/// With `target.owner: app`: the target is checked and prepared, then every table is loaded
/// into the app's schema, parents before children (the app's foreign keys are in place), and
/// its sequences continue after the loaded ids.
fn add_app_steps(
    resolved: &ResolvedPlan,
    g: &mut DiGraph<Step, ()>,
    add: &mut impl FnMut(&mut DiGraph<Step, ()>, String, StepKind) -> NodeIndex,
) {
    let prepare = add(g, "prepare-target".into(), StepKind::PrepareTarget);
    let mut loads: HashMap<&str, NodeIndex> = HashMap::new();
    for t in &resolved.tables {
        let name = t.source.as_str();
        let load = add(
            g,
            format!("load:{name}"),
            StepKind::Load {
                table: name.to_owned(),
            },
        );
        g.add_edge(prepare, load, ());
        loads.insert(name, load);
    }
    // With the app's foreign keys in place during the load (`existing_keys: keep`), parents
    // load before children. With `rebuild` they are dropped before any load and the order
    // does not matter. The foreign keys of tables in a cycle are dropped either way (see
    // `resolve::existing`) and come back in a `foreign-keys:<t>` step once every table of the
    // cycle has its keys, as on the created-schema route.
    let keys_in_place = resolved.settings.existing_keys == ExistingKeys::Keep;
    let cyclic = cyclic_tables(resolved);
    let mut key_steps: HashMap<&str, NodeIndex> = HashMap::new();
    let mut fk_steps: HashMap<&str, NodeIndex> = HashMap::new();
    for t in &resolved.tables {
        let name = t.source.as_str();
        let load = loads[name];
        let in_cycle = cyclic.contains(name);
        for fk in &t.foreign_keys {
            if keys_in_place && fk.referenced_source != t.source && !in_cycle {
                if let Some(parent) = loads.get(fk.referenced_source.as_str()) {
                    g.update_edge(*parent, load, ());
                }
            }
        }
        // The app's indexes and foreign keys, dropped by prepare-target, come back after the
        // load (a foreign key also after its parent's load), on any lane.
        let own_keys = t
            .app_rebuilt
            .iter()
            .any(|k| k.kind != "foreign_key" || !in_cycle);
        let cycle_keys = in_cycle && t.app_rebuilt.iter().any(|k| k.kind == "foreign_key");
        let mut last = load;
        if own_keys {
            let keys = add(
                g,
                format!("indexes:{name}"),
                StepKind::Indexes {
                    table: name.to_owned(),
                },
            );
            g.add_edge(load, keys, ());
            key_steps.insert(name, keys);
            last = keys;
        }
        if cycle_keys {
            let fks = add(
                g,
                format!("foreign-keys:{name}"),
                StepKind::ForeignKeys {
                    table: name.to_owned(),
                },
            );
            g.add_edge(last, fks, ());
            fk_steps.insert(name, fks);
            last = fks;
        }
        if t.identity.is_some() {
            let seq = add(
                g,
                format!("sequence:{name}"),
                StepKind::Sequence {
                    table: name.to_owned(),
                },
            );
            g.add_edge(load, seq, ());
        }
        let analyze = add(
            g,
            format!("analyze:{name}"),
            StepKind::Analyze {
                table: name.to_owned(),
            },
        );
        g.add_edge(last, analyze, ());
    }
    // A foreign key comes back once its parent is loaded and has its key back.
    for t in &resolved.tables {
        let Some(&keys) = fk_steps
            .get(t.source.as_str())
            .or_else(|| key_steps.get(t.source.as_str()))
        else {
            continue;
        };
        for fk in &t.foreign_keys {
            let parent = fk.referenced_source.as_str();
            if parent == t.source {
                continue;
            }
            if let Some(&p) = key_steps.get(parent).or_else(|| loads.get(parent)) {
                g.update_edge(p, keys, ());
            }
        }
    }
}

/// With decant owning the schema: per table create → load → constraints → indexes → foreign
/// keys → sequence → analyze, and the source's views after every load.
fn add_decant_steps(
    resolved: &ResolvedPlan,
    g: &mut DiGraph<Step, ()>,
    add: &mut impl FnMut(&mut DiGraph<Step, ()>, String, StepKind) -> NodeIndex,
) {
    let schema = add(g, "create-schema".into(), StepKind::CreateSchema);
    let before_load = resolved.settings.constraints == ConstraintTiming::BeforeLoad;
    struct TableNodes {
        create: NodeIndex,
        load: NodeIndex,
        constraints: Option<NodeIndex>,
        indexes: Option<NodeIndex>,
    }
    let mut nodes: HashMap<&str, TableNodes> = HashMap::new();
    for t in &resolved.tables {
        let name = &t.source;
        let create = add(
            g,
            format!("create-table:{name}"),
            StepKind::CreateTable {
                table: name.clone(),
            },
        );
        let load = add(
            g,
            format!("load:{name}"),
            StepKind::Load {
                table: name.clone(),
            },
        );
        g.add_edge(schema, create, ());
        let has_constraints =
            t.primary_key.is_some() || !t.uniques.is_empty() || !t.checks.is_empty();
        let constraints = has_constraints.then(|| {
            add(
                g,
                format!("constraints:{name}"),
                StepKind::Constraints {
                    table: name.clone(),
                },
            )
        });
        let indexes = (!t.indexes.is_empty()).then(|| {
            add(
                g,
                format!("indexes:{name}"),
                StepKind::Indexes {
                    table: name.clone(),
                },
            )
        });
        let chain: Vec<NodeIndex> = if before_load {
            [Some(create), constraints, indexes, Some(load)]
                .into_iter()
                .flatten()
                .collect()
        } else {
            [Some(create), Some(load), constraints, indexes]
                .into_iter()
                .flatten()
                .collect()
        };
        for pair in chain.windows(2) {
            g.add_edge(pair[0], pair[1], ());
        }
        nodes.insert(
            name,
            TableNodes {
                create,
                load,
                constraints,
                indexes,
            },
        );
    }
    // Tables whose foreign keys reference each other in a cycle cannot be loaded parents-first.
    let cyclic = cyclic_tables(resolved);
    // Kept tables (truncate, append) may still have the foreign keys an earlier run created:
    // their parents are loaded first, or the load would violate them. Tables in a cycle cannot
    // be ordered: the create-schema step drops their foreign keys, which come back in their
    // foreign-keys step.
    let kept_keys = matches!(
        resolved.settings.if_exists,
        IfExists::Truncate | IfExists::Append
    );
    for t in &resolved.tables {
        let name = t.source.as_str();
        let tn = &nodes[name];
        if !t.foreign_keys.is_empty() {
            let fk = add(
                g,
                format!("foreign-keys:{name}"),
                StepKind::ForeignKeys {
                    table: name.to_owned(),
                },
            );
            let fk_before_load = before_load && !cyclic.contains(name);
            g.add_edge(tn.constraints.unwrap_or(tn.create), fk, ());
            if !fk_before_load {
                g.add_edge(tn.indexes.or(tn.constraints).unwrap_or(tn.load), fk, ());
            }
            for referenced in t
                .foreign_keys
                .iter()
                .map(|f| f.referenced_source.as_str())
                .collect::<BTreeSet<_>>()
            {
                if referenced == name {
                    continue;
                }
                if let Some(rn) = nodes.get(referenced) {
                    g.add_edge(rn.constraints.unwrap_or(rn.create), fk, ());
                    if fk_before_load || (kept_keys && !cyclic.contains(name)) {
                        g.add_edge(rn.load, tn.load, ());
                    }
                    if !fk_before_load {
                        g.add_edge(rn.load, fk, ());
                    }
                }
            }
            if fk_before_load {
                g.add_edge(fk, tn.load, ());
            }
        }
        let last = tn
            .indexes
            .or(tn.constraints)
            .filter(|_| !before_load)
            .unwrap_or(tn.load);
        if t.identity.is_some() {
            let seq = add(
                g,
                format!("sequence:{name}"),
                StepKind::Sequence {
                    table: name.to_owned(),
                },
            );
            g.add_edge(tn.load, seq, ());
        }
        let analyze = add(
            g,
            format!("analyze:{name}"),
            StepKind::Analyze {
                table: name.to_owned(),
            },
        );
        g.add_edge(last, analyze, ());
    }
    if !resolved.views.is_empty() {
        let views = add(g, "create-views".into(), StepKind::Views);
        let loads: Vec<NodeIndex> = g
            .node_indices()
            .filter(|n| matches!(g[*n].kind, StepKind::Load { .. }))
            .collect();
        for load in loads {
            g.add_edge(load, views, ());
        }
    }
}

pub(crate) use crate::resolve::cyclic_tables;

fn add_plan_steps(
    plan: &Plan,
    g: &mut DiGraph<Step, ()>,
    ids: &mut HashMap<String, NodeIndex>,
    checks: NodeIndex,
    problems: &mut Vec<Diagnostic>,
) {
    let mut plan_nodes = Vec::new();
    for (i, step) in plan.steps.iter().enumerate() {
        if step.phase.is_some() {
            // `decant cutover` runs it, not a run; it may not order a run's steps either.
            if !step.before.is_empty() || !step.after.is_empty() || step.migrations.is_some() {
                problems.push(Diagnostic::error(
                    doc_path!["steps", i],
                    format!(
                        "step `{}` runs in the cutover's write pause (`phase: cutover`): it takes `run` or `sql`, and no `before`, `after` or `migrations`",
                        step.id
                    ),
                ));
            }
            continue;
        }
        let kind = match (&step.sql, &step.migrations, &step.run) {
            (Some(sql), None, None) => StepKind::Sql { sql: sql.clone() },
            (None, Some(dir), None) => StepKind::Migrations {
                directory: dir.clone(),
            },
            (None, None, Some(run)) => StepKind::Command { run: run.clone() },
            _ => {
                problems.push(Diagnostic::error(
                    doc_path!["steps", i],
                    format!(
                        "step `{}` needs exactly one of `sql`, `migrations` or `run`",
                        step.id
                    ),
                ));
                continue;
            }
        };
        if step.id.is_empty() || step.id.contains(':') || PHASES.contains(&step.id.as_str()) {
            problems.push(
                Diagnostic::error(
                    doc_path!["steps", i, "id"],
                    format!("`{}` cannot be a step id", step.id),
                )
                .with_help(format!(
                    "ids must be non-empty, without `:`, and not a phase name ({})",
                    PHASES.join(", ")
                )),
            );
            continue;
        }
        if ids.contains_key(&step.id) {
            problems.push(Diagnostic::error(
                doc_path!["steps", i, "id"],
                format!("step id `{}` is used twice", step.id),
            ));
            continue;
        }
        let n = g.add_node(Step {
            id: step.id.clone(),
            kind,
        });
        ids.insert(step.id.clone(), n);
        plan_nodes.push((i, n));
    }
    let all_ids: Vec<String> = ids
        .keys()
        .cloned()
        .chain(PHASES.iter().map(|p| (*p).to_owned()))
        .collect();
    let resolve_ref = |reference: &str| -> Option<Vec<NodeIndex>> {
        if PHASES.contains(&reference) {
            return Some(
                g.node_indices()
                    .filter(|n| g[*n].kind.phase() == Some(reference))
                    .collect(),
            );
        }
        ids.get(reference).map(|n| vec![*n])
    };
    let mut edges = Vec::new();
    for (i, n) in &plan_nodes {
        let step = &plan.steps[*i];
        for (field, refs) in [("before", &step.before), ("after", &step.after)] {
            for (j, reference) in refs.iter().enumerate() {
                match resolve_ref(reference) {
                    Some(targets) => {
                        for t in targets {
                            edges.push(if field == "before" { (*n, t) } else { (t, *n) });
                        }
                    }
                    None => problems.push(
                        Diagnostic::error(doc_path!["steps", *i, field, j], format!("step `{}` depends on unknown step `{reference}`", step.id))
                            .with_help(did_you_mean(reference, all_ids.iter().map(String::as_str)).unwrap_or_else(|| {
                                format!("name a plan step, a phase ({}), or a table's step such as `load:<table>`", PHASES.join(", "))
                            })),
                    ),
                }
            }
        }
        if !step.after.iter().any(|a| a == "checks") && !step.before.iter().any(|a| a == "checks") {
            edges.push((*n, checks));
        }
    }
    for (a, b) in edges {
        if a != b {
            g.update_edge(a, b, ());
        }
    }
}

/// A cycle is reported once, with its whole path.
fn report_cycles(plan: &Plan, graph: &StepGraph, problems: &mut Vec<Diagnostic>) {
    for scc in tarjan_scc(&graph.graph) {
        if scc.len() < 2 {
            continue;
        }
        let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
        let Some(start) = members
            .iter()
            .copied()
            .find(|n| plan.steps.iter().any(|s| s.id == graph.graph[*n].id))
            .or_else(|| members.first().copied())
        else {
            continue;
        };
        let mut path = vec![start];
        let mut current = start;
        let mut visited = BTreeSet::from([start]);
        while let Some(next) = graph
            .graph
            .neighbors_directed(current, Direction::Outgoing)
            .filter(|n| members.contains(n))
            .min_by_key(|n| (*n != start, visited.contains(n), n.index()))
        {
            path.push(next);
            if next == start || !visited.insert(next) {
                break;
            }
            current = next;
        }
        let rendered: Vec<&str> = path.iter().map(|n| graph.graph[*n].id.as_str()).collect();
        let index = plan
            .steps
            .iter()
            .position(|s| s.id == graph.graph[start].id);
        problems.push(
            Diagnostic::error(
                index.map_or_else(|| doc_path!["steps"], |i| doc_path!["steps", i]),
                format!("dependency cycle: {}", rendered.join(" → ")),
            )
            .with_help("remove one of the `before`/`after` entries on this cycle"),
        );
    }
}

/// The plan's tables (indexes into `resolved.tables`) in foreign-key order, parents first; a
/// cycle keeps plan order.
pub fn parents_first(resolved: &ResolvedPlan) -> Vec<usize> {
    let index: HashMap<&str, usize> = resolved
        .tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.source.as_str(), i))
        .collect();
    fn visit(
        i: usize,
        resolved: &ResolvedPlan,
        index: &HashMap<&str, usize>,
        seen: &mut [bool],
        order: &mut Vec<usize>,
    ) {
        if seen[i] {
            return;
        }
        seen[i] = true;
        for fk in &resolved.tables[i].foreign_keys {
            if let Some(&p) = index.get(fk.referenced_source.as_str()) {
                visit(p, resolved, index, seen, order);
            }
        }
        order.push(i);
    }
    let mut seen = vec![false; resolved.tables.len()];
    let mut order = Vec::new();
    for i in 0..resolved.tables.len() {
        visit(i, resolved, &index, &mut seen, &mut order);
    }
    order
}

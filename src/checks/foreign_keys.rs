//! `foreign-keys:<table>`: orphans in the source (SQLite does not enforce foreign keys), found
//! before loading and handled by `settings.orphans`; after loading, every planned constraint
//! exists in the target and is validated.
//!
//! A row is an orphan when every column of its foreign key is set and no *carried* row of the
//! referenced table matches: the referenced table's filter counts, and under `reject` so do the
//! rows rejected from it (a rejected parent makes its children orphans too, followed
//! [`MAX_DEPTH`] levels deep).

use std::collections::{BTreeSet, HashMap};

use diesel::sql_types::{Array, Bool, Text};
use diesel::RunQueryDsl;

use crate::catalog::Engine;
use crate::engines::postgres::TypeFamily;
use crate::engines::{SourceConnection, SqlValue};
use serde::Serialize;

use super::{count, CheckError, Finding, Side};
use crate::copy::{key_text, Reject};
use crate::dialect::{quote_ident, Templates};
use crate::engines::TargetConnection;
use crate::plan::model::OrphanPolicy;
use crate::prepare::Prepared;
use crate::render::render_steps;
use crate::resolve::{ResolvedForeignKey, ResolvedPlan, ResolvedTable};

/// How many levels of rejected parents are followed when a rejected row makes its children
/// orphans; deeper chains (long self-referencing ones) stop the run at the foreign key instead.
pub const MAX_DEPTH: usize = 4;

/// Sample keys shown per constraint.
pub const SAMPLES: usize = 5;

/// One planned foreign key in source names.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceForeignKey {
    /// The target constraint name.
    pub name: String,
    /// The child table (source name).
    pub table: String,
    pub columns: Vec<String>,
    /// The referenced table (source name).
    pub referenced_table: String,
    pub referenced_columns: Vec<String>,
    /// The same constraint in target names.
    pub target: ResolvedForeignKey,
}

impl SourceForeignKey {
    /// Identifies the constraint among all tables' constraints.
    fn key(&self) -> String {
        format!("{}\u{0}{}", self.table, self.name)
    }

    /// `orders(customer_id) → customers(id)`.
    pub fn describe(&self) -> String {
        format!(
            "`{}` ({}) → `{}` ({})",
            self.table,
            self.columns.join(", "),
            self.referenced_table,
            self.referenced_columns.join(", ")
        )
    }
}

/// The planned foreign keys of a table, in source names.
pub fn source_foreign_keys(
    resolved: &ResolvedPlan,
    table: &ResolvedTable,
) -> Vec<SourceForeignKey> {
    let to_source = |t: &ResolvedTable, target: &str| {
        t.columns
            .iter()
            .find(|c| c.target == target)
            .map(|c| c.source.clone())
    };
    table
        .foreign_keys
        .iter()
        .filter_map(|fk| {
            let parent = resolved.table(&fk.referenced_source)?;
            let columns: Option<Vec<String>> =
                fk.columns.iter().map(|c| to_source(table, c)).collect();
            let referenced: Option<Vec<String>> = fk
                .referenced_columns
                .iter()
                .map(|c| to_source(parent, c))
                .collect();
            Some(SourceForeignKey {
                name: fk.name.clone(),
                table: table.source.clone(),
                columns: columns?,
                referenced_table: parent.source.clone(),
                referenced_columns: referenced?,
                target: fk.clone(),
            })
        })
        .collect()
}

/// Orphans of one constraint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrphanFinding {
    /// The child table (source name).
    pub table: String,
    /// The target constraint name.
    pub constraint: String,
    pub columns: Vec<String>,
    pub referenced_table: String,
    pub referenced_columns: Vec<String>,
    /// Orphan rows.
    pub count: u64,
    /// Up to [`SAMPLES`] of them: `id=7 → customer_id=99`.
    pub samples: Vec<String>,
}

impl OrphanFinding {
    /// `table `orders`: 2 orphan row(s) in (customer_id) → `customers` (id), e.g. id=7 → customer_id=99`.
    pub fn describe(&self) -> String {
        format!(
            "table `{}`: {} row(s) whose ({}) has no `{}` ({}) row, e.g. {}",
            self.table,
            self.count,
            self.columns.join(", "),
            self.referenced_table,
            self.referenced_columns.join(", "),
            self.samples.join("; ")
        )
    }
}

/// Builds the source predicates that say which rows are carried and which are orphans.
struct Predicates<'r> {
    resolved: &'r ResolvedPlan,
    /// Foreign keys (by constraint name) whose rejected orphans are followed; empty without
    /// `reject`.
    cascading: BTreeSet<String>,
    next_alias: usize,
}

impl<'r> Predicates<'r> {
    fn new(resolved: &'r ResolvedPlan) -> Self {
        Predicates {
            resolved,
            cascading: BTreeSet::new(),
            next_alias: 0,
        }
    }

    /// How the row `child_ref` meets its parent rows under `fk`.
    fn parent_match(
        &mut self,
        fk: &SourceForeignKey,
        child_ref: &str,
        chain: &[String],
        depth: usize,
    ) -> ParentMatch {
        let (parent_from, parent_ref, chain) = if chain.contains(&fk.referenced_table) {
            self.next_alias += 1;
            let alias = quote_ident(&format!("decant_p{}", self.next_alias));
            (
                format!("{} AS {alias}", quote_ident(&fk.referenced_table)),
                alias,
                chain.to_vec(),
            )
        } else {
            let mut chain = chain.to_vec();
            chain.push(fk.referenced_table.clone());
            (
                quote_ident(&fk.referenced_table),
                quote_ident(&fk.referenced_table),
                chain,
            )
        };
        let set: Vec<String> = fk
            .columns
            .iter()
            .map(|c| format!("{child_ref}.{} IS NOT NULL", quote_ident(c)))
            .collect();
        let parent = self.resolved.table(&fk.referenced_table);
        let matches: Vec<String> = fk
            .columns
            .iter()
            .zip(&fk.referenced_columns)
            .map(|(c, p)| {
                // PostgreSQL matches a foreign key exactly, where SQLite used the parent
                // column's collation (`NOCASE`); only a `citext` parent ignores case there too.
                let parent_column = parent.and_then(|t| t.column(p));
                let citext = parent_column.is_some_and(|col| col.target_type.base == "citext");
                let text = parent_column
                    .is_none_or(|col| col.target_type.family() == TypeFamily::Text);
                let (parent_col, child_col) = (quote_ident(p), quote_ident(c));
                match (citext, self.resolved.engine) {
                    (true, _) => format!("{parent_ref}.{parent_col} = {child_ref}.{child_col}"),
                    (false, Engine::Sqlite) => format!(
                        "{parent_ref}.{parent_col} = {child_ref}.{child_col} COLLATE BINARY"
                    ),
                    // MySQL compares text under the column's collation (often `_ci`); bytes
                    // decide, after the plain equality that lets the parent's key index serve.
                    (false, Engine::Mysql) if text => format!(
                        "{parent_ref}.{parent_col} = {child_ref}.{child_col} AND BINARY {parent_ref}.{parent_col} = {child_ref}.{child_col}"
                    ),
                    (false, Engine::Mysql | Engine::Postgres) => {
                        format!("{parent_ref}.{parent_col} = {child_ref}.{child_col}")
                    }
                }
            })
            .collect();
        let carried =
            parent.and_then(|parent| self.carried(parent, &parent_ref, &chain, depth + 1));
        ParentMatch {
            parent_from,
            parent_ref,
            set,
            matches,
            carried,
        }
    }

    /// True when the row `child` (as referenced by `child_ref`) is an orphan under `fk`.
    fn orphan(
        &mut self,
        fk: &SourceForeignKey,
        child_ref: &str,
        chain: &[String],
        depth: usize,
    ) -> String {
        let ParentMatch {
            parent_from,
            set,
            mut matches,
            carried,
            ..
        } = self.parent_match(fk, child_ref, chain, depth);
        matches.extend(carried);
        format!(
            "({} AND NOT EXISTS (SELECT 1 FROM {parent_from} WHERE {}))",
            set.join(" AND "),
            matches.join(" AND ")
        )
    }

    /// The rows of `table` that reach the target: its filter, and (under `reject`) not orphans.
    fn carried(
        &mut self,
        table: &ResolvedTable,
        table_ref: &str,
        chain: &[String],
        depth: usize,
    ) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(filter) = &table.filter {
            parts.push(format!("({filter})"));
        }
        if depth <= MAX_DEPTH {
            for fk in source_foreign_keys(self.resolved, table) {
                if self.cascading.contains(&fk.key()) {
                    parts.push(format!("NOT {}", self.orphan(&fk, table_ref, chain, depth)));
                }
            }
        }
        (!parts.is_empty()).then(|| parts.join(" AND "))
    }

    /// The rows of `table` that are orphans under `fk`: `FROM {from} WHERE {condition}`.
    fn orphans_search(&mut self, table: &ResolvedTable, fk: &SourceForeignKey) -> OrphanSearch {
        let me = quote_ident(&table.source);
        let chain = vec![table.source.clone()];
        // An anti-join (`LEFT JOIN … IS NULL`) where it can be one: MariaDB turns `NOT EXISTS`
        // into a materialized `IN` and takes twice as long, SQLite three times. A filter is
        // written with bare column names, which a join could make ambiguous, so filtered
        // tables (the child's, or a parent's rows carried) keep `NOT EXISTS`.
        if table.filter.is_none() {
            let m = self.parent_match(fk, &me, &chain, 1);
            if m.carried.is_none() {
                // A matched parent row holds the child's (set) value: NULL means no match.
                let unmatched = format!(
                    "{}.{} IS NULL",
                    m.parent_ref,
                    quote_ident(&fk.referenced_columns[0])
                );
                return OrphanSearch {
                    from: format!(
                        "{me} LEFT JOIN {} ON {}",
                        m.parent_from,
                        m.matches.join(" AND ")
                    ),
                    condition: format!("{} AND {unmatched}", m.set.join(" AND ")),
                };
            }
        }
        let mut parts = Vec::new();
        if let Some(filter) = &table.filter {
            parts.push(format!("({filter})"));
        }
        parts.push(self.orphan(fk, &me, &chain, 1));
        OrphanSearch {
            from: me,
            condition: parts.join(" AND "),
        }
    }
}

/// How a child row meets its parent rows under one foreign key.
struct ParentMatch {
    /// The parent table as a FROM names it (aliased when the chain already holds it).
    parent_from: String,
    /// The name the parent's columns go by.
    parent_ref: String,
    /// Every column of the child's key is set.
    set: Vec<String>,
    /// The columns' equalities.
    matches: Vec<String>,
    /// The parent row is carried (its filter, and under `reject` not an orphan itself).
    carried: Option<String>,
}

/// Where one constraint's orphans are: `SELECT … FROM {from} WHERE {condition}`.
struct OrphanSearch {
    from: String,
    condition: String,
}

/// A SQLite expression that JSON can hold: blobs become `x'…'` text.
fn json_safe(engine: Engine, column_sql: &str) -> String {
    match engine {
        Engine::Sqlite => format!("CASE WHEN typeof({column_sql}) = 'blob' THEN 'x''' || hex({column_sql}) || '''' ELSE {column_sql} END"),
        // MySQL's columns hold their declared type: JSON_OBJECT writes each as it is.
        Engine::Mysql | Engine::Postgres => column_sql.to_owned(),
    }
}

/// `json_object('id', "id", …)` of the row's key (`rowid` when the table has none).
fn key_json(engine: Engine, table: &ResolvedTable) -> String {
    let me = quote_ident(&table.source);
    if table.key_columns.is_empty() {
        return match engine {
            Engine::Sqlite => format!("json_object('rowid', {me}.rowid)"),
            // No rowid: the sample names its row by the foreign key's values alone.
            Engine::Mysql => "json_object()".to_owned(),
            Engine::Postgres => "json_build_object()".to_owned(),
        };
    }
    let pairs: Vec<String> = table
        .key_columns
        .iter()
        .map(|c| {
            format!(
                "{}, {}",
                crate::dialect::quote_literal(c),
                json_safe(engine, &format!("{me}.{}", quote_ident(c)))
            )
        })
        .collect();
    match engine {
        Engine::Postgres => format!("json_build_object({})", pairs.join(", ")),
        Engine::Sqlite | Engine::Mysql => format!("json_object({})", pairs.join(", ")),
    }
}

fn fk_json(engine: Engine, table: &ResolvedTable, fk: &SourceForeignKey) -> String {
    let me = quote_ident(&table.source);
    let values: Vec<String> = fk
        .columns
        .iter()
        .map(|c| json_safe(engine, &format!("{me}.{}", quote_ident(c))))
        .collect();
    match engine {
        Engine::Postgres => format!("json_build_array({})", values.join(", ")),
        Engine::Sqlite | Engine::Mysql => format!("json_array({})", values.join(", ")),
    }
}

struct OrphanRow {
    key: String,
    fk: String,
}

/// A JSON text the source built (SQLite's and MySQL's `json_object`).
fn text_of(value: Option<&SqlValue>) -> String {
    match value {
        Some(SqlValue::Text(t)) => t.clone(),
        Some(SqlValue::InvalidText(b) | SqlValue::Blob(b)) => {
            String::from_utf8_lossy(b).into_owned()
        }
        _ => String::new(),
    }
}

/// `a=1, b="x"` from a JSON object, as rejects show keys.
fn pairs_text(names: &[String], values: &[serde_json::Value]) -> String {
    names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Counts (and samples, or with `all_rows` lists) the orphans of one constraint.
fn query_orphans(
    source: &mut SourceConnection,
    search: &OrphanSearch,
    table: &ResolvedTable,
    fk: &SourceForeignKey,
    all_rows: bool,
) -> Result<(OrphanFinding, Vec<OrphanRow>), CheckError> {
    let id = format!("foreign-keys:{}", table.source);
    let OrphanSearch { from, condition } = search;
    let count_sql = format!("SELECT count(*) AS n FROM {from} WHERE {condition}");
    let n = source
        .integer(&count_sql)
        .map(|n| count(n.unwrap_or(0)))
        .map_err(|e| CheckError::query(&id, Side::Source, &count_sql, e))?;
    let mut rows = Vec::new();
    if n > 0 {
        let rows_sql = format!(
            "SELECT {} AS \"key\", {} AS \"fk\" FROM {from} WHERE {condition}{}",
            key_json(source.engine(), table),
            fk_json(source.engine(), table, fk),
            if all_rows {
                String::new()
            } else {
                format!(" LIMIT {SAMPLES}")
            }
        );
        rows = source
            .load_rows(&rows_sql)
            .map_err(|e| CheckError::query(&id, Side::Source, &rows_sql, e))?
            .into_iter()
            .map(|r| OrphanRow {
                key: text_of(r.first()),
                fk: text_of(r.get(1)),
            })
            .collect();
    }
    let samples = rows
        .iter()
        .take(SAMPLES)
        .map(|r| {
            let key: serde_json::Value = serde_json::from_str(&r.key).unwrap_or_default();
            let values: Vec<serde_json::Value> = serde_json::from_str(&r.fk).unwrap_or_default();
            format!("{} → {}", key_text(&key), pairs_text(&fk.columns, &values))
        })
        .collect();
    Ok((
        OrphanFinding {
            table: table.source.clone(),
            constraint: fk.name.clone(),
            columns: fk.columns.clone(),
            referenced_table: fk.referenced_table.clone(),
            referenced_columns: fk.referenced_columns.clone(),
            count: n,
            samples,
        },
        rows,
    ))
}

pub use crate::engines::AnotherSource;

/// The orphans of every planned foreign key, counted directly: a row is an orphan when no row
/// of the referenced table that its filter carries matches.
pub fn find_orphans(
    source: &mut SourceConnection,
    resolved: &ResolvedPlan,
    another: Option<&AnotherSource<'_>>,
) -> Result<Vec<OrphanFinding>, CheckError> {
    find_orphans_of(
        source,
        resolved,
        &all_source_foreign_keys(resolved),
        another,
    )
}

/// Every planned foreign key in source names, in the plan's order.
pub fn all_source_foreign_keys(resolved: &ResolvedPlan) -> Vec<SourceForeignKey> {
    resolved
        .tables
        .iter()
        .flat_map(|table| source_foreign_keys(resolved, table))
        .collect()
}

/// The orphans of the planned foreign keys among `which`, as [`find_orphans`] finds them,
/// in the plan's order.
pub fn find_orphans_of(
    source: &mut SourceConnection,
    resolved: &ResolvedPlan,
    which: &[SourceForeignKey],
    another: Option<&AnotherSource<'_>>,
) -> Result<Vec<OrphanFinding>, CheckError> {
    let mut predicates = Predicates::new(resolved);
    let mut searches = Vec::new();
    for table in &resolved.tables {
        for fk in source_foreign_keys(resolved, table) {
            if !which.iter().any(|w| w.key() == fk.key()) {
                continue;
            }
            let search = predicates.orphans_search(table, &fk);
            searches.push((table, fk, search));
        }
    }
    let search = |conn: &mut SourceConnection,
                  part: &[(&ResolvedTable, SourceForeignKey, OrphanSearch)]|
     -> Result<Vec<OrphanFinding>, CheckError> {
        part.iter()
            .map(|(table, fk, search)| {
                query_orphans(conn, search, table, fk, false).map(|(f, _)| f)
            })
            .collect()
    };
    // A server runs each search on one core: two connections search two keys at once.
    let second = match another {
        Some(open) if searches.len() > 1 => open(),
        _ => None,
    };
    let found = match second {
        Some(mut second) => {
            let (mine, theirs): (Vec<_>, Vec<_>) = searches
                .into_iter()
                .enumerate()
                .partition(|(i, _)| i % 2 == 0);
            let mine: Vec<_> = mine.into_iter().map(|(_, s)| s).collect();
            let theirs: Vec<_> = theirs.into_iter().map(|(_, s)| s).collect();
            let (a, b) = std::thread::scope(|scope| {
                let other = scope.spawn(|| search(&mut second, &theirs));
                let a = search(source, &mine);
                let b = other
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p));
                (a, b)
            });
            // Back in the plan's order: the first of each pair is mine.
            let (a, b) = (a?, b?);
            let mut merged = Vec::with_capacity(a.len() + b.len());
            let mut b = b.into_iter();
            for f in a {
                merged.push(f);
                merged.extend(b.next());
            }
            merged
        }
        None => search(source, &searches)?,
    };
    Ok(found.into_iter().filter(|f| f.count > 0).collect())
}

/// What `settings.orphans` makes of the source's orphans: under `reject` and `skip_constraint`
/// decided before any data moves.
pub struct OrphanPlan {
    pub policy: OrphanPolicy,
    /// Per constraint with orphans.
    pub findings: Vec<OrphanFinding>,
    /// The orphans counted directly, before `reject` follows rejected parents to their
    /// children: what [`check_table`] counts, so a run's checks need not search again.
    pub direct: Vec<OrphanFinding>,
    /// The plan to execute when it differs from the prepared one: under `reject` the loads
    /// leave the orphans out, under `skip_constraint` the foreign keys with orphans are not
    /// created.
    pub adjusted: Option<Prepared>,
    /// Under `reject`, the rejects of each table (source name), one per orphan row.
    pub rejects: HashMap<String, Vec<Reject>>,
    /// Constraints not created under `skip_constraint`: what the report says about each.
    pub skipped: Vec<String>,
}

impl OrphanPlan {
    /// No orphans (yet): the plan runs as prepared.
    pub fn none(policy: OrphanPolicy) -> OrphanPlan {
        OrphanPlan {
            policy,
            findings: Vec::new(),
            direct: Vec::new(),
            adjusted: None,
            rejects: HashMap::new(),
            skipped: Vec::new(),
        }
    }
}

/// Finds the source's orphans and applies `settings.orphans` to what the run will do.
pub fn plan_orphans(
    prepared: &Prepared,
    source: &mut SourceConnection,
    another: Option<&AnotherSource<'_>>,
) -> Result<OrphanPlan, CheckError> {
    let resolved = &prepared.resolved;
    let policy = resolved.settings.orphans;
    let direct = find_orphans(source, resolved, another)?;
    let mut plan = OrphanPlan {
        findings: direct.clone(),
        direct,
        ..OrphanPlan::none(policy)
    };
    if plan.findings.is_empty() {
        return Ok(plan);
    }
    match policy {
        OrphanPolicy::Fail => Ok(plan),
        OrphanPolicy::SkipConstraint => {
            let mut adjusted = resolved.clone();
            for finding in &plan.findings {
                if let Some(t) = adjusted
                    .tables
                    .iter_mut()
                    .find(|t| t.source == finding.table)
                {
                    t.foreign_keys.retain(|fk| fk.name != finding.constraint);
                }
                plan.skipped.push(format!(
                    "foreign key `{}` not created (settings.orphans: skip_constraint): {}",
                    finding.constraint,
                    finding.describe()
                ));
            }
            plan.adjusted = Some(with_resolved(prepared, adjusted)?);
            Ok(plan)
        }
        OrphanPolicy::Reject => {
            reject_orphans(prepared, source, &mut plan)?;
            Ok(plan)
        }
    }
}

/// Under `reject`: follows rejected parents to their children, lists every orphan row as a
/// reject, and leaves the orphans out of the loads.
fn reject_orphans(
    prepared: &Prepared,
    source: &mut SourceConnection,
    plan: &mut OrphanPlan,
) -> Result<(), CheckError> {
    let resolved = &prepared.resolved;
    // Tables that lose rows, and the constraints that may gain orphans because of it.
    let mut losing: BTreeSet<String> = plan.findings.iter().map(|f| f.table.clone()).collect();
    let mut cascading: BTreeSet<String> = plan
        .findings
        .iter()
        .map(|f| format!("{}\u{0}{}", f.table, f.constraint))
        .collect();
    loop {
        let before = cascading.len();
        for table in &resolved.tables {
            for fk in source_foreign_keys(resolved, table) {
                if losing.contains(&fk.referenced_table) && cascading.insert(fk.key()) {
                    losing.insert(table.source.clone());
                }
            }
        }
        if cascading.len() == before {
            break;
        }
    }
    let mut predicates = Predicates::new(resolved);
    predicates.cascading = cascading.clone();
    let mut findings = Vec::new();
    let mut adjusted = resolved.clone();
    for table in &resolved.tables {
        let mut seen = BTreeSet::new();
        let mut rejects = Vec::new();
        let mut exclusions = Vec::new();
        for fk in source_foreign_keys(resolved, table) {
            if !cascading.contains(&fk.key()) {
                continue;
            }
            let search = predicates.orphans_search(table, &fk);
            let (finding, rows) = query_orphans(source, &search, table, &fk, true)?;
            if finding.count == 0 {
                continue;
            }
            exclusions.push(format!(
                "NOT {}",
                predicates.orphan(
                    &fk,
                    &quote_ident(&table.source),
                    std::slice::from_ref(&table.source),
                    1
                )
            ));
            for row in rows {
                if !seen.insert(row.key.clone()) {
                    continue;
                }
                let key: serde_json::Value = serde_json::from_str(&row.key).unwrap_or_default();
                let values: Vec<serde_json::Value> =
                    serde_json::from_str(&row.fk).unwrap_or_default();
                rejects.push(Reject {
                    table: table.source.clone(),
                    primary_key: key,
                    column: fk.columns.join(", "),
                    value: values
                        .iter()
                        .map(|v| match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    reason: format!(
                        "orphan: no `{}` row with {}",
                        fk.referenced_table,
                        pairs_text(&fk.referenced_columns, &values)
                    ),
                    columns: Vec::new(),
                });
            }
            findings.push(finding);
        }
        if !exclusions.is_empty() {
            if let Some(t) = adjusted
                .tables
                .iter_mut()
                .find(|t| t.source == table.source)
            {
                let mut parts: Vec<String> = t.filter.iter().map(|f| format!("({f})")).collect();
                parts.extend(exclusions);
                t.filter = Some(parts.join(" AND "));
            }
            plan.rejects.insert(table.source.clone(), rejects);
        }
    }
    plan.findings = findings;
    plan.adjusted = Some(with_resolved(prepared, adjusted)?);
    Ok(())
}

/// A copy of `prepared` with another resolved plan, its steps rendered anew.
fn with_resolved(prepared: &Prepared, resolved: ResolvedPlan) -> Result<Prepared, CheckError> {
    let base = prepared.loaded.base_dir();
    let templates = Templates::for_plan(base, prepared.loaded.plan.templates.as_deref());
    let steps = render_steps(&resolved, &prepared.graph, &templates, base).map_err(|e| {
        CheckError::Value {
            check: "foreign-keys".into(),
            message: e.to_string(),
        }
    })?;
    Ok(Prepared {
        loaded: prepared.loaded.clone(),
        catalog: prepared.catalog.clone(),
        resolved,
        graph: prepared.graph.clone(),
        steps,
        warnings: prepared.warnings.clone(),
        app_schema: prepared.app_schema.clone(),
        source_counts: prepared.source_counts,
    })
}

#[derive(diesel::QueryableByName)]
struct TargetForeignKey {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    validated: bool,
    #[diesel(sql_type = Text)]
    referenced: String,
    #[diesel(sql_type = Array<Text>)]
    columns: Vec<String>,
    #[diesel(sql_type = Array<Text>)]
    referenced_columns: Vec<String>,
}

const TARGET_FOREIGN_KEYS: &str = "SELECT c.conname::text AS name, c.convalidated AS validated, rt.relname::text AS referenced, \
    ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(num, ord) \
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num ORDER BY k.ord) AS columns, \
    ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(num, ord) \
          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.num ORDER BY k.ord) AS referenced_columns \
    FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
    JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_class rt ON rt.oid = c.confrelid \
    WHERE c.contype = 'f' AND n.nspname = $1 AND t.relname = $2 ORDER BY 1";

/// After loading: every planned foreign key of `table` exists in the target and is validated;
/// the source's orphans are reported with sample keys. `known` holds the orphans a run already
/// counted in the same source before loading; without it the source is searched.
pub fn check_table(
    source: &mut SourceConnection,
    target: &mut TargetConnection,
    resolved: &ResolvedPlan,
    table: &ResolvedTable,
    known: Option<&[OrphanFinding]>,
    id: &str,
) -> Result<Finding, CheckError> {
    let policy = resolved.settings.orphans;
    let present = diesel::sql_query(TARGET_FOREIGN_KEYS)
        .bind::<Text, _>(&resolved.schema)
        .bind::<Text, _>(&table.target)
        .load::<TargetForeignKey>(target.postgres())
        .map_err(|e| CheckError::query(id, Side::Target, TARGET_FOREIGN_KEYS, e))?;
    let mut predicates = Predicates::new(resolved);
    let mut details = Vec::new();
    let mut problems = 0usize;
    let planned = source_foreign_keys(resolved, table);
    for fk in &planned {
        let resolved_fk = &fk.target;
        let (orphan_count, orphan_samples) = match known {
            Some(found) => found
                .iter()
                .find(|f| f.table == table.source && f.constraint == fk.name)
                .map_or((0, Vec::new()), |f| (f.count, f.samples.clone())),
            None => {
                let search = predicates.orphans_search(table, fk);
                let (f, _) = query_orphans(source, &search, table, fk, false)?;
                (f.count, f.samples)
            }
        };
        let found = present.iter().find(|p| p.name == fk.name).or_else(|| {
            present.iter().find(|p| {
                p.columns == resolved_fk.columns
                    && p.referenced == resolved_fk.referenced_table
                    && p.referenced_columns == resolved_fk.referenced_columns
            })
        });
        let line = match found {
            Some(p) if p.validated => format!("`{}` {}: present and validated", p.name, fk.describe()),
            Some(p) if resolved_fk.not_valid => format!(
                "`{}` {}: present and NOT VALID, as the app made it",
                p.name,
                fk.describe()
            ),
            Some(p) => {
                problems += 1;
                format!(
                    "`{}` {}: present but NOT VALID: the target's rows were never checked against it",
                    p.name,
                    fk.describe()
                )
            }
            None if orphan_count > 0 && policy == OrphanPolicy::SkipConstraint => format!(
                "`{}` {}: not created, as settings.orphans: skip_constraint says for the source's {} orphan row(s)",
                fk.name,
                fk.describe(),
                orphan_count
            ),
            None => {
                problems += 1;
                format!("`{}` {}: missing in the target", fk.name, fk.describe())
            }
        };
        details.push(line);
        if orphan_count > 0 {
            let what = match policy {
                OrphanPolicy::Reject => "rejected by settings.orphans: reject",
                OrphanPolicy::SkipConstraint => "loaded; settings.orphans: skip_constraint",
                OrphanPolicy::Fail => "settings.orphans: fail stops a run on them",
            };
            details.push(format!(
                "  the source has {} orphan row(s) ({what}), e.g. {}",
                orphan_count,
                orphan_samples.join("; ")
            ));
        }
    }
    if planned.is_empty() {
        details.push(format!(
            "table `{}` has no planned foreign keys",
            table.source
        ));
    }
    Ok(if problems == 0 {
        Finding::pass(
            format!("{} foreign key(s) in place", planned.len()),
            details,
        )
    } else {
        Finding::fail(
            format!(
                "{problems} of {} foreign key(s) missing or not validated",
                planned.len()
            ),
            details,
        )
    })
}

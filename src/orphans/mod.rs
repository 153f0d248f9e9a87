//! The source's orphan rows and what `settings.orphans` makes of them: under `reject` the loads
//! leave them out (as rejects), under `skip_constraint` their foreign keys are not made.
//!
//! One module for both jobs, below `prepare`, which settles a plan with it before it renders the
//! plan that runs: `decant plan` and `decant run` send the same statements.

mod search;

use std::collections::{BTreeSet, HashMap};

use crate::copy::Reject;
use crate::dialect::quote_ident;
use crate::engines::SourceConnection;
use crate::plan::model::OrphanPolicy;
use crate::resolve::ResolvedPlan;

pub use search::{
    all_source_foreign_keys, count_orphans, find_orphans, find_orphans_of, source_foreign_keys,
    AnotherSource, OrphanFinding, SourceForeignKey, MAX_DEPTH, SAMPLES,
};
use search::{orphan_key, pairs_text, query_orphans, Predicates};

/// Why the source could not be searched for orphans.
#[derive(Debug, thiserror::Error)]
pub enum OrphanError {
    #[error("searching `{table}` for orphan rows failed at `{sql}`")]
    Query {
        /// The child table (source name).
        table: String,
        sql: String,
        #[source]
        source: diesel::result::Error,
    },
    /// An orphan's key or foreign-key values, as the source wrote them, are not JSON.
    #[error("searching for orphan rows read a key that is not JSON")]
    Key(#[from] crate::convert::key::BadKey),
}

/// What `settings.orphans` makes of the source's orphans: under `reject` and `skip_constraint`
/// decided before any data moves.
pub struct OrphanPlan {
    pub policy: OrphanPolicy,
    /// Per constraint with orphans.
    pub findings: Vec<OrphanFinding>,
    /// The orphans counted directly, before `reject` follows rejected parents to their
    /// children: what the `foreign-keys` check counts, so a run's checks need not search again.
    pub direct: Vec<OrphanFinding>,
    /// The resolved plan to execute when it differs from the one searched: under `reject` the
    /// loads leave the orphans out, under `skip_constraint` the foreign keys with orphans are
    /// not created. [`crate::prepare`] renders it.
    pub settled: Option<ResolvedPlan>,
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
            settled: None,
            rejects: HashMap::new(),
            skipped: Vec::new(),
        }
    }
}

/// Finds the source's orphans and applies `settings.orphans` to what the run will do.
pub fn settle(
    resolved: &ResolvedPlan,
    source: &mut SourceConnection,
    another: Option<&AnotherSource<'_>>,
) -> Result<OrphanPlan, OrphanError> {
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
            plan.settled = Some(adjusted);
            Ok(plan)
        }
        OrphanPolicy::Reject => {
            reject_orphans(resolved, source, &mut plan)?;
            Ok(plan)
        }
    }
}

/// Under `reject`: follows rejected parents to their children, lists every orphan row as a
/// reject, and leaves the orphans out of the loads.
fn reject_orphans(
    resolved: &ResolvedPlan,
    source: &mut SourceConnection,
    plan: &mut OrphanPlan,
) -> Result<(), OrphanError> {
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
                let (key, values) = orphan_key(table, &fk, &row)?;
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
    plan.settled = Some(adjusted);
    Ok(())
}

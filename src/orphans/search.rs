//! Finds the source's orphan rows: for each planned foreign key, the rows whose key is set and
//! that no *carried* row of the referenced table matches, counted and sampled (or listed).
//!
//! The referenced table's filter counts, and under `reject` so do the rows rejected from it (a
//! rejected parent makes its children orphans too, followed [`MAX_DEPTH`] levels deep).

use std::collections::BTreeSet;

use serde::Serialize;

use super::OrphanError;
use crate::catalog::Engine;
use crate::convert::key::{parse_key, BadKey};
use crate::copy::key_text;
use crate::dialect::quote_ident;
use crate::engines::postgres::TypeFamily;
use crate::engines::{SourceConnection, SqlValue};
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
    pub(super) fn key(&self) -> String {
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
pub(super) struct Predicates<'r> {
    resolved: &'r ResolvedPlan,
    /// Foreign keys (by constraint name) whose rejected orphans are followed; empty without
    /// `reject`.
    pub(super) cascading: BTreeSet<String>,
    next_alias: usize,
}

impl<'r> Predicates<'r> {
    pub(super) fn new(resolved: &'r ResolvedPlan) -> Self {
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
                let text =
                    parent_column.is_none_or(|col| col.target_type.family() == TypeFamily::Text);
                let (parent_col, child_col) = (quote_ident(p), quote_ident(c));
                let (left, right) = (
                    format!("{parent_ref}.{parent_col}"),
                    format!("{child_ref}.{child_col}"),
                );
                if citext {
                    format!("{left} = {right}")
                } else {
                    // Bytes decide, as PostgreSQL's key will (SQLite's BINARY collation;
                    // MySQL's `_ci` text after the plain equality its key index serves).
                    self.resolved.engine.byte_equality(&left, &right, text)
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
    pub(super) fn orphan(
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
    pub(super) fn orphans_search(
        &mut self,
        table: &ResolvedTable,
        fk: &SourceForeignKey,
    ) -> OrphanSearch {
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
pub(super) struct OrphanSearch {
    from: String,
    condition: String,
}

/// The JSON object naming a row of `table` by its key (the engine's row name when the table
/// has none).
fn key_json(engine: Engine, table: &ResolvedTable) -> String {
    let me = quote_ident(&table.source);
    let key: Vec<(String, String)> = table
        .key_columns
        .iter()
        .map(|c| (c.clone(), format!("{me}.{}", quote_ident(c))))
        .collect();
    engine.row_key_json(&me, &key)
}

fn fk_json(engine: Engine, table: &ResolvedTable, fk: &SourceForeignKey) -> String {
    let me = quote_ident(&table.source);
    let values: Vec<String> = fk
        .columns
        .iter()
        .map(|c| engine.json_value(&format!("{me}.{}", quote_ident(c))))
        .collect();
    engine.json_array(&values)
}

pub(super) struct OrphanRow {
    pub(super) key: String,
    pub(super) fk: String,
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
pub(super) fn pairs_text(names: &[String], values: &[serde_json::Value]) -> String {
    names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An orphan's primary key (an object) and its foreign-key values, read back from the JSON
/// the source wrote; text that is not JSON is an error naming the table, columns and text.
pub(super) fn orphan_key(
    table: &ResolvedTable,
    fk: &SourceForeignKey,
    row: &OrphanRow,
) -> Result<(serde_json::Value, Vec<serde_json::Value>), BadKey> {
    Ok((
        parse_key(&table.source, &table.key_columns.join(", "), &row.key)?,
        parse_key(&table.source, &fk.columns.join(", "), &row.fk)?,
    ))
}

/// Counts (and samples, or with `all_rows` lists) the orphans of one constraint.
pub(super) fn query_orphans(
    source: &mut SourceConnection,
    search: &OrphanSearch,
    table: &ResolvedTable,
    fk: &SourceForeignKey,
    all_rows: bool,
) -> Result<(OrphanFinding, Vec<OrphanRow>), OrphanError> {
    let failed = |sql: &str, source| OrphanError::Query {
        table: table.source.clone(),
        sql: sql.to_owned(),
        source,
    };
    let OrphanSearch { from, condition } = search;
    let n = source
        .count_rows(from, Some(condition))
        .map_err(|e| failed(&e.sql, e.source))?;
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
            .map_err(|e| failed(&rows_sql, e))?
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
            let (key, values) = orphan_key(table, fk, r)?;
            Ok(format!(
                "{} → {}",
                key_text(&key),
                pairs_text(&fk.columns, &values)
            ))
        })
        .collect::<Result<_, OrphanError>>()?;
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
) -> Result<Vec<OrphanFinding>, OrphanError> {
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
) -> Result<Vec<OrphanFinding>, OrphanError> {
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
     -> Result<Vec<OrphanFinding>, OrphanError> {
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

/// The orphans of one planned foreign key of `table`, counted and sampled: what the
/// `foreign-keys` check reports when a run did not count them already.
pub fn count_orphans(
    source: &mut SourceConnection,
    resolved: &ResolvedPlan,
    table: &ResolvedTable,
    fk: &SourceForeignKey,
) -> Result<OrphanFinding, OrphanError> {
    let search = Predicates::new(resolved).orphans_search(table, fk);
    query_orphans(source, &search, table, fk, false).map(|(finding, _)| finding)
}

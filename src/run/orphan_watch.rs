//! Under `settings.orphans: fail`, the loads find out themselves that a foreign key has no
//! orphans: each load keeps the integer values of its watched columns as bitmaps, and a key
//! whose child values all lie among its parent's is settled without a query to the source.
//!
//! What the bitmaps cannot settle (a value that is not an integer, keys too scattered to keep,
//! values without a parent, a load done by an earlier attempt) goes to the source's search,
//! which counts the orphans and names their rows.

use std::collections::HashMap;

use crate::copy::{KeySet, KeyWatch, WatchedColumn};
use crate::engines::postgres::TypeFamily;
use crate::graph::StepKind;
use crate::orphans::{source_foreign_keys, SourceForeignKey};
use crate::prepare::Prepared;
use crate::resolve::ResolvedTable;

/// The foreign keys the loads watch, until both of each one's tables are loaded.
#[derive(Debug, Default)]
pub struct OrphanWatch {
    /// Constraints waiting for their tables' loads.
    pending: Vec<SourceForeignKey>,
    /// What the loads saw, by (source table, source column), while a pending key needs it.
    seen: HashMap<(String, String), KeySet>,
}

impl OrphanWatch {
    /// Splits the plan's foreign keys into the ones the loads can watch and the rest, which
    /// the source is searched for: a key of one integer column on each side, between two
    /// tables this run still loads (`done` holds the steps an earlier attempt finished).
    pub fn plan(prepared: &Prepared, done: &[String]) -> (OrphanWatch, Vec<SourceForeignKey>) {
        let resolved = &prepared.resolved;
        let loaded_now = |table: &str| {
            prepared.steps.iter().any(|s| {
                matches!(&s.kind, StepKind::Load { table: t } if t == table)
                    && !done.contains(&s.id)
            })
        };
        let integer_copied = |table: &ResolvedTable, column: &str| {
            position(table, column).is_some()
                && table
                    .column(column)
                    .is_some_and(|c| c.target_type.family() == TypeFamily::Integer)
        };
        let mut watch = OrphanWatch::default();
        let mut searched = Vec::new();
        for table in &resolved.tables {
            for fk in source_foreign_keys(resolved, table) {
                let watchable = match (
                    &fk.columns[..],
                    &fk.referenced_columns[..],
                    resolved.table(&fk.referenced_table),
                ) {
                    ([column], [referenced], Some(parent)) => {
                        loaded_now(&table.source)
                            && loaded_now(&parent.source)
                            && integer_copied(table, column)
                            && integer_copied(parent, referenced)
                    }
                    _ => false,
                };
                if watchable {
                    watch.pending.push(fk);
                } else {
                    searched.push(fk);
                }
            }
        }
        (watch, searched)
    }

    /// True while a constraint waits for a load.
    pub fn waiting(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The columns the load of `table` watches; `None` when it watches none.
    pub fn for_load(&self, table: &ResolvedTable) -> Option<KeyWatch> {
        let mut names: Vec<&str> = self
            .pending
            .iter()
            .flat_map(ends)
            .filter(|(t, _)| *t == table.source)
            .map(|(_, column)| column)
            .collect();
        names.sort_unstable();
        names.dedup();
        let columns: Vec<WatchedColumn> = names
            .into_iter()
            .filter_map(|name| {
                Some(WatchedColumn {
                    name: name.to_owned(),
                    position: position(table, name)?,
                    seen: KeySet::new(),
                })
            })
            .collect();
        (!columns.is_empty()).then_some(KeyWatch { columns })
    }

    /// Takes what the load of `table` saw and settles every constraint whose two tables are
    /// now loaded: free of orphans, or still to be searched in the source.
    pub fn loaded(&mut self, table: &str, mut watch: KeyWatch) -> Settled {
        while let Some(column) = watch.columns.pop() {
            self.seen
                .insert((table.to_owned(), column.name), column.seen);
        }
        let mut settled = Settled::default();
        let seen = &self.seen;
        let set_of =
            |(table, column): (&str, &str)| seen.get(&(table.to_owned(), column.to_owned()));
        self.pending.retain(|fk| {
            let [child, parent] = ends(fk).map(set_of);
            let (Some(child), Some(parent)) = (child, parent) else {
                return true;
            };
            if child.missing_from(parent, 1) == Some(Vec::new()) {
                settled.free.push(fk.clone());
            } else {
                settled.unsure.push(fk.clone());
            }
            false
        });
        // Sets no waiting constraint reads are let go as soon as they are done with.
        let pending = &self.pending;
        self.seen.retain(|(table, column), _| {
            pending
                .iter()
                .flat_map(ends)
                .any(|end| end == (table.as_str(), column.as_str()))
        });
        settled
    }

    /// Gives up on the constraints still waiting (the run stops before their loads end, or a
    /// search found orphans and the run stops): they go to the source's search.
    pub fn give_up(&mut self) -> Vec<SourceForeignKey> {
        self.seen.clear();
        std::mem::take(&mut self.pending)
    }
}

/// The constraints a load settled.
#[derive(Debug, Default)]
pub struct Settled {
    /// Every child value has its parent row.
    pub free: Vec<SourceForeignKey>,
    /// The sets could not tell (or found values without a parent): the source is searched.
    pub unsure: Vec<SourceForeignKey>,
}

/// The watched (table, column) of a constraint's child, then of its parent.
fn ends(fk: &SourceForeignKey) -> [(&str, &str); 2] {
    [
        (&fk.table, &fk.columns[0]),
        (&fk.referenced_table, &fk.referenced_columns[0]),
    ]
}

/// Where `column` is among the values of a row its table's load reads: the copied columns, in
/// order.
fn position(table: &ResolvedTable, column: &str) -> Option<usize> {
    table.copied_columns().position(|c| c.source == column)
}

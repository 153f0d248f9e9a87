//! One table's comparison: what both sides read, and the SQL each is read with (the load step's
//! SELECT, key order, key ranges, the row limit and the sample).

use std::fmt::Write as _;

use diesel::sql_types::{Bool, Text};
use diesel::{QueryableByName, RunQueryDsl};

use crate::catalog::Engine;
use crate::engines::SourceConnection;

use super::layout::{KeyOrder, Layout};
use super::rejects::Rejects;
use super::windows::{ranges_cte, ranges_sql, INLINE_RANGES};
use super::{ChecksumOptions, CompareError, Side};
use crate::copy::{select_columns, SqlValue};
use crate::dialect::quote_ident;
use crate::engines::TargetConnection;
use crate::prepare::Prepared;
use crate::resolve::ResolvedTable;

/// One table's comparison: what both sides read and how.
pub(super) struct Job<'a> {
    pub(super) check: &'a str,
    pub(super) table: &'a ResolvedTable,
    pub(super) layout: &'a Layout,
    pub(super) base_sql: &'a str,
    pub(super) schema: &'a str,
    /// The source's engine: how its SELECT is ordered by bytes.
    pub(super) engine: Engine,
    pub(super) options: &'a ChecksumOptions,
    pub(super) rejects: &'a Rejects,
}

/// The load step's SELECT of the source table (the copied columns, then the key columns).
pub(super) fn base_select(prepared: &Prepared, table: &ResolvedTable) -> String {
    let id = format!("load:{}", table.source);
    let rendered = prepared
        .steps
        .iter()
        .find(|s| s.id == id)
        .and_then(|s| s.source_sql.first())
        .map(|s| s.trim().trim_end_matches(';').trim_end().to_owned())
        .filter(|s| !s.is_empty());
    rendered.unwrap_or_else(|| {
        let columns: Vec<String> = select_columns(table, &table.key_columns)
            .iter()
            .map(|c| quote_ident(c))
            .collect();
        let mut sql = format!(
            "SELECT {} FROM {}",
            columns.join(", "),
            quote_ident(&table.source)
        );
        if let Some(filter) = &table.filter {
            let _ = write!(sql, " WHERE {filter}");
        }
        sql
    })
}

impl Job<'_> {
    pub(super) fn sample_threshold(&self) -> Option<u128> {
        self.options
            .sample_rate
            .filter(|r| *r < 1.0)
            .map(|r| (r * 18_446_744_073_709_551_616.0) as u128)
    }

    pub(super) fn sample_note(&self, notes: &mut Vec<String>, by: &str) {
        if let Some(rate) = self.options.sample_rate.filter(|r| *r < 1.0) {
            notes.push(format!(
                "a sample of about {}% of the rows was compared, chosen by {by} hash",
                (rate * 1000.0).round() / 10.0
            ));
        }
    }

    /// `ORDER BY` positions of the key in the source SELECT, byte order for text.
    fn source_order(&self) -> String {
        let order: Vec<String> = self
            .layout
            .key
            .iter()
            .map(|&k| match self.layout.columns[k].ty.key_order() {
                Some(KeyOrder::Integer) => format!("{}", k + 1),
                // Bytes decide, as PostgreSQL's "C" order does on the other side.
                _ => self
                    .engine
                    .byte_order(k + 1, &quote_ident(&self.layout.columns[k].source)),
            })
            .collect();
        order.join(", ")
    }

    /// The ordered source SELECTs of `ranges` (all rows without), read one after the other: one,
    /// but for many ranges of a MySQL source, a SELECT per [`INLINE_RANGES`] of them. MariaDB
    /// plans a join with the list of ranges as a block nested loop once a page's `key > last`
    /// bounds the table: every page then scans the table once per range (10 minutes for
    /// 6 000 ranges of 600 000 rows); a few dozen `BETWEEN … OR …` are a range scan.
    pub(super) fn source_sqls(&self, ranges: Option<&[(i64, i64)]>) -> Vec<String> {
        match ranges {
            Some(ranges) if !self.engine.joins_many_ranges() && ranges.len() > INLINE_RANGES => {
                ranges
                    .chunks(INLINE_RANGES)
                    .map(|part| self.source_sql(true, true, Some(part)))
                    .collect()
            }
            _ => vec![self.source_sql(true, true, ranges)],
        }
    }

    pub(super) fn source_sql(
        &self,
        ordered: bool,
        limit: bool,
        ranges: Option<&[(i64, i64)]>,
    ) -> String {
        let mut sql = match (ranges, self.layout.range_key()) {
            (Some(ranges), Some(c)) if ranges.len() > INLINE_RANGES => {
                // Many ranges: joined from a list, each one a seek on the key. CROSS JOIN
                // makes SQLite loop over the list outside (a plain JOIN may be planned the
                // other way round: the table scanned once per range).
                let column = format!("\"checked\".{}", quote_ident(&c.source));
                format!(
                    "WITH {} SELECT \"checked\".* FROM \"decant_ranges\" CROSS JOIN ({}) AS \"checked\" WHERE {column} BETWEEN \"decant_ranges\".\"decant_lo\" AND \"decant_ranges\".\"decant_hi\"",
                    ranges_cte(ranges),
                    self.base_sql
                )
            }
            (Some(ranges), Some(c)) => format!(
                "SELECT * FROM ({}) AS \"checked\" WHERE {}",
                self.base_sql,
                ranges_sql(&quote_ident(&c.source), ranges)
            ),
            _ => format!("SELECT * FROM ({}) AS \"checked\"", self.base_sql),
        };
        if ordered {
            let _ = write!(sql, " ORDER BY {}", self.source_order());
        }
        if let (true, Some(n)) = (limit, self.options.row_limit) {
            let _ = write!(sql, " LIMIT {n}");
        }
        sql
    }

    pub(super) fn target_sql(
        &self,
        ordered: bool,
        upper: Option<i64>,
        ranges: Option<&[(i64, i64)]>,
    ) -> String {
        let l = self.layout;
        let columns: Vec<String> = l.columns.iter().map(|c| quote_ident(&c.target)).collect();
        let restricted = l.range_key().is_some() && (upper.is_some() || ranges.is_some());
        if !ordered && !restricted {
            // COPY of the table itself: the server scans it without an executor plan.
            return format!(
                "{}.{} ({})",
                quote_ident(self.schema),
                quote_ident(&self.table.target),
                columns.join(", ")
            );
        }
        let many = ranges.filter(|r| r.len() > INLINE_RANGES && l.range_key().is_some());
        let table = format!(
            "{}.{}",
            quote_ident(self.schema),
            quote_ident(&self.table.target)
        );
        let mut sql = match many {
            // Many ranges: joined from a list, each one an index scan on the key. A plain join
            // on BETWEEN is planned as a scan of the whole index per range; the lateral
            // subquery (kept apart by OFFSET 0) is one range scan per range.
            Some(ranges) => {
                let qualified: Vec<String> = columns.iter().map(|c| format!("\"t\".{c}")).collect();
                let key = l
                    .range_key()
                    .map(|c| quote_ident(&c.target))
                    .unwrap_or_default();
                format!(
                    "(WITH {} SELECT {} FROM \"decant_ranges\" CROSS JOIN LATERAL (SELECT {} FROM {table} WHERE {key} BETWEEN \"decant_ranges\".\"decant_lo\" AND \"decant_ranges\".\"decant_hi\" OFFSET 0) AS \"t\"",
                    ranges_cte(ranges),
                    qualified.join(", "),
                    columns.join(", ")
                )
            }
            None => format!("(SELECT {} FROM {table}", columns.join(", ")),
        };
        if let Some(c) = l.range_key() {
            let column = if many.is_some() {
                format!("\"t\".{}", quote_ident(&c.target))
            } else {
                quote_ident(&c.target)
            };
            let mut conditions = Vec::new();
            conditions.extend(upper.map(|upper| format!("{column} <= {upper}")));
            conditions.extend(
                ranges
                    .filter(|_| many.is_none())
                    .map(|r| format!("({})", ranges_sql(&column, r))),
            );
            if !conditions.is_empty() {
                let _ = write!(sql, " WHERE {}", conditions.join(" AND "));
            }
        }
        if ordered {
            let order: Vec<String> = l
                .key
                .iter()
                .map(|&k| {
                    let c = &l.columns[k];
                    match c.ty.key_order() {
                        Some(KeyOrder::Text) => {
                            format!("{}::text COLLATE \"C\"", quote_ident(&c.target))
                        }
                        _ => quote_ident(&c.target),
                    }
                })
                .collect();
            let _ = write!(sql, " ORDER BY {}", order.join(", "));
        }
        sql.push(')');
        sql
    }

    /// Whether the target table had rows updated (which moves them on disk) or deleted (whose
    /// space later inserts may take, out of key order), as far as the server's statistics
    /// already know.
    pub(super) fn target_updated(
        &self,
        target: &mut TargetConnection,
    ) -> Result<bool, CompareError> {
        #[derive(QueryableByName)]
        struct Updated {
            #[diesel(sql_type = Bool)]
            updated: bool,
        }
        let sql = "SELECT coalesce((SELECT n_tup_upd + n_tup_del > 0 FROM pg_stat_user_tables \
                   WHERE schemaname = $1 AND relname = $2), false) AS updated";
        diesel::sql_query(sql)
            .bind::<Text, _>(self.schema)
            .bind::<Text, _>(&self.table.target)
            .get_result::<Updated>(target.postgres())
            .map(|u| u.updated)
            .map_err(|e| CompareError::query(self.check, Side::Target, sql, e))
    }

    /// The integer in column `index` of the first row `sql` returns, or `None` (no row,
    /// NULL, or not an integer).
    pub(super) fn source_integer(
        &self,
        source: &mut SourceConnection,
        sql: &str,
        index: usize,
    ) -> Result<Option<i64>, CompareError> {
        let rows = source
            .load_rows(sql)
            .map_err(|e| CompareError::query(self.check, Side::Source, sql, e))?;
        Ok(rows.into_iter().next().and_then(|v| match v.get(index) {
            Some(SqlValue::Integer(i)) => Some(*i),
            _ => None,
        }))
    }
}

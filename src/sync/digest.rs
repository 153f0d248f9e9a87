//! Where the source changed since the last sync: each table's rows summed per key window on
//! both source connections at once, compared with the sums the last sync kept.

use std::collections::BTreeSet;

use super::compare::CompareError;
use super::SyncError;
use crate::copy::{self, Reject};
use crate::engines::changes::{SourceChanges, TableChanges};
use crate::engines::digest::{
    digest_parts, DigestError, DigestPart, PartSums, StreamedDigest, WindowSums, MAX_WINDOWS,
};
use crate::engines::postgres::TypeFamily;
use crate::engines::TargetConnection;
use crate::engines::{PageKey, SourceConnection};
use crate::journal;
use crate::plan::model::IfExists;
use crate::prepare::Prepared;
use crate::resolve::ResolvedTable;

/// Rows per key window, on average, when a sync first keeps a table's window sums: the rows
/// compared again around each change.
const WINDOW_ROWS: i64 = 16;

/// One table's source rows summed per key window now, and the key ranges to compare: `None`
/// for the whole table (no sums kept yet), empty when nothing changed.
pub(super) struct Digest {
    /// `None`: the kept sums stand as they are (the table did not change), nothing to keep.
    pub(super) now: Option<WindowSums>,
    pub(super) ranges: Option<Vec<(i64, i64)>>,
}

/// Rows per part a table's digest is read in, when its key is the rowid (a range of it reads
/// as cheaply as the whole table): parts keep the two connections that digest at once busy
/// to the end.
const PART_ROWS: u64 = 250_000;

/// How one table is digested: its windows, the sums the last sync kept, and its parts'
/// indexes in the list both connections take from.
struct DigestPlan<'t> {
    table: &'t ResolvedTable,
    key: &'t str,
    kept: Option<WindowSums>,
    key_min: i64,
    width: i64,
    parts: Vec<usize>,
    /// With the source's changes known: the only windows read again (the kept sums stand for
    /// every other one).
    narrowed: Option<Vec<usize>>,
}

/// Ranges of windows joined into one part's WHERE: one query reads many small ranges.
const RANGES_PER_PART: usize = 200;

/// The digest of every table, in `resolved.tables` order: for a table named by one integer
/// key carried as it is, read from SQLite, its window sums; `None` otherwise (the whole table
/// is compared, nothing is kept). All tables are read at once on `source` and, when given,
/// `twin` (a second connection on the same snapshot), in parts taken biggest first.
/// The windows holding rows rejected before are compared too: a row rejected because its
/// parent was may load now that the parent changed, with nothing changed in its own table.
/// With `changes` (what the source's engine says changed since the sums were kept): a table
/// that did not change is not read, one whose changed rowids are named only in their windows.
pub(super) fn digest_tables(
    prepared: &Prepared,
    source: &mut SourceConnection,
    mut twin: Option<&mut SourceConnection>,
    target: &mut TargetConnection,
    run: i64,
    earlier: &[Reject],
    changes: Option<&SourceChanges>,
) -> Result<Vec<Option<Digest>>, SyncError> {
    let mut plans = Vec::new();
    let mut parts: Vec<(DigestPart, u64)> = Vec::new();
    // Tables the source's engine says did not change: their kept sums stand, unread.
    let mut unchanged: Vec<Option<Digest>> = Vec::new();
    for table in &prepared.resolved.tables {
        unchanged.push(None);
        let Some(key) = digested_key(table) else {
            plans.push(None);
            continue;
        };
        if changes.is_some_and(|c| c.table(&table.source).is_none()) {
            if let Some((key_min, width)) = journal::kept_window_shape(target, run, &table.source)?
            {
                let shape = WindowSums {
                    key_min,
                    width,
                    sums: Vec::new(),
                };
                let windows = reject_windows(&shape, key, &table.source, earlier);
                *unchanged.last_mut().expect("pushed above") = Some(Digest {
                    now: None,
                    ranges: Some(shape.ranges(windows)),
                });
                plans.push(None);
                continue;
            }
        }
        let kept = journal::kept_windows(target, run, &table.source)?;
        let (key_min, width, windows) = match &kept {
            Some(k) => (k.key_min, k.width, k.sums.len()),
            None => fresh_windows(prepared, source, table, key)?,
        };
        let narrowed = match (changes, &kept) {
            (Some(changes), Some(kept)) => {
                changed_windows(prepared, source, table, key, kept, changes)?
            }
            _ => None,
        };
        let mut plan = DigestPlan {
            table,
            key,
            kept,
            key_min,
            width,
            parts: Vec::new(),
            narrowed,
        };
        if let Some(windows) = &plan.narrowed {
            for part in window_parts(prepared, table, key, (key_min, width), windows) {
                plan.parts.push(parts.len());
                parts.push(part);
            }
            plans.push(Some(plan));
            continue;
        }
        for part in split(
            prepared,
            source.digests_in_pages(),
            table,
            key,
            (key_min, width),
            windows,
            plan.kept.as_ref().map(|k| k.sums.as_slice()),
        ) {
            plan.parts.push(parts.len());
            parts.push(part);
        }
        plans.push(Some(plan));
    }
    let mut sums: Vec<Option<PartSums>> = digest_parts(source, twin.as_deref_mut(), &parts)
        .into_iter()
        .map(Some)
        .collect();
    let mut digests = Vec::new();
    for (plan, unchanged) in plans.into_iter().zip(unchanged) {
        let Some(mut plan) = plan else {
            digests.push(unchanged);
            continue;
        };
        let table = plan.table;
        let results = plan.parts.iter().map(|&i| sums[i].take());
        let mut now = merged(table, (plan.key_min, plan.width), results)?;
        if let (Some(windows), Some(kept), Some(read)) = (&plan.narrowed, &plan.kept, &now) {
            // The kept sums, with the windows read again in place of theirs.
            let mut whole = kept.clone();
            for &w in windows {
                if let Some(sum) = whole.sums.get_mut(w) {
                    *sum = 0;
                }
            }
            whole.absorb(read);
            now = Some(whole);
        }
        if now.is_none() && plan.kept.is_some() {
            // A key outside the kept windows: new windows, and the whole table compared once.
            plan.kept = None;
            let (key_min, width, windows) = fresh_windows(prepared, source, table, plan.key)?;
            let parts = split(
                prepared,
                source.digests_in_pages(),
                table,
                plan.key,
                (key_min, width),
                windows,
                None,
            );
            let results = digest_parts(source, twin.as_deref_mut(), &parts);
            now = merged(table, (key_min, width), results.into_iter().map(Some))?;
        }
        let Some(now) = now else {
            digests.push(None);
            continue;
        };
        let ranges = plan.kept.as_ref().map(|kept| {
            let mut windows: BTreeSet<usize> = now.differing(&kept.sums).into_iter().collect();
            windows.extend(reject_windows(&now, plan.key, &table.source, earlier));
            now.ranges(windows)
        });
        // Sums the same as those kept need not be written again.
        let same = plan.kept.is_some_and(|k| k == now);
        digests.push(Some(Digest {
            now: (!same).then_some(now),
            ranges,
        }));
    }
    Ok(digests)
}

/// The windows of `windows` holding the rows of `table` rejected before (keyed by `key`).
fn reject_windows(
    windows: &WindowSums,
    key: &str,
    table: &str,
    earlier: &[Reject],
) -> BTreeSet<usize> {
    earlier
        .iter()
        .filter(|r| r.table == table)
        .filter_map(|r| match r.primary_key.get(key) {
            Some(serde_json::Value::Number(n)) => n.as_i64().and_then(|k| windows.index_of(k)),
            _ => None,
        })
        .collect()
}

/// The windows of `table` holding the rows `changes` names, when they can be told: none for a
/// table that did not change; `None` when all are read (its changes are not named by rowid,
/// its key is not the rowid, or a changed rowid lies outside the kept windows while the table
/// now holds rows there too).
fn changed_windows(
    prepared: &Prepared,
    source: &mut SourceConnection,
    table: &ResolvedTable,
    key: &str,
    kept: &WindowSums,
    changes: &SourceChanges,
) -> Result<Option<Vec<usize>>, SyncError> {
    let rowids = match changes.table(&table.source) {
        None => return Ok(Some(Vec::new())),
        Some(TableChanges::Whole(_)) => return Ok(None),
        Some(TableChanges::Rows(rowids)) => rowids,
    };
    if !keyed_by_rowid(prepared, table, key) {
        return Ok(None);
    }
    let mut windows = BTreeSet::new();
    let mut outside = false;
    for rowid in rowids {
        match kept.index_of(*rowid) {
            Some(w) => {
                windows.insert(w);
            }
            None => outside = true,
        }
    }
    if outside {
        // Every row the kept sums describe lies inside their windows (a sync that met one
        // outside made new windows): a rowid outside names a row deleted before the sums
        // were kept or another table's, unless the table holds one outside now.
        let base = crate::compare::load_select(prepared, table);
        let span = source
            .key_span(&base, &crate::dialect::quote_ident(key))
            .map_err(|e| SyncError::Compare {
                table: table.source.clone(),
                source: Box::new(CompareError::KeySpan(e)),
            })?;
        if let Some((min, max)) = span {
            if kept.index_of(min).is_none() || kept.index_of(max).is_none() {
                return Ok(None);
            }
        }
    }
    Ok(Some(windows.into_iter().collect()))
}

/// The parts that read `windows` of `table` again: their key ranges, many to a query.
fn window_parts(
    prepared: &Prepared,
    table: &ResolvedTable,
    key: &str,
    (key_min, width): (i64, i64),
    windows: &[usize],
) -> Vec<(DigestPart, u64)> {
    let base = crate::compare::load_select(prepared, table);
    let column = crate::dialect::quote_ident(key);
    let of = WindowSums {
        key_min,
        width,
        sums: Vec::new(),
    };
    let ranges = of.ranges(windows.iter().copied());
    ranges
        .chunks(RANGES_PER_PART)
        .map(|chunk| {
            let within: Vec<String> = chunk
                .iter()
                .map(|(a, b)| format!("{column} BETWEEN {a} AND {b}"))
                .collect();
            let select = format!(
                "SELECT {column}, * FROM ({base}) AS \"digested\" WHERE {}",
                within.join(" OR ")
            );
            let keys: i128 = chunk
                .iter()
                .map(|(a, b)| i128::from(*b) - i128::from(*a) + 1)
                .sum();
            let rows = (keys / i128::from(width.max(1))) as u64 * WINDOW_ROWS as u64;
            (
                DigestPart {
                    select,
                    key_min,
                    width,
                    pages: Vec::new(),
                },
                rows,
            )
        })
        .collect()
}

/// Window sums to make while `table` loads in a run, so the first sync after it compares only
/// the windows that changed: for a table a sync digests whose key is SQLite's rowid (its first
/// and last key are read without a scan), loaded into a target table that holds no row yet
/// (else the target holds more than the sums say). `None` otherwise, or when the key's bounds
/// cannot be read: the load then fails on its own read, with the reason.
pub fn streamed_digest(
    prepared: &Prepared,
    source: &mut SourceConnection,
    target: &mut TargetConnection,
    table: &ResolvedTable,
) -> Option<StreamedDigest> {
    let key = digested_key(table)?;
    // MySQL finds its primary key's first and last value in the index.
    let cheap_bounds = keyed_by_rowid(prepared, table, key) || source.digests_in_pages();
    if !cheap_bounds || prepared.resolved.settings.if_exists == IfExists::Append {
        return None;
    }
    let qualified = crate::checks::target_table_sql(&prepared.resolved.schema, table);
    // In a savepoint: a failed read must not leave the load's transaction aborted.
    let empty = target.transaction::<_, diesel::result::Error, _>(|t| t.holds_no_rows(&qualified));
    if !empty.ok()? {
        return None;
    }
    let position = copy::select_columns(table, &table.key_columns)
        .iter()
        .position(|c| c == key)?;
    let (key_min, width, _) = fresh_windows(prepared, source, table, key).ok()?;
    Some(StreamedDigest::new(position, key_min, width))
}

/// Whether `key` is SQLite's rowid for `table`: a range of it reads as cheaply as the whole
/// table, and its first and last key are read without a scan.
fn keyed_by_rowid(prepared: &Prepared, table: &ResolvedTable, key: &str) -> bool {
    prepared
        .catalog
        .table(&table.source)
        .and_then(|t| t.rowid_alias.as_deref())
        == Some(key)
}

/// The key column `table`'s rows are windowed by: its first key column, when it is an
/// integer copied as it is (a composite key's windows hold every row whose first column
/// falls in them).
fn digested_key(table: &ResolvedTable) -> Option<&str> {
    let key = table.key_columns.first()?;
    let plain_integer = table
        .column(key)
        .is_some_and(|c| c.transform.is_none() && c.target_type.family() == TypeFamily::Integer);
    plain_integer.then_some(key.as_str())
}

/// New windows for `table`: its keys' span cut so a window holds [`WINDOW_ROWS`] rows on
/// average. The first key, the keys per window, and how many windows.
fn fresh_windows(
    prepared: &Prepared,
    source: &mut SourceConnection,
    table: &ResolvedTable,
    key: &str,
) -> Result<(i64, i64, usize), SyncError> {
    let base = crate::compare::load_select(prepared, table);
    let (min, max) = source
        .key_span(&base, &crate::dialect::quote_ident(key))
        .map_err(|e| SyncError::Compare {
            table: table.source.clone(),
            source: Box::new(CompareError::KeySpan(e)),
        })?
        .unwrap_or((0, 0));
    let span = (i128::from(max) - i128::from(min) + 1).max(1);
    let rows = i128::from(table.source_rows.max(1));
    // At most MAX_WINDOWS windows: a huge table gets wider ones rather than none.
    let fewest = span / MAX_WINDOWS as i128 + 1;
    let width = (span * i128::from(WINDOW_ROWS) / rows).clamp(fewest, i128::from(i64::MAX));
    let windows = usize::try_from(span / width + 1).unwrap_or(usize::MAX);
    Ok((min, width as i64, windows))
}

/// The parts `table`'s digest is read in, each with the rows it is expected to hold: key
/// ranges of whole windows when the key is the rowid, else the whole table. The first part
/// is open below and the last open above, so a key outside the windows is still seen.
fn split(
    prepared: &Prepared,
    in_pages: bool,
    table: &ResolvedTable,
    key: &str,
    (key_min, width): (i64, i64),
    windows: usize,
    kept: Option<&[u64]>,
) -> Vec<(DigestPart, u64)> {
    let base = crate::compare::load_select(prepared, table);
    let column = crate::dialect::quote_ident(key);
    // SQLite: the key first, then every value digested. MySQL: the load's own rows, read in
    // pages by the key, as a run's load reads them.
    // MySQL pages by every key column (the first one's values repeat in a composite key).
    let pages = if in_pages {
        page_keys(table)
    } else {
        Vec::new()
    };
    let select = if pages.is_empty() {
        format!("SELECT {column}, * FROM ({base}) AS \"digested\"")
    } else {
        format!("SELECT * FROM ({base}) AS \"digested\"")
    };
    let part = |select: String| DigestPart {
        select,
        key_min,
        width,
        pages: pages.clone(),
    };
    // A range of SQLite's rowid or of MySQL's primary key reads as cheaply as the whole table.
    let wanted = if !pages.is_empty() || keyed_by_rowid(prepared, table, key) {
        table.source_rows.div_ceil(PART_ROWS).clamp(1, 64) as usize
    } else {
        1
    };
    let pieces = piece_starts(windows, wanted, kept);
    if pieces.len() <= 1 {
        return vec![(part(select), table.source_rows)];
    }
    let windows_of = WindowSums {
        key_min,
        width,
        sums: Vec::new(),
    };
    let occupied: u64 = pieces.iter().map(|(_, n)| n).sum::<u64>().max(1);
    (0..pieces.len())
        .map(|p| {
            let mut bounds = Vec::new();
            if p > 0 {
                bounds.push(format!("{column} >= {}", windows_of.bounds(pieces[p].0).0));
            }
            if let Some((next, _)) = pieces.get(p + 1) {
                bounds.push(format!("{column} <= {}", windows_of.bounds(next - 1).1));
            }
            let sql = format!("{select} WHERE {}", bounds.join(" AND "));
            let rows = table.source_rows * pieces[p].1 / occupied;
            (part(sql), rows)
        })
        .collect()
}

/// Where each of about `wanted` pieces of `windows` windows starts, with how many of its
/// windows hold rows: by the `kept` sums when there are some (a window of 0 holds none), so
/// each piece holds about as many rows however the keys are spread (a live writer's keys far
/// above the rest leave most windows empty); else in pieces of equal width.
fn piece_starts(windows: usize, wanted: usize, kept: Option<&[u64]>) -> Vec<(usize, u64)> {
    let windows = windows.max(1);
    let wanted = wanted.clamp(1, windows);
    let occupied = kept.map_or(0, |k| k.iter().filter(|s| **s != 0).count());
    let Some(kept) = kept.filter(|_| occupied >= wanted) else {
        let per = windows.div_ceil(wanted);
        return (0..windows.div_ceil(per))
            .map(|p| (p * per, (per.min(windows - p * per)) as u64))
            .collect();
    };
    let per = occupied.div_ceil(wanted);
    let mut starts = vec![(0, 0u64)];
    for (i, sum) in kept.iter().enumerate() {
        if *sum == 0 {
            continue;
        }
        let last = starts.last_mut().expect("starts begins with one piece");
        if last.1 as usize == per {
            starts.push((i, 1));
        } else {
            last.1 += 1;
        }
    }
    starts
}

/// The key columns a MySQL digest pages `table`'s rows by, in key order, with their places in
/// a row of the load's SELECT; empty when one is not selected.
fn page_keys(table: &ResolvedTable) -> Vec<PageKey> {
    let selected = copy::select_columns(table, &table.key_columns);
    let keys: Option<Vec<PageKey>> = table
        .key_columns
        .iter()
        .map(|key| {
            let position = selected.iter().position(|c| c.eq_ignore_ascii_case(key))?;
            Some(PageKey {
                name: key.clone(),
                position,
                numeric: table
                    .column(key)
                    .is_some_and(|c| PageKey::numeric_type(&c.declared)),
            })
        })
        .collect();
    keys.unwrap_or_default()
}

/// One table's parts' sums added up; `Ok(None)` when a key fell outside the windows.
fn merged(
    table: &ResolvedTable,
    (key_min, width): (i64, i64),
    parts: impl Iterator<Item = Option<PartSums>>,
) -> Result<Option<WindowSums>, SyncError> {
    let mut whole = WindowSums {
        key_min,
        width,
        sums: Vec::new(),
    };
    let mut outside = false;
    for part in parts {
        match part.expect("every part of a table is digested") {
            Ok(Some(sums)) => whole.absorb(&sums),
            // A MySQL part without its key's place in a row (see `split`).
            Ok(None) => return Ok(None),
            Err(DigestError::OutOfWindows(_)) => outside = true,
            Err(e @ DigestError::Read(_)) => {
                return Err(SyncError::Compare {
                    table: table.source.clone(),
                    source: Box::new(CompareError::Digest(e)),
                })
            }
        }
    }
    Ok((!outside).then_some(whole))
}

#[cfg(test)]
mod tests {
    use super::piece_starts;

    #[test]
    fn pieces_hold_as_many_rows_each_though_most_windows_are_empty() {
        // Rows in windows 0..6, then one far above (a live writer's keys): two pieces of
        // three or four windows with rows each, not one piece holding every row.
        let mut kept = vec![1u64; 6];
        kept.resize(1000, 0);
        kept.push(7);
        assert_eq!(
            piece_starts(kept.len(), 2, Some(&kept)),
            vec![(0, 4), (4, 3)]
        );
        // Without sums: equal widths.
        assert_eq!(piece_starts(10, 3, None), vec![(0, 4), (4, 4), (8, 2)]);
        // Fewer windows with rows than pieces wanted: equal widths too.
        assert_eq!(
            piece_starts(4, 3, Some(&[0, 5, 0, 0])),
            vec![(0, 2), (2, 2)]
        );
    }
}

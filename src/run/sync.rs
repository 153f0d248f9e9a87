//! `decant sync`: after a completed run, the target made equal to the source's current content.
//! The checksum comparison finds the rows that differ; only those are read and applied.
//!
//! Every table is compared in one read transaction of the source (one snapshot). Changes are
//! staged per table in temporary tables, then applied in ONE target transaction: deletes
//! children first, then inserts and updates (`INSERT … ON CONFLICT DO UPDATE`, so rows keep
//! their identity and their children keep pointing at them) parents first, sequences moved
//! past the new ids, and the sync's journal record. A kill at any moment leaves either the
//! whole sync or none of it, and the next sync recomputes what is left: it converges.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Instant, SystemTime};

use diesel::connection::SimpleConnection;

use minijinja::context;
use serde::Serialize;

use crate::compare::checksum_table;
use crate::compare::{ChecksumOptions, DifferenceKind};
use crate::copy::{self, Reject, VecRejects};
use crate::dialect::{source_template, target_template, Templates};
use crate::engines::open_source;
use crate::engines::postgres::TypeFamily;
use crate::engines::TargetConnection;
use crate::engines::{PageKey, SourceConnection};
use crate::errors::chain;
use crate::journal::{self, JournalError, RunState, SyncCounts};
use crate::plan::model::{IfExists, OnBadRow};
use crate::prepare::Prepared;
use crate::resolve::ResolvedTable;
use crate::run::identity::schema_hash;
use crate::signals;
use crate::source::digest::{
    digest_parts, DigestError, DigestPart, PartSums, StreamedDigest, WindowSums, MAX_WINDOWS,
};
use crate::url::{parse_source_url, SourceUrl};

/// Keys per statement when rows are named by key.
const KEYS_PER_STATEMENT: usize = 500;

/// What a sync did (or, with `--dry-run`, would do) to one table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TableSync {
    pub source: String,
    pub target: String,
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    pub rejected: u64,
    /// Every source row was staged and applied, rather than the differing ones.
    pub reloaded: bool,
    /// Why, when the table was reloaded.
    pub note: Option<String>,
    /// How many key ranges were compared row by row (the windows whose sums changed, and
    /// those of earlier rejects); `None`: the whole table was.
    pub compared_ranges: Option<usize>,
}

/// What a sync did.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    pub run_id: i64,
    pub dry_run: bool,
    /// Wall time of the whole sync: a cutover's downtime when the writers are stopped.
    pub seconds: f64,
    pub tables: Vec<TableSync>,
    pub rejects: Vec<Reject>,
}

impl SyncReport {
    pub fn counts(&self) -> SyncCounts {
        let mut c = SyncCounts::default();
        for t in &self.tables {
            c.inserted += t.inserted;
            c.updated += t.updated;
            c.deleted += t.deleted;
            c.rejected += t.rejected;
        }
        c
    }
}

/// Why a sync could not be done.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("cannot open the source: {0}")]
    Source(String),
    #[error("nothing to sync into: {0}")]
    NoRun(String),
    #[error("refusing to sync: {0}")]
    Refused(String),
    #[error("comparing `{table}` failed: {message}")]
    Compare { table: String, message: String },
    #[error("applying the changes of `{table}` failed: {message}")]
    Apply { table: String, message: String },
    #[error("the sync's transaction failed: {}", crate::errors::database_chain(.0))]
    Transaction(#[from] diesel::result::Error),
}

/// How one table's differences are applied.
struct TablePlan<'p> {
    table: &'p ResolvedTable,
    /// Source keys (as JSON values, in key column order) to stage and upsert.
    upsert: Vec<Vec<serde_json::Value>>,
    /// Target keys to delete.
    delete: Vec<Vec<serde_json::Value>>,
    /// Keys counted as inserted and as updated, so a rejected row is counted as neither.
    inserted_keys: BTreeSet<String>,
    updated_keys: BTreeSet<String>,
    /// Rows the run (or an earlier sync) rejected, staged again: by key, the column and value
    /// that were bad, so one rejected again in the same way is no change.
    rechecked: BTreeMap<String, (String, String)>,
    /// Reject records to take back before the new ones are written: rows staged again, and
    /// rows the source no longer has.
    retake: Vec<serde_json::Value>,
    /// Keys of source rows that do not convert (among the missing ones).
    unconvertible: BTreeSet<String>,
    result: TableSync,
}

/// Brings the target of `prepared` up to the source's current content.
pub fn sync(prepared: &Prepared, target_url: &str, dry_run: bool) -> Result<SyncReport, SyncError> {
    let started = Instant::now();
    let started_at = SystemTime::now();
    let resolved = &prepared.resolved;
    let source_url = parse_source_url(&prepared.loaded.plan.source.url, prepared.loaded.base_dir())
        .map_err(|e| SyncError::Source(e.to_string()))?;
    let mut target = journal::connect(target_url)?;
    journal::lock_target(&mut target, &resolved.schema)?;
    if !journal::journal_exists(&mut target)? {
        return Err(SyncError::NoRun(format!(
            "no decant run is recorded in schema `{}`; run the plan first",
            resolved.schema
        )));
    }
    journal::prepare_journal(&mut target)?;
    let run = journal::runs(&mut target, &resolved.schema, 1)?
        .into_iter()
        .next()
        .ok_or_else(|| {
            SyncError::NoRun(format!(
                "no run into schema `{}` is recorded; run the plan first",
                resolved.schema
            ))
        })?;
    if run.state() != Some(RunState::Succeeded) {
        return Err(SyncError::Refused(format!(
            "the newest run ({}) is `{}`: a sync starts from a completed run (finish it with `decant run --resume`, or run again)",
            run.id, run.status
        )));
    }
    let now = schema_hash(resolved, &prepared.steps, &prepared.catalog);
    match &run.schema_hash {
        None => {
            return Err(SyncError::Refused(format!(
                "run {} was made by a decant without sync; run the plan again",
                run.id
            )))
        }
        Some(then) if *then != now => {
            return Err(SyncError::Refused(format!(
                "the plan or the source's schema changed since run {} (tables, columns, types or the plan's rules); run the plan again instead",
                run.id
            )))
        }
        Some(_) => {}
    }
    let mut source = open_source(&source_url).map_err(|e| SyncError::Source(chain(&e)))?;
    // One snapshot of the source for the comparison and the rows staged from it, and a second
    // connection on the same snapshot, so the digests take both cores.
    let rows: u64 = resolved.tables.iter().map(|t| t.source_rows).sum();
    let mut twin = begin_reading(&mut source, &source_url, rows)?;
    let earlier = journal::run_rejects(&mut target, run.id)?;
    let digests = digest_tables(
        prepared,
        &mut source,
        twin.as_mut(),
        &mut target,
        run.id,
        &earlier,
    )?;
    drop(twin.take());
    let mut plans = Vec::new();
    for (table, digest) in resolved.tables.iter().zip(&digests) {
        let earlier: Vec<&Reject> = earlier.iter().filter(|r| r.table == table.source).collect();
        // Only the windows whose sums changed since the last sync are compared row by row.
        let only = digest.as_ref().and_then(|d| d.ranges.clone());
        let mut plan = compare_table(prepared, &mut source, &mut target, table, &earlier, only)?;
        recheck_rejected(&mut plan, earlier.into_iter());
        plans.push(plan);
    }
    if dry_run {
        return Ok(SyncReport {
            run_id: run.id,
            dry_run,
            seconds: started.elapsed().as_secs_f64(),
            tables: plans.into_iter().map(|p| p.result).collect(),
            rejects: Vec::new(),
        });
    }
    let templates = Templates::for_plan(
        prepared.loaded.base_dir(),
        prepared.loaded.plan.templates.as_deref(),
    );
    let mut rejects = VecRejects::default();
    // `plans` follows `resolved.tables`, so their indexes are the same.
    let order = crate::graph::parents_first(resolved);
    let result = target.transaction::<_, SyncError, _>(|target| {
        // Staged first, so deletes can compare with what the source holds now.
        for &i in &order {
            stage(
                prepared,
                &templates,
                &mut source,
                target,
                &mut plans[i],
                &mut rejects,
            )?;
        }
        // The app's triggers must not rewrite synced values (as in a run's loads): off for
        // the changes, on again before the transaction commits.
        app_triggers(prepared, &templates, target, false)?;
        // This sync's rejects go into the journal first (the earlier records of rows looked at
        // again taken back), so a row that became bad carries its children with it, as a
        // run's reject-children step does: out of the target and out of the staged rows.
        for plan in &plans {
            if !plan.retake.is_empty() {
                journal::delete_rejects(target, run.id, &plan.table.source, &plan.retake)?;
            }
        }
        if !rejects.rejects.is_empty() {
            journal::insert_rejects(target, run.id, &rejects.rejects)?;
        }
        if prepared.resolved.settings.on_bad_row == OnBadRow::Reject {
            let cascaded = reject_children(prepared, &templates, target, &mut plans, run.id)?;
            rejects.rejects.extend(cascaded);
        }
        for &i in order.iter().rev() {
            delete(prepared, &templates, target, &plans[i])?;
        }
        for &i in &order {
            upsert(prepared, &templates, target, &plans[i])?;
        }
        app_triggers(prepared, &templates, target, true)?;
        // The target now holds what these sums describe: kept for the next sync, in this
        // transaction, so they change exactly when the target does.
        for (table, digest) in resolved.tables.iter().zip(&digests) {
            if let Some(d) = digest {
                journal::keep_windows(target, run.id, &table.source, &d.now)?;
            }
        }
        let mut report = SyncReport {
            run_id: run.id,
            dry_run,
            seconds: 0.0,
            tables: plans.iter().map(|p| p.result.clone()).collect(),
            rejects: rejects.rejects.clone(),
        };
        report.seconds = started.elapsed().as_secs_f64();
        journal::record_sync(
            target,
            run.id,
            started_at,
            report.counts(),
            report.seconds,
            None,
        )?;
        signals::test_point("before-commit", "sync");
        Ok(report)
    });
    let _ = source.batch_execute("COMMIT");
    let outcome = match result {
        Ok(mut report) => {
            report.seconds = started.elapsed().as_secs_f64();
            Ok(report)
        }
        Err(e) => {
            let message = chain(&e);
            let _ = journal::record_sync(
                &mut target,
                run.id,
                started_at,
                SyncCounts::default(),
                started.elapsed().as_secs_f64(),
                Some(&message),
            );
            Err(e)
        }
    };
    // Free for a command started right after (a check), not a moment after the process ends.
    let _ = journal::unlock_target(&mut target, &resolved.schema);
    outcome
}

/// Starts `source`'s snapshot, and returns a second connection reading the same one when the
/// engine can promise it is the same: SQLite's [`SourceConnection::begin_twin`]; MySQL's
/// [`SourceConnection::begin_snapshot_with`] (both snapshots start under a global read lock
/// held for that moment, as a run's readers do). `None` otherwise, or when it cannot start
/// reading now (a SQLite writer waiting to commit holds new readers off, or committed between
/// the two; MySQL refused the lock): the digests then use one connection. The lock holds the
/// app's writes back while it waits for running statements (2 s at most): MySQL takes it only
/// for a source of at least [`copy::PARALLEL_READ_ROWS`] `rows`, where a second reader pays.
fn begin_reading(
    source: &mut SourceConnection,
    url: &SourceUrl,
    rows: u64,
) -> Result<Option<SourceConnection>, SyncError> {
    let failed = |e: diesel::result::Error| SyncError::Source(chain(&e));
    if source.engine() == crate::catalog::Engine::Mysql {
        let opened = (rows >= copy::PARALLEL_READ_ROWS)
            .then(|| open_source(url).ok().zip(open_source(url).ok()))
            .flatten();
        if let Some((control, twin)) = opened {
            let mut twins = source
                .begin_snapshot_with(control, vec![twin])
                .map_err(failed)?;
            return Ok(twins.pop());
        }
        source.begin_snapshot().map_err(failed)?;
        return Ok(None);
    }
    source.begin_snapshot().map_err(failed)?;
    Ok(source.begin_twin(|| open_source(url).ok()))
}

/// Whether rows can be named by key on both sides: every key column copied as it is, of a
/// type whose JSON form is the same in SQLite and PostgreSQL (integers, text).
fn keyed(table: &ResolvedTable) -> Result<(), String> {
    if table.key_columns.is_empty() {
        return Err("the table has no primary key".to_owned());
    }
    for key in &table.key_columns {
        let Some(c) = table.column(key) else {
            return Err(format!("key column `{key}` is not copied"));
        };
        if c.transform.is_some() {
            return Err(format!("key column `{key}` is transformed"));
        }
        if !matches!(
            c.target_type.family(),
            TypeFamily::Integer | TypeFamily::Text
        ) {
            return Err(format!("key column `{key}` is `{}`", c.target_type.sql()));
        }
    }
    Ok(())
}

/// Rows per key window, on average, when a sync first keeps a table's window sums: the rows
/// compared again around each change.
const WINDOW_ROWS: i64 = 16;

/// One table's source rows summed per key window now, and the key ranges to compare: `None`
/// for the whole table (no sums kept yet), empty when nothing changed.
struct Digest {
    now: WindowSums,
    ranges: Option<Vec<(i64, i64)>>,
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
}

/// The digest of every table, in `resolved.tables` order: for a table named by one integer
/// key carried as it is, read from SQLite, its window sums; `None` otherwise (the whole table
/// is compared, nothing is kept). All tables are read at once on `source` and, when given,
/// `twin` (a second connection on the same snapshot), in parts taken biggest first.
/// The windows holding rows rejected before are compared too: a row rejected because its
/// parent was may load now that the parent changed, with nothing changed in its own table.
fn digest_tables(
    prepared: &Prepared,
    source: &mut SourceConnection,
    mut twin: Option<&mut SourceConnection>,
    target: &mut TargetConnection,
    run: i64,
    earlier: &[Reject],
) -> Result<Vec<Option<Digest>>, SyncError> {
    let mut plans = Vec::new();
    let mut parts: Vec<(DigestPart, u64)> = Vec::new();
    for table in &prepared.resolved.tables {
        let Some(key) = digested_key(table) else {
            plans.push(None);
            continue;
        };
        let kept = journal::kept_windows(target, run, &table.source)?;
        let (key_min, width, windows) = match &kept {
            Some(k) => (k.key_min, k.width, k.sums.len()),
            None => fresh_windows(prepared, source, table, key)?,
        };
        let mut plan = DigestPlan {
            table,
            key,
            kept,
            key_min,
            width,
            parts: Vec::new(),
        };
        for part in split(prepared, table, key, (key_min, width), windows) {
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
    for plan in plans {
        let Some(mut plan) = plan else {
            digests.push(None);
            continue;
        };
        let table = plan.table;
        let results = plan.parts.iter().map(|&i| sums[i].take());
        let mut now = merged(table, (plan.key_min, plan.width), results)?;
        if now.is_none() && plan.kept.is_some() {
            // A key outside the kept windows: new windows, and the whole table compared once.
            plan.kept = None;
            let (key_min, width, windows) = fresh_windows(prepared, source, table, plan.key)?;
            let parts = split(prepared, table, plan.key, (key_min, width), windows);
            let results = digest_parts(source, twin.as_deref_mut(), &parts);
            now = merged(table, (key_min, width), results.into_iter().map(Some))?;
        }
        let Some(now) = now else {
            digests.push(None);
            continue;
        };
        let ranges = plan.kept.map(|kept| {
            let mut windows: BTreeSet<usize> = now.differing(&kept.sums).into_iter().collect();
            for reject in earlier.iter().filter(|r| r.table == table.source) {
                if let Some(serde_json::Value::Number(n)) = reject.primary_key.get(plan.key) {
                    if let Some(i) = n.as_i64().and_then(|k| now.index_of(k)) {
                        windows.insert(i);
                    }
                }
            }
            now.ranges(windows)
        });
        digests.push(Some(Digest { now, ranges }));
    }
    Ok(digests)
}

/// Window sums to make while `table` loads in a run, so the first sync after it compares only
/// the windows that changed: for a table a sync digests whose key is SQLite's rowid (its first
/// and last key are read without a scan), loaded into a target table that holds no row yet
/// (else the target holds more than the sums say). `None` otherwise, or when the key's bounds
/// cannot be read: the load then fails on its own read, with the reason.
pub(super) fn streamed_digest(
    prepared: &Prepared,
    source: &mut SourceConnection,
    target: &mut TargetConnection,
    table: &ResolvedTable,
) -> Option<StreamedDigest> {
    let key = digested_key(table)?;
    // MySQL finds its primary key's first and last value in the index.
    let cheap_bounds =
        keyed_by_rowid(prepared, table, key) || source.engine() == crate::catalog::Engine::Mysql;
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
            message: crate::errors::database_chain(&e),
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
    table: &ResolvedTable,
    key: &str,
    (key_min, width): (i64, i64),
    windows: usize,
) -> Vec<(DigestPart, u64)> {
    let base = crate::compare::load_select(prepared, table);
    let column = crate::dialect::quote_ident(key);
    // SQLite: the key first, then every value digested. MySQL: the load's own rows, read in
    // pages by the key, as a run's load reads them.
    // MySQL pages by every key column (the first one's values repeat in a composite key).
    let pages = if prepared.resolved.engine == crate::catalog::Engine::Mysql {
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
    let per = windows.max(1).div_ceil(wanted);
    let pieces = windows.max(1).div_ceil(per);
    if pieces <= 1 {
        return vec![(part(select), table.source_rows)];
    }
    let windows_of = WindowSums {
        key_min,
        width,
        sums: Vec::new(),
    };
    (0..pieces)
        .map(|p| {
            let mut bounds = Vec::new();
            if p > 0 {
                bounds.push(format!("{column} >= {}", windows_of.bounds(p * per).0));
            }
            if p + 1 < pieces {
                bounds.push(format!(
                    "{column} <= {}",
                    windows_of.bounds((p + 1) * per - 1).1
                ));
            }
            let sql = format!("{select} WHERE {}", bounds.join(" AND "));
            (part(sql), table.source_rows / pieces as u64)
        })
        .collect()
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
            Err(DigestError::Read(e)) => {
                return Err(SyncError::Compare {
                    table: table.source.clone(),
                    message: crate::errors::database_chain(&e),
                })
            }
        }
    }
    Ok((!outside).then_some(whole))
}

/// The differences of one table, and how they will be applied; `only`: the key ranges to
/// compare (none: nothing changed), else the whole table.
fn compare_table<'p>(
    prepared: &'p Prepared,
    source: &mut SourceConnection,
    target: &mut TargetConnection,
    table: &'p ResolvedTable,
    earlier: &[&Reject],
    only: Option<Vec<(i64, i64)>>,
) -> Result<TablePlan<'p>, SyncError> {
    let nothing_changed = only.as_ref().is_some_and(Vec::is_empty);
    let compared_ranges = only.as_ref().map(Vec::len);
    // Rows at once: after a while of app writes, changes are everywhere, and window sums
    // would only make both sides be read twice.
    let options = ChecksumOptions {
        list_all: true,
        rows_only: true,
        keep_rejected: true,
        only_ranges: only,
        ..ChecksumOptions::default()
    };
    let outcome = if nothing_changed {
        crate::compare::ChecksumOutcome::default()
    } else {
        checksum_table(source, target, prepared, table, &options).map_err(|e| {
            SyncError::Compare {
                table: table.source.clone(),
                message: chain(&e),
            }
        })?
    };
    let mut result = TableSync {
        source: table.source.clone(),
        target: table.target.clone(),
        compared_ranges,
        ..TableSync::default()
    };
    let mut plan = TablePlan {
        table,
        upsert: Vec::new(),
        delete: Vec::new(),
        inserted_keys: BTreeSet::new(),
        updated_keys: BTreeSet::new(),
        rechecked: BTreeMap::new(),
        retake: Vec::new(),
        unconvertible: BTreeSet::new(),
        result: TableSync::default(),
    };
    if outcome.differences.is_empty() {
        plan.result = result;
        return Ok(plan);
    }
    let mut changed = BTreeSet::new();
    let mut missing = BTreeSet::new();
    let mut extra = BTreeSet::new();
    for d in &outcome.differences {
        let key = key_text(&key_values(table, &d.key));
        match d.kind {
            DifferenceKind::Changed => changed.insert(key),
            // A source row that does not convert (it names its column) is staged like a new
            // row, and rejected there with its reason.
            DifferenceKind::MissingInTarget => {
                if d.column.is_some() {
                    plan.unconvertible.insert(key.clone());
                }
                missing.insert(key)
            }
            DifferenceKind::ExtraInTarget => extra.insert(key),
        };
    }
    let parse = |k: &String| serde_json::from_str::<Vec<serde_json::Value>>(k).unwrap_or_default();
    // Rows rejected before are looked at again (`recheck_rejected`); they are no sign that the
    // table changed.
    let rejected_before: BTreeSet<String> = earlier
        .iter()
        .map(|r| key_text(&key_values(table, &r.primary_key)))
        .collect();
    let new_missing = missing.difference(&rejected_before).count();
    match keyed(table) {
        Ok(()) if (changed.len() + new_missing) as u64 * 2 <= table.source_rows.max(1) => {
            result.updated = changed.len() as u64;
            result.inserted = missing.len() as u64;
            result.deleted = extra.len() as u64;
            plan.upsert = changed.iter().chain(&missing).map(parse).collect();
            plan.delete = extra.iter().map(parse).collect();
        }
        reason => {
            // Every source row is staged and applied; rows the source no longer has go.
            result.reloaded = true;
            result.note = Some(match reason {
                Ok(()) => "most of the table differs: reloaded".to_owned(),
                Err(why) => format!("{why}: reloaded"),
            });
            result.updated = changed.len() as u64;
            result.inserted = missing.len() as u64;
            result.deleted = extra.len() as u64;
        }
    }
    plan.inserted_keys = missing;
    plan.updated_keys = changed;
    plan.result = result;
    Ok(plan)
}

/// Looks again at the rows rejected earlier from this table: each is staged again by its key,
/// counted as inserted if it converts now and as rejected only if it is bad in a new way; one
/// the source no longer has loses its record. A row rejected because its parent was goes in
/// once its parent does.
fn recheck_rejected<'r>(plan: &mut TablePlan<'_>, earlier: impl Iterator<Item = &'r Reject>) {
    let t = plan.table;
    for reject in earlier {
        let named_by_key = !t.key_columns.is_empty()
            && t.key_columns
                .iter()
                .all(|k| reject.primary_key.get(k).is_some());
        if !named_by_key {
            // Named by position: only a reload looks at it again.
            if plan.result.reloaded {
                plan.retake.push(reject.primary_key.clone());
            }
            continue;
        }
        let values = key_values(t, &reject.primary_key);
        let key = key_text(&values);
        let in_source = plan.inserted_keys.contains(&key);
        if reject.reason.starts_with("parent rejected") {
            // Staged like any row the source has (a gone one stages nothing): the cascade
            // after staging rejects it again while its parent is rejected, which is no change.
            if in_source || plan.result.reloaded {
                plan.rechecked
                    .insert(key, (reject.column.clone(), reject.value.clone()));
            }
            plan.retake.push(reject.primary_key.clone());
            continue;
        }
        // Still bad: staged again, and counted only if it is bad in a new way. One that
        // converts now stays counted as inserted. One the source no longer has stages nothing.
        if plan.unconvertible.contains(&key) && plan.inserted_keys.remove(&key) {
            plan.result.inserted = plan.result.inserted.saturating_sub(1);
            plan.rechecked
                .insert(key, (reject.column.clone(), reject.value.clone()));
        }
        if !plan.result.reloaded && !plan.upsert.contains(&values) {
            plan.upsert.push(values);
        }
        plan.retake.push(reject.primary_key.clone());
    }
}

/// Rejects the rows whose parent row is rejected (by this sync, or still by the run), parents
/// first so it carries down every level: among the staged rows (they are not applied) and in
/// the target (they leave it). Each is recorded once, with "parent rejected" as its reason.
fn reject_children(
    prepared: &Prepared,
    templates: &Templates,
    target: &mut TargetConnection,
    plans: &mut [TablePlan<'_>],
    run_id: i64,
) -> Result<Vec<Reject>, SyncError> {
    let resolved = &prepared.resolved;
    let mut all = Vec::new();
    for i in crate::graph::parents_first(resolved) {
        let child = &resolved.tables[i];
        let failed = apply_error(child);
        let staged = plans[i].result.reloaded || !plans[i].upsert.is_empty();
        let stage = staged_name(child);
        for fk in &child.foreign_keys {
            let places: Vec<Option<(&str, &str)>> = if staged {
                vec![Some(("pg_temp", stage.as_str())), None]
            } else {
                vec![None]
            };
            for rows_in in places {
                let Some(sql) = crate::run::step::reject_children_sql(
                    templates, resolved, child, fk, run_id, rows_in,
                )
                .map_err(|e| failed(e.to_string()))?
                else {
                    continue;
                };
                // A table that references itself: repeat until no row is left hanging.
                loop {
                    let rows = journal::reject_children(target, &sql)?;
                    if rows.is_empty() {
                        break;
                    }
                    for reject in &rows {
                        count_as_rejected(&mut plans[i], reject);
                    }
                    all.extend(rows);
                    if fk.referenced_source != child.source {
                        break;
                    }
                }
            }
        }
    }
    Ok(all)
}

/// Counts a row as rejected rather than as inserted or updated; a row rejected before in the
/// same column with the same value is no change. True when the target has the row (it changed).
fn count_as_rejected(plan: &mut TablePlan<'_>, reject: &Reject) -> bool {
    let text = key_text(&key_values(plan.table, &reject.primary_key));
    let in_target = plan.updated_keys.remove(&text);
    if in_target {
        plan.result.updated = plan.result.updated.saturating_sub(1);
    } else if plan.inserted_keys.remove(&text) {
        plan.result.inserted = plan.result.inserted.saturating_sub(1);
    }
    match plan.rechecked.get(&text) {
        Some((column, value)) if column == &reject.column && value == &reject.value => {}
        _ => plan.result.rejected += 1,
    }
    in_target
}

/// A row's key values in key column order, from its `{"column": value, …}` (a difference's or
/// a reject's key).
fn key_values(table: &ResolvedTable, named: &serde_json::Value) -> Vec<serde_json::Value> {
    table
        .key_columns
        .iter()
        .map(|k| named.get(k).cloned().unwrap_or_default())
        .collect()
}

/// The key values as one text, to look a row up in a set.
fn key_text(values: &[serde_json::Value]) -> String {
    serde_json::to_string(values).unwrap_or_default()
}

/// The target names of the key columns.
fn target_keys(table: &ResolvedTable) -> Vec<&str> {
    table
        .key_columns
        .iter()
        .filter_map(|k| table.column(k).map(|c| c.target.as_str()))
        .collect()
}

fn staged_name(table: &ResolvedTable) -> String {
    format!("decant_sync_{}", table.target)
}

fn apply_error(table: &ResolvedTable) -> impl Fn(String) -> SyncError + '_ {
    move |message| SyncError::Apply {
        table: table.source.clone(),
        message,
    }
}

/// Copies the source rows to apply (the differing keys, or every row) into a temporary
/// table, through the copy engine: converted as the run converted them, bad rows rejected.
fn stage(
    prepared: &Prepared,
    templates: &Templates,
    source: &mut SourceConnection,
    target: &mut TargetConnection,
    plan: &mut TablePlan<'_>,
    rejects: &mut VecRejects,
) -> Result<(), SyncError> {
    let t = plan.table;
    let reloaded = plan.result.reloaded;
    if !reloaded && plan.upsert.is_empty() {
        return Ok(());
    }
    let failed = apply_error(t);
    let schema = prepared.resolved.schema.as_str();
    let temp = staged_name(t);
    let create = templates
        .render(
            &target_template("sync_temp_table"),
            context! { temp, schema, table => t.target },
        )
        .map_err(|e| failed(e.to_string()))?;
    target
        .batch_execute(&create)
        .map_err(|e| failed(format!("`{create}`: {}", crate::errors::database_chain(&e))))?;
    let base = crate::compare::load_select(prepared, t);
    let staged_table = ResolvedTable {
        target: temp.clone(),
        ..t.clone()
    };
    let selects: Vec<String> = if reloaded {
        vec![base]
    } else {
        plan.upsert
            .chunks(KEYS_PER_STATEMENT)
            .map(|rows| {
                templates
                    .render(
                        &source_template(prepared.resolved.engine.dialect(), "select_keys"),
                        context! { select => base, keys => t.key_columns, rows },
                    )
                    .map_err(|e| failed(e.to_string()))
            })
            .collect::<Result<_, _>>()?
    };
    let before = rejects.rejects.len();
    for select in selects {
        copy::copy_table(
            source,
            target,
            "pg_temp",
            &staged_table,
            &t.key_columns,
            &select,
            None,
            prepared.resolved.settings.on_bad_row,
            rejects,
            copy::ReadAlong::default(),
        )
        .map_err(|e| failed(chain(&e)))?;
    }
    // A row that became a bad row is rejected, as in a run, and leaves the target; it is
    // counted as rejected, not as inserted or updated. A row rejected before that is bad in
    // the same column with the same value is no change; one that loads now is inserted.
    // Their target rows (a changed row's old version) leave the target.
    let leave = prepared.resolved.settings.on_bad_row == OnBadRow::Reject;
    for reject in &rejects.rejects[before..] {
        if count_as_rejected(plan, reject) && leave {
            let key = key_values(t, &reject.primary_key);
            if !plan.delete.contains(&key) {
                plan.delete.push(key);
            }
        }
    }
    Ok(())
}

fn delete(
    prepared: &Prepared,
    templates: &Templates,
    target: &mut TargetConnection,
    plan: &TablePlan<'_>,
) -> Result<(), SyncError> {
    let t = plan.table;
    let failed = apply_error(t);
    let schema = prepared.resolved.schema.as_str();
    let keys = target_keys(t);
    let mut statements = Vec::new();
    if plan.result.reloaded {
        if keys.is_empty() {
            // No key to match rows by: the table's rows are replaced by the staged ones.
            statements.push(format!(
                "DELETE FROM {}.{}",
                crate::dialect::quote_ident(schema),
                crate::dialect::quote_ident(&t.target)
            ));
        } else {
            statements.push(
                templates
                    .render(
                        &target_template("sync_delete"),
                        context! { schema, table => t.target, keys, stage => staged_name(t) },
                    )
                    .map_err(|e| failed(e.to_string()))?,
            );
        }
    }
    for rows in plan.delete.chunks(KEYS_PER_STATEMENT) {
        statements.push(
            templates
                .render(
                    &target_template("sync_delete"),
                    context! { schema, table => t.target, keys, rows, stage => () },
                )
                .map_err(|e| failed(e.to_string()))?,
        );
    }
    execute_all(target, &statements, &failed)
}

fn upsert(
    prepared: &Prepared,
    templates: &Templates,
    target: &mut TargetConnection,
    plan: &TablePlan<'_>,
) -> Result<(), SyncError> {
    let t = plan.table;
    if !plan.result.reloaded && plan.upsert.is_empty() {
        return Ok(());
    }
    let failed = apply_error(t);
    let schema = prepared.resolved.schema.as_str();
    let columns: Vec<&str> = t.copied_columns().map(|c| c.target.as_str()).collect();
    let keys = target_keys(t);
    let updated: Vec<&str> = columns
        .iter()
        .copied()
        .filter(|c| !keys.contains(c))
        .collect();
    let mut statements = vec![templates
        .render(
            &target_template("sync_upsert"),
            context! { schema, table => t.target, columns, keys, updated, stage => staged_name(t) },
        )
        .map_err(|e| failed(e.to_string()))?];
    if let Some(identity) = &t.identity {
        statements.push(
            templates
                .render(
                    &target_template("identity_reset"),
                    context! { schema, table => t.target, column => identity.column, continue_after => identity.autoincrement_after.unwrap_or(0) },
                )
                .map_err(|e| failed(e.to_string()))?,
        );
    }
    execute_all(target, &statements, &failed)
}

/// Turns the app's own triggers of every table that has some off (`enable` false) or on.
fn app_triggers(
    prepared: &Prepared,
    templates: &Templates,
    target: &mut TargetConnection,
    enable: bool,
) -> Result<(), SyncError> {
    let schema = prepared.resolved.schema.as_str();
    for t in prepared
        .resolved
        .tables
        .iter()
        .filter(|t| !t.app_triggers.is_empty())
    {
        let sql = templates
            .render(
                &target_template("table_triggers"),
                context! { schema, table => t.target, enable, modes => t.app_trigger_modes },
            )
            .map_err(|e| apply_error(t)(e.to_string()))?;
        execute_all(target, &[sql], &apply_error(t))?;
    }
    Ok(())
}

/// Runs the statements in order; the first failure names its SQL and the server's reason.
fn execute_all(
    target: &mut TargetConnection,
    statements: &[String],
    failed: &impl Fn(String) -> SyncError,
) -> Result<(), SyncError> {
    for sql in statements {
        target.batch_execute(sql).map_err(|e| {
            let first_line = sql.lines().next().unwrap_or_default();
            failed(format!(
                "`{first_line}`: {}",
                crate::errors::database_chain(&e)
            ))
        })?;
    }
    Ok(())
}

//! `decant sync`: after a completed run, the target made equal to the source's current content.
//! The checksum comparison finds the rows that differ; only those are read and applied.
//!
//! Every table is compared in one read transaction of the source (one snapshot). Changes are
//! staged per table in temporary tables, then applied in ONE target transaction: deletes
//! children first, then inserts and updates (`INSERT … ON CONFLICT DO UPDATE`, so rows keep
//! their identity and their children keep pointing at them) parents first, sequences moved
//! past the new ids, and the sync's journal record. A kill at any moment leaves either the
//! whole sync or none of it, and the next sync recomputes what is left: it converges.
//!
//! By job: [`digest`] finds the key windows the source changed in, [`compare`] the rows that
//! differ there, [`rejects`] looks again at rows rejected before, [`apply`] stages and applies
//! the changes; [`schema_hash`] is what a run records so a sync can tell it still fits;
//! [`reverse`] is the way back, the old SQLite file brought up to the target.

pub mod apply;
pub mod compare;
pub mod digest;
pub mod rejects;
pub mod reverse;
pub mod schema_hash;

use std::time::{Instant, SystemTime};

use serde::Serialize;

use crate::copy::{self, Reject, VecRejects};
use crate::dialect::Templates;
use crate::engines::changes::SourceChanges;
use crate::engines::SourceConnection;
use crate::engines::{open_source, IntrospectError};
use crate::errors::chain;
use crate::journal::{self, JournalError, RunState, SyncCounts};
use crate::plan::model::OnBadRow;
use crate::prepare::Prepared;
use crate::signals;
use crate::url::{parse_source_url, SourceUrl, UrlError};

use apply::{app_triggers, delete, stage, upsert, ApplyError};
use compare::{compare_table, CompareError};
use digest::digest_tables;
use rejects::{recheck_rejected, reject_children};
use schema_hash::schema_hash;

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
    /// Where those seconds went.
    pub phases: SyncPhases,
    pub tables: Vec<TableSync>,
    pub rejects: Vec<Reject>,
}

impl SyncReport {
    pub fn counts(&self) -> SyncCounts {
        tally(&self.tables)
    }
}

/// What `tables` inserted, updated, deleted and rejected, in all: a sync's counts either way.
pub(crate) fn tally(tables: &[TableSync]) -> SyncCounts {
    let mut c = SyncCounts::default();
    for t in tables {
        c.inserted += t.inserted;
        c.updated += t.updated;
        c.deleted += t.deleted;
        c.rejected += t.rejected;
    }
    c
}

/// Wall seconds of a sync's phases: opening the source and the journal, digesting every
/// table, comparing the windows that changed, staging and applying in the target.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncPhases {
    pub open: f64,
    pub digest: f64,
    pub compare: f64,
    pub apply: f64,
}

/// Why a sync could not be done.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("cannot read the source's URL")]
    SourceUrl(#[source] UrlError),
    #[error("cannot open the source")]
    Source(#[source] IntrospectError),
    #[error("cannot start reading the source")]
    Read(#[source] diesel::result::Error),
    #[error("nothing to sync into: {0}")]
    NoRun(String),
    #[error("refusing to sync: {0}")]
    Refused(String),
    #[error("comparing `{table}` failed")]
    Compare {
        table: String,
        #[source]
        source: Box<CompareError>,
    },
    #[error("applying the changes of `{table}` failed")]
    Apply {
        table: String,
        #[source]
        source: Box<ApplyError>,
    },
    #[error("the sync's transaction failed: {}", crate::errors::database_chain(.0))]
    Transaction(#[from] diesel::result::Error),
    #[error("comparing `{table}` with the SQLite file failed")]
    ReverseCompare {
        table: String,
        #[source]
        source: Box<reverse::compare::ReverseCompareError>,
    },
    #[error(
        "writing into the SQLite file failed; its transaction is rolled back, nothing was applied"
    )]
    ReverseWrite(#[source] crate::engines::WriteError),
    #[error("the way back's journal failed; nothing was applied")]
    ReverseJournal(#[source] crate::journal::reverse::SidecarError),
    #[error("the changes are committed to the SQLite file, but its journal record stays `applying`; the next reverse sync settles it as applied")]
    ReverseJournalAfterCommit(#[source] crate::journal::reverse::SidecarError),
}

/// Brings the target of `prepared` up to the source's current content.
pub fn sync(prepared: &Prepared, target_url: &str, dry_run: bool) -> Result<SyncReport, SyncError> {
    sync_changes(prepared, target_url, dry_run, None)
}

/// [`sync`], told by the source's engine what changed since the sums the last sync kept
/// (`changes`): only the windows holding those rows are read again (see `digest`).
pub fn sync_changes(
    prepared: &Prepared,
    target_url: &str,
    dry_run: bool,
    changes: Option<&SourceChanges>,
) -> Result<SyncReport, SyncError> {
    let started = Instant::now();
    let started_at = SystemTime::now();
    let resolved = &prepared.resolved;
    let source_url = parse_source_url(&prepared.loaded.plan.source.url, prepared.loaded.base_dir())
        .map_err(SyncError::SourceUrl)?;
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
    let mut source = open_source(&source_url).map_err(SyncError::Source)?;
    // One snapshot of the source for the comparison and the rows staged from it, and a second
    // connection on the same snapshot, so the digests take both cores.
    let rows: u64 = resolved.tables.iter().map(|t| t.source_rows).sum();
    let mut twin = begin_reading(&mut source, &source_url, rows)?;
    let earlier = journal::run_rejects(&mut target, run.id)?;
    let mut phases = SyncPhases {
        open: started.elapsed().as_secs_f64(),
        ..SyncPhases::default()
    };
    let digests = digest_tables(
        prepared,
        &mut source,
        twin.as_mut(),
        &mut target,
        run.id,
        &earlier,
        changes,
    )?;
    drop(twin.take());
    phases.digest = started.elapsed().as_secs_f64() - phases.open;
    let mut plans = Vec::new();
    for (table, digest) in resolved.tables.iter().zip(&digests) {
        let earlier: Vec<&Reject> = earlier.iter().filter(|r| r.table == table.source).collect();
        // Only the windows whose sums changed since the last sync are compared row by row.
        let only = digest.as_ref().and_then(|d| d.ranges.clone());
        let mut plan = compare_table(prepared, &mut source, &mut target, table, &earlier, only)?;
        recheck_rejected(&mut plan, earlier.into_iter());
        plans.push(plan);
    }
    phases.compare = started.elapsed().as_secs_f64() - phases.open - phases.digest;
    let applying = Instant::now();
    if dry_run {
        return Ok(SyncReport {
            run_id: run.id,
            dry_run,
            seconds: started.elapsed().as_secs_f64(),
            phases,
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
            if let Some(now) = digest.as_ref().and_then(|d| d.now.as_ref()) {
                journal::keep_windows(target, run.id, &table.source, now)?;
            }
        }
        let mut report = SyncReport {
            run_id: run.id,
            dry_run,
            seconds: 0.0,
            phases: phases.clone(),
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
    // The read snapshot wrote nothing: ending it cannot lose anything, and the connection
    // goes next.
    let _ = source.end_snapshot();
    let outcome = match result {
        Ok(mut report) => {
            report.seconds = started.elapsed().as_secs_f64();
            report.phases.apply = applying.elapsed().as_secs_f64();
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
/// engine can promise it is the same: SQLite's [`SourceConnection::begin_twin`]; MySQL's and
/// PostgreSQL's [`SourceConnection::begin_snapshot_with`] (MySQL's snapshots start under a
/// global read lock held for that moment, PostgreSQL's twin adopts the exported snapshot, as a
/// run's readers do). `None` otherwise, or when it cannot start reading now (a SQLite writer
/// waiting to commit holds new readers off, or committed between the two; MySQL refused the
/// lock): the digests then use one connection. MySQL's lock holds the app's writes back while
/// it waits for running statements (2 s at most): a second reader is started only for a source
/// of at least [`copy::PARALLEL_READ_ROWS`] `rows`, where it pays.
fn begin_reading(
    source: &mut SourceConnection,
    url: &SourceUrl,
    rows: u64,
) -> Result<Option<SourceConnection>, SyncError> {
    let failed = SyncError::Read;
    if source.twin_begins_with_the_snapshot() {
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

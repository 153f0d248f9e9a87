//! `decant sync --reverse`: the way back after a cutover. The old SQLite file is brought up to
//! the target's current rows through the plan's inverse, so a rollback loses no write.
//!
//! The target is read in one REPEATABLE READ snapshot; each planned table's rows are mapped
//! back ([`crate::mapping::inverse`]) and compared by key with the file's ([`compare`]); the
//! differences are applied in ONE IMMEDIATE transaction of the file ([`apply`]): deletes
//! children first, upserts parents first, rows the old schema cannot hold left out and
//! reported. The sidecar journal ([`crate::journal::reverse`]) records each sync exactly once.

pub mod apply;
pub mod compare;

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;

use super::{schema_hash::schema_hash, SyncError, TableSync};
use crate::engines::{open_source, target_as_source, SourceConnection, WritableSource};
use crate::journal::reverse::{sidecar_path, ReverseJournal, ReverseRecord, ReverseState};
use crate::journal::{self, RunState, SyncCounts};
use crate::prepare::Prepared;
use crate::signals;
use crate::transform::TransformEnvironment;
use crate::url::parse_source_url;

pub use compare::ReverseReject;

/// What a reverse sync did (or, with `--dry-run`, would do).
#[derive(Debug, Clone, Serialize)]
pub struct ReverseReport {
    /// The forward run whose target the rows came from.
    pub run_id: i64,
    pub dry_run: bool,
    pub seconds: f64,
    /// The sidecar journal's record of this sync (none for a dry run).
    pub sync_id: Option<u64>,
    /// A record an earlier, killed reverse sync left unsettled, settled now.
    pub settled: Option<(u64, ReverseState)>,
    pub journal: String,
    pub tables: Vec<TableSync>,
    pub rejects: Vec<ReverseReject>,
    /// Where the seconds went.
    pub phases: ReversePhases,
}

/// Wall seconds of a reverse sync's phases: reading both sides and comparing them, applying
/// the differences, reading the changed tables back for the journal's sums, committing.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReversePhases {
    pub compare: f64,
    pub apply: f64,
    pub sums: f64,
    pub commit: f64,
}

impl ReverseReport {
    pub fn counts(&self) -> SyncCounts {
        super::tally(&self.tables)
    }
}

/// Why the plan cannot run backwards: every column without a way back, and every table whose
/// rows have no key to be named by, all at once.
pub fn irreversible(prepared: &Prepared) -> Vec<String> {
    let mut problems = Vec::new();
    for t in &prepared.resolved.tables {
        if t.key_columns.is_empty() {
            problems.push(format!(
                "table `{}` has no primary key: a reverse sync names rows by key",
                t.source
            ));
        }
        for c in t.copied_columns() {
            if let Err(why) =
                crate::mapping::inverse::invertible(c.transform.as_ref(), c.inverse.as_deref())
            {
                problems.push(format!(
                    "column `{}.{}` (`columns.{}.{}.inverse`): {why}",
                    t.source, c.source, t.source, c.source
                ));
            }
        }
    }
    problems
}

/// Where the way back's journal of `file` (the plan's source, open for writing) lives: beside
/// a SQLite file; for a server, named after it in the plan's folder (an absolute path, a SQLite
/// file's, stays as it is).
pub fn journal_of(prepared: &Prepared, file: &WritableSource) -> std::path::PathBuf {
    sidecar_path(&prepared.loaded.base_dir().join(file.path()))
}

/// The way back's journal of the plan's source, as it is now (empty when none was written).
pub fn read_journal(prepared: &Prepared) -> Result<ReverseJournal, SyncError> {
    let source_url = parse_source_url(&prepared.loaded.plan.source.url, prepared.loaded.base_dir())
        .map_err(SyncError::SourceUrl)?;
    let file = WritableSource::open(&source_url).map_err(SyncError::ReverseWrite)?;
    ReverseJournal::read(&journal_of(prepared, &file)).map_err(SyncError::ReverseJournal)
}

/// Brings the plan's SQLite source up to the current rows of its target at `target_url`.
pub fn sync_reverse(
    prepared: &Prepared,
    target_url: &str,
    dry_run: bool,
) -> Result<ReverseReport, SyncError> {
    let started = Instant::now();
    let started_at = jiff::Timestamp::now().to_string();
    let resolved = &prepared.resolved;
    let source_url = parse_source_url(&prepared.loaded.plan.source.url, prepared.loaded.base_dir())
        .map_err(SyncError::SourceUrl)?;
    let mut file = WritableSource::open(&source_url).map_err(SyncError::ReverseWrite)?;
    let problems = irreversible(prepared);
    if !problems.is_empty() {
        return Err(SyncError::Refused(format!(
            "the plan cannot run backwards:\n  {}\n  (with `settings: {{ reversible: true }}`, `decant validate` points at each one)",
            problems.join("\n  ")
        )));
    }
    let mut journal_conn = journal::connect(target_url)?;
    journal::lock_target(&mut journal_conn, &resolved.schema)?;
    let outcome = (|| {
        let run = newest_succeeded_run(prepared, &mut journal_conn)?;
        let mut target = open_source(&target_as_source(target_url)).map_err(SyncError::Source)?;
        target.begin_snapshot().map_err(SyncError::Read)?;
        file.begin().map_err(SyncError::ReverseWrite)?;
        let result = reverse_in_transaction(
            prepared,
            &mut target,
            &mut file,
            run,
            dry_run,
            (started, started_at),
        );
        if result.is_err() || dry_run {
            let _ = file.rollback();
        }
        let _ = target.end_snapshot();
        result
    })();
    let _ = journal::unlock_target(&mut journal_conn, &resolved.schema);
    outcome
}

/// The newest run into the plan's target, when it succeeded and the plan and the file's
/// schema are still what it ran with.
fn newest_succeeded_run(
    prepared: &Prepared,
    conn: &mut crate::engines::TargetConnection,
) -> Result<i64, SyncError> {
    let schema = &prepared.resolved.schema;
    if !journal::journal_exists(conn)? {
        return Err(SyncError::NoRun(format!(
            "no decant run is recorded in schema `{schema}`; the way back follows a run"
        )));
    }
    let run = journal::runs(conn, schema, 1)?
        .into_iter()
        .next()
        .ok_or_else(|| SyncError::NoRun(format!("no run into schema `{schema}` is recorded")))?;
    if run.state() != Some(RunState::Succeeded) {
        return Err(SyncError::Refused(format!(
            "the newest run ({}) is `{}`: the way back starts from a completed run; the target may hold half of one",
            run.id, run.status
        )));
    }
    // The plan may have gained `inverse:` entries since: they change nothing the run did.
    let mut without = prepared.resolved.clone();
    without.settings.reversible = false;
    for t in &mut without.tables {
        for c in &mut t.columns {
            c.inverse = None;
        }
    }
    let now = [
        schema_hash(&prepared.resolved, &prepared.steps, &prepared.catalog),
        schema_hash(&without, &prepared.steps, &prepared.catalog),
    ];
    match &run.schema_hash {
        Some(then) if now.contains(then) => Ok(run.id),
        _ => Err(SyncError::Refused(format!(
            "the plan or the SQLite file's schema changed since run {}: the inverse would not be the run's",
            run.id
        ))),
    }
}

/// Compares every table, applies the differences and records the sync, inside the file's
/// transaction (begun) and the target's snapshot.
fn reverse_in_transaction(
    prepared: &Prepared,
    target: &mut SourceConnection,
    file: &mut WritableSource,
    run_id: i64,
    dry_run: bool,
    (started, started_at): (Instant, String),
) -> Result<ReverseReport, SyncError> {
    let resolved = &prepared.resolved;
    let env = TransformEnvironment::new();
    let mut diffs = Vec::new();
    for table in &resolved.tables {
        let diff =
            compare::diff_table(table, &resolved.schema, target, file, &env).map_err(|e| {
                SyncError::ReverseCompare {
                    table: table.source.clone(),
                    source: Box::new(e),
                }
            })?;
        diffs.push(diff);
    }
    let sums_now: BTreeMap<String, String> = diffs
        .iter()
        .map(|d| (d.table.source.clone(), compare::rows_sum(d.before.values())))
        .collect();
    let journal_path = journal_of(prepared, file);
    let mut journal = ReverseJournal::read(&journal_path).map_err(SyncError::ReverseJournal)?;
    let settled = journal.settle(&sums_now);
    let mut report = ReverseReport {
        run_id,
        dry_run,
        seconds: 0.0,
        sync_id: None,
        settled,
        journal: journal_path.display().to_string(),
        tables: Vec::new(),
        rejects: diffs.iter().flat_map(|d| d.rejects.clone()).collect(),
        phases: ReversePhases {
            compare: started.elapsed().as_secs_f64(),
            ..ReversePhases::default()
        },
    };
    let applying = Instant::now();
    let order = crate::graph::parents_first(resolved);
    let changes: usize = diffs.iter().map(compare::TableDiff::changes).sum();
    let applied = if dry_run || changes == 0 {
        diffs
            .iter()
            .map(|d| apply::Applied {
                inserted: d.upserts.iter().filter(|(_, new)| *new).count() as u64,
                updated: d.upserts.iter().filter(|(_, new)| !*new).count() as u64,
                deleted: d.deletes.len() as u64,
            })
            .collect()
    } else {
        let (applied, refused) =
            apply::apply_all(file, &diffs, &order).map_err(SyncError::ReverseWrite)?;
        report.rejects.extend(refused);
        applied
    };
    for (d, a) in diffs.iter().zip(&applied) {
        report.tables.push(TableSync {
            source: d.table.source.clone(),
            target: d.table.target.clone(),
            inserted: a.inserted,
            updated: a.updated,
            deleted: a.deleted,
            rejected: report
                .rejects
                .iter()
                .filter(|r| r.table == d.table.source)
                .count() as u64,
            reloaded: false,
            note: None,
            compared_ranges: None,
        });
    }
    if dry_run {
        report.seconds = started.elapsed().as_secs_f64();
        return Ok(report);
    }
    report.phases.apply = applying.elapsed().as_secs_f64();
    let summing = Instant::now();
    // What the file's tables sum to once this commits: read back where rows changed.
    let mut after = sums_now.clone();
    for (d, a) in diffs.iter().zip(&applied) {
        if a.inserted + a.updated + a.deleted > 0 {
            let rows = file
                .rows(&d.table.source, &d.columns, d.table.filter.as_deref())
                .map_err(SyncError::ReverseWrite)?;
            after.insert(d.table.source.clone(), compare::rows_sum(rows.iter()));
        }
    }
    report.phases.sums = summing.elapsed().as_secs_f64();
    let committing = Instant::now();
    let counts = report.counts();
    let id = journal.next_id();
    report.sync_id = Some(id);
    journal.syncs.push(ReverseRecord {
        id,
        run_id,
        started_at,
        state: ReverseState::Applying,
        inserted: counts.inserted,
        updated: counts.updated,
        deleted: counts.deleted,
        rejected: counts.rejected,
        seconds: 0.0,
        after,
    });
    let wrote = counts.inserted + counts.updated + counts.deleted > 0;
    if wrote {
        journal
            .write(&journal_path)
            .map_err(SyncError::ReverseJournal)?;
        signals::test_point("before-commit", "reverse");
    }
    file.commit().map_err(SyncError::ReverseWrite)?;
    if wrote {
        signals::test_point("after-commit", "reverse");
    }
    report.seconds = started.elapsed().as_secs_f64();
    report.phases.commit = committing.elapsed().as_secs_f64();
    if let Some(record) = journal.syncs.last_mut() {
        record.state = ReverseState::Applied;
        record.seconds = report.seconds;
    }
    journal
        .write(&journal_path)
        .map_err(SyncError::ReverseJournalAfterCommit)?;
    Ok(report)
}

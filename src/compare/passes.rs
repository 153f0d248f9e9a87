//! The passes over both sides, each side read on a thread of its own: quick sums, the ordered
//! comparison, rows matched by key hash, and multisets of whole rows.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::sync_channel;

use crate::engines::SourceConnection;

use super::batches::{Grouping, PassConfig, Stop, Unconverted};
use super::canonical::scan_tuple;
use super::cursor::{drain_both, merge_ordered, Cursor};
use super::job::Job;
use super::layout::Mode;
use super::report::{report_unconverted, Report};
use super::source::read_source;
use super::target::read_target;
use super::windows::{differing_ranges, KeyWindows};
use super::CHUNK;
use super::{CompareError, DifferenceKind, RowDifference, Side};
use crate::dialect::quote_ident;
use crate::engines::TargetConnection;

/// Batches queued per side.
const QUEUE: usize = 8;

/// `(key hash, row hash)` of every row of one side, sorted.
type RowHashes = Vec<(u64, u64)>;

/// What a quick pass found.
pub(super) struct Quick {
    /// Rows compared (the larger side's count).
    pub(super) rows: u64,
    /// Windows whose rows or sums differ, in order (`None`: rows with a NULL key).
    pub(super) differing: Vec<Option<i64>>,
    pub(super) unconverted: Vec<Unconverted>,
    limited: bool,
    /// Source rows left out as rejected by the run.
    excluded: u64,
}

/// Spawns a scoped thread with a name (shown by `top -H`, `perf` and in panics).
pub(super) fn spawn_named<'scope, T: Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    name: &str,
    f: impl FnOnce() -> T + Send + 'scope,
) -> std::thread::ScopedJoinHandle<'scope, T> {
    std::thread::Builder::new()
        .name(name.to_owned())
        // As `Scope::spawn` does: a thread that cannot be created is out of resources.
        .spawn_scoped(scope, f)
        .expect("failed to spawn a thread")
}

impl Job<'_> {
    /// Runs one pass: both sides read on their own threads, `consume` on this one.
    fn pass<R>(
        &self,
        source: &mut SourceConnection,
        target: &mut TargetConnection,
        sqls: (&str, &str),
        configs: (&PassConfig, &PassConfig),
        consume: impl FnOnce(Cursor, Cursor) -> R,
    ) -> Result<Result<R, (Side, String)>, CompareError> {
        let ssql = [sqls.0.to_owned()];
        self.pass_in_parts(source, target, (&ssql, sqls.1), configs, consume)
    }

    /// [`Self::pass`] where the source's rows are the rows of several SELECTs, one after the
    /// other (in key order when each is, and each one's keys follow the previous one's).
    fn pass_in_parts<R>(
        &self,
        source: &mut SourceConnection,
        target: &mut TargetConnection,
        sqls: (&[String], &str),
        configs: (&PassConfig, &PassConfig),
        consume: impl FnOnce(Cursor, Cursor) -> R,
    ) -> Result<Result<R, (Side, String)>, CompareError> {
        let (ssql, tsql) = sqls;
        std::thread::scope(|scope| {
            let (stx, srx) = sync_channel(QUEUE);
            let (ttx, trx) = sync_channel(QUEUE);
            let (s_back, s_recycled) = std::sync::mpsc::channel();
            let (t_back, t_recycled) = std::sync::mpsc::channel();
            let sh = spawn_named(scope, "checksum-source", move || {
                read_source(source, ssql, self, configs.0, (stx, s_recycled))
            });
            let th = spawn_named(scope, "checksum-target", move || {
                read_target(target, tsql, self, configs.1, (ttx, t_recycled))
            });
            let result = consume(Cursor::new(srx, s_back), Cursor::new(trx, t_back));
            let panicked = || CompareError::Value {
                check: self.check.to_owned(),
                message: "a reading thread panicked".to_owned(),
            };
            let sr = sh.join().map_err(|_| panicked())?;
            let tr = th.join().map_err(|_| panicked())?;
            for (side, r) in [(Side::Source, sr), (Side::Target, tr)] {
                match r {
                    Ok(()) => {}
                    Err(Stop::Error(e)) => return Err(e),
                    Err(Stop::Unordered(why)) => return Ok(Err((side, why))),
                }
            }
            Ok(Ok(result))
        })
    }

    /// Both sides in key order, range by range. `Ok(Err(why))` when the keys do not sort the
    /// same way on both sides.
    pub(super) fn ordered(
        &self,
        source: &mut SourceConnection,
        target: &mut TargetConnection,
        report: &mut Report<'_>,
        notes: &mut Vec<String>,
    ) -> Result<Result<u64, String>, CompareError> {
        let l = self.layout;
        // Value windows for a single integer key carried as it is.
        let mut windows = None;
        let mut upper = None;
        if let Some(c) = l.integer_key() {
            let column = quote_ident(&c.source);
            let from = quote_ident(&self.table.source);
            let min =
                self.source_integer(source, &format!("SELECT min({column}) FROM {from}"), 0)?;
            let max =
                self.source_integer(source, &format!("SELECT max({column}) FROM {from}"), 0)?;
            if let (Some(min), Some(max)) = (min, max) {
                let rows = i128::from(self.table.source_rows.max(1));
                let span = i128::from(max) - i128::from(min) + 1;
                // A span too wide for i64 windows of CHUNK rows gets the widest: fewer windows.
                let width = (span * CHUNK as i128 / rows).clamp(1, i128::from(i64::MAX));
                windows = Some(KeyWindows {
                    key_min: min,
                    width: width as i64,
                });
            }
            if let Some(n) = self.options.row_limit {
                // The n-th key: the target is read up to it.
                let sql = format!(
                    "{} LIMIT 1 OFFSET {}",
                    self.source_sql(true, false, None),
                    n - 1
                );
                upper = self.source_integer(source, &sql, l.key[0])?;
            }
        }
        // A quick pass first: window sums only. Most tables match, and then this is all.
        let mut quick = None;
        if let Some(w) = windows.as_ref().filter(|_| !self.options.rows_only) {
            match self.quick(source, target, Grouping::KeyWindows(w), upper)? {
                Err(why) => return Ok(Err(why)),
                Ok(q) if q.differing.is_empty() => {
                    // Rows the conversion refuses are missing from both sums: listed here.
                    report_unconverted(report, q.unconverted);
                    self.limit_notes(notes, q.limited);
                    return Ok(Ok(q.rows));
                }
                Ok(q) => quick = Some(q),
            }
        }
        // Then rows, in key order: of the windows that differ when they are few, else all.
        let ranges = quick
            .as_ref()
            .filter(|_| self.options.row_limit.is_none())
            .and_then(|q| differing_ranges(&q.differing, windows.as_ref()?))
            .or_else(|| self.options.only_ranges.clone());
        let ssql = self.source_sqls(ranges.as_deref());
        let configs = (
            PassConfig {
                ordered: true,
                keyed: true,
                sample: self.sample_threshold(),
                // The quick pass already reported and counted them.
                report_unconverted: quick.is_none(),
                ..PassConfig::default()
            },
            PassConfig {
                ordered: true,
                keyed: true,
                sample: self.sample_threshold(),
                ..PassConfig::default()
            },
        );
        // A table loaded in key order and not updated since is in key order on disk: read it
        // as it lies, which spares the server an index scan, and sort only if it is not.
        let mut physical = l.integer_key().is_some() && !self.target_updated(target)?;
        let outcome = loop {
            let tsql = self.target_sql(!physical, upper, ranges.as_deref());
            let outcome = self.pass_in_parts(
                source,
                target,
                (&ssql, &tsql),
                (&configs.0, &configs.1),
                |src, tgt| merge_ordered(src, tgt, windows.as_ref(), report),
            )?;
            match outcome {
                Err((Side::Target, _)) if physical => {
                    physical = false;
                    report.reset();
                    self.rejects
                        .excluded
                        .store(0, std::sync::atomic::Ordering::Relaxed);
                }
                outcome => break outcome,
            }
        };
        let outcome = outcome.map_err(|(_, why)| why);
        Ok(match quick {
            None => outcome.map(|(rows, limited)| {
                self.limit_notes(notes, limited);
                rows
            }),
            Some(q) => outcome.map(|_| {
                report_unconverted(report, q.unconverted);
                self.rejects
                    .excluded
                    .store(q.excluded, std::sync::atomic::Ordering::Relaxed);
                self.limit_notes(notes, q.limited);
                q.rows
            }),
        })
    }

    fn limit_notes(&self, notes: &mut Vec<String>, limited: bool) {
        self.sample_note(notes, "key");
        if limited {
            notes.push(format!(
                "only the first {} source rows by key were compared",
                self.options.row_limit.unwrap_or_default()
            ));
        }
    }

    /// Both sides read as they lie, each row's hash added to its group's sum; the groups
    /// whose rows or sums differ. `Err(why)` when a side could not be read so.
    pub(super) fn quick(
        &self,
        source: &mut SourceConnection,
        target: &mut TargetConnection,
        grouping: Grouping<'_>,
        upper: Option<i64>,
    ) -> Result<Result<Quick, String>, CompareError> {
        let limit = self.options.row_limit.is_some();
        let ssql = self.source_sql(limit, true, None);
        let tsql = self.target_sql(false, upper, None);
        let config = |report_unconverted| PassConfig {
            keyed: !matches!(self.layout.mode, Mode::Multiset(_)),
            sample: self.sample_threshold(),
            report_unconverted,
            sums: Some(grouping),
            ..PassConfig::default()
        };
        let (source_config, target_config) = (config(true), config(false));
        let read = self.pass(
            source,
            target,
            (&ssql, &tsql),
            (&source_config, &target_config),
            |mut src, mut tgt| {
                drain_both(&mut src, &mut tgt, |_, _| {});
                let limited = src.summary.is_some_and(|s| s.limited);
                let unconverted = std::mem::take(&mut src.unconverted);
                (src.sums.take(), tgt.sums.take(), unconverted, limited)
            },
        )?;
        let (s, t, unconverted, limited) = match read {
            Ok(read) => read,
            Err((_, why)) => return Ok(Err(why)),
        };
        let (s, t) = (
            s.unwrap_or_default().into_windows(),
            t.unwrap_or_default().into_windows(),
        );
        let count = |w: &HashMap<Option<i64>, (u64, u64)>| w.values().map(|v| v.0).sum::<u64>();
        let rows = count(&s).max(count(&t));
        let mut differing: Vec<Option<i64>> = s
            .keys()
            .chain(t.keys().filter(|w| !s.contains_key(w)))
            .filter(|w| s.get(w) != t.get(w))
            .copied()
            .collect();
        differing.sort_unstable();
        Ok(Ok(Quick {
            rows,
            differing,
            unconverted,
            limited,
            excluded: self
                .rejects
                .excluded
                .load(std::sync::atomic::Ordering::Relaxed),
        }))
    }

    /// Rows matched by key hash: hashes of both sides sorted and merged, then a second pass
    /// for the rows that differ.
    pub(super) fn hashed(
        &self,
        source: &mut SourceConnection,
        target: &mut TargetConnection,
        report: &mut Report<'_>,
        notes: &mut Vec<String>,
    ) -> Result<u64, CompareError> {
        let limit = self.options.row_limit.is_some();
        let ssql = self.source_sql(limit, true, None);
        let tsql = self.target_sql(false, None, None);
        let (s, t, limited) = self.collect(source, target, (&ssql, &tsql), true, report)?;
        let rows = s.len().max(t.len()) as u64;
        self.sample_note(notes, "key");
        if limited {
            notes.push(format!(
                "only the first {} source rows were compared; target rows with other keys were not",
                self.options.row_limit.unwrap_or_default()
            ));
        }
        // Pair rows by key hash.
        enum Found {
            Changed(u64),
            Missing(u64),
            Extra(u64),
        }
        let mut found = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < s.len() || j < t.len() {
            let order = match (s.get(i), t.get(j)) {
                (Some(a), Some(b)) => a.0.cmp(&b.0),
                (Some(_), None) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Greater,
            };
            match order {
                std::cmp::Ordering::Less => {
                    found.push(Found::Missing(s[i].0));
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    if !limited {
                        found.push(Found::Extra(t[j].0));
                    }
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    if s[i].1 != t[j].1 {
                        found.push(Found::Changed(s[i].0));
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        if found.is_empty() {
            return Ok(rows);
        }
        let shown = &found[..found.len().min(report.limit())];
        let mut want_s = HashSet::new();
        let mut want_t = HashSet::new();
        for f in shown {
            match f {
                Found::Changed(k) => {
                    want_s.insert(*k);
                    want_t.insert(*k);
                }
                Found::Missing(k) => {
                    want_s.insert(*k);
                }
                Found::Extra(k) => {
                    want_t.insert(*k);
                }
            }
        }
        let (ts, tt) = self.details(source, target, (&ssql, &tsql), true, (want_s, want_t))?;
        for f in &found {
            match f {
                Found::Changed(k) => match (ts.get(k), tt.get(k)) {
                    (Some(a), Some(b)) if !report.full() => report.changed(a, b),
                    _ => report.total += 1,
                },
                Found::Missing(k) => match ts.get(k) {
                    Some(a) if !report.full() => {
                        report.one_sided(a, DifferenceKind::MissingInTarget)
                    }
                    _ => report.total += 1,
                },
                Found::Extra(k) => match tt.get(k) {
                    Some(b) if !report.full() => report.one_sided(b, DifferenceKind::ExtraInTarget),
                    _ => report.total += 1,
                },
            }
        }
        Ok(rows)
    }

    /// Whole rows counted by hash on both sides.
    pub(super) fn multiset(
        &self,
        source: &mut SourceConnection,
        target: &mut TargetConnection,
        report: &mut Report<'_>,
        notes: &mut Vec<String>,
    ) -> Result<u64, CompareError> {
        let ssql = self.source_sql(false, false, None);
        let tsql = self.target_sql(false, None, None);
        let (s, t, _) = self.collect(source, target, (&ssql, &tsql), false, report)?;
        self.sample_note(notes, "row");
        if self.options.row_limit.is_some() {
            notes.push(
                "the row limit does not apply without a primary key: every row was compared"
                    .to_owned(),
            );
        }
        let rows = s.len().max(t.len()) as u64;
        // (hash, source count, target count) of every row whose counts differ.
        let mut found: Vec<(u64, usize, usize)> = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < s.len() || j < t.len() {
            let h = match (s.get(i), t.get(j)) {
                (Some(a), Some(b)) => a.1.min(b.1),
                (Some(a), None) => a.1,
                (None, Some(b)) => b.1,
                (None, None) => break,
            };
            let i0 = i;
            while s.get(i).is_some_and(|x| x.1 == h) {
                i += 1;
            }
            let j0 = j;
            while t.get(j).is_some_and(|x| x.1 == h) {
                j += 1;
            }
            if i - i0 != j - j0 {
                found.push((h, i - i0, j - j0));
            }
        }
        if found.is_empty() {
            return Ok(rows);
        }
        let shown = &found[..found.len().min(report.limit())];
        let want_s: HashSet<u64> = shown.iter().filter(|f| f.1 > f.2).map(|f| f.0).collect();
        let want_t: HashSet<u64> = shown.iter().filter(|f| f.1 < f.2).map(|f| f.0).collect();
        let (ts, tt) = self.details(source, target, (&ssql, &tsql), false, (want_s, want_t))?;
        let columns = self.layout.columns.len();
        let mut spans = Vec::new();
        for (h, n, m) in found {
            let (tuple, kind) = if n > m {
                (ts.get(&h), DifferenceKind::MissingInTarget)
            } else {
                (tt.get(&h), DifferenceKind::ExtraInTarget)
            };
            let parsed =
                tuple.filter(|t| scan_tuple(t, columns, &mut spans).ok().flatten().is_some());
            match parsed {
                Some(tuple) if !report.full() => {
                    let key = report.content_json(tuple, &spans);
                    report.add(RowDifference {
                        table: self.layout.table.clone(),
                        key,
                        column: None,
                        source_value: Some(format!("{n} row(s)")),
                        target_value: Some(format!("{m} row(s)")),
                        kind,
                    });
                }
                _ => report.total += 1,
            }
        }
        Ok(rows)
    }

    /// A light pass: `(khash, hash)` of every row of each side, sorted (`khash` is the row
    /// hash unless `keyed`), and whether the row limit stopped the source. Source rows the
    /// conversion refuses go to the report.
    fn collect(
        &self,
        source: &mut SourceConnection,
        target: &mut TargetConnection,
        sqls: (&str, &str),
        keyed: bool,
        report: &mut Report<'_>,
    ) -> Result<(RowHashes, RowHashes, bool), CompareError> {
        let light = |report_unconverted| PassConfig {
            keyed,
            light: true,
            sample: self.sample_threshold(),
            report_unconverted,
            ..PassConfig::default()
        };
        let outcome = self.pass(
            source,
            target,
            sqls,
            (&light(true), &light(false)),
            |mut src, mut tgt| {
                let (mut s, mut t) = (Vec::new(), Vec::new());
                drain_both(&mut src, &mut tgt, |side, b| {
                    let v = if side == Side::Source { &mut s } else { &mut t };
                    v.extend(b.rows.iter().map(|m| (m.khash, m.hash)));
                });
                let limited = src.summary.is_some_and(|s| s.limited);
                (s, t, std::mem::take(&mut src.unconverted), limited)
            },
        )?;
        let (mut s, mut t, unconverted, limited) =
            outcome.map_err(|(_, why)| CompareError::Value {
                check: self.check.to_owned(),
                message: why,
            })?;
        report_unconverted(report, unconverted);
        s.sort_unstable();
        t.sort_unstable();
        Ok((s, t, limited))
    }

    /// A second pass keeping the first tuple of each wanted `khash`, per side.
    #[allow(clippy::type_complexity)]
    fn details(
        &self,
        source: &mut SourceConnection,
        target: &mut TargetConnection,
        sqls: (&str, &str),
        keyed: bool,
        wanted: (HashSet<u64>, HashSet<u64>),
    ) -> Result<(HashMap<u64, Vec<u8>>, HashMap<u64, Vec<u8>>), CompareError> {
        let config = |w| PassConfig {
            keyed,
            wanted: Some(w),
            ..PassConfig::default()
        };
        let configs = (config(wanted.0), config(wanted.1));
        let outcome = self.pass(
            source,
            target,
            sqls,
            (&configs.0, &configs.1),
            |mut src, mut tgt| {
                let mut s: HashMap<u64, Vec<u8>> = HashMap::new();
                let mut t: HashMap<u64, Vec<u8>> = HashMap::new();
                drain_both(&mut src, &mut tgt, |side, b| {
                    let out = if side == Side::Source { &mut s } else { &mut t };
                    for m in &b.rows {
                        out.entry(m.khash)
                            .or_insert_with(|| b.bytes(m.tuple).to_vec());
                    }
                });
                (s, t)
            },
        )?;
        outcome.map_err(|(_, why)| CompareError::Value {
            check: self.check.to_owned(),
            message: why,
        })
    }
}

//! Comparing the two streams: each side's batches read through a cursor, in key order range by
//! range (sums compared, bisected down to the rows that differ) or drained as they arrive.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::mpsc::Receiver;

use super::batches::{Batch, Meta, Msg, Summary, Unconverted, WindowSums};
use super::canonical::{integer_key, integer_of_key};
use super::report::{report_unconverted, Report};
use super::windows::KeyWindows;
use super::CHUNK;
use super::{DifferenceKind, Side};

/// The most rows one side may hold in a range before the range is cut short.
const CAP: usize = 4 * CHUNK;
/// A bisected range at most this many rows (both sides) is compared row by row.
const LEAF: usize = 8;

/// One side's stream of batches, read in order, with the rows of the current range kept.
pub(super) struct Cursor {
    rx: Receiver<Msg>,
    /// Where batches go back to their producer once compared.
    recycle: std::sync::mpsc::Sender<Batch>,
    batches: VecDeque<Batch>,
    /// Sequence number of `batches[0]`.
    base: usize,
    /// The next row: batch sequence number and index.
    pos: (usize, usize),
    ended: bool,
    pub(super) summary: Option<Summary>,
    pub(super) sums: Option<WindowSums>,
    pub(super) unconverted: Vec<Unconverted>,
    taken: u64,
}

#[derive(Debug, Clone, Copy)]
struct RowRef {
    seq: usize,
    idx: usize,
    meta: Meta,
}

impl Cursor {
    pub(super) fn new(rx: Receiver<Msg>, recycle: std::sync::mpsc::Sender<Batch>) -> Self {
        Cursor {
            rx,
            recycle,
            batches: VecDeque::new(),
            base: 0,
            pos: (0, 0),
            ended: false,
            summary: None,
            sums: None,
            unconverted: Vec::new(),
            taken: 0,
        }
    }

    fn peek(&mut self) -> Option<RowRef> {
        loop {
            let (seq, idx) = self.pos;
            if let Some(b) = self.batches.get(seq - self.base) {
                if let Some(meta) = b.rows.get(idx) {
                    return Some(RowRef {
                        seq,
                        idx,
                        meta: *meta,
                    });
                }
                self.pos = (seq + 1, 0);
                continue;
            }
            if self.ended {
                return None;
            }
            match self.rx.recv() {
                Ok(Msg::Batch(mut b)) => {
                    self.unconverted.append(&mut b.unconverted);
                    self.batches.push_back(b);
                }
                Ok(Msg::Sums(sums)) => self.sums = Some(sums),
                Ok(Msg::End(s)) => {
                    self.summary = Some(s);
                    self.ended = true;
                }
                Err(_) => self.ended = true,
            }
        }
    }

    fn key(&self, r: &RowRef) -> &[u8] {
        self.batches[r.seq - self.base].bytes(r.meta.key)
    }

    fn tuple(&self, r: &RowRef) -> &[u8] {
        self.batches[r.seq - self.base].bytes(r.meta.tuple)
    }

    /// Moves rows while their key is at most `bound`, up to `cap` of them, into `out`;
    /// `true` when the cap stopped it with rows at most `bound` left.
    fn take(&mut self, bound: Option<&[u8]>, cap: usize, out: &mut Vec<RowRef>) -> bool {
        while let Some(r) = self.peek() {
            if bound.is_some_and(|b| self.key(&r) > b) {
                return false;
            }
            if out.len() >= cap {
                return true;
            }
            out.push(r);
            self.pos.1 += 1;
            self.taken += 1;
        }
        false
    }

    /// Drops the batches before the next row.
    fn release(&mut self) {
        while self.base < self.pos.0 {
            let Some(b) = self.batches.pop_front() else {
                break;
            };
            let _ = self.recycle.send(b);
            self.base += 1;
        }
    }

    /// The next message if one is waiting (`block`: waits a little for one).
    fn poll(&mut self, block: bool) -> Option<Batch> {
        if self.ended {
            return None;
        }
        let msg = if block {
            match self.rx.recv_timeout(std::time::Duration::from_millis(2)) {
                Ok(m) => Ok(m),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => return None,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(()),
            }
        } else {
            match self.rx.try_recv() {
                Ok(m) => Ok(m),
                Err(std::sync::mpsc::TryRecvError::Empty) => return None,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => Err(()),
            }
        };
        match msg {
            Ok(Msg::Batch(mut b)) => {
                self.unconverted.append(&mut b.unconverted);
                Some(b)
            }
            Ok(Msg::Sums(sums)) => {
                self.sums = Some(sums);
                None
            }
            Ok(Msg::End(s)) => {
                self.summary = Some(s);
                self.ended = true;
                None
            }
            Err(()) => {
                self.ended = true;
                None
            }
        }
    }
}

/// Reads both streams to their ends as batches arrive, whichever side they come from.
pub(super) fn drain_both(src: &mut Cursor, tgt: &mut Cursor, mut on: impl FnMut(Side, &Batch)) {
    while !(src.ended && tgt.ended) {
        let mut progress = false;
        while let Some(b) = src.poll(false) {
            on(Side::Source, &b);
            let _ = src.recycle.send(b);
            progress = true;
        }
        while let Some(b) = tgt.poll(false) {
            on(Side::Target, &b);
            let _ = tgt.recycle.send(b);
            progress = true;
        }
        if !progress {
            let (waiting, side) = if src.ended {
                (&mut *tgt, Side::Target)
            } else {
                (&mut *src, Side::Source)
            };
            if let Some(b) = waiting.poll(true) {
                on(side, &b);
                let _ = waiting.recycle.send(b);
            }
        }
    }
}

/// Compares one key range: sums of row hashes, then bisection down to the differing rows.
fn compare_range(src: &Cursor, s: &[RowRef], tgt: &Cursor, t: &[RowRef], report: &mut Report<'_>) {
    let sum = |rows: &[RowRef]| rows.iter().fold(0u64, |a, r| a.wrapping_add(r.meta.hash));
    if s.len() == t.len() && sum(s) == sum(t) {
        return;
    }
    let prefix = |rows: &[RowRef]| {
        let mut p = Vec::with_capacity(rows.len() + 1);
        p.push(0u64);
        let mut acc = 0u64;
        for r in rows {
            acc = acc.wrapping_add(r.meta.hash);
            p.push(acc);
        }
        p
    };
    let (ps, pt) = (prefix(s), prefix(t));
    let mut stack: Vec<(Range<usize>, Range<usize>)> = vec![(0..s.len(), 0..t.len())];
    while let Some((sr, tr)) = stack.pop() {
        let hs = ps[sr.end].wrapping_sub(ps[sr.start]);
        let ht = pt[tr.end].wrapping_sub(pt[tr.start]);
        if sr.len() == tr.len() && hs == ht {
            continue;
        }
        if sr.len() + tr.len() <= LEAF || sr.is_empty() || tr.is_empty() {
            compare_rows(src, &s[sr], tgt, &t[tr], report);
            continue;
        }
        // Split both sides at the middle key of the longer one.
        let pivot: &[u8] = if sr.len() >= tr.len() {
            src.key(&s[sr.start + (sr.len() - 1) / 2])
        } else {
            tgt.key(&t[tr.start + (tr.len() - 1) / 2])
        };
        let sm = sr.start + s[sr.clone()].partition_point(|r| src.key(r) <= pivot);
        let tm = tr.start + t[tr.clone()].partition_point(|r| tgt.key(r) <= pivot);
        stack.push((sm..sr.end, tm..tr.end));
        stack.push((sr.start..sm, tr.start..tm));
    }
}

/// Row-by-row merge of a small range.
fn compare_rows(src: &Cursor, s: &[RowRef], tgt: &Cursor, t: &[RowRef], report: &mut Report<'_>) {
    let (mut i, mut j) = (0, 0);
    while i < s.len() || j < t.len() {
        let order = match (s.get(i), t.get(j)) {
            (Some(a), Some(b)) => src.key(a).cmp(tgt.key(b)),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                report.one_sided(src.tuple(&s[i]), DifferenceKind::MissingInTarget);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                report.one_sided(tgt.tuple(&t[j]), DifferenceKind::ExtraInTarget);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                if s[i].meta.hash != t[j].meta.hash {
                    report.changed(src.tuple(&s[i]), tgt.tuple(&t[j]));
                }
                i += 1;
                j += 1;
            }
        }
    }
}

/// The ordered comparison: both sides cut into the same key ranges, each range compared.
/// Returns the rows compared and whether the row limit ended the source.
pub(super) fn merge_ordered(
    mut src: Cursor,
    mut tgt: Cursor,
    windows: Option<&KeyWindows>,
    report: &mut Report<'_>,
) -> (u64, bool) {
    let mut s_rows: Vec<RowRef> = Vec::new();
    let mut t_rows: Vec<RowRef> = Vec::new();
    let mut bound: Vec<u8> = Vec::new();
    // Set when the row limit ends the source: its last key ends the comparison.
    let mut final_bound: Option<Vec<u8>> = None;
    loop {
        s_rows.clear();
        t_rows.clear();
        let Some(first) = src.peek() else {
            // The source is done: the rest of the target (up to the limit's last
            // key) is extra.
            let limited = src.summary.is_some_and(|s| s.limited);
            if limited && final_bound.is_none() {
                break;
            }
            let more = tgt.take(final_bound.as_deref(), CHUNK, &mut t_rows);
            compare_range(&src, &s_rows, &tgt, &t_rows, report);
            tgt.release();
            if !more {
                break;
            }
            continue;
        };
        bound.clear();
        match windows {
            Some(w) => {
                let end = w.end_of(integer_of_key(src.key(&first)));
                bound.extend_from_slice(&integer_key(end));
                if src.take(Some(&bound), CAP, &mut s_rows) {
                    bound.clear();
                    bound.extend_from_slice(src.key(&s_rows[s_rows.len() - 1]));
                }
            }
            None => {
                src.take(None, CHUNK, &mut s_rows);
                bound.extend_from_slice(src.key(&s_rows[s_rows.len() - 1]));
            }
        }
        if src.peek().is_none() && src.summary.is_some_and(|s| s.limited) {
            bound.clear();
            bound.extend_from_slice(src.key(&s_rows[s_rows.len() - 1]));
            final_bound = Some(bound.clone());
        }
        if tgt.take(Some(&bound), CAP, &mut t_rows) {
            // Too many target rows in range: end it at the last one taken, and
            // leave the source rows after that for the next range.
            let last = tgt.key(&t_rows[t_rows.len() - 1]).to_vec();
            let keep = s_rows.partition_point(|r| src.key(r) <= last.as_slice());
            if let Some(r) = s_rows.get(keep) {
                src.pos = (r.seq, r.idx);
                src.taken -= (s_rows.len() - keep) as u64;
                s_rows.truncate(keep);
            }
        }
        compare_range(&src, &s_rows, &tgt, &t_rows, report);
        src.release();
        tgt.release();
    }
    report_unconverted(report, std::mem::take(&mut src.unconverted));
    (
        src.taken.max(tgt.taken),
        src.summary.is_some_and(|s| s.limited),
    )
}

//! Batches of canonical rows: what a reading thread sends the comparison, and the producer
//! that turns one side's tuples into them (or only sums their hashes, in a quick pass).

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{Receiver, SyncSender};

use serde_json::Value as Json;
use xxhash_rust::xxh3::xxh3_64;

use super::canonical::{field, integer_of_key, Canon};
use super::display::display;
use super::layout::Layout;
use super::windows::KeyWindows;
use super::{CompareError, Side};

/// Rows and bytes per batch handed from a reading thread to the comparison.
const BATCH_ROWS: usize = 4096;
const BATCH_BYTES: usize = 1 << 20;

/// One row in a batch.
#[derive(Debug, Clone, Copy)]
pub(super) struct Meta {
    pub(super) key: (u32, u32),
    pub(super) tuple: (u32, u32),
    /// Hash of the key (of the whole row for multisets): what samples and matches by hash.
    pub(super) khash: u64,
    /// Hash of the whole row, canonically.
    pub(super) hash: u64,
}

/// A source row that the plan's conversion refuses and that the run did not reject.
pub(super) struct Unconverted {
    pub(super) key: Json,
    pub(super) column: String,
    pub(super) value: String,
    pub(super) reason: String,
}

#[derive(Default)]
pub(super) struct Batch {
    pub(super) data: Vec<u8>,
    pub(super) rows: Vec<Meta>,
    pub(super) unconverted: Vec<Unconverted>,
}

impl Batch {
    fn with_capacity() -> Batch {
        Batch {
            data: Vec::with_capacity(BATCH_BYTES + BATCH_BYTES / 8),
            rows: Vec::with_capacity(BATCH_ROWS),
            unconverted: Vec::new(),
        }
    }

    pub(super) fn bytes(&self, at: (u32, u32)) -> &[u8] {
        &self.data[at.0 as usize..(at.0 + at.1) as usize]
    }
}

/// How a side ended.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Summary {
    /// Whether the row limit stopped the source.
    pub(super) limited: bool,
}

pub(super) enum Msg {
    Batch(Batch),
    /// A quick pass's sums, sent just before `End`.
    Sums(WindowSums),
    End(Summary),
}

/// Row counts and sums of row hashes per value window of a single integer key: what a quick
/// pass compares. Sums do not depend on the order rows come in, so neither side is sorted.
#[derive(Debug, Default, PartialEq)]
pub(super) struct WindowSums {
    /// Window index (`None` for a NULL key) → (rows, wrapping sum of row hashes).
    windows: HashMap<Option<i64>, (u64, u64)>,
    /// The window being added to, kept out of the map while rows stay in it.
    current: Option<(Option<i64>, u64, u64)>,
}

impl WindowSums {
    fn add(&mut self, window: Option<i64>, hash: u64) {
        match &mut self.current {
            Some((w, rows, sum)) if *w == window => {
                *rows += 1;
                *sum = sum.wrapping_add(hash);
            }
            current => {
                let left = current.replace((window, 1, hash));
                self.keep(left);
            }
        }
    }

    /// Adds a window's running count and sum to the map.
    fn keep(&mut self, running: Option<(Option<i64>, u64, u64)>) {
        if let Some((w, rows, sum)) = running {
            let entry = self.windows.entry(w).or_insert((0, 0));
            entry.0 += rows;
            entry.1 = entry.1.wrapping_add(sum);
        }
    }

    pub(super) fn into_windows(mut self) -> HashMap<Option<i64>, (u64, u64)> {
        let running = self.current.take();
        self.keep(running);
        self.windows
    }
}

/// Why a reading thread stopped early.
pub(super) enum Stop {
    Error(CompareError),
    /// Keys out of order on one side: the ordered comparison cannot go on.
    Unordered(String),
}

/// What one side of one pass does with its rows.
#[derive(Default)]
pub(super) struct PassConfig<'a> {
    /// Check that keys strictly increase.
    pub(super) ordered: bool,
    /// Hash the key (else the row hash stands for it).
    pub(super) keyed: bool,
    /// Send hashes only, no bytes.
    pub(super) light: bool,
    /// Keep rows whose `khash` is below this (a sample).
    pub(super) sample: Option<u128>,
    /// Keep only rows whose `khash` is in this set.
    pub(super) wanted: Option<HashSet<u64>>,
    /// Report source rows the conversion refuses.
    pub(super) report_unconverted: bool,
    /// Only add each row's hash to its group's sum (a quick pass).
    pub(super) sums: Option<Grouping<'a>>,
}

/// How a quick pass groups rows before summing their hashes.
#[derive(Clone, Copy)]
pub(super) enum Grouping<'a> {
    /// By value window of a single integer key: a window that differs can be read again.
    KeyWindows(&'a KeyWindows),
    /// The whole table as one group: any key, or none (then the sum is of a multiset).
    Whole,
}

/// Turns one side's tuples into batches and sends them.
pub(super) struct Producer<'a> {
    layout: &'a Layout,
    pub(super) config: &'a PassConfig<'a>,
    side: Side,
    tx: SyncSender<Msg>,
    /// Batches the comparison is done with, to fill again.
    recycled: Receiver<Batch>,
    pub(super) batch: Batch,
    pub(super) canon: Canon,
    key: Vec<u8>,
    last_key: Option<Vec<u8>>,
    sums: WindowSums,
    /// The comparison stopped listening.
    pub(super) hung_up: bool,
}

impl<'a> Producer<'a> {
    pub(super) fn new(
        layout: &'a Layout,
        config: &'a PassConfig<'a>,
        side: Side,
        channels: (SyncSender<Msg>, Receiver<Batch>),
    ) -> Self {
        Producer {
            layout,
            config,
            side,
            tx: channels.0,
            recycled: channels.1,
            batch: Batch::with_capacity(),
            canon: Canon {
                side,
                spans: Vec::new(),
                scratch: Vec::new(),
                field: Vec::new(),
            },
            key: Vec::new(),
            last_key: None,
            sums: WindowSums::default(),
            hung_up: false,
        }
    }

    /// Adds a tuple, whose fields are in `canon.spans`, to its window's sum (a quick pass:
    /// the tuple is not kept).
    pub(super) fn sum(&mut self, grouping: Grouping<'_>, tuple: &[u8]) {
        self.key.clear();
        let hash = self.canon.row(self.layout, tuple, &mut self.key);
        if let Some(t) = self.config.sample {
            // The same rows as the other passes sample: by key, or by row without one.
            let khash = if self.config.keyed {
                xxh3_64(&self.key)
            } else {
                hash
            };
            if u128::from(khash) >= t {
                return;
            }
        }
        let window = match grouping {
            Grouping::KeyWindows(windows) => {
                (self.key.first() == Some(&1)).then(|| windows.window_of(integer_of_key(&self.key)))
            }
            Grouping::Whole => Some(0),
        };
        self.sums.add(window, hash);
    }

    /// Takes the tuple at `batch.data[start..]`, whose fields are in `canon.spans`.
    pub(super) fn push(&mut self, start: usize) -> Result<(), Stop> {
        self.key.clear();
        let hash = self
            .canon
            .row(self.layout, &self.batch.data[start..], &mut self.key);
        if self.config.ordered {
            if let Some(last) = &self.last_key {
                if self.key.as_slice() <= last.as_slice() {
                    return Err(Stop::Unordered(format!(
                        "the {} returns key {} after {}",
                        self.side,
                        self.show_key(&self.batch.data[start..]),
                        if self.key == *last {
                            "the same key"
                        } else {
                            "a greater one"
                        }
                    )));
                }
            }
            match &mut self.last_key {
                Some(last) => {
                    last.clear();
                    last.extend_from_slice(&self.key);
                }
                None => self.last_key = Some(self.key.clone()),
            }
        }
        let config = self.config;
        let khash = if !config.keyed {
            hash
        } else if config.light || config.sample.is_some() || config.wanted.is_some() {
            xxh3_64(&self.key)
        } else {
            0
        };
        let keep = self.config.sample.is_none_or(|t| u128::from(khash) < t)
            && self
                .config
                .wanted
                .as_ref()
                .is_none_or(|w| w.contains(&khash));
        if !keep {
            self.batch.data.truncate(start);
            return Ok(());
        }

        let (key, tuple) = if self.config.light {
            self.batch.data.truncate(start);
            ((0, 0), (0, 0))
        } else {
            let tuple = (start as u32, (self.batch.data.len() - start) as u32);
            let key_at = self.batch.data.len() as u32;
            self.batch.data.extend_from_slice(&self.key);
            ((key_at, self.key.len() as u32), tuple)
        };
        self.batch.rows.push(Meta {
            key,
            tuple,
            khash,
            hash,
        });
        if self.batch.rows.len() >= BATCH_ROWS || self.batch.data.len() >= BATCH_BYTES {
            self.flush();
        }
        Ok(())
    }

    fn show_key(&self, tuple: &[u8]) -> String {
        let layout = self.layout;
        let pairs: Vec<String> = layout
            .key
            .iter()
            .map(|&k| {
                let c = &layout.columns[k];
                format!(
                    "{}={}",
                    c.source,
                    display(c.ty, field(tuple, self.canon.spans[k]))
                )
            })
            .collect();
        pairs.join(", ")
    }

    fn flush(&mut self) {
        if self.hung_up || (self.batch.rows.is_empty() && self.batch.unconverted.is_empty()) {
            return;
        }
        let next = match self.recycled.try_recv() {
            Ok(mut b) => {
                b.data.clear();
                b.rows.clear();
                b.unconverted.clear();
                b
            }
            Err(_) => Batch::with_capacity(),
        };
        let batch = std::mem::replace(&mut self.batch, next);
        if self.tx.send(Msg::Batch(batch)).is_err() {
            self.hung_up = true;
        }
    }

    pub(super) fn finish(mut self, summary: Summary) {
        self.flush();
        if self.config.sums.is_some() && !self.hung_up {
            let sums = std::mem::take(&mut self.sums);
            self.hung_up = self.tx.send(Msg::Sums(sums)).is_err();
        }
        if !self.hung_up {
            let _ = self.tx.send(Msg::End(summary));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_sums_do_not_depend_on_row_order() {
        let rows = [
            (Some(0), 11u64),
            (Some(0), 7),
            (Some(3), u64::MAX),
            (None, 5),
            (Some(0), 2),
        ];
        let mut forward = WindowSums::default();
        rows.iter().for_each(|(w, h)| forward.add(*w, *h));
        let mut backward = WindowSums::default();
        rows.iter().rev().for_each(|(w, h)| backward.add(*w, *h));
        let forward = forward.into_windows();
        assert_eq!(forward, backward.into_windows());
        assert_eq!(forward[&Some(0)], (3, 20));
        assert_eq!(forward[&Some(3)], (1, u64::MAX));
        assert_eq!(forward[&None], (1, 5));
    }
}

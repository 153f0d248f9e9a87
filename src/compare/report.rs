//! Differences found so far: rows on one side only, columns that differ and source rows the
//! conversion refused, each named by its key and shown as the target type prints it.

use std::fmt::Write as _;

use serde_json::Value as Json;

use super::batches::Unconverted;
use super::canonical::{canonical, field, scan_tuple, Span};
use super::display::{display, json_value};
use super::layout::Layout;
use super::MAX_LISTED;
use super::{DifferenceKind, RowDifference};

/// Characters of a whole row shown in a difference.
const ROW_TEXT_CHARS: usize = 500;

/// Differences found so far.
pub(super) struct Report<'a> {
    layout: &'a Layout,
    /// Differences listed; the rest are only counted.
    limit: usize,
    pub(super) differences: Vec<RowDifference>,
    pub(super) total: u64,
    bufs: (Vec<u8>, Vec<u8>),
    spans: (Vec<Span>, Vec<Span>),
}

impl<'a> Report<'a> {
    pub(super) fn new(layout: &'a Layout, list_all: bool) -> Self {
        Report {
            layout,
            limit: if list_all { usize::MAX } else { MAX_LISTED },
            differences: Vec::new(),
            total: 0,
            bufs: (Vec::new(), Vec::new()),
            spans: (Vec::new(), Vec::new()),
        }
    }

    /// Forgets what a pass that could not finish found.
    pub(super) fn reset(&mut self) {
        self.differences.clear();
        self.total = 0;
    }

    pub(super) fn full(&self) -> bool {
        self.differences.len() >= self.limit
    }

    pub(super) fn limit(&self) -> usize {
        self.limit
    }

    pub(super) fn add(&mut self, d: RowDifference) {
        self.total += 1;
        if !self.full() {
            self.differences.push(d);
        }
    }

    fn key_json(&self, tuple: &[u8], spans: &[Span]) -> Json {
        let l = self.layout;
        Json::Object(
            l.key
                .iter()
                .map(|&k| {
                    let c = &l.columns[k];
                    (c.source.clone(), json_value(c.ty, field(tuple, spans[k])))
                })
                .collect(),
        )
    }

    pub(super) fn content_json(&self, tuple: &[u8], spans: &[Span]) -> Json {
        Json::Object(
            self.layout
                .columns
                .iter()
                .zip(spans)
                .map(|(c, s)| (c.source.clone(), json_value(c.ty, field(tuple, *s))))
                .collect(),
        )
    }

    fn row_text(&self, tuple: &[u8], spans: &[Span]) -> String {
        let mut s = String::new();
        for (i, (c, span)) in self.layout.columns.iter().zip(spans).enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            let _ = write!(s, "{}={}", c.source, display(c.ty, field(tuple, *span)));
            if s.chars().count() > ROW_TEXT_CHARS {
                let cut: String = s.chars().take(ROW_TEXT_CHARS).collect();
                return cut + "…";
            }
        }
        s
    }

    /// A row on one side only.
    pub(super) fn one_sided(&mut self, tuple: &[u8], kind: DifferenceKind) {
        let columns = self.layout.columns.len();
        let mut spans = std::mem::take(&mut self.spans.0);
        let parsed = scan_tuple(tuple, columns, &mut spans)
            .ok()
            .flatten()
            .is_some();
        if self.full() || !parsed {
            self.total += 1;
        } else {
            let key = self.key_json(tuple, &spans);
            let text = self.row_text(tuple, &spans);
            let (source_value, target_value) = match kind {
                DifferenceKind::MissingInTarget => (Some(text), None),
                _ => (None, Some(text)),
            };
            self.add(RowDifference {
                table: self.layout.table.clone(),
                key,
                column: None,
                source_value,
                target_value,
                kind,
            });
        }
        self.spans.0 = spans;
    }

    /// The same key on both sides with different content: one difference per column.
    pub(super) fn changed(&mut self, source: &[u8], target: &[u8]) {
        let columns = self.layout.columns.len();
        let (mut ss, mut ts) = std::mem::take(&mut self.spans);
        let (mut bs, mut bt) = std::mem::take(&mut self.bufs);
        let parsed = scan_tuple(source, columns, &mut ss)
            .ok()
            .flatten()
            .is_some()
            && scan_tuple(target, columns, &mut ts)
                .ok()
                .flatten()
                .is_some();
        if parsed {
            let key = self.key_json(source, &ss);
            for (i, c) in self.layout.columns.iter().enumerate() {
                let fs = field(source, ss[i]);
                let ft = field(target, ts[i]);
                let same = match (fs, ft) {
                    (None, None) => true,
                    (Some(a), Some(b)) => {
                        canonical(c.ty, a, &mut bs) == canonical(c.ty, b, &mut bt)
                    }
                    _ => false,
                };
                if same {
                    continue;
                }
                self.total += 1;
                if self.differences.len() < self.limit {
                    self.differences.push(RowDifference {
                        table: self.layout.table.clone(),
                        key: key.clone(),
                        column: Some(c.source.clone()),
                        source_value: Some(display(c.ty, fs)),
                        target_value: Some(display(c.ty, ft)),
                        kind: DifferenceKind::Changed,
                    });
                }
            }
        } else {
            self.total += 1;
        }
        self.spans = (ss, ts);
        self.bufs = (bs, bt);
    }
}

/// Source rows the conversion refused that the run did not reject: missing in the target.
pub(super) fn report_unconverted(report: &mut Report<'_>, unconverted: Vec<Unconverted>) {
    for u in unconverted {
        report.add(RowDifference {
            table: report.layout.table.clone(),
            key: u.key,
            column: Some(u.column),
            source_value: Some(format!("{} (cannot be converted: {})", u.value, u.reason)),
            target_value: None,
            kind: DifferenceKind::MissingInTarget,
        });
    }
}

//! Content checksums: every row of a table compared across engines, after the plan's conversion.
//!
//! Each source row goes through the copy engine's [`Converter`], the very code that loaded it,
//! and comes out as the PostgreSQL binary COPY tuple the load sent. Each target row is read back
//! with `COPY (SELECT …) TO STDOUT (FORMAT binary)`. Both are then one canonical form: field
//! bytes, with the three types whose binary form legitimately changes on the way in normalised
//! on both sides (`numeric`: display scale and zero digit groups; `json`/`jsonb`: key order,
//! duplicates, whitespace, escapes and number spelling; `char(n)`: trailing blanks). So SQLite
//! `1`/`0` and PostgreSQL `true`/`false`, epoch integers and `timestamptz`, REAL and
//! `numeric(p,s)` compare exactly as the plan converts them.
//!
//! First a quick pass: both sides read as they lie, each row hashed (XXH3) and the hashes summed
//! per value window of a single integer key, or over the whole table otherwise. Sums do not
//! depend on row order, so nothing is sorted and no row is kept. When every sum and count
//! matches, that is the result; most tables end here.
//!
//! Otherwise the rows are found. Tables with a primary key are read in key order on both
//! sides (only the windows that differed, for an integer key), streamed (a batch of rows
//! buffered, not the table) and cut into key ranges: value ranges for a single integer key,
//! row-count chunks otherwise. Each range's sums are compared; a range whose sums differ is
//! bisected by key until the exact rows are found, and the columns that differ are named with
//! both values. If the keys do not sort the same way on both sides (a transformed key, mixed
//! storage classes), the table is compared by key hash in memory instead. Tables without a
//! primary key are compared as multisets of row hashes.
//!
//! The source is read on a thread of its own while the target streams in, so the comparison
//! runs at the speed of the slower side.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::io::BufRead;
use std::ops::Range;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use diesel::connection::{DefaultLoadingMode, SimpleConnection};
use diesel::sql_types::{BigInt, Bool, Text};
use diesel::{PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};
use serde_json::Value as Json;
use xxhash_rust::xxh3::xxh3_64;

use super::{CheckError, ChecksumOptions, ChecksumOutcome, DifferenceKind, RowDifference, Side};
use crate::commands::Prepared;
use crate::copy::{
    copy_out, select_columns, show_value, value_json, Converter, SourceRow, SqlValue,
};
use crate::dialect::quote_ident;
use crate::mapping::target_types::TypeFamily;
use crate::mapping::TargetType;
use crate::resolve::ResolvedTable;
use crate::transform::builtins::civil_from_days;

/// Rows in one key range (row-count chunks; the target value of integer windows).
const CHUNK: usize = 16_384;
/// The most rows one side may hold in a range before the range is cut short.
const CAP: usize = 4 * CHUNK;
/// A bisected range at most this many rows (both sides) is compared row by row.
const LEAF: usize = 8;
/// Rows and bytes per batch handed from a reading thread to the comparison.
const BATCH_ROWS: usize = 4096;
const BATCH_BYTES: usize = 1 << 20;
/// Batches queued per side.
const QUEUE: usize = 8;
/// Differences listed per table; the rest are counted.
const MAX_LISTED: usize = 1000;
/// Characters of a whole row shown in a difference.
const ROW_TEXT_CHARS: usize = 500;

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
const PG_EPOCH_DAYS: i64 = 10_957;

/// Compares the content of one table in `source` and `target`, as the plan converts it.
///
/// Reads the source with the `load:<table>` step's SELECT (so with the table's filter) and the
/// target table in `prepared.resolved.schema`; each side is read in one statement per pass (a
/// second pass only when there are differences to show), so the caller should hold a read
/// transaction on the source for a consistent snapshot. Rows the newest run into the schema
/// rejected (`decant.decant_rejects`) are left out of the source side.
///
/// Differences name the table, columns and key columns by their source names; the key is
/// `{"column": value, …}` (for a table without a primary key, the whole row); values are shown
/// as the target type prints them. At most 1000 differences are listed; `note` says when more
/// were found, and when a row limit, a sample or a fallback comparison was used.
pub fn checksum_table(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
    prepared: &Prepared,
    table: &ResolvedTable,
    options: &ChecksumOptions,
) -> Result<ChecksumOutcome, CheckError> {
    let check = format!("checksums:{}", table.source);
    let value_error = |message: String| CheckError::Value {
        check: check.clone(),
        message,
    };
    if let Some(rate) = options.sample_rate {
        if !(rate > 0.0 && rate <= 1.0) {
            return Err(value_error(format!(
                "the sampling rate must be above 0 and at most 1, not {rate}"
            )));
        }
    }
    if options.row_limit == Some(0) {
        return Err(value_error("the row limit must be at least 1".to_owned()));
    }
    Converter::new(table).map_err(|u| {
        value_error(format!(
            "column `{}` has type `{}`, which cannot be compared",
            u.column, u.type_sql
        ))
    })?;
    let layout = Layout::new(table);
    let base_sql = base_select(prepared, table);
    let rejects = load_rejects(target, &check, &prepared.resolved.schema, table)?;
    let job = Job {
        check: &check,
        table,
        layout: &layout,
        base_sql: &base_sql,
        schema: &prepared.resolved.schema,
        options,
        rejects: &rejects,
    };
    let mut notes = Vec::new();
    let mut report = Report::new(&layout);
    // Without a single integer key the quick pass sums the whole table: when it matches, that
    // is all; when not, the comparison below finds the rows. (With one, `ordered` does it by
    // key window.) A row limit needs rows in key order, so it goes straight to the comparison.
    let integer_windows = matches!(layout.mode, Mode::Ordered) && layout.integer_key().is_some();
    let mut equal_rows = None;
    if !integer_windows && options.row_limit.is_none() {
        match job.quick(source, target, Grouping::Whole, None)? {
            Ok(q) if q.differing.is_empty() => {
                report_unconverted(&mut report, q.unconverted);
                let by = match &layout.mode {
                    Mode::Multiset(why) => {
                        notes.push(format!("{why}: compared as multisets of whole rows"));
                        "row"
                    }
                    _ => "key",
                };
                job.sample_note(&mut notes, by);
                equal_rows = Some(q.rows);
            }
            _ => rejects
                .excluded
                .store(0, std::sync::atomic::Ordering::Relaxed),
        }
    }
    let rows_compared = match (equal_rows, layout.mode.clone()) {
        (Some(rows), _) => rows,
        (None, mode) => match mode {
            Mode::Ordered => match job.ordered(source, target, &mut report, &mut notes)? {
                Ok(rows) => rows,
                Err(why) => {
                    notes.clear();
                    report.reset();
                    rejects
                        .excluded
                        .store(0, std::sync::atomic::Ordering::Relaxed);
                    notes.push(format!(
                    "the keys do not sort the same way on both sides ({why}), so rows were matched by key hash in memory"
                ));
                    job.hashed(source, target, &mut report, &mut notes)?
                }
            },
            Mode::Hashed(why) => {
                notes.push(format!("rows were matched by key hash in memory: {why}"));
                job.hashed(source, target, &mut report, &mut notes)?
            }
            Mode::Multiset(why) => {
                notes.push(format!("{why}: compared as multisets of whole rows"));
                job.multiset(source, target, &mut report, &mut notes)?
            }
        },
    };
    rejects.excluded_note(&mut notes);
    if report.total > report.differences.len() as u64 {
        notes.push(format!(
            "{} differences found; the first {} are listed",
            report.total,
            report.differences.len()
        ));
    }
    Ok(ChecksumOutcome {
        rows_compared,
        differences: report.differences,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    })
}

// ---------------------------------------------------------------------------------------------
// The table's layout: column types, the key, and how the two sides are compared.

/// A target column's type as the comparison treats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    Bool,
    Text,
    /// `char(n)`: PostgreSQL pads with blanks, which carry no meaning.
    Bpchar,
    Bytea,
    Date,
    Time,
    TimeTz,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
    Json,
    Jsonb,
    Other,
}

impl Ty {
    fn of(t: &TargetType) -> Ty {
        match t.family() {
            TypeFamily::Integer => match t.base.as_str() {
                "smallint" => Ty::Int2,
                "integer" => Ty::Int4,
                _ => Ty::Int8,
            },
            TypeFamily::Float if t.base == "real" => Ty::Float4,
            TypeFamily::Float => Ty::Float8,
            TypeFamily::Numeric => Ty::Numeric,
            TypeFamily::Boolean => Ty::Bool,
            TypeFamily::Text if t.base == "char" => Ty::Bpchar,
            TypeFamily::Text => Ty::Text,
            TypeFamily::Bytes => Ty::Bytea,
            TypeFamily::Date => Ty::Date,
            TypeFamily::Time if t.base == "timetz" => Ty::TimeTz,
            TypeFamily::Time => Ty::Time,
            TypeFamily::Timestamp => Ty::Timestamp,
            TypeFamily::TimestampTz => Ty::TimestampTz,
            TypeFamily::Interval => Ty::Interval,
            TypeFamily::Uuid => Ty::Uuid,
            TypeFamily::Json if t.base == "jsonb" => Ty::Jsonb,
            TypeFamily::Json => Ty::Json,
            TypeFamily::Other => Ty::Other,
        }
    }

    /// Whether equal values may have different binary forms.
    fn normalised(self) -> bool {
        matches!(self, Ty::Numeric | Ty::Bpchar | Ty::Json | Ty::Jsonb)
    }

    /// How a key of this type sorts in both engines, if it does the same way.
    fn key_order(self) -> Option<KeyOrder> {
        match self {
            Ty::Int2
            | Ty::Int4
            | Ty::Int8
            | Ty::Date
            | Ty::Time
            | Ty::Timestamp
            | Ty::TimestampTz => Some(KeyOrder::Integer),
            Ty::Text | Ty::Bpchar => Some(KeyOrder::Text),
            Ty::Bytea | Ty::Uuid | Ty::Bool => Some(KeyOrder::Bytes),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyOrder {
    /// A signed integer (also dates, times and timestamps): numeric order.
    Integer,
    /// Text in byte order (`COLLATE "C"` in PostgreSQL, `BINARY` in SQLite).
    Text,
    /// Bytes in byte order.
    Bytes,
}

/// How a table is compared.
#[derive(Debug, Clone)]
enum Mode {
    /// Both sides read in key order and compared range by range.
    Ordered,
    /// Matched by key hash in memory, with the reason.
    Hashed(String),
    /// Compared as multisets of row hashes, with the reason.
    Multiset(String),
}

struct Col {
    source: String,
    target: String,
    ty: Ty,
    /// Whether the key is carried as it is (no transform, an integer or text type).
    plain: bool,
}

struct Layout {
    table: String,
    columns: Vec<Col>,
    /// The key columns, as indexes into `columns`, in the source key's order.
    key: Vec<usize>,
    /// Any column whose binary form needs normalising.
    normalise: bool,
    mode: Mode,
}

impl Layout {
    fn new(table: &ResolvedTable) -> Layout {
        let columns: Vec<Col> = table
            .copied_columns()
            .map(|c| Col {
                source: c.source.clone(),
                target: c.target.clone(),
                ty: Ty::of(&c.target_type),
                plain: c.transform.is_none(),
            })
            .collect();
        let normalise = columns.iter().any(|c| c.ty.normalised());
        let mut key = Vec::new();
        let mut mode = Mode::Ordered;
        if table.key_columns.is_empty() {
            mode = Mode::Multiset("the table has no primary key".to_owned());
        }
        for name in &table.key_columns {
            match columns
                .iter()
                .position(|c| c.source.eq_ignore_ascii_case(name))
            {
                Some(i) => key.push(i),
                None => {
                    mode = Mode::Multiset(format!("key column `{name}` is not copied"));
                    key.clear();
                    break;
                }
            }
        }
        if matches!(mode, Mode::Ordered) {
            if let Some(&i) = key.iter().find(|&&i| columns[i].ty.key_order().is_none()) {
                mode = Mode::Hashed(format!(
                    "key column `{}` has a type whose order is not compared",
                    columns[i].source
                ));
            }
        }
        Layout {
            table: table.source.clone(),
            columns,
            key,
            normalise,
            mode,
        }
    }

    /// The single integer key carried as it is, for value-range windows.
    fn integer_key(&self) -> Option<&Col> {
        match self.key.as_slice() {
            [i] => {
                let c = &self.columns[*i];
                (c.plain && matches!(c.ty, Ty::Int2 | Ty::Int4 | Ty::Int8)).then_some(c)
            }
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Binary tuples and their canonical form.

/// Where one field is in a tuple: start and length, length -1 for NULL.
type Span = (usize, i32);

/// Reads the field positions of a tuple (`i16` count, then `i32` length and bytes per field);
/// returns the tuple's length, `Ok(None)` when `data` ends before it does.
fn scan_tuple(data: &[u8], columns: usize, spans: &mut Vec<Span>) -> Result<Option<usize>, String> {
    spans.clear();
    let Some(count) = data.get(..2) else {
        return Ok(None);
    };
    let count = i16::from_be_bytes([count[0], count[1]]);
    if count as isize != columns as isize {
        return Err(format!(
            "a row has {count} fields where {columns} columns are compared"
        ));
    }
    let mut at = 2;
    for _ in 0..columns {
        let Some(len) = data.get(at..at + 4) else {
            return Ok(None);
        };
        let len = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        at += 4;
        if len >= 0 {
            if data.len() < at + len as usize {
                return Ok(None);
            }
            spans.push((at, len));
            at += len as usize;
        } else {
            spans.push((at, -1));
        }
    }
    Ok(Some(at))
}

fn field(tuple: &[u8], span: Span) -> Option<&[u8]> {
    (span.1 >= 0).then(|| &tuple[span.0..span.0 + span.1 as usize])
}

/// The canonical bytes of a field: `raw` itself, or its normal form written to `buf`.
fn canonical<'a>(ty: Ty, raw: &'a [u8], buf: &'a mut Vec<u8>) -> &'a [u8] {
    match ty {
        Ty::Numeric => {
            buf.clear();
            if canonical_numeric(raw, buf) {
                buf
            } else {
                raw
            }
        }
        Ty::Bpchar => {
            let end = raw.iter().rposition(|b| *b != b' ').map_or(0, |i| i + 1);
            &raw[..end]
        }
        Ty::Json | Ty::Jsonb => {
            let text = if ty == Ty::Jsonb && raw.first() == Some(&1) {
                &raw[1..]
            } else {
                raw
            };
            buf.clear();
            if canonical_json(text, buf) {
                buf
            } else {
                raw
            }
        }
        _ => raw,
    }
}

/// `numeric` without its display scale and zero digit groups: sign, weight, digits.
fn canonical_numeric(raw: &[u8], out: &mut Vec<u8>) -> bool {
    if raw.len() < 8 {
        return false;
    }
    let u16_at = |i: usize| u16::from_be_bytes([raw[i], raw[i + 1]]);
    let n = u16_at(0) as usize;
    let weight = u16_at(2) as i16;
    let sign = u16_at(4);
    if raw.len() != 8 + 2 * n {
        return false;
    }
    if sign != 0 && sign != 0x4000 {
        // NaN and the infinities.
        out.extend_from_slice(&sign.to_be_bytes());
        return true;
    }
    let digits = &raw[8..];
    let zero = |g: &[u8]| g == [0, 0];
    let Some(first) = digits.chunks_exact(2).position(|g| !zero(g)) else {
        out.extend_from_slice(&[0, 0, 0, 0]);
        return true;
    };
    let last = digits
        .chunks_exact(2)
        .rposition(|g| !zero(g))
        .unwrap_or(first);
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&(weight - first as i16).to_be_bytes());
    out.extend_from_slice(&digits[2 * first..2 * last + 2]);
    true
}

/// The bytes a field is hashed as on one side: as [`canonical`], except that `json` is
/// hashed as it is (PostgreSQL keeps its text) and `jsonb` in PostgreSQL's own text form,
/// which the target sends and the source is rewritten to. Fields these forms call different
/// are compared exactly ([`canonical`]) before any difference is reported.
fn hashed_form<'a>(ty: Ty, raw: &'a [u8], buf: &'a mut Vec<u8>, side: Side) -> &'a [u8] {
    match ty {
        Ty::Json => raw,
        Ty::Jsonb => {
            let text = raw.strip_prefix(&[1]).unwrap_or(raw);
            if side == Side::Target {
                return text;
            }
            buf.clear();
            if jsonb_text(text, buf) {
                buf
            } else {
                raw
            }
        }
        _ => canonical(ty, raw, buf),
    }
}

/// Per-thread buffers for turning tuples into hashes and keys.
struct Canon {
    side: Side,
    spans: Vec<Span>,
    scratch: Vec<u8>,
    field: Vec<u8>,
}

impl Canon {
    /// The row's hash, with its order key appended to `key`. `spans` must hold its fields.
    fn row(&mut self, layout: &Layout, tuple: &[u8], key: &mut Vec<u8>) -> u64 {
        let Canon {
            side,
            spans,
            scratch,
            field: buf,
        } = self;
        let hash = if layout.normalise {
            scratch.clear();
            scratch.extend_from_slice(&tuple[..2]);
            for (col, span) in layout.columns.iter().zip(spans.iter()) {
                match field(tuple, *span) {
                    None => scratch.extend_from_slice(&(-1i32).to_be_bytes()),
                    Some(raw) => {
                        let c = hashed_form(col.ty, raw, buf, *side);
                        scratch.extend_from_slice(&(c.len() as u32).to_be_bytes());
                        scratch.extend_from_slice(c);
                    }
                }
            }
            xxh3_64(scratch)
        } else {
            xxh3_64(tuple)
        };
        let single = layout.key.len() == 1;
        for &k in &layout.key {
            let ty = layout.columns[k].ty;
            match field(tuple, spans[k]) {
                None => key.push(0),
                Some(raw) => {
                    key.push(1);
                    push_key(ty, canonical(ty, raw, buf), single, key);
                }
            }
        }
        hash
    }
}

/// Appends a key field in a form whose byte order is the key's order.
fn push_key(ty: Ty, raw: &[u8], single: bool, out: &mut Vec<u8>) {
    match ty.key_order() {
        Some(KeyOrder::Integer) => {
            let v = match raw.len() {
                2 => i64::from(i16::from_be_bytes([raw[0], raw[1]])),
                4 => i64::from(i32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]])),
                8 => i64::from_be_bytes(raw.try_into().unwrap_or([0; 8])),
                _ => 0,
            };
            out.extend_from_slice(&((v as u64) ^ (1 << 63)).to_be_bytes());
        }
        _ if single => out.extend_from_slice(raw),
        _ => {
            // Zero bytes escaped and a terminator that sorts first: tuples keep their order.
            for &b in raw {
                out.push(b);
                if b == 0 {
                    out.push(0xff);
                }
            }
            out.extend_from_slice(&[0, 1]);
        }
    }
}

/// The integer back from an integer key made by [`push_key`] (after its NULL tag).
fn integer_of_key(key: &[u8]) -> i64 {
    let bytes: [u8; 8] = key
        .get(1..9)
        .and_then(|b| b.try_into().ok())
        .unwrap_or([0; 8]);
    (u64::from_be_bytes(bytes) ^ (1 << 63)) as i64
}

fn integer_key(v: i64) -> Vec<u8> {
    let mut key = vec![1];
    key.extend_from_slice(&((v as u64) ^ (1 << 63)).to_be_bytes());
    key
}

// ---------------------------------------------------------------------------------------------
// Canonical JSON.

/// JSON text in one canonical form: no whitespace, object keys sorted by their bytes with a
/// duplicate key's last value kept (as `jsonb` does), strings with only the necessary escapes,
/// numbers as exact decimals `[-]digits[e±n]` without leading or trailing zeros. `false` (and
/// `out` unchanged) when `text` is not JSON.
fn canonical_json(text: &[u8], out: &mut Vec<u8>) -> bool {
    json_rewrite(text, out, false)
}

/// JSON text as PostgreSQL prints it after reading it into `jsonb`: keys sorted by length then
/// bytes (a duplicate's last value kept), `", "` and `": "` between items, strings with only
/// the necessary escapes, numbers as `numeric` prints them. What the target sends back for a
/// `jsonb` value, so only the source side needs rewriting; a value this gets wrong shows up as
/// a mismatch that the exact comparison ([`canonical_json`] on both sides) then clears.
fn jsonb_text(text: &[u8], out: &mut Vec<u8>) -> bool {
    json_rewrite(text, out, true)
}

fn json_rewrite(text: &[u8], out: &mut Vec<u8>, pg: bool) -> bool {
    let start = out.len();
    let mut p = JsonReader { s: text, i: 0, pg };
    p.ws();
    let ok = p.value(out, 0).is_some() && {
        p.ws();
        p.i == text.len()
    };
    if !ok {
        out.truncate(start);
    }
    ok
}

struct JsonReader<'a> {
    s: &'a [u8],
    i: usize,
    /// Write PostgreSQL's `jsonb` text form instead of the compact canonical one.
    pg: bool,
}

impl JsonReader<'_> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        (self.s.get(self.i) == Some(&b)).then(|| self.i += 1)
    }

    fn value(&mut self, out: &mut Vec<u8>, depth: usize) -> Option<()> {
        if depth > 1000 {
            return None;
        }
        match *self.s.get(self.i)? {
            b'{' => {
                self.i += 1;
                self.ws();
                // Keys (decoded) and values (rewritten) in one buffer; members as ranges of it.
                let mut buf: Vec<u8> = Vec::new();
                let mut members: Vec<(Range<usize>, Range<usize>)> = Vec::new();
                if self.eat(b'}').is_none() {
                    loop {
                        self.ws();
                        let k0 = buf.len();
                        self.string(&mut buf)?;
                        let key = k0..buf.len();
                        self.ws();
                        self.eat(b':')?;
                        self.ws();
                        let v0 = buf.len();
                        self.value(&mut buf, depth + 1)?;
                        members.push((key, v0..buf.len()));
                        self.ws();
                        if self.eat(b',').is_none() {
                            self.eat(b'}')?;
                            break;
                        }
                    }
                }
                // Stable: of equal keys, the last in the text comes last, and is kept.
                let key = |m: &(Range<usize>, Range<usize>)| &buf[m.0.clone()];
                if self.pg {
                    members.sort_by(|a, b| {
                        (a.0.len().cmp(&b.0.len())).then_with(|| key(a).cmp(key(b)))
                    });
                } else {
                    members.sort_by(|a, b| key(a).cmp(key(b)));
                }
                let (comma, colon): (&[u8], &[u8]) = if self.pg {
                    (b", ", b": ")
                } else {
                    (b",", b":")
                };
                out.push(b'{');
                let mut first = true;
                for (i, m) in members.iter().enumerate() {
                    if members.get(i + 1).is_some_and(|next| key(next) == key(m)) {
                        continue;
                    }
                    if !first {
                        out.extend_from_slice(comma);
                    }
                    first = false;
                    write_json_string(key(m), out);
                    out.extend_from_slice(colon);
                    out.extend_from_slice(&buf[m.1.clone()]);
                }
                out.push(b'}');
            }
            b'[' => {
                self.i += 1;
                self.ws();
                out.push(b'[');
                if self.eat(b']').is_none() {
                    let mut first = true;
                    loop {
                        self.ws();
                        if !first {
                            out.extend_from_slice(if self.pg { b", " } else { b"," });
                        }
                        first = false;
                        self.value(out, depth + 1)?;
                        self.ws();
                        if self.eat(b',').is_none() {
                            self.eat(b']')?;
                            break;
                        }
                    }
                }
                out.push(b']');
            }
            b'"' => {
                // Without escapes a string is already in canonical form.
                let body = &self.s[self.i + 1..];
                let plain = body
                    .iter()
                    .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                    .filter(|&end| body[end] == b'"');
                match plain {
                    Some(end) => {
                        out.extend_from_slice(&self.s[self.i..self.i + end + 2]);
                        self.i += end + 2;
                    }
                    None => {
                        let mut s = Vec::new();
                        self.string(&mut s)?;
                        write_json_string(&s, out);
                    }
                }
            }
            b't' => self.literal(b"true", out)?,
            b'f' => self.literal(b"false", out)?,
            b'n' => self.literal(b"null", out)?,
            b'-' | b'0'..=b'9' => self.number(out)?,
            _ => return None,
        }
        Some(())
    }

    fn literal(&mut self, word: &[u8], out: &mut Vec<u8>) -> Option<()> {
        if self.s.get(self.i..self.i + word.len()) != Some(word) {
            return None;
        }
        self.i += word.len();
        out.extend_from_slice(word);
        Some(())
    }

    /// A string's decoded bytes (UTF-8).
    fn string(&mut self, out: &mut Vec<u8>) -> Option<()> {
        self.eat(b'"')?;
        loop {
            let c = *self.s.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => return Some(()),
                b'\\' => {
                    let e = *self.s.get(self.i)?;
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let unit = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&unit)
                                && self.s.get(self.i..self.i + 2) == Some(b"\\u")
                            {
                                let save = self.i;
                                self.i += 2;
                                let low = self.hex4()?;
                                if (0xDC00..0xE000).contains(&low) {
                                    0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                                } else {
                                    self.i = save;
                                    0xFFFD
                                }
                            } else {
                                unit
                            };
                            let ch = char::from_u32(code).unwrap_or('\u{FFFD}');
                            let mut utf8 = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
                        }
                        _ => return None,
                    }
                }
                c if c < 0x20 => return None,
                c => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.s.get(self.i..self.i + 4)?;
        let text = std::str::from_utf8(h).ok()?;
        let v = u32::from_str_radix(text, 16).ok()?;
        self.i += 4;
        Some(v)
    }

    fn number(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let negative = self.eat(b'-').is_some();
        let mut digits: Vec<u8> = Vec::new();
        let int_start = self.i;
        while let Some(d @ b'0'..=b'9') = self.s.get(self.i) {
            digits.push(*d);
            self.i += 1;
        }
        if self.i == int_start {
            return None;
        }
        let mut exponent: i64 = 0;
        if self.eat(b'.').is_some() {
            let frac_start = self.i;
            while let Some(d @ b'0'..=b'9') = self.s.get(self.i) {
                digits.push(*d);
                self.i += 1;
            }
            if self.i == frac_start {
                return None;
            }
            exponent -= (self.i - frac_start) as i64;
        }
        if let Some(b'e' | b'E') = self.s.get(self.i) {
            self.i += 1;
            let exp_negative = match self.s.get(self.i) {
                Some(b'-') => {
                    self.i += 1;
                    true
                }
                Some(b'+') => {
                    self.i += 1;
                    false
                }
                _ => false,
            };
            let exp_start = self.i;
            let mut e: i64 = 0;
            while let Some(d @ b'0'..=b'9') = self.s.get(self.i) {
                e = e.saturating_mul(10).saturating_add(i64::from(d - b'0'));
                self.i += 1;
            }
            if self.i == exp_start {
                return None;
            }
            exponent = exponent.saturating_add(if exp_negative { -e } else { e });
        }
        if self.pg {
            return pg_number(negative, &digits, exponent, out);
        }
        let lead = digits.iter().take_while(|d| **d == b'0').count();
        let digits = &digits[lead..];
        let trail = digits.iter().rev().take_while(|d| **d == b'0').count();
        let digits = &digits[..digits.len() - trail];
        if digits.is_empty() {
            out.push(b'0');
            return Some(());
        }
        exponent = exponent.saturating_add(trail as i64);
        if negative {
            out.push(b'-');
        }
        out.extend_from_slice(digits);
        if exponent != 0 {
            let _ = write!(StringSink(out), "e{exponent}");
        }
        Some(())
    }
}

/// A JSON number as `numeric` prints it: `digits × 10^exponent` with `max(0, -exponent)` digits
/// after the point (the scale the text gave it), no exponent, no leading zeros.
fn pg_number(negative: bool, digits: &[u8], exponent: i64, out: &mut Vec<u8>) -> Option<()> {
    if exponent.abs() > 1000 {
        return None;
    }
    if negative && digits.iter().any(|d| *d != b'0') {
        out.push(b'-');
    }
    let (int, frac): (Vec<u8>, &[u8]) = if exponent >= 0 {
        let mut int = digits.to_vec();
        int.extend(std::iter::repeat_n(b'0', exponent as usize));
        (int, &[])
    } else {
        let k = (-exponent) as usize;
        if digits.len() > k {
            (
                digits[..digits.len() - k].to_vec(),
                &digits[digits.len() - k..],
            )
        } else {
            // All digits after the point, zero-padded on the left.
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', k - digits.len()));
            out.extend_from_slice(digits);
            return Some(());
        }
    };
    let lead = int.iter().take_while(|d| **d == b'0').count();
    if lead == int.len() {
        out.push(b'0');
    } else {
        out.extend_from_slice(&int[lead..]);
    }
    if !frac.is_empty() {
        out.push(b'.');
        out.extend_from_slice(frac);
    }
    Some(())
}

/// `write!` into a byte vector.
struct StringSink<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for StringSink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn write_json_string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            8 => out.extend_from_slice(b"\\b"),
            12 => out.extend_from_slice(b"\\f"),
            b if b < 0x20 => {
                let _ = write!(StringSink(out), "\\u{b:04x}");
            }
            b => out.push(b),
        }
    }
    out.push(b'"');
}

// ---------------------------------------------------------------------------------------------
// Showing values.

/// A field as the target type prints it (text shown safely and truncated).
fn display(ty: Ty, value: Option<&[u8]>) -> String {
    let Some(b) = value else {
        return "NULL".to_owned();
    };
    let shown = match (ty, b.len()) {
        (Ty::Int2, 2) => Some(i16::from_be_bytes([b[0], b[1]]).to_string()),
        (Ty::Int4, 4) => Some(be_i32(b).to_string()),
        (Ty::Int8, 8) => Some(be_i64(b).to_string()),
        (Ty::Float4, 4) => {
            let f = f32::from_bits(be_i32(b) as u32);
            Some(float_text(f64::from(f), f.to_string()))
        }
        (Ty::Float8, 8) => {
            let f = f64::from_bits(be_i64(b) as u64);
            Some(float_text(f, f.to_string()))
        }
        (Ty::Numeric, _) => numeric_text(b),
        (Ty::Bool, 1) => Some(if b[0] != 0 { "true" } else { "false" }.to_owned()),
        (Ty::Text | Ty::Bpchar, _) => Some(show_text(b)),
        (Ty::Date, 4) => Some(date_text(be_i32(b))),
        (Ty::Time, 8) => Some(time_text(be_i64(b))),
        (Ty::TimeTz, 12) => {
            let west = be_i32(&b[8..]);
            let east = -i64::from(west);
            let sign = if east < 0 { '-' } else { '+' };
            let (h, m) = (east.abs() / 3600, east.abs() % 3600 / 60);
            Some(format!("{}{sign}{h:02}:{m:02}", time_text(be_i64(b))))
        }
        (Ty::Timestamp, 8) => Some(timestamp_text(be_i64(b), false)),
        (Ty::TimestampTz, 8) => Some(timestamp_text(be_i64(b), true)),
        (Ty::Interval, 16) => Some(interval_text(be_i64(b), be_i32(&b[8..]), be_i32(&b[12..]))),
        (Ty::Uuid, 16) => {
            let mut s = String::with_capacity(36);
            for (i, byte) in b.iter().enumerate() {
                if matches!(i, 4 | 6 | 8 | 10) {
                    s.push('-');
                }
                let _ = write!(s, "{byte:02x}");
            }
            Some(s)
        }
        (Ty::Json | Ty::Jsonb, _) => {
            let mut buf = Vec::new();
            Some(show_text(canonical(ty, b, &mut buf)))
        }
        _ => None,
    };
    shown.unwrap_or_else(|| show_value(&SqlValue::Blob(b.to_vec())))
}

fn be_i32(b: &[u8]) -> i32 {
    i32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be_i64(b: &[u8]) -> i64 {
    i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

fn float_text(f: f64, shortest: String) -> String {
    if f.is_nan() {
        "NaN".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else {
        shortest
    }
}

fn show_text(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => show_value(&SqlValue::Text(s.to_owned())),
        Err(_) => show_value(&SqlValue::InvalidText(b.to_vec())),
    }
}

/// `numeric`'s binary form as text, with its display scale.
fn numeric_text(b: &[u8]) -> Option<String> {
    if b.len() < 8 {
        return None;
    }
    let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
    let n = u16_at(0) as usize;
    let weight = i64::from(u16_at(2) as i16);
    let sign = u16_at(4);
    let dscale = u16_at(6) as usize;
    if b.len() != 8 + 2 * n {
        return None;
    }
    match sign {
        0xC000 => return Some("NaN".to_owned()),
        0xD000 => return Some("Infinity".to_owned()),
        0xF000 => return Some("-Infinity".to_owned()),
        0 | 0x4000 => {}
        _ => return None,
    }
    let digit = |i: i64| -> u16 {
        usize::try_from(i)
            .ok()
            .filter(|i| *i < n)
            .map_or(0, |i| u16_at(8 + 2 * i))
    };
    let mut s = String::new();
    if sign == 0x4000 && n > 0 {
        s.push('-');
    }
    if weight < 0 {
        s.push('0');
    } else {
        for i in 0..=weight {
            if i == 0 {
                let _ = write!(s, "{}", digit(i));
            } else {
                let _ = write!(s, "{:04}", digit(i));
            }
        }
    }
    if dscale > 0 {
        let mut frac = String::with_capacity(dscale + 4);
        let mut i = weight + 1;
        while frac.len() < dscale {
            let _ = write!(frac, "{:04}", digit(i));
            i += 1;
        }
        frac.truncate(dscale);
        s.push('.');
        s.push_str(&frac);
    }
    Some(s)
}

fn date_text(pg_days: i32) -> String {
    match pg_days {
        i32::MAX => "infinity".to_owned(),
        i32::MIN => "-infinity".to_owned(),
        d => {
            let (y, m, d) = civil_from_days(i64::from(d) + PG_EPOCH_DAYS);
            format!("{y:04}-{m:02}-{d:02}")
        }
    }
}

fn time_text(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let mut s = format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    );
    if frac != 0 {
        let f = format!("{frac:06}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s
}

fn timestamp_text(pg_micros: i64, with_zone: bool) -> String {
    match pg_micros {
        i64::MAX => "infinity".to_owned(),
        i64::MIN => "-infinity".to_owned(),
        m => {
            let unix = i128::from(m) + i128::from(PG_EPOCH_MICROS);
            let days = unix.div_euclid(86_400_000_000) as i64;
            let rest = unix.rem_euclid(86_400_000_000) as i64;
            let (y, mo, d) = civil_from_days(days);
            let zone = if with_zone { "+00" } else { "" };
            format!("{y:04}-{mo:02}-{d:02} {}{zone}", time_text(rest))
        }
    }
}

fn interval_text(micros: i64, days: i32, months: i32) -> String {
    let mut parts = Vec::new();
    if months != 0 {
        parts.push(format!("{months} mons"));
    }
    if days != 0 {
        parts.push(format!("{days} days"));
    }
    if micros != 0 || parts.is_empty() {
        let sign = if micros < 0 { "-" } else { "" };
        parts.push(format!("{sign}{}", time_text(micros.unsigned_abs() as i64)));
    }
    parts.join(" ")
}

/// A field as a JSON value in a key: numbers stay numbers, text is shown safely.
fn json_value(ty: Ty, value: Option<&[u8]>) -> Json {
    let Some(b) = value else {
        return Json::Null;
    };
    match (ty, b.len()) {
        (Ty::Int2, 2) => Json::from(i16::from_be_bytes([b[0], b[1]])),
        (Ty::Int4, 4) => Json::from(be_i32(b)),
        (Ty::Int8, 8) => Json::from(be_i64(b)),
        (Ty::Bool, 1) => Json::from(b[0] != 0),
        (Ty::Text | Ty::Bpchar, _) => {
            let mut buf = Vec::new();
            match std::str::from_utf8(canonical(ty, b, &mut buf)) {
                Ok(s) => value_json(&SqlValue::Text(s.to_owned())),
                Err(_) => Json::from(display(ty, value)),
            }
        }
        _ => Json::from(display(ty, value)),
    }
}

// ---------------------------------------------------------------------------------------------
// Rows rejected by the run.

/// The source keys of the rows the newest run into the schema rejected from this table.
#[derive(Default)]
struct Rejects {
    run: Option<i64>,
    /// Canonical JSON arrays of the key values, in the order of `names`.
    keys: HashSet<String>,
    /// Rejects that name their row by position, which cannot be matched.
    unmatched: usize,
    /// Where the key values are in a source row.
    positions: Vec<usize>,
    names: Vec<String>,
    /// Source rows left out because they were rejected (filled in by the reading thread).
    excluded: std::sync::atomic::AtomicU64,
}

impl Rejects {
    fn key_of(&self, row: &[SqlValue]) -> String {
        let values: Vec<Json> = self
            .positions
            .iter()
            .map(|&i| row.get(i).map_or(Json::Null, value_json))
            .collect();
        Json::Array(values).to_string()
    }

    /// The key as rejects name it, `{"column": value}`.
    fn key_json(&self, row: &[SqlValue]) -> Json {
        Json::Object(
            self.names
                .iter()
                .zip(&self.positions)
                .map(|(n, &i)| (n.clone(), row.get(i).map_or(Json::Null, value_json)))
                .collect(),
        )
    }

    fn excluded_note(&self, notes: &mut Vec<String>) {
        let excluded = self.excluded.load(std::sync::atomic::Ordering::Relaxed);
        if let Some(run) = self.run {
            if excluded > 0 {
                notes.push(format!(
                    "{excluded} source row(s) rejected by run {run} are left out"
                ));
            }
            if self.unmatched > 0 {
                notes.push(format!(
                    "{} reject(s) of run {run} name their row by position and could not be left out",
                    self.unmatched
                ));
            }
        }
    }
}

#[derive(QueryableByName)]
struct Present {
    #[diesel(sql_type = Bool)]
    present: bool,
}

#[derive(QueryableByName)]
struct RejectRow {
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    run: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    k: Option<String>,
}

fn load_rejects(
    target: &mut PgConnection,
    check: &str,
    schema: &str,
    table: &ResolvedTable,
) -> Result<Rejects, CheckError> {
    let names: Vec<String> = if table.key_columns.is_empty() {
        vec!["rowid".to_owned()]
    } else {
        table.key_columns.clone()
    };
    let selected = select_columns(table, &table.key_columns);
    let positions = names
        .iter()
        .filter_map(|n| selected.iter().position(|c| c.eq_ignore_ascii_case(n)))
        .collect();
    let mut rejects = Rejects {
        positions,
        names,
        ..Rejects::default()
    };
    let sql = "SELECT to_regclass('decant.decant_rejects') IS NOT NULL AND to_regclass('decant.runs') IS NOT NULL AS present";
    let present = diesel::sql_query(sql)
        .get_result::<Present>(target)
        .map_err(|e| CheckError::query(check, Side::Target, sql, e))?;
    if !present.present {
        return Ok(rejects);
    }
    let sql = "WITH run AS (SELECT max(id) AS id FROM decant.runs WHERE target_schema = $1) \
               SELECT run.id AS run, r.primary_key::text AS k FROM run \
               LEFT JOIN decant.decant_rejects r ON r.run_id = run.id AND r.source_table = $2";
    let rows = diesel::sql_query(sql)
        .bind::<Text, _>(schema)
        .bind::<Text, _>(&table.source)
        .load::<RejectRow>(target)
        .map_err(|e| CheckError::query(check, Side::Target, sql, e))?;
    for row in rows {
        rejects.run = rejects.run.or(row.run);
        let Some(k) = row.k else { continue };
        let Ok(Json::Object(map)) = serde_json::from_str::<Json>(&k) else {
            rejects.unmatched += 1;
            continue;
        };
        let values: Option<Vec<Json>> = rejects
            .names
            .iter()
            .map(|n| {
                map.get(n).cloned().or_else(|| {
                    map.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(n))
                        .map(|(_, v)| v.clone())
                })
            })
            .collect();
        match values {
            Some(values) if rejects.positions.len() == rejects.names.len() => {
                rejects.keys.insert(Json::Array(values).to_string());
            }
            _ => rejects.unmatched += 1,
        }
    }
    Ok(rejects)
}

// ---------------------------------------------------------------------------------------------
// Reading both sides into batches of canonical rows.

/// One row in a batch.
#[derive(Debug, Clone, Copy)]
struct Meta {
    key: (u32, u32),
    tuple: (u32, u32),
    /// Hash of the key (of the whole row for multisets): what samples and matches by hash.
    khash: u64,
    /// Hash of the whole row, canonically.
    hash: u64,
}

/// A source row that the plan's conversion refuses and that the run did not reject.
struct Unconverted {
    key: Json,
    column: String,
    value: String,
    reason: String,
}

#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    rows: Vec<Meta>,
    unconverted: Vec<Unconverted>,
}

impl Batch {
    fn with_capacity() -> Batch {
        Batch {
            data: Vec::with_capacity(BATCH_BYTES + BATCH_BYTES / 8),
            rows: Vec::with_capacity(BATCH_ROWS),
            unconverted: Vec::new(),
        }
    }

    fn bytes(&self, at: (u32, u32)) -> &[u8] {
        &self.data[at.0 as usize..(at.0 + at.1) as usize]
    }
}

/// How a side ended.
#[derive(Debug, Clone, Copy, Default)]
struct Summary {
    /// Whether the row limit stopped the source.
    limited: bool,
}

enum Msg {
    Batch(Batch),
    /// A quick pass's sums, sent just before `End`.
    Sums(WindowSums),
    End(Summary),
}

/// Row counts and sums of row hashes per value window of a single integer key: what a quick
/// pass compares. Sums do not depend on the order rows come in, so neither side is sorted.
#[derive(Debug, Default, PartialEq)]
struct WindowSums {
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

    fn into_windows(mut self) -> HashMap<Option<i64>, (u64, u64)> {
        let running = self.current.take();
        self.keep(running);
        self.windows
    }
}

/// Why a reading thread stopped early.
enum Stop {
    Error(CheckError),
    /// Keys out of order on one side: the ordered comparison cannot go on.
    Unordered(String),
}

/// What one side of one pass does with its rows.
#[derive(Default)]
struct PassConfig<'a> {
    /// Check that keys strictly increase.
    ordered: bool,
    /// Hash the key (else the row hash stands for it).
    keyed: bool,
    /// Send hashes only, no bytes.
    light: bool,
    /// Keep rows whose `khash` is below this (a sample).
    sample: Option<u128>,
    /// Keep only rows whose `khash` is in this set.
    wanted: Option<HashSet<u64>>,
    /// Report source rows the conversion refuses.
    report_unconverted: bool,
    /// Only add each row's hash to its group's sum (a quick pass).
    sums: Option<Grouping<'a>>,
}

/// How a quick pass groups rows before summing their hashes.
#[derive(Clone, Copy)]
enum Grouping<'a> {
    /// By value window of a single integer key: a window that differs can be read again.
    KeyWindows(&'a Windows),
    /// The whole table as one group: any key, or none (then the sum is of a multiset).
    Whole,
}

/// Turns one side's tuples into batches and sends them.
struct Producer<'a> {
    layout: &'a Layout,
    config: &'a PassConfig<'a>,
    side: Side,
    tx: SyncSender<Msg>,
    /// Batches the comparison is done with, to fill again.
    recycled: Receiver<Batch>,
    batch: Batch,
    canon: Canon,
    key: Vec<u8>,
    last_key: Option<Vec<u8>>,
    sums: WindowSums,
    /// The comparison stopped listening.
    hung_up: bool,
}

impl<'a> Producer<'a> {
    fn new(
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
    fn sum(&mut self, grouping: Grouping<'_>, tuple: &[u8]) {
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
                (self.key.first() == Some(&1)).then(|| windows.index_of(integer_of_key(&self.key)))
            }
            Grouping::Whole => Some(0),
        };
        self.sums.add(window, hash);
    }

    /// Takes the tuple at `batch.data[start..]`, whose fields are in `canon.spans`.
    fn push(&mut self, start: usize) -> Result<(), Stop> {
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

    fn finish(mut self, summary: Summary) {
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

/// Spawns a scoped thread with a name (shown by `top -H`, `perf` and in panics).
fn spawn_named<'scope, T: Send + 'scope>(
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

/// Source rows handed from the SQLite reading thread to the converting one.
const READ_CHUNK: usize = 1024;

/// A chunk of source rows, each its selected values.
type RowChunk = Vec<Vec<SqlValue>>;

/// Reads the source with `sql` on one thread and converts each row as the load did, hashes and
/// sends it on this one: SQLite's work and the conversion overlap.
fn read_source(
    conn: &mut SqliteConnection,
    sql: &str,
    job: &Job<'_>,
    config: &PassConfig,
    channels: (SyncSender<Msg>, Receiver<Batch>),
) -> Result<(), Stop> {
    let converter = Converter::new(job.table).map_err(|u| {
        Stop::Error(CheckError::Value {
            check: job.check.to_owned(),
            message: format!("column `{}` has type `{}`", u.column, u.type_sql),
        })
    })?;
    std::thread::scope(|scope| {
        let (rtx, rrx) = sync_channel::<RowChunk>(4);
        // Chunks come back to be emptied where their rows were allocated.
        let (back_tx, back_rx) = std::sync::mpsc::channel::<RowChunk>();
        let reader = spawn_named(scope, "checksum-sqlite", move || -> Result<u64, Stop> {
            let query_error = |e| Stop::Error(CheckError::query(job.check, Side::Source, sql, e));
            let rows = diesel::sql_query(sql)
                .load_iter::<SourceRow, DefaultLoadingMode>(conn)
                .map_err(query_error)?;
            let mut read: u64 = 0;
            let mut chunk = Vec::with_capacity(READ_CHUNK);
            for row in rows {
                let SourceRow(values) = row.map_err(query_error)?;
                read += 1;
                chunk.push(values);
                if chunk.len() == READ_CHUNK {
                    let empty = match back_rx.try_recv() {
                        Ok(mut old) => {
                            old.drain(..).for_each(SourceRow::recycle);
                            old
                        }
                        Err(_) => Vec::with_capacity(READ_CHUNK),
                    };
                    let full = std::mem::replace(&mut chunk, empty);
                    if rtx.send(full).is_err() {
                        // The converting side stopped: what was read no longer matters.
                        return Ok(read);
                    }
                }
            }
            if !chunk.is_empty() {
                let _ = rtx.send(chunk);
            }
            Ok(read)
        });
        let mut producer = Producer::new(job.layout, config, Side::Source, channels);
        let converted = convert_rows((rrx, back_tx), &converter, job, config, sql, &mut producer);
        let read = reader.join().map_err(|_| {
            Stop::Error(CheckError::Value {
                check: job.check.to_owned(),
                message: "the source reading thread panicked".to_owned(),
            })
        })??;
        converted?;
        let limited = job.options.row_limit.is_some_and(|n| read >= n);
        producer.finish(Summary { limited });
        Ok(())
    })
}

/// Converts the rows the reading thread sends, as the load did, into the producer.
fn convert_rows(
    rows: (Receiver<RowChunk>, std::sync::mpsc::Sender<RowChunk>),
    converter: &Converter,
    job: &Job<'_>,
    config: &PassConfig,
    sql: &str,
    producer: &mut Producer<'_>,
) -> Result<(), Stop> {
    let columns = job.layout.columns.len();
    let rejects = job.rejects;
    let (rows, back) = rows;
    for chunk in rows {
        for values in &chunk {
            if producer.hung_up {
                return Ok(());
            }
            if values.len() < columns {
                return Err(Stop::Error(CheckError::Value {
                    check: job.check.to_owned(),
                    message: format!(
                        "the source query returns {} columns where {columns} are compared: `{sql}`",
                        values.len()
                    ),
                }));
            }
            if !rejects.keys.is_empty() && rejects.keys.contains(&rejects.key_of(values)) {
                if config.report_unconverted {
                    rejects
                        .excluded
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                continue;
            }
            let start = producer.batch.data.len();
            match converter.encode_row(values, &mut producer.batch.data) {
                Ok(()) => {
                    let tuple = &producer.batch.data[start..];
                    scan_tuple(tuple, columns, &mut producer.canon.spans).map_err(|m| {
                        Stop::Error(CheckError::Value {
                            check: job.check.to_owned(),
                            message: m,
                        })
                    })?;
                    match config.sums {
                        Some(grouping) => {
                            let mut tuple = std::mem::take(&mut producer.batch.data);
                            producer.sum(grouping, &tuple[start..]);
                            tuple.truncate(start);
                            producer.batch.data = tuple;
                        }
                        None => producer.push(start)?,
                    }
                }
                Err((column, reason)) => {
                    producer.batch.data.truncate(start);
                    if config.report_unconverted {
                        producer.batch.unconverted.push(Unconverted {
                            key: rejects.key_json(values),
                            column: converter.columns[column].source.clone(),
                            value: show_value(&values[column]),
                            reason,
                        });
                    }
                }
            }
        }
        let _ = back.send(chunk);
    }
    Ok(())
}

/// The binary COPY stream's signature.
const COPY_SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// Parses a binary COPY stream into the producer.
struct CopyParser<'a> {
    check: &'a str,
    header_done: bool,
    finished: bool,
    columns: usize,
}

impl CopyParser<'_> {
    fn malformed(&self, message: &str) -> Stop {
        Stop::Error(CheckError::Value {
            check: self.check.to_owned(),
            message: format!("reading the target: {message}"),
        })
    }

    /// Takes every complete tuple at the start of `data`; returns the bytes used.
    fn feed(&mut self, data: &[u8], producer: &mut Producer<'_>) -> Result<usize, Stop> {
        let mut at = 0;
        if !self.header_done {
            if data.len() < 19 {
                return Ok(0);
            }
            if &data[..11] != COPY_SIGNATURE {
                return Err(self.malformed("the COPY stream has no binary signature"));
            }
            let ext = be_i32(&data[15..19]).max(0) as usize;
            if data.len() < 19 + ext {
                return Ok(0);
            }
            at = 19 + ext;
            self.header_done = true;
        }
        while !self.finished {
            let rest = &data[at..];
            if rest.len() >= 2 && rest[..2] == [0xff, 0xff] {
                self.finished = true;
                at += 2;
                break;
            }
            let scanned = scan_tuple(rest, self.columns, &mut producer.canon.spans)
                .map_err(|m| self.malformed(&m))?;
            let Some(len) = scanned else {
                break;
            };
            match producer.config.sums {
                Some(grouping) => producer.sum(grouping, &rest[..len]),
                None => {
                    let start = producer.batch.data.len();
                    producer.batch.data.extend_from_slice(&rest[..len]);
                    producer.push(start)?;
                }
            }
            at += len;
        }
        Ok(at)
    }
}

/// Reads the target with `COPY (sql) TO STDOUT (FORMAT binary)`, always to the end (the
/// connection is unusable until then), and sends its rows.
fn read_target(
    conn: &mut PgConnection,
    sql: &str,
    job: &Job<'_>,
    config: &PassConfig,
    channels: (SyncSender<Msg>, Receiver<Batch>),
) -> Result<(), Stop> {
    let statement = format!("COPY {sql} TO STDOUT (FORMAT binary)");
    let mut reader = copy_out(conn, sql)
        .map_err(|e| Stop::Error(CheckError::query(job.check, Side::Target, &statement, e)))?;
    let mut producer = Producer::new(job.layout, config, Side::Target, channels);
    let mut parser = CopyParser {
        check: job.check,
        header_done: false,
        finished: false,
        columns: job.layout.columns.len(),
    };
    let mut pending: Vec<u8> = Vec::new();
    let mut failure: Option<Stop> = None;
    loop {
        let buf = reader.fill_buf().map_err(|e| {
            Stop::Error(CheckError::query(
                job.check,
                Side::Target,
                &statement,
                diesel::result::Error::DeserializationError(Box::new(e)),
            ))
        })?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len();
        if failure.is_none() && !producer.hung_up && !parser.finished {
            let fed = if pending.is_empty() {
                parser
                    .feed(buf, &mut producer)
                    .map(|used| pending.extend_from_slice(&buf[used..]))
            } else {
                pending.extend_from_slice(buf);
                parser
                    .feed(&pending, &mut producer)
                    .map(|used| drop(pending.drain(..used)))
            };
            if let Err(e) = fed {
                failure = Some(e);
            }
        }
        reader.consume(n);
    }
    drop(reader);
    // Diesel leaves the COPY's completion result unread, and libpq refuses the next
    // statement until it is: `PQexec` (a batch) reads and discards it first.
    conn.batch_execute("SELECT 1")
        .map_err(|e| Stop::Error(CheckError::query(job.check, Side::Target, &statement, e)))?;
    match failure {
        Some(stop) => Err(stop),
        None if !parser.finished && !producer.hung_up => {
            Err(parser.malformed("the COPY stream ended early"))
        }
        None => {
            producer.finish(Summary::default());
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The comparison.

/// Differences found so far.
struct Report<'a> {
    layout: &'a Layout,
    differences: Vec<RowDifference>,
    total: u64,
    bufs: (Vec<u8>, Vec<u8>),
    spans: (Vec<Span>, Vec<Span>),
}

impl<'a> Report<'a> {
    fn new(layout: &'a Layout) -> Self {
        Report {
            layout,
            differences: Vec::new(),
            total: 0,
            bufs: (Vec::new(), Vec::new()),
            spans: (Vec::new(), Vec::new()),
        }
    }

    /// Forgets what a pass that could not finish found.
    fn reset(&mut self) {
        self.differences.clear();
        self.total = 0;
    }

    fn full(&self) -> bool {
        self.differences.len() >= MAX_LISTED
    }

    fn add(&mut self, d: RowDifference) {
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

    fn content_json(&self, tuple: &[u8], spans: &[Span]) -> Json {
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
    fn one_sided(&mut self, tuple: &[u8], kind: DifferenceKind) {
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
    fn changed(&mut self, source: &[u8], target: &[u8]) {
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
                if self.differences.len() < MAX_LISTED {
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

/// One side's stream of batches, read in order, with the rows of the current range kept.
struct Cursor {
    rx: Receiver<Msg>,
    /// Where batches go back to their producer once compared.
    recycle: std::sync::mpsc::Sender<Batch>,
    batches: VecDeque<Batch>,
    /// Sequence number of `batches[0]`.
    base: usize,
    /// The next row: batch sequence number and index.
    pos: (usize, usize),
    ended: bool,
    summary: Option<Summary>,
    sums: Option<WindowSums>,
    unconverted: Vec<Unconverted>,
    taken: u64,
}

#[derive(Debug, Clone, Copy)]
struct RowRef {
    seq: usize,
    idx: usize,
    meta: Meta,
}

impl Cursor {
    fn new(rx: Receiver<Msg>, recycle: std::sync::mpsc::Sender<Batch>) -> Self {
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
fn drain_both(src: &mut Cursor, tgt: &mut Cursor, mut on: impl FnMut(Side, &Batch)) {
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

/// Value-range windows over a single integer key.
struct Windows {
    min: i128,
    width: i128,
}

impl Windows {
    /// The last key of the window holding `k`.
    fn end_of(&self, k: i64) -> i64 {
        self.bounds(self.index_of(k)).1
    }

    /// The index of the window holding `k` (negative below the source's smallest key).
    fn index_of(&self, k: i64) -> i64 {
        // i64 arithmetic when it cannot overflow: this runs for every row of a quick pass.
        if let (Ok(min), Ok(width)) = (i64::try_from(self.min), i64::try_from(self.width)) {
            if let Some(offset) = k.checked_sub(min) {
                return offset.div_euclid(width);
            }
        }
        (i128::from(k) - self.min).div_euclid(self.width) as i64
    }

    /// The first and last key of window `index`, within the `i64` range.
    fn bounds(&self, index: i64) -> (i64, i64) {
        let clamp = |v: i128| v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        let start = self.min + i128::from(index) * self.width;
        (clamp(start), clamp(start + self.width - 1))
    }
}

/// What a quick pass found.
struct Quick {
    /// Rows compared (the larger side's count).
    rows: u64,
    /// Windows whose rows or sums differ, in order (`None`: rows with a NULL key).
    differing: Vec<Option<i64>>,
    unconverted: Vec<Unconverted>,
    limited: bool,
    /// Source rows left out as rejected by the run.
    excluded: u64,
}

/// Windows that differ read again (at most this many key ranges), or the whole table.
const MAX_RANGES: usize = 64;

/// The key ranges covering `differing` windows, adjacent ones joined; `None` when a NULL key
/// differs or there are too many ranges to name in a WHERE clause.
fn differing_ranges(differing: &[Option<i64>], windows: &Windows) -> Option<Vec<(i64, i64)>> {
    let mut ranges: Vec<(i64, i64)> = Vec::new();
    for w in differing {
        let (start, end) = windows.bounds((*w)?);
        match ranges.last_mut() {
            Some(last) if last.1.checked_add(1) == Some(start) => last.1 = end,
            _ => ranges.push((start, end)),
        }
    }
    (ranges.len() <= MAX_RANGES).then_some(ranges)
}

/// `column BETWEEN a AND b OR …` over `ranges`.
fn ranges_sql(column: &str, ranges: &[(i64, i64)]) -> String {
    let parts: Vec<String> = ranges
        .iter()
        .map(|(a, b)| format!("{column} BETWEEN {a} AND {b}"))
        .collect();
    parts.join(" OR ")
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
fn merge_ordered(
    mut src: Cursor,
    mut tgt: Cursor,
    windows: Option<&Windows>,
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

/// Source rows the conversion refused that the run did not reject: missing in the target.
fn report_unconverted(report: &mut Report<'_>, unconverted: Vec<Unconverted>) {
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

/// One table's comparison: what both sides read and how.
struct Job<'a> {
    check: &'a str,
    table: &'a ResolvedTable,
    layout: &'a Layout,
    base_sql: &'a str,
    schema: &'a str,
    options: &'a ChecksumOptions,
    rejects: &'a Rejects,
}

/// The load step's SELECT of the source table (the copied columns, then the key columns).
fn base_select(prepared: &Prepared, table: &ResolvedTable) -> String {
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
    fn sample_threshold(&self) -> Option<u128> {
        self.options
            .sample_rate
            .filter(|r| *r < 1.0)
            .map(|r| (r * 18_446_744_073_709_551_616.0) as u128)
    }

    fn sample_note(&self, notes: &mut Vec<String>, by: &str) {
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
                _ => format!("{} COLLATE BINARY", k + 1),
            })
            .collect();
        order.join(", ")
    }

    fn source_sql(&self, ordered: bool, limit: bool, ranges: Option<&[(i64, i64)]>) -> String {
        let mut sql = format!("SELECT * FROM ({})", self.base_sql);
        if let (Some(ranges), Some(c)) = (ranges, self.layout.integer_key()) {
            let _ = write!(
                sql,
                " WHERE {}",
                ranges_sql(&quote_ident(&c.source), ranges)
            );
        }
        if ordered {
            let _ = write!(sql, " ORDER BY {}", self.source_order());
        }
        if let (true, Some(n)) = (limit, self.options.row_limit) {
            let _ = write!(sql, " LIMIT {n}");
        }
        sql
    }

    fn target_sql(
        &self,
        ordered: bool,
        upper: Option<i64>,
        ranges: Option<&[(i64, i64)]>,
    ) -> String {
        let l = self.layout;
        let columns: Vec<String> = l.columns.iter().map(|c| quote_ident(&c.target)).collect();
        let restricted = l.integer_key().is_some() && (upper.is_some() || ranges.is_some());
        if !ordered && !restricted {
            // COPY of the table itself: the server scans it without an executor plan.
            return format!(
                "{}.{} ({})",
                quote_ident(self.schema),
                quote_ident(&self.table.target),
                columns.join(", ")
            );
        }
        let mut sql = format!(
            "(SELECT {} FROM {}.{}",
            columns.join(", "),
            quote_ident(self.schema),
            quote_ident(&self.table.target)
        );
        if let Some(c) = l.integer_key() {
            let column = quote_ident(&c.target);
            let mut conditions = Vec::new();
            conditions.extend(upper.map(|upper| format!("{column} <= {upper}")));
            conditions.extend(ranges.map(|r| format!("({})", ranges_sql(&column, r))));
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

    /// Whether the target table had rows updated (which moves them on disk), as far as the
    /// server's statistics already know.
    fn target_updated(&self, target: &mut PgConnection) -> Result<bool, CheckError> {
        #[derive(QueryableByName)]
        struct Updated {
            #[diesel(sql_type = Bool)]
            updated: bool,
        }
        let sql = "SELECT coalesce((SELECT n_tup_upd > 0 FROM pg_stat_user_tables \
                   WHERE schemaname = $1 AND relname = $2), false) AS updated";
        diesel::sql_query(sql)
            .bind::<Text, _>(self.schema)
            .bind::<Text, _>(&self.table.target)
            .get_result::<Updated>(target)
            .map(|u| u.updated)
            .map_err(|e| CheckError::query(self.check, Side::Target, sql, e))
    }

    /// The integer in column `index` of the first row `sql` returns, or `None` (no row,
    /// NULL, or not an integer).
    fn source_integer(
        &self,
        source: &mut SqliteConnection,
        sql: &str,
        index: usize,
    ) -> Result<Option<i64>, CheckError> {
        let rows = diesel::sql_query(sql)
            .load::<SourceRow>(source)
            .map_err(|e| CheckError::query(self.check, Side::Source, sql, e))?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|SourceRow(v)| match v.get(index) {
                Some(SqlValue::Integer(i)) => Some(*i),
                _ => None,
            }))
    }

    /// Runs one pass: both sides read on their own threads, `consume` on this one.
    fn pass<R>(
        &self,
        source: &mut SqliteConnection,
        target: &mut PgConnection,
        sqls: (&str, &str),
        configs: (&PassConfig, &PassConfig),
        consume: impl FnOnce(Cursor, Cursor) -> R,
    ) -> Result<Result<R, (Side, String)>, CheckError> {
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
            let panicked = || CheckError::Value {
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
    fn ordered(
        &self,
        source: &mut SqliteConnection,
        target: &mut PgConnection,
        report: &mut Report<'_>,
        notes: &mut Vec<String>,
    ) -> Result<Result<u64, String>, CheckError> {
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
                windows = Some(Windows {
                    min: i128::from(min),
                    width: (span * CHUNK as i128 / rows).max(1),
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
        if let Some(w) = &windows {
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
            .and_then(|q| differing_ranges(&q.differing, windows.as_ref()?));
        let ssql = self.source_sql(true, true, ranges.as_deref());
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
            let outcome = self.pass(
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
    fn quick(
        &self,
        source: &mut SqliteConnection,
        target: &mut PgConnection,
        grouping: Grouping<'_>,
        upper: Option<i64>,
    ) -> Result<Result<Quick, String>, CheckError> {
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
    fn hashed(
        &self,
        source: &mut SqliteConnection,
        target: &mut PgConnection,
        report: &mut Report<'_>,
        notes: &mut Vec<String>,
    ) -> Result<u64, CheckError> {
        let limit = self.options.row_limit.is_some();
        let ssql = self.source_sql(limit, true, None);
        let tsql = self.target_sql(false, None, None);
        let light = |report_unconverted| PassConfig {
            keyed: true,
            light: true,
            sample: self.sample_threshold(),
            report_unconverted,
            ..PassConfig::default()
        };
        let (s, t, unconverted, limited) =
            self.collect(source, target, (&ssql, &tsql), (light(true), light(false)))?;
        report_unconverted(report, unconverted);
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
        let shown = &found[..found.len().min(MAX_LISTED)];
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
    fn multiset(
        &self,
        source: &mut SqliteConnection,
        target: &mut PgConnection,
        report: &mut Report<'_>,
        notes: &mut Vec<String>,
    ) -> Result<u64, CheckError> {
        let ssql = self.source_sql(false, false, None);
        let tsql = self.target_sql(false, None, None);
        let light = |report_unconverted| PassConfig {
            light: true,
            sample: self.sample_threshold(),
            report_unconverted,
            ..PassConfig::default()
        };
        let (s, t, unconverted, _) =
            self.collect(source, target, (&ssql, &tsql), (light(true), light(false)))?;
        report_unconverted(report, unconverted);
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
        let shown = &found[..found.len().min(MAX_LISTED)];
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

    /// A light pass: `(khash, hash)` of every row of each side, sorted.
    #[allow(clippy::type_complexity)]
    fn collect(
        &self,
        source: &mut SqliteConnection,
        target: &mut PgConnection,
        sqls: (&str, &str),
        configs: (PassConfig, PassConfig),
    ) -> Result<(Vec<(u64, u64)>, Vec<(u64, u64)>, Vec<Unconverted>, bool), CheckError> {
        let outcome = self.pass(
            source,
            target,
            sqls,
            (&configs.0, &configs.1),
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
            outcome.map_err(|(_, why)| CheckError::Value {
                check: self.check.to_owned(),
                message: why,
            })?;
        s.sort_unstable();
        t.sort_unstable();
        Ok((s, t, unconverted, limited))
    }

    /// A second pass keeping the first tuple of each wanted `khash`, per side.
    #[allow(clippy::type_complexity)]
    fn details(
        &self,
        source: &mut SqliteConnection,
        target: &mut PgConnection,
        sqls: (&str, &str),
        keyed: bool,
        wanted: (HashSet<u64>, HashSet<u64>),
    ) -> Result<(HashMap<u64, Vec<u8>>, HashMap<u64, Vec<u8>>), CheckError> {
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
        outcome.map_err(|(_, why)| CheckError::Value {
            check: self.check.to_owned(),
            message: why,
        })
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

    #[test]
    fn windows_cover_keys_below_the_smallest_and_at_the_ends_of_i64() {
        let w = Windows {
            min: 100,
            width: 10,
        };
        assert_eq!(
            (w.index_of(100), w.index_of(109), w.index_of(110)),
            (0, 0, 1)
        );
        assert_eq!(
            (w.index_of(99), w.index_of(90), w.index_of(89)),
            (-1, -1, -2)
        );
        assert_eq!(w.bounds(-1), (90, 99));
        assert_eq!(w.end_of(105), 109);
        let wide = Windows {
            min: i128::from(i64::MIN),
            width: 1 << 62,
        };
        assert_eq!(wide.index_of(i64::MAX), 3);
        assert_eq!(wide.bounds(3).1, i64::MAX);
        assert_eq!(wide.index_of(i64::MIN), 0);
    }

    #[test]
    fn differing_windows_become_few_key_ranges() {
        let w = Windows { min: 1, width: 100 };
        assert_eq!(
            differing_ranges(&[Some(-1), Some(0), Some(1), Some(5)], &w),
            Some(vec![(-99, 200), (501, 600)])
        );
        assert_eq!(
            ranges_sql("\"id\"", &[(-99, 200), (501, 600)]),
            "\"id\" BETWEEN -99 AND 200 OR \"id\" BETWEEN 501 AND 600"
        );
        // A NULL key cannot be named by a range, nor can too many ranges be: read everything.
        assert_eq!(differing_ranges(&[None, Some(1)], &w), None);
        let scattered: Vec<Option<i64>> = (0..=MAX_RANGES as i64).map(|i| Some(2 * i)).collect();
        assert_eq!(differing_ranges(&scattered, &w), None);
        assert_eq!(
            differing_ranges(&scattered[1..], &w).map(|r| r.len()),
            Some(MAX_RANGES)
        );
    }

    fn canon(text: &str) -> String {
        let mut out = Vec::new();
        assert!(canonical_json(text.as_bytes(), &mut out), "{text}");
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_is_canonical_across_spellings() {
        assert_eq!(
            canon(r#"{"b": 1, "a": [1.50, 1e2, -0.0]}"#),
            r#"{"a":[15e-1,1e2,0],"b":1}"#
        );
        assert_eq!(canon(r#"{"a":1,"a":2}"#), r#"{"a":2}"#);
        assert_eq!(canon(r#""\u00e9\/\n""#), "\"é/\\n\"");
        assert_eq!(canon(r#""\ud83d\ude00""#), "\"😀\"");
        assert_eq!(canon("100"), canon("1E+2"));
        assert_eq!(canon(" [ true , null ] "), "[true,null]");
        let mut out = Vec::new();
        assert!(!canonical_json(b"{\"a\":}", &mut out));
        assert!(!canonical_json(b"[1] x", &mut out));
        assert!(out.is_empty());
    }

    fn pg(text: &str) -> String {
        let mut out = Vec::new();
        assert!(jsonb_text(text.as_bytes(), &mut out), "{text}");
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn jsonb_text_is_what_postgres_prints() {
        // Each right-hand side is `SELECT '…'::jsonb` in PostgreSQL 15.
        assert_eq!(
            pg(r#"{"bb": 1, "a": [1.50, true, 1e2], "c":{"z":null,"y":"\u00e9\/"}}"#),
            r#"{"a": [1.50, true, 100], "c": {"y": "é/", "z": null}, "bb": 1}"#
        );
        assert_eq!(pg(r#"{"a":1,"a":2}"#), r#"{"a": 2}"#);
        assert_eq!(
            pg("[1.0E+2, 1.50e1, -0, 0.00, 1E-3, -12.5e-1]"),
            "[100, 15.0, 0, 0.00, 0.001, -1.25]"
        );
        assert_eq!(pg(r#"["\u0001\t"]"#), r#"["\u0001\t"]"#);
        assert_eq!(pg("{}"), "{}");
        assert_eq!(pg(" [ ] "), "[]");
    }

    fn numeric(ndigits: &[u16], weight: i16, sign: u16, dscale: u16) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&(ndigits.len() as u16).to_be_bytes());
        b.extend_from_slice(&weight.to_be_bytes());
        b.extend_from_slice(&sign.to_be_bytes());
        b.extend_from_slice(&dscale.to_be_bytes());
        for d in ndigits {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b
    }

    #[test]
    fn numerics_compare_by_value_and_show_their_scale() {
        let a = numeric(&[4, 2000], 0, 0, 2);
        let b = numeric(&[0, 4, 2000, 0], 1, 0, 4);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        assert_eq!(
            canonical(Ty::Numeric, &a, &mut x),
            canonical(Ty::Numeric, &b, &mut y)
        );
        assert_eq!(numeric_text(&a).as_deref(), Some("4.20"));
        assert_eq!(
            numeric_text(&numeric(&[1, 2345], 1, 0x4000, 0)).as_deref(),
            Some("-12345")
        );
        assert_eq!(
            numeric_text(&numeric(&[500], -1, 0, 2)).as_deref(),
            Some("0.05")
        );
        assert_eq!(
            numeric_text(&numeric(&[], 0, 0, 2)).as_deref(),
            Some("0.00")
        );
        let zero = numeric(&[], 0, 0, 0);
        let neg_zero = numeric(&[0], 3, 0x4000, 5);
        assert_eq!(
            canonical(Ty::Numeric, &zero, &mut x),
            canonical(Ty::Numeric, &neg_zero, &mut y)
        );
    }

    #[test]
    fn keys_sort_as_their_values() {
        let key = |ty: Ty, raw: &[u8], single: bool| {
            let mut out = Vec::new();
            push_key(ty, raw, single, &mut out);
            out
        };
        assert!(
            key(Ty::Int8, &(-5i64).to_be_bytes(), true) < key(Ty::Int8, &3i64.to_be_bytes(), true)
        );
        assert!(
            key(Ty::Int4, &(-1i32).to_be_bytes(), true) < key(Ty::Int4, &0i32.to_be_bytes(), true)
        );
        // ("a", "z") < ("ab", "a") as tuples.
        let mut t1 = key(Ty::Text, b"a", false);
        t1.extend(key(Ty::Text, b"z", false));
        let mut t2 = key(Ty::Text, b"ab", false);
        t2.extend(key(Ty::Text, b"a", false));
        assert!(t1 < t2);
        assert_eq!(integer_of_key(&integer_key(-42)), -42);
        let w = Windows { min: 1, width: 10 };
        assert_eq!(w.end_of(1), 10);
        assert_eq!(w.end_of(10), 10);
        assert_eq!(w.end_of(11), 20);
        assert_eq!(w.end_of(-3), 0);
    }

    #[test]
    fn values_display_as_postgres_prints_them() {
        assert_eq!(date_text(0), "2000-01-01");
        assert_eq!(timestamp_text(0, true), "2000-01-01 00:00:00+00");
        assert_eq!(timestamp_text(1_500_000, false), "2000-01-01 00:00:01.5");
        assert_eq!(display(Ty::Bool, Some(&[1])), "true");
        assert_eq!(display(Ty::Int2, None), "NULL");
        assert_eq!(interval_text(3_600_000_000, 2, 0), "2 days 01:00:00");
        assert_eq!(display(Ty::Bpchar, Some(b"ab   ")), "ab   ");
    }
}

//! Binary tuples and their canonical form: a tuple's fields, normalised where equal values may
//! have different binary forms, the row's hash, and keys whose bytes sort as the key does.

use xxhash_rust::xxh3::xxh3_64;

use super::json::{canonical_json, jsonb_text};
use super::layout::{KeyOrder, Layout, Ty};
use super::Side;

/// Where one field is in a tuple: start and length, length -1 for NULL.
pub(super) type Span = (usize, i32);

/// Reads the field positions of a tuple (`i16` count, then `i32` length and bytes per field);
/// returns the tuple's length, `Ok(None)` when `data` ends before it does.
pub(super) fn scan_tuple(
    data: &[u8],
    columns: usize,
    spans: &mut Vec<Span>,
) -> Result<Option<usize>, String> {
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

pub(super) fn field(tuple: &[u8], span: Span) -> Option<&[u8]> {
    (span.1 >= 0).then(|| &tuple[span.0..span.0 + span.1 as usize])
}

/// The canonical bytes of a field: `raw` itself, or its normal form written to `buf`.
pub(super) fn canonical<'a>(ty: Ty, raw: &'a [u8], buf: &'a mut Vec<u8>) -> &'a [u8] {
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
pub(super) struct Canon {
    pub(super) side: Side,
    pub(super) spans: Vec<Span>,
    pub(super) scratch: Vec<u8>,
    pub(super) field: Vec<u8>,
}

impl Canon {
    /// The row's hash, with its order key appended to `key`. `spans` must hold its fields.
    pub(super) fn row(&mut self, layout: &Layout, tuple: &[u8], key: &mut Vec<u8>) -> u64 {
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
pub(super) fn integer_of_key(key: &[u8]) -> i64 {
    let bytes: [u8; 8] = key
        .get(1..9)
        .and_then(|b| b.try_into().ok())
        .unwrap_or([0; 8]);
    (u64::from_be_bytes(bytes) ^ (1 << 63)) as i64
}

pub(super) fn integer_key(v: i64) -> Vec<u8> {
    let mut key = vec![1];
    key.extend_from_slice(&((v as u64) ^ (1 << 63)).to_be_bytes());
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::windows::KeyWindows;

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
        let w = KeyWindows {
            key_min: 1,
            width: 10,
        };
        assert_eq!(w.end_of(1), 10);
        assert_eq!(w.end_of(10), 10);
        assert_eq!(w.end_of(11), 20);
        assert_eq!(w.end_of(-3), 0);
    }
}

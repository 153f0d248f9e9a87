//! Canonical JSON: one spelling for equal JSON values, and the text PostgreSQL prints for a
//! `jsonb` value, so that JSON fields compare by value across engines.

use std::fmt::Write as _;
use std::ops::Range;

/// JSON text in one canonical form: no whitespace, object keys sorted by their bytes with a
/// duplicate key's last value kept (as `jsonb` does), strings with only the necessary escapes,
/// numbers as exact decimals `[-]digits[e±n]` without leading or trailing zeros. `false` (and
/// `out` unchanged) when `text` is not JSON.
pub(super) fn canonical_json(text: &[u8], out: &mut Vec<u8>) -> bool {
    json_rewrite(text, out, false)
}

/// JSON text as PostgreSQL prints it after reading it into `jsonb`: keys sorted by length then
/// bytes (a duplicate's last value kept), `", "` and `": "` between items, strings with only
/// the necessary escapes, numbers as `numeric` prints them. What the target sends back for a
/// `jsonb` value, so only the source side needs rewriting; a value this gets wrong shows up as
/// a mismatch that the exact comparison ([`canonical_json`] on both sides) then clears.
pub(super) fn jsonb_text(text: &[u8], out: &mut Vec<u8>) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

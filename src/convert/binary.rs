//! PostgreSQL's `COPY ... (FORMAT binary)` stream: the header, the trailer, and one encoder per
//! type, each appending a length-prefixed field to a buffer in network byte order.

/// Signature, flags (no OIDs) and an empty header extension.
pub(crate) const HEADER: [u8; 19] = [
    b'P', b'G', b'C', b'O', b'P', b'Y', b'\n', 0xFF, b'\r', b'\n', 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// The file trailer: a tuple field count of -1.
pub(crate) const TRAILER: [u8; 2] = [0xFF, 0xFF];

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01 00:00:00 UTC), where
/// binary timestamps count from.
pub const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
/// Days between the Unix epoch and PostgreSQL's, where binary dates count from.
pub const PG_EPOCH_DAYS: i64 = 10_957;
/// PostgreSQL's lowest timestamp, 4714-11-24 00:00:00 BC, in microseconds since its epoch.
pub(crate) const MIN_TIMESTAMP: i64 = -211_813_488_000_000_000;
/// The first timestamp PostgreSQL cannot hold, 294277-01-01 00:00:00, likewise.
pub(crate) const END_TIMESTAMP: i64 = 9_223_371_331_200_000_000;
/// Microseconds in a day.
pub(crate) const DAY_MICROS: i64 = 86_400_000_000;

/// What a target column's binary field is built from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    /// `numeric(p,s)` rounds to `s` and refuses more than `p - s` integer digits.
    Numeric(Option<(u32, u32)>),
    Bool,
    /// Text types; `max_chars` for `varchar(n)`/`char(n)`, `max_bytes` for `name`.
    Text {
        max_chars: Option<u32>,
        max_bytes: Option<usize>,
    },
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
    /// `inet`, or `cidr` (no bits right of the netmask).
    Inet {
        cidr: bool,
    },
    MacAddr,
    Point,
    /// PostGIS's `geometry`, from MySQL's spatial bytes as decant selects them (a 4-byte
    /// big-endian SRID, then WKB); written as EWKB, the SRID kept.
    Geometry,
    /// An enum of the app's schema; the labels are the column's.
    Enum,
    /// A one-dimensional array from JSON-array text or comma-separated labels; the element's
    /// OID (an app's enum's as its target database has it), and its encoder is the column's
    /// `element`.
    Array {
        element_oid: u32,
    },
}

/// Starts a tuple of `fields` fields.
#[inline]
pub(crate) fn tuple(out: &mut Vec<u8>, fields: i16) {
    out.extend_from_slice(&fields.to_be_bytes());
}

#[inline]
pub(crate) fn null(out: &mut Vec<u8>) {
    out.extend_from_slice(&(-1i32).to_be_bytes());
}

#[inline]
fn len(out: &mut Vec<u8>, n: usize) {
    // Callers never pass more than PostgreSQL's 1 GB field limit; saturate rather than wrap.
    let n = i32::try_from(n).unwrap_or(i32::MAX);
    out.extend_from_slice(&n.to_be_bytes());
}

#[inline]
pub(crate) fn int2(out: &mut Vec<u8>, v: i16) {
    len(out, 2);
    out.extend_from_slice(&v.to_be_bytes());
}

#[inline]
pub(crate) fn int4(out: &mut Vec<u8>, v: i32) {
    len(out, 4);
    out.extend_from_slice(&v.to_be_bytes());
}

#[inline]
pub(crate) fn int8(out: &mut Vec<u8>, v: i64) {
    len(out, 8);
    out.extend_from_slice(&v.to_be_bytes());
}

#[inline]
pub(crate) fn float4(out: &mut Vec<u8>, v: f32) {
    len(out, 4);
    out.extend_from_slice(&v.to_bits().to_be_bytes());
}

#[inline]
pub(crate) fn float8(out: &mut Vec<u8>, v: f64) {
    len(out, 8);
    out.extend_from_slice(&v.to_bits().to_be_bytes());
}

#[inline]
pub(crate) fn boolean(out: &mut Vec<u8>, v: bool) {
    len(out, 1);
    out.push(u8::from(v));
}

/// `text`, `varchar`, `bytea`, `json` and every other type whose binary form is its bytes.
#[inline]
pub(crate) fn bytes(out: &mut Vec<u8>, v: &[u8]) {
    len(out, v.len());
    out.extend_from_slice(v);
}

/// `jsonb`: a version byte (1) and the JSON text.
#[inline]
pub(crate) fn jsonb(out: &mut Vec<u8>, text: &[u8]) {
    len(out, text.len() + 1);
    out.push(1);
    out.extend_from_slice(text);
}

/// `date`: days since 2000-01-01.
#[inline]
pub(crate) fn date(out: &mut Vec<u8>, pg_days: i32) {
    int4(out, pg_days);
}

/// `time`: microseconds since midnight.
#[inline]
pub(crate) fn time(out: &mut Vec<u8>, micros: i64) {
    int8(out, micros);
}

/// `timetz`: microseconds since midnight and the zone in seconds *west* of UTC.
#[inline]
pub(crate) fn timetz(out: &mut Vec<u8>, micros: i64, offset_east_seconds: i32) {
    len(out, 12);
    out.extend_from_slice(&micros.to_be_bytes());
    out.extend_from_slice(&(-offset_east_seconds).to_be_bytes());
}

/// `timestamp` and `timestamptz`: microseconds since 2000-01-01 00:00:00 (UTC for `timestamptz`).
#[inline]
pub(crate) fn timestamp(out: &mut Vec<u8>, pg_micros: i64) {
    int8(out, pg_micros);
}

/// `interval`: microseconds, days, months.
#[inline]
pub(crate) fn interval(out: &mut Vec<u8>, micros: i64, days: i32, months: i32) {
    len(out, 16);
    out.extend_from_slice(&micros.to_be_bytes());
    out.extend_from_slice(&days.to_be_bytes());
    out.extend_from_slice(&months.to_be_bytes());
}

#[inline]
pub(crate) fn uuid(out: &mut Vec<u8>, v: &[u8; 16]) {
    len(out, 16);
    out.extend_from_slice(v);
}

/// PostgreSQL's own address family numbers in `inet`/`cidr`.
const PGSQL_AF_INET: u8 = 2;
const PGSQL_AF_INET6: u8 = 3;

/// `inet` or `cidr`: family, netmask length, the cidr flag, address length, address.
pub(crate) fn inet(out: &mut Vec<u8>, address: &[u8], bits: u8, cidr: bool) {
    len(out, 4 + address.len());
    let family = if address.len() == 16 {
        PGSQL_AF_INET6
    } else {
        PGSQL_AF_INET
    };
    out.extend_from_slice(&[family, bits, u8::from(cidr), address.len() as u8]);
    out.extend_from_slice(address);
}

pub(crate) fn macaddr(out: &mut Vec<u8>, v: &[u8; 6]) {
    len(out, 6);
    out.extend_from_slice(v);
}

pub(crate) fn point(out: &mut Vec<u8>, x: f64, y: f64) {
    len(out, 16);
    out.extend_from_slice(&x.to_bits().to_be_bytes());
    out.extend_from_slice(&y.to_bits().to_be_bytes());
}

/// `numeric` from decimal digits (each 0–9, most significant first) scaled by `10^-scale`:
/// the value is `digits × 10^-scale`, shown with `scale` digits after the point.
pub(crate) fn numeric(out: &mut Vec<u8>, negative: bool, digits: &[u8], scale: u32) {
    let scale_len = scale as usize;
    let int_len = digits.len().saturating_sub(scale_len);
    // Leading zeros so the integer part fills whole base-10000 groups.
    let lead = (4 - int_len % 4) % 4;
    let frac_zeros = scale_len.saturating_sub(digits.len());
    let total = lead + int_len + frac_zeros + (digits.len() - int_len);
    let trail = (4 - total % 4) % 4;
    let digit_at = |i: usize| -> u16 {
        // Position `i` in [lead zeros][integer digits][fraction zeros][fraction digits][trail zeros].
        if i < lead {
            return 0;
        }
        let i = i - lead;
        if i < int_len {
            return u16::from(digits[i]);
        }
        let i = i - int_len;
        if i < frac_zeros {
            return 0;
        }
        let i = i - frac_zeros;
        digits.get(int_len + i).map_or(0, |d| u16::from(*d))
    };
    let groups = (total + trail) / 4;
    let group = |g: usize| -> u16 {
        let b = g * 4;
        digit_at(b) * 1000 + digit_at(b + 1) * 100 + digit_at(b + 2) * 10 + digit_at(b + 3)
    };
    // Zero groups at either end are left out (as PostgreSQL stores them); computed twice
    // rather than collected, so no allocation per value.
    let first = (0..groups).find(|g| group(*g) != 0);
    let (first, end) = match first {
        Some(first) => (
            first,
            (first..groups).rfind(|g| group(*g) != 0).unwrap_or(first) + 1,
        ),
        None => (0, 0),
    };
    let count = end - first;
    let sign: u16 = if negative && count > 0 { 0x4000 } else { 0 };
    let weight = if count == 0 {
        0
    } else {
        ((lead + int_len) / 4) as i32 - 1 - first as i32
    };
    len(out, 8 + 2 * count);
    out.extend_from_slice(&(count as u16).to_be_bytes());
    out.extend_from_slice(&(weight as i16).to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&(scale as u16).to_be_bytes());
    for g in first..end {
        out.extend_from_slice(&group(g).to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numeric field without its length: (ndigits, weight, sign, dscale, digits).
    fn numeric_parts(negative: bool, digits: &[u8], scale: u32) -> (u16, i16, u16, u16, Vec<u16>) {
        let mut out = Vec::new();
        numeric(&mut out, negative, digits, scale);
        let be = |i: usize| u16::from_be_bytes([out[i], out[i + 1]]);
        let n = be(4);
        let digits = (0..n as usize).map(|i| be(12 + 2 * i)).collect();
        (n, be(6) as i16, be(8), be(10), digits)
    }

    #[test]
    fn numerics_group_digits_in_base_ten_thousand() {
        assert_eq!(
            numeric_parts(false, &[4, 2, 0], 2),
            (2, 0, 0, 2, vec![4, 2000])
        );
        assert_eq!(numeric_parts(false, &[5], 2), (1, -1, 0, 2, vec![500]));
        assert_eq!(
            numeric_parts(true, &[1, 2, 3, 4, 5], 0),
            (2, 1, 0x4000, 0, vec![1, 2345])
        );
        assert_eq!(
            numeric_parts(false, &[1, 0, 0, 0, 0, 0, 0, 0, 0], 0),
            (1, 2, 0, 0, vec![1])
        );
        assert_eq!(numeric_parts(true, &[], 2), (0, 0, 0, 2, vec![]));
        assert_eq!(numeric_parts(false, &[1], 9), (1, -3, 0, 9, vec![1000]));
    }
}

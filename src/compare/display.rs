//! Showing values: a binary field as the target type prints it, or as a JSON value in a key,
//! for the differences a check lists.

use std::fmt::Write as _;

use serde_json::Value as Json;

use super::canonical::canonical;
use super::layout::Ty;
use crate::copy::{show_value, value_json, IpNet, SqlValue};
use crate::transform::calendar::civil_from_days;

use crate::mapping::wire::{PG_EPOCH_DAYS, PG_EPOCH_MICROS};

/// A field as the target type prints it (text shown safely and truncated).
pub(super) fn display(ty: Ty, value: Option<&[u8]>) -> String {
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
        // Family, netmask length, the cidr flag, address length, address.
        (Ty::Inet | Ty::Cidr, 8 | 20) => IpNet::from_bytes(&b[4..]).map(|mut net| {
            net.bits = b[1];
            net.text(ty == Ty::Cidr)
        }),
        (Ty::MacAddr, 6) => Some(
            b.iter()
                .map(|byte| format!("{byte:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
        ),
        (Ty::Point, 16) => {
            let coordinate = |at: usize| {
                let f = f64::from_bits(be_i64(&b[at..at + 8]) as u64);
                float_text(f, f.to_string())
            };
            Some(format!("({},{})", coordinate(0), coordinate(8)))
        }
        _ => None,
    };
    shown.unwrap_or_else(|| show_value(&SqlValue::Blob(b.to_vec())))
}

pub(super) fn be_i32(b: &[u8]) -> i32 {
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
            let days = i64::from(d) + PG_EPOCH_DAYS;
            match civil_from_days(days) {
                Some((y, m, d)) => format!("{y:04}-{m:02}-{d:02}"),
                None => format!("{days} days after 1970-01-01"),
            }
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
            let zone = if with_zone { "+00" } else { "" };
            match civil_from_days(days) {
                Some((y, mo, d)) => format!("{y:04}-{mo:02}-{d:02} {}{zone}", time_text(rest)),
                None => format!("{days} days after 1970-01-01, {}{zone}", time_text(rest)),
            }
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
pub(super) fn json_value(ty: Ty, value: Option<&[u8]>) -> Json {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn values_display_as_postgres_prints_them() {
        assert_eq!(date_text(0), "2000-01-01");
        assert_eq!(timestamp_text(0, true), "2000-01-01 00:00:00+00");
        assert_eq!(timestamp_text(1_500_000, false), "2000-01-01 00:00:01.5");
        assert_eq!(display(Ty::Bool, Some(&[1])), "true");
        assert_eq!(display(Ty::Int2, None), "NULL");
        assert_eq!(interval_text(3_600_000_000, 2, 0), "2 days 01:00:00");
        assert_eq!(display(Ty::Bpchar, Some(b"ab   ")), "ab   ");
        assert_eq!(
            display(Ty::Inet, Some(&[2, 32, 0, 4, 10, 0, 0, 1])),
            "10.0.0.1"
        );
        assert_eq!(
            display(Ty::Inet, Some(&[2, 8, 0, 4, 10, 0, 0, 1])),
            "10.0.0.1/8"
        );
        assert_eq!(
            display(Ty::Cidr, Some(&[2, 32, 1, 4, 10, 0, 0, 1])),
            "10.0.0.1/32"
        );
        let mut v6 = vec![3, 64, 0, 16, 0xfe, 0x80];
        v6.extend([0; 13]);
        v6.push(1);
        assert_eq!(display(Ty::Inet, Some(&v6)), "fe80::1/64");
        assert_eq!(
            display(Ty::MacAddr, Some(&[8, 0, 0x2b, 1, 2, 3])),
            "08:00:2b:01:02:03"
        );
        let mut point = 1.5f64.to_bits().to_be_bytes().to_vec();
        point.extend((-2f64).to_bits().to_be_bytes());
        assert_eq!(display(Ty::Point, Some(&point)), "(1.5,-2)");
    }
}

//! Numbers, booleans, text, UUIDs, JSON, addresses and spatial bytes: each reads a value into
//! what its PostgreSQL type holds, or says why the value cannot be one.

use std::borrow::Cow;

use super::addresses::{parse_macaddr, parse_point, IpNet};
use super::decimal::Decimal;
use super::real::sqlite_real_text;
use super::value::{invalid_utf8, shown, Reason, Val};

/// A number from an integer, a real or numeric text.
pub(crate) fn number(val: &Val<'_>) -> Option<f64> {
    match val {
        Val::Int(i) => Some(*i as f64),
        Val::Real(f) => Some(*f),
        Val::Text(t) => t.trim().parse::<f64>().ok(),
        _ => None,
    }
}

/// 2^63: `i64::MAX` rounds up to it as a double.
pub(crate) const TWO_POW_63: f64 = i64::MAX as f64;

pub(crate) fn integer(val: &Val<'_>, min: i64, max: i64, type_name: &str) -> Result<i64, Reason> {
    let out_of_range =
        |shown: &dyn std::fmt::Display| format!("{shown} is out of range for `{type_name}`");
    let i = match val {
        Val::Int(i) => *i,
        Val::Bool(b) => i64::from(*b),
        Val::Real(f) => {
            if !f.is_finite() || f.fract() != 0.0 {
                return Err(format!("{} is not an integer", sqlite_real_text(*f)));
            }
            if *f < -TWO_POW_63 || *f >= TWO_POW_63 {
                return Err(out_of_range(&sqlite_real_text(*f)));
            }
            exact_real(*f, 0, type_name)?;
            *f as i64
        }
        Val::Text(t) => {
            let trimmed = t.trim();
            match trimmed.parse::<i64>() {
                Ok(i) => i,
                Err(_) => {
                    let d = Decimal::parse(trimmed)
                        .ok_or_else(|| format!("`{t}` is not an integer"))?;
                    if !d.is_integral() {
                        return Err(format!("`{t}` is not an integer"));
                    }
                    d.to_i64()
                        .ok_or_else(|| out_of_range(&format_args!("`{trimmed}`")))?
                }
            }
        }
        Val::InvalidText(b) => return Err(invalid_utf8(b)),
        other => return Err(format!("{} is not an integer", other.describe())),
    };
    if i < min || i > max {
        return Err(out_of_range(&i));
    }
    Ok(i)
}

/// A REAL stands for one decimal at `scale` digits only while neighbouring doubles are at
/// most a unit of that digit apart: beyond 2^53 for integers, a double is a rounded stand-in
/// for the value the application wrote, and carrying it would be a silent approximation.
pub(crate) fn exact_real(f: f64, scale: u32, type_sql: &str) -> Result<(), Reason> {
    let r = f.abs();
    let step = f64::from_bits(r.to_bits() + 1) - r;
    let unit = 10f64.powi(-(scale.min(300) as i32));
    if step > unit {
        return Err(format!(
            "{} cannot be carried exactly into `{type_sql}`: SQLite stored it as a REAL, which at this size is exact only to steps of {}",
            sqlite_real_text(f),
            sqlite_real_text(step)
        ));
    }
    Ok(())
}

pub(crate) fn float(val: &Val<'_>) -> Result<f64, Reason> {
    match val {
        Val::Real(f) => Ok(*f),
        Val::Int(i) => {
            let f = *i as f64;
            // i64::MAX rounds up to 2^63, which does not convert back.
            if f >= TWO_POW_63 || f as i64 != *i {
                return Err(format!(
                    "{i} cannot be represented exactly as a floating-point number"
                ));
            }
            Ok(f)
        }
        Val::Text(t) => match t.trim().parse::<f64>() {
            // Rust reads `NaN`, `inf` and `1e999` as floats, and PostgreSQL would store them;
            // the profile calls such text a bad row, and so does the load unless the column
            // says otherwise.
            Ok(f) if !f.is_finite() => Err(match special_float(t) {
                Some(_) => format!(
                    "text {} is not a finite number; add `transform: keep_nan_infinity` to the column to load it as {}",
                    shown(t),
                    if f.is_nan() { "NaN" } else if f > 0.0 { "Infinity" } else { "-Infinity" }
                ),
                None => format!("text {} is out of range for a floating-point number", shown(t)),
            }),
            Ok(f) => Ok(f),
            Err(_) => Err(format!("`{t}` is not a number")),
        },
        Val::InvalidText(b) => Err(invalid_utf8(b)),
        other => Err(format!("{} is not a number", other.describe())),
    }
}

pub(crate) fn boolean(val: &Val<'_>) -> Result<bool, Reason> {
    match val {
        Val::Bool(b) => Ok(*b),
        Val::Int(0) => Ok(false),
        Val::Int(1) => Ok(true),
        Val::Int(i) => Err(format!(
            "{i} is not a boolean (expected 0/1, t/f, true/false, yes/no)"
        )),
        Val::Real(f) if *f == 0.0 => Ok(false),
        Val::Real(f) if *f == 1.0 => Ok(true),
        Val::Real(f) => Err(format!(
            "{} is not a boolean (expected 0/1, t/f, true/false, yes/no)",
            sqlite_real_text(*f)
        )),
        Val::Text(t) => to_boolean(t),
        Val::InvalidText(b) => Err(invalid_utf8(b)),
        other => Err(format!("{} is not a boolean", other.describe())),
    }
}

pub(crate) fn uuid(val: &Val<'_>) -> Result<[u8; 16], Reason> {
    match val {
        // 16 bytes are the UUID itself; its text as bytes is what MariaDB's UUID type (10.7+,
        // Django's UUIDField there) sends, flagged binary.
        Val::Blob(b) => <[u8; 16]>::try_from(b.as_ref()).or_else(|_| {
            std::str::from_utf8(b)
                .ok()
                .filter(|t| t.len() == 32 || t.len() == 36)
                .and_then(parse_uuid)
                .ok_or_else(|| {
                    format!(
                        "a {}-byte blob is not a UUID (expected 16 bytes, or the text of one)",
                        b.len()
                    )
                })
        }),
        Val::Text(t) => {
            parse_uuid(t).ok_or_else(|| format!("`{t}` is not a UUID (expected 32 hex digits)"))
        }
        Val::InvalidText(b) => Err(invalid_utf8(b)),
        other => Err(format!("{} is not a UUID", other.describe())),
    }
}

/// An `inet`/`cidr` value from text, an IPv4 address as an integer, or 4 or 16 address bytes.
pub(crate) fn ip_net(val: &Val<'_>, cidr: bool) -> Result<IpNet, Reason> {
    let net = match val {
        Val::Text(t) => IpNet::parse(t).ok_or_else(|| {
            format!("`{t}` is not an IP address (a.b.c.d or IPv6, with an optional /bits)")
        })?,
        Val::Int(i) => IpNet::from_integer(*i)
            .ok_or_else(|| format!("{i} is not an IPv4 address (0 to 4294967295)"))?,
        Val::Blob(b) => IpNet::from_bytes(b).ok_or_else(|| {
            format!(
                "a {}-byte blob is not an IP address (expected 4 or 16 bytes)",
                b.len()
            )
        })?,
        Val::InvalidText(b) => return Err(invalid_utf8(b)),
        other => return Err(format!("{} is not an IP address", other.describe())),
    };
    if cidr && net.has_host_bits() {
        return Err(format!(
            "`{}` is not a network for `cidr`: it has bits set right of the /{} mask",
            net.text(false),
            net.bits
        ));
    }
    Ok(net)
}

pub(crate) fn macaddr(val: &Val<'_>) -> Result<[u8; 6], Reason> {
    match val {
        Val::Text(t) => parse_macaddr(t)
            .ok_or_else(|| format!("`{t}` is not a MAC address (expected 12 hex digits)")),
        Val::Blob(b) => <[u8; 6]>::try_from(b.as_ref()).map_err(|_| {
            format!(
                "a {}-byte blob is not a MAC address (expected 6 bytes)",
                b.len()
            )
        }),
        Val::InvalidText(b) => Err(invalid_utf8(b)),
        other => Err(format!("{} is not a MAC address", other.describe())),
    }
}

pub(crate) fn point(val: &Val<'_>) -> Result<(f64, f64), Reason> {
    match val {
        Val::Text(t) => {
            parse_point(t).ok_or_else(|| format!("`{t}` is not a point (expected `(x,y)`)"))
        }
        Val::InvalidText(b) => Err(invalid_utf8(b)),
        other => Err(format!("{} is not a point", other.describe())),
    }
}

/// A UUID text in its dashed lowercase form: `{0123456789ABCDEF0123456789abcdef}` →
/// `01234567-89ab-cdef-0123-456789abcdef`. Read by [`parse_uuid`], as every UUID text is.
pub(crate) fn uuid_text(text: &str) -> Result<String, Reason> {
    let u = parse_uuid(text)
        .ok_or_else(|| format!("`{text}` is not a UUID (expected 32 hex digits)"))?;
    let h: String = u.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// JSON text, checked: invalid JSON is an error, never carried as a string.
pub(crate) fn json_checked(text: &str) -> Result<(), Reason> {
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| ())
        .map_err(|e| format!("invalid JSON: {e}"))
}

/// 32 hex digits, dashed or not, optionally in one pair of braces (as PostgreSQL reads them:
/// a brace without its partner, or two pairs, is not a UUID).
pub(crate) fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let t = text.trim();
    let t = t
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(t);
    let mut out = [0u8; 16];
    let mut n = 0;
    for c in t.bytes() {
        if c == b'-' {
            continue;
        }
        let v = (c as char).to_digit(16)? as u8;
        if n >= 32 {
            return None;
        }
        out[n / 2] |= if n % 2 == 0 { v << 4 } else { v };
        n += 1;
    }
    (n == 32).then_some(out)
}

/// JSON text, checked; `jsonb` also refuses `\u0000`, which it cannot store.
pub(crate) fn json<'a>(val: &'a Val<'_>, binary: bool) -> Result<Cow<'a, str>, Reason> {
    let t: Cow<'a, str> = match val {
        Val::Text(t) => Cow::Borrowed(t.as_ref()),
        Val::Blob(b) => Cow::Borrowed(
            std::str::from_utf8(b)
                .map_err(|_| format!("a blob of {} bytes is not JSON text", b.len()))?,
        ),
        Val::InvalidText(b) => return Err(invalid_utf8(b)),
        Val::Int(i) => return Ok(Cow::Owned(i.to_string())),
        Val::Real(f) if f.is_finite() => return Ok(Cow::Owned(f.to_string())),
        Val::Bool(b) => return Ok(Cow::Borrowed(if *b { "true" } else { "false" })),
        other => return Err(format!("{} is not JSON", other.describe())),
    };
    json_checked(&t)?;
    if binary && has_escaped_nul(&t) {
        return Err("JSON with `\\u0000` cannot be stored in `jsonb`".to_owned());
    }
    Ok(t)
}

/// Whether JSON text has a `\u0000` escape (not an escaped backslash followed by `u0000`).
pub(crate) fn has_escaped_nul(t: &str) -> bool {
    let b = t.as_bytes();
    let mut from = 0;
    while let Some(pos) = t[from..].find("\\u0000") {
        let at = from + pos;
        let backslashes = b[..at].iter().rev().take_while(|c| **c == b'\\').count();
        if backslashes % 2 == 0 {
            return true;
        }
        from = at + 1;
    }
    false
}

/// PostGIS's EWKB of a spatial value as the MySQL load selects it: a 4-byte big-endian SRID,
/// then the WKB. The SRID goes into the WKB's header (flag 0x20000000), in its byte order;
/// SRID 0 (none) leaves plain WKB.
pub(crate) fn ewkb(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let too_short = || format!("{} bytes are not an SRID and WKB", bytes.len());
    let (srid, wkb) = bytes.split_at_checked(4).ok_or_else(too_short)?;
    let srid = u32::from_be_bytes(srid.try_into().map_err(|_| too_short())?);
    if wkb.len() < 5 {
        return Err(too_short());
    }
    if srid == 0 {
        return Ok(wkb.to_vec());
    }
    let little = match wkb[0] {
        1 => true,
        0 => false,
        b => return Err(format!("WKB byte order {b} is neither 0 nor 1")),
    };
    let header: [u8; 4] = wkb[1..5].try_into().map_err(|_| too_short())?;
    let kind = if little {
        u32::from_le_bytes(header)
    } else {
        u32::from_be_bytes(header)
    } | 0x2000_0000;
    let mut out = Vec::with_capacity(wkb.len() + 4);
    out.push(wkb[0]);
    if little {
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&srid.to_le_bytes());
    } else {
        out.extend_from_slice(&kind.to_be_bytes());
        out.extend_from_slice(&srid.to_be_bytes());
    }
    out.extend_from_slice(&wkb[5..]);
    Ok(out)
}
/// The floating-point value of a text that names one that is not finite (`NaN`, `Infinity`,
/// `-inf`, in any case, with blanks around): text Rust and PostgreSQL both read as a float,
/// but that a column of numbers holds by accident more often than on purpose, so a float
/// column takes it only with `transform: keep_nan_infinity`.
pub fn special_float(text: &str) -> Option<f64> {
    let t = text.trim().to_ascii_lowercase();
    let (negative, word) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(&t)),
    };
    let f = match word {
        "nan" => f64::NAN,
        "inf" | "infinity" => f64::INFINITY,
        _ => return None,
    };
    Some(if negative { -f } else { f })
}

/// Boolean spellings real files use: 0/1, t/f, true/false, yes/no, y/n, on/off.
pub fn to_boolean(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "yes" | "y" | "on" => Ok(true),
        "0" | "f" | "false" | "no" | "n" | "off" => Ok(false),
        _ => Err(format!(
            "`{text}` is not a boolean (expected 0/1, t/f, true/false, yes/no)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ewkb_puts_the_srid_into_the_wkb_header_in_its_byte_order_and_leaves_srid_0_plain() {
        // POINT(1 2), little-endian WKB, SRID 4326 ahead of it (big-endian, as selected).
        let mut point = vec![1, 1, 0, 0, 0];
        point.extend(1f64.to_le_bytes());
        point.extend(2f64.to_le_bytes());
        let with = |srid: u32, wkb: &[u8]| [srid.to_be_bytes().as_slice(), wkb].concat();
        let mut expected = vec![1, 1, 0, 0, 0x20];
        expected.extend(4326u32.to_le_bytes());
        expected.extend(&point[5..]);
        assert_eq!(ewkb(&with(4326, &point)).unwrap(), expected);
        assert_eq!(ewkb(&with(0, &point)).unwrap(), point);
        // Big-endian WKB keeps big-endian.
        let mut big = vec![0, 0, 0, 0, 1];
        big.extend(1f64.to_be_bytes());
        big.extend(2f64.to_be_bytes());
        let mut expected = vec![0, 0x20, 0, 0, 1];
        expected.extend(4326u32.to_be_bytes());
        expected.extend(&big[5..]);
        assert_eq!(ewkb(&with(4326, &big)).unwrap(), expected);
        assert!(ewkb(&[0, 0, 0]).is_err());
        assert!(ewkb(&with(4326, &[7, 1, 0, 0, 0])).is_err());
    }

    #[test]
    fn integers_come_from_integral_numbers_and_text_only() {
        assert_eq!(
            integer(&Val::Text(" 42 ".into()), i64::MIN, i64::MAX, "bigint"),
            Ok(42)
        );
        assert_eq!(
            integer(&Val::Text("42.0".into()), i64::MIN, i64::MAX, "bigint"),
            Ok(42)
        );
        assert!(integer(&Val::Text("4.5".into()), i64::MIN, i64::MAX, "bigint").is_err());
        assert!(integer(&Val::Real(4.5), i64::MIN, i64::MAX, "bigint").is_err());
        assert_eq!(
            integer(&Val::Real(4.0), i64::MIN, i64::MAX, "bigint"),
            Ok(4)
        );
        assert!(integer(&Val::Int(40_000), -32_768, 32_767, "smallint").is_err());
        assert!(integer(&Val::Real(1e19), i64::MIN, i64::MAX, "bigint").is_err());
        assert!(integer(&Val::Real(9007199254740992.0), i64::MIN, i64::MAX, "bigint").is_err());
        assert_eq!(
            integer(&Val::Real(9007199254740991.0), i64::MIN, i64::MAX, "bigint"),
            Ok(9_007_199_254_740_991)
        );
    }

    #[test]
    fn reals_too_large_to_stand_for_one_value_at_the_column_scale_are_refused() {
        assert!(exact_real(1.8446744073709552e19, 0, "numeric(20,0)").is_err());
        assert!(exact_real(1e14 + 0.5, 1, "numeric(20,1)").is_ok());
        assert!(exact_real(1e15, 2, "numeric(20,2)").is_err());
        assert!(exact_real(1e13, 2, "numeric(20,2)").is_ok());
        assert!(exact_real(-0.1, 2, "numeric(5,2)").is_ok());
    }

    #[test]
    fn uuids_parse_and_json_escapes_are_found() {
        assert_eq!(
            parse_uuid("{00112233-4455-6677-8899-aabbccddeeff}").map(|u| u[15]),
            Some(0xff)
        );
        assert!(parse_uuid("0011223344556677").is_none());
        assert!(has_escaped_nul(r#"{"a":"\u0000"}"#));
        assert!(!has_escaped_nul(r#"{"a":"\\u0000"}"#));
    }

    #[test]
    fn boolean_spellings_are_recognised() {
        for t in ["1", "t", "TRUE", "yes", " Y "] {
            assert_eq!(to_boolean(t), Ok(true), "{t}");
        }
        for f in ["0", "f", "False", "no"] {
            assert_eq!(to_boolean(f), Ok(false), "{f}");
        }
        assert!(to_boolean("maybe").is_err());
    }

    #[test]
    fn special_floats_are_named_in_any_case_with_a_sign_and_blanks() {
        assert!(special_float("NaN").is_some_and(f64::is_nan));
        assert!(special_float(" -nan ").is_some_and(f64::is_nan));
        assert_eq!(special_float("Infinity"), Some(f64::INFINITY));
        assert_eq!(special_float("+INF"), Some(f64::INFINITY));
        assert_eq!(special_float("-infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(special_float("1e999"), None);
        assert_eq!(special_float("nanny"), None);
        assert_eq!(special_float(""), None);
    }
}

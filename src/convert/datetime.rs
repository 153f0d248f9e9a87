//! Dates, times, timestamps and intervals from text as PostgreSQL's grammar reads it, and
//! epochs to instants: days and microseconds as binary COPY carries them, or why not.

use super::binary;
use super::calendar::{self, NotADate};
use super::decimal::Decimal;
use super::real::sqlite_real_text;
use super::scalar::number;
use super::value::{invalid_utf8, shown, Reason, Val};

/// Epoch seconds or milliseconds (`per_unit` microseconds each) to an instant.
pub(crate) fn epoch<'a>(
    val: &Val<'_>,
    per_unit: i64,
    limit: f64,
    name: &str,
) -> Result<Val<'a>, Reason> {
    let unit = if per_unit == 1_000_000 {
        "seconds"
    } else {
        "milliseconds"
    };
    let exact = match val {
        Val::Int(i) => Some(*i),
        Val::Text(t) => t.trim().parse::<i64>().ok(),
        _ => None,
    };
    if let Some(i) = exact {
        if (i as f64).abs() > limit {
            return Err(format!("{i} is not a plausible epoch in {unit}"));
        }
        return Ok(Val::Instant(i * per_unit));
    }
    let f = number(val)
        .ok_or_else(|| format!("{} is not an epoch in {unit} (`{name}`)", val.describe()))?;
    if !f.is_finite() || f.abs() > limit {
        return Err(format!("`{f}` is not a plausible epoch in {unit}"));
    }
    Ok(Val::Instant((f * per_unit as f64).round() as i64))
}

/// Numbers in a temporal column need a transform that says what they count.
pub(crate) fn temporal_number_reason(val: &Val<'_>, type_sql: &str) -> Reason {
    let shown = match val {
        Val::Int(i) => i.to_string(),
        Val::Real(f) => sqlite_real_text(*f),
        _ => String::new(),
    };
    format!(
        "{} {shown} in a `{type_sql}` column: say what it counts with a transform such as `epoch_s_to_timestamptz`, `epoch_ms_to_timestamptz` or `julian_to_timestamp`",
        val.describe()
    )
}

/// A parsed ISO-8601 date-time: days since the Unix epoch, microseconds into the day, and
/// the UTC offset in seconds when the text has one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DateTime {
    days: i64,
    micros: i64,
    offset: Option<i32>,
}

/// Why PostgreSQL would change a valid time text on reading it, if it would: more than six
/// digits after the second (rounded to the microsecond), second 60 (the next minute), and,
/// when `day_ends` (a date-time; a `time` keeps `24:00:00`), hour 24 (the next midnight).
pub(crate) fn inexact_time(text: &str, day_ends: bool) -> Option<&'static str> {
    let b = text.as_bytes();
    let dated = b.len() > 10 && b[4] == b'-' && b[7] == b'-';
    let clock = if dated { &b[11..] } else { b };
    let hour = digits_at(clock, 0, 2)?;
    let second = (clock.get(5) == Some(&b':'))
        .then(|| digits_at(clock, 6, 2))
        .flatten();
    let digits = match (second, clock.get(8)) {
        (Some(_), Some(b'.')) => clock[9..].iter().take_while(|c| c.is_ascii_digit()).count(),
        _ => 0,
    };
    if digits > 6 {
        Some("has more than six digits after the second, and PostgreSQL would round it to the microsecond")
    } else if second == Some(60) {
        Some("has second 60, which PostgreSQL would make the next minute")
    } else if dated && day_ends && hour == 24 {
        Some("is at 24:00, which PostgreSQL would make midnight of the next day")
    } else {
        None
    }
}

/// The reason for a time text [`inexact_time`] refuses.
pub(crate) fn inexact_reason(text: &str, why: &str) -> Reason {
    format!(
        "{} {why}; add `transform: round_times` to the column to let it",
        shown(text)
    )
}

pub(crate) fn timestamp(val: &Val<'_>, type_sql: &str, exact: bool) -> Result<i64, Reason> {
    let unix_micros = match val {
        Val::Instant(m) => *m,
        Val::Text(t) => match infinite_timestamp(t) {
            Some(end) => return Ok(end),
            None => iso_instant(t, exact)?,
        },
        Val::InvalidText(b) => return Err(invalid_utf8(b)),
        Val::Int(_) | Val::Real(_) => return Err(temporal_number_reason(val, type_sql)),
        other => return Err(format!("{} is not a timestamp", other.describe())),
    };
    let pg = unix_micros
        .checked_sub(binary::PG_EPOCH_MICROS)
        .filter(|m| (binary::MIN_TIMESTAMP..binary::END_TIMESTAMP).contains(m));
    pg.ok_or_else(|| {
        format!(
            "{} is out of range for `{type_sql}`",
            shown_instant(unix_micros)
        )
    })
}

/// `i64::MAX` or `i64::MIN` for PostgreSQL's `infinity` (`+infinity`) and `-infinity`, in
/// any case, with blanks around.
pub(crate) fn infinite_timestamp(t: &str) -> Option<i64> {
    let trimmed = t.trim();
    if trimmed.eq_ignore_ascii_case("infinity") || trimmed.eq_ignore_ascii_case("+infinity") {
        Some(i64::MAX)
    } else if trimmed.eq_ignore_ascii_case("-infinity") {
        Some(i64::MIN)
    } else {
        None
    }
}

/// The instant of an ISO-8601 date or date-time text, in microseconds since the Unix epoch:
/// naive text is UTC, an offset is applied, so the instant is kept. With `exact`, a time
/// PostgreSQL would change on reading it is refused. decant's one ISO-8601 reader: the
/// timestamp encoders and the `iso_to_*` built-ins (in both their forms) call it.
pub(crate) fn iso_instant(t: &str, exact: bool) -> Result<i64, Reason> {
    let trimmed = t.trim();
    let dt = parse_datetime(trimmed).map_err(|r| format!("`{t}` {r}"))?;
    if let Some(why) = inexact_time(trimmed, true).filter(|_| exact) {
        return Err(inexact_reason(t, why));
    }
    Ok((dt.days * binary::DAY_MICROS + dt.micros) - i64::from(dt.offset.unwrap_or(0)) * 1_000_000)
}

/// The calendar date of a date-time's wall clock, as `YYYY-MM-DD`: `2024-01-31 23:30:00-05:00`
/// → `2024-01-31`. The time of day, and an offset after it, are dropped, never applied: the
/// date is the one the source wrote. Read by [`parse_datetime`], as every ISO-8601 text is.
pub(crate) fn wall_date(t: &str) -> Result<String, Reason> {
    let dt = parse_datetime(t.trim()).map_err(|r| format!("`{t}` {r}"))?;
    let (y, m, d) = calendar::civil_from_days(dt.days)
        .ok_or_else(|| format!("`{t}` is outside the years -9999 to 9999"))?;
    Ok(format!("{y:04}-{m:02}-{d:02}"))
}

pub(crate) fn date(val: &Val<'_>) -> Result<i32, Reason> {
    let days = match val {
        Val::Instant(m) => {
            if m.rem_euclid(binary::DAY_MICROS) != 0 {
                return Err(format!(
                    "{} has a time of day; the column is a `date`",
                    shown_instant(*m)
                ));
            }
            m.div_euclid(binary::DAY_MICROS)
        }
        Val::Text(t) => {
            let trimmed = t.trim();
            if trimmed.eq_ignore_ascii_case("infinity") {
                return Ok(i32::MAX);
            }
            if trimmed.eq_ignore_ascii_case("-infinity") {
                return Ok(i32::MIN);
            }
            let dt = parse_datetime(trimmed).map_err(|r| format!("`{t}` {r}"))?;
            if dt.micros != 0 || dt.offset.unwrap_or(0) != 0 {
                return Err(format!("`{t}` has a time of day; the column is a `date`"));
            }
            dt.days
        }
        Val::InvalidText(b) => return Err(invalid_utf8(b)),
        Val::Int(_) | Val::Real(_) => return Err(temporal_number_reason(val, "date")),
        other => return Err(format!("{} is not a date", other.describe())),
    };
    Ok((days - binary::PG_EPOCH_DAYS) as i32)
}

pub(crate) fn time_of_day(
    val: &Val<'_>,
    with_zone: bool,
    exact: bool,
) -> Result<(i64, i32), Reason> {
    match val {
        Val::Text(t) => {
            let (micros, offset, rest) = parse_time(t.trim().as_bytes())
                .ok_or_else(|| format!("`{t}` is not a time of day (HH:MM[:SS[.ffffff]])"))?;
            if !rest.is_empty() {
                return Err(format!("`{t}` is not a time of day (HH:MM[:SS[.ffffff]])"));
            }
            if let Some(why) = inexact_time(t.trim(), false).filter(|_| exact) {
                return Err(inexact_reason(t, why));
            }
            if offset.is_some() && !with_zone {
                return Err(format!(
                    "`{t}` has a UTC offset; the column is a `time` without time zone"
                ));
            }
            Ok((micros, offset.unwrap_or(0)))
        }
        Val::InvalidText(b) => Err(invalid_utf8(b)),
        other => Err(format!("{} is not a time of day", other.describe())),
    }
}

/// Microseconds and days: from a transform, `N microseconds`, `N seconds`, `[N days] [-]HH:MM:SS[.f]`.
pub(crate) fn interval(val: &Val<'_>) -> Result<(i64, i32), Reason> {
    match val {
        Val::Micros(m) => Ok((*m, 0)),
        Val::Text(t) => parse_interval(t.trim()).ok_or_else(|| {
            format!("`{t}` is not an interval decant reads (`N microseconds`, `N seconds`, `[N days] HH:MM:SS`); use a transform such as `microseconds_to_interval`")
        }),
        Val::InvalidText(b) => Err(invalid_utf8(b)),
        Val::Int(i) => Err(format!("an integer {i} in an `interval` column: say what it counts with a transform such as `microseconds_to_interval`")),
        other => Err(format!("{} is not an interval", other.describe())),
    }
}

pub(crate) fn parse_interval(t: &str) -> Option<(i64, i32)> {
    let words: Vec<&str> = t.split_whitespace().collect();
    if let [n, unit] = words.as_slice() {
        let unit = unit.to_ascii_lowercase();
        if unit.starts_with("microsecond") || unit == "us" {
            return n.parse::<i64>().ok().map(|m| (m, 0));
        }
        if unit.starts_with("second") || unit == "s" {
            let d = Decimal::parse(n)?.round_to(6);
            return d.scaled_i64().map(|m| (m, 0));
        }
        if unit.starts_with("day") {
            return n.parse::<i32>().ok().map(|d| (0, d));
        }
    }
    let (days, clock) = match words.as_slice() {
        [clock] => (0, *clock),
        [n, unit, clock] if unit.to_ascii_lowercase().starts_with("day") => {
            (n.parse::<i32>().ok()?, *clock)
        }
        _ => return None,
    };
    let (negative, clock) = match clock.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, clock),
    };
    let b = clock.as_bytes();
    let colon = b.iter().position(|c| *c == b':')?;
    let hours: i64 = clock[..colon].parse().ok()?;
    let (micros, rest) = parse_time_parts(&b[colon + 1..], true)?;
    if !rest.is_empty() {
        return None;
    }
    let total = hours.checked_mul(3_600_000_000)?.checked_add(micros)?;
    Some((if negative { -total } else { total }, days))
}

pub(crate) fn digits_at(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let s = b.get(at..at + n)?;
    if !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
}

/// `YYYY-MM-DD`, then optionally `T` or a space and a time of day with an optional offset.
///
/// The tokenizer is decant's, because it follows PostgreSQL's grammar and a value must load as
/// PostgreSQL would read its text; the calendar behind it (which dates exist, their day
/// counts) is jiff's, through `transform::calendar`. jiff's own parser reads some texts
/// otherwise, checked side by side (jiff 0.2 against PostgreSQL 15): `24:00:00` (PostgreSQL:
/// the next midnight; jiff: an error), `23:59:60` (PostgreSQL: the next minute; jiff: silently
/// `23:59:59`), an offset after a space (`+05`; jiff: an error) and offsets past ±15:59
/// (PostgreSQL: an error; jiff: accepted).
pub(crate) fn parse_datetime(t: &str) -> Result<DateTime, &'static str> {
    const NOT_ISO: &str = "is not an ISO-8601 date or date-time";
    let b = t.as_bytes();
    let (year, month, day) = match (
        digits_at(b, 0, 4),
        b.get(4),
        digits_at(b, 5, 2),
        b.get(7),
        digits_at(b, 8, 2),
    ) {
        (Some(y), Some(b'-'), Some(m), Some(b'-'), Some(d)) => (y, m as u32, d as u32),
        _ => return Err(NOT_ISO),
    };
    if year == 0 {
        return Err("has year 0, which does not exist");
    }
    let days = match calendar::date(year, month, day) {
        Ok(date) => calendar::unix_days(date),
        Err(NotADate::Month) => return Err("has an impossible month"),
        Err(NotADate::Day) => return Err("is an impossible date"),
    };
    let rest = &b[10..];
    if rest.is_empty() {
        return Ok(DateTime {
            days,
            micros: 0,
            offset: None,
        });
    }
    let rest = match rest[0] {
        b'T' | b't' | b' ' => &rest[1..],
        _ => return Err(NOT_ISO),
    };
    let (micros, offset, tail) = parse_time(rest).ok_or("has no valid time of day")?;
    if !tail.is_empty() {
        return Err(NOT_ISO);
    }
    Ok(DateTime {
        days,
        micros,
        offset,
    })
}

/// `HH:MM[:SS[.f…]]` and an optional offset (`Z`, `±HH`, `±HHMM`, `±HH:MM`, after an optional
/// space); returns microseconds into the day, the offset east of UTC in seconds, and the rest.
pub(crate) fn parse_time(b: &[u8]) -> Option<(i64, Option<i32>, &[u8])> {
    let hour = digits_at(b, 0, 2)?;
    if b.get(2) != Some(&b':') {
        return None;
    }
    let (minutes_and_more, rest) = parse_time_parts(&b[3..], false)?;
    if hour > 24 || (hour == 24 && minutes_and_more != 0) {
        return None;
    }
    let micros = hour * 3_600_000_000 + minutes_and_more;
    let rest = if rest.first() == Some(&b' ') {
        &rest[1..]
    } else {
        rest
    };
    let (offset, rest) = match rest.first() {
        None => (None, rest),
        Some(b'Z' | b'z') => (Some(0), &rest[1..]),
        Some(sign @ (b'+' | b'-')) => {
            let sign = if *sign == b'-' { -1 } else { 1 };
            let r = &rest[1..];
            let hours = digits_at(r, 0, 2)?;
            let (minutes, used) = match (r.get(2), digits_at(r, 3, 2), digits_at(r, 2, 2)) {
                (Some(b':'), Some(m), _) => (m, 5),
                (_, _, Some(m)) => (m, 4),
                _ => (0, 2),
            };
            if hours > 15 || minutes > 59 {
                return None;
            }
            (
                Some(sign * (hours * 3600 + minutes * 60) as i32),
                &r[used..],
            )
        }
        Some(_) => return None,
    };
    Some((micros, offset, rest))
}

/// `MM[:SS[.f…]]` after the hours: microseconds and the rest. With `free_minutes`, minutes
/// may exceed 59 (interval clocks).
pub(crate) fn parse_time_parts(b: &[u8], free_minutes: bool) -> Option<(i64, &[u8])> {
    let minute = digits_at(b, 0, 2)?;
    if minute > 59 && !free_minutes {
        return None;
    }
    let mut micros = minute * 60_000_000;
    let mut rest = &b[2..];
    if rest.first() == Some(&b':') {
        let second = digits_at(rest, 1, 2)?;
        if second > 60 {
            return None;
        }
        micros += second * 1_000_000;
        rest = &rest[3..];
        if rest.first() == Some(&b'.') {
            let frac_len = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if frac_len == 0 {
                return None;
            }
            let frac = &rest[1..1 + frac_len];
            let mut f = 0i64;
            for i in 0..6 {
                f = f * 10 + frac.get(i).map_or(0, |d| i64::from(d - b'0'));
            }
            // Round half up on the seventh digit, as PostgreSQL rounds to microseconds.
            if frac.get(6).is_some_and(|d| *d >= b'5') {
                f += 1;
            }
            micros += f;
            rest = &rest[1 + frac_len..];
        }
    }
    Some((micros, rest))
}

/// `2024-01-31 10:00:00.123456+00:00` from microseconds since the Unix epoch (UTC), or why
/// it cannot be written: the calendar holds years −9999 to 9999.
pub fn format_epoch_micros(micros: i64) -> Result<String, String> {
    super::calendar::format_epoch_micros(micros).ok_or_else(|| {
        format!(
            "{} is outside the years -9999 to 9999",
            shown_instant(micros)
        )
    })
}

/// An instant for a message: its UTC text, or its microseconds when no calendar year holds it.
pub fn shown_instant(micros: i64) -> String {
    super::calendar::format_epoch_micros(micros)
        .unwrap_or_else(|| format!("{micros} microseconds after 1970-01-01 00:00 UTC"))
}

/// Integer microseconds to a PostgreSQL interval literal.
pub fn microseconds_interval(micros: i64) -> String {
    format!("{micros} microseconds")
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::convert::binary::Kind;
    use crate::convert::column::Column;

    #[test]
    fn iso_texts_parse_with_offsets_and_fractions() {
        let micros = |t: &str| {
            parse_datetime(t).map(|d| {
                d.days * binary::DAY_MICROS + d.micros
                    - i64::from(d.offset.unwrap_or(0)) * 1_000_000
            })
        };
        assert_eq!(micros("1970-01-01"), Ok(0));
        assert_eq!(micros("1970-01-01T00:00:01Z"), Ok(1_000_000));
        assert_eq!(micros("1970-01-01 01:00:00+01:00"), Ok(0));
        assert_eq!(micros("1970-01-01 01:00:00.000 +01:00"), Ok(0));
        assert_eq!(micros("1970-01-01 00:00:00.1234567"), Ok(123_457));
        assert_eq!(micros("1970-01-01 00:00"), Ok(0));
        assert_eq!(
            micros("1970-01-02 00:00:00-0130"),
            Ok(86_400_000_000 + 5_400_000_000)
        );
        assert!(micros("2023-02-29").is_err());
        assert!(micros("2023-01-01 25:00").is_err());
        assert!(micros("2023-01-01 10:00 nonsense").is_err());
        assert!(micros("31/01/2024").is_err());
        assert_eq!(
            calendar::date(2000, 1, 1).map(calendar::unix_days),
            Ok(binary::PG_EPOCH_DAYS)
        );
    }

    #[test]
    fn times_postgresql_would_change_are_found() {
        assert!(inexact_time("2024-01-31 10:00:00.1234567", true).is_some());
        assert!(inexact_time("2024-01-31T10:00:00.1234567+05:30", true).is_some());
        assert!(inexact_time("2024-01-31 10:00:00.123456", true).is_none());
        assert!(inexact_time("2024-01-31 24:00:00", true).is_some());
        assert!(inexact_time("2024-01-31 24:00", true).is_some());
        assert!(inexact_time("2024-01-31 23:59:60Z", true).is_some());
        assert!(inexact_time("2024-01-31", true).is_none());
        assert!(inexact_time("2024-01-31 20:24:00", true).is_none());
        // A `time` keeps 24:00:00; its seventh digit is still rounded.
        assert!(inexact_time("24:00:00", false).is_none());
        assert!(inexact_time("10:00:00.1234567", false).is_some());
        assert!(inexact_time("10:00:60", false).is_some());
        let column = Column {
            source: "t".into(),
            type_sql: "timestamptz".into(),
            kind: Kind::TimestampTz,
            nullable: true,
            labels: Vec::new(),
            element: None,
            set_labels: false,
            exact_times: true,
        };
        let mut out = Vec::new();
        let text = Val::Text(Cow::Borrowed("2024-01-31 24:00:00"));
        assert!(column.encode(text.clone(), &mut out).is_err());
        let lenient = Column {
            exact_times: false,
            ..column
        };
        assert_eq!(lenient.encode(text, &mut out), Ok(()));
    }

    #[test]
    fn intervals_parse() {
        assert_eq!(parse_interval("90 microseconds"), Some((90, 0)));
        assert_eq!(parse_interval("1.5 seconds"), Some((1_500_000, 0)));
        assert_eq!(parse_interval("2 days 01:00:00"), Some((3_600_000_000, 2)));
        assert_eq!(parse_interval("-00:00:01.5"), Some((-1_500_000, 0)));
    }
}

//! The built-in conversions real SQLite files need, as plain functions over text and numbers,
//! shared by the Rust copy path and the minijinja filters of the same names.

use serde::Serialize;

use crate::convert::calendar::NotADate;
pub use crate::convert::{
    format_epoch_micros, microseconds_interval, shown_instant, special_float, to_boolean,
};

/// One built-in transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Builtin {
    EpochSToTimestamptz,
    EpochMsToTimestamptz,
    IsoToTimestamptz,
    IsoToTimestamp,
    JulianToTimestamp,
    ToBoolean,
    HexToUuid,
    JsonToJsonb,
    MicrosecondsToInterval,
    Trim,
    Lower,
    Upper,
    KeepNanInfinity,
    RoundTimes,
    DatetimeToDate,
}

/// Every built-in, in documentation order.
pub const BUILTINS: &[Builtin] = &[
    Builtin::EpochSToTimestamptz,
    Builtin::EpochMsToTimestamptz,
    Builtin::IsoToTimestamptz,
    Builtin::IsoToTimestamp,
    Builtin::JulianToTimestamp,
    Builtin::ToBoolean,
    Builtin::HexToUuid,
    Builtin::JsonToJsonb,
    Builtin::MicrosecondsToInterval,
    Builtin::Trim,
    Builtin::Lower,
    Builtin::Upper,
    Builtin::KeepNanInfinity,
    Builtin::RoundTimes,
    Builtin::DatetimeToDate,
];

/// Names of every built-in.
pub fn names() -> Vec<&'static str> {
    BUILTINS.iter().map(|b| b.name()).collect()
}

impl Builtin {
    pub fn name(self) -> &'static str {
        match self {
            Builtin::EpochSToTimestamptz => "epoch_s_to_timestamptz",
            Builtin::EpochMsToTimestamptz => "epoch_ms_to_timestamptz",
            Builtin::IsoToTimestamptz => "iso_to_timestamptz",
            Builtin::IsoToTimestamp => "iso_to_timestamp",
            Builtin::JulianToTimestamp => "julian_to_timestamp",
            Builtin::ToBoolean => "to_boolean",
            Builtin::HexToUuid => "hex_to_uuid",
            Builtin::JsonToJsonb => "json_to_jsonb",
            Builtin::MicrosecondsToInterval => "microseconds_to_interval",
            Builtin::Trim => "trim",
            Builtin::Lower => "lower",
            Builtin::Upper => "upper",
            Builtin::KeepNanInfinity => "keep_nan_infinity",
            Builtin::RoundTimes => "round_times",
            Builtin::DatetimeToDate => "datetime_to_date",
        }
    }

    pub fn from_name(name: &str) -> Option<Builtin> {
        BUILTINS.iter().copied().find(|b| b.name() == name)
    }

    /// Whether the built-in changes which values of its column are bad rows rather than
    /// converting them: the profile's warnings about the column depend on it.
    pub fn decides_bad_rows(self) -> bool {
        matches!(self, Builtin::KeepNanInfinity | Builtin::RoundTimes)
    }

    /// The target type this built-in produces, when it fixes one.
    pub fn produces(self) -> Option<&'static str> {
        match self {
            Builtin::EpochSToTimestamptz
            | Builtin::EpochMsToTimestamptz
            | Builtin::IsoToTimestamptz => Some("timestamptz"),
            Builtin::IsoToTimestamp | Builtin::JulianToTimestamp => Some("timestamp"),
            Builtin::ToBoolean => Some("boolean"),
            Builtin::HexToUuid => Some("uuid"),
            Builtin::JsonToJsonb => Some("jsonb"),
            Builtin::MicrosecondsToInterval => Some("interval"),
            Builtin::DatetimeToDate => Some("date"),
            Builtin::Trim
            | Builtin::Lower
            | Builtin::Upper
            | Builtin::KeepNanInfinity
            | Builtin::RoundTimes => None,
        }
    }
}

/// Epoch seconds (integer or fractional) to a UTC timestamp text.
pub fn epoch_seconds(value: f64) -> Result<String, String> {
    if !value.is_finite() || value.abs() > 9.2e12 {
        return Err(format!("`{value}` is not a plausible epoch in seconds"));
    }
    format_epoch_micros((value * 1_000_000.0).round() as i64)
}

/// Epoch milliseconds to a UTC timestamp text.
pub fn epoch_millis(value: f64) -> Result<String, String> {
    if !value.is_finite() || value.abs() > 9.2e15 {
        return Err(format!(
            "`{value}` is not a plausible epoch in milliseconds"
        ));
    }
    format_epoch_micros((value * 1_000.0).round() as i64)
}

/// A Julian day number (as SQLite's `julianday()` returns) to a UTC timestamp text.
pub fn julian_day(value: f64) -> Result<String, String> {
    if !value.is_finite() || !(0.0..=5_373_484.5).contains(&value) {
        return Err(format!("`{value}` is not a Julian day number"));
    }
    let micros = ((value - 2_440_587.5) * 86_400_000_000.0).round() as i64;
    format_epoch_micros(micros)
}

/// 32 hex digits, or an already dashed UUID (any case, optional braces), to the dashed form.
pub fn to_uuid(text: &str) -> Result<String, String> {
    let hex: String = text
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .chars()
        .filter(|c| *c != '-')
        .collect();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("`{text}` is not a UUID (expected 32 hex digits)"));
    }
    let h = hex.to_ascii_lowercase();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// Bytes of a 16-byte blob UUID to the dashed form.
pub fn uuid_from_bytes(bytes: &[u8]) -> Result<String, String> {
    if bytes.len() != 16 {
        return Err(format!(
            "a {}-byte blob is not a UUID (expected 16 bytes)",
            bytes.len()
        ));
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    to_uuid(&hex)
}

/// JSON text, checked: invalid JSON is an error, never carried as a string.
pub fn json_text(text: &str) -> Result<String, String> {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|_| text.to_owned())
        .map_err(|e| format!("invalid JSON: {e}"))
}

/// The calendar date of a date-time's wall clock: `2024-01-31 23:30:00` → `2024-01-31`. The
/// time of day, and an offset after it, are dropped, never applied: the date is the one the
/// source wrote. The result is a date text that the `date` encoder checks again.
pub fn datetime_date(text: &str) -> Result<String, String> {
    let t = text.trim();
    let checked = iso_datetime(t, false).map_err(|why| format!("{why} (`datetime_to_date`)"))?;
    Ok(checked[..10].to_owned())
}

/// Checks and normalises ISO-8601 text: `2024-01-31`, `2024-01-31 10:00`, `2024-01-31T10:00:00.5Z`,
/// `2024-01-31 10:00:00.000 +00:00`. Returns the text PostgreSQL accepts: `T` becomes a space and
/// `Z` an explicit `+00:00`; without an offset, `assume_utc` appends `+00:00`.
pub fn iso_datetime(text: &str, assume_utc: bool) -> Result<String, String> {
    let t = text.trim();
    let bytes = t.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    if !(digits(0..4)
        && bytes.get(4) == Some(&b'-')
        && digits(5..7)
        && bytes.get(7) == Some(&b'-')
        && digits(8..10))
    {
        return Err(format!("`{text}` is not an ISO-8601 date or date-time"));
    }
    let month: u32 = t[5..7].parse().unwrap_or(0);
    let day: u32 = t[8..10].parse().unwrap_or(0);
    let year: i64 = t[0..4].parse().unwrap_or(0);
    match crate::convert::calendar::date(year, month, day) {
        Ok(_) => {}
        Err(NotADate::Month) => return Err(format!("`{text}` has month {month}")),
        Err(NotADate::Day) => return Err(format!("`{text}` is an impossible date")),
    }
    let mut rest = t[10..].trim_start_matches(['T', 't', ' ']).to_owned();
    if rest.is_empty() {
        return Ok(if assume_utc {
            format!("{} 00:00:00+00:00", &t[..10])
        } else {
            t[..10].to_owned()
        });
    }
    if rest.ends_with(['Z', 'z']) {
        rest.pop();
        rest.push_str("+00:00");
    }
    let rb = rest.as_bytes();
    let two = |i: usize| {
        rb.get(i..i + 2)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    if !(two(0) && rb.get(2) == Some(&b':') && two(3)) {
        return Err(format!("`{text}` has no valid time of day"));
    }
    let hour: u32 = rest[0..2].parse().unwrap_or(99);
    let minute: u32 = rest[3..5].parse().unwrap_or(99);
    if hour > 24 || minute > 59 {
        return Err(format!("`{text}` has an impossible time of day"));
    }
    let has_offset = rest[5..].contains(['+', '-']);
    let compact: String = rest.split_whitespace().collect::<Vec<_>>().join("");
    let normalised = format!("{} {compact}", &t[..10]);
    Ok(if !has_offset && assume_utc {
        format!("{normalised}+00:00")
    } else {
        normalised
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times_keep_the_date_of_their_wall_clock() {
        assert_eq!(
            datetime_date("2024-01-31 23:30:00").as_deref(),
            Ok("2024-01-31")
        );
        assert_eq!(
            datetime_date("2024-01-31T00:00:00.5").as_deref(),
            Ok("2024-01-31")
        );
        assert_eq!(
            datetime_date("2024-01-31 23:30:00-05:00").as_deref(),
            Ok("2024-01-31")
        );
        assert_eq!(datetime_date("2024-02-29").as_deref(), Ok("2024-02-29"));
        assert!(datetime_date("2023-02-29 10:00:00").is_err());
        assert!(datetime_date("yesterday").is_err());
    }

    #[test]
    fn epochs_become_utc_timestamps() {
        assert_eq!(
            epoch_seconds(0.0).as_deref(),
            Ok("1970-01-01 00:00:00+00:00")
        );
        assert_eq!(
            epoch_seconds(1_700_000_000.0).as_deref(),
            Ok("2023-11-14 22:13:20+00:00")
        );
        assert_eq!(
            epoch_millis(1_700_000_000_123.0).as_deref(),
            Ok("2023-11-14 22:13:20.123000+00:00")
        );
        assert_eq!(
            epoch_seconds(-86_400.0).as_deref(),
            Ok("1969-12-31 00:00:00+00:00")
        );
        assert!(epoch_seconds(f64::NAN).is_err());
    }

    #[test]
    fn julian_days_become_timestamps() {
        assert_eq!(
            julian_day(2_440_587.5).as_deref(),
            Ok("1970-01-01 00:00:00+00:00")
        );
        assert_eq!(
            julian_day(2_460_341.0).as_deref(),
            Ok("2024-01-31 12:00:00+00:00")
        );
    }

    #[test]
    fn uuids_are_normalised_from_hex_and_dashed_forms() {
        assert_eq!(
            to_uuid("0123456789ABCDEF0123456789abcdef").as_deref(),
            Ok("01234567-89ab-cdef-0123-456789abcdef")
        );
        assert_eq!(
            to_uuid("{01234567-89ab-cdef-0123-456789abcdef}").as_deref(),
            Ok("01234567-89ab-cdef-0123-456789abcdef")
        );
        assert!(to_uuid("xyz").is_err());
        assert_eq!(
            uuid_from_bytes(&[0u8; 16]).as_deref(),
            Ok("00000000-0000-0000-0000-000000000000")
        );
    }

    #[test]
    fn iso_texts_are_checked_and_normalised() {
        assert_eq!(
            iso_datetime("2024-01-31T10:00:00Z", true).as_deref(),
            Ok("2024-01-31 10:00:00+00:00")
        );
        assert_eq!(
            iso_datetime("2024-01-31 10:00:00", true).as_deref(),
            Ok("2024-01-31 10:00:00+00:00")
        );
        assert_eq!(
            iso_datetime("2024-03-01 10:15:00.000 +00:00", true).as_deref(),
            Ok("2024-03-01 10:15:00.000+00:00")
        );
        assert_eq!(
            iso_datetime("2024-01-31", false).as_deref(),
            Ok("2024-01-31")
        );
        assert!(iso_datetime("2023-02-29", true).is_err());
        assert!(iso_datetime("31/01/2024", true).is_err());
    }

    #[test]
    fn invalid_json_is_an_error() {
        assert!(json_text("{\"a\": 1}").is_ok());
        assert!(json_text("{a: 1}").is_err());
    }
}

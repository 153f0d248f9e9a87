//! The proleptic Gregorian calendar, from jiff: which dates exist, a date's day count since
//! 1970-01-01 and back, an instant's UTC text. decant tokenizes date texts itself (PostgreSQL's
//! grammar, `convert::datetime`); the calendar arithmetic behind them is jiff's.

use jiff::civil::{Date, Time};
use jiff::tz::Offset;
use jiff::Timestamp;

/// Why a year, month and day are not a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotADate {
    /// A month outside 1–12.
    Month,
    /// A day the month does not have (or a year jiff cannot hold: outside −9999…9999).
    Day,
}

/// The date `year-month-day`, if it exists.
pub fn date(year: i64, month: u32, day: u32) -> Result<Date, NotADate> {
    if !(1..=12).contains(&month) {
        return Err(NotADate::Month);
    }
    let (Ok(year), Ok(month), Ok(day)) =
        (i16::try_from(year), i8::try_from(month), i8::try_from(day))
    else {
        return Err(NotADate::Day);
    };
    Date::new(year, month, day).map_err(|_| NotADate::Day)
}

const UNIX_EPOCH: Date = jiff::civil::date(1970, 1, 1);

/// Days from 1970-01-01 to `date`.
pub fn unix_days(date: Date) -> i64 {
    // Midnight UTC as an instant is the fast way; jiff's instants stop a day short of its
    // dates at both ends, where the day count comes from a span instead.
    match Offset::UTC.to_timestamp(date.to_datetime(Time::midnight())) {
        Ok(t) => t.as_second().div_euclid(86_400),
        Err(_) => UNIX_EPOCH
            .until((jiff::Unit::Day, date))
            .map_or(0, |span| i64::from(span.get_days())),
    }
}

/// Year, month and day of the date `days` after 1970-01-01; `None` outside jiff's years
/// (−9999…9999), which PostgreSQL's dates may reach.
pub fn civil_from_days(days: i64) -> Option<(i64, u32, u32)> {
    let days = i32::try_from(days).ok()?;
    let d = UNIX_EPOCH
        .checked_add(jiff::Span::new().try_days(days).ok()?)
        .ok()?;
    Some((i64::from(d.year()), d.month() as u32, d.day() as u32))
}

/// `2024-01-31 10:00:00.123456+00:00` from microseconds since the Unix epoch (UTC); `None`
/// outside jiff's years.
pub fn format_epoch_micros(micros: i64) -> Option<String> {
    let t = Timestamp::from_microsecond(micros).ok()?;
    let dt = Offset::UTC.to_datetime(t);
    let frac = micros.rem_euclid(1_000_000);
    let (y, m, d) = (dt.year(), dt.month(), dt.day());
    let (h, mi, s) = (dt.hour(), dt.minute(), dt.second());
    Some(if frac == 0 {
        format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}+00:00")
    } else {
        format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.{frac:06}+00:00")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_exist_or_say_why_not() {
        assert!(date(2024, 2, 29).is_ok());
        assert_eq!(date(2023, 2, 29), Err(NotADate::Day));
        assert_eq!(date(1900, 2, 29), Err(NotADate::Day));
        assert!(date(2000, 2, 29).is_ok());
        assert_eq!(date(2024, 13, 1), Err(NotADate::Month));
        assert_eq!(date(2024, 0, 1), Err(NotADate::Month));
        assert_eq!(date(2024, 4, 31), Err(NotADate::Day));
        assert_eq!(date(2024, 4, 0), Err(NotADate::Day));
    }

    #[test]
    fn day_counts_round_trip_through_dates() {
        for (y, m, d, days) in [
            (1970, 1, 1, 0),
            (2000, 1, 1, 10_957),
            (1969, 12, 31, -1),
            (1, 1, 1, -719_162),
            (9999, 12, 31, 2_932_896),
            (-9999, 1, 1, -4_371_587),
        ] {
            let date = date(y, m, d).unwrap_or_else(|e| panic!("{y}-{m}-{d}: {e:?}"));
            assert_eq!(unix_days(date), days, "{y}-{m}-{d}");
            assert_eq!(civil_from_days(days), Some((y, m, d)), "{days}");
        }
        assert_eq!(civil_from_days(3_000_000), None);
    }

    #[test]
    fn instants_print_in_utc_with_their_microseconds() {
        assert_eq!(
            format_epoch_micros(0).as_deref(),
            Some("1970-01-01 00:00:00+00:00")
        );
        assert_eq!(
            format_epoch_micros(-1).as_deref(),
            Some("1969-12-31 23:59:59.999999+00:00")
        );
        assert_eq!(
            format_epoch_micros(1_706_695_200_123_456).as_deref(),
            Some("2024-01-31 10:00:00.123456+00:00")
        );
    }
}

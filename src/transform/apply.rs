//! The built-in transforms on a typed value: the one implementation both the copy path (on
//! the row in flight) and the filters of the same names in transform expressions run.

use std::borrow::Cow;

use super::builtins::Builtin;
use crate::convert::binary::{self, Kind};
use crate::convert::datetime::{infinite_timestamp, iso_instant, wall_date};
use crate::convert::scalar::{json_checked, uuid_text};
use crate::convert::{
    epoch, invalid_utf8, number, special_float, sqlite_real_text, to_boolean, Reason, Val,
};

/// Built-in `b` on one value. `kind` is the target column's, when the value goes straight
/// to its encoder (the copy path): a `json`/`jsonb` encoder checks JSON itself, so
/// `json_to_jsonb` leaves it to it; a filter passes `None`.
pub(crate) fn apply_builtin(
    b: Builtin,
    val: Val<'_>,
    kind: Option<Kind>,
) -> Result<Val<'_>, Reason> {
    if val == Val::Null {
        return Ok(Val::Null);
    }
    let name = b.name();
    match b {
        Builtin::EpochSToTimestamptz => epoch(&val, 1_000_000, 9.2e12, name),
        Builtin::EpochMsToTimestamptz => epoch(&val, 1_000, 9.2e15, name),
        Builtin::JulianToTimestamp => {
            let f = number(&val)
                .ok_or_else(|| format!("{} is not a Julian day number", val.describe()))?;
            if !f.is_finite() || !(0.0..=5_373_484.5).contains(&f) {
                return Err(format!("`{f}` is not a Julian day number"));
            }
            Ok(Val::Instant(
                ((f - 2_440_587.5) * 86_400_000_000.0).round() as i64
            ))
        }
        Builtin::IsoToTimestamptz | Builtin::IsoToTimestamp => match val {
            // PostgreSQL's infinities go to the timestamp encoders as they are.
            Val::Text(t) if infinite_timestamp(&t).is_some() => Ok(Val::Text(t)),
            // Naive values are UTC. A column with this transform has no `round_times`, so
            // its times are exact.
            Val::Text(t) => iso_instant(&t, true).map(Val::Instant),
            Val::InvalidText(bytes) => Err(invalid_utf8(bytes)),
            other => Err(format!(
                "{} is not ISO-8601 text (`{name}`)",
                other.describe()
            )),
        },
        Builtin::ToBoolean => match val {
            Val::Int(0) => Ok(Val::Bool(false)),
            Val::Int(1) => Ok(Val::Bool(true)),
            Val::Bool(_) => Ok(val),
            Val::Int(i) => Err(format!(
                "{i} is not a boolean (expected 0/1, t/f, true/false, yes/no)"
            )),
            Val::Real(f) => to_boolean(&sqlite_real_text(f)).map(Val::Bool),
            Val::Text(t) => to_boolean(&t).map(Val::Bool),
            other => Err(format!("{} is not a boolean", other.describe())),
        },
        Builtin::HexToUuid => match val {
            Val::Text(t) => uuid_text(&t).map(|u| Val::Text(Cow::Owned(u))),
            Val::Blob(b) if b.len() == 16 => Ok(Val::Blob(b)),
            other => Err(format!(
                "{} is not a UUID (expected 32 hex digits or 16 bytes)",
                other.describe()
            )),
        },
        Builtin::JsonToJsonb => match val {
            Val::Text(t) if !matches!(kind, Some(Kind::Json | Kind::Jsonb)) => {
                json_checked(&t).map(|_| Val::Text(t))
            }
            other => Ok(other),
        },
        Builtin::MicrosecondsToInterval => match val {
            Val::Int(i) => Ok(Val::Micros(i)),
            Val::Real(f) if f.is_finite() && f.abs() < 9.2e18 => Ok(Val::Micros(f.round() as i64)),
            Val::Text(t) => match t.trim().parse::<i64>() {
                Ok(i) => Ok(Val::Micros(i)),
                Err(_) => Err(format!("`{t}` is not a number of microseconds")),
            },
            other => Err(format!(
                "{} is not a number of microseconds",
                other.describe()
            )),
        },
        // The time encoders read the text; the column's `exact_times` is off.
        Builtin::RoundTimes => Ok(val),
        Builtin::DatetimeToDate => match val {
            Val::Text(t) => wall_date(&t)
                .map(|d| Val::Text(Cow::Owned(d)))
                .map_err(|why| format!("{why} (`{name}`)")),
            Val::Instant(m) => Ok(Val::Instant(
                m.div_euclid(binary::DAY_MICROS) * binary::DAY_MICROS,
            )),
            Val::InvalidText(bytes) => Err(invalid_utf8(bytes)),
            other => Err(format!(
                "{} is not a date-time (`{name}`)",
                other.describe()
            )),
        },
        Builtin::KeepNanInfinity => match val {
            Val::Text(t) => Ok(match special_float(&t) {
                Some(f) => Val::Real(f),
                None => Val::Text(t),
            }),
            other => Ok(other),
        },
        Builtin::Trim | Builtin::Lower | Builtin::Upper => match val {
            Val::Text(t) => Ok(Val::Text(Cow::Owned(match b {
                Builtin::Trim => t.trim().to_owned(),
                Builtin::Lower => t.to_lowercase(),
                _ => t.to_uppercase(),
            }))),
            Val::InvalidText(bytes) => Err(invalid_utf8(bytes)),
            other => Ok(other),
        },
    }
}

//! The built-in transforms on a typed value: the one implementation the copy path runs on
//! the row in flight.

use std::borrow::Cow;

use super::builtins::{self, Builtin};
use crate::convert::binary::{self, Kind};
use crate::convert::{epoch, invalid_utf8, number, sqlite_real_text, Reason, Val};

/// A built-in transform on the row in flight.
pub(crate) fn apply_builtin(b: Builtin, val: Val<'_>, kind: Kind) -> Result<Val<'_>, Reason> {
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
            // The timestamp encoders read ISO-8601 themselves and treat naive values as UTC.
            Val::Text(_) | Val::InvalidText(_) => Ok(val),
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
            Val::Real(f) => builtins::to_boolean(&sqlite_real_text(f)).map(Val::Bool),
            Val::Text(t) => builtins::to_boolean(&t).map(Val::Bool),
            other => Err(format!("{} is not a boolean", other.describe())),
        },
        Builtin::HexToUuid => match val {
            Val::Text(t) => builtins::to_uuid(&t).map(|u| Val::Text(Cow::Owned(u))),
            Val::Blob(b) if b.len() == 16 => Ok(Val::Blob(b)),
            other => Err(format!(
                "{} is not a UUID (expected 32 hex digits or 16 bytes)",
                other.describe()
            )),
        },
        Builtin::JsonToJsonb => match val {
            Val::Text(t) if !matches!(kind, Kind::Json | Kind::Jsonb) => {
                builtins::json_text(&t).map(|_| Val::Text(t))
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
            Val::Text(t) => builtins::datetime_date(&t).map(|d| Val::Text(Cow::Owned(d))),
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
            Val::Text(t) => Ok(match builtins::special_float(&t) {
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

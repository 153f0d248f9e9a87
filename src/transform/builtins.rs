//! The built-in conversions real SQLite files need, by name: what each is called and what
//! it produces. What each does is `transform::apply`, which both the copy path and the filters run.

use serde::Serialize;

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

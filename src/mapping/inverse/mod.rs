//! The way back, in one place: how a target (PostgreSQL) value returns to the form its source
//! column stored it in — types back, each built-in transform's declared inverse, a plan's `inverse:`.
//!
//! A column's [`ColumnInverse`] is decided from its declared source type, its target type, its
//! transform and the values the source holds now (a Django `datetime` is ISO text with the
//! fraction left out when it is zero; a Prisma one is epoch milliseconds). [`ColumnInverse::back`]
//! maps one value, or says why the source cannot hold it (a rejected row, never a changed
//! value); [`ColumnInverse::same`] tells whether a stored value already means the mapped one,
//! so a value stored in another spelling of the same thing is not rewritten.

use crate::engines::postgres::reverse::TargetRead;
use crate::engines::postgres::{TargetType, TypeFamily};
use crate::engines::{Affinity, SqlValue};
use crate::transform::{Builtin, Transform, TransformEnvironment};

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;
/// The Julian day of 1970-01-01 00:00 UTC.
const UNIX_EPOCH_JULIAN_DAY: f64 = 2_440_587.5;

/// What undoes a built-in transform: the table of inverses, one entry per built-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinInverse {
    /// The target value is one the source column holds as it is: what the transform dropped
    /// (spaces, letter case, digits past a millisecond) is gone on both sides.
    AsItIs,
    /// An instant back to whole seconds since the epoch.
    EpochSeconds,
    /// An instant back to whole milliseconds since the epoch.
    EpochMillis,
    /// An instant back to ISO-8601 text, spelled as the column's values are.
    IsoText,
    /// An instant back to a Julian day number.
    JulianDay,
    /// A boolean back to 0/1, or the spelling the column's values use.
    Boolean,
    /// A uuid back to its text (32 hex digits, or dashed) or 16 bytes, as the column holds it.
    Uuid,
    /// A JSON document back to its text.
    JsonText,
    /// An interval back to whole microseconds.
    Microseconds,
    /// A date back into a date-time column: the date part is compared, a new one stored at midnight.
    DateOfDateTime,
}

/// The declared inverse of each built-in transform.
pub fn builtin_inverse(b: Builtin) -> BuiltinInverse {
    match b {
        Builtin::EpochSToTimestamptz => BuiltinInverse::EpochSeconds,
        Builtin::EpochMsToTimestamptz => BuiltinInverse::EpochMillis,
        Builtin::IsoToTimestamptz | Builtin::IsoToTimestamp => BuiltinInverse::IsoText,
        Builtin::JulianToTimestamp => BuiltinInverse::JulianDay,
        Builtin::ToBoolean => BuiltinInverse::Boolean,
        Builtin::HexToUuid => BuiltinInverse::Uuid,
        Builtin::JsonToJsonb => BuiltinInverse::JsonText,
        Builtin::MicrosecondsToInterval => BuiltinInverse::Microseconds,
        Builtin::DatetimeToDate => BuiltinInverse::DateOfDateTime,
        Builtin::Trim
        | Builtin::Lower
        | Builtin::Upper
        | Builtin::KeepNanInfinity
        | Builtin::RoundTimes => BuiltinInverse::AsItIs,
    }
}

/// Why a column cannot go back, or `Ok` when it can: an expression transform needs the
/// plan's `inverse:`; a built-in has its own.
pub fn invertible(transform: Option<&Transform>, inverse: Option<&str>) -> Result<(), String> {
    match (transform, inverse) {
        (Some(Transform::Expression(e)), None) => Err(format!(
            "its transform `{e}` has no `inverse:`, so `sync --reverse` cannot bring its values back"
        )),
        _ => Ok(()),
    }
}

/// How an instant is spelled as text in the source: `2024-01-31 10:00:00.123456` (Django),
/// `2024-01-31 10:00:00.123 +00:00` (Sequelize), `2024-01-31T10:00:00Z`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoStyle {
    separator: char,
    /// Fraction digits the values have (0, 3 or 6); more are written when a value needs them.
    digits: usize,
    /// Values without a fraction are written without one (Django omits `.000000`).
    omit_zero_fraction: bool,
    /// What follows the time: `""`, `"Z"`, `"+00:00"`, `" +00:00"`.
    suffix: String,
}

impl Default for IsoStyle {
    fn default() -> Self {
        IsoStyle {
            separator: ' ',
            digits: 6,
            omit_zero_fraction: true,
            suffix: String::new(),
        }
    }
}

impl IsoStyle {
    /// The style of the texts among `samples`; the default when none is a date-time.
    fn of<'a>(samples: impl Iterator<Item = &'a SqlValue>) -> IsoStyle {
        let mut style: Option<IsoStyle> = None;
        let mut without_fraction = false;
        for text in samples.filter_map(text_of) {
            let b = text.as_bytes();
            if b.len() < 19 || b[4] != b'-' || b[13] != b':' {
                continue;
            }
            let rest = &text[19..];
            let digits = rest
                .strip_prefix('.')
                .map_or(0, |r| r.bytes().take_while(u8::is_ascii_digit).count());
            let after = if digits > 0 {
                &rest[1 + digits..]
            } else {
                rest
            };
            without_fraction |= digits == 0;
            let s = style.get_or_insert_with(|| IsoStyle {
                separator: char::from(b[10]),
                digits: 0,
                omit_zero_fraction: false,
                // An offset is written as UTC's, in the same shape.
                suffix: match after.trim_start() {
                    "" => String::new(),
                    "Z" | "z" => after.to_owned(),
                    _ => format!("{}+00:00", &after[..after.len() - after.trim_start().len()]),
                },
            });
            s.digits = s.digits.max(digits.min(6));
        }
        match style {
            Some(mut s) => {
                s.omit_zero_fraction = without_fraction && s.digits > 0;
                if s.digits > 0 && s.digits < 6 {
                    s.digits = 3;
                }
                s
            }
            None => IsoStyle::default(),
        }
    }

    /// `micros` since the epoch (UTC) in this style; `None` outside the calendar.
    fn format(&self, micros: i64) -> Option<String> {
        let t = jiff::Timestamp::from_microsecond(micros).ok()?;
        let dt = jiff::tz::Offset::UTC.to_datetime(t);
        let frac = micros.rem_euclid(MICROS_PER_SECOND);
        let fraction = match self.digits {
            _ if frac == 0 && (self.omit_zero_fraction || self.digits == 0) => String::new(),
            3 if frac % 1000 == 0 => format!(".{:03}", frac / 1000),
            _ => format!(".{frac:06}"),
        };
        Some(format!(
            "{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}{fraction}{}",
            dt.year(),
            dt.month(),
            dt.day(),
            self.separator,
            dt.hour(),
            dt.minute(),
            dt.second(),
            self.suffix
        ))
    }
}

/// How a uuid is stored in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UuidStyle {
    /// 32 hex digits without dashes (Django's `char(32)`).
    Hex { upper: bool },
    /// `8-4-4-4-12`.
    Dashed { upper: bool },
    /// 16 bytes.
    Bytes,
}

/// How a boolean is stored in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BooleanSpelling {
    /// 0 and 1.
    Integer,
    /// Texts, e.g. `true`/`false`, `t`/`f`.
    Text { yes: String, no: String },
}

/// The source's stored form of a column's values.
#[derive(Debug, Clone, PartialEq)]
pub enum StoredForm {
    /// The value as read, stored by the column's affinity.
    Plain,
    /// A number's exact text stored as the affinity stores it, refused where it would lose digits.
    Number,
    Boolean(BooleanSpelling),
    /// Whole units since the epoch: `per_second` of them in a second (1, 1000).
    Epoch {
        per_second: i64,
    },
    Iso(IsoStyle),
    Julian,
    DateOfDateTime(IsoStyle),
    Uuid(UuidStyle),
    /// JSON text; `ascii`: non-ASCII characters as `\u` escapes (Python's `json.dumps`).
    Json {
        ascii: bool,
    },
    Microseconds,
    /// The plan's `inverse:` expression over `value` and `row`; `forward`, the transform
    /// it undoes, tells whether a stored value still gives the target's.
    Expression {
        inverse: String,
        forward: String,
    },
}

/// How one column's values go back to the source.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInverse {
    /// How the target column is read.
    pub read: TargetRead,
    pub form: StoredForm,
    /// The source column's affinity.
    pub affinity: Affinity,
}

/// Up to this many stored values decide a column's spelling.
pub const SAMPLES: usize = 64;

impl ColumnInverse {
    /// The inverse of a column declared `declared` in the source, `target` in the target, with
    /// the plan's `transform` and `inverse`, given some of the values the source stores now.
    /// `Err`: why it has none.
    pub fn decide<'a>(
        target: &TargetType,
        transform: Option<&Transform>,
        inverse: Option<&str>,
        affinity: Affinity,
        samples: impl Iterator<Item = &'a SqlValue> + Clone,
    ) -> Result<ColumnInverse, String> {
        invertible(transform, inverse)?;
        let samples = samples.filter(|v| **v != SqlValue::Null).take(SAMPLES);
        let first_class = samples.clone().next().map(std::mem::discriminant);
        let holds = |v: SqlValue| first_class == Some(std::mem::discriminant(&v));
        let texts = holds(SqlValue::Text(String::new()));
        let integers = holds(SqlValue::Integer(0));
        let reals = holds(SqlValue::Real(0.0));
        let mut read = TargetRead::of(target);
        let form = match transform {
            Some(Transform::Expression(forward)) => {
                // `value` is the target's value as text, whatever its type.
                read = TargetRead::Text;
                StoredForm::Expression {
                    inverse: inverse.unwrap_or_default().to_owned(),
                    forward: forward.clone(),
                }
            }
            Some(Transform::Builtin(b)) => match builtin_inverse(*b) {
                BuiltinInverse::AsItIs => by_type(target, affinity, samples.clone()),
                BuiltinInverse::EpochSeconds => StoredForm::Epoch { per_second: 1 },
                BuiltinInverse::EpochMillis => StoredForm::Epoch { per_second: 1000 },
                BuiltinInverse::IsoText => StoredForm::Iso(IsoStyle::of(samples.clone())),
                BuiltinInverse::JulianDay => StoredForm::Julian,
                BuiltinInverse::Boolean => StoredForm::Boolean(spelling(samples.clone())),
                BuiltinInverse::Uuid => StoredForm::Uuid(uuid_style(samples.clone(), None)),
                BuiltinInverse::JsonText => StoredForm::Json {
                    ascii: ascii_json(samples.clone()),
                },
                BuiltinInverse::Microseconds => StoredForm::Microseconds,
                BuiltinInverse::DateOfDateTime => {
                    StoredForm::DateOfDateTime(IsoStyle::of(samples.clone()))
                }
            },
            None => match target.family() {
                TypeFamily::Timestamp | TypeFamily::TimestampTz if integers => {
                    // Milliseconds (Prisma) or seconds, by their size: 1e11 s is year 5138.
                    let big = samples.clone().any(|v| match v {
                        SqlValue::Integer(i) => i.unsigned_abs() > 100_000_000_000,
                        _ => false,
                    });
                    StoredForm::Epoch {
                        per_second: if big { 1000 } else { 1 },
                    }
                }
                TypeFamily::Timestamp | TypeFamily::TimestampTz if reals => StoredForm::Julian,
                TypeFamily::Date if samples.clone().filter_map(text_of).any(|t| t.len() >= 19) => {
                    StoredForm::DateOfDateTime(IsoStyle::of(samples.clone()))
                }
                TypeFamily::Interval if texts => {
                    read = TargetRead::Text;
                    StoredForm::Plain
                }
                _ => by_type(target, affinity, samples.clone()),
            },
        };
        Ok(ColumnInverse {
            read,
            form,
            affinity,
        })
    }

    /// `value` (read as [`Self::read`] says) in the source's stored form; `row`: the target
    /// row by source column name, for an `inverse:` expression. `Err`: why the source cannot
    /// hold it as it is.
    pub fn back(
        &self,
        value: SqlValue,
        row: &minijinja::Value,
        env: &TransformEnvironment,
    ) -> Result<SqlValue, String> {
        if value == SqlValue::Null {
            return Ok(SqlValue::Null);
        }
        let micros = |v: &SqlValue| match v {
            SqlValue::Integer(i) => Ok(*i),
            other => Err(format!("{} is not an instant", shown(other))),
        };
        Ok(match &self.form {
            StoredForm::Plain => self.stored(value)?,
            StoredForm::Number => self.number(value)?,
            StoredForm::Boolean(spelling) => {
                let yes = match &value {
                    SqlValue::Integer(i) => *i != 0,
                    SqlValue::Text(t) => crate::convert::to_boolean(t)?,
                    other => return Err(format!("{} is not a boolean", shown(other))),
                };
                match spelling {
                    BooleanSpelling::Integer => SqlValue::Integer(i64::from(yes)),
                    BooleanSpelling::Text { yes: y, no: n } => {
                        SqlValue::Text(if yes { y.clone() } else { n.clone() })
                    }
                }
            }
            StoredForm::Epoch { per_second } => {
                let m = micros(&value)?;
                let unit = MICROS_PER_SECOND / per_second;
                if m % unit != 0 {
                    return Err(format!(
                        "`{}` has a fraction of a {}: the source stores whole ones",
                        crate::convert::shown_instant(m),
                        if *per_second == 1 {
                            "second"
                        } else {
                            "millisecond"
                        }
                    ));
                }
                SqlValue::Integer(m / unit)
            }
            StoredForm::Iso(style) => {
                let m = micros(&value)?;
                SqlValue::Text(style.format(m).ok_or_else(|| {
                    format!(
                        "{} is outside the years 0 to 9999",
                        crate::convert::shown_instant(m)
                    )
                })?)
            }
            StoredForm::Julian => {
                let m = micros(&value)?;
                SqlValue::Real(m as f64 / MICROS_PER_DAY as f64 + UNIX_EPOCH_JULIAN_DAY)
            }
            StoredForm::DateOfDateTime(style) => match value {
                SqlValue::Text(t) if t.len() == 10 => {
                    let mut at_midnight = style.clone();
                    at_midnight.omit_zero_fraction = true;
                    let days = crate::convert::datetime::iso_instant(&t, false)?;
                    SqlValue::Text(at_midnight.format(days).unwrap_or(t))
                }
                other => other,
            },
            StoredForm::Uuid(style) => match value {
                SqlValue::Text(t) => {
                    let hex: String = t.chars().filter(|c| *c != '-').collect();
                    match style {
                        UuidStyle::Hex { upper } => SqlValue::Text(cased(hex, *upper)),
                        UuidStyle::Dashed { upper } => SqlValue::Text(cased(t, *upper)),
                        UuidStyle::Bytes => SqlValue::Blob(
                            (0..16)
                                .map(|i| {
                                    u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0)
                                })
                                .collect(),
                        ),
                    }
                }
                other => other,
            },
            StoredForm::Json { ascii } => match value {
                SqlValue::Text(t) if *ascii => SqlValue::Text(escape_non_ascii(&t)),
                other => other,
            },
            StoredForm::Microseconds => SqlValue::Integer(micros(&value)?),
            StoredForm::Expression {
                inverse: expression,
                ..
            } => {
                let given = match &value {
                    SqlValue::Text(t) => minijinja::Value::from(t.as_str()),
                    SqlValue::Integer(i) => minijinja::Value::from(*i),
                    SqlValue::Real(f) => minijinja::Value::from(*f),
                    other => minijinja::Value::from(shown(other)),
                };
                let result = env
                    .evaluate(expression, given, row.clone())
                    .map_err(|e| format!("`inverse: {expression}` failed: {e}"))?;
                self.stored(from_jinja(&result))?
            }
        })
    }

    /// Whether the `stored` value already means `back` (what [`Self::back`] made): the same
    /// instant, document, uuid, number or truth, however spelled.
    pub fn same(&self, stored: &SqlValue, back: &SqlValue) -> bool {
        if stored == back {
            return true;
        }
        match (stored, back) {
            (SqlValue::Null, _) | (_, SqlValue::Null) => false,
            (SqlValue::Text(a), SqlValue::Text(b)) => match &self.form {
                StoredForm::Iso(_) => instant(a).is_some() && instant(a) == instant(b),
                StoredForm::DateOfDateTime(_) => {
                    a.get(..10).is_some() && a.get(..10) == b.get(..10)
                }
                StoredForm::Json { .. } => {
                    let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).ok();
                    parse(a).is_some() && parse(a) == parse(b)
                }
                StoredForm::Uuid(_) => {
                    let norm = |t: &str| t.replace('-', "").to_ascii_lowercase();
                    norm(a) == norm(b)
                }
                StoredForm::Boolean(_) => {
                    crate::convert::to_boolean(a).ok() == crate::convert::to_boolean(b).ok()
                }
                _ => false,
            },
            _ => match (number_of(stored), number_of(back)) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }

    /// Whether the `stored` value is unchanged on the target, which holds `target_value` (as
    /// read) and maps back to `back`. Through an expression the target's value is compared
    /// with the transform of the stored one: an inverse need not give back the very text a
    /// lossy transform (`trim`, `lower`) started from.
    pub fn unchanged(
        &self,
        stored: &SqlValue,
        target_value: &SqlValue,
        back: &SqlValue,
        row: &minijinja::Value,
        env: &TransformEnvironment,
    ) -> bool {
        let StoredForm::Expression { forward, .. } = &self.form else {
            return self.same(stored, back);
        };
        let given = match stored {
            SqlValue::Null => return *target_value == SqlValue::Null,
            SqlValue::Text(t) => minijinja::Value::from(t.as_str()),
            SqlValue::Integer(i) => minijinja::Value::from(*i),
            SqlValue::Real(f) => minijinja::Value::from(*f),
            other => minijinja::Value::from(shown(other)),
        };
        let Ok(result) = env.evaluate(forward, given, row.clone()) else {
            return false;
        };
        let result = from_jinja(&result);
        // `12.5` from the transform is the `12.50` a numeric column shows.
        if let (Some(a), Some(b)) = (number_of(&result), number_of(target_value)) {
            return a == b;
        }
        match (result, target_value) {
            (SqlValue::Null, t) => *t == SqlValue::Null,
            (SqlValue::Text(r), SqlValue::Text(t)) => r == *t,
            (r, SqlValue::Text(t)) => shown(&r) == *t,
            (r, t) => r == *t,
        }
    }

    /// `value` as the column's affinity stores it (SQLite's conversions on write).
    fn stored(&self, value: SqlValue) -> Result<SqlValue, String> {
        Ok(match (self.affinity, value) {
            (Affinity::Integer | Affinity::Numeric | Affinity::Real, SqlValue::Text(t))
                if number_text(&t).is_some() =>
            {
                self.number(SqlValue::Text(t))?
            }
            (Affinity::Real, SqlValue::Integer(i)) => SqlValue::Real(i as f64),
            (Affinity::Integer | Affinity::Numeric, SqlValue::Real(f))
                if f.fract() == 0.0 && f.abs() < 9.2e18 =>
            {
                SqlValue::Integer(f as i64)
            }
            (_, v) => v,
        })
    }

    /// A number (its exact text, or a number) as the affinity stores it: a text column keeps
    /// the digits; an integer is an integer; else a REAL, when it holds the value exactly.
    fn number(&self, value: SqlValue) -> Result<SqlValue, String> {
        let SqlValue::Text(t) = value else {
            return self.stored(value);
        };
        if matches!(self.affinity, Affinity::Text | Affinity::Blob) {
            return Ok(SqlValue::Text(t));
        }
        let Some((whole, f)) = number_text(&t) else {
            return Ok(SqlValue::Text(t));
        };
        if let (Some(i), false) = (whole, self.affinity == Affinity::Real) {
            return Ok(SqlValue::Integer(i));
        }
        if whole.is_none()
            && f.fract() == 0.0
            && self.affinity != Affinity::Real
            && f.abs() >= 9.2e18
        {
            return Err(format!("`{t}` does not fit a 64-bit integer"));
        }
        // The shortest text of the REAL must say the same number, or digits would be lost.
        if trimmed_decimal(&crate::convert::sqlite_real_text(f)) != trimmed_decimal(&t) {
            return Err(format!(
                "`{t}` cannot be stored exactly: a REAL holds about 15 significant digits"
            ));
        }
        Ok(SqlValue::Real(f))
    }
}

/// The stored form of a column with no transform (or one whose values go back as they are).
fn by_type<'a>(
    target: &TargetType,
    affinity: Affinity,
    samples: impl Iterator<Item = &'a SqlValue> + Clone,
) -> StoredForm {
    if target.array {
        return StoredForm::Json {
            ascii: ascii_json(samples),
        };
    }
    match target.family() {
        TypeFamily::Timestamp | TypeFamily::TimestampTz => StoredForm::Iso(IsoStyle::of(samples)),
        TypeFamily::Boolean => StoredForm::Boolean(spelling(samples)),
        TypeFamily::Uuid => StoredForm::Uuid(uuid_style(samples, Some(affinity))),
        TypeFamily::Json => StoredForm::Json {
            ascii: ascii_json(samples),
        },
        TypeFamily::Interval => StoredForm::Microseconds,
        TypeFamily::Numeric | TypeFamily::Float | TypeFamily::Integer => StoredForm::Number,
        _ => StoredForm::Plain,
    }
}

/// The boolean spelling of `samples`: texts as they are written (`true`/`false`, `t`/`f`).
fn spelling<'a>(samples: impl Iterator<Item = &'a SqlValue>) -> BooleanSpelling {
    let mut yes = None;
    let mut no = None;
    for t in samples.filter_map(text_of) {
        match crate::convert::to_boolean(t) {
            Ok(true) => yes = yes.or_else(|| Some(t.to_owned())),
            Ok(false) => no = no.or_else(|| Some(t.to_owned())),
            Err(_) => {}
        }
    }
    let pair = |yes: &str| match yes.to_ascii_lowercase().as_str() {
        "t" => "f",
        "y" => "n",
        "yes" => "no",
        "on" => "off",
        _ => "false",
    };
    match (yes, no) {
        (None, None) => BooleanSpelling::Integer,
        (Some(y), Some(n)) => BooleanSpelling::Text { yes: y, no: n },
        (Some(y), None) => {
            let n = cased(
                pair(&y).to_owned(),
                y.chars().any(|c| c.is_ascii_uppercase()),
            );
            BooleanSpelling::Text { yes: y, no: n }
        }
        (None, Some(n)) => {
            let y = match n.to_ascii_lowercase().as_str() {
                "f" => "t",
                "n" => "y",
                "no" => "yes",
                "off" => "on",
                _ => "true",
            };
            let y = cased(y.to_owned(), n.chars().any(|c| c.is_ascii_uppercase()));
            BooleanSpelling::Text { yes: y, no: n }
        }
    }
}

/// How the uuids among `samples` are stored; without any, 32 hex digits in a `char(32)`-sized
/// text column (Django's), else dashed.
fn uuid_style<'a>(
    mut samples: impl Iterator<Item = &'a SqlValue>,
    affinity: Option<Affinity>,
) -> UuidStyle {
    match samples.next() {
        Some(SqlValue::Blob(_)) => UuidStyle::Bytes,
        Some(SqlValue::Text(t)) => {
            let upper = t.chars().any(|c| c.is_ascii_uppercase());
            if t.contains('-') {
                UuidStyle::Dashed { upper }
            } else {
                UuidStyle::Hex { upper }
            }
        }
        _ if affinity == Some(Affinity::Blob) => UuidStyle::Bytes,
        _ => UuidStyle::Dashed { upper: false },
    }
}

/// Whether the JSON texts among `samples` escape every non-ASCII character (Python's
/// `json.dumps` does): some have `\u` escapes and none has a non-ASCII character.
fn ascii_json<'a>(samples: impl Iterator<Item = &'a SqlValue>) -> bool {
    let mut escaped = false;
    for t in samples.filter_map(text_of) {
        if !t.is_ascii() {
            return false;
        }
        escaped |= t.contains("\\u");
    }
    escaped
}

/// JSON text with every non-ASCII character as a `\uXXXX` escape (UTF-16, surrogate pairs).
/// Outside strings JSON has only ASCII, so every one escaped is inside a string.
fn escape_non_ascii(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    for c in t.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

fn text_of(v: &SqlValue) -> Option<&str> {
    match v {
        SqlValue::Text(t) => Some(t),
        _ => None,
    }
}

fn cased(t: String, upper: bool) -> String {
    if upper {
        t.to_ascii_uppercase()
    } else {
        t.to_ascii_lowercase()
    }
}

fn instant(t: &str) -> Option<i64> {
    crate::convert::datetime::iso_instant(t, false).ok()
}

/// A number's text: its integer when it is a whole one that fits, and its nearest double.
fn number_text(t: &str) -> Option<(Option<i64>, f64)> {
    let t = t.trim();
    if t.is_empty() || !crate::dialect::is_plain_number(t) {
        return None;
    }
    let f: f64 = t.parse().ok()?;
    let whole = t.parse::<i64>().ok().or_else(|| {
        // `12.00` is whole too.
        let (int, frac) = t.split_once('.')?;
        frac.bytes()
            .all(|b| b == b'0')
            .then(|| int.parse::<i64>().ok())
            .flatten()
    });
    Some((whole, f))
}

/// A decimal text without trailing fraction zeros: `12.50` and `12.5` say the same number.
fn trimmed_decimal(t: &str) -> String {
    let t = t.trim();
    if !t.contains('.') || t.contains(['e', 'E']) {
        return t.to_owned();
    }
    t.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn number_of(v: &SqlValue) -> Option<f64> {
    match v {
        SqlValue::Integer(i) => Some(*i as f64),
        SqlValue::Real(f) => Some(*f),
        SqlValue::Text(t) => number_text(t).map(|(_, f)| f),
        _ => None,
    }
}

fn from_jinja(v: &minijinja::Value) -> SqlValue {
    use minijinja::value::ValueKind;
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => SqlValue::Null,
        ValueKind::Bool => SqlValue::Integer(i64::from(v.is_true())),
        ValueKind::Number => match i64::try_from(v.clone()) {
            Ok(i) if v.as_i64().is_some() => SqlValue::Integer(i),
            _ => f64::try_from(v.clone())
                .map_or_else(|_| SqlValue::Text(v.to_string()), SqlValue::Real),
        },
        ValueKind::Bytes => SqlValue::Blob(v.as_bytes().map(<[u8]>::to_vec).unwrap_or_default()),
        _ => SqlValue::Text(v.to_string()),
    }
}

/// A value for a message.
pub fn shown(v: &SqlValue) -> String {
    match v {
        SqlValue::Null => "NULL".to_owned(),
        SqlValue::Integer(i) => i.to_string(),
        SqlValue::Real(f) => crate::convert::sqlite_real_text(*f),
        SqlValue::Text(t) => format!("'{t}'"),
        SqlValue::InvalidText(b) | SqlValue::Blob(b) => format!("{} byte(s)", b.len()),
    }
}

#[cfg(test)]
mod tests;

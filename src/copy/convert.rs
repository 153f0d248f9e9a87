//! Converting one source value, from the storage class SQLite actually holds it in, to the
//! target column's type: the column's transform first, then a binary COPY field, or the
//! reason the value cannot become that type.

use std::borrow::Cow;

use minijinja::value::{Value as JinjaValue, ValueKind};
use smallvec::SmallVec;

use super::addresses::{parse_macaddr, parse_point, IpNet};
use super::binary;
use super::read::{sqlite_real_text, SqlValue};
use crate::engines::postgres::TargetType;
use crate::mapping::wire::Kind;
use crate::resolve::{ResolvedColumn, ResolvedTable};
use crate::transform::calendar::{self, NotADate};
use crate::transform::{builtins, Builtin, Transform, TransformEnvironment};

/// Why a value cannot become its column's type.
pub(crate) type Reason = String;

/// A text value inside a reason: quoted, and cut when long.
fn shown(text: &str) -> String {
    const MAX: usize = 60;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("`{}…`", &text[..cut]),
        None => format!("`{text}`"),
    }
}

/// A value after the column's transform: a source storage class, or what a built-in made.
#[derive(Debug, Clone, PartialEq)]
enum Val<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(Cow<'a, str>),
    InvalidText(&'a [u8]),
    Blob(Cow<'a, [u8]>),
    Bool(bool),
    /// An instant, in microseconds since the Unix epoch (UTC).
    Instant(i64),
    /// A duration in microseconds.
    Micros(i64),
}

impl<'a> Val<'a> {
    fn of(v: &'a SqlValue) -> Val<'a> {
        match v {
            SqlValue::Null => Val::Null,
            SqlValue::Integer(i) => Val::Int(*i),
            SqlValue::Real(f) => Val::Real(*f),
            SqlValue::Text(t) => Val::Text(Cow::Borrowed(t)),
            SqlValue::InvalidText(b) => Val::InvalidText(b),
            SqlValue::Blob(b) => Val::Blob(Cow::Borrowed(b)),
        }
    }

    /// How a reason names the value's kind.
    fn describe(&self) -> &'static str {
        match self {
            Val::Null => "NULL",
            Val::Int(_) => "an integer",
            Val::Real(_) => "a real",
            Val::Text(_) | Val::InvalidText(_) => "text",
            Val::Blob(_) => "a blob",
            Val::Bool(_) => "a boolean",
            Val::Instant(_) => "a timestamp",
            Val::Micros(_) => "an interval",
        }
    }
}

/// The transform as the converter runs it.
enum Step {
    Builtin(Builtin),
    Expression { text: String, uses_row: bool },
}

/// One copied column.
pub(crate) struct Column {
    pub source: String,
    pub type_sql: String,
    kind: Kind,
    nullable: bool,
    step: Option<Step>,
    /// An enum's labels.
    labels: Vec<String>,
    /// An array's element encoder.
    element: Option<Box<Column>>,
    /// The source column is a MySQL SET: its values are comma-separated labels.
    set_labels: bool,
    /// Refuse a time that PostgreSQL would change on reading it (finer than a microsecond,
    /// second 60, a date-time at 24:00) rather than let it: unless `transform: round_times`.
    exact_times: bool,
}

/// Converts whole rows of one table into binary COPY tuples.
pub(crate) struct Converter {
    pub columns: Vec<Column>,
    env: Option<TransformEnvironment>,
}

/// A copied column whose target type has no binary encoder.
#[derive(Debug)]
pub(crate) struct Unsupported {
    pub column: String,
    pub type_sql: String,
}

impl Converter {
    pub fn new(table: &ResolvedTable) -> Result<Converter, Unsupported> {
        let columns = table
            .copied_columns()
            .map(Column::new)
            .collect::<Result<Vec<_>, _>>()?;
        let needs_env = columns
            .iter()
            .any(|c| matches!(c.step, Some(Step::Expression { .. })));
        Ok(Converter {
            columns,
            env: needs_env.then(TransformEnvironment::new),
        })
    }

    /// Appends one tuple for `row` (the copied columns in order, possibly followed by key
    /// columns); on a bad value returns its column index and the reason, and `out` may hold
    /// a partial tuple the caller truncates.
    pub fn encode_row(&self, row: &[SqlValue], out: &mut Vec<u8>) -> Result<(), (usize, Reason)> {
        binary::tuple(out, self.columns.len() as i16);
        let mut row_value: Option<JinjaValue> = None;
        for i in 0..self.columns.len() {
            self.encode_column(i, row, &mut row_value, out)
                .map_err(|r| (i, r))?;
        }
        Ok(())
    }

    /// The columns after `first` (the one [`Converter::encode_row`] stopped at) whose values
    /// cannot be converted either, with why: a rejected row names every bad value, so the
    /// reviewer fixes them in one pass. Only called for a row already rejected.
    pub fn later_bad_columns(&self, row: &[SqlValue], first: usize) -> Vec<(usize, Reason)> {
        let mut row_value: Option<JinjaValue> = None;
        let mut scratch = Vec::new();
        (first + 1..self.columns.len())
            .filter_map(|i| {
                scratch.clear();
                self.encode_column(i, row, &mut row_value, &mut scratch)
                    .err()
                    .map(|r| (i, r))
            })
            .collect()
    }

    /// Converts and appends column `i` of `row`.
    fn encode_column(
        &self,
        i: usize,
        row: &[SqlValue],
        row_value: &mut Option<JinjaValue>,
        out: &mut Vec<u8>,
    ) -> Result<(), Reason> {
        let column = &self.columns[i];
        let value = row.get(i).unwrap_or(&SqlValue::Null);
        let val = match &column.step {
            None => Val::of(value),
            Some(Step::Builtin(b)) => apply_builtin(*b, Val::of(value), column.kind)?,
            Some(Step::Expression { text, uses_row }) => {
                let row_arg = if *uses_row {
                    row_value.get_or_insert_with(|| self.row_value(row)).clone()
                } else {
                    JinjaValue::from(())
                };
                self.evaluate(text, value, row_arg)?
            }
        };
        column.encode(val, out)
    }

    fn row_value(&self, row: &[SqlValue]) -> JinjaValue {
        JinjaValue::from_iter(
            self.columns
                .iter()
                .zip(row)
                .map(|(c, v)| (c.source.clone(), jinja_of(v).unwrap_or_default())),
        )
    }

    fn evaluate<'a>(
        &self,
        text: &str,
        value: &SqlValue,
        row: JinjaValue,
    ) -> Result<Val<'a>, Reason> {
        let env = self
            .env
            .as_ref()
            .ok_or("the transform environment is missing")?;
        let input = jinja_of(value)?;
        let out = env.evaluate(text, input, row).map_err(|e| {
            let detail = e
                .detail()
                .map(str::to_owned)
                .unwrap_or_else(|| e.to_string());
            format!("transform `{text}` failed: {detail}")
        })?;
        Ok(match out.kind() {
            ValueKind::Undefined | ValueKind::None => Val::Null,
            ValueKind::Bool => Val::Bool(out.is_true()),
            ValueKind::Number => match out.as_i64() {
                Some(i) if out.is_integer() => Val::Int(i),
                _ => f64::try_from(out.clone())
                    .map(Val::Real)
                    .map_err(|e| format!("transform `{text}` gave `{out}`: {e}"))?,
            },
            ValueKind::String => Val::Text(Cow::Owned(out.as_str().unwrap_or_default().to_owned())),
            ValueKind::Bytes => Val::Blob(Cow::Owned(out.as_bytes().unwrap_or_default().to_vec())),
            ValueKind::Seq | ValueKind::Map => {
                Val::Text(Cow::Owned(serde_json::to_string(&out).map_err(|e| {
                    format!("transform `{text}` gave a value that is not JSON: {e}")
                })?))
            }
            _ => Val::Text(Cow::Owned(out.to_string())),
        })
    }
}

/// A source value as a transform expression sees it.
fn jinja_of(v: &SqlValue) -> Result<JinjaValue, Reason> {
    Ok(match v {
        SqlValue::Null => JinjaValue::from(()),
        SqlValue::Integer(i) => JinjaValue::from(*i),
        SqlValue::Real(f) => JinjaValue::from(*f),
        SqlValue::Text(t) => JinjaValue::from(t.as_str()),
        SqlValue::InvalidText(b) => return Err(invalid_utf8(b)),
        SqlValue::Blob(b) => JinjaValue::from_bytes(b.clone()),
    })
}

impl Column {
    fn new(c: &ResolvedColumn) -> Result<Column, Unsupported> {
        let type_sql = c.target_type.sql();
        let kind = Kind::of(&c.target_type).ok_or_else(|| Unsupported {
            column: c.source.clone(),
            type_sql: type_sql.clone(),
        })?;
        let step = c.transform.as_ref().map(|t| match t {
            Transform::Builtin(b) => Step::Builtin(*b),
            Transform::Expression(text) => Step::Expression {
                uses_row: text.contains("row"),
                text: text.clone(),
            },
        });
        let element = match kind {
            Kind::Array { .. } => {
                let element_type = TargetType {
                    array: false,
                    ..c.target_type.clone()
                };
                Some(Box::new(Column::new(&ResolvedColumn {
                    target_type: element_type,
                    transform: None,
                    nullable: true,
                    ..c.clone()
                })?))
            }
            _ => None,
        };
        Ok(Column {
            source: c.source.clone(),
            type_sql,
            kind,
            nullable: c.nullable,
            exact_times: !matches!(step, Some(Step::Builtin(Builtin::RoundTimes))),
            step,
            labels: c.target_type.labels.clone(),
            element,
            set_labels: c
                .declared
                .trim_start()
                .get(..4)
                .is_some_and(|d| d.eq_ignore_ascii_case("set(")),
        })
    }

    /// A one-dimensional array from JSON-array text (`["a","b"]`, `[1,2]`, `[]`), or from
    /// comma-separated labels as a MySQL SET holds them (`a,b`; `''` is the empty array).
    /// A SET's labels cannot contain a comma, so splitting on commas is exact; a value of a
    /// SET column is always labels, even one that starts with `[`.
    fn encode_array(
        &self,
        val: &Val<'_>,
        element_oid: u32,
        out: &mut Vec<u8>,
    ) -> Result<(), Reason> {
        let Some(element) = &self.element else {
            return Err(format!("`{}` has no element type", self.type_sql));
        };
        let text = text(val)?;
        let json = !self.set_labels && text.trim_start().starts_with('[');
        let items: Vec<serde_json::Value> = if !json {
            if text.is_empty() {
                Vec::new()
            } else {
                text.split(',')
                    .map(|label| serde_json::Value::String(label.to_owned()))
                    .collect()
            }
        } else {
            match serde_json::from_str(&text) {
                Ok(serde_json::Value::Array(items)) => items,
                _ => {
                    return Err(format!(
                        "`{}` needs a JSON array (`[\"a\", \"b\"]`) or comma-separated labels (`a,b`), not {}",
                        self.type_sql,
                        shown(&text)
                    ))
                }
            }
        };
        let mut body = Vec::new();
        let mut has_null = false;
        for (i, item) in items.iter().enumerate() {
            let item_val = match item {
                serde_json::Value::Null => {
                    has_null = true;
                    Val::Null
                }
                serde_json::Value::Bool(b) => Val::Bool(*b),
                serde_json::Value::Number(n) => match n.as_i64() {
                    Some(i) => Val::Int(i),
                    None => Val::Real(n.as_f64().unwrap_or(f64::NAN)),
                },
                serde_json::Value::String(s) => Val::Text(Cow::Borrowed(s)),
                nested => Val::Text(Cow::Owned(nested.to_string())),
            };
            element
                .encode(item_val, &mut body)
                .map_err(|why| format!("element {} of the array: {why}", i + 1))?;
        }
        let mut field = Vec::with_capacity(body.len() + 20);
        let dims: i32 = if items.is_empty() { 0 } else { 1 };
        field.extend_from_slice(&dims.to_be_bytes());
        field.extend_from_slice(&i32::from(has_null).to_be_bytes());
        field.extend_from_slice(&element_oid.to_be_bytes());
        if !items.is_empty() {
            let len = i32::try_from(items.len())
                .map_err(|_| format!("{} elements are too many for an array", items.len()))?;
            field.extend_from_slice(&len.to_be_bytes());
            field.extend_from_slice(&1i32.to_be_bytes());
        }
        field.extend_from_slice(&body);
        binary::bytes(out, &field);
        Ok(())
    }

    /// Appends the field for `val`, or says why it cannot be one.
    fn encode(&self, val: Val<'_>, out: &mut Vec<u8>) -> Result<(), Reason> {
        if val == Val::Null {
            if !self.nullable {
                return Err(format!(
                    "NULL in NOT NULL column of type `{}`",
                    self.type_sql
                ));
            }
            binary::null(out);
            return Ok(());
        }
        match self.kind {
            Kind::Int2 => binary::int2(
                out,
                integer(&val, i16::MIN.into(), i16::MAX.into(), "smallint")? as i16,
            ),
            Kind::Int4 => binary::int4(
                out,
                integer(&val, i32::MIN.into(), i32::MAX.into(), "integer")? as i32,
            ),
            Kind::Int8 => binary::int8(out, integer(&val, i64::MIN, i64::MAX, "bigint")?),
            Kind::Float4 => {
                let f = float(&val)?;
                let narrow = f as f32;
                if f.is_finite() && narrow.is_infinite() {
                    return Err(format!(
                        "{} is out of range for `real`",
                        sqlite_real_text(f)
                    ));
                }
                binary::float4(out, narrow);
            }
            Kind::Float8 => binary::float8(out, float(&val)?),
            Kind::Numeric(typmod) => {
                let d = decimal(&val)?;
                let d = match typmod {
                    Some((p, s)) => {
                        if let Val::Real(f) = val {
                            exact_real(f, s, &self.type_sql)?;
                        }
                        d.fit(p, s, &self.type_sql)?
                    }
                    None => d,
                };
                d.check_limits()?;
                binary::numeric(out, d.negative, &d.digits, d.scale);
            }
            Kind::Bool => binary::boolean(out, boolean(&val)?),
            Kind::Text {
                max_chars,
                max_bytes,
            } => {
                let text = text(&val)?;
                if let Some(n) = max_chars {
                    if text.len() > n as usize && text.chars().count() > n as usize {
                        return Err(format!(
                            "{} characters do not fit in `{}`",
                            text.chars().count(),
                            self.type_sql
                        ));
                    }
                }
                if let Some(n) = max_bytes {
                    if text.len() > n {
                        return Err(format!(
                            "{} bytes do not fit in `{}` (at most {n})",
                            text.len(),
                            self.type_sql
                        ));
                    }
                }
                binary::bytes(out, text.as_bytes());
            }
            Kind::Enum => {
                let text = text(&val)?;
                if !self.labels.iter().any(|l| *l == *text) {
                    return Err(format!(
                        "{} is not a label of enum `{}` (allowed: {})",
                        shown(&text),
                        self.type_sql,
                        self.labels.join(", ")
                    ));
                }
                binary::bytes(out, text.as_bytes());
            }
            Kind::Array { element_oid } => self.encode_array(&val, element_oid, out)?,
            Kind::Bytea => match &val {
                Val::Blob(b) => binary::bytes(out, b),
                Val::Text(t) => binary::bytes(out, t.as_bytes()),
                Val::InvalidText(b) => binary::bytes(out, b),
                other => return Err(format!("{} is not binary data", other.describe())),
            },
            Kind::Geometry => {
                let bytes = match &val {
                    Val::Blob(b) => b.as_ref(),
                    Val::InvalidText(b) => b,
                    Val::Text(t) => t.as_bytes(),
                    other => return Err(format!("{} is not a spatial value", other.describe())),
                };
                binary::bytes(out, &ewkb(bytes)?);
            }
            Kind::Date => binary::date(out, date(&val)?),
            Kind::Time => {
                let (micros, _) = time_of_day(&val, false, self.exact_times)?;
                binary::time(out, micros);
            }
            Kind::TimeTz => {
                let (micros, offset) = time_of_day(&val, true, self.exact_times)?;
                binary::timetz(out, micros, offset);
            }
            Kind::Timestamp | Kind::TimestampTz => {
                binary::timestamp(out, timestamp(&val, &self.type_sql, self.exact_times)?)
            }
            Kind::Interval => {
                let (micros, days) = interval(&val)?;
                binary::interval(out, micros, days, 0);
            }
            Kind::Uuid => binary::uuid(out, &uuid(&val)?),
            Kind::Json => binary::bytes(out, json(&val, false)?.as_bytes()),
            Kind::Jsonb => binary::jsonb(out, json(&val, true)?.as_bytes()),
            Kind::Inet { cidr } => {
                let net = ip_net(&val, cidr)?;
                binary::inet(out, net.address(), net.bits, cidr);
            }
            Kind::MacAddr => binary::macaddr(out, &macaddr(&val)?),
            Kind::Point => {
                let (x, y) = point(&val)?;
                binary::point(out, x, y);
            }
        }
        Ok(())
    }
}

fn invalid_utf8(bytes: &[u8]) -> Reason {
    match std::str::from_utf8(bytes) {
        Err(e) => format!(
            "text is not valid UTF-8 (byte 0x{:02x} at offset {})",
            bytes.get(e.valid_up_to()).copied().unwrap_or(0),
            e.valid_up_to()
        ),
        Ok(_) => "text is not valid UTF-8".to_owned(),
    }
}

const NUL_REASON: &str = "text contains a NUL character, which PostgreSQL text cannot hold";

/// A built-in transform on the row in flight.
fn apply_builtin(b: Builtin, val: Val<'_>, kind: Kind) -> Result<Val<'_>, Reason> {
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

/// A number from an integer, a real or numeric text.
fn number(val: &Val<'_>) -> Option<f64> {
    match val {
        Val::Int(i) => Some(*i as f64),
        Val::Real(f) => Some(*f),
        Val::Text(t) => t.trim().parse::<f64>().ok(),
        _ => None,
    }
}

/// Epoch seconds or milliseconds (`per_unit` microseconds each) to an instant.
fn epoch<'a>(val: &Val<'_>, per_unit: i64, limit: f64, name: &str) -> Result<Val<'a>, Reason> {
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

/// 2^63: `i64::MAX` rounds up to it as a double.
const TWO_POW_63: f64 = i64::MAX as f64;

fn integer(val: &Val<'_>, min: i64, max: i64, type_name: &str) -> Result<i64, Reason> {
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
fn exact_real(f: f64, scale: u32, type_sql: &str) -> Result<(), Reason> {
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

fn float(val: &Val<'_>) -> Result<f64, Reason> {
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
            Ok(f) if !f.is_finite() => Err(match builtins::special_float(t) {
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

fn boolean(val: &Val<'_>) -> Result<bool, Reason> {
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
        Val::Text(t) => builtins::to_boolean(t),
        Val::InvalidText(b) => Err(invalid_utf8(b)),
        other => Err(format!("{} is not a boolean", other.describe())),
    }
}

/// Text for a text column: checked UTF-8 without NUL; numbers in SQLite's text form.
fn text<'a>(val: &'a Val<'_>) -> Result<Cow<'a, str>, Reason> {
    let t: Cow<'a, str> = match val {
        Val::Text(t) => Cow::Borrowed(t.as_ref()),
        Val::InvalidText(b) => return Err(invalid_utf8(b)),
        Val::Int(i) => Cow::Owned(i.to_string()),
        Val::Real(f) => Cow::Owned(sqlite_real_text(*f)),
        Val::Blob(b) => match std::str::from_utf8(b) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                return Err(format!(
                    "a blob of {} bytes is not valid UTF-8 text",
                    b.len()
                ))
            }
        },
        Val::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Val::Instant(micros) => Cow::Owned(builtins::format_epoch_micros(*micros)?),
        Val::Micros(micros) => Cow::Owned(builtins::microseconds_interval(*micros)),
        Val::Null => Cow::Borrowed(""),
    };
    if t.as_bytes().contains(&0) {
        return Err(NUL_REASON.to_owned());
    }
    Ok(t)
}

fn uuid(val: &Val<'_>) -> Result<[u8; 16], Reason> {
    match val {
        Val::Blob(b) => <[u8; 16]>::try_from(b.as_ref())
            .map_err(|_| format!("a {}-byte blob is not a UUID (expected 16 bytes)", b.len())),
        Val::Text(t) => {
            parse_uuid(t).ok_or_else(|| format!("`{t}` is not a UUID (expected 32 hex digits)"))
        }
        Val::InvalidText(b) => Err(invalid_utf8(b)),
        other => Err(format!("{} is not a UUID", other.describe())),
    }
}

/// An `inet`/`cidr` value from text, an IPv4 address as an integer, or 4 or 16 address bytes.
fn ip_net(val: &Val<'_>, cidr: bool) -> Result<IpNet, Reason> {
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

fn macaddr(val: &Val<'_>) -> Result<[u8; 6], Reason> {
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

fn point(val: &Val<'_>) -> Result<(f64, f64), Reason> {
    match val {
        Val::Text(t) => {
            parse_point(t).ok_or_else(|| format!("`{t}` is not a point (expected `(x,y)`)"))
        }
        Val::InvalidText(b) => Err(invalid_utf8(b)),
        other => Err(format!("{} is not a point", other.describe())),
    }
}

/// 32 hex digits, dashed or not, optionally in braces.
fn parse_uuid(text: &str) -> Option<[u8; 16]> {
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
fn json<'a>(val: &'a Val<'_>, binary: bool) -> Result<Cow<'a, str>, Reason> {
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
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&t) {
        return Err(format!("invalid JSON: {e}"));
    }
    if binary && has_escaped_nul(&t) {
        return Err("JSON with `\\u0000` cannot be stored in `jsonb`".to_owned());
    }
    Ok(t)
}

/// Whether JSON text has a `\u0000` escape (not an escaped backslash followed by `u0000`).
fn has_escaped_nul(t: &str) -> bool {
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

/// Numbers in a temporal column need a transform that says what they count.
fn temporal_number_reason(val: &Val<'_>, type_sql: &str) -> Reason {
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
struct DateTime {
    days: i64,
    micros: i64,
    offset: Option<i32>,
}

/// Why PostgreSQL would change a valid time text on reading it, if it would: more than six
/// digits after the second (rounded to the microsecond), second 60 (the next minute), and,
/// when `day_ends` (a date-time; a `time` keeps `24:00:00`), hour 24 (the next midnight).
fn inexact_time(text: &str, day_ends: bool) -> Option<&'static str> {
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
fn inexact_reason(text: &str, why: &str) -> Reason {
    format!(
        "{} {why}; add `transform: round_times` to the column to let it",
        shown(text)
    )
}

fn timestamp(val: &Val<'_>, type_sql: &str, exact: bool) -> Result<i64, Reason> {
    let unix_micros = match val {
        Val::Instant(m) => *m,
        Val::Text(t) => {
            let trimmed = t.trim();
            if trimmed.eq_ignore_ascii_case("infinity") || trimmed.eq_ignore_ascii_case("+infinity")
            {
                return Ok(i64::MAX);
            }
            if trimmed.eq_ignore_ascii_case("-infinity") {
                return Ok(i64::MIN);
            }
            let dt = parse_datetime(trimmed).map_err(|r| format!("`{t}` {r}"))?;
            if let Some(why) = inexact_time(trimmed, true).filter(|_| exact) {
                return Err(inexact_reason(t, why));
            }
            // Naive values are UTC; an offset is applied, so the instant is kept.
            (dt.days * binary::DAY_MICROS + dt.micros)
                - i64::from(dt.offset.unwrap_or(0)) * 1_000_000
        }
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
            builtins::shown_instant(unix_micros)
        )
    })
}

fn date(val: &Val<'_>) -> Result<i32, Reason> {
    let days = match val {
        Val::Instant(m) => {
            if m.rem_euclid(binary::DAY_MICROS) != 0 {
                return Err(format!(
                    "{} has a time of day; the column is a `date`",
                    builtins::shown_instant(*m)
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

fn time_of_day(val: &Val<'_>, with_zone: bool, exact: bool) -> Result<(i64, i32), Reason> {
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
fn interval(val: &Val<'_>) -> Result<(i64, i32), Reason> {
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

fn parse_interval(t: &str) -> Option<(i64, i32)> {
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

fn digits_at(b: &[u8], at: usize, n: usize) -> Option<i64> {
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
fn parse_datetime(t: &str) -> Result<DateTime, &'static str> {
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
fn parse_time(b: &[u8]) -> Option<(i64, Option<i32>, &[u8])> {
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
fn parse_time_parts(b: &[u8], free_minutes: bool) -> Option<(i64, &[u8])> {
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

/// An exact decimal: `digits × 10^-scale`, digits most significant first, no leading zeros.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decimal {
    pub negative: bool,
    /// Inline up to 32 digits: a REAL or a money amount converts without allocating.
    pub digits: SmallVec<[u8; 32]>,
    pub scale: u32,
}

/// PostgreSQL's numeric limits: digits before and after the point.
const MAX_WEIGHT_DIGITS: i64 = 131_072;
const MAX_SCALE: u32 = 16_383;

impl Decimal {
    fn from_i64(i: i64) -> Decimal {
        let mut digits: SmallVec<[u8; 32]> = SmallVec::new();
        let mut n = i.unsigned_abs();
        while n > 0 {
            digits.push((n % 10) as u8);
            n /= 10;
        }
        digits.reverse();
        Decimal {
            negative: i < 0,
            digits,
            scale: 0,
        }
        .normalised()
    }

    /// `[+-]digits[.digits][e[+-]digits]`, surrounding whitespace allowed.
    pub(crate) fn parse(text: &str) -> Option<Decimal> {
        let t = text.trim().as_bytes();
        let (negative, t) = match t.first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let int_len = t.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut digits: SmallVec<[u8; 32]> = t[..int_len].iter().map(|c| c - b'0').collect();
        let mut rest = &t[int_len..];
        let mut frac_len = 0usize;
        if rest.first() == Some(&b'.') {
            frac_len = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            digits.extend(rest[1..1 + frac_len].iter().map(|c| c - b'0'));
            rest = &rest[1 + frac_len..];
        }
        if digits.is_empty() {
            return None;
        }
        let mut exponent: i64 = 0;
        if let Some(b'e' | b'E') = rest.first() {
            let e = std::str::from_utf8(&rest[1..]).ok()?;
            exponent = e.parse::<i64>().ok()?;
            if exponent.abs() > 2 * MAX_WEIGHT_DIGITS {
                return None;
            }
            rest = &[];
        }
        if !rest.is_empty() {
            return None;
        }
        let mut scale = frac_len as i64 - exponent;
        if scale < 0 {
            digits.extend(std::iter::repeat_n(0, (-scale) as usize));
            scale = 0;
        }
        Some(
            Decimal {
                negative,
                digits,
                scale: u32::try_from(scale).ok()?,
            }
            .normalised(),
        )
    }

    fn normalised(mut self) -> Decimal {
        let zeros = self.digits.iter().take_while(|d| **d == 0).count();
        self.digits.drain(..zeros);
        self
    }

    fn is_zero(&self) -> bool {
        self.digits.iter().all(|d| *d == 0)
    }

    /// Decimal exponent of the leading digit plus one: 12.3 → 2, 0.05 → -1.
    fn magnitude(&self) -> i64 {
        self.digits.len() as i64 - i64::from(self.scale)
    }

    fn is_integral(&self) -> bool {
        let frac = (self.scale as usize).min(self.digits.len());
        self.digits[self.digits.len() - frac..]
            .iter()
            .all(|d| *d == 0)
    }

    fn to_i64(&self) -> Option<i64> {
        let int_len = self.magnitude();
        if int_len > 19 {
            return None;
        }
        let mut v: i128 = 0;
        for d in self.digits.iter().take(int_len.max(0) as usize) {
            v = v * 10 + i128::from(*d);
        }
        let v = if self.negative { -v } else { v };
        i64::try_from(v).ok()
    }

    /// The value × 10^scale as an integer (after `round_to`).
    fn scaled_i64(&self) -> Option<i64> {
        if self.digits.len() > 19 {
            return None;
        }
        let v = self
            .digits
            .iter()
            .fold(0i128, |acc, d| acc * 10 + i128::from(*d));
        i64::try_from(if self.negative { -v } else { v }).ok()
    }

    /// Rounds to `scale` digits after the point, half away from zero.
    fn round_to(mut self, scale: u32) -> Decimal {
        if self.scale <= scale {
            self.digits
                .extend(std::iter::repeat_n(0, (scale - self.scale) as usize));
            self.scale = scale;
            return self;
        }
        let drop = (self.scale - scale) as usize;
        let round_up = if drop <= self.digits.len() {
            self.digits[self.digits.len() - drop] >= 5
        } else {
            false
        };
        let keep = self.digits.len().saturating_sub(drop);
        self.digits.truncate(keep);
        self.scale = scale;
        if round_up {
            let mut i = self.digits.len();
            loop {
                if i == 0 {
                    self.digits.insert(0, 1);
                    break;
                }
                i -= 1;
                if self.digits[i] == 9 {
                    self.digits[i] = 0;
                } else {
                    self.digits[i] += 1;
                    break;
                }
            }
        }
        self.normalised()
    }

    /// Rounds to the column's scale and checks its precision, as `numeric(p,s)` would.
    fn fit(self, precision: u32, scale: u32, type_sql: &str) -> Result<Decimal, Reason> {
        let d = self.round_to(scale);
        let max = i64::from(precision) - i64::from(scale);
        if !d.is_zero() && d.magnitude() > max {
            return Err(format!(
                "{d} does not fit in `{type_sql}` (at most {} digits before the point)",
                max.max(0)
            ));
        }
        Ok(d)
    }

    fn check_limits(&self) -> Result<(), Reason> {
        if self.scale > MAX_SCALE || self.magnitude() > MAX_WEIGHT_DIGITS {
            return Err("the number exceeds PostgreSQL's numeric limits".to_owned());
        }
        Ok(())
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scale = self.scale as usize;
        let mut s = String::with_capacity(self.digits.len() + 3);
        if self.negative && !self.is_zero() {
            s.push('-');
        }
        let int_len = self.digits.len().saturating_sub(scale);
        if int_len == 0 {
            s.push('0');
        }
        s.extend(self.digits[..int_len].iter().map(|d| (b'0' + d) as char));
        if scale > 0 {
            s.push('.');
            s.extend(std::iter::repeat_n(
                '0',
                scale.saturating_sub(self.digits.len()),
            ));
            s.extend(self.digits[int_len..].iter().map(|d| (b'0' + d) as char));
        }
        f.write_str(&s)
    }
}

fn decimal(val: &Val<'_>) -> Result<Decimal, Reason> {
    match val {
        Val::Int(i) => Ok(Decimal::from_i64(*i)),
        Val::Real(f) => {
            if !f.is_finite() {
                return Err(format!("{} is not a finite number", sqlite_real_text(*f)));
            }
            // The shortest text that reads back as the same double: what the application saw.
            Decimal::parse(ryu::Buffer::new().format_finite(*f))
                .ok_or_else(|| format!("{f} is not a number"))
        }
        Val::Text(t) => Decimal::parse(t).ok_or_else(|| format!("`{t}` is not a number")),
        Val::InvalidText(b) => Err(invalid_utf8(b)),
        Val::Bool(b) => Ok(Decimal::from_i64(i64::from(*b))),
        other => Err(format!("{} is not a number", other.describe())),
    }
}

/// PostGIS's EWKB of a spatial value as the MySQL load selects it: a 4-byte big-endian SRID,
/// then the WKB. The SRID goes into the WKB's header (flag 0x20000000), in its byte order;
/// SRID 0 (none) leaves plain WKB.
fn ewkb(bytes: &[u8]) -> Result<Vec<u8>, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(text: &str, p: u32, s: u32) -> Result<String, String> {
        Decimal::parse(text)
            .ok_or("unparsed")?
            .fit(p, s, "numeric")
            .map(|d| d.to_string())
    }

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
    fn decimals_round_half_away_from_zero_and_check_precision() {
        assert_eq!(fit("4.205", 10, 2).as_deref(), Ok("4.21"));
        assert_eq!(fit("-4.205", 10, 2).as_deref(), Ok("-4.21"));
        assert_eq!(fit("4.2", 10, 2).as_deref(), Ok("4.20"));
        assert_eq!(fit("99.995", 10, 2).as_deref(), Ok("100.00"));
        assert_eq!(fit("0.004", 10, 2).as_deref(), Ok("0.00"));
        assert_eq!(fit("1e3", 10, 2).as_deref(), Ok("1000.00"));
        assert!(fit("99999999.995", 10, 2).is_err());
        assert_eq!(fit("99999999.994", 10, 2).as_deref(), Ok("99999999.99"));
        assert_eq!(fit("0.05", 2, 3).as_deref(), Ok("0.050"));
        assert!(fit("0.5", 2, 3).is_err());
        assert!(Decimal::parse("1.2.3").is_none());
        assert!(Decimal::parse("abc").is_none());
        assert!(Decimal::parse(".").is_none());
    }

    #[test]
    fn reals_become_the_decimal_of_their_shortest_text() {
        let d = decimal(&Val::Real(2.675)).and_then(|d| d.fit(10, 2, "numeric"));
        assert_eq!(d.map(|d| d.to_string()).as_deref(), Ok("2.68"));
        let d = decimal(&Val::Real(0.1 + 0.2)).map(|d| d.to_string());
        assert_eq!(d.as_deref(), Ok("0.30000000000000004"));
    }

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
            step: None,
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
    fn uuids_and_intervals_parse() {
        assert_eq!(
            parse_uuid("{00112233-4455-6677-8899-aabbccddeeff}").map(|u| u[15]),
            Some(0xff)
        );
        assert!(parse_uuid("0011223344556677").is_none());
        assert_eq!(parse_interval("90 microseconds"), Some((90, 0)));
        assert_eq!(parse_interval("1.5 seconds"), Some((1_500_000, 0)));
        assert_eq!(parse_interval("2 days 01:00:00"), Some((3_600_000_000, 2)));
        assert_eq!(parse_interval("-00:00:01.5"), Some((-1_500_000, 0)));
        assert!(has_escaped_nul(r#"{"a":"\u0000"}"#));
        assert!(!has_escaped_nul(r#"{"a":"\\u0000"}"#));
    }
}

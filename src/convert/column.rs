//! One column's encoder: a value becomes the binary COPY field of the column's type (with its
//! length, labels, array element and time exactness), or the reason it cannot.

use std::borrow::Cow;

use super::binary::{self, Kind};
use super::datetime::{date, interval, time_of_day, timestamp};
use super::decimal::decimal;
use super::real::sqlite_real_text;
use super::scalar::{
    boolean, ewkb, exact_real, float, integer, ip_net, json, macaddr, point, uuid,
};
use super::value::{shown, text, Reason, Val};

/// One copied column.
pub(crate) struct Column {
    pub(crate) source: String,
    pub(crate) type_sql: String,
    pub(crate) kind: Kind,
    pub(crate) nullable: bool,
    /// An enum's labels.
    pub(crate) labels: Vec<String>,
    /// An array's element encoder.
    pub(crate) element: Option<Box<Column>>,
    /// The source column is a MySQL SET: its values are comma-separated labels.
    pub(crate) set_labels: bool,
    /// Refuse a time that PostgreSQL would change on reading it (finer than a microsecond,
    /// second 60, a date-time at 24:00) rather than let it: unless `transform: round_times`.
    pub(crate) exact_times: bool,
}

impl Column {
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
    pub(crate) fn encode(&self, val: Val<'_>, out: &mut Vec<u8>) -> Result<(), Reason> {
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

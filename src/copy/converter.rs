//! Converting a source row, value by value in the storage class the source holds it in, to
//! the target columns: each column's transform first, then its encoder (`crate::convert`).

use std::borrow::Cow;

use minijinja::value::{Value as JinjaValue, ValueKind};

use super::read::SqlValue;
use crate::convert::{binary, invalid_utf8, Column, Kind, Reason, Val};
use crate::engines::postgres::TargetType;
use crate::resolve::{ResolvedColumn, ResolvedTable};
use crate::transform::apply::apply_builtin;
use crate::transform::{Builtin, Transform, TransformEnvironment};

/// The transform as the converter runs it.
enum Step {
    Builtin(Builtin),
    Expression { text: String, uses_row: bool },
}

/// Converts whole rows of one table into binary COPY tuples.
pub(crate) struct Converter {
    pub columns: Vec<Column>,
    /// Each column's transform, in the order of `columns`.
    steps: Vec<Option<Step>>,
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
        let (columns, steps): (Vec<_>, Vec<_>) = table
            .copied_columns()
            .map(column)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .unzip();
        let needs_env = steps
            .iter()
            .any(|s| matches!(s, Some(Step::Expression { .. })));
        Ok(Converter {
            columns,
            steps,
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
        let val = match &self.steps[i] {
            None => val_of(value),
            Some(Step::Builtin(b)) => apply_builtin(*b, val_of(value), Some(column.kind))?,
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

/// A source value as the conversions see it: its storage class.
fn val_of(v: &SqlValue) -> Val<'_> {
    match v {
        SqlValue::Null => Val::Null,
        SqlValue::Integer(i) => Val::Int(*i),
        SqlValue::Real(f) => Val::Real(*f),
        SqlValue::Text(t) => Val::Text(Cow::Borrowed(t)),
        SqlValue::InvalidText(b) => Val::InvalidText(b),
        SqlValue::Blob(b) => Val::Blob(Cow::Borrowed(b)),
    }
}

/// A copied column's encoder and its transform.
fn column(c: &ResolvedColumn) -> Result<(Column, Option<Step>), Unsupported> {
    let step = c.transform.as_ref().map(|t| match t {
        Transform::Builtin(b) => Step::Builtin(*b),
        Transform::Expression(text) => Step::Expression {
            uses_row: text.contains("row"),
            text: text.clone(),
        },
    });
    let exact_times = !matches!(step, Some(Step::Builtin(Builtin::RoundTimes)));
    Ok((encoder(c, exact_times)?, step))
}

/// The encoder of a column's values after its transform.
fn encoder(c: &ResolvedColumn, exact_times: bool) -> Result<Column, Unsupported> {
    let type_sql = c.target_type.sql();
    let kind = Kind::of(&c.target_type).ok_or_else(|| Unsupported {
        column: c.source.clone(),
        type_sql: type_sql.clone(),
    })?;
    let element = match kind {
        Kind::Array { .. } => {
            let element_type = TargetType {
                array: false,
                ..c.target_type.clone()
            };
            // An element has no transform of its own: its times stay exact.
            Some(Box::new(encoder(
                &ResolvedColumn {
                    target_type: element_type,
                    transform: None,
                    nullable: true,
                    ..c.clone()
                },
                true,
            )?))
        }
        _ => None,
    };
    Ok(Column {
        source: c.source.clone(),
        type_sql,
        kind,
        nullable: c.nullable,
        exact_times,
        labels: c.target_type.labels.clone(),
        element,
        set_labels: c
            .declared
            .trim_start()
            .get(..4)
            .is_some_and(|d| d.eq_ignore_ascii_case("set(")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::BUILTINS;

    /// A nullable column of `kind` whose values go through `step`.
    fn converter(kind: Kind, type_sql: &str, step: Step) -> Converter {
        Converter {
            columns: vec![Column {
                source: "v".into(),
                type_sql: type_sql.into(),
                kind,
                nullable: true,
                labels: Vec::new(),
                element: None,
                set_labels: false,
                exact_times: true,
            }],
            steps: vec![Some(step)],
            env: Some(TransformEnvironment::new()),
        }
    }

    /// The binary COPY field `value` becomes in a column of `kind` through `step`, or why not.
    fn load(kind: Kind, type_sql: &str, step: Step, value: &SqlValue) -> Result<Vec<u8>, Reason> {
        let mut out = Vec::new();
        converter(kind, type_sql, step)
            .encode_row(std::slice::from_ref(value), &mut out)
            .map(|()| out)
            .map_err(|(_, why)| why)
    }

    fn builtin(b: Builtin) -> Step {
        Step::Builtin(b)
    }

    fn filter(b: Builtin) -> Step {
        Step::Expression {
            text: format!("{{{{ value | {} }}}}", b.name()),
            uses_row: false,
        }
    }

    const TARGETS: &[(Kind, &str)] = &[
        (Kind::TimestampTz, "timestamptz"),
        (Kind::Timestamp, "timestamp"),
        (Kind::Date, "date"),
        (Kind::Bool, "boolean"),
        (Kind::Uuid, "uuid"),
        (Kind::Jsonb, "jsonb"),
        (Kind::Json, "json"),
        (Kind::Interval, "interval"),
        (Kind::Int8, "bigint"),
        (Kind::Float8, "double precision"),
        (
            Kind::Text {
                max_chars: None,
                max_bytes: None,
            },
            "text",
        ),
    ];

    fn inputs() -> Vec<SqlValue> {
        let text = |t: &str| SqlValue::Text(t.to_owned());
        let mut v = vec![
            SqlValue::Null,
            SqlValue::Integer(0),
            SqlValue::Integer(1),
            SqlValue::Integer(2),
            SqlValue::Integer(-5),
            SqlValue::Integer(1_700_000_000),
            SqlValue::Integer(1_700_000_000_123),
            SqlValue::Integer(2_460_341),
            SqlValue::Integer(5_400_000_000),
            SqlValue::Real(1.0),
            SqlValue::Real(1.6),
            SqlValue::Real(1_700_000_000.25),
            SqlValue::Real(2_460_341.5),
            SqlValue::Real(f64::NAN),
            SqlValue::Blob(vec![0xab; 16]),
            SqlValue::Blob(vec![1, 2, 3]),
            SqlValue::InvalidText(vec![b'a', 0xff]),
        ];
        v.extend(
            [
                "yes",
                "off",
                "maybe",
                " 42 ",
                "1.5",
                "1700000000",
                "1700000000123",
                "NaN",
                "infinity",
                "-Infinity",
                "2024-01-31",
                "2024-01-31 10:00",
                "2024-01-31T10:00:00Z",
                "2024-01-31t10:00:00.5z",
                "2024-01-31 10:00:00.000 +00:00",
                "2024-01-31 10:00:00+05:30",
                "2024-01-31 10:00:00-0130",
                "2024-01-31 10:00:00 +05",
                "2024-01-31 23:30:00-05:00",
                "2024-01-31 10:00:00.1234567",
                "2024-01-31 24:00:00",
                "2024-01-31 24:30",
                "2024-01-31 23:59:60",
                "2024-01-31 10:00 nonsense",
                "2024-01-31TT10:00",
                "2024-02-30",
                "0000-01-01",
                "31/01/2024",
                "10:00:00",
                "0123456789ABCDEF0123456789abcdef",
                "01234567-89ab-cdef-0123-456789abcdef",
                "{01234567-89ab-cdef-0123-456789abcdef}",
                "{01234567-89ab-cdef-0123-456789abcdef",
                "01234567-89ab-cdef-0123-456789abcdef}",
                "{{01234567-89ab-cdef-0123-456789abcdef}}",
                "0123456789abcdef",
                "{\"push\": true}",
                "{a: 1}",
                "[1, 2]",
                "  Mixed Case  ",
                "",
            ]
            .map(text),
        );
        v
    }

    /// An instant in years 1 to 9999: one that has ISO-8601 text, which is how a filter hands
    /// an instant on. The built-in carries others (a Julian day of 4713 BC) to the encoder.
    fn has_iso_text(b: Builtin, value: &SqlValue) -> bool {
        const YEAR_1: i64 = -62_135_596_800_000_000;
        const YEAR_10000: i64 = 253_402_300_800_000_000;
        match apply_builtin(b, val_of(value), None) {
            Ok(Val::Instant(m)) => (YEAR_1..YEAR_10000).contains(&m),
            _ => true,
        }
    }

    #[test]
    fn every_built_in_loads_each_value_as_its_filter_does() {
        let mut differ = Vec::new();
        let mut compared = 0;
        for b in BUILTINS.iter().copied() {
            if matches!(b, Builtin::KeepNanInfinity | Builtin::RoundTimes) {
                continue;
            }
            for value in inputs().iter().filter(|v| has_iso_text(b, v)) {
                for (kind, type_sql) in TARGETS {
                    let fast = load(*kind, type_sql, builtin(b), value);
                    let slow = load(*kind, type_sql, filter(b), value);
                    compared += 1;
                    if fast.is_ok() != slow.is_ok() || fast.as_ref().ok() != slow.as_ref().ok() {
                        differ.push(format!(
                            "{} on {value:?} into {type_sql}: built-in {fast:?}, filter {slow:?}",
                            b.name()
                        ));
                    }
                }
            }
        }
        assert!(compared > 3_000, "{compared}");
        assert!(
            differ.is_empty(),
            "{} of {compared} differ:\n{}",
            differ.len(),
            differ.join("\n")
        );
    }

    /// What a value gives in a `text` column through built-in `b`, in both forms (asserted
    /// equal), as the text of its field.
    fn as_text(b: Builtin, value: &str) -> Result<String, Reason> {
        let kind = Kind::Text {
            max_chars: None,
            max_bytes: None,
        };
        let value = SqlValue::Text(value.to_owned());
        let fast = load(kind, "text", builtin(b), &value);
        let slow = load(kind, "text", filter(b), &value);
        assert_eq!(fast.is_ok(), slow.is_ok(), "{fast:?} {slow:?}");
        assert_eq!(fast.as_ref().ok(), slow.as_ref().ok());
        // A tuple's field count (2 bytes), then the field's length (4).
        fast.map(|field| String::from_utf8_lossy(&field[6..]).into_owned())
    }

    #[test]
    fn uuids_take_one_pair_of_braces_in_both_forms() {
        let dashed = Ok("01234567-89ab-cdef-0123-456789abcdef".to_owned());
        for ok in [
            "0123456789ABCDEF0123456789abcdef",
            "01234567-89AB-cdef-0123-456789abcdef",
            "{01234567-89ab-cdef-0123-456789abcdef}",
            " {0123456789abcdef0123456789abcdef} ",
        ] {
            assert_eq!(as_text(Builtin::HexToUuid, ok), dashed, "{ok}");
        }
        for bad in [
            "{01234567-89ab-cdef-0123-456789abcdef",
            "01234567-89ab-cdef-0123-456789abcdef}",
            "{{01234567-89ab-cdef-0123-456789abcdef}}",
            "0123456789abcdef",
            "0123456789abcdef0123456789abcdefab",
        ] {
            let why = as_text(Builtin::HexToUuid, bad).expect_err(bad);
            assert!(why.contains("is not a UUID"), "{bad}: {why}");
        }
    }

    #[test]
    fn iso_texts_read_one_way_in_both_forms() {
        let utc = |t: &str| as_text(Builtin::IsoToTimestamptz, t);
        for (text, instant) in [
            ("2024-01-31", "2024-01-31 00:00:00+00:00"),
            ("2024-01-31 10:00", "2024-01-31 10:00:00+00:00"),
            ("2024-01-31T10:00:00Z", "2024-01-31 10:00:00+00:00"),
            ("2024-01-31t10:00:00.5z", "2024-01-31 10:00:00.500000+00:00"),
            (
                "2024-01-31 10:00:00.000 +00:00",
                "2024-01-31 10:00:00+00:00",
            ),
            ("2024-01-31 10:00:00+05:30", "2024-01-31 04:30:00+00:00"),
            ("2024-01-31 10:00:00-0130", "2024-01-31 11:30:00+00:00"),
            ("2024-01-31 10:00:00 +05", "2024-01-31 05:00:00+00:00"),
            (" 2024-01-31 10:00:00 ", "2024-01-31 10:00:00+00:00"),
        ] {
            assert_eq!(utc(text).as_deref(), Ok(instant), "{text}");
        }
        for bad in [
            "2024-01-31 10:00 nonsense",
            "2024-01-31TT10:00",
            "2024-01-31 24:30",
            "2024-02-30",
            "0000-01-01",
            "31/01/2024",
            "10:00:00",
        ] {
            assert!(utc(bad).is_err(), "{bad}");
        }
        // A time PostgreSQL would change is refused, as in a timestamp column without a transform.
        for inexact in [
            "2024-01-31 24:00:00",
            "2024-01-31 23:59:60",
            "2024-01-31 10:00:00.1234567",
        ] {
            let why = utc(inexact).expect_err(inexact);
            assert!(why.contains("round_times"), "{inexact}: {why}");
        }
        let date = |t: &str| as_text(Builtin::DatetimeToDate, t);
        assert_eq!(
            date("2024-01-31 23:30:00-05:00").as_deref(),
            Ok("2024-01-31")
        );
        assert_eq!(date("2024-01-31T00:00:00.5").as_deref(), Ok("2024-01-31"));
        assert_eq!(date("2024-02-29").as_deref(), Ok("2024-02-29"));
        assert!(date("2023-02-29 10:00:00").is_err());
        assert!(date("2024-01-31 10:00 nonsense").is_err());
        assert!(date("yesterday").is_err());
    }

    #[test]
    fn an_instant_outside_the_years_1_to_9999_loads_only_through_the_built_in() {
        // A filter hands an instant on as ISO-8601 text, which holds the years 1 to 9999
        // (`has_iso_text`); Julian day 0 is 4713 BC, which a `timestamp` holds.
        let day_0 = SqlValue::Integer(0);
        let b = Builtin::JulianToTimestamp;
        assert!(!has_iso_text(b, &day_0));
        assert!(load(Kind::Timestamp, "timestamp", builtin(b), &day_0).is_ok());
        assert!(load(Kind::Timestamp, "timestamp", filter(b), &day_0).is_err());
    }
}

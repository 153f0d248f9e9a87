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
            Some(Step::Builtin(b)) => apply_builtin(*b, val_of(value), column.kind)?,
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

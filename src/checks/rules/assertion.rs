//! SQL assertions (`assertion:<name>`): one value from the target, compared with an expected
//! value or with the source's, as typed values.
//!
//! Values compare by kind: numbers numerically (exactly, or within an explicit `tolerance`),
//! text as text, booleans as booleans (or as SQLite's 0 and 1), and NULL only equals NULL.

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::RunQueryDsl;

use crate::engines::SourceConnection;

use super::{Check, Context, Needs, SourceReads};
use crate::checks::{
    read_only_on_target, timed, CheckError, CheckResult, Databases, Finding, Side,
};
use crate::convert::Decimal;
use crate::copy::{show_value, SqlValue};
use crate::engines::TargetConnection;
use crate::plan::model::Check as PlanCheck;
use crate::resolve::ResolvedPlan;

/// `assertion:<name>`.
pub struct Assertion;

impl Check for Assertion {
    fn id(&self) -> &'static str {
        "assertion"
    }

    fn needs(&self) -> Needs {
        Needs {
            source: SourceReads::Rows,
        }
    }

    fn applies(&self, entry: &PlanCheck) -> bool {
        entry.target.is_some()
    }

    fn one_per_entry(&self) -> bool {
        true
    }

    fn run(&self, entry: &PlanCheck, cx: &mut Context<'_, '_>, out: &mut dyn FnMut(CheckResult)) {
        let Some(target_sql) = entry.target.as_deref() else {
            return;
        };
        let resolved = &cx.prepared.resolved;
        let name = entry.name.clone().unwrap_or_else(|| "unnamed".to_owned());
        let id = format!("assertion:{name}");
        out(timed(id.clone(), || {
            assertion(entry, target_sql, resolved, cx.dbs, &id)
        }));
    }
}

/// A value as an assertion compares it.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    /// A number in its exact decimal text, e.g. `12.50`, `1e+20`.
    Number(String),
    Text(String),
}

impl Scalar {
    /// The value as a report shows it: text quoted, numbers and booleans bare.
    pub fn show(&self) -> String {
        match self {
            Scalar::Null => "NULL".to_owned(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Number(n) => n.clone(),
            Scalar::Text(t) => serde_json::Value::from(t.as_str()).to_string(),
        }
    }

    /// The kind and the value: `number 42`, `text "42"`, `NULL`.
    fn describe(&self) -> String {
        match self {
            Scalar::Null => "NULL".to_owned(),
            Scalar::Bool(_) => format!("boolean {}", self.show()),
            Scalar::Number(_) => format!("number {}", self.show()),
            Scalar::Text(_) => format!("text {}", self.show()),
        }
    }

    /// A value written in the plan (`expect:`).
    pub fn from_json(value: &serde_json::Value) -> Scalar {
        match value {
            serde_json::Value::Null => Scalar::Null,
            serde_json::Value::Bool(b) => Scalar::Bool(*b),
            serde_json::Value::Number(n) => Scalar::Number(n.to_string()),
            serde_json::Value::String(s) => Scalar::Text(s.clone()),
            other => Scalar::Text(other.to_string()),
        }
    }

    /// A value SQLite returned, by its storage class.
    pub fn from_sqlite(value: &SqlValue) -> Scalar {
        match value {
            SqlValue::Null => Scalar::Null,
            SqlValue::Integer(i) => Scalar::Number(i.to_string()),
            SqlValue::Real(f) if f.is_finite() => Scalar::Number(format!("{f}")),
            SqlValue::Text(t) => Scalar::Text(t.clone()),
            SqlValue::InvalidText(bytes) => {
                Scalar::Text(String::from_utf8_lossy(bytes).into_owned())
            }
            other => Scalar::Text(show_value(other)),
        }
    }
}

fn as_f64(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok()
}

/// Whether two numbers are equal: exactly, or within `tolerance`.
fn numbers_equal(a: &str, b: &str, tolerance: Option<f64>) -> bool {
    if let Some(tolerance) = tolerance {
        if let (Some(x), Some(y)) = (as_f64(a), as_f64(b)) {
            let slack = 4.0 * f64::EPSILON * x.abs().max(y.abs());
            return (x - y).abs() <= tolerance + slack;
        }
    }
    match (Decimal::parse(a), Decimal::parse(b)) {
        (Some(x), Some(y)) => x.same_value(&y),
        _ => a.trim() == b.trim(),
    }
}

/// A float with at most 12 decimals, trailing zeros dropped: `0.006`, not `0.006000000000000227`.
fn short(f: f64) -> String {
    let text = format!("{f:.12}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// Compares two values as typed values; `Err` says why they differ when the kinds do.
pub fn compare(a: &Scalar, b: &Scalar, tolerance: Option<f64>) -> Result<(), String> {
    let same = match (a, b) {
        (Scalar::Null, Scalar::Null) => true,
        (Scalar::Number(x), Scalar::Number(y)) => numbers_equal(x, y, tolerance),
        (Scalar::Bool(x), Scalar::Bool(y)) => x == y,
        (Scalar::Bool(x), Scalar::Number(n)) | (Scalar::Number(n), Scalar::Bool(x)) => {
            numbers_equal(n, if *x { "1" } else { "0" }, None)
        }
        (Scalar::Text(x), Scalar::Text(y)) => x == y,
        _ => {
            return Err(format!(
                "{} and {} are different kinds of value",
                a.describe(),
                b.describe()
            ))
        }
    };
    if same {
        Ok(())
    } else {
        let by = match (a, b, tolerance) {
            (Scalar::Number(x), Scalar::Number(y), _) => match (as_f64(x), as_f64(y)) {
                (Some(x), Some(y)) => format!(" (difference {})", short((x - y).abs())),
                _ => String::new(),
            },
            _ => String::new(),
        };
        Err(format!("{} ≠ {}{by}", a.show(), b.show()))
    }
}

/// An assertion's SQL without trailing semicolons, so it can be wrapped in a subquery.
fn bare(sql: &str) -> &str {
    sql.trim()
        .trim_end_matches(|c: char| c == ';' || c.is_whitespace())
}

#[derive(diesel::QueryableByName)]
struct PgCell {
    #[diesel(sql_type = BigInt)]
    row_number: i64,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    text: Option<String>,
}

/// The one value a target query returns, with its kind kept through `to_json`.
pub fn target_value(
    conn: &mut TargetConnection,
    sql: &str,
    id: &str,
) -> Result<Scalar, CheckError> {
    let wrapped = format!(
        "SELECT r.n AS row_number, json_typeof(e.value) AS kind, e.value #>> '{{}}' AS text \
         FROM (SELECT row_number() OVER () AS n, to_json(t) AS j FROM (\n{}\n) AS t LIMIT 2) AS r \
         CROSS JOIN LATERAL json_each(r.j) AS e ORDER BY 1",
        bare(sql)
    );
    let cells = diesel::sql_query(&wrapped)
        .load::<PgCell>(conn.postgres())
        .map_err(|e| CheckError::query(id, Side::Target, sql, e))?;
    let rows = cells.iter().map(|c| c.row_number).max().unwrap_or(0);
    let columns = cells.iter().filter(|c| c.row_number == 1).count();
    shape(id, Side::Target, rows, columns)?;
    let cell = &cells[0];
    Ok(match cell.kind.as_str() {
        "null" => Scalar::Null,
        "number" => Scalar::Number(cell.text.clone().unwrap_or_default()),
        "boolean" => Scalar::Bool(cell.text.as_deref() == Some("true")),
        _ => Scalar::Text(cell.text.clone().unwrap_or_default()),
    })
}

/// The one value a source query returns, by its SQLite storage class.
pub fn source_value(
    conn: &mut SourceConnection,
    sql: &str,
    id: &str,
) -> Result<Scalar, CheckError> {
    let wrapped = format!("SELECT * FROM (\n{}\n) AS \"value\" LIMIT 2", bare(sql));
    let rows = conn
        .load_rows(&wrapped)
        .map_err(|e| CheckError::query(id, Side::Source, sql, e))?;
    shape(
        id,
        Side::Source,
        rows.len() as i64,
        rows.first().map_or(0, Vec::len),
    )?;
    Ok(
        match (&rows[0][0], conn.engine().sends_numbers_as_digits()) {
            // MySQL hands a DECIMAL (and every SUM, even of integers) over as its digits: a number.
            (SqlValue::Text(t), true) if crate::dialect::is_plain_number(t) => {
                Scalar::Number(t.clone())
            }
            (value, _) => Scalar::from_sqlite(value),
        },
    )
}

fn shape(id: &str, side: Side, rows: i64, columns: usize) -> Result<(), CheckError> {
    let problem = if rows == 0 {
        "returned no row".to_owned()
    } else if rows > 1 {
        "returned more than one row".to_owned()
    } else if columns != 1 {
        format!("returned {columns} columns")
    } else {
        return Ok(());
    };
    Err(CheckError::value(
        id,
        format!("the {side} query {problem}; an assertion query returns one row with one value"),
    ))
}

fn assertion(
    check: &PlanCheck,
    target_sql: &str,
    resolved: &ResolvedPlan,
    dbs: &mut Databases<'_>,
    id: &str,
) -> Result<Finding, CheckError> {
    let target = read_only_on_target(dbs.target, &resolved.schema, |conn| {
        target_value(conn, target_sql, id)
    })?;
    let source = match &check.source {
        Some(sql) => Some(source_value(dbs.source, sql, id)?),
        None => None,
    };
    let tolerance = check.tolerance;
    let tolerance_note = tolerance
        .map(|t| format!(" (tolerance {t})"))
        .unwrap_or_default();
    let mut details = Vec::new();
    if let Some(source) = &source {
        details.push(format!("source: {}", source.show()));
    }
    details.push(format!("target: {}", target.show()));
    let expect_equal = matches!(&check.expect, Some(serde_json::Value::String(s)) if s == "equal");
    let mut failures = Vec::new();
    if expect_equal {
        if let Some(source) = &source {
            details.push(format!(
                "expected: the target equals the source{tolerance_note}"
            ));
            if let Err(why) = compare(source, &target, tolerance) {
                failures.push(format!("source and target differ: {why}"));
            }
        }
    } else if let Some(expect) = &check.expect {
        let expected = Scalar::from_json(expect);
        details.push(format!("expected: {}{tolerance_note}", expected.show()));
        if let Err(why) = compare(&target, &expected, tolerance) {
            failures.push(format!("target: {why}"));
        }
        if let Some(source) = &source {
            if let Err(why) = compare(source, &expected, tolerance) {
                failures.push(format!("source: {why}"));
            }
        }
    }
    Ok(if failures.is_empty() {
        Finding::pass(
            match &source {
                Some(s) if expect_equal => format!("source and target agree: {}", s.show()),
                _ => format!("{} as expected", target.show()),
            },
            details,
        )
    } else {
        let summary = failures.join("; ");
        Finding::fail(summary, details)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Scalar {
        Scalar::Number(s.to_owned())
    }

    #[test]
    fn numbers_compare_numerically_and_exactly() {
        assert!(compare(&num("12.50"), &num("12.5"), None).is_ok());
        assert!(compare(&num("1e+20"), &num("100000000000000000000"), None).is_ok());
        assert!(compare(&num("0"), &num("-0.000"), None).is_ok());
        assert!(compare(
            &num("12345678901234567890.1"),
            &num("12345678901234567890.2"),
            None
        )
        .is_err());
        assert!(compare(&num("-3"), &num("3"), None).is_err());
        assert!(compare(&num("0.001"), &num("0.01"), None).is_err());
    }

    #[test]
    fn tolerance_is_explicit_and_inclusive() {
        assert!(compare(&num("100.004"), &num("100"), Some(0.005)).is_ok());
        assert!(compare(&num("100.005"), &num("100"), Some(0.005)).is_ok());
        assert!(compare(&num("100.006"), &num("100"), Some(0.005)).is_err());
        assert!(compare(&num("100.004"), &num("100"), None).is_err());
    }

    #[test]
    fn null_only_equals_null_and_kinds_do_not_mix() {
        assert!(compare(&Scalar::Null, &Scalar::Null, None).is_ok());
        assert!(compare(&Scalar::Null, &num("0"), None).is_err());
        assert!(compare(&Scalar::Text("42".into()), &num("42"), None).is_err());
        assert!(compare(&Scalar::Text("a".into()), &Scalar::Text("a".into()), None).is_ok());
        assert!(compare(&Scalar::Bool(true), &num("1"), None).is_ok());
        assert!(compare(&Scalar::Bool(false), &num("1"), None).is_err());
    }

    #[test]
    fn decimals_parse_only_numbers() {
        assert_eq!(Decimal::parse("abc"), None);
        assert_eq!(Decimal::parse("."), None);
        assert!(numbers_equal("0012.3400", "12.34", None));
    }
}

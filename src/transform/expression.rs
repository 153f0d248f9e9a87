//! Transform expressions: a minijinja environment over `value` and `row` with decant's
//! conversion filters, and the check `decant validate` runs on every expression.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, Expression, UndefinedBehavior};

use super::apply::apply_builtin;
use super::builtins::{Builtin, BUILTINS};
use crate::convert::{format_epoch_micros, invalid_utf8, microseconds_interval, Val};

/// The environment transform expressions are compiled and evaluated in. Its filters hold no
/// state, so one environment serves the whole process, and each expression is compiled once.
pub struct TransformEnvironment {
    env: &'static Environment<'static>,
    compiled: Mutex<HashMap<String, Expression<'static, 'static>>>,
}

static SHARED: OnceLock<Environment<'static>> = OnceLock::new();

impl Default for TransformEnvironment {
    fn default() -> Self {
        Self::new()
    }
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

/// Built-in `b` as a filter: the value as the copy path holds it, the same typed function
/// the copy path runs ([`apply_builtin`]), and its result as a template value (an instant as
/// its UTC text, an interval as `N microseconds`). NULL stays NULL.
fn builtin_filter(b: Builtin) -> impl Fn(Value) -> Result<Value, Error> + Send + Sync + 'static {
    move |v: Value| {
        let out = apply_builtin(b, typed(&v), None).map_err(invalid)?;
        template_value(out).map_err(invalid)
    }
}

/// A template value as the conversions see one: what the copy path reads from the source.
fn typed(v: &Value) -> Val<'static> {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => Val::Null,
        ValueKind::Bool => Val::Bool(v.is_true()),
        ValueKind::Number => match v.as_i64() {
            Some(i) if v.is_integer() => Val::Int(i),
            _ => f64::try_from(v.clone())
                .map_or_else(|_| Val::Text(Cow::Owned(v.to_string())), Val::Real),
        },
        ValueKind::String => Val::Text(Cow::Owned(v.as_str().unwrap_or_default().to_owned())),
        ValueKind::Bytes => Val::Blob(Cow::Owned(v.as_bytes().unwrap_or_default().to_vec())),
        _ => Val::Text(Cow::Owned(v.to_string())),
    }
}

/// A converted value back in a template: what the copy path's encoders read again.
fn template_value(val: Val<'_>) -> Result<Value, String> {
    Ok(match val {
        Val::Null => Value::from(()),
        Val::Int(i) => Value::from(i),
        Val::Real(f) => Value::from(f),
        Val::Text(t) => Value::from(t.into_owned()),
        Val::InvalidText(b) => return Err(invalid_utf8(b)),
        Val::Blob(b) => Value::from_bytes(b.into_owned()),
        Val::Bool(b) => Value::from(b),
        Val::Instant(micros) => Value::from(format_epoch_micros(micros)?),
        Val::Micros(micros) => Value::from(microseconds_interval(micros)),
    })
}

impl TransformEnvironment {
    pub fn new() -> Self {
        TransformEnvironment {
            env: SHARED.get_or_init(build_environment),
            compiled: Mutex::new(HashMap::new()),
        }
    }
}

fn build_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Every built-in that converts is a filter of the same name. `keep_nan_infinity` and
    // `round_times` say how a column's encoder treats its values, so they are no filters.
    for b in BUILTINS {
        if !matches!(b, Builtin::KeepNanInfinity | Builtin::RoundTimes) {
            env.add_filter(b.name(), builtin_filter(*b));
        }
    }
    env.add_filter(
        "nullif",
        |v: Value, other: Value| if v == other { Value::from(()) } else { v },
    );
    env.add_filter("coalesce", |v: Value, fallback: Value| {
        if v.is_none() || v.is_undefined() {
            fallback
        } else {
            v
        }
    });
    env.add_filter(
        "regex_replace",
        |v: Value, pattern: String, replacement: String| -> Result<Value, Error> {
            if v.is_none() {
                return Ok(v);
            }
            let re = regex::Regex::new(&pattern)
                .map_err(|e| invalid(format!("bad regex `{pattern}`: {e}")))?;
            Ok(Value::from(
                re.replace_all(&v.to_string(), replacement.as_str())
                    .into_owned(),
            ))
        },
    );
    env
}

impl TransformEnvironment {
    /// Evaluates an expression for one value and its row; compiles it on first use only.
    pub fn evaluate(&self, expression: &str, value: Value, row: Value) -> Result<Value, Error> {
        let mut compiled = self
            .compiled
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !compiled.contains_key(expression) {
            let expr = self
                .env
                .compile_expression_owned(strip_braces(expression).to_owned())?;
            compiled.insert(expression.to_owned(), expr);
        }
        match compiled.get(expression) {
            Some(expr) => expr.eval(minijinja::context! { value => value, row => row }),
            None => Err(Error::new(
                ErrorKind::InvalidOperation,
                "expression cache lost an entry",
            )),
        }
    }

    /// Compiles an expression and evaluates it once on NULL to surface unknown filters.
    pub fn check(&self, expression: &str) -> Result<(), String> {
        let expr = strip_braces(expression);
        if expr.contains("{{") || expr.contains("{%") {
            return Err(
                "write one expression, like `{{ value | trim }}`, not a template".to_owned(),
            );
        }
        let compiled = self
            .env
            .compile_expression(expr)
            .map_err(|e| describe(&e))?;
        match compiled.eval(minijinja::context! { value => Value::from(()), row => Value::from(std::collections::BTreeMap::<String, Value>::new()) }) {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.kind(), ErrorKind::UnknownFilter | ErrorKind::UnknownTest | ErrorKind::UnknownFunction | ErrorKind::SyntaxError) => Err(describe(&e)),
            // Other failures depend on real values (e.g. `row.id` on an empty row); they surface per row at run time.
            Err(_) => Ok(()),
        }
    }
}

/// `{{ value | trim }}` → `value | trim`; a bare expression stays as it is.
fn strip_braces(expression: &str) -> &str {
    let t = expression.trim();
    match t.strip_prefix("{{").and_then(|x| x.strip_suffix("}}")) {
        Some(inner) if !inner.contains("{{") => inner.trim(),
        _ => t,
    }
}

fn describe(e: &Error) -> String {
    let mut msg = e
        .detail()
        .map(str::to_owned)
        .unwrap_or_else(|| e.kind().to_string());
    if e.kind() == ErrorKind::UnknownFilter {
        msg = format!("unknown filter: {msg}");
    }
    msg
}

/// Checks one transform expression as `decant validate` does.
pub fn check_expression(expression: &str) -> Result<(), String> {
    TransformEnvironment::new().check(expression)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_chain_builtin_and_decant_filters() {
        let env = TransformEnvironment::new();
        let out = env.evaluate(
            "{{ value | trim | lower }}",
            Value::from("  Ada@Example.COM "),
            Value::from(()),
        );
        assert_eq!(
            out.map(|v| v.to_string()).ok().as_deref(),
            Some("ada@example.com")
        );
        let out = env.evaluate(
            "{{ value | epoch_ms_to_timestamptz }}",
            Value::from(1_700_000_000_000i64),
            Value::from(()),
        );
        assert_eq!(
            out.map(|v| v.to_string()).ok().as_deref(),
            Some("2023-11-14 22:13:20+00:00")
        );
        let out = env.evaluate("{{ value | nullif('') }}", Value::from(""), Value::from(()));
        assert!(out.map(|v| v.is_none()).unwrap_or(false));
    }

    #[test]
    fn unknown_filters_and_syntax_errors_are_caught_by_the_check() {
        let err = check_expression("{{ value | trimm }}")
            .err()
            .unwrap_or_default();
        assert!(err.contains("unknown filter"), "{err}");
        assert!(check_expression("{{ value | }}").is_err());
        assert!(check_expression("{{ value | trim | lower }}").is_ok());
        assert!(check_expression("{{ row.first_name ~ ' ' ~ value }}").is_ok());
    }

    #[test]
    fn string_filters_keep_null_as_null() {
        let env = TransformEnvironment::new();
        let out = env.evaluate(
            "{{ value | trim | lower }}",
            Value::from(()),
            Value::from(()),
        );
        assert!(out.map(|v| v.is_none()).unwrap_or(false));
    }

    #[test]
    fn null_passes_through_conversions() {
        let env = TransformEnvironment::new();
        let out = env.evaluate(
            "{{ value | hex_to_uuid }}",
            Value::from(()),
            Value::from(()),
        );
        assert!(out.map(|v| v.is_none()).unwrap_or(false));
    }

    fn filtered(expression: &str, value: Value) -> Result<String, String> {
        TransformEnvironment::new()
            .evaluate(expression, value, Value::from(()))
            .map(|v| v.to_string())
            .map_err(|e| describe(&e))
    }

    #[test]
    fn conversion_filters_give_the_text_their_built_ins_load() {
        let epoch_s = |v: Value| filtered("{{ value | epoch_s_to_timestamptz }}", v);
        assert_eq!(
            epoch_s(Value::from(0)).as_deref(),
            Ok("1970-01-01 00:00:00+00:00")
        );
        assert_eq!(
            epoch_s(Value::from(-86_400)).as_deref(),
            Ok("1969-12-31 00:00:00+00:00")
        );
        assert_eq!(
            epoch_s(Value::from("1700000000")).as_deref(),
            Ok("2023-11-14 22:13:20+00:00")
        );
        assert!(epoch_s(Value::from(f64::NAN)).is_err());
        assert_eq!(
            filtered(
                "{{ value | epoch_ms_to_timestamptz }}",
                Value::from(1_700_000_000_123i64)
            )
            .as_deref(),
            Ok("2023-11-14 22:13:20.123000+00:00")
        );
        let julian = |v: f64| filtered("{{ value | julian_to_timestamp }}", Value::from(v));
        assert_eq!(
            julian(2_440_587.5).as_deref(),
            Ok("1970-01-01 00:00:00+00:00")
        );
        assert_eq!(
            julian(2_460_341.0).as_deref(),
            Ok("2024-01-31 12:00:00+00:00")
        );
        assert_eq!(
            filtered("{{ value | microseconds_to_interval }}", Value::from(1.6)).as_deref(),
            Ok("2 microseconds")
        );
        assert_eq!(
            filtered("{{ value | to_boolean }}", Value::from("Y")).as_deref(),
            Ok("True")
        );
        assert_eq!(
            filtered("{{ value | json_to_jsonb }}", Value::from("{\"a\": 1}")).as_deref(),
            Ok("{\"a\": 1}")
        );
        let why = filtered("{{ value | json_to_jsonb }}", Value::from("{a: 1}"));
        assert!(
            why.as_ref().is_err_and(|w| w.contains("invalid JSON")),
            "{why:?}"
        );
    }
}

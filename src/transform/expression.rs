//! Transform expressions: a minijinja environment over `value` and `row` with decant's
//! conversion filters, and the check `decant validate` runs on every expression.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, Expression, UndefinedBehavior};

use super::builtins;

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

/// Wraps a conversion over text so that NULL stays NULL.
fn text_filter(
    f: fn(&str) -> Result<String, String>,
) -> impl Fn(Value) -> Result<Value, Error> + Send + Sync + 'static {
    move |v: Value| {
        if v.is_none() || v.is_undefined() {
            return Ok(Value::from(()));
        }
        let text = v
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string());
        f(&text).map(Value::from).map_err(invalid)
    }
}

/// Wraps a conversion over a number so that NULL stays NULL and numeric text is accepted.
fn number_filter(
    f: fn(f64) -> Result<String, String>,
) -> impl Fn(Value) -> Result<Value, Error> + Send + Sync + 'static {
    move |v: Value| {
        if v.is_none() || v.is_undefined() {
            return Ok(Value::from(()));
        }
        let n = match v.kind() {
            ValueKind::Number => f64::try_from(v.clone()).map_err(|e| invalid(e.to_string()))?,
            _ => v
                .to_string()
                .trim()
                .parse::<f64>()
                .map_err(|_| invalid(format!("`{v}` is not a number")))?,
        };
        f(n).map(Value::from).map_err(invalid)
    }
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
    env.add_filter(
        "epoch_s_to_timestamptz",
        number_filter(builtins::epoch_seconds),
    );
    env.add_filter(
        "epoch_ms_to_timestamptz",
        number_filter(builtins::epoch_millis),
    );
    env.add_filter("julian_to_timestamp", number_filter(builtins::julian_day));
    env.add_filter(
        "iso_to_timestamptz",
        text_filter(|t| builtins::iso_datetime(t, true)),
    );
    env.add_filter(
        "iso_to_timestamp",
        text_filter(|t| builtins::iso_datetime(t, false)),
    );
    env.add_filter("hex_to_uuid", text_filter(builtins::to_uuid));
    env.add_filter("datetime_to_date", text_filter(builtins::datetime_date));
    env.add_filter("json_to_jsonb", text_filter(builtins::json_text));
    env.add_filter(
        "microseconds_to_interval",
        number_filter(|n| Ok(builtins::microseconds_interval(n as i64))),
    );
    env.add_filter("to_boolean", |v: Value| -> Result<Value, Error> {
        if v.is_none() || v.is_undefined() {
            return Ok(Value::from(()));
        }
        builtins::to_boolean(&v.to_string())
            .map(Value::from)
            .map_err(invalid)
    });
    // minijinja's own string filters turn NULL into the text `none`; NULL must stay NULL.
    env.add_filter("trim", text_filter(|t| Ok(t.trim().to_owned())));
    env.add_filter("lower", text_filter(|t| Ok(t.to_lowercase())));
    env.add_filter("upper", text_filter(|t| Ok(t.to_uppercase())));
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
}

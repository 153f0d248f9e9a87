//! SQLite column defaults in PostgreSQL: literals, `CURRENT_TIMESTAMP`, `datetime('now')`,
//! `strftime(...)`; anything else is reported as not carried, never silently dropped.

use crate::engines::postgres::{TargetType, TypeFamily};

/// The result of translating one default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultTranslation {
    /// A PostgreSQL expression.
    Sql(String),
    /// Nothing to carry (`DEFAULT NULL`).
    None,
    /// Not translatable; the reason is for the report.
    Untranslatable(String),
}

/// Translates a SQLite default expression for a column of the given target type.
pub fn translate_default(expr: &str, target: &TargetType) -> DefaultTranslation {
    let mut text = expr.trim();
    while let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        text = inner.trim();
    }
    let lower = text
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("");
    let family = target.family();
    if lower == "null" {
        return DefaultTranslation::None;
    }
    let now_like = matches!(
        lower.as_str(),
        "current_timestamp"
            | "datetime('now')"
            | "datetime('now','utc')"
            | "datetime('now','localtime')"
            | "strftime('%y-%m-%d%h:%m:%s','now')"
            | "strftime('%y-%m-%d%h:%m:%f','now')"
            | "strftime('%y-%m-%dt%h:%m:%fz','now')"
            | "strftime('%y-%m-%dt%h:%m:%sz','now')"
    );
    let epoch_like = matches!(
        lower.as_str(),
        "strftime('%s','now')" | "unixepoch()" | "unixepoch('now')"
    );
    match family {
        TypeFamily::Timestamp | TypeFamily::TimestampTz if now_like => {
            return DefaultTranslation::Sql("CURRENT_TIMESTAMP".into())
        }
        TypeFamily::Date if now_like || lower == "current_date" || lower == "date('now')" => {
            return DefaultTranslation::Sql("CURRENT_DATE".into())
        }
        TypeFamily::Time if now_like || lower == "current_time" || lower == "time('now')" => {
            return DefaultTranslation::Sql("CURRENT_TIME".into())
        }
        TypeFamily::Integer | TypeFamily::Numeric | TypeFamily::Float if epoch_like => {
            return DefaultTranslation::Sql("(extract(epoch from now()))::bigint".into())
        }
        TypeFamily::Timestamp | TypeFamily::TimestampTz if epoch_like => {
            return DefaultTranslation::Sql("CURRENT_TIMESTAMP".into())
        }
        TypeFamily::Text if now_like => {
            return DefaultTranslation::Sql(
                "to_char(now() at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS')".into(),
            )
        }
        TypeFamily::Text if lower == "current_date" || lower == "date('now')" => {
            return DefaultTranslation::Sql(
                "to_char(now() at time zone 'UTC', 'YYYY-MM-DD')".into(),
            )
        }
        _ => {}
    }
    if family == TypeFamily::Boolean {
        return match lower.trim_matches('\'') {
            "1" | "true" | "t" | "yes" => DefaultTranslation::Sql("true".into()),
            "0" | "false" | "f" | "no" => DefaultTranslation::Sql("false".into()),
            _ => DefaultTranslation::Untranslatable(format!("`{expr}` is not a boolean")),
        };
    }
    if is_number(text) {
        return match family {
            TypeFamily::Integer | TypeFamily::Float | TypeFamily::Numeric | TypeFamily::Other => {
                DefaultTranslation::Sql(text.to_owned())
            }
            _ => DefaultTranslation::Sql(format!("'{text}'")),
        };
    }
    if let Some(hex) = text
        .strip_prefix(['x', 'X'])
        .and_then(|t| t.strip_prefix('\''))
        .and_then(|t| t.strip_suffix('\''))
    {
        if family == TypeFamily::Bytes && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return DefaultTranslation::Sql(format!("'\\x{hex}'::bytea"));
        }
    }
    if let Some(literal) = string_literal(text) {
        if target.array {
            return array_default(&literal, target);
        }
        if family == TypeFamily::Json {
            return DefaultTranslation::Sql(format!("'{}'::jsonb", literal.replace('\'', "''")));
        }
        return DefaultTranslation::Sql(format!("'{}'", literal.replace('\'', "''")));
    }
    if matches!(lower.as_str(), "true" | "false") {
        return DefaultTranslation::Sql(lower);
    }
    if matches!(
        lower.as_str(),
        "current_timestamp" | "current_date" | "current_time"
    ) {
        return DefaultTranslation::Sql(lower.to_uppercase());
    }
    DefaultTranslation::Untranslatable(format!(
        "`{expr}` has no PostgreSQL equivalent for a `{}` column",
        target.sql()
    ))
}

/// A text default for an array column, read as the copy engine reads the column's values: a
/// JSON array (`'[]'`, `'["a"]'`), or comma-separated labels (a MySQL SET: `''` is the empty
/// array, `'a,b'` two elements), as an array literal.
fn array_default(literal: &str, target: &TargetType) -> DefaultTranslation {
    let elements: Vec<String> = if literal.trim_start().starts_with('[') {
        match serde_json::from_str::<Vec<serde_json::Value>>(literal) {
            Ok(items) => items
                .into_iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect(),
            Err(_) => {
                return DefaultTranslation::Untranslatable(format!(
                    "`'{literal}'` is not a JSON array for a `{}` column",
                    target.sql()
                ))
            }
        }
    } else if literal.is_empty() {
        Vec::new()
    } else {
        literal.split(',').map(str::to_owned).collect()
    };
    let quoted: Vec<String> = elements
        .iter()
        .map(|e| format!("\"{}\"", e.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    DefaultTranslation::Sql(format!(
        "'{{{}}}'::{}",
        quoted.join(",").replace('\'', "''"),
        target.sql()
    ))
}

fn is_number(text: &str) -> bool {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    !t.is_empty()
        && t.parse::<f64>().is_ok()
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
}

/// The content of a single-quoted SQL string, with `''` unescaped; `None` if not one literal.
fn string_literal(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
            } else {
                return None;
            }
        }
        out.push(c);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(expr: &str, ty: &str) -> DefaultTranslation {
        translate_default(
            expr,
            &crate::engines::postgres::parse_target_type(ty).unwrap_or_else(|e| panic!("{e}")),
        )
    }

    fn sql(s: &str) -> DefaultTranslation {
        DefaultTranslation::Sql(s.to_owned())
    }

    #[test]
    fn time_functions_become_their_postgres_equivalents() {
        assert_eq!(
            t("CURRENT_TIMESTAMP", "timestamptz"),
            sql("CURRENT_TIMESTAMP")
        );
        assert_eq!(
            t("(datetime('now'))", "timestamp"),
            sql("CURRENT_TIMESTAMP")
        );
        assert_eq!(
            t("datetime('now', 'localtime')", "timestamptz"),
            sql("CURRENT_TIMESTAMP")
        );
        assert_eq!(t("date('now')", "date"), sql("CURRENT_DATE"));
        assert_eq!(
            t("strftime('%s','now')", "bigint"),
            sql("(extract(epoch from now()))::bigint")
        );
        assert_eq!(
            t("strftime('%Y-%m-%d %H:%M:%f', 'now')", "timestamptz"),
            sql("CURRENT_TIMESTAMP")
        );
    }

    #[test]
    fn literals_are_kept_and_booleans_translated() {
        assert_eq!(t("'draft'", "text"), sql("'draft'"));
        assert_eq!(t("'it''s'", "text"), sql("'it''s'"));
        assert_eq!(t("0", "boolean"), sql("false"));
        assert_eq!(t("'1'", "boolean"), sql("true"));
        assert_eq!(t("-1.5", "double precision"), sql("-1.5"));
        assert_eq!(t("NULL", "text"), DefaultTranslation::None);
        assert_eq!(t("'{}'", "jsonb"), sql("'{}'::jsonb"));
    }

    #[test]
    fn text_defaults_of_array_columns_become_array_literals() {
        let array = TargetType {
            array: true,
            ..TargetType::simple("text")
        };
        for (default, expected) in [
            ("''", "'{}'::text[]"),
            ("'a,b'", r#"'{"a","b"}'::text[]"#),
            ("'[]'", "'{}'::text[]"),
            (r#"'["it''s", "q\"x"]'"#, r#"'{"it''s","q\"x"}'::text[]"#),
        ] {
            assert_eq!(
                translate_default(default, &array),
                DefaultTranslation::Sql(expected.to_owned()),
                "{default}"
            );
        }
    }

    #[test]
    fn untranslatable_defaults_say_why() {
        assert!(matches!(
            t("(random())", "bigint"),
            DefaultTranslation::Untranslatable(_)
        ));
        assert!(matches!(
            t("2", "boolean"),
            DefaultTranslation::Untranslatable(_)
        ));
    }
}

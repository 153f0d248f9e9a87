//! How the structure check writes what it found and what it expected: type names, values
//! shortened, choices joined with `or`, descriptions as sentences.

use serde_json::Value;

use crate::plan::spans::{Node, NodeKind, Scalar, ScalarStyle};

pub(super) fn type_name(json_type: &str) -> &'static str {
    match json_type {
        "object" => "a mapping",
        "array" => "a list",
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "`true` or `false`",
        "null" => "nothing",
        _ => "a value",
    }
}

/// "a string" → "strings", "a mapping" → "mappings"; anything else stays as it is.
pub(super) fn plural(description: &str) -> String {
    match description
        .strip_prefix("a ")
        .or_else(|| description.strip_prefix("an "))
    {
        Some(noun) if !noun.contains(' ') => format!("{noun}s"),
        _ => description.to_owned(),
    }
}

/// What the node is, for "found ...": its text when a scalar was expected and it is a scalar,
/// its kind otherwise.
pub(super) fn found(node: &Node, show_value: bool) -> String {
    match &node.kind {
        NodeKind::Scalar { text, style } if show_value => match style {
            ScalarStyle::Plain => format!("`{}`", shorten(text)),
            ScalarStyle::Quoted => format!("the string `{:?}`", shorten(text)),
            ScalarStyle::Block => "a block of text".to_owned(),
        },
        _ => node.kind_name().to_owned(),
    }
}

/// What to do about a wrong type, when there is something specific to say.
pub(super) fn type_hint(node: &Node, expected: &[&str]) -> Option<String> {
    let wants = |t: &str| expected.contains(&t);
    let NodeKind::Scalar { text, style } = &node.kind else {
        return None;
    };
    match (node.scalar()?, style) {
        (
            Scalar::Int(_) | Scalar::Float(_) | Scalar::Bool(_) | Scalar::Null,
            ScalarStyle::Plain,
        ) if wants("string") => Some(format!("quote it to make it text: `\"{text}\"`")),
        (Scalar::Str(s), ScalarStyle::Plain) if wants("boolean") => {
            let yaml11 = ["yes", "no", "on", "off", "y", "n"].contains(&s.to_lowercase().as_str());
            yaml11.then(|| "write `true` or `false`".to_owned())
        }
        (Scalar::Str(s), ScalarStyle::Quoted)
            if wants("integer") || wants("number") || wants("boolean") =>
        {
            let unquoted = crate::plan::spans::resolve_plain(s);
            let fits = match unquoted {
                Scalar::Int(_) => wants("integer") || wants("number"),
                Scalar::Float(_) => wants("number"),
                Scalar::Bool(_) => wants("boolean"),
                _ => false,
            };
            fits.then(|| format!("remove the quotes: `{s}`"))
        }
        (_, _) if wants("array") && !wants("object") => {
            Some(format!("write it as a list: `[{}]`", flow_item(node)))
        }
        _ => None,
    }
}

/// A scalar as it could appear inside a flow list.
pub(super) fn flow_item(node: &Node) -> String {
    match &node.kind {
        NodeKind::Scalar {
            text,
            style: ScalarStyle::Plain,
        } => shorten(text),
        NodeKind::Scalar { text, .. } => format!("{:?}", shorten(text)),
        _ => String::new(),
    }
}

pub(super) fn scalar_text(node: &Node) -> String {
    match &node.kind {
        NodeKind::Scalar { text, .. } => shorten(text),
        _ => String::new(),
    }
}

/// Long values are cut in messages; the caret snippet shows the rest.
pub(super) fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    let first_line = text.lines().next().unwrap_or("");
    if first_line.chars().count() > MAX || first_line.len() < text.trim_end().len() {
        let cut: String = first_line.chars().take(MAX).collect();
        format!("{cut}…")
    } else {
        first_line.to_owned()
    }
}

pub(super) fn show_json(value: &Value) -> String {
    match value {
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

pub(super) fn show_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e18 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// "`a`", "`a` or `b`", "one of `a`, `b` or `c`"
pub(super) fn one_of(names: &[String]) -> String {
    if names.len() > 2 {
        format!("one of {}", join_or(names))
    } else {
        join_or(names)
    }
}

pub(super) fn join_or(items: &[String]) -> String {
    match items {
        [] => "nothing".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

pub(super) fn backticked(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A schema description as a hint: one line, lowercase start, no final period.
pub(super) fn sentence(description: &str) -> String {
    let joined = description.split_whitespace().collect::<Vec<_>>().join(" ");
    let trimmed = joined.trim_end_matches('.');
    let mut chars = trimmed.chars();
    match (chars.next(), chars.clone().next()) {
        (Some(first), Some(second)) if first.is_uppercase() && !second.is_uppercase() => {
            first.to_lowercase().chain(chars).collect()
        }
        _ => trimmed.to_owned(),
    }
}

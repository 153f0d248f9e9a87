//! `${VAR}` and `${VAR:-default}` in the plan's string values, filled from the environment
//! (`$${` writes a literal `${`). Substituted values may be secrets: no message ever shows one.

use super::diagnostic::{Diagnostic, DocPath, PathSeg, Span};
use super::spans::{Node, NodeKind, Scalar, ScalarStyle};

/// A plan tree with every `${...}` filled in.
#[derive(Debug, Clone)]
pub struct Substituted {
    pub root: Node,
    /// The values that came from the environment, so later messages can keep them out.
    pub secrets: Vec<String>,
}

/// A problem with one `${...}` reference in a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefError {
    /// `${NAME}` where `NAME` is not set (and there is no default).
    Missing { name: String },
    /// `${` with no `}` after it.
    Unclosed,
    /// `${...}` whose inside is not `NAME` or `NAME:-default`.
    Malformed { inner: String },
    /// `${A:-${B}}`: a default cannot refer to another variable.
    NestedDefault { name: String },
}

/// One bad reference: what is wrong, and the reference's text as written in the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRef {
    pub error: RefError,
    pub written: String,
}

/// The result of expanding one string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expanded {
    pub text: String,
    /// Values taken from the environment (not defaults).
    pub secrets: Vec<String>,
}

/// Fills the references in one string. Every bad reference is reported, not just the first.
pub fn expand(
    value: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Expanded, Vec<BadRef>> {
    let chars: Vec<char> = value.chars().collect();
    let mut out = Expanded::default();
    let mut errors = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let next = |k: usize| chars.get(i + k).copied();
        if chars[i] == '$' && next(1) == Some('$') && next(2) == Some('{') {
            out.text.push_str("${");
            i += 3;
            continue;
        }
        if chars[i] != '$' || next(1) != Some('{') {
            out.text.push(chars[i]);
            i += 1;
            continue;
        }
        let Some(close) = chars[i + 2..]
            .iter()
            .position(|&c| c == '}')
            .map(|p| i + 2 + p)
        else {
            let written: String = chars[i..].iter().collect();
            errors.push(BadRef {
                error: RefError::Unclosed,
                written,
            });
            break;
        };
        let written: String = chars[i..=close].iter().collect();
        let inner: String = chars[i + 2..close].iter().collect();
        i = close + 1;
        let (name, default) = match inner.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (inner.as_str(), None),
        };
        if !is_variable_name(name) {
            errors.push(BadRef {
                error: RefError::Malformed {
                    inner: inner.clone(),
                },
                written,
            });
            continue;
        }
        if default.is_some_and(|d| d.contains("${")) {
            errors.push(BadRef {
                error: RefError::NestedDefault {
                    name: name.to_owned(),
                },
                written,
            });
            continue;
        }
        match (lookup(name), default) {
            // Like the shell's `:-`, an empty variable takes the default too.
            (Some(v), Some(d)) if v.is_empty() => out.text.push_str(d),
            (Some(v), _) => {
                out.text.push_str(&v);
                if !v.is_empty() {
                    out.secrets.push(v);
                }
            }
            (None, Some(d)) => out.text.push_str(d),
            (None, None) => errors.push(BadRef {
                error: RefError::Missing {
                    name: name.to_owned(),
                },
                written,
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Fills every reference in the string values of the tree (mapping keys are left alone).
/// `source` is the plan text, used to point a problem at the reference itself.
pub fn substitute(
    root: &Node,
    source: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Substituted, Vec<Diagnostic>> {
    let mut walker = Walker {
        source,
        lookup,
        secrets: Vec::new(),
        problems: Vec::new(),
    };
    let mut path = Vec::new();
    let root = walker.node(root, None, &mut path);
    if walker.problems.is_empty() {
        Ok(Substituted {
            root,
            secrets: walker.secrets,
        })
    } else {
        Err(walker.problems)
    }
}

struct Walker<'a> {
    source: &'a str,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    secrets: Vec<String>,
    problems: Vec<Diagnostic>,
}

impl Walker<'_> {
    fn node(&mut self, node: &Node, key_span: Option<Span>, path: &mut DocPath) -> Node {
        let kind = match &node.kind {
            NodeKind::Map(entries) => NodeKind::Map(
                entries
                    .iter()
                    .map(|(k, span, v)| {
                        path.push(PathSeg::Key(k.clone()));
                        let v = self.node(v, Some(*span), path);
                        path.pop();
                        (k.clone(), *span, v)
                    })
                    .collect(),
            ),
            NodeKind::Seq(items) => NodeKind::Seq(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        path.push(PathSeg::Index(i));
                        let item = self.node(item, None, path);
                        path.pop();
                        item
                    })
                    .collect(),
            ),
            NodeKind::Scalar { text, .. }
                if text.contains('$') && matches!(node.scalar(), Some(Scalar::Str(_))) =>
            {
                match expand(text, self.lookup) {
                    Ok(expanded) if expanded.text == *text => node.kind.clone(),
                    Ok(expanded) => {
                        self.secrets.extend(expanded.secrets);
                        // Filled in, the value stays text whatever it looks like: `${PORT}` is "5432".
                        NodeKind::Scalar {
                            text: expanded.text,
                            style: ScalarStyle::Quoted,
                        }
                    }
                    Err(bad) => {
                        for b in bad {
                            let span = self.reference_span(node, key_span, &b.written);
                            self.problems.push(diagnostic(&b, path.clone()).at(span));
                        }
                        node.kind.clone()
                    }
                }
            }
            NodeKind::Scalar { .. } | NodeKind::Null => node.kind.clone(),
        };
        Node {
            kind,
            span: node.span,
        }
    }

    /// The span of the reference itself when it can be found on the value's first line, else
    /// the value's.
    fn reference_span(&self, node: &Node, key_span: Option<Span>, written: &str) -> Span {
        let value = node.value_span(key_span);
        let Some(line) = self.source.lines().nth(value.line.saturating_sub(1)) else {
            return value;
        };
        let token: String = line
            .chars()
            .skip(value.col.saturating_sub(1))
            .take(value.len)
            .collect();
        // The reference may run past the token's first line; look for as much as fits.
        let first_line = written.lines().next().unwrap_or(written);
        match token.find(first_line) {
            Some(byte) => Span {
                line: value.line,
                col: value.col + token[..byte].chars().count(),
                len: first_line.chars().count().max(1),
            },
            None => value,
        }
    }
}

fn diagnostic(bad: &BadRef, path: DocPath) -> Diagnostic {
    match &bad.error {
        RefError::Missing { name } => {
            Diagnostic::error(path, format!("environment variable `{name}` is not set"))
                .with_help(format!("set it, or write `${{{name}:-default}}`"))
        }
        RefError::Unclosed => Diagnostic::error(path, "`${` without a closing `}`")
            .with_help("close it with `}`, or write `$${` for a literal `${`"),
        RefError::Malformed { inner } if inner.is_empty() => {
            Diagnostic::error(path, "`${}` names no variable")
                .with_help("write `${NAME}` or `${NAME:-default}`, or `$${` for a literal `${`")
        }
        RefError::Malformed { .. } => Diagnostic::error(
            path,
            format!(
                "`{}` is not a valid environment variable reference",
                bad.written
            ),
        )
        .with_help(
            "write `${NAME}` or `${NAME:-default}`, where NAME is letters, digits and `_`, not \
                     starting with a digit",
        ),
        RefError::NestedDefault { name } => Diagnostic::error(
            path,
            format!("the default of `${{{name}:-...}}` cannot contain another `${{`"),
        )
        .with_help("write the default out in full"),
    }
}

#[cfg(test)]
// `doc_path!` builds a `Vec`; tests pass it where a slice is wanted.
#[allow(clippy::useless_vec)]
mod tests {
    use super::*;
    use crate::doc_path;
    use crate::plan::spans::parse;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    fn text(value: &str, vars: &[(&str, &str)]) -> Result<String, Vec<RefError>> {
        expand(value, &env(vars))
            .map(|e| e.text)
            .map_err(|errs| errs.into_iter().map(|b| b.error).collect())
    }

    #[test]
    fn variables_are_filled_and_defaults_used_when_missing_or_empty() {
        let vars = [("HOST", "db.internal"), ("EMPTY", "")];
        assert_eq!(
            text("postgres://${HOST}/app", &vars),
            Ok("postgres://db.internal/app".to_owned())
        );
        assert_eq!(text("${PORT:-5432}", &vars), Ok("5432".to_owned()));
        assert_eq!(text("${EMPTY:-fallback}", &vars), Ok("fallback".to_owned()));
        assert_eq!(text("${EMPTY}", &vars), Ok(String::new()));
        assert_eq!(text("${PORT:-}", &vars), Ok(String::new()));
        assert_eq!(
            text("${HOST:-x}:${HOST}", &vars),
            Ok("db.internal:db.internal".to_owned())
        );
    }

    #[test]
    fn double_dollar_brace_is_a_literal_and_lone_dollars_stay() {
        assert_eq!(
            text("$${HOME} costs $5 and $$", &[]),
            Ok("${HOME} costs $5 and $$".to_owned())
        );
        assert_eq!(text("$HOME", &[]), Ok("$HOME".to_owned()));
    }

    #[test]
    fn malformed_references_are_errors_and_all_are_reported() {
        assert_eq!(text("x ${ABC", &[]), Err(vec![RefError::Unclosed]));
        assert_eq!(
            text("${} ${1A} ${A-b} ${MISSING}", &[]),
            Err(vec![
                RefError::Malformed {
                    inner: String::new()
                },
                RefError::Malformed {
                    inner: "1A".to_owned()
                },
                RefError::Malformed {
                    inner: "A-b".to_owned()
                },
                RefError::Missing {
                    name: "MISSING".to_owned()
                },
            ])
        );
        assert_eq!(
            text("${A:-${B}}", &[]),
            Err(vec![RefError::NestedDefault {
                name: "A".to_owned()
            }])
        );
    }

    #[test]
    fn missing_environment_variable_is_named_at_the_reference() {
        let source = "target: { url: \"postgres://${PGUSER:-app}@${PGHOST}/db\" }\n";
        let doc = parse(source).expect("valid YAML");
        let errs = substitute(&doc.root, source, &env(&[])).expect_err("PGHOST is missing");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].message, "environment variable `PGHOST` is not set");
        assert_eq!(
            errs[0].help.as_deref(),
            Some("set it, or write `${PGHOST:-default}`")
        );
        assert_eq!(errs[0].path, doc_path!["target", "url"]);
        assert_eq!(
            errs[0].span,
            Some(Span {
                line: 1,
                col: 43,
                len: 9
            })
        );
    }

    #[test]
    fn substituted_values_stay_strings_and_keys_and_numbers_are_left_alone() {
        let source = "a: ${PORT}\nb: 12\n${KEY}: x\nc:\n  - \"${PORT}\"\n  - $${PORT}\n";
        let doc = parse(source).expect("valid YAML");
        let done = substitute(&doc.root, source, &env(&[("PORT", "5432")])).expect("all set");
        assert_eq!(
            done.root.get("a").and_then(Node::scalar),
            Some(Scalar::Str("5432"))
        );
        assert_eq!(
            done.root.get("b").and_then(Node::scalar),
            Some(Scalar::Int(12))
        );
        assert!(done.root.get("${KEY}").is_some());
        assert_eq!(
            done.root.at(&doc_path!["c", 0]).and_then(Node::as_str),
            Some("5432")
        );
        assert_eq!(
            done.root.at(&doc_path!["c", 1]).and_then(Node::as_str),
            Some("${PORT}")
        );
        assert_eq!(done.secrets, ["5432", "5432"]);
    }

    #[test]
    fn substitution_cannot_inject_yaml_structure() {
        let source = "a: ${EVIL}\n";
        let doc = parse(source).expect("valid YAML");
        let done = substitute(&doc.root, source, &env(&[("EVIL", "x\nb: [1, 2]")])).expect("set");
        assert_eq!(
            done.root.get("a").and_then(Node::as_str),
            Some("x\nb: [1, 2]")
        );
        assert!(done.root.get("b").is_none());
    }
}

//! SQL text comes from minijinja templates under `templates/<dialect>/`, embedded in the
//! binary and overridable per plan; identifiers only ever enter SQL through the `ident` filter.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use minijinja::value::{Value, ValueKind};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};

/// The target's dialect. decant writes to PostgreSQL only; every statement for the target
/// comes from `templates/postgres/`, found through [`target_template`].
pub const TARGET_DIALECT: &str = "postgres";

/// The template of a target operation: `create_table` → `postgres/create_table.sql.j2`.
pub fn target_template(operation: &str) -> String {
    format!("{TARGET_DIALECT}/{operation}.sql.j2")
}

/// The template of an operation on the source, in the source engine's dialect (`sqlite`,
/// `mysql`): `select_rows` → `mysql/select_rows.sql.j2`.
pub fn source_template(dialect: &str, operation: &str) -> String {
    format!("{dialect}/{operation}.sql.j2")
}

/// The templates decant ships, by `<dialect>/<operation>.sql.j2`: every file under
/// `templates/`, listed by `build.rs` as it builds, so a new engine's folder needs no edit here.
pub const BUILTIN_TEMPLATES: &[(&str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/builtin_templates.rs"));

/// A template failure, with the template's name and line.
#[derive(Debug, thiserror::Error)]
#[error("template `{name}`{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct TemplateError {
    pub name: String,
    pub line: Option<usize>,
    pub message: String,
}

impl TemplateError {
    fn from_minijinja(name: &str, e: &Error) -> Self {
        let mut message = e
            .detail()
            .map(str::to_owned)
            .unwrap_or_else(|| e.kind().to_string());
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            let _ = write!(message, ": {s}");
            source = s.source();
        }
        TemplateError {
            name: e.name().unwrap_or(name).to_owned(),
            line: e.line(),
            message,
        }
    }
}

/// Quotes an identifier the one way decant does: double quotes, inner quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A SQL string literal: single quotes, inner quotes doubled.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn ident_filter(value: Value) -> Result<Value, Error> {
    match value.as_str() {
        Some(s) if !s.is_empty() && !s.contains('\0') => {
            Ok(Value::from_safe_string(quote_ident(s)))
        }
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("`{value}` is not an identifier"),
        )),
    }
}

fn literal_filter(value: Value) -> Result<Value, Error> {
    Ok(Value::from_safe_string(match value.kind() {
        ValueKind::None | ValueKind::Undefined => "NULL".to_owned(),
        ValueKind::Bool => if value.is_true() { "true" } else { "false" }.to_owned(),
        ValueKind::Number => value.to_string(),
        // Bytes, as decant passes them: `{"hex": "00ff"}` becomes `X'00ff'`.
        // Digits too long for a JSON number: `{"number": "18446744073709551615"}`, unquoted.
        ValueKind::Map => {
            let attr = |name: &str| {
                value
                    .get_attr(name)
                    .ok()
                    .and_then(|h| h.as_str().map(str::to_owned))
            };
            match (attr("hex"), attr("number")) {
                (Some(hex), _) if hex.bytes().all(|b| b.is_ascii_hexdigit()) => format!("X'{hex}'"),
                (_, Some(n)) if is_plain_number(&n) => n,
                _ => quote_literal(&value.to_string()),
            }
        }
        _ => quote_literal(&value.to_string()),
    }))
}

/// `-12.50`, `42`: a number safe to write into SQL unquoted.
pub fn is_plain_number(t: &str) -> bool {
    let digits = t.strip_prefix('-').unwrap_or(t);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// Marks text that decant produced as SQL (types, translated expressions) as safe to emit.
fn sql_filter(value: Value) -> Result<Value, Error> {
    match value.as_str() {
        Some(s) => Ok(Value::from_safe_string(s.to_owned())),
        None => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("`{value}` is not SQL text"),
        )),
    }
}

/// The template environment for one plan.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// Built-in templates, with `<override_dir>/<dialect>/<operation>.sql.j2` taking precedence.
    pub fn new(override_dir: Option<PathBuf>) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(false);
        env.add_filter("ident", ident_filter);
        env.add_filter("literal", literal_filter);
        env.add_filter("sql", sql_filter);
        env.set_auto_escape_callback(|_| AutoEscape::Custom("sql"));
        env.set_formatter(|out, _state, value| {
            if value.is_safe() || matches!(value.kind(), ValueKind::Number | ValueKind::Bool) {
                write!(out, "{value}").map_err(|e| Error::new(ErrorKind::WriteFailure, e.to_string()))
            } else {
                Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("`{value}` is interpolated bare; pass it through `ident`, `literal` or `sql`"),
                ))
            }
        });
        env.set_loader(move |name| {
            if let Some(dir) = &override_dir {
                let path = dir.join(name);
                if path.is_file() {
                    return std::fs::read_to_string(&path).map(Some).map_err(|e| {
                        Error::new(
                            ErrorKind::InvalidOperation,
                            format!("cannot read `{}`: {e}", path.display()),
                        )
                    });
                }
            }
            Ok(BUILTIN_TEMPLATES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, text)| (*text).to_owned()))
        });
        Templates { env }
    }

    /// Templates for a plan: its `templates:` folder, relative to the plan file, overrides.
    pub fn for_plan(plan_dir: &Path, templates: Option<&str>) -> Self {
        Templates::new(templates.map(|t| plan_dir.join(t)))
    }

    /// Renders `<dialect>/<operation>.sql.j2` with the given context.
    pub fn render(&self, name: &str, ctx: Value) -> Result<String, TemplateError> {
        let template = self
            .env
            .get_template(name)
            .map_err(|e| TemplateError::from_minijinja(name, &e))?;
        let sql = template
            .render(ctx)
            .map_err(|e| TemplateError::from_minijinja(name, &e))?;
        Ok(sql.trim().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_and_quotes_doubled() {
        let t = Templates::new(None);
        let sql = t.render(
            "postgres/analyze.sql.j2",
            minijinja::context! { schema => "public", table => "Order \"Items\"" },
        );
        assert_eq!(
            sql.ok().as_deref(),
            Some("ANALYZE \"public\".\"Order \"\"Items\"\"\"")
        );
    }

    #[test]
    fn bare_interpolation_of_a_name_is_an_error() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir_all(dir.path().join("postgres")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            dir.path().join("postgres/analyze.sql.j2"),
            "ANALYZE {{ table }}\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let t = Templates::new(Some(dir.path().to_path_buf()));
        let err = t
            .render(
                "postgres/analyze.sql.j2",
                minijinja::context! { schema => "public", table => "users" },
            )
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("interpolated bare"), "{err}");
        assert!(err.contains("postgres/analyze.sql.j2"), "{err}");
    }

    #[test]
    fn literal_quotes_strings_and_keeps_numbers() {
        let v = literal_filter(Value::from("it's"))
            .map(|v| v.to_string())
            .ok();
        assert_eq!(v.as_deref(), Some("'it''s'"));
        assert_eq!(
            literal_filter(Value::from(42))
                .map(|v| v.to_string())
                .ok()
                .as_deref(),
            Some("42")
        );
    }

    /// Every `*.j2` file under `dir`, as a path relative to `root` with `/` separators.
    fn template_files(root: &Path, dir: &Path, found: &mut Vec<String>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
            if path.is_dir() {
                template_files(root, &path, found);
            } else if path.extension().is_some_and(|x| x == "j2") {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                found.push(parts.join("/"));
            }
        }
    }

    /// A release binary runs anywhere because it carries its templates: `build.rs` must list
    /// every template in `templates/` (a file it skipped would only be found next to the
    /// sources), and nothing else.
    #[test]
    fn every_template_on_disk_is_built_in_and_every_built_in_is_on_disk() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut on_disk = Vec::new();
        template_files(&root, &root, &mut on_disk);
        on_disk.sort();
        let mut built_in: Vec<String> = BUILTIN_TEMPLATES
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .collect();
        built_in.sort();
        assert_eq!(on_disk, built_in);
    }

    /// Each built-in name holds its own file's text, not another's (a copy-paste slip in the
    /// table would render the wrong SQL for a whole step).
    #[test]
    fn every_built_in_template_holds_the_text_of_the_file_it_names() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        for (name, text) in BUILTIN_TEMPLATES {
            let on_disk =
                std::fs::read_to_string(root.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&on_disk, text, "{name}");
        }
        let mut texts: Vec<&str> = BUILTIN_TEMPLATES.iter().map(|(_, t)| *t).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(
            texts.len(),
            BUILTIN_TEMPLATES.len(),
            "two names share one text"
        );
    }
}

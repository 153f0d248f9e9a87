//! Loads a plan file: YAML with positions, the structure checked against the schema, the
//! version, `${VAR}` substitution, then the typed [`Plan`]; every problem found comes back at once.

use std::path::{Path, PathBuf};

use serde_yaml_ng::{Mapping, Number, Value};

use super::diagnostic::{Diagnostic, Diagnostics, DocPath, PathSeg};
use super::model::Plan;
use super::spans::{self, Node, NodeKind, Scalar, SpanIndex};
use super::{env, structure};

/// The plan versions this decant reads.
pub const SUPPORTED_VERSION: i128 = 1;

/// A plan that loaded, with what is needed to point later problems at the file.
#[derive(Debug, Clone)]
pub struct LoadedPlan {
    pub plan: Plan,
    /// The path as the user gave it.
    pub path: PathBuf,
    /// The file's text, as written (before `${VAR}` substitution).
    pub text: String,
    pub spans: SpanIndex,
    pub warnings: Vec<Diagnostic>,
    /// Errors the loader went on past, from [`load_plan_keep_going`]: unknown keys, left out of
    /// `plan`. Always empty from [`load_plan`].
    pub skipped: Vec<Diagnostic>,
}

impl LoadedPlan {
    /// Fills the diagnostic's span from its path, unless it has one.
    pub fn locate(&self, d: Diagnostic) -> Diagnostic {
        locate_in(&self.spans, d)
    }

    /// The file name, the text and the located items, sorted top to bottom.
    pub fn diagnostics(&self, items: Vec<Diagnostic>) -> Diagnostics {
        let mut out = Diagnostics {
            file: self.path.display().to_string(),
            text: self.text.clone(),
            items: items.into_iter().map(|d| self.locate(d)).collect(),
        };
        out.sort();
        // One wrong rule can affect many columns; say it once.
        out.items
            .dedup_by(|a, b| a.path == b.path && a.message == b.message);
        out
    }

    /// The folder relative paths in the plan are taken from: the plan file's own.
    /// Where the snapshot of the app's schema is (`target.snapshot`, else
    /// `<plan file stem>.schema.json` beside the plan).
    pub fn snapshot_path(&self) -> PathBuf {
        match &self.plan.target.snapshot {
            Some(path) => self.base_dir().join(path),
            None => {
                let stem = self
                    .path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("plan");
                self.base_dir().join(format!("{stem}.schema.json"))
            }
        }
    }

    pub fn base_dir(&self) -> &Path {
        match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        }
    }
}

/// Reads and loads a plan file, filling `${VAR}` from the process environment.
pub fn load_plan(path: &Path) -> Result<LoadedPlan, Diagnostics> {
    load_file(path, false)
}

/// Loads a plan file like [`load_plan`], but goes on past unknown keys: they are left out of
/// the plan and returned in `skipped`, so a caller that checks the plan against its source
/// reports every problem in one pass, not the unknown keys alone.
pub fn load_plan_keep_going(path: &Path) -> Result<LoadedPlan, Diagnostics> {
    load_file(path, true)
}

fn load_file(path: &Path, keep_going: bool) -> Result<LoadedPlan, Diagnostics> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Diagnostics {
        file: file.clone(),
        text: String::new(),
        items: vec![Diagnostic::error(
            Vec::new(),
            format!(
                "cannot read the plan file: {}",
                lowercase_first(&e.to_string())
            ),
        )],
    })?;
    load_text(&file, &text, &|name| std::env::var(name).ok(), keep_going)
}

/// Loads a plan from its text; `file_name` is what messages call the file (and the base of
/// relative paths), `env` looks up `${VAR}`s.
pub fn load_plan_str(
    file_name: &str,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<LoadedPlan, Diagnostics> {
    load_text(file_name, text, env, false)
}

fn load_text(
    file_name: &str,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    keep_going: bool,
) -> Result<LoadedPlan, Diagnostics> {
    let report = |mut items: Vec<Diagnostic>, spans: Option<&SpanIndex>| {
        if let Some(spans) = spans {
            for d in &mut items {
                if d.span.is_none() {
                    d.span = spans.locate(&d.path);
                }
            }
        }
        let mut out = Diagnostics {
            file: file_name.to_owned(),
            text: text.to_owned(),
            items,
        };
        out.sort();
        out
    };

    let document = spans::parse(text).map_err(|d| report(vec![d], None))?;
    let spans = SpanIndex::build(&document.root);
    let mut problems = document.problems;

    if document.root.kind == NodeKind::Null {
        problems.push(
            Diagnostic::error(Vec::new(), "the plan file is empty")
                .with_help("a plan needs at least `version: 1`, `source` and `target`")
                .at(document.root.span),
        );
        return Err(report(problems, Some(&spans)));
    }
    // A plan of another version has another shape: judging it by this one's would only confuse.
    if let Some(d) = unsupported_version(&document.root) {
        problems.push(d);
        return Err(report(problems, Some(&spans)));
    }
    problems.extend(structure::check_plan(&document.root));
    let substituted = env::substitute(&document.root, text, env);
    // From here on the substituted tree is read; a large plan should not be held twice.
    drop(document.root);
    let substituted = match substituted {
        Ok(s) => Some(s),
        Err(env_problems) => {
            problems.extend(env_problems);
            None
        }
    };
    let (errors, warnings): (Vec<_>, Vec<_>) = problems.into_iter().partition(Diagnostic::is_error);
    let goes_on = |d: &Diagnostic| keep_going && d.unknown_key;
    let substituted = match substituted {
        Some(s) if errors.iter().all(goes_on) => s,
        _ => {
            return Err(report(
                errors.into_iter().chain(warnings).collect(),
                Some(&spans),
            ))
        }
    };

    let env::Substituted { mut root, secrets } = substituted;
    // What is left once the unknown keys are out is a plan of the right shape.
    for d in &errors {
        remove_entry(&mut root, &d.path);
    }
    let value = to_yaml_value(&root);
    drop(root);
    let plan: Plan = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = serde_path(e.path());
        let message = redact(&e.inner().to_string(), &secrets);
        let d = Diagnostic::error(path, lowercase_first(&message));
        report(
            errors
                .iter()
                .cloned()
                .chain(std::iter::once(d))
                .chain(warnings.iter().cloned())
                .collect(),
            Some(&spans),
        )
    })?;

    Ok(LoadedPlan {
        plan,
        path: PathBuf::from(file_name),
        text: text.to_owned(),
        warnings: warnings.into_iter().map(|d| locate_in(&spans, d)).collect(),
        skipped: errors.into_iter().map(|d| locate_in(&spans, d)).collect(),
        spans,
    })
}

/// Takes the entry at `path` (an unknown key) out of the tree.
fn remove_entry(node: &mut Node, path: &[PathSeg]) {
    match (path, &mut node.kind) {
        ([PathSeg::Key(key)], NodeKind::Map(entries)) => entries.retain(|(k, _, _)| k != key),
        ([PathSeg::Key(key), rest @ ..], NodeKind::Map(entries)) => {
            if let Some((_, _, child)) = entries.iter_mut().find(|(k, _, _)| k == key) {
                remove_entry(child, rest);
            }
        }
        ([PathSeg::Index(i), rest @ ..], NodeKind::Seq(items)) => {
            if let Some(child) = items.get_mut(*i) {
                remove_entry(child, rest);
            }
        }
        _ => {}
    }
}

fn locate_in(spans: &SpanIndex, mut d: Diagnostic) -> Diagnostic {
    if d.span.is_none() && d.at_key {
        d.span = spans.key_span(&d.path);
    }
    if d.span.is_none() {
        d.span = spans.locate(&d.path);
    }
    d
}

/// `version: 2` (or any integer but 1): refuse it up front.
fn unsupported_version(root: &Node) -> Option<Diagnostic> {
    let (key_span, value) = root.entry("version")?;
    let Some(Scalar::Int(version)) = value.scalar() else {
        return None;
    };
    if version == SUPPORTED_VERSION {
        return None;
    }
    let d = Diagnostic::error(
        vec![PathSeg::Key("version".to_owned())],
        format!(
            "unsupported plan version `{version}`; this decant reads version {SUPPORTED_VERSION}"
        ),
    )
    .at(value.value_span(Some(key_span)));
    Some(if version > SUPPORTED_VERSION {
        d.with_help("a newer decant may read this plan")
    } else {
        d.with_help(format!("write `version: {SUPPORTED_VERSION}`"))
    })
}

/// The tree as a YAML value, read the way the structure check read it: plain scalars by the
/// core schema, quoted and block scalars and every mapping key as strings.
fn to_yaml_value(node: &Node) -> Value {
    match &node.kind {
        NodeKind::Map(entries) => {
            let mut map = Mapping::new();
            for (key, _, value) in entries {
                map.insert(Value::String(key.clone()), to_yaml_value(value));
            }
            Value::Mapping(map)
        }
        NodeKind::Seq(items) => Value::Sequence(items.iter().map(to_yaml_value).collect()),
        NodeKind::Null => Value::Null,
        NodeKind::Scalar { .. } => match node.scalar() {
            Some(Scalar::Null) | None => Value::Null,
            Some(Scalar::Bool(b)) => Value::Bool(b),
            Some(Scalar::Int(i)) => match (i64::try_from(i), u64::try_from(i)) {
                (Ok(n), _) => Value::Number(Number::from(n)),
                (_, Ok(n)) => Value::Number(Number::from(n)),
                _ => Value::Number(Number::from(i as f64)),
            },
            Some(Scalar::Float(f)) => Value::Number(Number::from(f)),
            Some(Scalar::Str(s)) => Value::String(s.to_owned()),
        },
    }
}

fn serde_path(path: &serde_path_to_error::Path) -> DocPath {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|seg| match seg {
            Segment::Seq { index } => Some(PathSeg::Index(*index)),
            Segment::Map { key } => Some(PathSeg::Key(key.clone())),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect()
}

/// Keeps values that came from the environment out of a message.
fn redact(message: &str, secrets: &[String]) -> String {
    let mut secrets: Vec<&String> = secrets.iter().filter(|s| !s.is_empty()).collect();
    // Longest first, so a secret that contains another is hidden whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.iter().fold(message.to_owned(), |m, s| {
        m.replace(s.as_str(), "<redacted>")
    })
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match (chars.next(), chars.clone().next()) {
        (Some(first), Some(second)) if first.is_uppercase() && !second.is_uppercase() => {
            first.to_lowercase().chain(chars).collect()
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests;

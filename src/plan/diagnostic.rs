//! Plan problems with their place in the file: `file:line:col`, a caret snippet, a hint.
//! Every stage that judges a plan reports through these, so `decant validate` lists all at once.

use std::fmt::{self, Write as _};

/// A place in the plan file: 1-based line and column, and how many characters to underline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub line: usize,
    pub col: usize,
    pub len: usize,
}

/// One step of a path into the plan document, e.g. `checks` → `2` → `expect`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

/// A path into the plan document.
pub type DocPath = Vec<PathSeg>;

/// Formats a path the way a reader would write it: `columns."users.email".transform`, `checks[2]`.
pub fn display_path(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                if k.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
                    && !k.is_empty()
                {
                    out.push_str(k);
                } else {
                    let _ = write!(out, "{k:?}");
                }
            }
            PathSeg::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    out
}

/// Builds a path from keys and indexes: `path!["columns", "users.email"]`.
#[macro_export]
macro_rules! doc_path {
    ($($seg:expr),* $(,)?) => {
        vec![$($crate::plan::diagnostic::PathSeg::from($seg)),*]
    };
}

impl From<&str> for PathSeg {
    fn from(s: &str) -> Self {
        PathSeg::Key(s.to_owned())
    }
}

impl From<String> for PathSeg {
    fn from(s: String) -> Self {
        PathSeg::Key(s)
    }
}

impl From<&String> for PathSeg {
    fn from(s: &String) -> Self {
        PathSeg::Key(s.clone())
    }
}

impl From<usize> for PathSeg {
    fn from(i: usize) -> Self {
        PathSeg::Index(i)
    }
}

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Lowercase, names in backticks: "unknown key `row_count`".
    pub message: String,
    /// What to do about it: "did you mean `row_counts`?".
    pub help: Option<String>,
    /// Where in the document; empty for the whole file.
    pub path: DocPath,
    /// Where in the text; filled from `path` by the loader when it can.
    pub span: Option<Span>,
    /// Point at the key of `path` rather than its value (e.g. an unknown name used as a key).
    pub at_key: bool,
}

impl Diagnostic {
    pub fn error(path: DocPath, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            help: None,
            path,
            span: None,
            at_key: false,
        }
    }

    pub fn warning(path: DocPath, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            message: message.into(),
            help: None,
            path,
            span: None,
            at_key: false,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    /// Points the diagnostic at the key of its path instead of the value.
    pub fn on_key(mut self) -> Self {
        self.at_key = true;
        self
    }

    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders the problem like a compiler: header, `--> file:line:col`, the line, a caret.
    pub fn render(&self, file: &str, text: &str) -> String {
        let mut out = String::new();
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{label}: {}", self.message);
        match self.span {
            Some(span) => {
                let _ = writeln!(out, "  --> {file}:{}:{}", span.line, span.col);
                if let Some(line) = text.lines().nth(span.line.saturating_sub(1)) {
                    let gutter = span.line.to_string().len();
                    let _ = writeln!(out, "{:gutter$} |", "");
                    let _ = writeln!(out, "{} | {}", span.line, line);
                    let pad: String = line
                        .chars()
                        .take(span.col.saturating_sub(1))
                        .map(|c| if c == '\t' { '\t' } else { ' ' })
                        .collect();
                    let _ = writeln!(out, "{:gutter$} | {pad}{}", "", "^".repeat(span.len.max(1)));
                }
            }
            None => {
                let _ = writeln!(out, "  --> {file}");
            }
        }
        if !self.path.is_empty() {
            let _ = writeln!(out, "   = at `{}`", display_path(&self.path));
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "   = help: {help}");
        }
        out
    }
}

/// Every problem found in one plan, in the order of the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    pub file: String,
    pub text: String,
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| d.is_error())
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// Sorts by position so the report reads top to bottom.
    pub fn sort(&mut self) {
        self.items.sort_by_key(|d| {
            (
                d.span.map(|s| (s.line, s.col)).unwrap_or((usize::MAX, 0)),
                d.severity,
            )
        });
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.items {
            out.push_str(&d.render(&self.file, &self.text));
            out.push('\n');
        }
        let errors = self.errors().count();
        let warnings = self.items.len() - errors;
        let _ = write!(
            out,
            "{}: {errors} error(s), {warnings} warning(s)",
            self.file
        );
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Diagnostics {}

/// The closest candidate to a misspelt name, if one is close enough to be a likely typo.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted_lower = wanted.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&wanted_lower, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// "did you mean `x`?" for the closest candidate, if any.
pub fn did_you_mean<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(wanted, candidates).map(|c| format!("did you mean `{c}`?"))
}

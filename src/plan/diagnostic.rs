//! Plan problems with their place in the file: `file:line:col`, a caret snippet, a hint.
//! Every stage that judges a plan reports through these, so `decant validate` lists all at once.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::{self, Write as _};

use indexmap::IndexMap;

use crate::url::redact_text;

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
    /// An unknown key at `path`: the loader can leave it out and go on, so the checks against
    /// the source still run and report their problems in the same pass.
    pub unknown_key: bool,
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
            unknown_key: false,
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
            unknown_key: false,
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
        let line = self
            .span
            .and_then(|s| text.lines().nth(s.line.saturating_sub(1)))
            .map(Line::new);
        self.render_with_line(file, line.as_ref())
    }

    /// [`Diagnostic::render`] with the span's line already looked up, so rendering many
    /// problems does not scan the file once per problem.
    fn render_with_line(&self, file: &str, line: Option<&Line<'_>>) -> String {
        let mut out = String::new();
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        // Whatever a message quotes (a URL, a connection string, a value from the
        // environment), no password in it is printed.
        let _ = writeln!(out, "{label}: {}", redact_text(&self.message));
        match self.span {
            Some(span) => {
                let _ = writeln!(out, "  --> {file}:{}:{}", span.line, span.col);
                if let Some(line) = line {
                    let gutter = span.line.to_string().len();
                    let snippet = Snippet::around(line, span);
                    let _ = writeln!(out, "{:gutter$} |", "");
                    let _ = writeln!(out, "{} | {}", span.line, snippet.text);
                    let _ = writeln!(
                        out,
                        "{:gutter$} | {}{}",
                        "",
                        snippet.pad,
                        "^".repeat(snippet.carets)
                    );
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
            let _ = writeln!(out, "   = help: {}", redact_text(help));
        }
        out
    }

    /// What makes two problems "the same kind": the message with every name in backticks
    /// blanked out to `…`, so "unknown key `a`" and "unknown key `b`" count together.
    pub fn kind(&self) -> String {
        let mut kind = String::with_capacity(self.message.len());
        let mut inside = false;
        for c in self.message.chars() {
            if c == '`' {
                if !inside {
                    kind.push_str("`…`");
                }
                inside = !inside;
            } else if !inside {
                kind.push(c);
            }
        }
        kind
    }
}

/// How many characters of a line a snippet shows at most; longer lines are cut around the caret.
const SNIPPET_WIDTH: usize = 100;

/// How many characters of context a cut snippet keeps before the caret.
const SNIPPET_CONTEXT: usize = 30;

/// Every how many characters [`Line`] remembers the byte offset.
const CHECKPOINT: usize = 256;

/// One line of the plan, indexed so that a column (in characters) finds its byte offset
/// without walking the line from its start: a one-line file can hold thousands of problems.
struct Line<'a> {
    /// The line with every secret in it masked ([`crate::url::mask_line`]): a snippet quotes
    /// the plan, and a URL written into it must not be printed with its password, whatever
    /// made the line worth showing.
    text: Cow<'a, str>,
    chars: usize,
    /// The byte offset of character `i * CHECKPOINT`.
    checkpoints: Vec<usize>,
}

impl<'a> Line<'a> {
    fn new(text: &'a str) -> Self {
        let text = crate::url::mask_line(text);
        let mut checkpoints = Vec::new();
        let mut chars = 0;
        for (i, (byte, _)) in text.char_indices().enumerate() {
            if i % CHECKPOINT == 0 {
                checkpoints.push(byte);
            }
            chars = i + 1;
        }
        Line {
            text,
            chars,
            checkpoints,
        }
    }

    /// The byte offset of character `index` (the end of the line past the last one).
    fn byte_at(&self, index: usize) -> usize {
        if index >= self.chars {
            return self.text.len();
        }
        let from = self.checkpoints[index / CHECKPOINT];
        self.text[from..]
            .char_indices()
            .nth(index % CHECKPOINT)
            .map_or(self.text.len(), |(b, _)| from + b)
    }

    /// Characters `start..end`.
    fn slice(&self, start: usize, end: usize) -> &str {
        &self.text[self.byte_at(start)..self.byte_at(end.max(start))]
    }
}

/// The part of a line a snippet shows, the padding under it up to the caret, and how many carets.
struct Snippet {
    text: String,
    pad: String,
    carets: usize,
}

impl Snippet {
    /// The line, or a window of it around the span with `…` where it was cut: a one-line file of
    /// megabytes must not be printed whole for every problem in it.
    fn around(line: &Line<'_>, span: Span) -> Snippet {
        let caret = span.col.saturating_sub(1);
        let (start, end) = if line.chars <= SNIPPET_WIDTH {
            (0, line.chars)
        } else {
            let start = caret
                .saturating_sub(SNIPPET_CONTEXT)
                .min(line.chars - SNIPPET_WIDTH);
            (start, start + SNIPPET_WIDTH)
        };
        let mut text = String::new();
        // The `…` stands for the cut text and takes one column, so the caret moves by one too.
        let mut pad = String::new();
        if start > 0 {
            text.push('…');
            pad.push(' ');
        }
        text.push_str(line.slice(start, end));
        if end < line.chars {
            text.push('…');
        }
        // Tabs stay tabs so the caret lines up however the terminal shows them.
        pad.extend(line.slice(start, caret.max(start)).chars().map(|c| {
            if c == '\t' {
                '\t'
            } else {
                ' '
            }
        }));
        let room = end.saturating_sub(caret.max(start)).max(1);
        Snippet {
            text,
            pad,
            carets: span.len.max(1).min(room),
        }
    }
}

/// How many problems of one kind are printed; the rest are counted in one line.
pub const SHOWN_PER_KIND: usize = 20;

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
        // Where each line starts, found once: looking lines up per problem made rendering
        // quadratic in the number of problems.
        let lines: Vec<&str> = self.text.lines().collect();
        // Each line that has a problem is indexed once, however many problems it has.
        let mut indexed: HashMap<usize, Line<'_>> = HashMap::new();
        // Problems of one kind past the first few are counted, not printed; the counts keep
        // the order in which each kind first appeared.
        let mut per_kind: IndexMap<String, (Severity, usize)> = IndexMap::new();
        for d in &self.items {
            let seen = per_kind.entry(d.kind()).or_insert((d.severity, 0));
            seen.1 += 1;
            if seen.1 > SHOWN_PER_KIND {
                continue;
            }
            let line = d.span.and_then(|s| {
                let n = s.line.saturating_sub(1);
                let text = lines.get(n)?;
                Some(&*indexed.entry(n).or_insert_with(|| Line::new(text)))
            });
            out.push_str(&d.render_with_line(&self.file, line));
            out.push('\n');
        }
        for (kind, (severity, n)) in &per_kind {
            let Some(rest) = n.checked_sub(SHOWN_PER_KIND).filter(|r| *r > 0) else {
                continue;
            };
            let label = match severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let _ = writeln!(
                out,
                "… and {} more like this: {label}: {kind}\n",
                group_thousands(rest)
            );
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

/// `99950` → `99 950`: counts in the thousands are read at a glance.
fn group_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, col: usize, len: usize, message: &str) -> Diagnostic {
        Diagnostic::error(Vec::new(), message).at(Span { line, col, len })
    }

    #[test]
    fn a_long_line_is_cut_to_a_window_around_the_caret() {
        let line = format!("{}target{}", "a, ".repeat(2000), ", b".repeat(2000));
        let col = line.find("target").map_or(0, |i| i + 1);
        let out = at(1, col, 6, "unknown `target`").render("p.yaml", &line);
        let lines: Vec<&str> = out.lines().collect();
        let snippet = lines[3].strip_prefix("1 | ").unwrap_or_default();
        assert!(snippet.starts_with('…') && snippet.ends_with('…'), "{out}");
        assert!(snippet.chars().count() <= SNIPPET_WIDTH + 2, "{out}");
        // The carets stand under `target` in the cut line.
        let carets = lines[4].strip_prefix("  | ").unwrap_or_default();
        let start = carets.find('^').unwrap_or(0);
        let under: String = snippet.chars().skip(start).take(6).collect();
        assert_eq!(under, "target", "{out}");
        assert_eq!(carets.trim_start(), "^^^^^^", "{out}");
    }

    #[test]
    fn a_caret_near_the_end_of_a_long_line_keeps_a_full_window() {
        let line = format!("{}zz", "x".repeat(500));
        let out = at(1, 501, 2, "here").render("p.yaml", &line);
        let snippet = out.lines().nth(3).unwrap_or_default();
        assert_eq!(snippet, format!("1 | …{}zz", "x".repeat(98)), "{out}");
    }

    #[test]
    fn short_lines_and_multibyte_text_are_shown_whole() {
        let out = at(1, 7, 3, "bad").render("p.yaml", "name: 'çà'");
        assert!(out.contains("1 | name: 'çà'\n  |       ^^^\n"), "{out}");
    }

    #[test]
    fn problems_past_the_cap_of_their_kind_are_counted_not_printed() {
        let text = "x\n".repeat(30);
        let mut items: Vec<Diagnostic> = (1..=25)
            .map(|i| at(i, 1, 1, &format!("table `users` has no column `c{i}`")))
            .collect();
        items.push(at(26, 1, 1, "unknown key `a`"));
        let diagnostics = Diagnostics {
            file: "p.yaml".into(),
            text,
            items,
        };
        let out = diagnostics.render();
        assert_eq!(
            out.matches("has no column").count(),
            SHOWN_PER_KIND + 1,
            "{out}"
        );
        assert!(out.contains("`c20`") && !out.contains("`c21`"), "{out}");
        assert!(
            out.contains("… and 5 more like this: error: table `…` has no column `…`"),
            "{out}"
        );
        assert!(out.contains("unknown key `a`"), "{out}");
        // The count of problems stays complete.
        assert!(out.ends_with("p.yaml: 26 error(s), 0 warning(s)"), "{out}");
    }

    #[test]
    fn passwords_in_a_quoted_line_are_masked_and_the_caret_stays() {
        let line = r#"target: { url: "postgres://app:s3cret@db/x", schema: 5, alt: "host=db password='p w' user=u passwd=xyz" }"#;
        let col = line.find("5,").map_or(0, |i| i + 1);
        let out = at(1, col, 1, "bad schema").render("p.yaml", line);
        assert!(!out.contains("s3cret") && !out.contains("p w"), "{out}");
        assert!(out.contains("postgres://app:******@db/x"), "{out}");
        assert!(out.contains("password=*****"), "{out}");
        assert!(out.contains("passwd=***"), "{out}");
        // In characters: the cut line starts with a `…`, three bytes wide.
        let lines: Vec<&str> = out.lines().collect();
        let caret = lines[4].chars().position(|c| c == '^').unwrap_or(0);
        assert_eq!(lines[3].chars().nth(caret), Some('5'), "{out}");
    }

    #[test]
    fn no_secret_is_rendered_whatever_holds_it() {
        let text = "target:\n  url: \"host=db user=app password='SECRET dbname=x\"\n  alt: postgres//app:SECRET@db/x?passwd=SECRET\n";
        let diagnostics = Diagnostics {
            file: "p.yaml".into(),
            text: text.into(),
            items: vec![
                at(2, 8, 40, "bad target `host=db password='SECRET`")
                    .with_help("write `postgres://app:SECRET@db/x` instead"),
                at(3, 8, 10, "bad `postgres//app:SECRET@db/x?passwd=SECRET`"),
            ],
        };
        let out = diagnostics.render();
        assert!(!out.contains("SECRET"), "{out}");
        // The frames are there, the names in them too.
        assert!(
            out.contains("2 |   url: \"host=db user=app password="),
            "{out}"
        );
        assert!(
            out.contains("3 |   alt: postgres//app:******@db/x?passwd=******"),
            "{out}"
        );
    }

    #[test]
    fn large_counts_are_grouped_in_thousands() {
        assert_eq!(group_thousands(99_950), "99 950");
        assert_eq!(group_thousands(1_234_567), "1 234 567");
        assert_eq!(group_thousands(999), "999");
    }
}

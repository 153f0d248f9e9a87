//! The plan text as a small tree of YAML nodes that remember where they stand in the file, and
//! an index from document paths to those places, so every problem can point at `file:line:col`.

use super::diagnostic::{PathSeg, Span};

mod builder;
mod index;

pub use builder::{parse, Document};
pub use index::SpanIndex;

/// How a scalar was written, which decides how it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    /// Bare text: read as null, a boolean, a number or a string (YAML 1.2 core schema).
    Plain,
    /// `'single'`, `"double"` or tagged `!!str`: always a string.
    Quoted,
    /// A `|` or `>` block: always a string.
    Block,
}

/// What a node holds.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// Entries in file order: key, the key's span, value.
    Map(Vec<(String, Span, Node)>),
    Seq(Vec<Node>),
    Scalar {
        text: String,
        style: ScalarStyle,
    },
    /// Nothing at all, as in `key:` with no value, or an empty file.
    Null,
}

/// A YAML node and where it starts in the file.
///
/// Scalars span their token on its first line; mappings and lists span one character at their
/// start (`{`, `[`, `-`, or a block mapping's first key).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

/// What a scalar means once read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(&'a str),
}

impl Node {
    /// The value this node means, if it is a scalar (or nothing).
    pub fn scalar(&self) -> Option<Scalar<'_>> {
        match &self.kind {
            NodeKind::Null => Some(Scalar::Null),
            NodeKind::Scalar {
                text,
                style: ScalarStyle::Plain,
            } => Some(resolve_plain(text)),
            NodeKind::Scalar { text, .. } => Some(Scalar::Str(text)),
            NodeKind::Map(_) | NodeKind::Seq(_) => None,
        }
    }

    /// The text of a scalar that reads as a string.
    pub fn as_str(&self) -> Option<&str> {
        match self.scalar() {
            Some(Scalar::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// The value under `key`, if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries.iter().find(|(k, _, _)| k == key).map(|(_, _, v)| v),
            _ => None,
        }
    }

    /// The entry under `key` with its key span.
    pub fn entry(&self, key: &str) -> Option<(Span, &Node)> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _, _)| k == key)
                .map(|(_, s, v)| (*s, v)),
            _ => None,
        }
    }

    /// The node at `path`, if there is one.
    pub fn at(&self, path: &[PathSeg]) -> Option<&Node> {
        let mut node = self;
        for seg in path {
            node = match (seg, &node.kind) {
                (PathSeg::Key(k), NodeKind::Map(_)) => node.get(k)?,
                (PathSeg::Index(i), NodeKind::Seq(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Where to point at this node as a value: a scalar's own token, but for a mapping, a list
    /// or an empty value that sits under a key, the key (it is what the reader looks for).
    pub fn value_span(&self, key_span: Option<Span>) -> Span {
        match (&self.kind, key_span) {
            (NodeKind::Scalar { .. }, _) | (_, None) => self.span,
            (_, Some(key)) => key,
        }
    }

    /// How a reader would call this node: "a mapping", "a list", "an integer", "an empty value".
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Map(_) => "a mapping",
            NodeKind::Seq(_) => "a list",
            NodeKind::Null => "an empty value",
            NodeKind::Scalar {
                style: ScalarStyle::Block,
                ..
            } => "a block of text",
            NodeKind::Scalar { text, style } => match self.scalar() {
                Some(Scalar::Null) => "`null`",
                Some(Scalar::Bool(_)) => "a boolean",
                Some(Scalar::Int(_)) => "an integer",
                Some(Scalar::Float(_)) => "a number",
                _ if *style == ScalarStyle::Plain || !text.is_empty() => "a string",
                _ => "an empty string",
            },
        }
    }
}

/// Reads a plain scalar the way the YAML 1.2 core schema does: `null`/`~`/empty, `true`/`false`,
/// decimal, `0o` octal and `0x` hex integers, floats with `.inf` and `.nan`; the rest is text.
pub fn resolve_plain(text: &str) -> Scalar<'_> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "true" | "True" | "TRUE" => return Scalar::Bool(true),
        "false" | "False" | "FALSE" => return Scalar::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        _ => {}
    }
    if let Some(int) = parse_int(text) {
        return int;
    }
    if is_core_float(text) {
        if let Ok(f) = text.parse::<f64>() {
            return Scalar::Float(f);
        }
    }
    Scalar::Str(text)
}

fn parse_int(text: &str) -> Option<Scalar<'_>> {
    let (radix, digits, negative) = if let Some(hex) = text.strip_prefix("0x") {
        (16, hex, false)
    } else if let Some(oct) = text.strip_prefix("0o") {
        (8, oct, false)
    } else if let Some(rest) = text.strip_prefix('-') {
        (10, rest, true)
    } else {
        (10, text.strip_prefix('+').unwrap_or(text), false)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    match i128::from_str_radix(digits, radix) {
        Ok(n) => Some(Scalar::Int(if negative { -n } else { n })),
        // Too long for any integer: still a number, as YAML reads it.
        Err(_) => digits
            .parse::<f64>()
            .ok()
            .map(|f| Scalar::Float(if negative { -f } else { f })),
    }
}

/// `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
fn is_core_float(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - frac_start;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
// `doc_path!` builds a `Vec`; tests pass it where a slice is wanted.
#[allow(clippy::useless_vec)]
mod tests {
    use super::*;
    use crate::doc_path;

    fn parsed(text: &str) -> Document {
        parse(text).expect("valid YAML")
    }

    fn span(line: usize, col: usize, len: usize) -> Span {
        Span { line, col, len }
    }

    #[test]
    fn scalars_keys_and_nested_values_have_one_based_spans() {
        let doc =
            parsed("version: 1\nname: \"shöp\"\ntables:\n  rename:\n    Customer: customers\n");
        let index = SpanIndex::build(&doc.root);
        assert_eq!(index.key_span(&doc_path!["version"]), Some(span(1, 1, 7)));
        assert_eq!(index.locate(&doc_path!["version"]), Some(span(1, 10, 1)));
        assert_eq!(index.locate(&doc_path!["name"]), Some(span(2, 7, 6)));
        assert_eq!(
            index.key_span(&doc_path!["tables", "rename", "Customer"]),
            Some(span(5, 5, 8))
        );
        assert_eq!(
            index.locate(&doc_path!["tables", "rename", "Customer"]),
            Some(span(5, 15, 9))
        );
        // A mapping under a key is pointed at by its key.
        assert_eq!(
            index.locate(&doc_path!["tables", "rename"]),
            Some(span(4, 3, 6))
        );
    }

    #[test]
    fn locate_falls_back_to_the_nearest_ancestor() {
        let doc = parsed("settings:\n  workers: 2\n");
        let index = SpanIndex::build(&doc.root);
        assert_eq!(
            index.locate(&doc_path!["settings", "if_exists"]),
            Some(span(1, 1, 8))
        );
        assert_eq!(
            index.locate(&doc_path!["checks", 3, "name"]),
            Some(span(1, 1, 1))
        );
        assert_eq!(index.key_span(&doc_path!["settings", "if_exists"]), None);
    }

    #[test]
    fn list_items_and_flow_collections_are_indexed() {
        let doc = parsed("include: [\"*\", b]\nchecks:\n  - row_counts: all\n  - { name: x }\n");
        let index = SpanIndex::build(&doc.root);
        assert_eq!(index.locate(&doc_path!["include", 0]), Some(span(1, 11, 3)));
        assert_eq!(index.locate(&doc_path!["include", 1]), Some(span(1, 16, 1)));
        assert_eq!(index.locate(&doc_path!["checks", 0]), Some(span(3, 5, 1)));
        assert_eq!(
            index.locate(&doc_path!["checks", 0, "row_counts"]),
            Some(span(3, 17, 3))
        );
        assert_eq!(index.locate(&doc_path!["checks", 1]), Some(span(4, 5, 1)));
        assert_eq!(
            index.locate(&doc_path!["checks", 1, "name"]),
            Some(span(4, 13, 1))
        );
    }

    #[test]
    fn quoted_scalars_span_their_quotes_and_escapes() {
        let doc = parsed("a: \"x\\\"y\" # note\nb: 'it''s'\nc: plain text # note\n");
        let index = SpanIndex::build(&doc.root);
        assert_eq!(index.locate(&doc_path!["a"]), Some(span(1, 4, 6)));
        assert_eq!(index.locate(&doc_path!["b"]), Some(span(2, 4, 7)));
        assert_eq!(index.locate(&doc_path!["c"]), Some(span(3, 4, 10)));
    }

    #[test]
    fn plain_scalars_are_read_with_the_core_schema_and_quoted_ones_stay_strings() {
        let doc =
            parsed("a: 12\nb: '12'\nc: true\nd: yes\ne: ~\nf:\ng: 1.5e3\nh: 0x1F\ni: !!str 7\n");
        let root = &doc.root;
        let read = |k: &str| root.get(k).and_then(Node::scalar);
        assert_eq!(read("a"), Some(Scalar::Int(12)));
        assert_eq!(read("b"), Some(Scalar::Str("12")));
        assert_eq!(read("c"), Some(Scalar::Bool(true)));
        assert_eq!(read("d"), Some(Scalar::Str("yes")));
        assert_eq!(read("e"), Some(Scalar::Null));
        assert_eq!(read("f"), Some(Scalar::Null));
        assert_eq!(read("g"), Some(Scalar::Float(1500.0)));
        assert_eq!(read("h"), Some(Scalar::Int(31)));
        assert_eq!(read("i"), Some(Scalar::Str("7")));
        assert_eq!(resolve_plain("1_000"), Scalar::Str("1_000"));
        assert_eq!(resolve_plain("-.5"), Scalar::Float(-0.5));
        assert_eq!(resolve_plain("1."), Scalar::Float(1.0));
        assert_eq!(resolve_plain("."), Scalar::Str("."));
        assert_eq!(resolve_plain("e3"), Scalar::Str("e3"));
    }

    #[test]
    fn duplicate_key_is_reported_at_the_second_one() {
        let doc = parsed("tables:\n  rename:\n    a: b\n    x: y\n    x: z\n");
        assert_eq!(doc.problems.len(), 1);
        let d = &doc.problems[0];
        assert_eq!(d.message, "duplicate key `x` in `tables.rename`");
        assert_eq!(d.span, Some(span(5, 5, 1)));
        assert_eq!(
            d.help.as_deref(),
            Some("the first `x` is on line 4; keep one of them")
        );
        assert_eq!(
            doc.root
                .at(&doc_path!["tables", "rename", "x"])
                .and_then(Node::as_str),
            Some("y")
        );
    }

    #[test]
    fn syntax_error_has_the_scanner_position() {
        let err = parse("version: 1\nsource:\n  url: x\n   bad: 2\n").expect_err("invalid YAML");
        assert!(err.message.starts_with("invalid YAML: "), "{}", err.message);
        assert_eq!(err.span.map(|s| s.line), Some(4));
        let err = parse("a:\n\t- b\n").expect_err("tab indentation");
        assert_eq!(err.span.map(|s| s.line), Some(2));
        assert!(err.help.is_some_and(|h| h.contains("spaces")));
    }

    #[test]
    fn syntax_error_at_the_end_of_the_file_points_at_the_last_line() {
        let err = parse("a: 1\nb: [x, y\n\n").expect_err("unclosed list");
        assert_eq!(err.span, Some(span(2, 9, 1)));
    }

    #[test]
    fn an_unquoted_variable_in_a_flow_mapping_gets_a_hint() {
        let err = parse("target: { url: ${X} }\n").expect_err("flow indicators in a plain scalar");
        assert!(err.help.is_some_and(|h| h.contains("quote")));
    }

    #[test]
    fn aliases_copy_the_anchored_value_and_merge_keys_fill_in() {
        let doc =
            parsed("base: &b { to: text, nullable: true }\nx: *b\ny:\n  <<: *b\n  to: uuid\n");
        assert!(doc.problems.is_empty(), "{:?}", doc.problems);
        let x = doc.root.get("x").expect("x");
        assert_eq!(x.get("to").and_then(Node::as_str), Some("text"));
        assert_eq!(x.span, span(2, 4, 2));
        let y = doc.root.get("y").expect("y");
        assert_eq!(y.get("to").and_then(Node::as_str), Some("uuid"));
        assert_eq!(
            y.get("nullable").and_then(Node::scalar),
            Some(Scalar::Bool(true))
        );
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let err = parse(&text).expect_err("too large");
        assert!(err.message.contains("too many"), "{}", err.message);
    }

    #[test]
    fn unsupported_tags_and_second_documents_are_reported() {
        let doc = parsed("a: !secret x\n---\nb: 1\n");
        let messages: Vec<_> = doc.problems.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "the YAML tag `!secret` is not supported in a plan",
                "a plan file holds one YAML document; this is a second one"
            ]
        );
    }

    #[test]
    fn empty_text_is_a_null_root() {
        let doc = parsed("# nothing here\n");
        assert_eq!(doc.root.kind, NodeKind::Null);
    }
}

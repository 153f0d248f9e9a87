//! The plan text as a small tree of YAML nodes that remember where they stand in the file, and
//! an index from document paths to those places, so every problem can point at `file:line:col`.

use std::collections::HashMap;
use std::str::Chars;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use super::diagnostic::{display_path, Diagnostic, DocPath, PathSeg, Span};

/// How deeply mappings and lists may nest; a plan needs far less.
const MAX_DEPTH: usize = 64;

/// How many nodes aliases may copy in all, so `*alias` cannot blow a small file up.
const MAX_ALIAS_NODES: usize = 100_000;

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

/// A parsed plan document: its root node, and the problems that did not stop the parse
/// (duplicate keys, unsupported tags, a second document).
#[derive(Debug, Clone)]
pub struct Document {
    pub root: Node,
    pub problems: Vec<Diagnostic>,
}

/// Parses YAML text into a spanned tree. A syntax error ends the parse and comes back as the
/// one diagnostic, at the scanner's position.
pub fn parse(text: &str) -> Result<Document, Diagnostic> {
    let mut builder = Builder {
        parser: Parser::new_from_str(text),
        text,
        chars: text.chars().collect(),
        anchors: HashMap::new(),
        problems: Vec::new(),
        alias_nodes: 0,
    };
    let root = builder.document()?;
    Ok(Document {
        root,
        problems: builder.problems,
    })
}

struct Builder<'t> {
    parser: Parser<Chars<'t>>,
    text: &'t str,
    chars: Vec<char>,
    anchors: HashMap<usize, Node>,
    problems: Vec<Diagnostic>,
    alias_nodes: usize,
}

impl Builder<'_> {
    fn next(&mut self) -> Result<(Event, Marker), Diagnostic> {
        let text = self.text;
        self.parser.next_token().map_err(|e| syntax_error(&e, text))
    }

    fn document(&mut self) -> Result<Node, Diagnostic> {
        let start = Span {
            line: 1,
            col: 1,
            len: 1,
        };
        let (ev, _) = self.next()?;
        if ev != Event::StreamStart {
            return Err(
                Diagnostic::error(Vec::new(), "invalid YAML: the stream does not start").at(start),
            );
        }
        let (ev, _) = self.next()?;
        match ev {
            Event::StreamEnd => {
                return Ok(Node {
                    kind: NodeKind::Null,
                    span: start,
                })
            }
            Event::DocumentStart => {}
            _ => {
                return Err(
                    Diagnostic::error(Vec::new(), "invalid YAML: expected a document").at(start),
                )
            }
        }
        let (ev, mark) = self.next()?;
        let mut path = Vec::new();
        let root = self.node(ev, mark, &mut path, 0)?;
        let (ev, _) = self.next()?;
        if ev != Event::DocumentEnd {
            return Err(
                Diagnostic::error(Vec::new(), "invalid YAML: the document does not end").at(start),
            );
        }
        let (ev, mark) = self.next()?;
        if ev == Event::DocumentStart {
            self.problems.push(
                Diagnostic::error(
                    Vec::new(),
                    "a plan file holds one YAML document; this is a second one",
                )
                .with_help(
                    "remove the `---` line and what follows, or move it to a plan file of its own",
                )
                .at(span_at(mark, 3)),
            );
        }
        Ok(root)
    }

    fn node(
        &mut self,
        ev: Event,
        mark: Marker,
        path: &mut DocPath,
        depth: usize,
    ) -> Result<Node, Diagnostic> {
        if depth > MAX_DEPTH {
            return Err(Diagnostic::error(
                path.clone(),
                format!("the plan nests deeper than {MAX_DEPTH} levels"),
            )
            .at(span_at(mark, 1)));
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let len = self.token_len(mark.index(), style, &text);
                let span = span_at(mark, len);
                let style = match style {
                    TScalarStyle::Plain => ScalarStyle::Plain,
                    TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => ScalarStyle::Quoted,
                    TScalarStyle::Literal | TScalarStyle::Folded => ScalarStyle::Block,
                };
                let style = self.scalar_tag(tag.as_ref(), style, path, span);
                let kind = if style == ScalarStyle::Plain && text.is_empty() {
                    NodeKind::Null
                } else {
                    NodeKind::Scalar { text, style }
                };
                Ok(self.anchored(anchor, Node { kind, span }))
            }
            Event::SequenceStart(anchor, tag) => {
                self.collection_tag(tag.as_ref(), path, span_at(mark, 1));
                let mut items = Vec::new();
                loop {
                    let (ev, item_mark) = self.next()?;
                    if ev == Event::SequenceEnd {
                        break;
                    }
                    path.push(PathSeg::Index(items.len()));
                    let item = self.node(ev, item_mark, path, depth + 1);
                    path.pop();
                    items.push(item?);
                }
                // Growth leaves up to half a list unused; a plan can have 100 000s of them.
                items.shrink_to_fit();
                Ok(self.anchored(
                    anchor,
                    Node {
                        kind: NodeKind::Seq(items),
                        span: span_at(mark, 1),
                    },
                ))
            }
            Event::MappingStart(anchor, tag) => {
                let flow = self.chars.get(mark.index()) == Some(&'{');
                self.collection_tag(tag.as_ref(), path, span_at(mark, 1));
                let (entries, first_key) = self.mapping(path, depth)?;
                let span = match first_key {
                    Some(key) if !flow => Span { len: 1, ..key },
                    _ => span_at(mark, 1),
                };
                Ok(self.anchored(
                    anchor,
                    Node {
                        kind: NodeKind::Map(entries),
                        span,
                    },
                ))
            }
            Event::Alias(id) => {
                let len = self.alias_len(mark.index());
                let span = span_at(mark, len);
                let Some(node) = self.anchors.get(&id) else {
                    return Err(
                        Diagnostic::error(path.clone(), "invalid YAML: unknown alias").at(span),
                    );
                };
                self.alias_nodes += count_nodes(node);
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(Diagnostic::error(
                        path.clone(),
                        "aliases expand the plan to too many values",
                    )
                    .with_help("write the repeated parts out, or use fewer nested aliases")
                    .at(span));
                }
                Ok(Node {
                    span,
                    ..node.clone()
                })
            }
            other => Err(Diagnostic::error(
                path.clone(),
                format!("invalid YAML: unexpected {other:?}"),
            )
            .at(span_at(mark, 1))),
        }
    }

    /// Reads a mapping's entries up to its end; returns them and the first key's span.
    #[allow(clippy::type_complexity)]
    fn mapping(
        &mut self,
        path: &mut DocPath,
        depth: usize,
    ) -> Result<(Vec<(String, Span, Node)>, Option<Span>), Diagnostic> {
        let mut entries: Vec<(String, Span, Node)> = Vec::new();
        let mut seen: HashMap<String, Span> = HashMap::new();
        let mut merged: Vec<(String, Span, Node)> = Vec::new();
        let mut first_key = None;
        loop {
            let (ev, key_mark) = self.next()?;
            let (key, key_span, key_plain) = match ev {
                Event::MappingEnd => break,
                Event::Scalar(text, style, _, _) => {
                    let span = span_at(key_mark, self.token_len(key_mark.index(), style, &text));
                    (text, span, style == TScalarStyle::Plain)
                }
                other => {
                    // A list or mapping as a key: read it (and its value) to move on, then say so.
                    let span = span_at(key_mark, 1);
                    path.push(PathSeg::Key("?".to_owned()));
                    let key_node = self.node(other, key_mark, path, depth + 1);
                    let value = self
                        .next()
                        .and_then(|(ev, m)| self.node(ev, m, path, depth + 1));
                    path.pop();
                    key_node?;
                    value?;
                    self.problems.push(
                        Diagnostic::error(
                            path.clone(),
                            "a mapping key must be text, not a list or a mapping",
                        )
                        .at(span),
                    );
                    continue;
                }
            };
            first_key.get_or_insert(key_span);
            path.push(PathSeg::Key(key.clone()));
            let value = self
                .next()
                .and_then(|(ev, m)| self.node(ev, m, path, depth + 1));
            path.pop();
            let value = value?;
            if key_plain && key == "<<" {
                self.merge(&mut merged, value, path, key_span);
                continue;
            }
            if let Some(first) = seen.get(&key) {
                let where_ = if path.is_empty() {
                    "at the top level".to_owned()
                } else {
                    format!("in `{}`", display_path(path))
                };
                let mut dup_path = path.clone();
                dup_path.push(PathSeg::Key(key.clone()));
                self.problems.push(
                    Diagnostic::error(dup_path, format!("duplicate key `{key}` {where_}"))
                        .with_help(format!(
                            "the first `{key}` is on line {}; keep one of them",
                            first.line
                        ))
                        .at(key_span),
                );
                continue;
            }
            seen.insert(key.clone(), key_span);
            entries.push((key, key_span, value));
        }
        // Merged keys (`<<: *base`) fill in what the mapping does not say itself.
        for (key, span, value) in merged {
            if !seen.contains_key(&key) {
                seen.insert(key.clone(), span);
                entries.push((key, span, value));
            }
        }
        // Most mappings have one or two entries, and growth leaves room for four.
        entries.shrink_to_fit();
        Ok((entries, first_key))
    }

    /// `<<: *base` or `<<: [*a, *b]`: the merged mappings' entries, earlier ones first.
    fn merge(
        &mut self,
        merged: &mut Vec<(String, Span, Node)>,
        value: Node,
        path: &DocPath,
        key_span: Span,
    ) {
        let sources = match value.kind {
            NodeKind::Map(entries) => vec![entries],
            NodeKind::Seq(items) if items.iter().all(|n| matches!(n.kind, NodeKind::Map(_))) => {
                items
                    .into_iter()
                    .filter_map(|n| match n.kind {
                        NodeKind::Map(entries) => Some(entries),
                        _ => None,
                    })
                    .collect()
            }
            _ => {
                self.problems.push(
                    Diagnostic::error(
                        path.clone(),
                        "a merge key `<<` takes a mapping or a list of mappings",
                    )
                    .with_help("write `<<: *anchor` where `&anchor` names a mapping")
                    .at(key_span),
                );
                return;
            }
        };
        for entries in sources {
            for entry in entries {
                if !merged.iter().any(|(k, _, _)| *k == entry.0) {
                    merged.push(entry);
                }
            }
        }
    }

    fn anchored(&mut self, anchor: usize, node: Node) -> Node {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        node
    }

    /// `!!str` makes a plain scalar a string; the other core tags change nothing; any other
    /// tag is reported, since the plan has no use for it.
    fn scalar_tag(
        &mut self,
        tag: Option<&Tag>,
        style: ScalarStyle,
        path: &DocPath,
        span: Span,
    ) -> ScalarStyle {
        let Some(tag) = tag else { return style };
        if tag.handle == "tag:yaml.org,2002:" {
            match tag.suffix.as_str() {
                "str" => return ScalarStyle::Quoted,
                "int" | "float" | "bool" | "null" => return style,
                _ => {}
            }
        }
        self.unsupported_tag(tag, path, span);
        style
    }

    fn collection_tag(&mut self, tag: Option<&Tag>, path: &DocPath, span: Span) {
        if let Some(tag) = tag {
            let core =
                tag.handle == "tag:yaml.org,2002:" && matches!(tag.suffix.as_str(), "map" | "seq");
            if !core {
                self.unsupported_tag(tag, path, span);
            }
        }
    }

    fn unsupported_tag(&mut self, tag: &Tag, path: &DocPath, span: Span) {
        let shown = if tag.handle == "tag:yaml.org,2002:" {
            format!("!!{}", tag.suffix)
        } else {
            format!("{}{}", tag.handle, tag.suffix)
        };
        self.problems.push(
            Diagnostic::error(
                path.clone(),
                format!("the YAML tag `{shown}` is not supported in a plan"),
            )
            .with_help("remove the tag; quote the value if it must be text")
            .at(span),
        );
    }

    /// The length of a scalar token on its first line, in characters.
    ///
    /// Only the token itself is read, never the rest of its line: a plan written on one line
    /// has every token on that line, and reading it to its end per token was quadratic.
    fn token_len(&self, index: usize, style: TScalarStyle, text: &str) -> usize {
        let rest = self.chars.get(index..).unwrap_or(&[]);
        let is_break = |c: &char| *c == '\n' || *c == '\r';
        // The first `limit` characters of the token's line (or fewer where the line ends),
        // without trailing blanks.
        let on_line = |limit: usize| {
            let line = &rest[..rest.iter().take(limit).take_while(|c| !is_break(c)).count()];
            line.iter()
                .rposition(|c| !c.is_whitespace())
                .map_or(0, |p| p + 1)
        };
        let len = match style {
            // A plain scalar's text is its source up to the first line break (where a
            // multi-line one is folded): its first line is at most that long.
            TScalarStyle::Plain => on_line(text.chars().take_while(|&c| c != '\n').count()),
            TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => {
                let quote = if style == TScalarStyle::SingleQuoted {
                    '\''
                } else {
                    '"'
                };
                let mut i = 1;
                let mut end = None;
                while i < rest.len() && !is_break(&rest[i]) {
                    match rest[i] {
                        '\\' if quote == '"' => i += 1,
                        '\'' if quote == '\'' && rest.get(i + 1) == Some(&'\'') => i += 1,
                        c if c == quote => {
                            end = Some(i + 1);
                            break;
                        }
                        _ => {}
                    }
                    i += 1;
                }
                // A quoted scalar that goes on past its line is underlined to the line's end.
                end.unwrap_or_else(|| on_line(i))
            }
            TScalarStyle::Literal | TScalarStyle::Folded => on_line(usize::MAX),
        };
        len.max(1)
    }

    fn alias_len(&self, index: usize) -> usize {
        let rest = self.chars.get(index..).unwrap_or(&[]);
        rest.iter()
            .position(|&c| c.is_whitespace() || matches!(c, ',' | ']' | '}'))
            .unwrap_or(rest.len())
            .max(1)
    }
}

fn span_at(mark: Marker, len: usize) -> Span {
    Span {
        line: mark.line().max(1),
        col: mark.col() + 1,
        len,
    }
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.kind {
        NodeKind::Map(entries) => entries.iter().map(|(_, _, v)| count_nodes(v)).sum(),
        NodeKind::Seq(items) => items.iter().map(count_nodes).sum(),
        _ => 0,
    }
}

fn syntax_error(e: &ScanError, text: &str) -> Diagnostic {
    let info = e.info();
    let help = if info.contains("tab") {
        Some("indent with spaces; YAML does not allow tabs for indentation")
    } else if info.contains("mapping values are not allowed") {
        Some("check the indentation, and quote a value that contains `: `")
    } else if info.contains("quoted scalar") {
        Some("close the quote on the same value, and indent a continued line")
    } else if info.contains("flow mapping") || info.contains("flow sequence") {
        Some(
            "close every `[` and `{`, and inside them quote a value that holds `{`, `}`, `[`, `]` \
             or `,`, such as `\"${VAR}\"`",
        )
    } else if info.contains("did not find expected") {
        Some("check the brackets, quotes and indentation above this point")
    } else {
        None
    };
    // At the end of the file, point after the last thing written rather than past the text.
    let mut span = span_at(*e.marker(), 1);
    let lines: Vec<&str> = text.lines().collect();
    if span.line > lines.len() {
        if let Some((n, last)) = lines
            .iter()
            .enumerate()
            .rev()
            .find(|(_, l)| !l.trim().is_empty())
        {
            span = Span {
                line: n + 1,
                col: last.trim_end().chars().count() + 1,
                len: 1,
            };
        }
    }
    Diagnostic::error(Vec::new(), format!("invalid YAML: {info}"))
        .with_help_opt(help.map(str::to_owned))
        .at(span)
}

/// Where each path of a document sits: the key's span (for mapping entries) and the value's.
///
/// A tree shaped like the document rather than a map from whole paths: a plan with 200 000
/// checks has a million paths, and keeping each one as its own list of keys cost more memory
/// than the rest of the plan together.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanIndex {
    root: Place,
}

impl Default for SpanIndex {
    fn default() -> Self {
        SpanIndex {
            root: Place {
                key: None,
                value: Span::default(),
                children: Children::None,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Place {
    key: Option<Span>,
    value: Span,
    children: Children,
}

#[derive(Debug, Clone, PartialEq)]
enum Children {
    None,
    /// Sorted by key, so a lookup in a mapping of thousands of entries is a binary search.
    Map(Vec<(String, Place)>),
    Seq(Vec<Place>),
}

impl SpanIndex {
    /// Indexes every node of the tree by its path.
    pub fn build(root: &Node) -> Self {
        SpanIndex {
            root: Place::of(root, None),
        }
    }

    /// The place at `path`, or the nearest ancestor's and how many segments of `path` it covers.
    fn deepest(&self, path: &[PathSeg]) -> (&Place, usize) {
        let mut place = &self.root;
        for (depth, seg) in path.iter().enumerate() {
            let child = match (seg, &place.children) {
                (PathSeg::Key(k), Children::Map(entries)) => entries
                    .binary_search_by(|(key, _)| key.as_str().cmp(k))
                    .ok()
                    .map(|i| &entries[i].1),
                (PathSeg::Index(i), Children::Seq(items)) => items.get(*i),
                _ => None,
            };
            match child {
                Some(child) => place = child,
                None => return (place, depth),
            }
        }
        (place, path.len())
    }

    fn get(&self, path: &[PathSeg]) -> Option<&Place> {
        match self.deepest(path) {
            (place, depth) if depth == path.len() => Some(place),
            _ => None,
        }
    }

    /// The value's span at `path`, else its key's, else the nearest ancestor's that exists.
    pub fn locate(&self, path: &[PathSeg]) -> Option<Span> {
        Some(self.deepest(path).0.value)
    }

    /// The span of the key at `path`, if `path` names a mapping entry.
    pub fn key_span(&self, path: &[PathSeg]) -> Option<Span> {
        self.get(path).and_then(|p| p.key)
    }

    /// The span of the value at `path`, if there is one.
    pub fn value_span(&self, path: &[PathSeg]) -> Option<Span> {
        self.get(path).map(|p| p.value)
    }

    /// Whether the document has something at `path`.
    pub fn contains(&self, path: &[PathSeg]) -> bool {
        self.get(path).is_some()
    }
}

impl Place {
    fn of(node: &Node, key: Option<Span>) -> Place {
        let children = match &node.kind {
            NodeKind::Map(entries) => {
                let mut children: Vec<(String, Place)> = entries
                    .iter()
                    .map(|(k, key_span, value)| (k.clone(), Place::of(value, Some(*key_span))))
                    .collect();
                children.sort_by(|a, b| a.0.cmp(&b.0));
                Children::Map(children)
            }
            NodeKind::Seq(items) => {
                Children::Seq(items.iter().map(|i| Place::of(i, None)).collect())
            }
            NodeKind::Scalar { .. } | NodeKind::Null => Children::None,
        };
        Place {
            key,
            value: node.value_span(key),
            children,
        }
    }
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

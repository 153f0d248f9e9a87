//! Parsing: YAML events into the spanned node tree, with anchors, aliases, merge keys and
//! tags handled, and syntax errors turned into diagnostics at the scanner's position.

use std::collections::HashMap;
use std::str::Chars;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use super::{Node, NodeKind, ScalarStyle};
use crate::plan::diagnostic::{display_path, Diagnostic, DocPath, PathSeg, Span};

/// How deeply mappings and lists may nest; a plan needs far less.
const MAX_DEPTH: usize = 64;

/// How many nodes aliases may copy in all, so `*alias` cannot blow a small file up.
const MAX_ALIAS_NODES: usize = 100_000;

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

//! The span index: where each path of a document sits in the file, a tree shaped like the
//! document, so a problem found by path can point at `file:line:col`.

use super::{Node, NodeKind};
use crate::plan::diagnostic::{PathSeg, Span};

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

//! Checks the spanned plan tree against the JSON Schema of the plan model, reporting every
//! unknown key, missing key, wrong type, bad enum value and out-of-range number at once.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::diagnostic::{did_you_mean, display_path, Diagnostic, DocPath, PathSeg, Span};
use super::model;
use super::spans::{Node, NodeKind, Scalar};

mod schema;
mod words;

use schema::{
    description_of, format_bounds, is_null_type, node_equals, node_has_type, types_of,
    types_of_value,
};
use words::{
    backticked, found, join_or, one_of, plural, scalar_text, sentence, shorten, show_json,
    show_number, type_hint, type_name,
};

/// How many `$ref`s may be followed in a row before the schema is taken to loop.
const MAX_REF_HOPS: usize = 32;

/// The plan's JSON Schema, generated once.
pub fn plan_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(model::json_schema)
}

/// Checks a plan document against the plan schema.
pub fn check_plan(root: &Node) -> Vec<Diagnostic> {
    check(root, plan_schema())
}

/// Checks `root` against `schema` (a JSON Schema as schemars writes it: `$defs`/`$ref`, `type`,
/// `enum`, `const`, `oneOf`/`anyOf`, `properties`, `required`, `additionalProperties`, `items`,
/// `minimum`/`maximum`, integer `format`s). Returns every problem, in no particular order.
pub fn check(root: &Node, schema: &Value) -> Vec<Diagnostic> {
    let mut checker = Checker {
        root: schema,
        out: Vec::new(),
    };
    let ctx = Ctx {
        path: Vec::new(),
        key_span: None,
        description: description_of(schema),
        expected: None,
    };
    checker.node(root, schema, &ctx);
    checker.out
}

struct Checker<'s> {
    root: &'s Value,
    out: Vec<Diagnostic>,
}

/// Where the checker stands: the path, the key span of the value (if it sits under a key), and
/// the description of the field it should be, for hints.
struct Ctx<'s> {
    path: DocPath,
    key_span: Option<Span>,
    description: Option<&'s str>,
    /// Inside an `anyOf`/`oneOf`: everything the value could have been, e.g. "`all` or a list
    /// of strings", so a bad `all` does not read as if `all` were the only choice.
    expected: Option<String>,
}

impl Ctx<'_> {
    /// The field's name for messages: the nearest key in the path.
    fn field(&self) -> Option<&str> {
        self.path.iter().rev().find_map(|seg| match seg {
            PathSeg::Key(k) => Some(k.as_str()),
            PathSeg::Index(_) => None,
        })
    }

    /// "`if_exists`: what to do when a target table already exists"
    fn description_help(&self) -> Option<String> {
        let description = self.description.map(sentence)?;
        Some(match self.path.last() {
            Some(PathSeg::Key(k)) => format!("`{k}`: {description}"),
            _ => description,
        })
    }
}

/// The values of an enumeration (`enum`, or a `oneOf`/`anyOf` of `const`s), and whether null
/// is allowed besides.
struct Enumeration<'s> {
    values: Vec<&'s Value>,
    nullable: bool,
}

impl<'s> Checker<'s> {
    fn deref(&self, mut schema: &'s Value) -> &'s Value {
        for _ in 0..MAX_REF_HOPS {
            let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
                return schema;
            };
            match reference
                .strip_prefix('#')
                .and_then(|pointer| self.root.pointer(pointer))
            {
                Some(target) => schema = target,
                None => return &Value::Bool(true),
            }
        }
        &Value::Bool(true)
    }

    fn node(&mut self, node: &Node, schema: &'s Value, ctx: &Ctx<'s>) {
        let schema = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => {
                let what = ctx
                    .field()
                    .map_or("this value".to_owned(), |f| format!("`{f}`"));
                self.error(node, ctx, format!("{what} is not allowed here"), None);
                return;
            }
            Value::Object(_) => self.deref(schema),
            _ => return,
        };
        let Value::Object(obj) = schema else { return };
        let ctx = &Ctx {
            path: ctx.path.clone(),
            key_span: ctx.key_span,
            description: ctx
                .description
                .or_else(|| obj.get("description").and_then(Value::as_str)),
            expected: ctx.expected.clone(),
        };
        if let Some(enumeration) = self.enumeration(schema) {
            self.enumerated(node, &enumeration, ctx);
            return;
        }
        if let Some(branches) = obj
            .get("anyOf")
            .or_else(|| obj.get("oneOf"))
            .and_then(Value::as_array)
        {
            self.union(node, branches, ctx);
            return;
        }
        if let Some(types) = types_of(obj) {
            if !types.iter().any(|t| node_has_type(node, t)) {
                self.type_error(node, schema, ctx);
                return;
            }
        }
        if let Some(constant) = obj.get("const") {
            if !node_equals(node, constant) {
                let message = format!(
                    "expected {}, found {}",
                    show_json(constant),
                    found(node, true)
                );
                self.error(node, ctx, message, ctx.description_help());
                return;
            }
        }
        match &node.kind {
            NodeKind::Map(entries) => self.mapping(node, entries, obj, ctx),
            NodeKind::Seq(items) => self.list(node, items, obj, ctx),
            NodeKind::Scalar { .. } | NodeKind::Null => self.range(node, obj, ctx),
        }
    }

    fn mapping(
        &mut self,
        node: &Node,
        entries: &[(String, Span, Node)],
        obj: &'s Map<String, Value>,
        ctx: &Ctx<'s>,
    ) {
        let properties = obj.get("properties").and_then(Value::as_object);
        let additional = obj.get("additionalProperties");
        for (key, key_span, value) in entries {
            let mut path = ctx.path.clone();
            path.push(PathSeg::Key(key.clone()));
            let property = properties.and_then(|p| p.get(key));
            let schema = match (property, additional) {
                (Some(schema), _) => schema,
                (None, Some(Value::Bool(false))) => {
                    self.unknown_key(key, *key_span, path, properties, ctx);
                    continue;
                }
                (None, Some(schema)) => schema,
                (None, None) => continue,
            };
            let child = Ctx {
                path,
                key_span: Some(*key_span),
                description: description_of(schema),
                expected: None,
            };
            self.node(value, schema, &child);
        }
        let required = obj
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str);
        for name in required {
            if entries.iter().any(|(k, _, _)| k == name) {
                continue;
            }
            let message = if ctx.path.is_empty() {
                format!("missing required key `{name}`")
            } else {
                format!(
                    "missing required key `{name}` in `{}`",
                    display_path(&ctx.path)
                )
            };
            let help = properties
                .and_then(|p| p.get(name))
                .and_then(description_of)
                .map(|d| format!("add `{name}:` — {}", sentence(d)));
            let span = ctx.key_span.unwrap_or(node.span);
            self.out.push(
                Diagnostic::error(ctx.path.clone(), message)
                    .with_help_opt(help)
                    .at(span),
            );
        }
    }

    fn unknown_key(
        &mut self,
        key: &str,
        key_span: Span,
        path: DocPath,
        properties: Option<&'s Map<String, Value>>,
        ctx: &Ctx<'s>,
    ) {
        let names: Vec<&str> = properties
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let message = if ctx.path.is_empty() {
            format!("unknown key `{key}`")
        } else {
            format!("unknown key `{key}` in `{}`", display_path(&ctx.path))
        };
        // `{ to: numeric(5,2) }`: the comma ends the value inside a flow mapping.
        let split_value = (key.ends_with(')')
            || key.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .then(|| {
            "a `,` inside `{ }` ends the value: quote values such as `\"numeric(5,2)\"`".to_owned()
        });
        let help = split_value
            .or_else(|| did_you_mean(key, names.iter().copied()))
            .or_else(|| {
                self.belongs_under(key, properties)
                    .map(|parent| format!("`{key}` belongs under `{parent}`"))
            })
            .or_else(|| match names.as_slice() {
                [] => Some(format!("`{}` takes no keys", display_path(&ctx.path))),
                _ => Some(format!("valid keys here: {}", backticked(&names))),
            });
        let mut d = Diagnostic::error(path, message)
            .with_help_opt(help)
            .at(key_span);
        d.unknown_key = true;
        self.out.push(d);
    }

    /// The sibling property whose own mapping has a key `key`: `workers` belongs under `settings`.
    fn belongs_under(
        &self,
        key: &str,
        properties: Option<&'s Map<String, Value>>,
    ) -> Option<&'s str> {
        properties?.iter().find_map(|(name, schema)| {
            let target = self.deref(schema);
            let nested = target.get("properties").and_then(Value::as_object)?;
            nested.contains_key(key).then_some(name.as_str())
        })
    }

    fn list(&mut self, node: &Node, items: &[Node], obj: &'s Map<String, Value>, ctx: &Ctx<'s>) {
        let count = items.len() as u64;
        let what = ctx
            .field()
            .map_or("the list".to_owned(), |f| format!("`{f}`"));
        if let Some(min) = obj
            .get("minItems")
            .and_then(Value::as_u64)
            .filter(|&min| count < min)
        {
            self.error(
                node,
                ctx,
                format!("{what} needs at least {min} item(s), found {count}"),
                ctx.description_help(),
            );
        }
        if let Some(max) = obj
            .get("maxItems")
            .and_then(Value::as_u64)
            .filter(|&max| count > max)
        {
            self.error(
                node,
                ctx,
                format!("{what} takes at most {max} item(s), found {count}"),
                ctx.description_help(),
            );
        }
        let Some(item_schema) = obj.get("items") else {
            return;
        };
        for (i, item) in items.iter().enumerate() {
            let mut path = ctx.path.clone();
            path.push(PathSeg::Index(i));
            let description = description_of(item_schema).or(ctx.description);
            self.node(
                item,
                item_schema,
                &Ctx {
                    path,
                    key_span: None,
                    description,
                    expected: None,
                },
            );
        }
    }

    /// `minimum`/`maximum` (and the exclusive ones) and the bounds an integer `format` implies.
    fn range(&mut self, node: &Node, obj: &Map<String, Value>, ctx: &Ctx<'s>) {
        let value = match node.scalar() {
            Some(Scalar::Int(i)) => i as f64,
            Some(Scalar::Float(f)) if !f.is_nan() => f,
            _ => return,
        };
        let (format_min, format_max) = format_bounds(obj.get("format").and_then(Value::as_str));
        let min = obj
            .get("minimum")
            .and_then(Value::as_f64)
            .into_iter()
            .chain(format_min)
            .reduce(f64::max);
        let max = obj
            .get("maximum")
            .and_then(Value::as_f64)
            .into_iter()
            .chain(format_max)
            .reduce(f64::min);
        let exclusive_min = obj.get("exclusiveMinimum").and_then(Value::as_f64);
        let exclusive_max = obj.get("exclusiveMaximum").and_then(Value::as_f64);
        let out_of_range = min.is_some_and(|m| value < m)
            || max.is_some_and(|m| value > m)
            || exclusive_min.is_some_and(|m| value <= m)
            || exclusive_max.is_some_and(|m| value >= m);
        if !out_of_range {
            return;
        }
        let text = scalar_text(node);
        let message = match ctx.field() {
            Some(field) => format!("`{text}` is out of range for `{field}`"),
            None => format!("`{text}` is out of range"),
        };
        let bounds = match (min.or(exclusive_min), max.or(exclusive_max)) {
            (Some(lo), Some(hi)) => format!("between {} and {}", show_number(lo), show_number(hi)),
            (Some(lo), None) => format!("at least {}", show_number(lo)),
            (None, Some(hi)) => format!("at most {}", show_number(hi)),
            (None, None) => return,
        };
        let help = match ctx.field() {
            Some(field) => format!("`{field}` must be {bounds}"),
            None => format!("it must be {bounds}"),
        };
        self.error(node, ctx, message, Some(help));
    }

    /// An `enum`, or a `oneOf`/`anyOf` whose branches are all `const`s, enums or null.
    fn enumeration(&self, schema: &'s Value) -> Option<Enumeration<'s>> {
        let schema = self.deref(schema);
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            let nullable = values.iter().any(Value::is_null)
                || types_of_value(schema).is_some_and(|t| t.contains(&"null"));
            return Some(Enumeration {
                values: values.iter().filter(|v| !v.is_null()).collect(),
                nullable,
            });
        }
        if let Some(constant) = schema.get("const") {
            return Some(Enumeration {
                values: vec![constant],
                nullable: false,
            });
        }
        let branches = schema
            .get("oneOf")
            .or_else(|| schema.get("anyOf"))
            .and_then(Value::as_array)?;
        let mut all = Enumeration {
            values: Vec::new(),
            nullable: false,
        };
        for branch in branches {
            let branch = self.deref(branch);
            if is_null_type(branch) {
                all.nullable = true;
                continue;
            }
            let inner = self.enumeration(branch)?;
            all.values.extend(inner.values);
            all.nullable |= inner.nullable;
        }
        (!all.values.is_empty()).then_some(all)
    }

    fn enumerated(&mut self, node: &Node, enumeration: &Enumeration<'s>, ctx: &Ctx<'s>) {
        if enumeration.nullable && matches!(node.scalar(), Some(Scalar::Null)) {
            return;
        }
        if enumeration.values.iter().any(|v| node_equals(node, v)) {
            return;
        }
        let names: Vec<String> = enumeration.values.iter().map(|v| show_json(v)).collect();
        let expected = ctx.expected.clone().unwrap_or_else(|| one_of(&names));
        match node.as_str() {
            Some(text) if enumeration.values.iter().all(|v| v.is_string()) => {
                let message = match ctx.field() {
                    Some(field) => {
                        format!("`{}` is not a valid value for `{field}`", shorten(text))
                    }
                    None => format!("`{}` is not a valid value here", shorten(text)),
                };
                let strings = enumeration.values.iter().filter_map(|v| v.as_str());
                let help =
                    did_you_mean(text, strings).unwrap_or_else(|| format!("expected {expected}"));
                self.error(node, ctx, message, Some(help));
            }
            _ => {
                let message = format!("expected {expected}, found {}", found(node, true));
                self.error(node, ctx, message, ctx.description_help());
            }
        }
    }

    /// `anyOf`/`oneOf`: check against the branch whose type fits the node (the one with the
    /// fewest problems, if several fit); if none fits, say what would have.
    fn union(&mut self, node: &Node, branches: &'s [Value], ctx: &Ctx<'s>) {
        let fitting: Vec<&'s Value> = branches.iter().filter(|b| self.fits(node, b)).collect();
        if fitting.is_empty() {
            let expected = self.describe_union(branches);
            let message = format!("expected {expected}, found {}", found(node, false));
            self.error(node, ctx, message, ctx.description_help());
            return;
        }
        let ctx = &Ctx {
            path: ctx.path.clone(),
            key_span: ctx.key_span,
            description: ctx.description,
            expected: Some(
                ctx.expected
                    .clone()
                    .unwrap_or_else(|| self.describe_union(branches)),
            ),
        };
        let mut best: Option<Vec<Diagnostic>> = None;
        for branch in fitting {
            let mut trial = Checker {
                root: self.root,
                out: Vec::new(),
            };
            trial.node(node, branch, ctx);
            if best.as_ref().is_none_or(|b| trial.out.len() < b.len()) {
                best = Some(trial.out);
            }
        }
        self.out.extend(best.unwrap_or_default());
    }

    /// Whether the node is of a kind the schema could accept, ignoring everything inside.
    fn fits(&self, node: &Node, schema: &'s Value) -> bool {
        let schema = self.deref(schema);
        if let Some(enumeration) = self.enumeration(schema) {
            let null = matches!(node.scalar(), Some(Scalar::Null));
            return (enumeration.nullable && null)
                || enumeration.values.iter().any(|v| match v {
                    Value::String(_) => node.as_str().is_some(),
                    other => node_equals(node, other),
                });
        }
        if let Some(branches) = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Value::as_array)
        {
            return branches.iter().any(|b| self.fits(node, b));
        }
        match types_of_value(schema) {
            Some(types) => types.iter().any(|t| node_has_type(node, t)),
            None => !matches!(schema, Value::Bool(false)),
        }
    }

    fn type_error(&mut self, node: &Node, schema: &'s Value, ctx: &Ctx<'s>) {
        let types = types_of_value(schema).unwrap_or_default();
        let expected = self.describe(schema);
        let scalar_expected = !types.iter().any(|t| *t == "object" || *t == "array");
        let message = format!(
            "expected {expected}, found {}",
            found(node, scalar_expected)
        );
        let help = type_hint(node, &types).or_else(|| ctx.description_help());
        self.error(node, ctx, message, help);
    }

    /// What a schema wants, as a reader would say it: "a list of strings", "`all`", "a mapping".
    fn describe(&self, schema: &'s Value) -> String {
        let schema = self.deref(schema);
        if let Some(enumeration) = self.enumeration(schema) {
            let names: Vec<String> = enumeration.values.iter().map(|v| show_json(v)).collect();
            return one_of(&names);
        }
        if let Some(branches) = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Value::as_array)
        {
            return self.describe_union(branches);
        }
        let Some(types) = types_of_value(schema) else {
            return "a value".to_owned();
        };
        let shown: Vec<String> = types
            .iter()
            .filter(|t| **t != "null" || types.len() == 1)
            .map(|t| match *t {
                "array" => match schema.get("items").map(|i| self.deref(i)) {
                    Some(items)
                        if types_of_value(items).is_some() || items.get("anyOf").is_some() =>
                    {
                        format!("a list of {}", plural(&self.describe(items)))
                    }
                    _ => "a list".to_owned(),
                },
                other => type_name(other).to_owned(),
            })
            .collect();
        join_or(&shown)
    }

    fn describe_union(&self, branches: &'s [Value]) -> String {
        let mut shown: Vec<String> = Vec::new();
        for branch in branches {
            if is_null_type(self.deref(branch)) {
                continue;
            }
            let text = self.describe(branch);
            if !shown.contains(&text) {
                shown.push(text);
            }
        }
        join_or(&shown)
    }

    fn error(&mut self, node: &Node, ctx: &Ctx<'s>, message: String, help: Option<String>) {
        let span = node.value_span(ctx.key_span);
        self.out.push(
            Diagnostic::error(ctx.path.clone(), message)
                .with_help_opt(help)
                .at(span),
        );
    }
}

#[cfg(test)]
mod tests;

//! Reading the plan's JSON Schema: a schema's description, types and integer bounds, and
//! whether a node is of a JSON type or equals a schema's value.

use serde_json::{Map, Value};

use crate::plan::spans::{Node, NodeKind, Scalar};

pub(super) fn description_of(schema: &Value) -> Option<&str> {
    schema.get("description").and_then(Value::as_str)
}

pub(super) fn types_of(obj: &Map<String, Value>) -> Option<Vec<&str>> {
    match obj.get("type")? {
        Value::String(t) => Some(vec![t.as_str()]),
        Value::Array(ts) => Some(ts.iter().filter_map(Value::as_str).collect()),
        _ => None,
    }
}

pub(super) fn types_of_value(schema: &Value) -> Option<Vec<&str>> {
    schema.as_object().and_then(types_of)
}

pub(super) fn is_null_type(schema: &Value) -> bool {
    types_of_value(schema).is_some_and(|t| t == ["null"])
}

pub(super) fn node_has_type(node: &Node, json_type: &str) -> bool {
    match (&node.kind, json_type) {
        (NodeKind::Map(_), "object") | (NodeKind::Seq(_), "array") => true,
        (NodeKind::Map(_) | NodeKind::Seq(_), _) => false,
        _ => matches!(
            (node.scalar(), json_type),
            (Some(Scalar::Null), "null")
                | (Some(Scalar::Bool(_)), "boolean")
                | (Some(Scalar::Int(_)), "integer" | "number")
                | (Some(Scalar::Float(_)), "number")
                | (Some(Scalar::Str(_)), "string")
        ),
    }
}

pub(super) fn node_equals(node: &Node, value: &Value) -> bool {
    match (node.scalar(), value) {
        (Some(Scalar::Str(s)), Value::String(v)) => s == v,
        (Some(Scalar::Bool(b)), Value::Bool(v)) => b == *v,
        (Some(Scalar::Null), Value::Null) => true,
        (Some(Scalar::Int(i)), Value::Number(n)) => {
            n.as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from))
                == Some(i)
        }
        (Some(Scalar::Float(f)), Value::Number(n)) => n.as_f64() == Some(f),
        _ => false,
    }
}

/// The bounds of the integer formats schemars writes.
pub(super) fn format_bounds(format: Option<&str>) -> (Option<f64>, Option<f64>) {
    match format {
        Some("uint8") => (Some(0.0), Some(f64::from(u8::MAX))),
        Some("uint16") => (Some(0.0), Some(f64::from(u16::MAX))),
        Some("uint32") => (Some(0.0), Some(f64::from(u32::MAX))),
        Some("uint64" | "uint") => (Some(0.0), Some(u64::MAX as f64)),
        Some("int8") => (Some(f64::from(i8::MIN)), Some(f64::from(i8::MAX))),
        Some("int16") => (Some(f64::from(i16::MIN)), Some(f64::from(i16::MAX))),
        Some("int32") => (Some(f64::from(i32::MIN)), Some(f64::from(i32::MAX))),
        Some("int64" | "int") => (Some(i64::MIN as f64), Some(i64::MAX as f64)),
        _ => (None, None),
    }
}

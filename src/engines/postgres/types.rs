//! PostgreSQL type names a plan may ask for: parsed, normalised, and checked, so a typo in
//! `to: timestampz` is a validation error with a suggestion instead of a failed run.

use serde::Serialize;

/// A parsed PostgreSQL type: base name (normalised), modifiers, array dimensions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetType {
    /// Canonical name, e.g. `timestamptz`, `double precision`, `numeric`.
    pub base: String,
    /// Type modifiers, e.g. `[12, 2]` for `numeric(12,2)`.
    pub modifiers: Vec<u32>,
    /// `true` for `text[]`.
    pub array: bool,
    /// The labels of an enum type of the app's schema (`base` is then the enum's name); a
    /// value outside them is a bad row.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// For an array of an enum of the app's schema: the OID of the enum in the target the
    /// rows go to, which binary COPY names (looked up there before copying).
    #[serde(skip)]
    pub element_oid: Option<u32>,
}

impl TargetType {
    pub fn simple(base: &str) -> Self {
        TargetType {
            base: base.to_owned(),
            modifiers: Vec::new(),
            array: false,
            labels: Vec::new(),
            element_oid: None,
        }
    }

    pub fn with_modifiers(base: &str, modifiers: Vec<u32>) -> Self {
        TargetType {
            base: base.to_owned(),
            modifiers,
            array: false,
            labels: Vec::new(),
            element_oid: None,
        }
    }

    /// The SQL spelling used in DDL: `numeric(12,2)`, `text[]`.
    pub fn sql(&self) -> String {
        let mut s = self.base.clone();
        if !self.modifiers.is_empty() {
            let mods: Vec<String> = self.modifiers.iter().map(u32::to_string).collect();
            s.push('(');
            s.push_str(&mods.join(","));
            s.push(')');
        }
        if self.array {
            s.push_str("[]");
        }
        s
    }

    /// What kind of value the copy engine must produce for this type.
    pub fn family(&self) -> TypeFamily {
        if self.array {
            return TypeFamily::Other;
        }
        if !self.labels.is_empty() {
            return TypeFamily::Enum;
        }
        match self.base.as_str() {
            "smallint" | "integer" | "bigint" => TypeFamily::Integer,
            "real" | "double precision" => TypeFamily::Float,
            "numeric" => TypeFamily::Numeric,
            "boolean" => TypeFamily::Boolean,
            "text" | "varchar" | "char" | "citext" | "name" => TypeFamily::Text,
            "bytea" => TypeFamily::Bytes,
            "date" => TypeFamily::Date,
            "time" | "timetz" => TypeFamily::Time,
            "timestamp" => TypeFamily::Timestamp,
            "timestamptz" => TypeFamily::TimestampTz,
            "interval" => TypeFamily::Interval,
            "uuid" => TypeFamily::Uuid,
            "json" | "jsonb" => TypeFamily::Json,
            _ => TypeFamily::Other,
        }
    }
}

/// Groups of target types that convert alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeFamily {
    Integer,
    Float,
    Numeric,
    Boolean,
    Text,
    Bytes,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
    Json,
    /// An enum type of the app's schema: its labels, as text.
    Enum,
    Other,
}

/// Canonical names and the spellings that mean them.
const KNOWN_TYPES: &[(&str, &[&str])] = &[
    ("smallint", &["int2", "smallint"]),
    ("integer", &["int", "int4", "integer"]),
    ("bigint", &["int8", "bigint"]),
    ("real", &["float4", "real"]),
    (
        "double precision",
        &["float8", "double precision", "double", "float"],
    ),
    ("numeric", &["numeric", "decimal"]),
    ("boolean", &["bool", "boolean"]),
    ("text", &["text"]),
    ("varchar", &["varchar", "character varying"]),
    ("char", &["char", "character", "bpchar"]),
    ("citext", &["citext"]),
    ("name", &["name"]),
    ("bytea", &["bytea"]),
    ("date", &["date"]),
    ("time", &["time", "time without time zone"]),
    ("timetz", &["timetz", "time with time zone"]),
    ("timestamp", &["timestamp", "timestamp without time zone"]),
    ("timestamptz", &["timestamptz", "timestamp with time zone"]),
    ("interval", &["interval"]),
    ("uuid", &["uuid"]),
    ("json", &["json"]),
    ("jsonb", &["jsonb"]),
    ("inet", &["inet"]),
    ("cidr", &["cidr"]),
    ("macaddr", &["macaddr"]),
    ("money", &["money"]),
    ("xml", &["xml"]),
    ("tsvector", &["tsvector"]),
    ("point", &["point"]),
    ("geometry", &["geometry"]),
    ("int4range", &["int4range"]),
    ("int8range", &["int8range"]),
    ("numrange", &["numrange"]),
    ("tstzrange", &["tstzrange"]),
    ("daterange", &["daterange"]),
];

/// Why a target type was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetTypeError {
    #[error("unknown target type `{name}`")]
    Unknown {
        name: String,
        suggestion: Option<String>,
    },
    #[error("malformed target type `{0}`; write it like `numeric(12,2)` or `text[]`")]
    Malformed(String),
    #[error("type `{base}` takes {expected} modifier(s), `{text}` gives {given}")]
    Modifiers {
        text: String,
        base: String,
        expected: &'static str,
        given: usize,
    },
}

/// Parses a type as a plan writes it: case-insensitive, with modifiers and `[]`.
pub fn parse_target_type(text: &str) -> Result<TargetType, TargetTypeError> {
    let trimmed = text.trim();
    let (body, array) = match trimmed.strip_suffix("[]") {
        Some(b) => (b.trim_end(), true),
        None => (trimmed, false),
    };
    let (name, modifiers) = match body.find('(') {
        Some(open) => {
            let close = body
                .rfind(')')
                .filter(|c| *c == body.len() - 1)
                .ok_or_else(|| TargetTypeError::Malformed(text.to_owned()))?;
            let inner = &body[open + 1..close];
            let mods = inner
                .split(',')
                .map(|m| m.trim().parse::<u32>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| TargetTypeError::Malformed(text.to_owned()))?;
            (body[..open].trim(), mods)
        }
        None => (body, Vec::new()),
    };
    let normalised = name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    if normalised.is_empty() {
        return Err(TargetTypeError::Malformed(text.to_owned()));
    }
    let base = KNOWN_TYPES
        .iter()
        .find(|(_, spellings)| spellings.contains(&normalised.as_str()))
        .map(|(canonical, _)| *canonical)
        .ok_or_else(|| TargetTypeError::Unknown {
            name: name.to_owned(),
            suggestion: crate::plan::diagnostic::closest(
                &normalised,
                KNOWN_TYPES.iter().flat_map(|(_, s)| s.iter().copied()),
            )
            .map(str::to_owned),
        })?;
    let allowed: (usize, usize, &'static str) = match base {
        "numeric" => (0, 2, "0 to 2"),
        "varchar" | "char" | "time" | "timetz" | "timestamp" | "timestamptz" | "interval" => {
            (0, 1, "0 or 1")
        }
        _ => (0, 0, "no"),
    };
    if modifiers.len() < allowed.0 || modifiers.len() > allowed.1 {
        return Err(TargetTypeError::Modifiers {
            text: text.to_owned(),
            base: base.to_owned(),
            expected: allowed.2,
            given: modifiers.len(),
        });
    }
    Ok(TargetType {
        base: base.to_owned(),
        modifiers,
        array,
        labels: Vec::new(),
        element_oid: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_normalise_to_one_canonical_name() {
        let sql = |t: &str| parse_target_type(t).map(|t| t.sql()).ok();
        assert_eq!(
            sql("TIMESTAMP WITH TIME ZONE").as_deref(),
            Some("timestamptz")
        );
        assert_eq!(sql("Decimal(12, 2)").as_deref(), Some("numeric(12,2)"));
        assert_eq!(sql("int8").as_deref(), Some("bigint"));
        assert_eq!(sql("varchar(255)").as_deref(), Some("varchar(255)"));
        assert_eq!(sql("text[]").as_deref(), Some("text[]"));
        assert_eq!(sql("float").as_deref(), Some("double precision"));
    }

    #[test]
    fn unknown_types_suggest_the_closest_known_one() {
        match parse_target_type("timestampz") {
            Err(TargetTypeError::Unknown { suggestion, .. }) => {
                assert_eq!(suggestion.as_deref(), Some("timestamptz"))
            }
            other => panic!("expected unknown type, got {other:?}"),
        }
    }

    #[test]
    fn wrong_modifier_counts_are_refused() {
        assert!(matches!(
            parse_target_type("uuid(4)"),
            Err(TargetTypeError::Modifiers { .. })
        ));
        assert!(matches!(
            parse_target_type("numeric(a,b)"),
            Err(TargetTypeError::Malformed(_))
        ));
    }
}

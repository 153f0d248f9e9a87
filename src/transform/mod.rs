//! Value transforms: built-ins that run in Rust on the row in flight, and minijinja
//! expressions over `value` and `row` that can use the same conversions as filters.

pub mod apply;
pub mod builtins;
pub mod expression;

pub use crate::convert::calendar;

use serde::Serialize;

pub use builtins::{Builtin, BUILTINS};
pub use expression::{check_expression, TransformEnvironment};

/// A transform as the plan states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "text")]
pub enum Transform {
    /// A built-in, by name, e.g. `hex_to_uuid`.
    Builtin(Builtin),
    /// A minijinja expression such as `{{ value | trim | lower }}`.
    Expression(String),
}

impl Transform {
    /// A name that is a built-in is one; anything containing `{{` is an expression.
    pub fn parse(text: &str) -> Result<Transform, String> {
        let trimmed = text.trim();
        if trimmed.contains("{{") || trimmed.contains("{%") {
            return Ok(Transform::Expression(trimmed.to_owned()));
        }
        Builtin::from_name(trimmed)
            .map(Transform::Builtin)
            .ok_or_else(|| {
                // Jaro-Winkler is quadratic in the length: a name far longer than any
                // built-in's is no typo of one.
                let help = (trimmed.len() <= 64)
                    .then(|| {
                        crate::plan::diagnostic::did_you_mean(
                            trimmed,
                            BUILTINS.iter().map(|b| b.name()),
                        )
                    })
                    .flatten()
                    .unwrap_or_else(|| {
                        format!(
                            "built-ins: {}; or an expression like `{{{{ value | trim }}}}`",
                            builtins::names().join(", ")
                        )
                    });
                help
            })
    }

    pub fn text(&self) -> String {
        match self {
            Transform::Builtin(b) => b.name().to_owned(),
            Transform::Expression(e) => e.clone(),
        }
    }
}

//! The built-in SQLite → PostgreSQL type defaults, decided from the declared type, the
//! table's constraints and, when the declaration says nothing, the values' profile.

use crate::catalog::{Column, ColumnProfile, Table};
use crate::engines::mapping::{has_json_valid_check, TypeDecision};
use crate::engines::postgres::TargetType;
use crate::transform::Builtin;

/// The declared type split into upper-cased name and numeric modifiers: `VARCHAR(255)` → (`VARCHAR`, [255]).
pub fn split_declared(declared: &str) -> (String, Vec<u32>) {
    let upper = declared.trim().to_uppercase();
    match upper.find('(') {
        Some(open) => {
            let name = upper[..open]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let inner = upper[open + 1..].trim_end_matches(')');
            let mods = inner
                .split(',')
                .filter_map(|m| m.trim().parse::<u32>().ok())
                .collect();
            (name, mods)
        }
        None => (
            upper.split_whitespace().collect::<Vec<_>>().join(" "),
            Vec::new(),
        ),
    }
}

/// Columns whose default mapping depends on their values, so every command profiles them:
/// no declared type, or an `UNSIGNED` integer type (values above 2^63 decide `numeric(20,0)`).
pub fn decided_by_values(column: &Column) -> bool {
    let (name, _) = split_declared(&column.declared_type);
    name.is_empty() || (name.contains("INT") && name.contains("UNSIGNED"))
}

/// The built-in mapping of one column.
pub fn default_mapping(table: &Table, column: &Column) -> TypeDecision {
    let (name, mods) = split_declared(&column.declared_type);
    let decided = |base: &str, why: &str| TypeDecision {
        target: TargetType::simple(base),
        rule: format!("default: {why}"),
        transform: None,
        warnings: Vec::new(),
    };
    let mut decision = match name.as_str() {
        "" => return from_profile(column),
        "BOOLEAN" | "BOOL" => decided("boolean", &format!("{name} → boolean")),
        "REAL" | "DOUBLE" | "DOUBLE PRECISION" | "FLOAT" | "FLOAT8" | "FLOAT4" => decided(
            "double precision",
            &format!("{name} → double precision (8 bytes, never 4-byte real)"),
        ),
        "NUMERIC" | "DECIMAL" => match mods.as_slice() {
            [p, s] if *p >= 1 && *p <= 1000 && s <= p => TypeDecision {
                target: TargetType::with_modifiers("numeric", vec![*p, *s]),
                ..decided("numeric", &format!("{name}(p,s) → numeric(p,s)"))
            },
            [p] if *p >= 1 && *p <= 1000 => TypeDecision {
                target: TargetType::with_modifiers("numeric", vec![*p]),
                ..decided("numeric", &format!("{name}(p) → numeric(p)"))
            },
            _ => decided("numeric", &format!("{name} → numeric")),
        },
        "DATETIME" | "TIMESTAMP" | "TIMESTAMPTZ" | "TIMESTAMP WITH TIME ZONE" => decided(
            "timestamptz",
            &format!("{name} → timestamptz (values without an offset are read as UTC)"),
        ),
        "TIMESTAMP WITHOUT TIME ZONE" => {
            decided("timestamp", "TIMESTAMP WITHOUT TIME ZONE → timestamp")
        }
        "DATE" => decided("date", "DATE → date"),
        "TIME" => decided("time", "TIME → time"),
        "BLOB" | "BYTEA" | "BINARY" | "VARBINARY" => decided("bytea", &format!("{name} → bytea")),
        "JSON" | "JSONB" => decided("jsonb", &format!("{name} → jsonb")),
        "UUID" | "GUID" | "UNIQUEIDENTIFIER" => decided("uuid", &format!("{name} → uuid")),
        "VARCHAR"
        | "NVARCHAR"
        | "CHARACTER VARYING"
        | "VARYING CHARACTER"
        | "NATIVE CHARACTER VARYING" => match mods.as_slice() {
            [n] if *n >= 1 => TypeDecision {
                target: TargetType::with_modifiers("varchar", vec![*n]),
                ..decided(
                    "varchar",
                    &format!("{name}(n) → varchar(n), kept as declared"),
                )
            },
            _ => decided("text", &format!("{name} without a length → text")),
        },
        "CHAR" | "NCHAR" | "CHARACTER" | "NATIVE CHARACTER" => match mods.as_slice() {
            // Not char(n): PostgreSQL pads char(n) with blanks and hands them back, while
            // SQLite never padded, so '10.1.0.1' in a CHAR(39) would read back with 31 blanks.
            [n] if *n >= 1 => TypeDecision {
                target: TargetType::with_modifiers("varchar", vec![*n]),
                ..decided(
                    "varchar",
                    &format!("{name}(n) → varchar(n): SQLite never pads, char(n) would"),
                )
            },
            _ => decided("text", &format!("{name} without a length → text")),
        },
        "TEXT" | "CLOB" | "NTEXT" | "STRING" | "CITEXT" => {
            if has_json_valid_check(table, &column.name) {
                decided("jsonb", "TEXT with a json_valid CHECK → jsonb")
            } else if name == "CITEXT" {
                decided("citext", "CITEXT → citext")
            } else {
                decided("text", &format!("{name} → text"))
            }
        }
        // SQLite's affinity rule: any declared type containing INT has integer affinity.
        n if n.contains("INT") => {
            let mut d = decided(
                "bigint",
                &format!("{name} → bigint (SQLite integers are 64-bit)"),
            );
            // Above 2^63 SQLite stores an integer as a REAL: the target column must hold
            // the whole unsigned range. Fractional reals keep `bigint`, where they are bad rows.
            if n.contains("UNSIGNED") {
                if let Some(p) = &column.profile {
                    if p.huge_reals > 0 && p.fractional_reals == p.huge_reals {
                        d = TypeDecision {
                            target: TargetType::with_modifiers("numeric", vec![20, 0]),
                            ..decided("numeric", &format!("{name} holding values above the signed 64-bit range → numeric(20,0)"))
                        };
                    }
                }
            }
            d
        }
        n if n.contains("CHAR") || n.contains("CLOB") || n.contains("TEXT") => {
            decided("text", &format!("{name} (text affinity) → text"))
        }
        n if n.contains("REAL") || n.contains("FLOA") || n.contains("DOUB") => decided(
            "double precision",
            &format!("{name} (real affinity) → double precision"),
        ),
        _ => {
            let mut d = decided("text", &format!("unknown type {name} → text"));
            d.warnings.push(format!(
                "declared type `{}` is not one decant knows; carried as text",
                column.declared_type
            ));
            d
        }
    };
    if let Some(profile) = &column.profile {
        decision
            .warnings
            .extend(profile_warnings(&decision.target, column, profile, None));
    }
    decision
}

/// A column with no declared type: its values decide.
fn from_profile(column: &Column) -> TypeDecision {
    let rule = |base: &str, why: &str| TypeDecision {
        target: TargetType::simple(base),
        rule: format!("profile: {why}"),
        transform: None,
        warnings: Vec::new(),
    };
    let Some(p) = &column.profile else {
        let mut d = rule("text", "no declared type and no profile → text");
        d.warnings.push(
            "no declared type; carried as text (profile the source to decide better)".to_owned(),
        );
        return d;
    };
    let only = |n: u64| n == p.non_null() && n > 0;
    if p.non_null() == 0 {
        let mut d = rule("text", "no declared type and only NULLs → text");
        d.warnings
            .push("no declared type and no values; carried as text".to_owned());
        d
    } else if only(p.integers) {
        rule("bigint", "no declared type, only integers → bigint")
    } else if only(p.integers + p.reals) {
        rule(
            "double precision",
            "no declared type, integers and reals → double precision",
        )
    } else if only(p.blobs) {
        rule("bytea", "no declared type, only blobs → bytea")
    } else if only(p.texts) {
        rule("text", "no declared type, only text → text")
    } else {
        let mut d = rule("text", "no declared type, mixed storage classes → text");
        d.warnings.push(format!(
            "mixed storage classes ({}); every value is carried as its text form",
            classes(p)
        ));
        d
    }
}

/// `3 integer, 2 text` — the storage classes present.
pub fn classes(p: &ColumnProfile) -> String {
    let parts: Vec<String> = [
        ("integer", p.integers),
        ("real", p.reals),
        ("text", p.texts),
        ("blob", p.blobs),
    ]
    .iter()
    .filter(|(_, n)| *n > 0)
    .map(|(name, n)| format!("{n} {name}"))
    .collect();
    parts.join(", ")
}

/// What the values say about a declared mapping: lossy or ambiguous cases. `transform` is
/// the column's, when the plan gives one: some decide what a bad row is.
pub fn profile_warnings(
    target: &TargetType,
    column: &Column,
    p: &ColumnProfile,
    transform: Option<Builtin>,
) -> Vec<String> {
    use crate::engines::postgres::TypeFamily as F;
    let mut out = Vec::new();
    let huge = |n: u64| {
        format!("{n} value(s) beyond the signed 64-bit range are stored as REAL, which SQLite rounded to about 17 digits: they cannot be carried exactly and are bad rows (`to: \"double precision\"` keeps the approximations)")
    };
    let foreign = |n: u64, what: &str| {
        format!("{n} {what} value(s) in a column mapped to `{}`; they are bad rows unless a transform handles them", target.sql())
    };
    // Times PostgreSQL would change on reading them: bad rows, or said to be changed.
    if matches!(target.family(), F::Timestamp | F::TimestampTz | F::Time) {
        let rounds = transform == Some(Builtin::RoundTimes);
        let target_sql = target.sql();
        let day_ends = if target.family() == F::Time {
            0
        } else {
            p.day_end_texts
        };
        for (n, what, changed) in [
            (
                p.inexact_time_texts,
                "time(s) finer than a microsecond or at second 60",
                "rounded by PostgreSQL",
            ),
            (
                day_ends,
                "date-time(s) at 24:00",
                "midnight of the next day",
            ),
        ] {
            if n > 0 && rounds {
                out.push(format!("{n} {what} in a column mapped to `{target_sql}` become {changed} (`transform: round_times`)"));
            } else if n > 0 {
                out.push(format!("{n} {what} in a column mapped to `{target_sql}`; they are bad rows unless the column has `transform: round_times` (then {changed})"));
            }
        }
    }
    match target.family() {
        F::Integer => {
            if p.texts > p.integer_texts {
                out.push(foreign(p.texts - p.integer_texts, "non-numeric text"));
            }
            if p.fractional_reals > p.huge_reals {
                out.push(foreign(
                    p.fractional_reals - p.huge_reals,
                    "fractional real",
                ));
            }
            if p.huge_reals > 0 {
                out.push(huge(p.huge_reals));
            }
            if p.blobs > 0 {
                out.push(foreign(p.blobs, "blob"));
            }
        }
        F::Float | F::Numeric => {
            let non_numeric = p.texts.saturating_sub(p.integer_texts + p.real_texts);
            // `NaN` and `Infinity` load into a float column only when it says so; a numeric
            // column never takes them.
            let special = if target.family() == F::Float {
                p.special_float_texts.min(non_numeric)
            } else {
                0
            };
            if special > 0 && transform != Some(Builtin::KeepNanInfinity) {
                out.push(format!(
                    "{special} text value(s) `NaN`/`Infinity` in a column mapped to `{}`; they are bad rows unless the column has `transform: keep_nan_infinity`",
                    target.sql()
                ));
            }
            if non_numeric > special {
                out.push(foreign(non_numeric - special, "non-numeric text"));
            }
            if target.family() == F::Numeric
                && target.modifiers.len() == 2
                && p.fractional_reals > p.huge_reals
            {
                out.push(format!(
                    "{} value(s) stored as REAL have a fraction; any with more than {} decimal place(s) are rounded",
                    p.fractional_reals - p.huge_reals, target.modifiers[1]
                ));
            }
            if target.family() == F::Numeric && !target.modifiers.is_empty() && p.huge_reals > 0 {
                out.push(huge(p.huge_reals));
            }
        }
        F::Boolean => {
            let non_bool_ints = p.integers - p.zero_one_integers;
            if non_bool_ints > 0 || p.texts > p.boolean_texts + p.integer_texts || p.reals > 0 {
                out.push(format!(
                    "values other than 0/1/true/false in a boolean column ({}); they are bad rows",
                    classes(p)
                ));
            }
        }
        F::Timestamp | F::TimestampTz | F::Date => {
            if p.integers > 0 {
                let unit = match p.max_integer {
                    Some(max) if max.abs() > 100_000_000_000 => "epoch_ms_to_timestamptz",
                    _ => "epoch_s_to_timestamptz",
                };
                out.push(format!(
                    "{} epoch integer(s) in `{}`: add `transform: {unit}`",
                    p.integers, column.declared_type
                ));
            }
            if p.reals > 0 {
                out.push(format!(
                    "{} real value(s), likely Julian days: add `transform: julian_to_timestamp`",
                    p.reals
                ));
            }
            if p.texts > p.iso_datetime_texts {
                out.push(foreign(p.texts - p.iso_datetime_texts, "non-ISO text"));
            }
        }
        F::Text => {
            if let (Some(max), Some(limit)) = (p.max_text_length, target.modifiers.first()) {
                if max > u64::from(*limit) {
                    out.push(format!("values up to {max} characters do not fit `{}` (SQLite never enforced the length)", target.sql()));
                }
            }
            if p.texts > 0 && p.uuid_texts + p.hex32_texts == p.texts {
                out.push("every value is a UUID: consider `to: uuid` (with `transform: hex_to_uuid` for 32-hex)".to_owned());
            } else if p.texts > 0 && p.json_texts == p.texts {
                out.push(
                    "every value is JSON: consider `to: jsonb` with `transform: json_to_jsonb`"
                        .to_owned(),
                );
            }
            if p.storage_classes() > 1 {
                out.push(format!(
                    "mixed storage classes ({}); non-text values are carried as their text form",
                    classes(p)
                ));
            }
        }
        F::Uuid => {
            if p.texts > p.uuid_texts + p.hex32_texts || p.blobs > 0 && p.texts > 0 {
                out.push(foreign(
                    p.texts - p.uuid_texts - p.hex32_texts,
                    "non-UUID text",
                ));
            }
        }
        F::Json => {
            let non_json = p.texts.saturating_sub(p.json_texts);
            if non_json > 0 {
                out.push(format!("{non_json} text value(s) are not JSON objects or arrays; scalars are kept as JSON scalars, invalid JSON is a bad row"));
            }
        }
        F::Bytes | F::Time | F::Interval | F::Enum | F::Other => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CheckConstraint;

    fn column(declared: &str) -> Column {
        Column {
            name: "c".into(),
            declared_type: declared.into(),
            ..Column::default()
        }
    }

    fn mapped(declared: &str) -> String {
        default_mapping(&Table::default(), &column(declared))
            .target
            .sql()
    }

    #[test]
    fn builtin_defaults_are_right_for_real_files() {
        let cases = [
            ("INTEGER", "bigint"),
            ("int", "bigint"),
            ("TINYINT", "bigint"),
            ("REAL", "double precision"),
            ("FLOAT", "double precision"),
            ("DOUBLE", "double precision"),
            ("NUMERIC(10,2)", "numeric(10,2)"),
            ("DECIMAL(8, 3)", "numeric(8,3)"),
            ("NUMERIC", "numeric"),
            ("BOOLEAN", "boolean"),
            ("bool", "boolean"),
            ("DATETIME", "timestamptz"),
            ("TIMESTAMP", "timestamptz"),
            ("DATE", "date"),
            ("TIME", "time"),
            ("BLOB", "bytea"),
            ("JSON", "jsonb"),
            ("VARCHAR(255)", "varchar(255)"),
            ("NVARCHAR(40)", "varchar(40)"),
            ("CHAR(2)", "varchar(2)"),
            ("TEXT", "text"),
            ("CLOB", "text"),
            ("VARCHAR", "text"),
        ];
        for (declared, expected) in cases {
            assert_eq!(mapped(declared), expected, "declared {declared}");
        }
    }

    #[test]
    fn unknown_declared_types_become_text_with_a_warning() {
        let d = default_mapping(&Table::default(), &column("GEOMETRY"));
        assert_eq!(d.target.sql(), "text");
        assert_eq!(d.warnings.len(), 1);
    }

    #[test]
    fn text_with_json_valid_check_becomes_jsonb() {
        let table = Table {
            checks: vec![CheckConstraint {
                name: None,
                expression: "json_valid(\"c\")".into(),
            }],
            ..Table::default()
        };
        assert_eq!(
            default_mapping(&table, &column("TEXT")).target.sql(),
            "jsonb"
        );
    }

    #[test]
    fn untyped_columns_are_decided_by_their_values() {
        let mut c = column("");
        c.profile = Some(ColumnProfile {
            rows: 3,
            integers: 3,
            ..ColumnProfile::default()
        });
        assert_eq!(
            default_mapping(&Table::default(), &c).target.sql(),
            "bigint"
        );
        c.profile = Some(ColumnProfile {
            rows: 3,
            integers: 2,
            texts: 1,
            ..ColumnProfile::default()
        });
        let d = default_mapping(&Table::default(), &c);
        assert_eq!(d.target.sql(), "text");
        assert!(d.warnings[0].contains("mixed storage classes"));
    }

    #[test]
    fn epoch_integers_in_datetime_columns_are_flagged_with_the_transform_to_use() {
        let mut c = column("DATETIME");
        c.profile = Some(ColumnProfile {
            rows: 2,
            integers: 2,
            max_integer: Some(1_700_000_000_000),
            ..ColumnProfile::default()
        });
        let d = default_mapping(&Table::default(), &c);
        assert!(
            d.warnings
                .iter()
                .any(|w| w.contains("epoch_ms_to_timestamptz")),
            "{:?}",
            d.warnings
        );
    }
}

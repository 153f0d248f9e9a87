//! The built-in MySQL/MariaDB → PostgreSQL type defaults, decided from the full column type
//! (`int(10) unsigned`, `tinyint(1)`, `enum('a','b')`); a profile only adds warnings.

use crate::catalog::{Column, Table};
use crate::dialect::quote_ident;
use crate::engines::mapping::{has_json_valid_check, TypeDecision};
use crate::engines::postgres::{TargetType, TypeFamily};

/// The built-in mapping of one MySQL column.
pub fn mysql_mapping(table: &Table, column: &Column) -> TypeDecision {
    let mut decision = declared_mapping(table, column);
    if let Some(p) = column.profile.as_ref().filter(|p| p.unfit > 0) {
        decision.warnings.push(format!(
            "{} value(s) are {}: bad rows under this mapping unless a transform or another type decides",
            p.unfit,
            p.unfit_kind.as_deref().unwrap_or("values it cannot hold")
        ));
    }
    decision
}

/// The mapping from the declared type alone.
fn declared_mapping(table: &Table, column: &Column) -> TypeDecision {
    let declared = column.declared_type.trim().to_ascii_lowercase();
    let base: String = declared
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let unsigned = declared.contains(" unsigned");
    // `decimal(12,2)` → [12, 2]; not for enum/set, whose parentheses hold labels.
    let mods: Vec<u32> = match (declared.find('('), declared.find(')')) {
        (Some(open), Some(close)) if open < close && base != "enum" && base != "set" => declared
            [open + 1..close]
            .split(',')
            .filter_map(|m| m.trim().parse().ok())
            .collect(),
        _ => Vec::new(),
    };
    let to = |target: TargetType, why: &str| TypeDecision {
        target,
        rule: format!("default: {why}"),
        transform: None,
        warnings: Vec::new(),
    };
    let simple = |base: &str, why: &str| to(TargetType::simple(base), why);
    let sign = if unsigned { " unsigned" } else { "" };
    match base.as_str() {
        "tinyint" if mods == [1] && !unsigned => simple(
            "boolean",
            "tinyint(1) → boolean (MySQL's BOOL; a value other than 0 or 1 is a bad row)",
        ),
        "bool" | "boolean" => simple("boolean", "boolean → boolean"),
        "tinyint" => simple("smallint", &format!("tinyint{sign} → smallint")),
        "smallint" if unsigned => simple("integer", "smallint unsigned → integer"),
        "smallint" => simple("smallint", "smallint → smallint"),
        "mediumint" => simple("integer", &format!("mediumint{sign} → integer")),
        "int" | "integer" if unsigned => simple("bigint", "int unsigned → bigint"),
        "int" | "integer" => simple("integer", "int → integer"),
        // Ids: an AUTO_INCREMENT key, or a key or foreign key column, must stay an integer
        // (an identity; the foreign keys' types must match). An id above 2^63 - 1 is a bad row.
        "bigint" if unsigned && is_key(table, &column.name) => simple(
            "bigint",
            "bigint unsigned key → bigint (an id above 2^63 - 1 is a bad row)",
        ),
        "bigint" if unsigned => to(
            TargetType::with_modifiers("numeric", vec![20, 0]),
            "bigint unsigned → numeric(20,0) (values reach 2^64 - 1)",
        ),
        "bigint" | "serial" => simple("bigint", "bigint → bigint"),
        "decimal" | "numeric" | "dec" | "fixed" => match mods.as_slice() {
            [p, s] => to(
                TargetType::with_modifiers("numeric", vec![*p, *s]),
                "decimal(p,s) → numeric(p,s)",
            ),
            [p] => to(
                TargetType::with_modifiers("numeric", vec![*p, 0]),
                "decimal(p) → numeric(p,0)",
            ),
            _ => to(
                TargetType::with_modifiers("numeric", vec![10, 0]),
                "decimal → numeric(10,0) (MySQL's default precision)",
            ),
        },
        "float" => simple("real", "float → real (4 bytes, as MySQL stores it)"),
        "double" | "real" => simple("double precision", "double → double precision"),
        "bit" if mods.first().copied().unwrap_or(1) == 1 => simple("boolean", "bit(1) → boolean"),
        "bit" if mods.first().is_some_and(|n| *n < 64) => simple("bigint", "bit(n) → bigint"),
        "bit" => to(
            TargetType::with_modifiers("numeric", vec![20, 0]),
            "bit(64) → numeric(20,0)",
        ),
        "year" => simple("smallint", "year → smallint"),
        "char" | "varchar" | "nchar" | "nvarchar" => match mods.as_slice() {
            // Not char(n): PostgreSQL hands char(n) back blank-padded; MySQL strips the pad.
            [n] if *n >= 1 => to(
                TargetType::with_modifiers("varchar", vec![*n]),
                &format!("{base}(n) → varchar(n)"),
            ),
            _ => simple("text", &format!("{base} → text")),
        },
        "tinytext" | "text" | "mediumtext" | "longtext" => {
            if has_json_valid_check(table, &column.name) {
                simple("jsonb", "JSON (text with a json_valid CHECK) → jsonb")
            } else {
                simple("text", &format!("{base} → text"))
            }
        }
        "json" => simple("jsonb", "json → jsonb"),
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
            simple("bytea", &format!("{base} → bytea"))
        }
        "date" => simple(
            "date",
            "date → date (a zero date `0000-00-00` is a bad row unless a transform decides)",
        ),
        "datetime" => simple(
            "timestamp",
            "datetime → timestamp (a wall-clock time without a zone, as MySQL keeps it)",
        ),
        "timestamp" => simple(
            "timestamptz",
            "timestamp → timestamptz (MySQL stores UTC; decant reads it in a UTC session)",
        ),
        "time" => simple(
            "time",
            "time → time (a duration beyond 24 hours or negative is a bad row)",
        ),
        "enum" => simple(
            "text",
            "enum → text (the labels are not carried as a CHECK)",
        ),
        "set" => {
            let mut d = to(
                TargetType {
                    array: true,
                    ..TargetType::simple("text")
                },
                "set → text[] (one element per label; the empty set is the empty array)",
            );
            d.warnings.push(
                "SET is carried as `text[]`, one element per label (`'a,b'` → `{a,b}`): the app queries it with `= ANY(col)` or `@>` instead of FIND_IN_SET; map it with `to: text` to keep the comma-separated text"
                    .to_owned(),
            );
            d
        }
        b if is_spatial(b) => {
            let mut d = simple("bytea", &format!("{base} → bytea (WKB)"));
            d.warnings.push(format!(
                "spatial `{base}` is carried as WKB in `bytea`, without its SRID; with PostGIS installed in the target database, `to: geometry` keeps the geometry and its SRID"
            ));
            d
        }
        "uuid" => simple("uuid", "uuid → uuid"),
        "inet4" | "inet6" => simple("inet", &format!("{base} → inet")),
        _ => {
            let mut d = simple("text", &format!("unknown type {base} → text"));
            d.warnings.push(format!(
                "declared type `{}` is not one decant knows; carried as text",
                column.declared_type
            ));
            d
        }
    }
}

/// A value of a MySQL column that the app's column type cannot hold, found before the run: the
/// SQL condition that finds one, what such a value is (as a warning says it), and the named
/// transform that converts it on purpose, when one does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Narrowing {
    pub condition: String,
    pub what: String,
    pub transform: Option<&'static str>,
}

/// How the app's column type `target` narrows MySQL column `column`, declared `declared`: a
/// DATETIME into `date` (its time of day), text into `varchar(n)`/`char(n)` (its length), a
/// number into a smaller integer or `numeric(p,s)` (its range). `None` when every value of the
/// declared type fits, or when the copy engine decides by itself (MySQL's own DATE and DATETIME
/// ranges, years 1000 to 9999, fit every PostgreSQL date and timestamp).
pub fn narrowing(declared: &str, column: &str, target: &TargetType) -> Option<Narrowing> {
    if target.array {
        return None;
    }
    let c = quote_ident(column);
    let declared = declared.trim().to_ascii_lowercase();
    let base: String = declared
        .chars()
        .take_while(|ch| ch.is_ascii_alphanumeric())
        .collect();
    let numeric_source = super::session::is_numeric(&declared);
    let text_source = matches!(
        base.as_str(),
        "char"
            | "varchar"
            | "nchar"
            | "nvarchar"
            | "tinytext"
            | "text"
            | "mediumtext"
            | "longtext"
            | "enum"
            | "set"
    );
    let type_sql = target.sql();
    match target.family() {
        TypeFamily::Date if matches!(base.as_str(), "datetime" | "timestamp") => Some(Narrowing {
            condition: format!("TIME({c}) <> '00:00:00'"),
            what: format!(
                "have a time of day, which the app's `{type_sql}` cannot hold (each is a bad row, never truncated)"
            ),
            transform: Some("datetime_to_date"),
        }),
        TypeFamily::Text if text_source => {
            let n = match target.base.as_str() {
                "varchar" => *target.modifiers.first()?,
                "char" => target.modifiers.first().copied().unwrap_or(1),
                _ => return None,
            };
            Some(Narrowing {
                condition: format!("CHAR_LENGTH({c}) > {n}"),
                what: format!(
                    "are longer than {n} characters, which the app's `{type_sql}` cannot hold (each is a bad row, never truncated)"
                ),
                transform: None,
            })
        }
        TypeFamily::Integer if numeric_source => {
            let (min, max) = match target.base.as_str() {
                "smallint" => (i64::from(i16::MIN), i64::from(i16::MAX)),
                "integer" => (i64::from(i32::MIN), i64::from(i32::MAX)),
                _ => (i64::MIN, i64::MAX),
            };
            Some(Narrowing {
                condition: format!("{c} < {min} OR {c} > {max}"),
                what: format!(
                    "are out of range for the app's `{type_sql}` ({min} to {max}; each is a bad row)"
                ),
                transform: None,
            })
        }
        TypeFamily::Numeric if numeric_source => {
            let (p, s) = match target.modifiers.as_slice() {
                [p, s] => (*p, *s),
                [p] => (*p, 0),
                _ => return None,
            };
            Some(Narrowing {
                condition: format!("ROUND(ABS({c}), {s}) >= POW(10, {})", i64::from(p) - i64::from(s)),
                what: format!(
                    "have more than {} digit(s) before the point, which the app's `{type_sql}` cannot hold (each is a bad row)",
                    i64::from(p) - i64::from(s)
                ),
                transform: None,
            })
        }
        _ => None,
    }
}

/// Whether the column is an AUTO_INCREMENT column, or in the primary key or a foreign key.
/// Whether a MySQL type (its base name, any case) is spatial: the load reads such a column as
/// WKB (`ST_AsBinary`), never in MySQL's own form, which the client library cannot bind.
pub fn is_spatial(declared: &str) -> bool {
    let base = declared
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    matches!(
        base.as_str(),
        "geometry"
            | "point"
            | "linestring"
            | "polygon"
            | "multipoint"
            | "multilinestring"
            | "multipolygon"
            | "geometrycollection"
            | "geomcollection"
    )
}

fn is_key(table: &Table, column: &str) -> bool {
    table.rowid_alias.as_deref() == Some(column)
        || table.primary_key.iter().any(|c| c == column)
        || table
            .foreign_keys
            .iter()
            .any(|fk| fk.columns.iter().any(|c| c == column))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(declared: &str) -> String {
        let column = Column {
            name: "c".into(),
            declared_type: declared.into(),
            ..Column::default()
        };
        mysql_mapping(&Table::default(), &column).target.sql()
    }

    #[test]
    fn mysql_types_map_to_what_holds_every_value() {
        for (declared, expected) in [
            ("tinyint(1)", "boolean"),
            ("tinyint(4)", "smallint"),
            ("tinyint(3) unsigned", "smallint"),
            ("smallint(5) unsigned", "integer"),
            ("int(11)", "integer"),
            ("int(10) unsigned", "bigint"),
            ("bigint(20) unsigned", "numeric(20,0)"),
            ("bigint(20)", "bigint"),
            ("decimal(12,2)", "numeric(12,2)"),
            ("float", "real"),
            ("double", "double precision"),
            ("bit(1)", "boolean"),
            ("bit(8)", "bigint"),
            ("year(4)", "smallint"),
            ("char(39)", "varchar(39)"),
            ("varchar(255)", "varchar(255)"),
            ("longtext", "text"),
            ("json", "jsonb"),
            ("varbinary(16)", "bytea"),
            ("datetime(6)", "timestamp"),
            ("timestamp", "timestamptz"),
            ("enum('a','b')", "text"),
            ("set('x','y')", "text[]"),
            ("point", "bytea"),
        ] {
            assert_eq!(mapped(declared), expected, "{declared}");
        }
    }
}

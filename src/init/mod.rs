//! `decant init`: a starter plan from an introspected, profiled source. Every column's inferred
//! mapping is stated; lossy or ambiguous columns are flagged and given an explicit entry.

use std::fmt::Write as _;

use crate::catalog::{Catalog, Column, ColumnProfile, Engine, Table};
use crate::engines::postgres::TypeFamily;
use crate::engines::sqlite::types::classes;
use crate::engines::{default_mapping, TypeDecision};

mod app;
pub use app::{narrowing_candidates, starter_plan_for_app, AppSide, BOOKKEEPING_TABLES};

/// What `init` proposes for one column beyond the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub to: String,
    pub transform: Option<&'static str>,
    pub why: String,
    /// Written as an active choice; otherwise as a commented suggestion a reviewer may take.
    pub active: bool,
}

/// A column's values suggest a better mapping than its declaration: epoch integers in a
/// DATETIME, UUID or JSON text, 0/1 in a `TINYINT(1)` (Rails) column.
pub fn propose(column: &Column, decision: &TypeDecision) -> Option<Proposal> {
    let p = column.profile.as_ref()?;
    let n = p.non_null();
    if n == 0 {
        return None;
    }
    let family = decision.target.family();
    if p.unfit > 0 {
        return unfit_proposal(p, decision, family);
    }
    let temporal = matches!(
        family,
        TypeFamily::Timestamp | TypeFamily::TimestampTz | TypeFamily::Date
    );
    if temporal && p.integers == n {
        let (transform, unit) = if p.max_integer.is_some_and(|m| m.abs() > 100_000_000_000) {
            ("epoch_ms_to_timestamptz", "milliseconds")
        } else {
            ("epoch_s_to_timestamptz", "seconds")
        };
        return Some(Proposal { to: "timestamptz".into(), transform: Some(transform), why: format!("every value is an integer: epoch {unit} (Prisma and many apps store dates this way)"), active: true });
    }
    if temporal && p.reals == n {
        return Some(Proposal {
            to: "timestamptz".into(),
            transform: Some("julian_to_timestamp"),
            why: "every value is a real: Julian day numbers".into(),
            active: true,
        });
    }
    if family == TypeFamily::Text && p.texts == n {
        if p.hex32_texts == n {
            return Some(Proposal {
                to: "uuid".into(),
                transform: Some("hex_to_uuid"),
                why: "every value is 32 hex digits: a UUID without dashes".into(),
                active: true,
            });
        }
        if p.uuid_texts == n {
            return Some(Proposal {
                to: "uuid".into(),
                transform: Some("hex_to_uuid"),
                why: "every value is a UUID (Sequelize, Django and Prisma store them as text)"
                    .into(),
                active: true,
            });
        }
        if p.json_texts == n {
            // Only a column the source declares as JSON becomes jsonb by itself: an app reads
            // a TEXT column as a string (Django's admin log `change_message`), and jsonb
            // comes back as a parsed object.
            return Some(Proposal {
                to: "jsonb".into(),
                transform: Some("json_to_jsonb"),
                why: "every value is a JSON object or array, but the column is declared as text: jsonb only if the app reads it as JSON".into(),
                active: false,
            });
        }
        if p.ip_texts == n {
            return Some(Proposal {
                to: "inet".into(),
                transform: None,
                why: "every value is an IP address (Django's GenericIPAddressField stores them as text)".into(),
                active: true,
            });
        }
    }
    if family == TypeFamily::Integer
        && p.integers == n
        && names_a_microsecond_duration(&column.name)
    {
        return Some(Proposal {
            to: "interval".into(),
            transform: Some("microseconds_to_interval"),
            why: "integers in a column named like a duration: Django's DurationField stores microseconds (check the unit before accepting)".into(),
            active: true
        });
    }
    let declared = column.declared_type.to_uppercase().replace(' ', "");
    if (declared == "TINYINT(1)" || declared == "BIT" || declared == "BIT(1)")
        && p.integers == n
        && p.zero_one_integers == n
    {
        return Some(Proposal {
            to: "boolean".into(),
            transform: Some("to_boolean"),
            why: "a TINYINT(1)/BIT column holding only 0 and 1: a boolean (Rails, MySQL exports)"
                .into(),
            active: true,
        });
    }
    None
}

/// `duration`, `trial_duration`, `elapsedMicros`, `timeout_us`: a name that says duration and
/// either says microseconds or no unit at all (`duration_seconds`, `timeoutMs` say otherwise).
fn names_a_microsecond_duration(name: &str) -> bool {
    const MICROS: &str = "us usec usecs micros microsecond microseconds";
    const OTHER_UNITS: &str = "s sec secs second seconds ms msec millis millisecond milliseconds \
        ns nanos nanoseconds min mins minute minutes h hour hours day days weeks months years";
    const DURATIONS: &str = "duration elapsed interval timeout ttl runtime uptime";
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in name.chars() {
        if (matches!(c, '_' | '-' | ' ') || c.is_uppercase()) && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        }
    }
    words.push(word);
    let has = |list: &str| {
        words
            .iter()
            .any(|w| list.split_whitespace().any(|x| x == w))
    };
    (has(MICROS) || has(DURATIONS)) && !has(OTHER_UNITS)
}

/// Why a column is flagged for review even when nothing better can be proposed.
fn flag(column: &Column, decision: &TypeDecision, p: &ColumnProfile) -> Vec<String> {
    let mut flags = decision.warnings.clone();
    if p.storage_classes() > 1 && !flags.iter().any(|f| f.contains("mixed storage")) {
        flags.push(format!("mixed storage classes: {}", classes(p)));
    }
    if column.declared_type.is_empty() && !flags.iter().any(|f| f.contains("declared type")) {
        flags.push("no declared type: decided from the values".into());
    }
    flags
}

/// What to do with values a MySQL column's target type cannot hold; a commented suggestion,
/// since NULL, a sentinel or a bad row is the team's decision.
fn unfit_proposal(
    p: &ColumnProfile,
    decision: &TypeDecision,
    family: TypeFamily,
) -> Option<Proposal> {
    let kind = p.unfit_kind.as_deref().unwrap_or_default();
    match family {
        TypeFamily::Date | TypeFamily::Timestamp | TypeFamily::TimestampTz
            if kind.contains("zero date") =>
        {
            Some(Proposal {
                to: decision.target.sql(),
                transform: Some(if family == TypeFamily::Date {
                    "\"{{ value | nullif('0000-00-00') }}\""
                } else {
                    "\"{{ value | nullif('0000-00-00 00:00:00') }}\""
                }),
                why: format!(
                    "{} zero date(s): NULL instead of bad rows (or keep them as bad rows, or map a sentinel)",
                    p.unfit
                ),
                active: false,
            })
        }
        TypeFamily::Boolean => Some(Proposal {
            to: "smallint".into(),
            transform: None,
            why: format!("{} value(s) other than 0 and 1: smallint keeps them", p.unfit),
            active: false,
        }),
        _ => None,
    }
}

fn yaml_key(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && !text.is_empty()
    {
        text.to_owned()
    } else {
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// `version`, `name`, `source` and the start of `target` (its URL) of a starter plan.
fn write_head(out: &mut String, name: &str, source_url: &str, target_url: &str) {
    let _ = writeln!(out, "version: 1");
    let _ = writeln!(out, "name: {}", yaml_key(name));
    let _ = writeln!(
        out,
        "source:\n  url: {}{}",
        yaml_key(source_url),
        if source_url.starts_with("sqlite:") {
            "  # relative to this file"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "target:\n  url: \"{}\"",
        target_url.replace('"', "\\\"")
    );
}

/// Writes the starter plan text.
/// `postgis`: PostGIS is installed in the target database, so a MySQL spatial column is
/// proposed as `geometry` (its SRID kept) rather than left as WKB in `bytea`.
pub fn starter_plan(
    catalog: &Catalog,
    name: &str,
    source_url: &str,
    target_url: &str,
    postgis: bool,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# decant plan, started by `decant init`. Review it like code: every column's mapping is"
    );
    let _ = writeln!(
        out,
        "# stated below; entries under `columns:` are the ones decant flagged for a decision."
    );
    let _ = writeln!(
        out,
        "# Reference: schemas/plan.schema.json (point your editor's YAML language server at it)."
    );
    write_head(&mut out, name, source_url, target_url);
    let _ = writeln!(out, "  schema: public");
    // Values that will not convert make `stop` end the first run: start with `reject`, so the
    // run goes through and lists them (their child rows are rejected with them). When the
    // profile found none, `stop`: a bad value that turns up later is a surprise a reviewer
    // wants to hear about before the run goes on, not a row set aside among the rejects.
    let bad_rows = catalog.tables.iter().any(|t| {
        t.columns.iter().any(|c| {
            c.profile.as_ref().is_some_and(|p| {
                flag(c, &default_mapping(catalog.engine, t, c), p)
                    .iter()
                    .any(|f| f.contains("bad row"))
            })
        })
    });
    let on_bad_row = if bad_rows {
        "reject      # stop | reject — some values flagged below will not convert: they are listed, with their child rows"
    } else {
        "stop        # stop | reject — the profile found no value that will not convert: one that turns up at run time stops the run (its table rolls back)"
    };
    let _ = writeln!(out, "settings:\n  if_exists: fail       # fail | drop | truncate | append\n  on_bad_row: {on_bad_row}\n  constraints: after_load\n  workers: 2");
    let _ = writeln!(
        out,
        "naming:\n  identifiers: preserve # preserve | snake_case | lower"
    );
    let _ = writeln!(out, "tables:\n  include: [\"*\"]");
    let mut entries = String::new();
    let mut summary = String::new();
    for table in &catalog.tables {
        write_table_summary(catalog.engine, table, postgis, &mut summary, &mut entries);
    }
    let _ = writeln!(
        out,
        "\n# Inferred mapping of every column (declared type → target type, and the rule):"
    );
    out.push_str(&summary);
    if entries.is_empty() {
        let _ = writeln!(
            out,
            "\n# No column needs a decision: the defaults above are used."
        );
    } else if entries.lines().all(|l| l.trim_start().starts_with('#')) {
        // Only warnings: an empty mapping, or the plan would not load.
        let _ = writeln!(out, "\ncolumns: {{}}");
        out.push_str(&entries);
    } else {
        let _ = writeln!(out, "\ncolumns:");
        out.push_str(&entries);
    }
    if !catalog.views.is_empty() {
        // Views are carried: rewritten for PostgreSQL and made after the tables. What
        // PostgreSQL refuses even so is only known on a PostgreSQL: `plan` asks the target.
        let _ = writeln!(out, "\n# Views, carried: each is made after the tables from its SELECT rewritten for PostgreSQL;");
        let _ = writeln!(out, "# `decant plan` lists one it cannot rewrite and warns of one PostgreSQL refuses (made on the");
        let _ = writeln!(
            out,
            "# target in a transaction it rolls back), with its reason; a run reports such a view as not carried:"
        );
        for v in &catalog.views {
            let _ = writeln!(out, "#   view `{}`", v.name);
        }
    }
    if !catalog.triggers.is_empty() {
        let _ = writeln!(
            out,
            "\n# Not carried; recreate them with a `steps:` entry if the target needs them:"
        );
        for t in &catalog.triggers {
            let _ = writeln!(out, "#   trigger `{}` on `{}`", t.name, t.table);
        }
    }
    let _ = writeln!(
        out,
        "\nchecks:\n  - row_counts: all\n  - checksums: all\n  - foreign_keys: all"
    );
    out
}

fn write_table_summary(
    engine: Engine,
    table: &Table,
    postgis: bool,
    summary: &mut String,
    entries: &mut String,
) {
    let _ = writeln!(
        summary,
        "#\n# {} ({} rows{})",
        table.name,
        table.row_count,
        if engine.without_rowid(table) {
            ", WITHOUT ROWID"
        } else {
            ""
        }
    );
    for column in &table.columns {
        let decision = default_mapping(engine, table, column);
        let proposal = propose(column, &decision).or_else(|| {
            (postgis && engine.is_spatial(&column.declared_type))
            .then(|| Proposal {
                to: "geometry".into(),
                transform: None,
                why: "PostGIS is installed in the target database: `geometry` keeps the value and its SRID".into(),
                active: true,
            })
        });
        let flags = column
            .profile
            .as_ref()
            .map(|p| flag(column, &decision, p))
            .unwrap_or_default();
        let declared = if column.declared_type.is_empty() {
            "(none)"
        } else {
            column.declared_type.as_str()
        };
        let identity = if table.rowid_alias.as_deref() == Some(column.name.as_str()) {
            " identity"
        } else {
            ""
        };
        let marker = if proposal.is_some() || !flags.is_empty() {
            "  <- FLAGGED, see `columns:`"
        } else {
            ""
        };
        let _ = writeln!(
            summary,
            "#   {:<24} {:<16} → {}{identity}  [{}]{marker}",
            column.name,
            declared,
            decision.target.sql(),
            decision.rule
        );
        if proposal.is_none() && flags.is_empty() {
            continue;
        }
        let key = yaml_key(&format!("{}.{}", table.name, column.name));
        for f in &flags {
            let _ = writeln!(entries, "  # {}", f.replace('\n', " "));
        }
        match proposal {
            Some(p) if p.active => {
                let _ = writeln!(entries, "  # proposed: {}", p.why);
                let transform = p
                    .transform
                    .map(|t| format!(", transform: {t}"))
                    .unwrap_or_default();
                let _ = writeln!(entries, "  {key}: {{ to: {}{transform} }}", yaml_key(&p.to));
            }
            Some(p) => {
                // A suggestion only: the default stays, the alternative is one uncomment away.
                let transform = p
                    .transform
                    .map(|t| format!(", transform: {t}"))
                    .unwrap_or_default();
                let _ = writeln!(entries, "  # {}; to take it:", p.why);
                let _ = writeln!(
                    entries,
                    "  #   {key}: {{ to: {}{transform} }}",
                    yaml_key(&p.to)
                );
                let _ = writeln!(
                    entries,
                    "  {key}: {{ to: \"{}\" }}  # the default, stated so a reviewer decides",
                    decision.target.sql()
                );
            }
            None => {
                let _ = writeln!(
                    entries,
                    "  {key}: {{ to: \"{}\" }}  # the default, stated so a reviewer decides",
                    decision.target.sql()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profiled(declared: &str, profile: ColumnProfile) -> Column {
        Column {
            name: "c".into(),
            declared_type: declared.into(),
            profile: Some(profile),
            ..Column::default()
        }
    }

    fn proposal(c: &Column) -> Option<Proposal> {
        propose(
            c,
            &crate::engines::sqlite::types::default_mapping(&Table::default(), c),
        )
    }

    #[test]
    fn epoch_milliseconds_in_datetime_columns_get_the_matching_transform() {
        let c = profiled(
            "DATETIME",
            ColumnProfile {
                rows: 2,
                integers: 2,
                max_integer: Some(1_700_000_000_000),
                ..ColumnProfile::default()
            },
        );
        assert_eq!(
            proposal(&c).and_then(|p| p.transform),
            Some("epoch_ms_to_timestamptz")
        );
        let c = profiled(
            "DATETIME",
            ColumnProfile {
                rows: 2,
                integers: 2,
                max_integer: Some(1_700_000_000),
                ..ColumnProfile::default()
            },
        );
        assert_eq!(
            proposal(&c).and_then(|p| p.transform),
            Some("epoch_s_to_timestamptz")
        );
    }

    #[test]
    fn uuid_and_json_text_are_proposed_as_uuid_and_jsonb() {
        let c = profiled(
            "TEXT",
            ColumnProfile {
                rows: 3,
                texts: 3,
                hex32_texts: 3,
                ..ColumnProfile::default()
            },
        );
        assert_eq!(proposal(&c).map(|p| p.to), Some("uuid".to_owned()));
        let c = profiled(
            "",
            ColumnProfile {
                rows: 3,
                texts: 3,
                json_texts: 3,
                ..ColumnProfile::default()
            },
        );
        // Suggested, not chosen: the column is declared as text.
        let json = proposal(&c).unwrap();
        assert_eq!((json.to.as_str(), json.active), ("jsonb", false));
        let c = profiled(
            "TEXT",
            ColumnProfile {
                rows: 3,
                texts: 3,
                json_texts: 2,
                ..ColumnProfile::default()
            },
        );
        assert_eq!(proposal(&c), None);
    }

    #[test]
    fn integer_durations_without_another_unit_are_proposed_as_intervals() {
        for name in ["duration", "trial_duration", "elapsedMicros", "timeout_us"] {
            assert!(names_a_microsecond_duration(name), "{name}");
        }
        for name in [
            "duration_seconds",
            "timeoutMs",
            "ttl_days",
            "user_id",
            "durable",
        ] {
            assert!(!names_a_microsecond_duration(name), "{name}");
        }
        let c = Column {
            name: "trial_duration".into(),
            ..profiled(
                "bigint",
                ColumnProfile {
                    rows: 2,
                    integers: 2,
                    ..ColumnProfile::default()
                },
            )
        };
        assert_eq!(
            proposal(&c).and_then(|p| p.transform),
            Some("microseconds_to_interval")
        );
    }

    #[test]
    fn rails_tinyint_booleans_are_proposed_as_boolean() {
        let c = profiled(
            "tinyint(1)",
            ColumnProfile {
                rows: 3,
                integers: 3,
                zero_one_integers: 3,
                ..ColumnProfile::default()
            },
        );
        assert_eq!(proposal(&c).map(|p| p.to), Some("boolean".to_owned()));
    }
}

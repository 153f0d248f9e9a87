//! Value profiling: one aggregate query (one scan) per table counts, for each column, storage
//! classes and value shapes, so the mapping can tell what a column really holds.

use diesel::connection::Connection;
use diesel::sql_types::Text;
use diesel::sqlite::SqliteConnection;
use diesel::QueryableByName;
use serde_json::Value;

use super::introspect::query;
use crate::catalog::{Catalog, Column, ColumnProfile, Table};
use crate::dialect::quote_ident;
use crate::engines::IntrospectError;

/// Columns per inner `json_array(...)`, keeping every function call under SQLite's argument limit.
const COLUMNS_PER_CHUNK: usize = 50;

/// Columns per query: SQLite allows at most 2000 aggregate terms in one query, and each
/// column takes [`FIELDS`]; wider tables take one more scan per this many columns.
const COLUMNS_PER_SCAN: usize = 90;

/// The numbers per column, in the order [`column_aggregates`] writes them.
const FIELDS: usize = 22;

#[derive(QueryableByName)]
struct ProfileRow {
    #[diesel(sql_type = Text)]
    profile: String,
}

/// Profiles `columns` of `table` in one scan (one more per [`COLUMNS_PER_SCAN`] columns);
/// the result is in the order of `columns`.
pub fn profile_table(
    conn: &mut SqliteConnection,
    table: &Table,
    columns: &[&str],
) -> Result<Vec<ColumnProfile>, IntrospectError> {
    if let Some(missing) = columns.iter().find(|c| table.column(c).is_none()) {
        return Err(IntrospectError::UnknownColumn {
            table: table.name.clone(),
            column: (*missing).to_string(),
        });
    }
    if columns.is_empty() {
        return Ok(Vec::new());
    }
    if columns.len() <= COLUMNS_PER_SCAN {
        return profile_scan(conn, &table.name, columns);
    }
    // Several scans see one snapshot.
    conn.transaction(|conn| {
        let mut profiles = Vec::with_capacity(columns.len());
        for chunk in columns.chunks(COLUMNS_PER_SCAN) {
            profiles.extend(profile_scan(conn, &table.name, chunk)?);
        }
        Ok(profiles)
    })
}

/// One aggregate query over `table` for `columns`.
fn profile_scan(
    conn: &mut SqliteConnection,
    table: &str,
    columns: &[&str],
) -> Result<Vec<ColumnProfile>, IntrospectError> {
    let sql = profile_sql(table, columns);
    let rows: Vec<ProfileRow> = query(conn, &sql, table)?;
    let bad = |result: &str| IntrospectError::ProfileResult {
        table: table.to_string(),
        sql: sql.clone(),
        result: result.to_string(),
    };
    let Some(row) = rows.first() else {
        return Err(bad("no row"));
    };
    let value: Value = serde_json::from_str(&row.profile).map_err(|_| bad(&row.profile))?;
    let (total, per_column) = flatten(&value).ok_or_else(|| bad(&row.profile))?;
    if per_column.len() != columns.len() {
        return Err(bad(&row.profile));
    }
    per_column
        .into_iter()
        .map(|numbers| to_profile(total, numbers).ok_or_else(|| bad(&row.profile)))
        .collect()
}

/// Fills [`Column::profile`] for every column `wanted` accepts, in one read transaction.
pub fn profile_catalog(
    conn: &mut SqliteConnection,
    catalog: &mut Catalog,
    wanted: impl Fn(&Table, &Column) -> bool,
) -> Result<(), IntrospectError> {
    conn.transaction(|conn| {
        for table in &mut catalog.tables {
            let names: Vec<String> = table
                .columns
                .iter()
                .filter(|c| wanted(table, c))
                .map(|c| c.name.clone())
                .collect();
            if names.is_empty() {
                continue;
            }
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let profiles = profile_table(conn, table, &refs)?;
            for (name, profile) in names.iter().zip(profiles) {
                if let Some(column) = table.columns.iter_mut().find(|c| &c.name == name) {
                    column.profile = Some(profile);
                }
            }
        }
        Ok(())
    })
}

/// `SELECT json_array(count(*), json_array(<column>, ...), ...) AS profile FROM <table>`.
fn profile_sql(table: &str, columns: &[&str]) -> String {
    let chunks: Vec<String> = columns
        .chunks(COLUMNS_PER_CHUNK)
        .map(|chunk| {
            let inner: Vec<String> = chunk
                .iter()
                .map(|c| column_aggregates(&quote_ident(c)))
                .collect();
            format!("json_array({})", inner.join(",\n  "))
        })
        .collect();
    format!(
        "SELECT json_array(count(*), {}) AS profile FROM {}",
        chunks.join(", "),
        quote_ident(table)
    )
}

/// One `json_array` of the [`FIELDS`] aggregates for the quoted column `q`.
fn column_aggregates(q: &str) -> String {
    let text = format!("typeof({q}) = 'text'");
    let integer = format!("typeof({q}) = 'integer'");
    let real = format!("typeof({q}) = 'real'");
    // The text without one leading sign, for the numeric shapes.
    let unsigned =
        format!("(CASE WHEN substr({q}, 1, 1) IN ('-', '+') THEN substr({q}, 2) ELSE {q} END)");
    let count = |condition: String| format!("count(CASE WHEN {condition} THEN 1 END)");
    let hex = "'*[^0-9a-fA-F]*'";
    let fields = [
        count(format!("{q} IS NULL")),
        count(integer.clone()),
        count(real.clone()),
        count(text.clone()),
        count(format!("typeof({q}) = 'blob'")),
        format!("min(CASE WHEN {integer} THEN {q} END)"),
        format!("max(CASE WHEN {integer} THEN {q} END)"),
        format!("max(CASE WHEN {text} THEN length({q}) END)"),
        count(format!("{integer} AND {q} IN (0, 1)")),
        count(format!("{real} AND {q} <> CAST({q} AS INTEGER)")),
        count(format!("{text} AND {q} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'")),
        count(format!("{text} AND {q} GLOB '*[0-9]*' AND {unsigned} NOT GLOB '*[^0-9]*'")),
        count(format!(
            "{text} AND {q} GLOB '*[0-9]*' AND {unsigned} GLOB '*.*' AND {unsigned} NOT GLOB '*.*.*' \
             AND replace({unsigned}, '.', '') NOT GLOB '*[^0-9]*'"
        )),
        count(format!("{text} AND length({q}) = 32 AND {q} NOT GLOB {hex}")),
        count(format!(
            "{text} AND length({q}) = 36 AND substr({q}, 9, 1) = '-' AND substr({q}, 14, 1) = '-' \
             AND substr({q}, 19, 1) = '-' AND substr({q}, 24, 1) = '-' \
             AND length(replace({q}, '-', '')) = 32 AND replace({q}, '-', '') NOT GLOB {hex}"
        )),
        // json_valid only runs on texts that start like an object or an array.
        format!(
            "count(CASE WHEN {text} AND substr(ltrim({q}, ' ' || char(9, 10, 13)), 1, 1) IN ('{{', '[') \
             THEN CASE WHEN json_valid({q}) THEN 1 END END)"
        ),
        count(format!("{text} AND lower(trim({q})) IN ('t', 'f', 'true', 'false', 'yes', 'no')")),
        count(format!("{real} AND abs({q}) >= 9223372036854775808.0")),
        count(format!(
            "{text} AND (({q} GLOB '[0-9]*.[0-9]*.[0-9]*.[0-9]*' AND {q} NOT GLOB '*[^0-9.]*' \
             AND length({q}) - length(replace({q}, '.', '')) = 3) \
             OR ({q} GLOB '*:*:*' AND {q} NOT GLOB '*[^0-9a-fA-F:.]*'))"
        )),
        // What `transform::builtins::special_float` reads, blanks around and all.
        count(format!(
            "{text} AND lower(trim({q}, ' ' || char(9, 10, 13))) IN \
             ('nan', '+nan', '-nan', 'inf', '+inf', '-inf', 'infinity', '+infinity', '-infinity')"
        )),
        // What `copy::convert::inexact_time` refuses unless `round_times`.
        count(format!(
            "{text} AND ({q} GLOB '*[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9][0-9]*' \
             OR {q} GLOB '*[0-9][0-9]:[0-9][0-9]:60*')"
        )),
        count(format!(
            "{text} AND ltrim({q}) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][Tt ]24:*'"
        )),
    ];
    debug_assert_eq!(fields.len(), FIELDS);
    format!("json_array({})", fields.join(", "))
}

/// `[total, [[col...], ...], [[col...], ...]]` into the total and one array per column.
fn flatten(value: &Value) -> Option<(u64, Vec<&Vec<Value>>)> {
    let outer = value.as_array()?;
    let (first, chunks) = outer.split_first()?;
    let total = first.as_u64()?;
    let mut columns = Vec::new();
    for chunk in chunks {
        for column in chunk.as_array()? {
            columns.push(column.as_array()?);
        }
    }
    Some((total, columns))
}

fn to_profile(rows: u64, numbers: &[Value]) -> Option<ColumnProfile> {
    if numbers.len() != FIELDS {
        return None;
    }
    let count = |i: usize| numbers[i].as_u64();
    let optional_i64 = |i: usize| match &numbers[i] {
        Value::Null => Some(None),
        other => other.as_i64().map(Some),
    };
    let optional_u64 = |i: usize| match &numbers[i] {
        Value::Null => Some(None),
        other => other.as_u64().map(Some),
    };
    Some(ColumnProfile {
        rows,
        nulls: count(0)?,
        integers: count(1)?,
        reals: count(2)?,
        texts: count(3)?,
        blobs: count(4)?,
        min_integer: optional_i64(5)?,
        max_integer: optional_i64(6)?,
        max_text_length: optional_u64(7)?,
        zero_one_integers: count(8)?,
        fractional_reals: count(9)?,
        iso_datetime_texts: count(10)?,
        integer_texts: count(11)?,
        real_texts: count(12)?,
        hex32_texts: count(13)?,
        uuid_texts: count(14)?,
        json_texts: count(15)?,
        boolean_texts: count(16)?,
        unfit: 0,
        unfit_kind: None,
        huge_reals: count(17)?,
        ip_texts: count(18)?,
        special_float_texts: count(19)?,
        inexact_time_texts: count(20)?,
        day_end_texts: count(21)?,
    })
}

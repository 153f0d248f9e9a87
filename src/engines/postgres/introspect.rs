//! The schema an application's migrator made in the PostgreSQL target, read from its catalog:
//! tables, columns with their real types (domains, enums, arrays), keys, indexes, triggers.
//! It is also the snapshot file beside a plan (`decant snapshot`), so reviews work offline.

use std::collections::BTreeMap;

use crate::engines::TargetConnection;
use diesel::sql_types::{Array, Bool, Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};
use serde::{Deserialize, Serialize};

/// The app's tables in one schema, in name order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetSchema {
    pub schema: String,
    pub tables: Vec<TargetTable>,
}

/// One table of the app's schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetTable {
    pub name: String,
    pub columns: Vec<TargetColumn>,
    /// Primary key, unique, check and foreign-key constraints, by name.
    pub constraints: Vec<TargetConstraint>,
    /// Every index, with its exact definition.
    pub indexes: Vec<TargetIndex>,
    /// The app's own triggers (not PostgreSQL's internal ones), by name.
    pub triggers: Vec<String>,
    /// The triggers not plainly enabled, with their state: `disabled`, `replica` or `always`
    /// (`ALTER TABLE … DISABLE TRIGGER`, `ENABLE REPLICA/ALWAYS TRIGGER`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub trigger_modes: BTreeMap<String, String>,
    /// Columns a BEFORE INSERT row trigger of the app assigns (`NEW.col := …` in its function,
    /// or `tsvector_update_trigger(col, …)`): filled by the app when its triggers fire.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trigger_filled: Vec<String>,
}

/// One column, with what a load must respect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetColumn {
    pub name: String,
    /// The type as PostgreSQL spells it (`character varying(20)`, `shop_mood`, `text[]`).
    pub type_sql: String,
    /// The type values are encoded as: a domain's base type, else `type_sql`.
    pub base_type: String,
    /// The domain the column is declared with, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// An enum type's labels in order (also through a domain, and an array's element's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    pub not_null: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// `GENERATED … AS IDENTITY`.
    #[serde(default)]
    pub identity: bool,
    /// `GENERATED ALWAYS AS (…) STORED`: computed by PostgreSQL, never loaded.
    #[serde(default)]
    pub generated: bool,
}

impl TargetColumn {
    /// Whether PostgreSQL fills the column when a load leaves it out.
    pub fn fills_itself(&self) -> bool {
        !self.not_null || self.default.is_some() || self.identity || self.generated
    }

    /// Whether its values come from a sequence (identity, or `serial`'s `nextval` default).
    pub fn sequenced(&self) -> bool {
        self.identity
            || self
                .default
                .as_deref()
                .is_some_and(|d| d.starts_with("nextval("))
    }
}

/// An index as PostgreSQL prints it (`pg_get_indexdef`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetIndex {
    pub name: String,
    pub definition: String,
    /// It backs a primary key or unique constraint (and stays in place during a load).
    #[serde(default)]
    pub constraint: bool,
}

/// A constraint as PostgreSQL prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetConstraint {
    pub name: String,
    /// `primary_key`, `unique`, `check` or `foreign_key`.
    pub kind: String,
    pub columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referenced_table: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub referenced_columns: Vec<String>,
    /// `pg_get_constraintdef`: the exact definition.
    pub definition: String,
}

impl TargetSchema {
    pub fn table(&self, name: &str) -> Option<&TargetTable> {
        self.tables.iter().find(|t| t.name == name)
    }
}

impl TargetTable {
    pub fn column(&self, name: &str) -> Option<&TargetColumn> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn foreign_keys(&self) -> impl Iterator<Item = &TargetConstraint> {
        self.constraints.iter().filter(|c| c.kind == "foreign_key")
    }
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    type_sql: String,
    #[diesel(sql_type = Text)]
    base_type: String,
    #[diesel(sql_type = Nullable<Text>)]
    domain: Option<String>,
    #[diesel(sql_type = Nullable<Array<Text>>)]
    labels: Option<Vec<String>>,
    #[diesel(sql_type = Bool)]
    not_null: bool,
    #[diesel(sql_type = Nullable<Text>)]
    default_sql: Option<String>,
    #[diesel(sql_type = Bool)]
    identity: bool,
    #[diesel(sql_type = Bool)]
    generated: bool,
}

const COLUMNS: &str = "
SELECT c.relname::text AS table_name, a.attname::text AS column_name,
       format_type(a.atttypid, a.atttypmod) AS type_sql,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod)
            ELSE format_type(a.atttypid, a.atttypmod) END AS base_type,
       CASE WHEN t.typtype = 'd' THEN format_type(a.atttypid, NULL) END AS domain,
       (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e
         WHERE e.enumtypid = CASE WHEN t.typtype = 'd' THEN t.typbasetype
                                 WHEN t.typcategory = 'A' THEN t.typelem ELSE a.atttypid END) AS labels,
       a.attnotnull AS not_null,
       pg_get_expr(d.adbin, d.adrelid) AS default_sql,
       a.attidentity <> '' AS identity,
       a.attgenerated <> '' AS generated
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  AND NOT c.relispartition
ORDER BY c.relname, a.attnum";

#[derive(QueryableByName)]
struct ConstraintRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Array<Text>)]
    columns: Vec<String>,
    #[diesel(sql_type = Nullable<Text>)]
    referenced_table: Option<String>,
    #[diesel(sql_type = Array<Text>)]
    referenced_columns: Vec<String>,
    #[diesel(sql_type = Text)]
    definition: String,
}

/// `pg_get_constraintdef` leaves out a key's index storage parameters (`WITH (fillfactor=…)`):
/// they are put back before any `DEFERRABLE`, where the grammar has them.
const CONSTRAINTS: &str = "
SELECT c.relname::text AS table_name, con.conname::text AS name,
       CASE con.contype WHEN 'p' THEN 'primary_key' WHEN 'u' THEN 'unique'
                        WHEN 'c' THEN 'check' ELSE 'foreign_key' END AS kind,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(num, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.i) AS columns,
       rc.relname::text AS referenced_table,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(num, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.i) AS referenced_columns,
       CASE WHEN ic.reloptions IS NULL THEN pg_get_constraintdef(con.oid)
       ELSE regexp_replace(pg_get_constraintdef(con.oid), '( DEFERRABLE.*)?$',
           ' WITH (' || array_to_string(ic.reloptions, ', ') || ')\\1') END AS definition
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class rc ON rc.oid = con.confrelid
LEFT JOIN pg_class ic ON ic.oid = con.conindid AND con.contype IN ('p', 'u')
WHERE n.nspname = $1 AND con.contype IN ('p', 'u', 'c', 'f')
ORDER BY c.relname, con.conname";

#[derive(QueryableByName)]
struct TriggerRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    text: String,
    #[diesel(sql_type = Text)]
    mode: String,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    definition: String,
    #[diesel(sql_type = Bool)]
    backs_constraint: bool,
}

const INDEXES: &str = "
SELECT c.relname::text AS table_name, i.relname::text AS name,
       pg_get_indexdef(x.indexrelid) AS definition,
       EXISTS (SELECT 1 FROM pg_constraint con
               WHERE con.conindid = x.indexrelid AND con.conrelid = x.indrelid
                 AND con.contype IN ('p', 'u', 'x')) AS backs_constraint
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1
ORDER BY c.relname, i.relname";

const TRIGGERS: &str = "
SELECT c.relname::text AS table_name, t.tgname::text AS text,
       CASE t.tgenabled WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' ELSE '' END AS mode
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND NOT t.tgisinternal
ORDER BY c.relname, t.tgname";

/// The app's BEFORE INSERT row triggers with their functions, to see which columns they fill.
const TRIGGER_FUNCTIONS: &str = "
SELECT c.relname::text AS table_name, p.proname::text AS function_name, coalesce(p.prosrc, '') AS source,
       ARRAY(SELECT a FROM unnest(string_to_array(encode(t.tgargs, 'escape'), E'\\\\000')) a WHERE a <> '') AS args
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_proc p ON p.oid = t.tgfoid
WHERE n.nspname = $1 AND NOT t.tgisinternal AND t.tgtype & 1 = 1 AND t.tgtype & 2 = 2 AND t.tgtype & 4 = 4
ORDER BY c.relname, t.tgname";

#[derive(QueryableByName)]
struct TriggerFunction {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    function_name: String,
    #[diesel(sql_type = Text)]
    source: String,
    #[diesel(sql_type = Array<Text>)]
    args: Vec<String>,
}

impl TriggerFunction {
    /// Whether this trigger assigns `column` of the row being inserted.
    fn fills(&self, column: &str) -> bool {
        if self.function_name.starts_with("tsvector_update_trigger") {
            return self.args.first().is_some_and(|a| a == column);
        }
        let pattern = format!(
            r#"(?i)\bnew\s*\.\s*(?:"{}"|{})\s*:?=[^=]"#,
            regex::escape(column),
            regex::escape(column)
        );
        regex::Regex::new(&pattern).is_ok_and(|r| r.is_match(&self.source))
    }
}

/// A catalog query failed.
#[derive(Debug, thiserror::Error)]
#[error("reading the target's schema `{schema}` failed: `{sql}`")]
pub struct TargetSchemaError {
    pub schema: String,
    pub sql: String,
    #[source]
    pub source: diesel::result::Error,
}

/// Reads every table of `schema` in the target.
pub fn read_target_schema(
    conn: &mut TargetConnection,
    schema: &str,
) -> Result<TargetSchema, TargetSchemaError> {
    let failed = |sql: &str| {
        let schema = schema.to_owned();
        let sql = sql.trim().to_owned();
        move |source| TargetSchemaError {
            schema: schema.clone(),
            sql: sql.clone(),
            source,
        }
    };
    let columns = diesel::sql_query(COLUMNS)
        .bind::<Text, _>(schema)
        .load::<ColumnRow>(conn.postgres())
        .map_err(failed(COLUMNS))?;
    let constraints = diesel::sql_query(CONSTRAINTS)
        .bind::<Text, _>(schema)
        .load::<ConstraintRow>(conn.postgres())
        .map_err(failed(CONSTRAINTS))?;
    let indexes = diesel::sql_query(INDEXES)
        .bind::<Text, _>(schema)
        .load::<IndexRow>(conn.postgres())
        .map_err(failed(INDEXES))?;
    let triggers = diesel::sql_query(TRIGGERS)
        .bind::<Text, _>(schema)
        .load::<TriggerRow>(conn.postgres())
        .map_err(failed(TRIGGERS))?;
    let mut tables: BTreeMap<String, TargetTable> = BTreeMap::new();
    for c in columns {
        entry(&mut tables, &c.table_name)
            .columns
            .push(TargetColumn {
                name: c.column_name,
                type_sql: c.type_sql,
                base_type: c.base_type,
                domain: c.domain,
                labels: c.labels.unwrap_or_default(),
                not_null: c.not_null,
                default: c.default_sql,
                identity: c.identity,
                generated: c.generated,
            });
    }
    for c in constraints {
        entry(&mut tables, &c.table_name)
            .constraints
            .push(TargetConstraint {
                name: c.name,
                kind: c.kind,
                columns: c.columns,
                referenced_table: c.referenced_table,
                referenced_columns: c.referenced_columns,
                definition: c.definition,
            });
    }
    for i in indexes {
        entry(&mut tables, &i.table_name).indexes.push(TargetIndex {
            name: i.name,
            definition: i.definition,
            constraint: i.backs_constraint,
        });
    }
    for t in triggers {
        let table = entry(&mut tables, &t.table_name);
        if !t.mode.is_empty() {
            table.trigger_modes.insert(t.text.clone(), t.mode);
        }
        table.triggers.push(t.text);
    }
    let functions = diesel::sql_query(TRIGGER_FUNCTIONS)
        .bind::<Text, _>(schema)
        .load::<TriggerFunction>(conn.postgres())
        .map_err(failed(TRIGGER_FUNCTIONS))?;
    for table in tables.values_mut() {
        let filled: Vec<String> = table
            .columns
            .iter()
            .filter(|c| {
                functions
                    .iter()
                    .any(|f| f.table_name == table.name && f.fills(&c.name))
            })
            .map(|c| c.name.clone())
            .collect();
        table.trigger_filled = filled;
    }
    Ok(TargetSchema {
        schema: schema.to_owned(),
        tables: tables.into_values().collect(),
    })
}

fn entry<'t>(tables: &'t mut BTreeMap<String, TargetTable>, name: &str) -> &'t mut TargetTable {
    tables
        .entry(name.to_owned())
        .or_insert_with(|| TargetTable {
            name: name.to_owned(),
            columns: Vec::new(),
            constraints: Vec::new(),
            indexes: Vec::new(),
            triggers: Vec::new(),
            trigger_modes: BTreeMap::new(),
            trigger_filled: Vec::new(),
        })
}

/// How the live schema differs from the snapshot in the snapshot's tables, for a message.
pub fn schema_differences(expected: &TargetSchema, live: &TargetSchema) -> Vec<String> {
    let mut out = Vec::new();
    for t in &expected.tables {
        match live.table(&t.name) {
            None => out.push(format!("table `{}` is missing", t.name)),
            Some(l) if l.columns != t.columns => {
                let names = |t: &TargetTable| -> Vec<String> {
                    t.columns
                        .iter()
                        .map(|c| format!("{} {}", c.name, c.type_sql))
                        .collect()
                };
                let (want, have) = (names(t), names(l));
                let gone: Vec<&String> = want.iter().filter(|c| !have.contains(c)).collect();
                let new: Vec<&String> = have.iter().filter(|c| !want.contains(c)).collect();
                out.push(format!(
                    "table `{}`: columns differ (snapshot only: {}; live only: {})",
                    t.name,
                    list(&gone),
                    list(&new)
                ));
            }
            Some(l) if l.constraints != t.constraints => out.push(format!(
                "table `{}`: its keys or constraints differ",
                t.name
            )),
            Some(l) if l.triggers != t.triggers => {
                out.push(format!("table `{}`: its triggers differ", t.name))
            }
            Some(l) if l.indexes != t.indexes => {
                out.push(format!("table `{}`: its indexes differ", t.name))
            }
            Some(_) => {}
        }
    }
    // Tables the snapshot does not have are the app's business: nothing is loaded into them.
    out
}

fn list(items: &[&String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether PostGIS is installed in the target database (`CREATE EXTENSION postgis` ran there):
/// only then does `init` propose `geometry` for a spatial column.
pub fn postgis_installed(conn: &mut TargetConnection) -> diesel::QueryResult<bool> {
    diesel::select(diesel::dsl::sql::<Bool>(
        "EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis')",
    ))
    .get_result(conn.postgres())
}

/// The tables of the app's schema that hold rows now, with their counts.
pub fn tables_with_rows(
    conn: &mut TargetConnection,
    schema: &str,
    tables: &[String],
) -> Result<Vec<(String, u64)>, TargetSchemaError> {
    let mut out = Vec::new();
    for table in tables {
        let from = format!(
            "{}.{}",
            crate::dialect::quote_ident(schema),
            crate::dialect::quote_ident(table)
        );
        let n = conn
            .count_rows(&from, None)
            .map_err(|e| TargetSchemaError {
                schema: schema.to_owned(),
                sql: e.sql,
                source: e.source,
            })?;
        if n > 0 {
            out.push((table.clone(), n));
        }
    }
    Ok(out)
}

/// Whether the connection's role may disable the table's triggers (it owns the table).
pub fn owns_table(
    conn: &mut TargetConnection,
    schema: &str,
    table: &str,
) -> Result<bool, TargetSchemaError> {
    #[derive(QueryableByName)]
    struct Owns {
        #[diesel(sql_type = Bool)]
        owns: bool,
    }
    let sql = "SELECT pg_has_role(c.relowner, 'USAGE') AS owns FROM pg_class c \
               JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2";
    diesel::sql_query(sql)
        .bind::<Text, _>(schema)
        .bind::<Text, _>(table)
        .get_result::<Owns>(conn.postgres())
        .map(|o| o.owns)
        .map_err(|source| TargetSchemaError {
            schema: schema.to_owned(),
            sql: sql.to_owned(),
            source,
        })
}

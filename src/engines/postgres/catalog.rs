//! Introspection of a PostgreSQL source from `pg_catalog` (the connection's `current_schema()`,
//! `public` unless the URL's `options=-csearch_path=…` says otherwise) into the neutral catalog.

use std::collections::BTreeMap;

use crate::catalog::{
    AutoIncrement, Catalog, CheckConstraint, Column, Engine, ForeignKey, Generated, Index,
    IndexKey, IndexPart, Table, Trigger, UniqueConstraint, View,
};
use crate::dialect::quote_ident;
use crate::engines::introspect::{count_failed, integer, query, text};
use crate::engines::postgres::{parse_target_type, TargetType};
use crate::engines::TypeDecision;
use crate::engines::{IntrospectError, SourceConnection, SqlValue};

/// Reads the catalog of the connection's current schema. Without `exact_counts` the row
/// counts are the planner's estimates (`reltuples`), which cost nothing to read.
pub fn introspect_postgres(
    conn: &mut SourceConnection,
    exact_counts: bool,
) -> Result<Catalog, IntrospectError> {
    let mut catalog = Catalog {
        engine: Engine::Postgres,
        ..Catalog::default()
    };
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    let mut order = Vec::new();
    for row in query(
        conn,
        "(tables)",
        "SELECT c.relname::text, greatest(c.reltuples, 0)::int8 FROM pg_class c \
         WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') \
         AND NOT c.relispartition ORDER BY 1",
    )? {
        let name = text(&row[0]);
        order.push(name.clone());
        tables.insert(
            name.clone(),
            Table {
                name,
                // PostgreSQL's ctid moves with every update: a table without a key names its
                // rows by position, as MySQL's do.
                without_rowid: true,
                row_count: integer(&row[1]).map_or(0, |n| u64::try_from(n).unwrap_or(0)),
                ..Table::default()
            },
        );
    }
    read_columns(conn, &mut tables)?;
    read_constraints(conn, &mut tables)?;
    read_indexes(conn, &mut tables, &mut catalog.notes)?;
    for name in &order {
        let Some(mut table) = tables.remove(name) else {
            continue;
        };
        if exact_counts {
            table.row_count = conn
                .count_rows(&quote_ident(name), None)
                .map_err(count_failed(name))?;
        }
        table.sql = definition(&table);
        catalog.tables.push(table);
    }
    for row in query(
        conn,
        "(views)",
        "SELECT c.relname::text, pg_get_viewdef(c.oid, true) FROM pg_class c \
         WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'v' ORDER BY 1",
    )? {
        let select = text(&row[1]);
        catalog.views.push(View {
            name: text(&row[0]),
            sql: format!(
                "CREATE VIEW {} AS {}",
                quote_ident(&text(&row[0])),
                select.trim().trim_end_matches(';')
            ),
        });
    }
    for row in query(
        conn,
        "(triggers)",
        "SELECT t.tgname::text, c.relname::text, pg_get_triggerdef(t.oid) FROM pg_trigger t \
         JOIN pg_class c ON c.oid = t.tgrelid \
         WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal ORDER BY 1",
    )? {
        catalog.triggers.push(Trigger {
            name: text(&row[0]),
            table: text(&row[1]),
            sql: text(&row[2]),
        });
    }
    Ok(catalog)
}

/// Every table's columns, with their types as `format_type` writes them; a type decant cannot
/// carry (a composite, a range, a type of an extension) is refused here, named.
fn read_columns(
    conn: &mut SourceConnection,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), IntrospectError> {
    let rows = query(
        conn,
        "(columns)",
        "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), \
         a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, \
         a.attgenerated::text, \
         CASE WHEN a.attcollation <> t.typcollation THEN co.collname::text END, \
         pg_get_serial_sequence(quote_ident(c.relname), a.attname), \
         pg_sequence_last_value(pg_get_serial_sequence(quote_ident(c.relname), a.attname)::regclass) \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_type t ON t.oid = a.atttypid \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         LEFT JOIN pg_collation co ON co.oid = a.attcollation \
         WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') \
         AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum",
    )?;
    for row in rows {
        let Some(table) = tables.get_mut(&text(&row[0])) else {
            continue;
        };
        let name = text(&row[1]);
        let declared = text(&row[2]);
        if let Err(why) = parse_target_type(&carried_type(&declared)) {
            return Err(IntrospectError::UnsupportedType {
                table: table.name.clone(),
                column: name,
                declared,
                reason: why.to_string(),
            });
        }
        let default = match &row[4] {
            SqlValue::Null => None,
            value => Some(text(value)),
        };
        let generated = (text(&row[6]) == "s").then(|| Generated {
            expression: default.clone().unwrap_or_default(),
            stored: true,
        });
        // An identity or a `serial` (its sequence owned by the column) becomes an identity,
        // going on after the sequence's last value.
        let sequenced = !matches!(row[8], SqlValue::Null);
        if sequenced {
            table.rowid_alias = Some(name.clone());
            table.autoincrement = Some(AutoIncrement {
                column: name.clone(),
                sequence_value: integer(&row[9]),
            });
        }
        table.columns.push(Column {
            name,
            declared_type: declared,
            not_null: integer(&row[3]) == Some(1),
            default: if sequenced || generated.is_some() {
                None
            } else {
                default.map(|d| plain_default(&d))
            },
            generated,
            collation: match &row[7] {
                SqlValue::Null => None,
                value => Some(text(value)),
            },
            ..Column::default()
        });
    }
    Ok(())
}

/// The type a column is carried as: its own (PostgreSQL → PostgreSQL is the identity), with
/// `timestamp(3) with time zone` written as the plan's type names read it.
pub fn carried_type(declared: &str) -> String {
    let d = declared.trim();
    for (spelt, base) in [("timestamp", "timestamptz"), ("time", "timetz")] {
        let Some(rest) = d.strip_prefix(spelt).and_then(|r| r.strip_prefix('(')) else {
            continue;
        };
        let Some((precision, tail)) = rest.split_once(')') else {
            continue;
        };
        let array = if tail.ends_with("[]") { "[]" } else { "" };
        let tail = tail.trim_end_matches("[]").trim();
        let named = match tail {
            "with time zone" => base,
            "without time zone" | "" => spelt,
            _ => continue,
        };
        return format!("{named}({precision}){array}");
    }
    d.to_owned()
}

/// The built-in mapping of a PostgreSQL column: its own type (introspection refused the types
/// that do not parse).
pub fn postgres_mapping(column: &Column) -> TypeDecision {
    let carried = carried_type(&column.declared_type);
    let rule = format!(
        "default: {} → {carried} (the same type)",
        column.declared_type
    );
    match parse_target_type(&carried) {
        Ok(target) => TypeDecision {
            target,
            rule,
            transform: None,
            warnings: Vec::new(),
        },
        // Introspection refuses such a column; a catalog made otherwise still gets a
        // decision, and a reviewer the reason.
        Err(why) => TypeDecision {
            target: TargetType::simple("text"),
            rule,
            transform: None,
            warnings: vec![format!(
                "`{}` is not a type decant carries ({why}); read as text",
                column.declared_type
            )],
        },
    }
}

/// A default as the SQLite-born default translation reads it: a literal without its cast
/// (`'draft'::character varying` → `'draft'`), `now()` as `CURRENT_TIMESTAMP`.
fn plain_default(expr: &str) -> String {
    let e = expr.trim();
    if e.eq_ignore_ascii_case("now()") || e.eq_ignore_ascii_case("CURRENT_TIMESTAMP") {
        return "CURRENT_TIMESTAMP".to_owned();
    }
    if e.starts_with('\'') {
        if let Some(end) = e.rfind("'::") {
            return e[..=end].to_owned();
        }
    }
    e.to_owned()
}

/// Primary keys, uniques, foreign keys and CHECKs, with their columns in key order.
fn read_constraints(
    conn: &mut SourceConnection,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), IntrospectError> {
    let columns = |side: &str, rel: &str| {
        format!(
            "(SELECT json_agg(a.attname ORDER BY k.i)::text FROM unnest(con.{side}) WITH ORDINALITY k(n, i) \
             JOIN pg_attribute a ON a.attrelid = con.{rel} AND a.attnum = k.n)"
        )
    };
    let sql = format!(
        "SELECT c.relname::text, con.conname::text, con.contype::text, {}, \
         f.relname::text, {}, con.confupdtype::text, con.confdeltype::text, con.condeferrable, \
         con.condeferred, pg_get_constraintdef(con.oid, true) \
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
         LEFT JOIN pg_class f ON f.oid = con.confrelid \
         WHERE c.relnamespace = current_schema()::regnamespace AND con.contype IN ('p', 'u', 'f', 'c') \
         ORDER BY c.relname, con.conname",
        columns("conkey", "conrelid"),
        columns("confkey", "confrelid")
    );
    for row in query(conn, "(constraints)", &sql)? {
        let Some(table) = tables.get_mut(&text(&row[0])) else {
            continue;
        };
        let names = |v: &SqlValue| -> Result<Vec<String>, IntrospectError> {
            match v {
                // A CHECK names no columns in `confkey`, a non-foreign key none in `confkey`.
                SqlValue::Null => Ok(Vec::new()),
                v => serde_json::from_str(&text(v)).map_err(|e| IntrospectError::Ddl {
                    object: text(&row[1]),
                    sql: sql.clone(),
                    message: format!("its columns `{}` are not a JSON list: {e}", text(v)),
                }),
            }
        };
        let keys = names(&row[3])?;
        match text(&row[2]).as_str() {
            "p" => {
                for (i, key) in keys.iter().enumerate() {
                    if let Some(c) = table.columns.iter_mut().find(|c| c.name == *key) {
                        c.primary_key_position = u32::try_from(i + 1).unwrap_or(u32::MAX);
                    }
                }
                table.primary_key = keys;
            }
            "u" => table.uniques.push(UniqueConstraint {
                name: Some(text(&row[1])),
                columns: keys,
            }),
            "f" => table.foreign_keys.push(ForeignKey {
                columns: keys,
                referenced_table: text(&row[4]),
                referenced_columns: names(&row[5])?,
                on_update: action(&text(&row[6])),
                on_delete: action(&text(&row[7])),
                deferrable: integer(&row[8]) == Some(1),
                initially_deferred: integer(&row[9]) == Some(1),
            }),
            _ => {
                let def = text(&row[10]);
                let expression = def
                    .strip_prefix("CHECK ")
                    .unwrap_or(&def)
                    .trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .to_owned();
                table.checks.push(CheckConstraint {
                    name: Some(text(&row[1])),
                    expression,
                });
            }
        }
    }
    Ok(())
}

/// A foreign key's action as `pg_constraint` codes it.
fn action(code: &str) -> String {
    match code {
        "r" => "RESTRICT",
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        _ => "NO ACTION",
    }
    .to_owned()
}

/// The indexes not backing a constraint (those come with their constraint); B-tree ones only,
/// the others are noted.
fn read_indexes(
    conn: &mut SourceConnection,
    tables: &mut BTreeMap<String, Table>,
    notes: &mut Vec<String>,
) -> Result<(), IntrospectError> {
    for row in query(
        conn,
        "(indexes)",
        "SELECT c.relname::text, i.relname::text, ix.indisunique, pg_get_indexdef(ix.indexrelid), \
         pg_get_expr(ix.indpred, ix.indrelid), am.amname::text, \
         (SELECT json_agg(json_build_array(pg_get_indexdef(ix.indexrelid, k, true), \
           ix.indkey[k - 1] = 0, (ix.indoption[k - 1] & 1) = 1) ORDER BY k)::text \
          FROM generate_series(1, ix.indnkeyatts) k) \
         FROM pg_index ix JOIN pg_class c ON c.oid = ix.indrelid \
         JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_am am ON am.oid = i.relam \
         WHERE c.relnamespace = current_schema()::regnamespace \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid \
           AND con.contype IN ('p', 'u', 'x')) ORDER BY 1, 2",
    )? {
        let Some(table) = tables.get_mut(&text(&row[0])) else {
            continue;
        };
        let name = text(&row[1]);
        if text(&row[5]) != "btree" {
            notes.push(format!(
                "index `{name}` on `{}` uses `{}`, not carried: create it again after the run ({})",
                table.name,
                text(&row[5]),
                text(&row[3])
            ));
            continue;
        }
        let parts: Vec<(String, bool, bool)> =
            serde_json::from_str(&text(&row[6])).map_err(|e| IntrospectError::Ddl {
                object: name.clone(),
                sql: text(&row[3]),
                message: format!("its key parts `{}` do not read: {e}", text(&row[6])),
            })?;
        table.indexes.push(Index {
            name,
            unique: integer(&row[2]) == Some(1),
            parts: parts
                .into_iter()
                .map(|(key, expression, descending)| IndexPart {
                    key: if expression {
                        IndexKey::Expression(key)
                    } else {
                        IndexKey::Column(key.trim_matches('"').replace("\"\"", "\""))
                    },
                    descending,
                    collation: None,
                })
                .collect(),
            predicate: match &row[4] {
                SqlValue::Null => None,
                value => Some(text(value)),
            },
            sql: text(&row[3]),
            method: None,
        });
    }
    Ok(())
}

/// A `CREATE TABLE` that says what the table is, for the catalog's record of it.
fn definition(table: &Table) -> String {
    let mut parts: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            let mut part = format!("{} {}", quote_ident(&c.name), c.declared_type);
            if c.not_null {
                part.push_str(" NOT NULL");
            }
            part
        })
        .collect();
    if !table.primary_key.is_empty() {
        let key: Vec<String> = table.primary_key.iter().map(|k| quote_ident(k)).collect();
        parts.push(format!("PRIMARY KEY ({})", key.join(", ")));
    }
    format!(
        "CREATE TABLE {} ({})",
        quote_ident(&table.name),
        parts.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::{carried_type, plain_default};

    #[test]
    fn precision_moves_where_the_plan_reads_it_and_literal_casts_go() {
        assert_eq!(
            carried_type("timestamp(3) with time zone"),
            "timestamptz(3)"
        );
        assert_eq!(
            carried_type("timestamp(6) without time zone[]"),
            "timestamp(6)[]"
        );
        assert_eq!(carried_type("numeric(10,2)"), "numeric(10,2)");
        assert_eq!(plain_default("'draft'::character varying"), "'draft'");
        assert_eq!(plain_default("now()"), "CURRENT_TIMESTAMP");
    }
}

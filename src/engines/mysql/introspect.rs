//! Introspection of a MySQL or MariaDB database from `information_schema`: tables, columns with
//! their full types, keys, foreign keys, CHECKs, views and triggers, in the engine-neutral catalog.

use std::collections::BTreeMap;

use crate::catalog::{
    AutoIncrement, Catalog, CheckConstraint, Column, ColumnProfile, Engine, ForeignKey, Generated,
    Index, IndexKey, IndexPart, Table, Trigger, UniqueConstraint, View,
};
use crate::dialect::quote_ident;
use crate::engines::introspect::{count_failed, integer, query, text};
use crate::engines::IntrospectError;
use crate::engines::{share_out, AnotherSource, SourceConnection, SqlValue};

/// Reads the catalog of the database the connection is on (its `DATABASE()`); `another` opens
/// one more connection to it, to count two tables' rows at once. Without `exact_counts` the
/// row counts are InnoDB's estimates (its `TABLE_ROWS`), which cost nothing to read.
pub fn introspect_mysql(
    conn: &mut SourceConnection,
    another: &AnotherSource<'_>,
    exact_counts: bool,
) -> Result<Catalog, IntrospectError> {
    let mut catalog = Catalog {
        engine: Engine::Mysql,
        ..Catalog::default()
    };
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    let mut order = Vec::new();
    // InnoDB's estimate of each table's rows, to count the biggest first.
    let mut estimated_rows = Vec::new();
    for row in query(
        conn,
        "(tables)",
        "SELECT TABLE_NAME, TABLE_TYPE, AUTO_INCREMENT, TABLE_ROWS FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
    )? {
        let name = text(&row[0]);
        if text(&row[1]) == "VIEW" {
            continue;
        }
        let autoincrement = integer(&row[2]);
        estimated_rows.push(integer(&row[3]).map_or(0, |n| u64::try_from(n).unwrap_or(0)));
        order.push(name.clone());
        tables.insert(
            name.clone(),
            Table {
                name,
                // MySQL has no rowid: a table without a key names its rows by position.
                without_rowid: true,
                autoincrement: autoincrement.map(|next| AutoIncrement {
                    column: String::new(),
                    // The counter is the next id to hand out; decant continues after this.
                    sequence_value: Some(next - 1),
                }),
                ..Table::default()
            },
        );
    }
    let auto_increment = read_columns(conn, &mut tables, &mut catalog.notes)?;
    read_keys(conn, &mut tables, &mut catalog.notes)?;
    read_foreign_keys(conn, &mut tables)?;
    read_checks(conn, &mut tables)?;
    let row_counts = if exact_counts {
        let mut second = if order.len() > 1 { another() } else { None };
        let conns = std::iter::once(&mut *conn).chain(second.as_mut()).collect();
        count_tables(conns, &order, &estimated_rows)?
    } else {
        estimated_rows
    };
    let mut row_counts = row_counts.into_iter();
    for name in &order {
        let Some(mut table) = tables.remove(name) else {
            continue;
        };
        let sql = format!("SHOW CREATE TABLE {}", quote_ident(name));
        if let Some(row) = query(conn, name, &sql)?.into_iter().next() {
            // Without the counter MySQL writes into it (`AUTO_INCREMENT=42`), which moves with
            // every insert: the definition is the table's shape, kept in `autoincrement`.
            table.sql = row
                .get(1)
                .map(text)
                .unwrap_or_default()
                .split(' ')
                .filter(|word| !word.starts_with("AUTO_INCREMENT="))
                .collect::<Vec<_>>()
                .join(" ");
        }
        table.row_count = row_counts.next().unwrap_or(0);
        // The counter belongs to the AUTO_INCREMENT column; none means no counter.
        table.autoincrement = match (auto_increment.get(name), table.autoincrement.take()) {
            (Some(column), Some(a)) => Some(AutoIncrement {
                column: column.clone(),
                ..a
            }),
            _ => None,
        };
        // An AUTO_INCREMENT column becomes an identity, with or without a counter to go on from.
        table.rowid_alias = auto_increment.get(name).cloned();
        catalog.tables.push(table);
    }
    for row in query(
        conn,
        "(views)",
        "SELECT TABLE_NAME, VIEW_DEFINITION, TABLE_SCHEMA FROM information_schema.VIEWS \
         WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
    )? {
        // MySQL stores a view's SELECT with every name qualified by the database and quoted
        // with backticks; without the database, in `"`, it reads as the SELECT decant rewrites.
        let database = format!("`{}`.", text(&row[2]).replace('`', "``"));
        let select = text(&row[1]).replace(&database, "").replace('`', "\"");
        catalog.views.push(View {
            name: text(&row[0]),
            sql: format!("CREATE VIEW {} AS {select}", quote_ident(&text(&row[0]))),
        });
    }
    for row in query(
        conn,
        "(triggers)",
        "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_STATEMENT FROM information_schema.TRIGGERS \
         WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY TRIGGER_NAME",
    )? {
        catalog.triggers.push(Trigger {
            name: text(&row[0]),
            table: text(&row[1]),
            sql: text(&row[2]),
        });
    }
    // Stored procedures and functions: a run carries none, and says so, as for triggers.
    for row in query(
        conn,
        "(routines)",
        "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES \
         WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY ROUTINE_TYPE, ROUTINE_NAME",
    )? {
        let kind = if text(&row[1]).eq_ignore_ascii_case("function") {
            "stored function"
        } else {
            "stored procedure"
        };
        catalog.notes.push(format!(
            "{kind} `{}` is not carried: MySQL routine bodies are not translated; write it again in PL/pgSQL if the app calls it",
            text(&row[0])
        ));
    }
    Ok(catalog)
}

/// Reads every table's columns; returns each table's AUTO_INCREMENT column.
fn read_columns(
    conn: &mut SourceConnection,
    tables: &mut BTreeMap<String, Table>,
    notes: &mut Vec<String>,
) -> Result<BTreeMap<String, String>, IntrospectError> {
    let mut auto_increment = BTreeMap::new();
    let rows = query(
        conn,
        "(columns)",
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, \
         GENERATION_EXPRESSION, COLLATION_NAME FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION",
    )?;
    for row in rows {
        let Some(table) = tables.get_mut(&text(&row[0])) else {
            continue;
        };
        let extra = text(&row[5]).to_ascii_uppercase();
        let generation = text(&row[6]);
        let generated = (!generation.is_empty()).then(|| Generated {
            expression: generation.replace('`', "\""),
            stored: extra.contains("STORED") || extra.contains("PERSISTENT"),
        });
        let default = if extra.contains("AUTO_INCREMENT") {
            auto_increment.insert(text(&row[0]), text(&row[1]));
            None
        } else {
            match &row[4] {
                SqlValue::Null => None,
                // MariaDB writes a default of NULL as the word, and a function as its call.
                value if text(value).eq_ignore_ascii_case("NULL") => None,
                value => Some(
                    bit_literal(&text(value))
                        .or_else(|| clock_default(&text(value)))
                        .unwrap_or_else(|| text(value)),
                ),
            }
        };
        if extra.contains("ON UPDATE") {
            notes.push(format!(
                "column `{}.{}` has `{}`: PostgreSQL has no such clause, so it is not carried; the app or a trigger must set the column on update",
                text(&row[0]),
                text(&row[1]),
                text(&row[5])
            ));
        }
        let collation = text(&row[7]);
        table.columns.push(Column {
            name: text(&row[1]),
            declared_type: text(&row[2]),
            not_null: text(&row[3]) == "NO",
            default,
            primary_key_position: 0,
            generated,
            // A case-insensitive collation folds case in keys: the same as SQLite's NOCASE,
            // which decant carries as a `lower()` unique index.
            collation: collation.ends_with("_ci").then(|| "NOCASE".to_owned()),
            profile: None,
        });
    }
    Ok(auto_increment)
}

fn read_keys(
    conn: &mut SourceConnection,
    tables: &mut BTreeMap<String, Table>,
    notes: &mut Vec<String>,
) -> Result<(), IntrospectError> {
    let rows = query(
        conn,
        "(indexes)",
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE, COLLATION \
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
         ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
    )?;
    // (table, index) → (unique, parts, why not carried)
    type Parts = (bool, Vec<(String, bool)>, Option<String>);
    let mut indexes: BTreeMap<(String, String), Parts> = BTreeMap::new();
    let mut spatial: std::collections::BTreeSet<(String, String)> = Default::default();
    for row in rows {
        let key = (text(&row[0]), text(&row[1]));
        let key_of = key.clone();
        let entry = indexes
            .entry(key)
            .or_insert_with(|| (integer(&row[2]) == Some(0), Vec::new(), None));
        let column = text(&row[3]);
        // MariaDB gives a SPATIAL index's part a length (32) that is no prefix.
        if let Some(n) = integer(&row[4]).filter(|_| text(&row[5]) != "SPATIAL") {
            entry.2 = Some(format!("it indexes the first {n} characters of `{column}`"));
        }
        // A SPATIAL index becomes a GiST index where its column becomes PostGIS's geometry
        // (decided when the plan is resolved).
        if text(&row[5]) == "SPATIAL" {
            spatial.insert(key_of.clone());
        } else if text(&row[5]) != "BTREE" {
            entry.2 = Some(format!("it is a {} index", text(&row[5])));
        }
        entry.1.push((column, text(&row[6]) == "D"));
    }
    for ((table_name, index), (unique, parts, not_carried)) in indexes {
        let method = spatial
            .contains(&(table_name.clone(), index.clone()))
            .then(|| "spatial".to_owned());
        let Some(table) = tables.get_mut(&table_name) else {
            continue;
        };
        if let Some(why) = not_carried {
            notes.push(format!(
                "index `{index}` on `{table_name}` is not carried: {why}; create it in PostgreSQL by hand if it is needed"
            ));
            continue;
        }
        let columns: Vec<String> = parts.iter().map(|(c, _)| c.clone()).collect();
        if index == "PRIMARY" {
            for (i, c) in columns.iter().enumerate() {
                if let Some(col) = table.columns.iter_mut().find(|x| &x.name == c) {
                    col.primary_key_position = i as u32 + 1;
                }
            }
            table.primary_key = columns;
        } else if unique {
            table.uniques.push(UniqueConstraint {
                name: Some(index),
                columns,
            });
        } else {
            table.indexes.push(Index {
                sql: String::new(),
                name: index,
                unique: false,
                parts: parts
                    .into_iter()
                    .map(|(c, descending)| IndexPart {
                        key: IndexKey::Column(c),
                        descending,
                        collation: None,
                    })
                    .collect(),
                predicate: None,
                method,
            });
        }
    }
    Ok(())
}

fn read_foreign_keys(
    conn: &mut SourceConnection,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), IntrospectError> {
    let rows = query(
        conn,
        "(foreign keys)",
        "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, \
         k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE \
         FROM information_schema.KEY_COLUMN_USAGE k \
         JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
           ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
          AND r.TABLE_NAME = k.TABLE_NAME \
         WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
         ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
    )?;
    let mut keys: BTreeMap<(String, String), ForeignKey> = BTreeMap::new();
    for row in rows {
        let fk = keys
            .entry((text(&row[0]), text(&row[1])))
            .or_insert_with(|| ForeignKey {
                columns: Vec::new(),
                referenced_table: text(&row[3]),
                referenced_columns: Vec::new(),
                on_update: text(&row[5]),
                on_delete: text(&row[6]),
                deferrable: false,
                initially_deferred: false,
            });
        fk.columns.push(text(&row[2]));
        fk.referenced_columns.push(text(&row[4]));
    }
    for ((table, _), fk) in keys {
        if let Some(t) = tables.get_mut(&table) {
            t.foreign_keys.push(fk);
        }
    }
    Ok(())
}

fn read_checks(
    conn: &mut SourceConnection,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), IntrospectError> {
    let rows = query(
        conn,
        "(checks)",
        "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS \
         WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME",
    )?;
    for row in rows {
        if let Some(t) = tables.get_mut(&text(&row[0])) {
            t.checks.push(CheckConstraint {
                name: Some(text(&row[1])),
                // MySQL quotes names with backticks; decant's expressions use `"`.
                expression: text(&row[2]).replace('`', "\""),
            });
        }
    }
    Ok(())
}

/// A clock default as MySQL writes it (`current_timestamp()`, `current_timestamp(3)`,
/// `curdate()`), in the standard spelling decant carries: `CURRENT_TIMESTAMP`, `CURRENT_DATE`.
fn clock_default(default: &str) -> Option<String> {
    let lower = default.trim().to_ascii_lowercase();
    let name = lower.split('(').next().unwrap_or_default().trim();
    if lower != name && !lower.ends_with(')') {
        return None;
    }
    let standard = match name {
        "current_timestamp" | "now" | "localtimestamp" | "localtime" => "CURRENT_TIMESTAMP",
        "curdate" | "current_date" => "CURRENT_DATE",
        "curtime" | "current_time" => "CURRENT_TIME",
        _ => return None,
    };
    Some(standard.to_owned())
}

/// A BIT default as MySQL writes it (`b'1'`), as the number it is.
fn bit_literal(default: &str) -> Option<String> {
    let bits = default.strip_prefix("b'")?.strip_suffix('\'')?;
    u64::from_str_radix(bits, 2).ok().map(|n| n.to_string())
}

/// Profiles the wanted columns of every table, one aggregate scan per table, in one snapshot:
/// how many rows and NULLs, and how many values the MySQL route's target type cannot hold
/// (a zero date, `tinyint(1)` holding 2, a TIME past 24 hours, an id above 2^63 − 1, a NUL
/// byte in text). MySQL enforces its declared types, so nothing else needs counting.
pub fn profile_mysql(
    conn: &mut SourceConnection,
    catalog: &mut Catalog,
    wanted: impl Fn(&Table, &Column) -> bool,
) -> Result<(), IntrospectError> {
    let snapshot = |e| IntrospectError::Query {
        table: "(snapshot)".into(),
        sql: "START TRANSACTION WITH CONSISTENT SNAPSHOT".into(),
        source: e,
    };
    conn.begin_snapshot().map_err(snapshot)?;
    for table in &mut catalog.tables {
        let columns: Vec<(usize, Option<(String, &'static str)>)> = table
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| wanted(table, c))
            .map(|(i, c)| (i, unfit_test(table, c)))
            .collect();
        if columns.is_empty() {
            continue;
        }
        let mut terms = vec!["count(*)".to_owned()];
        for (i, test) in &columns {
            let column = quote_ident(&table.columns[*i].name);
            terms.push(format!("sum({column} IS NULL)"));
            terms.push(match test {
                Some((condition, _)) => format!("sum({column} IS NOT NULL AND ({condition}))"),
                None => "0".to_owned(),
            });
        }
        let sql = format!(
            "SELECT {} FROM {}",
            terms.join(", "),
            quote_ident(&table.name)
        );
        let row = query(conn, &table.name, &sql)?
            .into_iter()
            .next()
            .unwrap_or_default();
        let number = |k: usize| row.get(k).and_then(integer).unwrap_or(0).max(0) as u64;
        let rows = number(0);
        for (n, (i, test)) in columns.iter().enumerate() {
            let unfit = number(2 + 2 * n);
            table.columns[*i].profile = Some(ColumnProfile {
                rows,
                nulls: number(1 + 2 * n),
                unfit,
                unfit_kind: test
                    .as_ref()
                    .filter(|_| unfit > 0)
                    .map(|(_, kind)| (*kind).to_owned()),
                ..ColumnProfile::default()
            });
        }
    }
    conn.end_snapshot().map_err(snapshot)
}

/// The SQL condition that finds a value the column's target type cannot hold, and what such
/// a value is; `None` when every value of the type fits.
fn unfit_test(table: &Table, column: &Column) -> Option<(String, &'static str)> {
    let c = quote_ident(&column.name);
    let declared = column.declared_type.to_ascii_lowercase();
    let base: String = declared
        .chars()
        .take_while(|ch| ch.is_ascii_alphanumeric())
        .collect();
    let unsigned = declared.contains(" unsigned");
    let key = table.rowid_alias.as_deref() == Some(column.name.as_str())
        || table.primary_key.contains(&column.name)
        || table
            .foreign_keys
            .iter()
            .any(|fk| fk.columns.contains(&column.name));
    Some(match base.as_str() {
        "tinyint" if declared.starts_with("tinyint(1)") && !unsigned => (
            format!("{c} NOT IN (0, 1)"),
            "a number other than 0 or 1 in a tinyint(1) (a boolean)",
        ),
        "date" | "datetime" | "timestamp" => (
            format!("MONTH({c}) = 0 OR DAYOFMONTH({c}) = 0"),
            "a zero date (0000-00-00) or a date with a zero month or day",
        ),
        "time" => (
            format!("{c} < '00:00:00' OR {c} >= '24:00:00'"),
            "a TIME outside 00:00-24:00 (a duration, not a time of day)",
        ),
        "bigint" if unsigned && key => {
            (format!("{c} > 9223372036854775807"), "an id above 2^63 - 1")
        }
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" => (
            format!("INSTR({c}, CHAR(0)) > 0"),
            "text holding a NUL byte, which PostgreSQL text cannot",
        ),
        _ => return None,
    })
}

/// How many rows of `table` meet each of `conditions` (NULLs meet none), in one scan.
pub fn count_where(
    conn: &mut SourceConnection,
    table: &str,
    conditions: &[String],
) -> Result<Vec<u64>, IntrospectError> {
    if conditions.is_empty() {
        return Ok(Vec::new());
    }
    let terms: Vec<String> = conditions
        .iter()
        .map(|c| format!("coalesce(sum({c}), 0)"))
        .collect();
    let sql = format!("SELECT {} FROM {}", terms.join(", "), quote_ident(table));
    let row = query(conn, table, &sql)?
        .into_iter()
        .next()
        .unwrap_or_default();
    Ok((0..conditions.len())
        .map(|k| row.get(k).and_then(integer).unwrap_or(0).max(0) as u64)
        .collect())
}

/// The exact row count of each table in `names`, in that order, counted on `conns` at once,
/// each taking the biggest table (by `estimated`) not counted yet. InnoDB counts by reading an
/// index, which makes the counts the longest reads before a run's first load: introspection
/// counts on a second connection beside the first, a run on its snapshot's parallel readers.
pub fn count_tables(
    conns: Vec<&mut SourceConnection>,
    names: &[String],
    estimated: &[u64],
) -> Result<Vec<u64>, IntrospectError> {
    let tables: Vec<(&String, u64)> = names.iter().zip(estimated.iter().copied()).collect();
    share_out(
        conns,
        &tables,
        |(_, rows)| *rows,
        |conn, (name, _)| count_one(conn, name),
    )
    .into_iter()
    .collect()
}

fn count_one(conn: &mut SourceConnection, name: &str) -> Result<u64, IntrospectError> {
    conn.count_rows(&quote_ident(name), None)
        .map_err(count_failed(name))
}

//! Introspection of real SQLite files.

use diesel::connection::SimpleConnection;
use diesel::SqliteConnection;

use decant::catalog::{
    AutoIncrement, Catalog, ColumnProfile, ForeignKey, Generated, IndexKey, IndexPart, Table,
    UniqueConstraint,
};
use decant::engines::sqlite::{
    introspect_sqlite, open_sqlite_read_only, profile_catalog, profile_table, quick_check,
};
use decant::engines::IntrospectError;

use crate::support::sqlite_from_sql;

/// Builds a SQLite file from `sql`, opens it read-only and introspects it.
fn catalog_of(sql: &str) -> Catalog {
    let (_dir, path) = sqlite_from_sql(sql);
    let mut conn = open_sqlite_read_only(&path).expect("the fixture opens");
    introspect_sqlite(&mut conn).expect("the fixture introspects")
}

fn table<'a>(catalog: &'a Catalog, name: &str) -> &'a Table {
    catalog
        .table(name)
        .unwrap_or_else(|| panic!("table `{name}` in {:?}", table_names(catalog)))
}

fn table_names(catalog: &Catalog) -> Vec<&str> {
    catalog.tables.iter().map(|t| t.name.as_str()).collect()
}

/// Profiles every column of `table_name` in the file built from `sql`.
fn profiles_of(sql: &str, table_name: &str) -> Vec<(String, ColumnProfile)> {
    let (_dir, path) = sqlite_from_sql(sql);
    let mut conn = open_sqlite_read_only(&path).expect("the fixture opens");
    let catalog = introspect_sqlite(&mut conn).expect("the fixture introspects");
    let table = table(&catalog, table_name);
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    let profiles = profile_table(&mut conn, table, &names).expect("the table profiles");
    names.iter().map(|n| n.to_string()).zip(profiles).collect()
}

fn profile<'a>(profiles: &'a [(String, ColumnProfile)], column: &str) -> &'a ColumnProfile {
    profiles
        .iter()
        .find(|(name, _)| name == column)
        .map(|(_, p)| p)
        .unwrap_or_else(|| panic!("a profile for `{column}`"))
}

#[test]
fn introspection_finds_rowid_alias_and_autoincrement_with_sequence_above_max_id() {
    let catalog = catalog_of(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, total REAL NOT NULL);
         INSERT INTO orders (total) VALUES (1.5), (2.5), (3.5), (4.5);
         DELETE FROM orders WHERE id > 2;
         CREATE TABLE plain (id integer primary key, name TEXT);",
    );
    let orders = table(&catalog, "orders");
    assert_eq!(orders.rowid_alias.as_deref(), Some("id"));
    assert_eq!(orders.primary_key, ["id"]);
    assert_eq!(
        orders.autoincrement,
        Some(AutoIncrement {
            column: "id".into(),
            sequence_value: Some(4)
        })
    );
    assert_eq!(orders.row_count, 2);
    assert!(!orders.without_rowid);
    let plain = table(&catalog, "plain");
    assert_eq!(
        plain.rowid_alias.as_deref(),
        Some("id"),
        "the type name is case-insensitive"
    );
    assert_eq!(plain.autoincrement, None);
}

#[test]
fn introspection_reports_autoincrement_without_a_sequence_value_when_nothing_was_inserted() {
    let catalog = catalog_of("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);");
    assert_eq!(
        table(&catalog, "t").autoincrement,
        Some(AutoIncrement {
            column: "id".into(),
            sequence_value: None
        })
    );
}

#[test]
fn introspection_finds_composite_primary_key_in_key_order_without_rowid() {
    let catalog = catalog_of(
        "CREATE TABLE membership (member TEXT NOT NULL, grp INTEGER NOT NULL, role TEXT,
             PRIMARY KEY (grp, member)) WITHOUT ROWID;",
    );
    let t = table(&catalog, "membership");
    assert_eq!(t.primary_key, ["grp", "member"]);
    assert!(t.without_rowid);
    assert_eq!(t.rowid_alias, None);
    let positions: Vec<(&str, u32)> = t
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.primary_key_position))
        .collect();
    assert_eq!(positions, [("member", 2), ("grp", 1), ("role", 0)]);
}

#[test]
fn introspection_only_calls_exactly_integer_primary_key_a_rowid_alias() {
    let catalog = catalog_of(
        "CREATE TABLE a (id INT PRIMARY KEY, v);
         CREATE TABLE b (id INTEGER PRIMARY KEY DESC, v);
         CREATE TABLE c (id INTEGER PRIMARY KEY, v) WITHOUT ROWID;
         CREATE TABLE d (id INTEGER, k INTEGER, PRIMARY KEY (id, k));
         CREATE TABLE e (id INTEGER, v, PRIMARY KEY (id));",
    );
    for name in ["a", "b", "c", "d"] {
        assert_eq!(table(&catalog, name).rowid_alias, None, "table `{name}`");
    }
    assert_eq!(table(&catalog, "e").rowid_alias.as_deref(), Some("id"));
}

#[test]
fn introspection_tells_unique_constraints_from_created_unique_indexes() {
    let catalog = catalog_of(
        "CREATE TABLE users (
             id INTEGER PRIMARY KEY,
             email TEXT UNIQUE,
             tenant INTEGER, handle TEXT,
             CONSTRAINT users_handle_key UNIQUE (tenant, handle)
         );
         CREATE UNIQUE INDEX users_lower_email ON users (lower(email));
         CREATE INDEX users_tenant ON users (tenant);",
    );
    let users = table(&catalog, "users");
    assert_eq!(
        users.uniques,
        [
            UniqueConstraint {
                name: None,
                columns: vec!["email".into()]
            },
            UniqueConstraint {
                name: Some("users_handle_key".into()),
                columns: vec!["tenant".into(), "handle".into()]
            },
        ]
    );
    let indexes: Vec<(&str, bool)> = users
        .indexes
        .iter()
        .map(|i| (i.name.as_str(), i.unique))
        .collect();
    assert_eq!(
        indexes,
        [("users_lower_email", true), ("users_tenant", false)]
    );
    assert_eq!(
        users.indexes[1].sql,
        "CREATE INDEX users_tenant ON users (tenant)"
    );
}

#[test]
fn introspection_reads_partial_expression_descending_and_collated_index_parts() {
    let catalog = catalog_of(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT, at TEXT, deleted INTEGER);
         CREATE INDEX events_live ON events (kind COLLATE NOCASE, at DESC, lower(kind) ASC)
             WHERE deleted = 0 AND kind <> 'x';",
    );
    let index = &table(&catalog, "events").indexes[0];
    assert_eq!(index.name, "events_live");
    assert!(!index.unique);
    assert_eq!(
        index.parts,
        [
            IndexPart {
                key: IndexKey::Column("kind".into()),
                descending: false,
                collation: Some("NOCASE".into())
            },
            IndexPart {
                key: IndexKey::Column("at".into()),
                descending: true,
                collation: None
            },
            IndexPart {
                key: IndexKey::Expression("lower(kind)".into()),
                descending: false,
                collation: None
            },
        ]
    );
    assert_eq!(
        index.predicate.as_deref(),
        Some("deleted = 0 AND kind <> 'x'")
    );
}

#[test]
fn introspection_reads_foreign_keys_with_actions_and_implicit_parent_key() {
    let catalog = catalog_of(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, UNIQUE (a, b));
         CREATE TABLE child (
             id INTEGER PRIMARY KEY,
             parent_id INTEGER REFERENCES parent ON DELETE CASCADE,
             other_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED,
             a INTEGER, b INTEGER,
             FOREIGN KEY (a, b) REFERENCES parent (a, b) ON UPDATE SET NULL ON DELETE RESTRICT
         );",
    );
    let fk = |columns: &[&str], referenced: &[&str], on_update: &str, on_delete: &str| ForeignKey {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        referenced_table: "parent".into(),
        referenced_columns: referenced.iter().map(|c| c.to_string()).collect(),
        on_update: on_update.into(),
        on_delete: on_delete.into(),
        deferrable: false,
        initially_deferred: false,
    };
    let deferred = ForeignKey {
        deferrable: true,
        initially_deferred: true,
        ..fk(&["other_id"], &["id"], "NO ACTION", "NO ACTION")
    };
    assert_eq!(
        table(&catalog, "child").foreign_keys,
        [
            fk(&["parent_id"], &[], "NO ACTION", "CASCADE"),
            deferred,
            fk(&["a", "b"], &["a", "b"], "SET NULL", "RESTRICT"),
        ]
    );
}

#[test]
fn introspection_reads_named_and_unnamed_check_constraints_as_written() {
    let catalog = catalog_of(
        "CREATE TABLE products (
             price REAL CHECK (price >= 0),
             code TEXT CONSTRAINT code_shape CHECK ( length(code) = 8 AND code GLOB '[A-Z]*' ),
             stock INTEGER,
             CONSTRAINT stock_positive CHECK (stock > 0 OR (stock = 0 AND price IS NULL)),
             CHECK (code <> 'it''s')
         );",
    );
    let checks: Vec<(Option<&str>, &str)> = table(&catalog, "products")
        .checks
        .iter()
        .map(|c| (c.name.as_deref(), c.expression.as_str()))
        .collect();
    assert_eq!(
        checks,
        [
            (None, "price >= 0"),
            (
                Some("code_shape"),
                "length(code) = 8 AND code GLOB '[A-Z]*'"
            ),
            (
                Some("stock_positive"),
                "stock > 0 OR (stock = 0 AND price IS NULL)"
            ),
            (None, "code <> 'it''s'"),
        ]
    );
}

#[test]
fn introspection_reads_stored_and_virtual_generated_columns() {
    let catalog = catalog_of(
        "CREATE TABLE lines (
             qty INTEGER, price REAL,
             total REAL GENERATED ALWAYS AS (qty * price) STORED,
             label TEXT AS ('x' || (qty + 1)),
             half REAL GENERATED ALWAYS AS (price / 2) VIRTUAL
         );
         INSERT INTO lines (qty, price) VALUES (2, 3.0);",
    );
    let t = table(&catalog, "lines");
    let generated = |name: &str| t.column(name).and_then(|c| c.generated.clone());
    assert_eq!(generated("qty"), None);
    assert_eq!(
        generated("total"),
        Some(Generated {
            expression: "qty * price".into(),
            stored: true
        })
    );
    assert_eq!(
        generated("label"),
        Some(Generated {
            expression: "'x' || (qty + 1)".into(),
            stored: false
        })
    );
    assert_eq!(
        generated("half"),
        Some(Generated {
            expression: "price / 2".into(),
            stored: false
        })
    );
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["qty", "price", "total", "label", "half"]);
}

#[test]
fn introspection_keeps_declared_types_defaults_and_collations_as_written() {
    let catalog = catalog_of(
        "CREATE TABLE notes (
             anything,
             title varchar(200) NOT NULL DEFAULT 'draft' COLLATE NOCASE,
             created DATETIME DEFAULT CURRENT_TIMESTAMP,
             score DECIMAL(10, 2) DEFAULT -1,
             body TEXT COLLATE BINARY,
             tag TEXT COLLATE rtrim
         );",
    );
    let t = table(&catalog, "notes");
    let col = |name: &str| t.column(name).unwrap_or_else(|| panic!("column `{name}`"));
    assert_eq!(col("anything").declared_type, "");
    assert_eq!(col("title").declared_type, "varchar(200)");
    assert!(col("title").not_null && !col("anything").not_null);
    assert_eq!(col("title").default.as_deref(), Some("'draft'"));
    assert_eq!(col("title").collation.as_deref(), Some("NOCASE"));
    assert_eq!(col("created").default.as_deref(), Some("CURRENT_TIMESTAMP"));
    assert_eq!(col("score").declared_type, "DECIMAL(10, 2)");
    assert_eq!(col("score").default.as_deref(), Some("-1"));
    assert_eq!(col("body").collation, None);
    assert_eq!(col("tag").collation.as_deref(), Some("rtrim"));
    assert!(t.primary_key.is_empty() && t.rowid_alias.is_none());
}

#[test]
fn introspection_reports_views_and_triggers() {
    let catalog = catalog_of(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, changed TEXT);
         CREATE VIEW recent AS SELECT id, v FROM t WHERE id > 10;
         CREATE TRIGGER t_touch AFTER UPDATE ON t BEGIN
             UPDATE t SET changed = 'yes' WHERE id = NEW.id;
         END;",
    );
    assert_eq!(catalog.views.len(), 1);
    assert_eq!(catalog.views[0].name, "recent");
    assert_eq!(
        catalog.views[0].sql,
        "CREATE VIEW recent AS SELECT id, v FROM t WHERE id > 10"
    );
    assert_eq!(catalog.triggers.len(), 1);
    assert_eq!(catalog.triggers[0].name, "t_touch");
    assert_eq!(catalog.triggers[0].table, "t");
    assert!(catalog.triggers[0]
        .sql
        .starts_with("CREATE TRIGGER t_touch AFTER UPDATE ON t"));
    assert_eq!(table_names(&catalog), ["t"], "views are not tables");
}

#[test]
fn introspection_skips_sqlite_internal_tables_and_keeps_source_order() {
    let catalog = catalog_of(
        "CREATE TABLE zebra (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);
         CREATE TABLE apple (id INTEGER PRIMARY KEY, v TEXT);
         CREATE INDEX apple_v ON apple (v);
         INSERT INTO zebra (v) VALUES ('a');
         INSERT INTO apple (v) VALUES ('a'), ('b');
         ANALYZE;",
    );
    assert_eq!(table_names(&catalog), ["zebra", "apple"]);
    assert_eq!(table(&catalog, "apple").row_count, 2);
}

#[test]
fn introspection_quotes_identifiers_with_spaces_quotes_mixed_case_and_reserved_words() {
    let sql = r#"
        CREATE TABLE "order" (
            "select" INTEGER PRIMARY KEY,
            "Customer Name" TEXT UNIQUE,
            "say ""hi""" TEXT CHECK ("say ""hi""" <> ''),
            [from] INTEGER REFERENCES "Line Items"("Line ID")
        );
        CREATE TABLE "Line Items" ("Line ID" INTEGER PRIMARY KEY, `where` TEXT);
        CREATE INDEX "order by ""name""" ON "order" ("Customer Name" DESC, "from");
        INSERT INTO "Line Items" VALUES (1, 'x');
        INSERT INTO "order" VALUES (1, 'Ann', 'hello', 1), (2, 'Bob', NULL, NULL);
    "#;
    let (_dir, path) = sqlite_from_sql(sql);
    let mut conn = open_sqlite_read_only(&path).expect("opens");
    let catalog = introspect_sqlite(&mut conn).expect("introspects");
    let order = table(&catalog, "order");
    let names: Vec<&str> = order.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["select", "Customer Name", "say \"hi\"", "from"]);
    assert_eq!(order.row_count, 2);
    assert_eq!(order.rowid_alias.as_deref(), Some("select"));
    assert_eq!(order.uniques[0].columns, ["Customer Name"]);
    assert_eq!(order.checks[0].expression, "\"say \"\"hi\"\"\" <> ''");
    assert_eq!(order.foreign_keys[0].referenced_table, "Line Items");
    assert_eq!(order.foreign_keys[0].referenced_columns, ["Line ID"]);
    assert_eq!(order.indexes[0].name, "order by \"name\"");
    assert_eq!(
        order.indexes[0].parts[0].key,
        IndexKey::Column("Customer Name".into())
    );
    assert_eq!(
        order.indexes[0].parts[1].key,
        IndexKey::Column("from".into())
    );
    assert_eq!(
        table(&catalog, "Line Items")
            .column("where")
            .map(|c| c.declared_type.as_str()),
        Some("TEXT")
    );

    let names: Vec<&str> = order.columns.iter().map(|c| c.name.as_str()).collect();
    let profiles = profile_table(&mut conn, order, &names).expect("profiles");
    assert_eq!(profiles[2].nulls, 1);
    assert_eq!(profiles[2].max_text_length, Some(5));
}

#[test]
fn profiling_counts_storage_classes_and_text_shapes() {
    let profiles = profiles_of(
        r#"CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, flag INTEGER, r REAL, s TEXT, b BLOB);
        INSERT INTO t (n, flag, r, s, b) VALUES
            (5, 0, 1.5, '2024-01-31', x'00'),
            ('abc', 1, 2.0, '2024-01-31T10:00:00Z', NULL),
            (-7, 1, 3.25, '0123456789abcdefABCDEF0123456789', 'text in blob'),
            (NULL, 0, NULL, '123e4567-e89b-12d3-a456-426614174000', NULL),
            (9000000000, 2, 7, '  {"a": [1, 2]}', NULL),
            (12, NULL, -0.5, '[1, 2', NULL),
            (3.5, 0, 1e300, '-42', NULL),
            (0, 1, NULL, '+4.20', NULL),
            (1, 0, NULL, ' Yes ', NULL),
            (1, 1, NULL, 'ünïcödé', NULL),
            (1, 0, NULL, '1.2.3', NULL),
            (1, 0, NULL, '[]', NULL);"#,
        "t",
    );
    let n = profile(&profiles, "n");
    assert_eq!(n.rows, 12);
    assert_eq!(
        (n.nulls, n.integers, n.reals, n.texts, n.blobs),
        (1, 9, 1, 1, 0)
    );
    assert_eq!(
        (n.min_integer, n.max_integer),
        (Some(-7), Some(9_000_000_000))
    );
    assert_eq!(n.zero_one_integers, 5);
    assert_eq!(n.max_text_length, Some(3));
    assert_eq!(n.storage_classes(), 3);

    let flag = profile(&profiles, "flag");
    assert_eq!(
        (flag.integers, flag.zero_one_integers, flag.nulls),
        (11, 10, 1)
    );

    let r = profile(&profiles, "r");
    // REAL affinity stores the 7 as 7.0.
    assert_eq!((r.reals, r.integers, r.nulls), (6, 0, 6));
    // 1.5, 3.25, -0.5 and 1e300 (which no 64-bit integer holds).
    assert_eq!(r.fractional_reals, 4);
    assert_eq!((r.min_integer, r.max_integer), (None, None));

    let s = profile(&profiles, "s");
    assert_eq!(s.texts, 12);
    assert_eq!(s.iso_datetime_texts, 2);
    assert_eq!(s.hex32_texts, 1);
    assert_eq!(s.uuid_texts, 1);
    assert_eq!(
        s.json_texts, 2,
        "the object with leading spaces and the empty array"
    );
    assert_eq!(s.integer_texts, 1);
    assert_eq!(s.real_texts, 1);
    assert_eq!(s.boolean_texts, 1);
    assert_eq!(s.max_text_length, Some(36));

    let b = profile(&profiles, "b");
    assert_eq!((b.blobs, b.texts, b.nulls), (1, 1, 10));
    assert_eq!(b.max_text_length, Some(12));
}

#[test]
fn profiling_an_empty_table_gives_zeros_and_no_extremes() {
    let profiles = profiles_of("CREATE TABLE t (a INTEGER, b TEXT);", "t");
    for (_, p) in &profiles {
        assert_eq!(p, &ColumnProfile::default());
    }
}

#[test]
fn profiling_an_unknown_column_fails_naming_table_and_column() {
    let (_dir, path) = sqlite_from_sql("CREATE TABLE t (a INTEGER);");
    let mut conn = open_sqlite_read_only(&path).expect("opens");
    let catalog = introspect_sqlite(&mut conn).expect("introspects");
    let error = profile_table(&mut conn, table(&catalog, "t"), &["nope"]).expect_err("fails");
    assert!(matches!(error, IntrospectError::UnknownColumn { .. }));
    assert_eq!(
        error.to_string(),
        "table `t` has no column `nope` to profile"
    );
}

#[test]
fn profile_catalog_fills_only_the_wanted_columns() {
    let (_dir, path) = sqlite_from_sql(
        "CREATE TABLE a (id INTEGER PRIMARY KEY, created TEXT);
         CREATE TABLE b (id INTEGER PRIMARY KEY, v TEXT);
         INSERT INTO a (created) VALUES ('2024-05-01 10:00:00'), (NULL);",
    );
    let mut conn = open_sqlite_read_only(&path).expect("opens");
    let mut catalog = introspect_sqlite(&mut conn).expect("introspects");
    profile_catalog(&mut conn, &mut catalog, |t, c| {
        t.name == "a" && c.name == "created"
    })
    .expect("profiles");
    let created = table(&catalog, "a")
        .column("created")
        .and_then(|c| c.profile.clone());
    let created = created.expect("a profile for `a.created`");
    assert_eq!(
        (created.rows, created.nulls, created.iso_datetime_texts),
        (2, 1, 1)
    );
    assert!(table(&catalog, "a")
        .column("id")
        .is_some_and(|c| c.profile.is_none()));
    assert!(table(&catalog, "b")
        .columns
        .iter()
        .all(|c| c.profile.is_none()));
}

#[test]
fn opening_a_missing_file_fails_with_the_path_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("missing.sqlite3");
    let Err(error) = open_sqlite_read_only(&path) else {
        panic!("a missing file does not open");
    };
    assert!(matches!(error, IntrospectError::NotFound { .. }));
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "{error}"
    );
    assert!(!path.exists());
    let entries = std::fs::read_dir(dir.path()).expect("lists").count();
    assert_eq!(entries, 0, "nothing was created");
}

#[test]
fn opening_a_file_that_is_not_sqlite_fails_with_the_path() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("notes.txt");
    std::fs::write(
        &path,
        "this is not a database, just some text that is long enough ".repeat(20),
    )
    .expect("writes");
    let Err(error) = open_sqlite_read_only(&path) else {
        panic!("a text file is not a database");
    };
    assert!(
        matches!(error, IntrospectError::NotADatabase { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "{error}"
    );
}

#[test]
fn introspection_and_profiling_leave_the_source_byte_identical_and_cannot_write() {
    let (dir, built) = sqlite_from_sql(
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);
         INSERT INTO t (v) VALUES ('a'), ('b');",
    );
    // A name a `file:` URI would misread unless `?`, `#` and `%` are escaped.
    let path = dir.path().join("odd ?name#with%25.sqlite3");
    std::fs::rename(&built, &path).expect("renames");
    let before = std::fs::read(&path).expect("reads");
    let entries_before = std::fs::read_dir(dir.path()).expect("lists").count();

    let mut conn = open_sqlite_read_only(&path).expect("opens");
    let mut catalog = introspect_sqlite(&mut conn).expect("introspects");
    assert_eq!(
        table(&catalog, "t").row_count,
        2,
        "the escaped path is the real file"
    );
    profile_catalog(&mut conn, &mut catalog, |_, _| true).expect("profiles");
    let write = conn.batch_execute("INSERT INTO t (v) VALUES ('c'); CREATE TABLE x (a);");
    assert!(write.is_err(), "the connection is read-only");
    drop::<SqliteConnection>(conn);

    assert_eq!(std::fs::read(&path).expect("reads"), before);
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("lists").count(),
        entries_before
    );
}

#[test]
fn introspection_lists_virtual_tables_without_their_hidden_columns() {
    let catalog = catalog_of(
        "CREATE VIRTUAL TABLE docs USING fts5(title, body);
         INSERT INTO docs VALUES ('a', 'b');
         CREATE TABLE later (id INTEGER PRIMARY KEY);
         ALTER TABLE later ADD COLUMN score INTEGER CHECK (score > 0) DEFAULT 1;",
    );
    let docs = table(&catalog, "docs");
    assert!(docs.sql.starts_with("CREATE VIRTUAL TABLE"));
    let names: Vec<&str> = docs.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["title", "body"]);
    assert_eq!(docs.row_count, 1);
    let later = table(&catalog, "later");
    assert_eq!(later.checks[0].expression, "score > 0");
    assert_eq!(
        later.column("score").and_then(|c| c.default.as_deref()),
        Some("1")
    );
}

#[test]
fn introspection_reads_a_wal_mode_source_and_leaves_it_byte_identical() {
    let (_dir, path) = sqlite_from_sql(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
         INSERT INTO t (v) VALUES ('a'), ('b'), ('c');",
    );
    let before = std::fs::read(&path).expect("reads");
    let mut conn = open_sqlite_read_only(&path).expect("opens");
    let mut catalog = introspect_sqlite(&mut conn).expect("introspects");
    profile_catalog(&mut conn, &mut catalog, |_, _| true).expect("profiles");
    assert!(
        conn.batch_execute("DELETE FROM t").is_err(),
        "the connection is read-only"
    );
    drop::<SqliteConnection>(conn);
    assert_eq!(table(&catalog, "t").row_count, 3);
    // SQLite may leave its usual `-wal`/`-shm` files beside a WAL database; the database
    // file itself is untouched.
    assert_eq!(std::fs::read(&path).expect("reads"), before);
}

#[test]
fn profiling_a_table_wider_than_the_aggregate_term_limit_takes_extra_scans() {
    let columns: Vec<String> = (0..150).map(|i| format!("c{i} INTEGER")).collect();
    let values: Vec<String> = (0..150).map(|i| i.to_string()).collect();
    let sql = format!(
        "CREATE TABLE wide ({}); INSERT INTO wide VALUES ({});",
        columns.join(", "),
        values.join(", ")
    );
    let profiles = profiles_of(&sql, "wide");
    assert_eq!(profiles.len(), 150);
    assert_eq!(profile(&profiles, "c149").max_integer, Some(149));
    assert_eq!(profile(&profiles, "c1").zero_one_integers, 1);
}

/// A SQLite file of a few dozen 4 KiB pages: one table of 2 000 rows of 100 characters, and
/// a narrow index that `count(*)` reads instead of the rows.
fn many_pages() -> (tempfile::TempDir, std::path::PathBuf) {
    sqlite_from_sql(
        "PRAGMA page_size = 4096;
         CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, v TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
         INSERT INTO t (k, v) SELECT i, printf('%.100c', 'x') FROM n;
         CREATE INDEX t_k ON t (k);",
    )
}

#[test]
fn a_truncated_sqlite_file_is_called_corrupt_not_something_else() {
    let (_dir, path) = many_pages();
    let full = std::fs::metadata(&path).expect("stats").len();
    assert!(full > 20 * 4096, "the fixture spans many pages: {full}");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("opens for writing");
    file.set_len(3 * 4096).expect("truncates");
    drop(file);
    let Err(error) = open_sqlite_read_only(&path) else {
        panic!("a truncated file must not open as a good database");
    };
    let message = error.to_string();
    assert!(
        matches!(error, IntrospectError::Corrupt { .. }),
        "{error:?}"
    );
    assert!(
        message.starts_with(&format!(
            "`{}` is a SQLite database but it is corrupt or truncated: ",
            path.display()
        )),
        "{message}"
    );
    assert!(
        message.contains(&format!("but the file has {} bytes", 3 * 4096)),
        "{message}"
    );
}

#[test]
fn a_sqlite_file_with_a_garbled_first_page_is_corrupt_with_sqlites_reason() {
    let (_dir, path) = many_pages();
    let mut bytes = std::fs::read(&path).expect("reads");
    // Keep the 100-byte header, garble the rest of page 1 (the schema's b-tree page).
    bytes[100..4096].fill(0xA5);
    std::fs::write(&path, &bytes).expect("writes");
    let Err(error) = open_sqlite_read_only(&path) else {
        panic!("a garbled schema page must not open");
    };
    assert!(
        matches!(error, IntrospectError::Corrupt { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("malformed"),
        "SQLite's own reason is kept: {error}"
    );
}

#[test]
fn quick_check_finds_a_garbled_table_page_that_opening_does_not_read() {
    let (_dir, path) = many_pages();
    let mut conn = open_sqlite_read_only(&path).expect("opens");
    assert_eq!(quick_check(&mut conn).expect("runs"), Vec::<String>::new());
    drop(conn);
    let mut bytes = std::fs::read(&path).expect("reads");
    // Page 5 is a leaf of `t`'s rows; the header, the schema and the index (made last, which
    // `count(*)` reads) stay intact.
    bytes[4 * 4096..5 * 4096].fill(0xA5);
    std::fs::write(&path, &bytes).expect("writes");
    let mut conn = open_sqlite_read_only(&path).expect("the schema still reads");
    let findings = quick_check(&mut conn).expect("runs");
    assert!(
        !findings.is_empty(),
        "quick_check must see the garbled page"
    );
}

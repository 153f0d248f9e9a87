//! The copy engine against real databases: SQLite files built from SQL, a PostgreSQL database
//! per test, SQL rendered by decant's own templates.

use decant::engines::SourceConnection;
use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{PgConnection, QueryableByName, RunQueryDsl};
use minijinja::context;

use decant::copy::{
    copy_table, select_columns, CopyError, CopyStats, JsonLinesRejects, ReadAlong, RejectSink,
    VecRejects,
};
use decant::dialect::{quote_ident, Templates};
use decant::engines::postgres::copy_target_of;
use decant::engines::postgres::parse_target_type;
use decant::engines::sqlite::open_sqlite_read_only;
use decant::plan::model::OnBadRow;
use decant::resolve::{ResolvedColumn, ResolvedTable};
use decant::transform::Transform;

use crate::support::postgres::TestDatabase;
use crate::support::sqlite_from_sql;

/// A target column named like its source column.
fn col(name: &str, target_type: &str) -> ResolvedColumn {
    ResolvedColumn {
        source: name.to_owned(),
        target: name.to_owned(),
        declared: String::new(),
        target_type: parse_target_type(target_type)
            .unwrap_or_else(|e| panic!("type `{target_type}`: {e}")),
        rule: "test".to_owned(),
        transform: None,
        inverse: None,
        nullable: true,
        default: None,
        generated: None,
        identity: false,
        warnings: Vec::new(),
    }
}

fn not_null(mut c: ResolvedColumn) -> ResolvedColumn {
    c.nullable = false;
    c
}

fn transformed(mut c: ResolvedColumn, transform: &str) -> ResolvedColumn {
    c.transform = Some(
        Transform::parse(transform).unwrap_or_else(|e| panic!("transform `{transform}`: {e}")),
    );
    c
}

fn table(name: &str, columns: Vec<ResolvedColumn>) -> ResolvedTable {
    ResolvedTable {
        source: name.to_owned(),
        target: name.to_owned(),
        filter: None,
        source_rows: 0,
        columns,
        key_columns: Vec::new(),
        rowid: true,
        primary_key: None,
        uniques: Vec::new(),
        checks: Vec::new(),
        indexes: Vec::new(),
        foreign_keys: Vec::new(),
        identity: None,
        app_triggers: Vec::new(),
        app_trigger_modes: Vec::new(),
        app_rebuilt: Vec::new(),
        warnings: Vec::new(),
    }
}

/// The SELECT and COPY statements decant's templates render for `t`.
fn statements(t: &ResolvedTable, select: &[String]) -> (String, String) {
    let templates = Templates::new(None);
    let select_sql = templates
        .render(
            "sqlite/select_rows.sql.j2",
            context! { table => t.source, columns => select, filter => t.filter },
        )
        .unwrap_or_else(|e| panic!("select template: {e}"));
    let targets: Vec<&str> = t.copied_columns().map(|c| c.target.as_str()).collect();
    let copy_sql = templates
        .render("postgres/copy_from.sql.j2", context! { schema => "public", table => context! { target => t.target }, columns => targets, freeze => false })
        .unwrap_or_else(|e| panic!("copy template: {e}"));
    (select_sql, copy_sql)
}

fn create_target(conn: &mut PgConnection, t: &ResolvedTable) {
    let columns: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            format!(
                "{} {}{}",
                quote_ident(&c.target),
                c.target_type.sql(),
                if c.nullable { "" } else { " NOT NULL" }
            )
        })
        .collect();
    let ddl = format!(
        "CREATE TABLE {} ({})",
        quote_ident(&t.target),
        columns.join(", ")
    );
    conn.batch_execute(&ddl)
        .unwrap_or_else(|e| panic!("{ddl}: {e}"));
}

/// The caller's transaction: committed when the copy succeeds, rolled back when it fails.
#[derive(Debug)]
enum TxError {
    Copy(CopyError),
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> Self {
        TxError::Database(e)
    }
}

/// A source file, a target database with the table created, ready to copy.
struct Setup {
    _dir: tempfile::TempDir,
    source: SourceConnection,
    _db: TestDatabase,
    target: decant::engines::TargetConnection,
    table: ResolvedTable,
    primary_key: Vec<String>,
}

fn setup(sqlite_sql: &str, mut t: ResolvedTable, primary_key: &[&str]) -> Setup {
    t.key_columns = primary_key.iter().map(|s| s.to_string()).collect();
    let (dir, path) = sqlite_from_sql(sqlite_sql);
    let source = SourceConnection::Sqlite(
        open_sqlite_read_only(&path).unwrap_or_else(|e| panic!("the fixture opens: {e}")),
    );
    let db = TestDatabase::new();
    let mut target = db.connect();
    target
        .batch_execute("SET TIME ZONE 'UTC'")
        .expect("a session time zone");
    create_target(&mut target, &t);
    Setup {
        _dir: dir,
        source,
        _db: db,
        target: decant::engines::TargetConnection::Postgres(target),
        table: t,
        primary_key: primary_key.iter().map(|s| s.to_string()).collect(),
    }
}

impl Setup {
    /// Copies the table inside one target transaction, selecting the key columns too.
    fn copy(
        &mut self,
        on_bad_row: OnBadRow,
        rejects: &mut dyn RejectSink,
    ) -> Result<CopyStats, CopyError> {
        let select = select_columns(&self.table, &self.primary_key);
        self.copy_selecting(&select, on_bad_row, rejects)
    }

    fn copy_selecting(
        &mut self,
        select: &[String],
        on_bad_row: OnBadRow,
        rejects: &mut dyn RejectSink,
    ) -> Result<CopyStats, CopyError> {
        let (select_sql, copy_sql) = statements(&self.table, select);
        let Setup {
            source,
            target,
            table,
            primary_key,
            ..
        } = self;
        let result = target.transaction::<_, TxError, _>(|conn| {
            copy_table(
                source,
                conn,
                "public",
                table,
                primary_key,
                &select_sql,
                Some(copy_target_of(&copy_sql).expect("the template renders a binary COPY")),
                on_bad_row,
                rejects,
                ReadAlong::default(),
            )
            .map_err(TxError::Copy)
        });
        match result {
            Ok(stats) => Ok(stats),
            Err(TxError::Copy(e)) => Err(e),
            Err(TxError::Database(e)) => panic!("the table's transaction failed: {e}"),
        }
    }

    /// One column of the target table as PostgreSQL prints it, in `id` order.
    fn column(&mut self, name: &str) -> Vec<Option<String>> {
        let sql = format!(
            "SELECT {}::text AS v FROM {} ORDER BY \"id\"",
            quote_ident(name),
            quote_ident(&self.table.target)
        );
        texts(self.target.postgres(), &sql)
    }

    fn scalar(&mut self, sql: &str) -> Option<String> {
        texts(self.target.postgres(), sql)
            .into_iter()
            .next()
            .flatten()
    }
}

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Nullable<Text>)]
    v: Option<String>,
}

fn texts(conn: &mut PgConnection, sql: &str) -> Vec<Option<String>> {
    diesel::sql_query(sql)
        .load::<TextRow>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|r| r.v)
        .collect()
}

fn strings(values: &[&str]) -> Vec<Option<String>> {
    values
        .iter()
        .map(|v| {
            if *v == "NULL" {
                None
            } else {
                Some(v.to_string())
            }
        })
        .collect()
}

#[test]
fn every_type_family_round_trips_exactly() {
    let t = table(
        "everything",
        vec![
            not_null(col("id", "bigint")),
            col("i2", "smallint"),
            col("i4", "integer"),
            col("i8", "bigint"),
            col("f8", "double precision"),
            col("f4", "real"),
            col("n", "numeric"),
            col("b", "boolean"),
            col("t", "text"),
            col("v", "varchar(3)"),
            col("c", "char(3)"),
            col("bin", "bytea"),
            col("d", "date"),
            col("tm", "time"),
            col("ttz", "timetz"),
            col("ts", "timestamp"),
            col("tz", "timestamptz"),
            transformed(col("iv", "interval"), "microseconds_to_interval"),
            col("u", "uuid"),
            col("ub", "uuid"),
            col("j", "json"),
            col("jb", "jsonb"),
        ],
    );
    let mut s = setup(
        r#"CREATE TABLE everything (id INTEGER PRIMARY KEY, i2, i4, i8, f8, f4, n, b, t, v, c, bin, d, tm, ttz, ts, tz, iv, u, ub, j, jb);
           INSERT INTO everything VALUES
             (1, -32768, 2147483647, 9223372036854775807, 1.5, 0.25, '12345.6789', 1, 'héllo ☃ "q" \', 'abc', 'ab', x'00ff10',
              '2024-02-29', '23:59:59.123456', '10:00:00+02:00', '2024-01-31 10:00:00.5', '2024-01-31T10:00:00Z', 90000000,
              '0123456789abcdef0123456789ABCDEF', x'00112233445566778899aabbccddeeff', '{"a": [1, 2.5, null]}', '{"b": {"c": "d"}}'),
             (2, 32767, -2147483648, -9223372036854775808, -0.1, -3.0, -7, 0, '', 'x', 'abc', x'',
              '0001-01-01', '00:00', '23:59:59Z', '1970-01-01', '2024-03-01 10:15:00.000 +02:00', -1,
              '{01234567-89AB-CDEF-0123-456789ABCDEF}', x'ffffffffffffffffffffffffffffffff', '[]', '"s"'),
             (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);"#,
        t,
        &["id"],
    );
    let stats = s
        .copy(OnBadRow::Stop, &mut VecRejects::default())
        .expect("every value converts");
    assert_eq!(
        stats,
        CopyStats {
            read: 3,
            written: 3,
            rejected: 0
        }
    );
    let expected: &[(&str, [&str; 3])] = &[
        ("i2", ["-32768", "32767", "NULL"]),
        ("i4", ["2147483647", "-2147483648", "NULL"]),
        (
            "i8",
            ["9223372036854775807", "-9223372036854775808", "NULL"],
        ),
        ("f8", ["1.5", "-0.1", "NULL"]),
        ("f4", ["0.25", "-3", "NULL"]),
        ("n", ["12345.6789", "-7", "NULL"]),
        ("b", ["true", "false", "NULL"]),
        ("t", ["héllo ☃ \"q\" \\", "", "NULL"]),
        ("v", ["abc", "x", "NULL"]),
        ("c", ["ab", "abc", "NULL"]),
        ("bin", ["\\x00ff10", "\\x", "NULL"]),
        ("d", ["2024-02-29", "0001-01-01", "NULL"]),
        ("tm", ["23:59:59.123456", "00:00:00", "NULL"]),
        ("ttz", ["10:00:00+02", "23:59:59+00", "NULL"]),
        (
            "ts",
            ["2024-01-31 10:00:00.5", "1970-01-01 00:00:00", "NULL"],
        ),
        (
            "tz",
            ["2024-01-31 10:00:00+00", "2024-03-01 08:15:00+00", "NULL"],
        ),
        ("iv", ["00:01:30", "-00:00:00.000001", "NULL"]),
        (
            "u",
            [
                "01234567-89ab-cdef-0123-456789abcdef",
                "01234567-89ab-cdef-0123-456789abcdef",
                "NULL",
            ],
        ),
        (
            "ub",
            [
                "00112233-4455-6677-8899-aabbccddeeff",
                "ffffffff-ffff-ffff-ffff-ffffffffffff",
                "NULL",
            ],
        ),
        ("j", ["{\"a\": [1, 2.5, null]}", "[]", "NULL"]),
        ("jb", ["{\"b\": {\"c\": \"d\"}}", "\"s\"", "NULL"]),
    ];
    for (column, values) in expected {
        assert_eq!(s.column(column), strings(values), "column `{column}`");
    }
}

#[test]
fn values_convert_the_way_a_demanding_user_expects() {
    let t = table(
        "conv",
        vec![
            not_null(col("id", "integer")),
            col("int_text", "bigint"),
            col("int_real", "bigint"),
            col("dec_text", "numeric"),
            col("bool_text", "boolean"),
            col("num_as_text", "text"),
            col("real_as_text", "text"),
            col("blob_as_text", "text"),
            col("text_as_bytes", "bytea"),
            transformed(col("epoch_s", "timestamptz"), "epoch_s_to_timestamptz"),
            transformed(col("epoch_ms", "timestamptz"), "epoch_ms_to_timestamptz"),
            transformed(col("julian", "timestamp"), "julian_to_timestamp"),
            transformed(col("iso", "timestamptz"), "iso_to_timestamptz"),
            transformed(col("flag", "boolean"), "to_boolean"),
            transformed(col("hex", "uuid"), "hex_to_uuid"),
            transformed(col("email", "text"), "{{ value | trim | lower }}"),
            transformed(col("full_name", "text"), "{{ row.first ~ ' ' ~ value }}"),
            col("first", "text"),
            col("naive", "timestamptz"),
            col("json_int", "jsonb"),
        ],
    );
    let mut s = setup(
        r#"CREATE TABLE conv (id INTEGER PRIMARY KEY, int_text TEXT, int_real REAL, dec_text TEXT, bool_text TEXT, num_as_text,
                              real_as_text, blob_as_text, text_as_bytes, epoch_s, epoch_ms, julian, iso, flag, hex, email, full_name, first, naive, json_int);
           INSERT INTO conv VALUES
             (1, '42', 7.0, '4.20', 'yes', 42, 3.0, CAST('héllo' AS BLOB), 'héllo', 1700000000, 1700000000123, 2460341.0,
              '2024-01-31 10:00:00', 't', '0123456789ABCDEF0123456789ABCDEF', '  Ada@Example.COM ', 'Lovelace', 'Ada', '2024-01-31 10:00:00', 5),
             (2, ' -9 ', -2.0, '-0.001e3', 'F', -1, 0.1, x'', '', 1.5, -1, 2440587.5,
              '2024-01-31T10:00:00+05:30', 0, '01234567-89ab-cdef-0123-456789abcdef', 'B@B.ORG', 'Hopper', 'Grace', '2024-01-31 10:00:00-01:00', 1.5);"#,
        t,
        &["id"],
    );
    s.copy(OnBadRow::Stop, &mut VecRejects::default())
        .expect("every value converts");
    let expected: &[(&str, [&str; 2])] = &[
        ("int_text", ["42", "-9"]),
        ("int_real", ["7", "-2"]),
        ("dec_text", ["4.20", "-1"]),
        ("bool_text", ["true", "false"]),
        ("num_as_text", ["42", "-1"]),
        ("real_as_text", ["3.0", "0.1"]),
        ("blob_as_text", ["héllo", ""]),
        ("text_as_bytes", ["\\x68c3a96c6c6f", "\\x"]),
        (
            "epoch_s",
            ["2023-11-14 22:13:20+00", "1970-01-01 00:00:01.5+00"],
        ),
        (
            "epoch_ms",
            ["2023-11-14 22:13:20.123+00", "1969-12-31 23:59:59.999+00"],
        ),
        ("julian", ["2024-01-31 12:00:00", "1970-01-01 00:00:00"]),
        ("iso", ["2024-01-31 10:00:00+00", "2024-01-31 04:30:00+00"]),
        ("flag", ["true", "false"]),
        (
            "hex",
            [
                "01234567-89ab-cdef-0123-456789abcdef",
                "01234567-89ab-cdef-0123-456789abcdef",
            ],
        ),
        ("email", ["ada@example.com", "b@b.org"]),
        ("full_name", ["Ada Lovelace", "Grace Hopper"]),
        (
            "naive",
            ["2024-01-31 10:00:00+00", "2024-01-31 11:00:00+00"],
        ),
        ("json_int", ["5", "1.5"]),
    ];
    for (column, values) in expected {
        assert_eq!(s.column(column), strings(values), "column `{column}`");
    }
}

#[test]
fn real_into_numeric_rounds_to_the_column_scale_half_away_from_zero() {
    let t = table(
        "amounts",
        vec![
            not_null(col("id", "integer")),
            col("amount", "numeric(10,2)"),
        ],
    );
    let mut s = setup(
        "CREATE TABLE amounts (id INTEGER PRIMARY KEY, amount NUMERIC(10,2));
         INSERT INTO amounts VALUES (1, 2.675), (2, -2.675), (3, 1.005), (4, 0.125), (5, 12345678.994), (6, 10), (7, 0.1 + 0.2),
                                    (8, '4.205'), (9, 99999999.995), (10, 123456789.0);
         -- NUMERIC affinity stores the integral 123456789.0 as the INTEGER 123456789.",
        t,
        &["id"],
    );
    let mut rejects = VecRejects::default();
    let stats = s
        .copy(OnBadRow::Reject, &mut rejects)
        .expect("the copy runs");
    assert_eq!(
        stats,
        CopyStats {
            read: 10,
            written: 8,
            rejected: 2
        }
    );
    assert_eq!(
        s.column("amount"),
        strings(&[
            "2.68",
            "-2.68",
            "1.01",
            "0.13",
            "12345678.99",
            "10.00",
            "0.30",
            "4.21"
        ])
    );
    let bad: Vec<(serde_json::Value, &str)> = rejects
        .rejects
        .iter()
        .map(|r| (r.primary_key.clone(), r.value.as_str()))
        .collect();
    assert_eq!(
        bad,
        vec![
            (serde_json::json!({"id": 9}), "99999999.995"),
            (serde_json::json!({"id": 10}), "123456789")
        ]
    );
    for r in &rejects.rejects {
        assert!(
            r.reason.contains("does not fit in `numeric(10,2)`"),
            "{}",
            r.reason
        );
    }
}

const ITEMS: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER, note TEXT);
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
     INSERT INTO items SELECT i, CASE WHEN i = 29999 THEN 'abc' ELSE i END, printf('%.100c', 'x') FROM n;";

fn items() -> ResolvedTable {
    table(
        "items",
        vec![
            not_null(col("id", "integer")),
            col("qty", "integer"),
            col("note", "text"),
        ],
    )
}

#[test]
fn text_in_an_integer_column_under_stop_names_table_column_key_and_value_and_leaves_nothing_written(
) {
    // The bad row comes after several megabytes have been sent: the COPY must be cancelled.
    let mut s = setup(ITEMS, items(), &["id"]);
    let err = s
        .copy(OnBadRow::Stop, &mut VecRejects::default())
        .expect_err("the bad row stops the copy");
    let CopyError::BadRow(reject) = &err else {
        panic!("expected a bad row, got {err}")
    };
    assert_eq!(reject.table, "items");
    assert_eq!(reject.column, "qty");
    assert_eq!(reject.primary_key, serde_json::json!({"id": 29999}));
    assert_eq!(reject.value, "abc");
    assert!(
        reject.reason.contains("not an integer"),
        "{}",
        reject.reason
    );
    let message = err.to_string();
    for part in ["`items`", "id=29999", "`qty`", "`abc`", "not an integer"] {
        assert!(message.contains(part), "`{part}` missing from: {message}");
    }
    assert_eq!(
        s.scalar("SELECT count(*)::text AS v FROM items").as_deref(),
        Some("0")
    );

    // Without the caller's transaction the cancelled COPY still keeps nothing, and the
    // connection stays usable.
    let (select_sql, copy_sql) = statements(&s.table, &select_columns(&s.table, &s.primary_key));
    let result = copy_table(
        &mut s.source,
        &mut s.target,
        "public",
        &s.table,
        &s.primary_key,
        &select_sql,
        Some(copy_target_of(&copy_sql).expect("the template renders a binary COPY")),
        OnBadRow::Stop,
        &mut VecRejects::default(),
        ReadAlong::default(),
    );
    assert!(matches!(result, Err(CopyError::BadRow(_))), "{result:?}");
    assert_eq!(
        s.scalar("SELECT count(*)::text AS v FROM items").as_deref(),
        Some("0")
    );
}

#[test]
fn under_reject_counts_reconcile_and_each_reject_carries_key_column_value_and_reason() {
    let t = table(
        "people",
        vec![
            not_null(col("id", "integer")),
            col("age", "smallint"),
            col("born", "date"),
            col("active", "boolean"),
            col("seen", "timestamptz"),
            col("profile", "jsonb"),
            col("code", "varchar(3)"),
            not_null(col("name", "text")),
            col("token", "uuid"),
        ],
    );
    let mut s = setup(
        r#"CREATE TABLE people (id INTEGER PRIMARY KEY, age, born, active, seen, profile, code, name, token);
           INSERT INTO people VALUES
             (1, 30, '1990-05-01', 1, '2024-01-01 00:00:00', '{}', 'abc', 'ok', NULL),
             (2, 70000, '1990-05-01', 1, NULL, NULL, NULL, 'x', NULL),
             (3, 30, '2023-02-30', 1, NULL, NULL, NULL, 'x', NULL),
             (4, 30, NULL, 'maybe', NULL, NULL, NULL, 'x', NULL),
             (5, 30, NULL, 1, 1700000000, NULL, NULL, 'x', NULL),
             (6, 30, NULL, 1, NULL, 'not json', NULL, 'x', NULL),
             (7, 30, NULL, 1, NULL, NULL, 'toolong', 'x', NULL),
             (8, 30, NULL, 1, NULL, NULL, NULL, NULL, NULL),
             (9, 30, NULL, 1, NULL, NULL, NULL, 'x', 'zz'),
             (10, 'abc', NULL, 0, NULL, '[1]', 'é', 'y', x'00112233445566778899aabbccddeeff'),
             (11, 41, NULL, 0, NULL, NULL, NULL, 'z', NULL);"#,
        t,
        &["id"],
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("rejects.jsonl");
    let mut sink = JsonLinesRejects::create(&path).expect("the rejects file");
    let stats = s.copy(OnBadRow::Reject, &mut sink).expect("the copy runs");
    assert_eq!(sink.finish().expect("the rejects file closes"), 9);
    assert_eq!(
        stats,
        CopyStats {
            read: 11,
            written: 2,
            rejected: 9
        }
    );
    assert_eq!(stats.read, stats.written + stats.rejected);
    assert_eq!(s.column("id"), strings(&["1", "11"]));

    let lines = std::fs::read_to_string(&path).expect("the rejects file");
    let rejects: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let summary: Vec<(i64, &str, &str)> = rejects
        .iter()
        .map(|r| {
            (
                r["primary_key"]["id"].as_i64().unwrap_or(-1),
                r["column"].as_str().unwrap_or(""),
                r["value"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (2, "age", "70000"),
            (3, "born", "2023-02-30"),
            (4, "active", "maybe"),
            (5, "seen", "1700000000"),
            (6, "profile", "not json"),
            (7, "code", "toolong"),
            (8, "name", "NULL"),
            (9, "token", "zz"),
            (10, "age", "abc"),
        ]
    );
    let reasons: Vec<&str> = rejects
        .iter()
        .map(|r| r["reason"].as_str().unwrap_or(""))
        .collect();
    let expected = [
        "out of range for `smallint`",
        "impossible date",
        "not a boolean",
        "epoch_s_to_timestamptz",
        "invalid JSON",
        "do not fit in `varchar(3)`",
        "NOT NULL",
        "not a UUID",
        "not an integer",
    ];
    for (reason, part) in reasons.iter().zip(expected) {
        assert!(reason.contains(part), "`{part}` missing from: {reason}");
    }
    assert!(rejects.iter().all(|r| r["table"] == "people"));
}

#[test]
fn nul_characters_and_invalid_utf8_in_text_are_rejected_and_never_mangled() {
    let t = table(
        "notes",
        vec![not_null(col("id", "integer")), col("body", "text")],
    );
    let mut s = setup(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
         INSERT INTO notes VALUES (1, 'a' || char(0) || 'b'), (2, CAST(x'61ff62' AS TEXT)), (3, 'real U+FFFD: ' || char(65533)), (4, 'plain');",
        t,
        &["id"],
    );
    let mut rejects = VecRejects::default();
    let stats = s
        .copy(OnBadRow::Reject, &mut rejects)
        .expect("the copy runs");
    assert_eq!(
        stats,
        CopyStats {
            read: 4,
            written: 2,
            rejected: 2
        }
    );
    assert_eq!(
        s.column("body"),
        strings(&["real U+FFFD: \u{FFFD}", "plain"])
    );
    let shown: Vec<(&str, bool)> = rejects
        .rejects
        .iter()
        .map(|r| {
            (
                r.value.as_str(),
                r.reason.contains("NUL") || r.reason.contains("UTF-8"),
            )
        })
        .collect();
    assert_eq!(shown, vec![("a\\0b", true), ("a\\xffb", true)]);
}

#[test]
fn ten_thousand_bad_rows_are_rejected_and_the_good_ones_written() {
    let t = table(
        "events",
        vec![not_null(col("id", "integer")), col("at", "timestamptz")],
    );
    let mut s = setup(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, at TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
         INSERT INTO events SELECT i, CASE WHEN i % 2 = 0 THEN 'not a date' ELSE '2024-01-01 00:00:00' END FROM n;",
        t,
        &["id"],
    );
    let mut rejects = VecRejects::default();
    let stats = s
        .copy(OnBadRow::Reject, &mut rejects)
        .expect("the copy runs");
    assert_eq!(
        stats,
        CopyStats {
            read: 20_000,
            written: 10_000,
            rejected: 10_000
        }
    );
    assert_eq!(rejects.rejects.len(), 10_000);
    assert_eq!(rejects.rejects[0].primary_key, serde_json::json!({"id": 2}));
    assert_eq!(
        s.scalar("SELECT count(*)::text AS v FROM events")
            .as_deref(),
        Some("10000")
    );
}

#[test]
fn rows_are_named_by_rowid_without_a_primary_key_and_by_position_without_key_columns() {
    let t = table("loose", vec![col("n", "integer")]);
    let mut s = setup(
        "CREATE TABLE loose (n TEXT); INSERT INTO loose VALUES ('1'), ('two'), ('3');",
        t,
        &[],
    );
    let mut rejects = VecRejects::default();
    s.copy(OnBadRow::Reject, &mut rejects)
        .expect("the copy runs");
    let keys: Vec<&serde_json::Value> = rejects.rejects.iter().map(|r| &r.primary_key).collect();
    assert_eq!(keys, vec![&serde_json::json!({"rowid": 2})]);

    s.target.batch_execute("TRUNCATE loose").expect("truncate");
    let mut rejects = VecRejects::default();
    s.copy_selecting(&["n".to_owned()], OnBadRow::Reject, &mut rejects)
        .expect("the copy runs");
    let keys: Vec<&serde_json::Value> = rejects.rejects.iter().map(|r| &r.primary_key).collect();
    assert_eq!(keys, vec![&serde_json::json!({"row": 2})]);
}

#[derive(QueryableByName)]
struct CountSum {
    #[diesel(sql_type = BigInt)]
    count: i64,
    #[diesel(sql_type = Nullable<Text>)]
    sum: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    amounts: Option<String>,
}

#[test]
fn a_table_of_200k_rows_copies_with_its_count_and_sums() {
    let t = table(
        "orders",
        vec![
            not_null(col("id", "bigint")),
            col("amount", "numeric(10,2)"),
            transformed(col("created", "timestamptz"), "epoch_s_to_timestamptz"),
            col("note", "text"),
        ],
    );
    let mut s = setup(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, amount NUMERIC(10,2), created INTEGER, note TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
         INSERT INTO orders SELECT i, CASE WHEN i % 2 = 0 THEN i / 100.0 ELSE i END, 1700000000 + i,
                                   CASE WHEN i % 5 < 2 THEN NULL ELSE 'order note ' || i END FROM n;",
        t,
        &["id"],
    );
    let stats = s
        .copy(OnBadRow::Stop, &mut VecRejects::default())
        .expect("the copy runs");
    assert_eq!(
        stats,
        CopyStats {
            read: 200_000,
            written: 200_000,
            rejected: 0
        }
    );
    let row = diesel::sql_query(
        "SELECT count(*) AS count, sum(id)::text AS sum, sum(amount)::text AS amounts FROM orders",
    )
    .get_result::<CountSum>(s.target.postgres())
    .expect("count and sum");
    assert_eq!(row.count, 200_000);
    assert_eq!(row.sum.as_deref(), Some("20000100000"));
    // Odd ids as they are, even ids / 100: 100000² + (2+4+…+200000)/100.
    assert_eq!(row.amounts.as_deref(), Some("10100001000.00"));
    assert_eq!(
        s.scalar("SELECT count(*)::text AS v FROM orders WHERE note IS NULL")
            .as_deref(),
        Some("80000")
    );
}

/// Throughput, not a check: `cargo test --release --test tests copy_throughput -- --ignored --nocapture`.
#[test]
#[ignore = "a benchmark; run it by name in a release build"]
fn copy_throughput_on_a_million_mixed_rows() {
    let rows: u64 = std::env::var("DECANT_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let t = table(
        "orders",
        vec![
            not_null(col("id", "bigint")),
            not_null(col("user_id", "integer")),
            col("amount", "numeric(10,2)"),
            transformed(col("created", "timestamptz"), "epoch_s_to_timestamptz"),
            col("updated", "timestamptz"),
            col("paid", "boolean"),
            col("status", "varchar(20)"),
            col("note", "text"),
        ],
    );
    let mut s = setup(
        &format!(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, amount NUMERIC(10,2), created INTEGER,
                                  updated DATETIME, paid BOOLEAN, status TEXT, note TEXT);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
             INSERT INTO orders SELECT i, i % 200000, CASE WHEN i % 2 = 0 THEN i % 100000 ELSE (i % 100000) / 100.0 END,
                                       1600000000 + i * 7, datetime(1600000000 + i * 7, 'unixepoch'), i % 2,
                                       CASE i % 3 WHEN 0 THEN 'paid' WHEN 1 THEN 'pending' ELSE 'refunded' END,
                                       CASE WHEN i % 5 < 2 THEN NULL ELSE 'a note about order number ' || i END FROM n;"
        ),
        t,
        &["id"],
    );
    let (select_sql, _) = statements(&s.table, &select_columns(&s.table, &s.primary_key));
    let started = std::time::Instant::now();
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    // The WHERE makes SQLite read the text columns too.
    let count_sql = format!(
        "SELECT count(*) AS n FROM ({select_sql}) WHERE note IS NOT 'x' AND updated IS NOT 'x'"
    );
    let read_only = Count {
        n: s.source
            .integer(&count_sql)
            .expect("a count")
            .expect("a count"),
    };
    let sqlite_scan = started.elapsed();
    let started = std::time::Instant::now();
    let cpu_before = process_cpu_seconds();
    let stats = s
        .copy(OnBadRow::Stop, &mut VecRejects::default())
        .expect("the copy runs");
    let elapsed = started.elapsed();
    let cpu = process_cpu_seconds() - cpu_before;
    assert_eq!(stats.written, rows);
    assert_eq!(read_only.n as u64, rows);
    println!(
        "copied {rows} rows in {:.2} s: {:.0} rows/s, client CPU {cpu:.2} s, peak RSS {} (SQLite alone scans them in {:.2} s)",
        elapsed.as_secs_f64(),
        rows as f64 / elapsed.as_secs_f64(),
        peak_rss(),
        sqlite_scan.as_secs_f64()
    );
}

/// This process's peak resident set size (Linux), for the benchmark.
fn peak_rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmHWM:"));
    line.map_or("unknown".to_owned(), |l| {
        l["VmHWM:".len()..].trim().to_owned()
    })
}

/// User + system CPU seconds of this process so far (Linux), for the benchmark.
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After the command name: state is field 0, utime 11, stime 12; 100 ticks per second.
    (ticks(11) + ticks(12)) / 100.0
}

#[test]
fn a_constraint_violation_in_the_target_is_reported_with_the_server_message_and_keeps_nothing() {
    // The duplicate comes first, so the server fails while megabytes are still being sent.
    let mut s = setup(
        "CREATE TABLE items (id INTEGER, qty INTEGER, note TEXT);
         INSERT INTO items VALUES (1, 1, 'first'), (1, 1, 'duplicate');
         WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
         INSERT INTO items SELECT i, i, printf('%.100c', 'x') FROM n;",
        items(),
        &[],
    );
    s.target
        .batch_execute("ALTER TABLE items ADD PRIMARY KEY (id)")
        .expect("a primary key");
    let err = s
        .copy(OnBadRow::Stop, &mut VecRejects::default())
        .expect_err("the duplicate key stops the copy");
    let chain = std::iter::successors(Some(&err as &dyn std::error::Error), |e| e.source())
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ");
    assert!(chain.contains("`items`"), "{chain}");
    assert!(chain.contains("duplicate key"), "{chain}");
    assert_eq!(
        s.scalar("SELECT count(*)::text AS v FROM items").as_deref(),
        Some("0")
    );
}

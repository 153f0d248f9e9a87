//! `decant sync --reverse`, the way back: after a run, the app writes on PostgreSQL, and the old
//! SQLite file is brought up to those rows in the form the app itself stores them in.

use diesel::connection::SimpleConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};

use crate::support::postgres::TestDatabase;
use crate::support::setup::{assert_exit, Setup};

/// The Django shop of `tests/fixtures/django` (made by Django's own `migrate`, see its README),
/// run into the schema `manage.py migrate` builds on PostgreSQL.
fn django_after_run() -> Setup {
    let fixture = crate::support::cli::repo_root().join("tests/fixtures/django");
    let s = Setup::from_sql("", "");
    std::fs::copy(fixture.join("source.sqlite3"), s.path("source.sqlite3")).unwrap();
    django_plan_in(s.dir.path(), "sqlite://source.sqlite3", |args| {
        s.decant(args)
    });
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    s
}

/// Writes into `dir` a plan for the Django shop from `source` into the schema `manage.py
/// migrate` builds on PostgreSQL (`schema.sql`, applied by the plan's first step), and snapshots
/// that schema from a database of its own (the developer's) with `decant`.
pub(crate) fn django_plan_in(
    dir: &std::path::Path,
    source: &str,
    decant: impl Fn(&[&str]) -> crate::support::cli::Outcome,
) {
    let fixture = crate::support::cli::repo_root().join("tests/fixtures/django");
    std::fs::copy(fixture.join("schema.sql"), dir.join("schema.sql")).unwrap();
    let plan = format!(
        r#"version: 1
name: django-shop
source: {{ url: "{source}" }}
target: {{ url: "${{TARGET_DATABASE_URL}}", owner: app }}
settings: {{ on_bad_row: reject, reversible: true }}
tables:
  include: ["shop_*", "auth_user", "auth_group", "auth_group_permissions", "auth_user_groups",
            "auth_user_user_permissions", "django_admin_log", "django_session"]
columns:
  shop_order.delivery_window: {{ transform: microseconds_to_interval }}
  shop_visit.time_on_page: {{ transform: microseconds_to_interval }}
steps:
  - {{ id: django-migrate, run: "psql -q -v ON_ERROR_STOP=1 -f schema.sql", before: [load] }}
"#
    );
    std::fs::write(dir.join("plan.yaml"), plan).unwrap();
    let scratch = TestDatabase::new();
    let applied = std::process::Command::new("psql")
        .args([
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-f",
            "schema.sql",
            &scratch.url,
        ])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(applied.status.success(), "{applied:?}");
    assert_exit(
        &decant(&["snapshot", "plan.yaml", "--from", &scratch.url]),
        0,
    );
}

/// Every row of `table` in the SQLite file at `path`, each value as `typeof:value`, by its
/// primary key (as text).
fn sqlite_rows(path: &std::path::Path, table: &str) -> Vec<(String, Vec<String>)> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let columns: Vec<String> = diesel::sql_query(format!(
        "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
    ))
    .load::<Name>(&mut conn)
    .unwrap()
    .into_iter()
    .map(|n| n.name)
    .collect();
    let parts: Vec<String> = columns
        .iter()
        .map(|c| format!("typeof(\"{c}\") || ':' || coalesce(quote(\"{c}\"), '')"))
        .collect();
    let key: String = diesel::sql_query(format!(
        "SELECT name FROM pragma_table_info('{table}') WHERE pk = 1"
    ))
    .get_result::<Name>(&mut conn)
    .unwrap()
    .name;
    let sql = format!(
        "SELECT CAST(\"{key}\" AS TEXT) AS id, {} AS v FROM \"{table}\" ORDER BY \"{table}\".\"{key}\"",
        parts.join(" || char(31) || ")
    );
    diesel::sql_query(sql)
        .load::<Row>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.v.split('\u{1f}').map(str::to_owned).collect()))
        .collect()
}

/// Whether two stored values are equal: JSON documents as documents (PostgreSQL's jsonb keeps
/// its keys in its own order, Django reads either alike), everything else exactly, storage
/// class included.
fn same_value(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let json = |v: &str| {
        let text = v
            .strip_prefix("text:'")?
            .strip_suffix('\'')?
            .replace("''", "'");
        serde_json::from_str::<serde_json::Value>(&text).ok()
    };
    json(a).is_some() && json(a) == json(b)
}

/// The one value an `INSERT … RETURNING id` statement gives.
fn returning(db: &TestDatabase, sql: &str) -> String {
    diesel::sql_query(format!("{sql} RETURNING id::text AS v"))
        .get_result::<crate::support::setup::Value>(&mut db.connect())
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .v
}

fn write_sqlite(path: &std::path::Path, sql: &str) {
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    conn.batch_execute(sql).unwrap();
}

#[test]
fn after_app_writes_on_postgres_the_reverse_sync_leaves_the_sqlite_file_as_the_app_would_have_written_it(
) {
    let s = django_after_run();
    // What the app does on PostgreSQL after the cutover, as Django's ORM does it: new rows
    // with ids from the identities, updates (a JSON document, an array, a price, a flag),
    // deletes, times near a daylight-saving change (Europe/Paris, 2024-03-31 and 2024-10-27).
    let customer = returning(
        &s.db,
        "INSERT INTO shop_customer (email, name, nickname, external_id, is_active, joined_at, birth_date, last_login_ip, mood, tags, preferences, notes) \
         VALUES ('new@example.com', 'Nouvelle', NULL, 'a1b2c3d4-0000-4000-8000-000000000001', true, '2024-03-31 01:30:00+01', '1990-05-05', '10.0.0.1', 'happy', '{\"x\",\"y, z\"}', '{\"lang\": \"fr\", \"note\": \"é🎉\"}', '')",
    );
    let order = returning(
        &s.db,
        &format!("INSERT INTO shop_order (customer_id, reference, status, placed_at, paid, total, delivery_window, shipping_address, note) \
         VALUES ({customer}, 'ffffffff-0000-4000-8000-00000000000a', 'new', '2024-10-27 02:30:00+02', false, 12.50, interval '1 day 2 hours', '1 rue X', NULL)"),
    );
    let line = returning(
        &s.db,
        &format!("INSERT INTO shop_orderline (order_id, product_id, quantity, unit_price, discount) VALUES ({order}, 1, 3, 4.25, 0)"),
    );
    let mut pg = s.db.connect();
    pg.batch_execute(
        "UPDATE shop_customer SET preferences = jsonb_set(preferences, '{theme}', '\"light\"'), nickname = 'renamed', is_active = false WHERE id = 1;
         UPDATE shop_product SET price = 1234.5, stock = stock - 1, sizes = '{1,2,3}', keywords = '{\"new kw\"}' WHERE id = 2;
         UPDATE shop_order SET placed_at = '2024-03-31 03:00:00.25+02', status = 'paid', paid = true WHERE id = 8;
         DELETE FROM shop_orderline WHERE order_id = 7; DELETE FROM shop_order WHERE id = 7;
         UPDATE shop_visit SET payload = '{\"a\": [1, 2, {\"b\": null}]}', bounced = NULL WHERE id = 5000000000;
         DELETE FROM shop_visit WHERE id = 3;",
    )
    .unwrap();
    // The same writes as Django makes them on SQLite (`fill.py`'s forms: UTC text without an
    // offset, the fraction only when there is one, 32-digit uuids, 0/1, JSON with \u escapes,
    // decimals as REAL or INTEGER), on a fresh copy of the file.
    let expected = s.path("expected.sqlite3");
    std::fs::copy(s.path("source.sqlite3"), &expected).unwrap();
    write_sqlite(
        &expected,
        &format!(
            "INSERT INTO shop_customer (id, email, name, nickname, external_id, is_active, joined_at, birth_date, last_login_ip, mood, tags, preferences, notes) \
             VALUES ({customer}, 'new@example.com', 'Nouvelle', NULL, 'a1b2c3d4000040008000000000000001', 1, '2024-03-31 00:30:00', '1990-05-05', '10.0.0.1', 'happy', '[\"x\", \"y, z\"]', '{{\"lang\": \"fr\", \"note\": \"\\u00e9\\ud83c\\udf89\"}}', '');
             INSERT INTO shop_order (id, customer_id, reference, status, placed_at, paid, total, delivery_window, shipping_address, note) \
             VALUES ({order}, {customer}, 'ffffffff00004000800000000000000a', 'new', '2024-10-27 00:30:00', 0, 12.5, 93600000000, '1 rue X', NULL);
             INSERT INTO shop_orderline (id, order_id, product_id, quantity, unit_price, discount) VALUES ({line}, {order}, 1, 3, 4.25, 0);
             UPDATE shop_customer SET preferences = json_set(preferences, '$.theme', 'light'), nickname = 'renamed', is_active = 0 WHERE id = 1;
             UPDATE shop_product SET price = 1234.5, stock = stock - 1, sizes = '[1, 2, 3]', keywords = '[\"new kw\"]' WHERE id = 2;
             UPDATE shop_order SET placed_at = '2024-03-31 01:00:00.250000', status = 'paid', paid = 1 WHERE id = 8;
             DELETE FROM shop_orderline WHERE order_id = 7; DELETE FROM shop_order WHERE id = 7;
             UPDATE shop_visit SET payload = '{{\"a\": [1, 2, {{\"b\": null}}]}}', bounced = NULL WHERE id = 5000000000;
             DELETE FROM shop_visit WHERE id = 3;"
        ),
    );
    let out = s.decant(&["sync", "plan.yaml", "--reverse"]);
    assert_exit(&out, 0);
    assert!(
        out.stdout
            .contains("applied: 3 inserted, 4 updated, 4 deleted, 0 rejected"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    // Every row of every shop table equals what the app would have written, value by value.
    for table in [
        "shop_customer",
        "shop_product",
        "shop_order",
        "shop_orderline",
        "shop_visit",
        "auth_user",
        "django_session",
    ] {
        let got = sqlite_rows(&s.path("source.sqlite3"), table);
        let want = sqlite_rows(&expected, table);
        assert_eq!(
            got.iter().map(|r| &r.0).collect::<Vec<_>>(),
            want.iter().map(|r| &r.0).collect::<Vec<_>>(),
            "{table}: ids"
        );
        for ((id, g), (_, w)) in got.iter().zip(&want) {
            for (a, b) in g.iter().zip(w) {
                assert!(same_value(a, b), "{table} {id}: {a} != {b}");
            }
        }
    }
    // The app's own reads on the file work: Django compares its date-times as text, reads JSON
    // with JSON_EXTRACT, and AUTOINCREMENT continues after the ids PostgreSQL gave.
    let mut file = SqliteConnection::establish(s.path("source.sqlite3").to_str().unwrap()).unwrap();
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count = |conn: &mut SqliteConnection, sql: &str| {
        diesel::sql_query(sql).get_result::<N>(conn).unwrap().n
    };
    assert_eq!(
        count(
            &mut file,
            "SELECT COUNT(*) AS n FROM \"shop_order\" INNER JOIN \"shop_customer\" ON (\"shop_order\".\"customer_id\" = \"shop_customer\".\"id\") \
             WHERE (\"shop_customer\".\"email\" = 'new@example.com' AND \"shop_order\".\"placed_at\" >= '2024-10-27 00:00:00' AND \"shop_order\".\"placed_at\" < '2024-10-27 01:00:00')"
        ),
        1
    );
    assert_eq!(
        count(
            &mut file,
            "SELECT COUNT(*) AS n FROM \"shop_customer\" WHERE JSON_EXTRACT(\"preferences\", '$.theme') = 'light' AND \"id\" = 1"
        ),
        1
    );
    assert_eq!(
        count(
            &mut file,
            "SELECT seq AS n FROM sqlite_sequence WHERE name = 'shop_customer'"
        ),
        customer.parse::<i64>().unwrap()
    );
    // The file's foreign keys hold.
    assert_eq!(
        count(
            &mut file,
            "SELECT COUNT(*) AS n FROM pragma_foreign_key_check"
        ),
        0
    );
    // The journal beside the file holds this one sync, applied.
    let journal: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.path("source.sqlite3.decant-reverse.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(journal["syncs"].as_array().unwrap().len(), 1);
    assert_eq!(journal["syncs"][0]["state"], "applied");
    // Again: nothing left to apply.
    let again = s.decant(&["sync", "plan.yaml", "--reverse"]);
    assert_exit(&again, 0);
    assert!(
        again
            .stdout
            .contains("applied: 0 inserted, 0 updated, 0 deleted, 0 rejected"),
        "{}",
        again.stdout
    );
}

#[test]
fn a_reverse_sync_right_after_a_run_applies_nothing_says_so_and_leaves_the_file_as_it_was() {
    let s = django_after_run();
    let before = std::fs::read(s.path("source.sqlite3")).unwrap();
    let out = s.decant(&["sync", "plan.yaml", "--reverse"]);
    assert_exit(&out, 0);
    assert!(
        out.stdout
            .contains("applied: 0 inserted, 0 updated, 0 deleted, 0 rejected"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(
        out.stdout
            .contains("nothing changed: the source already holds every row of the target"),
        "{}",
        out.stdout
    );
    assert_eq!(std::fs::read(s.path("source.sqlite3")).unwrap(), before);
}

const SOURCE: &str = "
    CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL CHECK (length(name) <= 12),
                          seen INTEGER, meta TEXT);
    CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors(id),
                        title TEXT);
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50)
    INSERT INTO authors SELECT x, 'author ' || x, 1700000000 + x, ' Mixed ' || x FROM c;
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100)
    INSERT INTO books SELECT x, 1 + x % 50, 'title ' || x FROM c;
";

const PLAN: &str = "settings: { reversible: true }
columns:
  authors.seen: { transform: epoch_s_to_timestamptz }
  authors.meta: { transform: \"{{ value | trim | lower }}\", inverse: \"{{ value | upper }}\" }
";

#[test]
fn validate_refuses_an_expression_transform_without_an_inverse_naming_the_column_and_where() {
    let s = Setup::from_sql(
        SOURCE,
        "settings: { reversible: true }\ncolumns:\n  authors.meta: { transform: \"{{ value | trim }}\" }\n  books.title: { transform: \"{{ value | upper }}\" }\n",
    );
    let out = s.decant(&["validate", "plan.yaml"]);
    assert_exit(&out, 2);
    // Both at once, each at its place in the file.
    for (column, at) in [
        ("authors.meta", "plan.yaml:7:"),
        ("books.title", "plan.yaml:8:"),
    ] {
        assert!(
            out.stderr.contains(&format!("`{column}` cannot go back")),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains(at), "{}", out.stderr);
    }
    // With an inverse each, the plan validates.
    let plan = std::fs::read_to_string(s.path("plan.yaml"))
        .unwrap()
        .replace("trim }}\" }", "trim }}\", inverse: \"{{ value }}\" }")
        .replace(
            "upper }}\" }",
            "upper }}\", inverse: \"{{ value | lower }}\" }",
        );
    std::fs::write(s.path("plan.yaml"), plan).unwrap();
    assert_exit(&s.decant(&["validate", "plan.yaml"]), 0);
}

#[test]
fn sync_reverse_refuses_a_plan_with_a_column_that_cannot_go_back() {
    let s = Setup::from_sql(
        SOURCE,
        "columns:\n  authors.meta: { transform: \"{{ value | trim }}\" }\n",
    );
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    let out = s.decant(&["sync", "plan.yaml", "--reverse"]);
    assert_exit(&out, 2);
    assert!(
        out.stderr.contains("column `authors.meta`") && out.stderr.contains("no `inverse:`"),
        "{}",
        out.stderr
    );
}

#[test]
fn values_the_old_schema_cannot_hold_are_rejected_with_table_key_column_and_value_and_the_rest_applies(
) {
    let s = Setup::from_sql(SOURCE, PLAN);
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    let mut pg = s.db.connect();
    // The app relaxed a rule on PostgreSQL that the old file still enforces.
    pg.batch_execute(
        "DO $$ DECLARE c text; BEGIN FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'authors'::regclass AND contype = 'c' LOOP EXECUTE format('ALTER TABLE authors DROP CONSTRAINT %I', c); END LOOP; END $$;
         UPDATE authors SET name = 'a name far too long' WHERE id = 2;
         UPDATE authors SET seen = '2024-01-01 00:00:00.5+00' WHERE id = 3;
         UPDATE authors SET name = 'fits', meta = 'shouted' WHERE id = 4;",
    )
    .unwrap();
    // A preview writes nothing.
    let before = std::fs::read(s.path("source.sqlite3")).unwrap();
    let preview = s.decant(&["sync", "plan.yaml", "--reverse", "--dry-run"]);
    assert!(preview.stdout.contains("would apply"), "{}", preview.stdout);
    assert_eq!(std::fs::read(s.path("source.sqlite3")).unwrap(), before);
    assert!(!s.path("source.sqlite3.decant-reverse.json").exists());
    let out = s.decant(&["sync", "plan.yaml", "--reverse"]);
    assert_exit(&out, 1);
    assert!(
        out.stdout
            .contains("applied: 0 inserted, 1 updated, 0 deleted, 2 rejected"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(
        out.stdout.contains("rejected: `authors` {\"id\":2}")
            && out.stdout.contains("CHECK constraint failed"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "rejected: `authors` {\"id\":3} column `seen` value 1704067200500000: `2024-01-01 00:00:00.500000+00:00` has a fraction of a second"
        ),
        "{}",
        out.stdout
    );
    // The rejected rows are as they were; the good one went back through the inverses.
    let file = s.path("source.sqlite3");
    let rows = sqlite_rows(&file, "authors");
    assert_eq!(rows[1].1[1], "text:'author 2'");
    assert_eq!(rows[2].1[2], "integer:1700000003");
    assert_eq!(
        rows[3].1[1..],
        ["text:'fits'", "integer:1700000004", "text:'SHOUTED'"]
    );
}

#[test]
fn a_reverse_sync_killed_before_or_after_its_commit_converges_on_the_next_one_with_no_row_doubled()
{
    for (point, settled) in [
        ("before-commit:reverse", "rolled_back"),
        ("after-commit:reverse", "applied"),
    ] {
        let s = Setup::from_sql(SOURCE, PLAN);
        assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
        s.db.connect()
            .batch_execute(
                "INSERT INTO authors (id, name, seen, meta) VALUES (51, 'new', '2024-06-01 00:00:00+00', 'x');
                 INSERT INTO books (id, author_id, title) VALUES (101, 51, 'new book');
                 UPDATE books SET title = 'changed' WHERE id = 5;
                 DELETE FROM books WHERE id = 6;",
            )
            .unwrap();
        let killed = s.decant_killed_at(&["sync", "plan.yaml", "--reverse"], Some(point));
        assert_eq!(killed.code, -1, "{point}: {}", killed.stderr);
        let out = s.decant(&["sync", "plan.yaml", "--reverse"]);
        assert_exit(&out, 0);
        assert!(
            out.stdout.contains(&format!(
                "reverse sync 1, killed before it ended, settled by the file's rows: {settled}"
            )),
            "{point}: {}",
            out.stdout
        );
        let applied = if settled == "applied" {
            "applied: 0 inserted, 0 updated, 0 deleted"
        } else {
            "applied: 2 inserted, 1 updated, 1 deleted"
        };
        assert!(out.stdout.contains(applied), "{point}: {}", out.stdout);
        // Every row once, as the target has it.
        let file = s.path("source.sqlite3");
        let books = sqlite_rows(&file, "books");
        assert_eq!(books.len(), 100, "{point}");
        assert!(books
            .iter()
            .any(|(id, v)| id == "101" && v[2] == "text:'new book'"));
        assert!(books
            .iter()
            .any(|(id, v)| id == "5" && v[2] == "text:'changed'"));
        assert!(!books.iter().any(|(id, _)| id == "6"));
        assert_eq!(sqlite_rows(&file, "authors").len(), 51, "{point}");
        // One record per sync: the killed one settled, the next one applied.
        let journal: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(s.path("source.sqlite3.decant-reverse.json")).unwrap(),
        )
        .unwrap();
        let states: Vec<&str> = journal["syncs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["state"].as_str().unwrap())
            .collect();
        assert_eq!(states, [settled, "applied"], "{point}");
    }
}

#[test]
fn sync_reverse_refuses_when_the_newest_run_did_not_succeed() {
    let s = Setup::from_sql(
        SOURCE,
        &format!("{PLAN}steps:\n  - {{ id: boom, sql: \"select 1/0\", after: [load] }}\n"),
    );
    assert_exit(&s.decant(&["run", "plan.yaml"]), 2);
    let before = std::fs::read(s.path("source.sqlite3")).unwrap();
    let out = s.decant(&["sync", "plan.yaml", "--reverse"]);
    assert_exit(&out, 2);
    assert!(
        out.stderr
            .contains("the newest run (1) is `failed`: the way back starts from a completed run"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read(s.path("source.sqlite3")).unwrap(), before);
}

#[test]
fn rows_the_plans_filter_left_out_of_the_run_stay_in_the_file() {
    let s = Setup::from_sql(SOURCE, &format!("{PLAN}filters:\n  books: \"id <= 90\"\n"));
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    s.db.connect()
        .batch_execute("DELETE FROM books WHERE id = 90")
        .unwrap();
    let out = s.decant(&["sync", "plan.yaml", "--reverse"]);
    assert_exit(&out, 0);
    assert!(
        out.stdout
            .contains("applied: 0 inserted, 0 updated, 1 deleted, 0 rejected"),
        "{}",
        out.stdout
    );
    // Books 91 to 100 were never carried: the target's not having them deletes nothing.
    let ids: Vec<String> = sqlite_rows(&s.path("source.sqlite3"), "books")
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(ids.len(), 99);
    assert!(ids.contains(&"91".to_owned()) && !ids.contains(&"90".to_owned()));
}

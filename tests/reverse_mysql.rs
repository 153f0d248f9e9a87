//! `decant sync --reverse` into MariaDB: after a run from MariaDB, the app writes on PostgreSQL,
//! and the old MariaDB database is brought up to those rows, as the app would have written them.

use diesel::connection::SimpleConnection;
use diesel::RunQueryDsl;

use crate::support::mysql::{decant_between, MysqlDatabase};
use crate::support::postgres::TestDatabase;
use crate::support::setup::assert_exit;

/// The app's MariaDB schema and rows before the switch: a parent and a child table, with the
/// types whose way back is not a plain copy (TINYINT(1) booleans, DATETIME with and without
/// fractions, DECIMAL, DOUBLE, JSON, bytes).
const SHOP: &str = "
CREATE TABLE customers (
  id INT AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(100) NOT NULL,
  vip TINYINT(1) NOT NULL DEFAULT 0,
  joined DATETIME NOT NULL,
  balance DECIMAL(10,2) NOT NULL,
  prefs JSON NULL,
  avatar VARBINARY(16) NULL
) ENGINE=InnoDB;
CREATE TABLE orders (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  customer_id INT NOT NULL,
  placed_at DATETIME(6) NOT NULL,
  total DOUBLE NOT NULL,
  note TEXT NULL,
  CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE=InnoDB;
INSERT INTO customers VALUES
  (1, 'ann@example.com', 1, '2024-01-31 10:00:00', 12.50, '{\"a\": 1}', x'00ff'),
  (2, 'bob@example.com', 0, '2024-02-29 23:59:59', 0.00, NULL, NULL),
  (3, 'cy@example.com', 0, '2024-03-01 00:00:00', 99.99, '{\"b\": [1, 2]}', NULL);
INSERT INTO orders VALUES
  (10, 1, '2024-03-31 01:59:59.500000', 12.5, 'first'),
  (11, 2, '2024-10-27 02:30:00.000000', 0.25, NULL),
  (12, 3, '2024-05-05 05:05:05.123456', 99.99, 'gone with its customer');
";

const PLAN: &str = r#"version: 1
name: shop
source: { url: "${SOURCE_DATABASE_URL}" }
target: { url: "${TARGET_DATABASE_URL}" }
settings: { reversible: true }
"#;

/// The app's statement on PostgreSQL; the text of the `v` it returns (`RETURNING … AS v`), if any.
fn on_postgres(target: &TestDatabase, sql: &str) -> String {
    #[derive(diesel::QueryableByName)]
    struct Returned {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let mut conn = target.connect();
    if !sql.contains(" AS v") {
        conn.batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        return String::new();
    }
    diesel::sql_query(sql)
        .get_result::<Returned>(&mut conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .v
}

/// Every row of `db`'s shop, one line per row, as `mariadb` prints it: JSON compacted, bytes
/// in hex.
fn shop_rows(db: &MysqlDatabase) -> String {
    let customers = db.query(
        "SELECT GROUP_CONCAT(CONCAT_WS('|', id, email, vip, joined, balance, COALESCE(JSON_COMPACT(prefs), 'null'), COALESCE(HEX(avatar), 'null')) ORDER BY id SEPARATOR '\\n') FROM customers",
    );
    let orders = db.query(
        "SELECT GROUP_CONCAT(CONCAT_WS('|', id, customer_id, placed_at, total, COALESCE(note, 'null')) ORDER BY id SEPARATOR '\\n') FROM orders",
    );
    format!("{customers}\n--\n{orders}")
}

#[test]
fn after_app_writes_on_postgres_the_reverse_sync_leaves_mariadb_as_the_app_would_have_written_it() {
    let source = MysqlDatabase::new();
    source.execute(SHOP);
    let target = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.yaml"), PLAN).unwrap();
    let decant = |args: &[&str]| decant_between(dir.path(), args, &source, &target, &[]);
    assert_exit(&decant(&["run", "plan.yaml", "--report-dir", "reports"]), 0);

    // Right after the run the way back has nothing to do.
    let idle = decant(&["sync", "plan.yaml", "--reverse"]);
    assert_exit(&idle, 0);
    assert!(idle.stdout.contains("nothing changed"), "{}", idle.stdout);

    // The app, now on PostgreSQL: new ids from the sequences, updates of every kind of value,
    // a changed JSON document, a time in a DST gap of Europe (a DATETIME has no zone), deletes
    // of a child and of a parent.
    let pg = |sql: &str| on_postgres(&target, sql);
    let new_customer = pg(
        "INSERT INTO public.customers (email, vip, joined, balance, prefs, avatar) VALUES ('dee@example.com', true, '2026-03-29 02:30:00', 7.25, '{\"a\": [true, null]}', '\\x0102') RETURNING id::text AS v",
    );
    let new_order = pg(&format!(
        "INSERT INTO public.orders (customer_id, placed_at, total, note) VALUES ({new_customer}, '2026-10-25 02:30:00.000001', 1e-3, 'new') RETURNING id::text AS v"
    ));
    pg("UPDATE public.customers SET vip = false, balance = balance + 0.01, prefs = '{\"a\": 2}', avatar = NULL WHERE id = 1");
    pg("UPDATE public.orders SET placed_at = '2024-03-31 02:00:00', total = 13.75, note = NULL WHERE id = 10");
    pg("DELETE FROM public.orders WHERE id = 12");
    pg("DELETE FROM public.customers WHERE id = 3");

    // What the app would have written, had it stayed on MariaDB.
    let expected = MysqlDatabase::new();
    expected.execute(SHOP);
    expected.execute(&format!(
        "INSERT INTO customers VALUES ({new_customer}, 'dee@example.com', 1, '2026-03-29 02:30:00', 7.25, '{{\"a\": [true, null]}}', x'0102');
         INSERT INTO orders VALUES ({new_order}, {new_customer}, '2026-10-25 02:30:00.000001', 0.001, 'new');
         UPDATE customers SET vip = 0, balance = 12.51, prefs = '{{\"a\": 2}}', avatar = NULL WHERE id = 1;
         UPDATE orders SET placed_at = '2024-03-31 02:00:00', total = 13.75, note = NULL WHERE id = 10;
         DELETE FROM orders WHERE id = 12;
         DELETE FROM customers WHERE id = 3;"
    ));

    let back = decant(&["sync", "plan.yaml", "--reverse"]);
    assert_exit(&back, 0);
    assert_eq!(shop_rows(&source), shop_rows(&expected), "{}", back.stdout);
    // The app's next insert on MariaDB takes an id past the ones PostgreSQL handed out.
    source.execute("INSERT INTO customers (email, joined, balance) VALUES ('eve@example.com', '2026-12-08 00:00:00', 0)");
    let eve: i64 = source
        .query("SELECT id FROM customers WHERE email = 'eve@example.com'")
        .parse()
        .unwrap();
    assert!(eve > new_customer.parse::<i64>().unwrap(), "{eve}");
    source.execute("DELETE FROM customers WHERE email = 'eve@example.com'");

    // Once more: nothing left to do; the journal beside the plan records the one sync that wrote.
    let again = decant(&["sync", "plan.yaml", "--reverse"]);
    assert_exit(&again, 0);
    assert!(again.stdout.contains("nothing changed"), "{}", again.stdout);
    let journals: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .ends_with(".decant-reverse.json")
        })
        .collect();
    assert_eq!(journals.len(), 1, "{journals:?}");
    let journal: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(journals[0].path()).unwrap()).unwrap();
    let syncs = journal["syncs"].as_array().unwrap();
    assert!(syncs.iter().all(|r| r["state"] == "applied"), "{journal}");
    let wrote: Vec<_> = syncs
        .iter()
        .filter(|r| {
            r["inserted"].as_u64().unwrap()
                + r["updated"].as_u64().unwrap()
                + r["deleted"].as_u64().unwrap()
                > 0
        })
        .map(|r| {
            (
                r["inserted"].as_u64(),
                r["updated"].as_u64(),
                r["deleted"].as_u64(),
            )
        })
        .collect();
    assert_eq!(wrote, vec![(Some(2), Some(2), Some(2))], "{journal}");
}

#[test]
fn a_value_the_old_mariadb_column_cannot_hold_is_reported_not_cut() {
    let source = MysqlDatabase::new();
    source.execute(SHOP);
    let target = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.yaml"), PLAN).unwrap();
    let decant = |args: &[&str]| decant_between(dir.path(), args, &source, &target, &[]);
    assert_exit(&decant(&["run", "plan.yaml", "--report-dir", "reports"]), 0);
    // The app widened a column on PostgreSQL after the switch; MariaDB's VARCHAR(100) cannot
    // hold what it then wrote.
    let pg = |sql: &str| on_postgres(&target, sql);
    pg("ALTER TABLE public.customers ALTER COLUMN email TYPE text");
    pg(&format!(
        "UPDATE public.customers SET email = '{}' WHERE id = 2",
        "x".repeat(150)
    ));
    let back = decant(&["sync", "plan.yaml", "--reverse"]);
    let all = format!("{}{}", back.stdout, back.stderr);
    assert!(all.contains("customers") && all.contains("email"), "{all}");
    assert_eq!(
        source.query("SELECT email FROM customers WHERE id = 2"),
        "bob@example.com",
        "{all}"
    );
}

#[test]
fn a_delete_that_would_orphan_a_row_the_plan_does_not_carry_is_refused_and_reported() {
    let source = MysqlDatabase::new();
    source.execute(SHOP);
    // A table the app keeps on MariaDB only, pointing at customer 3.
    source.execute(
        "CREATE TABLE reviews (id INT PRIMARY KEY, customer_id INT NOT NULL,
           CONSTRAINT reviews_customer FOREIGN KEY (customer_id) REFERENCES customers (id)) ENGINE=InnoDB;
         INSERT INTO reviews VALUES (1, 3);",
    );
    let target = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    let plan = format!("{PLAN}tables:\n  exclude: [reviews]\n");
    std::fs::write(dir.path().join("plan.yaml"), plan).unwrap();
    let decant = |args: &[&str]| decant_between(dir.path(), args, &source, &target, &[]);
    assert_exit(&decant(&["run", "plan.yaml", "--report-dir", "reports"]), 0);
    on_postgres(
        &target,
        "DELETE FROM public.orders WHERE customer_id IN (2, 3); DELETE FROM public.customers WHERE id IN (2, 3)",
    );
    let back = decant(&["sync", "plan.yaml", "--reverse"]);
    let all = format!("{}{}", back.stdout, back.stderr);
    // Customer 2 goes; customer 3 stays with its review, and the report says why.
    assert_eq!(
        source.query("SELECT GROUP_CONCAT(id ORDER BY id) FROM customers"),
        "1,3",
        "{all}"
    );
    assert_eq!(
        source.query("SELECT GROUP_CONCAT(id ORDER BY id) FROM orders"),
        "10",
        "{all}"
    );
    assert_eq!(
        source.query("SELECT customer_id FROM reviews"),
        "3",
        "{all}"
    );
    assert!(
        all.contains("customers") && all.contains("foreign key"),
        "{all}"
    );
}

/// The Django shop of `tests/fixtures/django` as Django's own `migrate` and `fill.py` made it on
/// MariaDB (`mysql_source.sql`), run into the schema `migrate` builds on PostgreSQL.
fn django_on_mariadb_after_run() -> (MysqlDatabase, TestDatabase, tempfile::TempDir) {
    let fixture = crate::support::cli::repo_root().join("tests/fixtures/django");
    let source = MysqlDatabase::new();
    source.load(&fixture.join("mysql_source.sql"));
    let target = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    let decant = |args: &[&str]| decant_between(dir.path(), args, &source, &target, &[]);
    crate::reverse::django_plan_in(dir.path(), "${SOURCE_DATABASE_URL}", decant);
    let run = decant(&["run", "plan.yaml", "--report-dir", "reports"]);
    assert_exit(&run, 0);
    (source, target, dir)
}

/// Every row of `table` in `db`, one line each in key order, JSON columns as documents (a
/// document's spelling is not its content).
fn rows_of(db: &MysqlDatabase, table: &str, json: &[&str]) -> Vec<String> {
    let columns = db.query(&format!(
        "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}'"
    ));
    let shown: Vec<String> = columns
        .split(',')
        .map(|c| format!("COALESCE(CAST(`{c}` AS CHAR), '<null>')"))
        .collect();
    // In hex: the client's output escapes and its character set would change what is compared.
    let hex = db.query(&format!(
        "SELECT HEX(GROUP_CONCAT(CONCAT_WS(0x1f, {}) ORDER BY id SEPARATOR 0x1e)) FROM `{table}`",
        shown.join(", ")
    ));
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let all = String::from_utf8(bytes).unwrap();
    let names: Vec<&str> = columns.split(',').collect();
    all.split('\u{1e}')
        .map(|row| {
            row.split('\u{1f}')
                .zip(&names)
                .map(|(v, c)| {
                    match (
                        json.contains(c),
                        serde_json::from_str::<serde_json::Value>(v),
                    ) {
                        (true, Ok(doc)) => doc.to_string(),
                        _ => v.to_owned(),
                    }
                })
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect()
}

#[test]
fn a_django_shop_on_mariadb_gets_back_the_writes_its_app_made_on_postgres_as_django_would_have_made_them(
) {
    let (source, target, dir) = django_on_mariadb_after_run();
    let decant = |args: &[&str]| decant_between(dir.path(), args, &source, &target, &[]);
    let idle = decant(&["sync", "plan.yaml", "--reverse"]);
    assert_exit(&idle, 0);
    assert!(idle.stdout.contains("nothing changed"), "{}", idle.stdout);
    // What the app does on PostgreSQL after the cutover, as Django's ORM does it.
    let pg = |sql: &str| on_postgres(&target, sql);
    let customer = pg(
        "INSERT INTO shop_customer (email, name, nickname, external_id, is_active, joined_at, birth_date, last_login_ip, mood, tags, preferences, notes) \
         VALUES ('new@example.com', 'Nouvelle', NULL, 'a1b2c3d4-0000-4000-8000-000000000001', true, '2024-03-31 01:30:00+01', '1990-05-05', '10.0.0.1', 'happy', '{\"x\",\"y, z\"}', '{\"lang\": \"fr\", \"note\": \"é🎉\"}', '') RETURNING id::text AS v",
    );
    let order = pg(&format!(
        "INSERT INTO shop_order (customer_id, reference, status, placed_at, paid, total, delivery_window, shipping_address, note) \
         VALUES ({customer}, 'ffffffff-0000-4000-8000-00000000000a', 'new', '2024-10-27 02:30:00+02', false, 12.50, interval '1 day 2 hours', '1 rue X', NULL) RETURNING id::text AS v"
    ));
    pg("UPDATE shop_customer SET preferences = jsonb_set(preferences, '{theme}', '\"light\"'), nickname = 'renamed', is_active = false WHERE id = 1;
        UPDATE shop_product SET price = 1234.5, stock = stock - 1, sizes = '{1,2,3}', keywords = '{\"new kw\"}' WHERE id = 2;
        UPDATE shop_order SET placed_at = '2024-03-31 03:00:00.25+02', status = 'paid', paid = true WHERE id = 8;
        DELETE FROM shop_orderline WHERE order_id = 7; DELETE FROM shop_order WHERE id = 7;");
    // The same writes as Django makes them on MariaDB: UTC wall times in DATETIME(6), 0/1,
    // JSON text as `json.dumps` writes it (non-ASCII escaped), the UUID type, durations in
    // microseconds.
    let expected = MysqlDatabase::new();
    expected.load(&crate::support::cli::repo_root().join("tests/fixtures/django/mysql_source.sql"));
    expected.execute(&format!(
        "INSERT INTO shop_customer (id, email, name, nickname, external_id, is_active, joined_at, birth_date, last_login_ip, mood, tags, preferences, notes) \
         VALUES ({customer}, 'new@example.com', 'Nouvelle', NULL, 'a1b2c3d4-0000-4000-8000-000000000001', 1, '2024-03-31 00:30:00', '1990-05-05', '10.0.0.1', 'happy', '[\"x\", \"y, z\"]', '{{\"lang\": \"fr\", \"note\": \"\\\\u00e9\\\\ud83c\\\\udf89\"}}', '');
         INSERT INTO shop_order (id, customer_id, reference, status, placed_at, paid, total, delivery_window, shipping_address, note) \
         VALUES ({order}, {customer}, 'ffffffff-0000-4000-8000-00000000000a', 'new', '2024-10-27 00:30:00', 0, 12.50, 93600000000, '1 rue X', NULL);
         UPDATE shop_customer SET preferences = JSON_SET(preferences, '$.theme', 'light'), nickname = 'renamed', is_active = 0 WHERE id = 1;
         UPDATE shop_product SET price = 1234.5, stock = stock - 1, sizes = '[1, 2, 3]', keywords = '[\"new kw\"]' WHERE id = 2;
         UPDATE shop_order SET placed_at = '2024-03-31 01:00:00.250000', status = 'paid', paid = 1 WHERE id = 8;
         DELETE FROM shop_orderline WHERE order_id = 7; DELETE FROM shop_order WHERE id = 7;"
    ));
    let back = decant(&["sync", "plan.yaml", "--reverse"]);
    assert_exit(&back, 0);
    assert!(
        back.stdout
            .contains("applied: 2 inserted, 3 updated, 3 deleted, 0 rejected"),
        "{}\n{}",
        back.stdout,
        back.stderr
    );
    let json = ["tags", "preferences", "sizes", "keywords", "payload"];
    for table in [
        "shop_customer",
        "shop_product",
        "shop_order",
        "shop_orderline",
        "shop_visit",
        "auth_user",
    ] {
        let (got, want) = (
            rows_of(&source, table, &json),
            rows_of(&expected, table, &json),
        );
        let differ: Vec<(&String, &String)> =
            got.iter().zip(&want).filter(|(g, w)| g != w).collect();
        assert!(
            differ.is_empty() && got.len() == want.len(),
            "{table}: {} rows against {}; differing: {differ:#?}",
            got.len(),
            want.len()
        );
    }
    // The app's own reads on MariaDB work, as Django writes them: a join on a UTC range, a
    // JSON path; and AUTO_INCREMENT continues past the ids PostgreSQL handed out.
    assert_eq!(
        source.query(
            "SELECT COUNT(*) FROM `shop_order` INNER JOIN `shop_customer` ON (`shop_order`.`customer_id` = `shop_customer`.`id`) \
             WHERE (`shop_customer`.`email` = 'new@example.com' AND `shop_order`.`placed_at` >= '2024-10-27 00:00:00' AND `shop_order`.`placed_at` < '2024-10-27 01:00:00')"
        ),
        "1"
    );
    assert_eq!(
        source.query("SELECT COUNT(*) FROM `shop_customer` WHERE JSON_UNQUOTE(JSON_EXTRACT(`preferences`, '$.theme')) = 'light' AND `id` = 1"),
        "1"
    );
    source.execute("INSERT INTO shop_customer (email, name, external_id, is_active, joined_at, mood, tags, preferences, notes) VALUES ('next@example.com', 'N', UUID(), 1, NOW(6), 'sad', '[]', '{}', '')");
    let next: i64 = source
        .query("SELECT id FROM shop_customer WHERE email = 'next@example.com'")
        .parse()
        .unwrap();
    assert!(next > customer.parse::<i64>().unwrap(), "{next}");
}

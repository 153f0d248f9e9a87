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

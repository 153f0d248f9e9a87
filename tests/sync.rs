//! `decant sync`: after a run, the source changes and only the changes are applied, in
//! foreign-key-safe order, exactly once, converging after a kill.

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};

use crate::support::cli::Outcome;
use crate::support::setup::{assert_exit, query, Setup};

const SOURCE: &str = "
    CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, rating REAL,
                          bio TEXT, active BOOLEAN, joined DATETIME, meta TEXT CHECK (json_valid(meta)));
    CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors(id),
                        title TEXT, pages INTEGER, price NUMERIC(8,2));
    CREATE TABLE tags (name TEXT, n INTEGER);
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500)
    INSERT INTO authors SELECT x, 'author ' || x, x / 3.0, CASE WHEN x % 2 = 0 THEN 'bio ' || x END,
                               x % 2, '2024-01-01 00:00:00', '{\"k\": ' || x || '}' FROM c;
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1500)
    INSERT INTO books SELECT x, 1 + x % 500, 'title ' || x, x, x / 4.0 FROM c;
    INSERT INTO tags VALUES ('x', 1), ('y', 2);
";

const PLAN: &str = "settings: { on_bad_row: reject }
checks:
  - row_counts: all
  - checksums: all
  - foreign_keys: all
";

/// The sync's first line says it applied `counts` ("4 inserted, 3 updated, …").
fn assert_applied(out: &Outcome, counts: &str) {
    assert!(
        out.stdout.contains(&format!("applied: {counts}")),
        "{}",
        out.stdout
    );
}

/// The sync summary's line for `table` (its counts and what it compared).
fn compared(out: &Outcome, table: &str) -> String {
    out.stdout
        .lines()
        .find(|l| l.trim_start().starts_with(table))
        .unwrap_or_else(|| panic!("no line for {table}: {}", out.stdout))
        .to_owned()
}

fn write_source(s: &Setup, sql: &str) {
    let path = s.path("source.sqlite3");
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    conn.batch_execute(sql).unwrap();
}

/// What the app did to its SQLite file since the run: every kind of change.
const CHANGES: &str = "
    INSERT INTO authors (name, rating, active) VALUES ('new author', 4.5, 1);
    UPDATE authors SET bio = 'a bio now', rating = NULL, active = 0, joined = '2025-06-01 12:00:00',
                       meta = '{\"k\": \"changed\"}' WHERE id = 3;
    UPDATE authors SET bio = NULL WHERE id = 4;
    DELETE FROM books WHERE author_id = 9; DELETE FROM authors WHERE id = 9;
    UPDATE books SET id = 90001 WHERE id = 15;
    UPDATE books SET pages = 'not a number' WHERE id = 16;
    UPDATE books SET price = 12.34, title = NULL WHERE id = 17;
    INSERT INTO books VALUES (90002, 501, 'by the new author', 10, 1.00);
    INSERT INTO tags VALUES ('z', 3);
";

#[test]
fn sync_applies_inserts_updates_and_deletes_since_the_run_and_a_second_sync_applies_nothing() {
    let s = Setup::from_sql(SOURCE, PLAN);
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    write_source(&s, CHANGES);
    // A preview writes nothing.
    let preview = s.decant(&["sync", "plan.yaml", "--dry-run"]);
    assert_exit(&preview, 0);
    assert!(preview.stdout.contains("would apply"), "{}", preview.stdout);
    assert_eq!(
        query(&s.db, "SELECT count(*) FROM books WHERE id = 90002"),
        "0"
    );
    assert_eq!(query(&s.db, "SELECT count(*) FROM decant.syncs"), "0");
    // The sync: the row that became a bad row is rejected (exit 1) and leaves the target.
    let out = s.decant(&["sync", "plan.yaml"]);
    assert_exit(&out, 1);
    assert_applied(&out, "4 inserted, 3 updated, 6 deleted, 1 rejected");
    assert_eq!(
        query(&s.db, "SELECT format('%s|%s|%s|%s|%s', bio, rating, active, joined, meta) FROM authors WHERE id = 3"),
        "a bio now||f|2025-06-01 12:00:00+00|{\"k\": \"changed\"}"
    );
    assert_eq!(
        query(&s.db, "SELECT bio IS NULL FROM authors WHERE id = 4"),
        "true"
    );
    assert_eq!(
        query(&s.db, "SELECT count(*) FROM authors WHERE id = 9"),
        "0"
    );
    assert_eq!(
        query(&s.db, "SELECT count(*) FROM books WHERE author_id = 9"),
        "0"
    );
    assert_eq!(
        query(&s.db, "SELECT count(*) FROM books WHERE id IN (15, 16)"),
        "0"
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT format('%s|%s', title, price) FROM books WHERE id = 17"
        ),
        "|12.34"
    );
    assert_eq!(
        query(&s.db, "SELECT author_id FROM books WHERE id = 90002"),
        "501"
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(name, ',' ORDER BY name) FROM tags"
        ),
        "x,y,z"
    );
    // The identity moved past the new id.
    assert_eq!(
        query(
            &s.db,
            "SELECT nextval(pg_get_serial_sequence('authors', 'id')) > 501"
        ),
        "true"
    );
    // The sync's report, beside the plan, holds the row it rejected and why.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("plan.sync.report.json")).unwrap())
            .unwrap();
    let rejects = report["rejects"].as_array().unwrap();
    assert_eq!(rejects.len(), 1, "{report:#}");
    assert!(
        rejects[0].to_string().contains("not a number"),
        "{report:#}"
    );
    // Every check passes against the source as it is now; nothing is left to apply.
    let check = s.decant(&["check", "plan.yaml"]);
    assert_exit(&check, 0);
    let again = s.decant(&["sync", "plan.yaml"]);
    assert_exit(&again, 0);
    assert_applied(&again, "0 inserted, 0 updated, 0 deleted, 0 rejected");
    let status = s.decant(&["status", "plan.yaml"]);
    assert!(
        status.stdout.contains("sync 1  succeeded")
            && status
                .stdout
                .contains("4 inserted, 3 updated, 6 deleted, 1 rejected"),
        "{}",
        status.stdout
    );
}

#[test]
fn a_sync_killed_before_its_commit_applies_nothing_and_the_next_sync_converges() {
    let s = Setup::from_sql(SOURCE, PLAN);
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    write_source(&s, CHANGES);
    let killed = std::process::Command::new(env!("CARGO_BIN_EXE_decant"))
        .args(["sync", "plan.yaml"])
        .current_dir(s.dir.path())
        .env("TARGET_DATABASE_URL", &s.db.url)
        .env("DECANT_TEST_KILL_AT", "before-commit:sync")
        .output()
        .unwrap();
    assert_eq!(killed.status.code(), None, "{killed:?}");
    assert_eq!(
        query(&s.db, "SELECT count(*) FROM books WHERE id = 90002"),
        "0"
    );
    assert_eq!(
        query(&s.db, "SELECT count(*) FROM authors WHERE id = 9"),
        "1"
    );
    let out = s.decant(&["sync", "plan.yaml"]);
    assert_exit(&out, 1);
    assert_exit(&s.decant(&["check", "plan.yaml"]), 0);
    assert_exit(&s.decant(&["sync", "plan.yaml"]), 0);
}

#[test]
fn sync_refuses_when_the_plan_or_the_source_schema_changed_or_no_run_completed() {
    let s = Setup::from_sql(SOURCE, PLAN);
    let before_any_run = s.decant(&["sync", "plan.yaml"]);
    assert_exit(&before_any_run, 2);
    assert!(
        before_any_run.stderr.contains("run the plan first"),
        "{}",
        before_any_run.stderr
    );
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    write_source(&s, "ALTER TABLE books ADD COLUMN isbn TEXT;");
    let changed = s.decant(&["sync", "plan.yaml"]);
    assert_exit(&changed, 2);
    assert!(
        changed
            .stderr
            .contains("the plan or the source's schema changed since run 1"),
        "{}",
        changed.stderr
    );
}

#[test]
fn a_table_that_mostly_changed_is_reloaded_whole_and_its_children_keep_their_parents() {
    let s = Setup::from_sql(
        "CREATE TABLE plans (id INTEGER PRIMARY KEY, price REAL NOT NULL);
         CREATE TABLE subscriptions (id INTEGER PRIMARY KEY, plan_id INTEGER NOT NULL REFERENCES plans(id));
         INSERT INTO plans VALUES (1, 5.0), (2, 10.0), (3, 20.0), (4, 40.0);
         INSERT INTO subscriptions VALUES (10, 1), (11, 2), (12, 3), (13, 4);",
        PLAN,
    );
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    // Every price changes, one plan goes (with its subscription), one comes.
    write_source(
        &s,
        "UPDATE plans SET price = price * 1.1;
         DELETE FROM subscriptions WHERE plan_id = 4; DELETE FROM plans WHERE id = 4;
         INSERT INTO plans VALUES (5, 80.0);",
    );
    let out = s.decant(&["sync", "plan.yaml"]);
    assert_exit(&out, 0);
    assert!(
        out.stdout.contains("most of the table differs: reloaded"),
        "{}",
        out.stdout
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(id || '=' || price, ',' ORDER BY id) FROM plans"
        ),
        "1=5.5,2=11,3=22,5=80"
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(id || '>' || plan_id, ',' ORDER BY id) FROM subscriptions"
        ),
        "10>1,11>2,12>3"
    );
    assert_exit(&s.decant(&["check", "plan.yaml"]), 0);
}

#[test]
fn window_sums_kept_by_the_run_then_by_each_sync_lead_every_sync_to_the_changed_windows() {
    let s = Setup::from_sql(SOURCE, PLAN);
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    // The loads summed the source rows per key window on the way (tables keyed by the rowid;
    // `tags` has no key), so the first sync compares no window where nothing changed.
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(source_table, ',' ORDER BY source_table) FROM decant.source_windows"
        ),
        "authors,books"
    );
    let first = s.decant(&["sync", "plan.yaml"]);
    assert_exit(&first, 0);
    assert!(
        compared(&first, "authors").contains(" 0 key ranges"),
        "{}",
        first.stdout
    );
    assert!(
        compared(&first, "books").contains(" 0 key ranges"),
        "{}",
        first.stdout
    );
    write_source(&s, CHANGES);
    let out = s.decant(&["sync", "plan.yaml"]);
    assert_exit(&out, 1);
    assert_applied(&out, "4 inserted, 3 updated, 6 deleted, 1 rejected");
    // Windows of 16 keys: authors 3, 4 and 9 share window 0, the new author 501 is in window
    // 31; books change in windows 0-1, 31 and 62 (author 9's books 8, 508, 1008) and 5625
    // (90001, 90002). Sums that differed everywhere would join into one range.
    assert!(
        compared(&out, "authors").contains(" 2 key ranges"),
        "{}",
        out.stdout
    );
    assert!(
        compared(&out, "books").contains(" 4 key ranges"),
        "{}",
        out.stdout
    );
    assert!(
        compared(&out, "tags").contains("whole table"),
        "{}",
        out.stdout
    );
    assert_exit(&s.decant(&["check", "plan.yaml"]), 0);
    // An author becomes a bad row: it leaves the target with its books.
    write_source(&s, "UPDATE authors SET rating = 'very good' WHERE id = 7;");
    assert_exit(&s.decant(&["sync", "plan.yaml"]), 1);
    assert_eq!(
        query(&s.db, "SELECT count(*) FROM books WHERE author_id = 7"),
        "0"
    );
    // Fixed: the author comes back, and its books with it, though nothing changed in their
    // own table's windows (the windows of rows rejected before are always compared).
    write_source(&s, "UPDATE authors SET rating = 2.5 WHERE id = 7;");
    let out = s.decant(&["sync", "plan.yaml"]);
    assert_exit(&out, 0);
    assert_eq!(
        query(&s.db, "SELECT count(*) FROM books WHERE author_id = 7"),
        "3"
    );
    assert_exit(&s.decant(&["check", "plan.yaml"]), 0);
    let again = s.decant(&["sync", "plan.yaml"]);
    assert_applied(&again, "0 inserted, 0 updated, 0 deleted, 0 rejected");
}

#[test]
fn a_big_table_is_digested_in_parts_on_two_connections_and_every_change_is_found() {
    // Past 250 000 rows keyed by the rowid, a table's digest is read in key ranges, shared
    // out between two connections on one snapshot; a change in every range, on each side of
    // the boundary between them, and past the open end above, is found. The run keeps 16 250
    // windows of 16 keys (the last holds key 260 000), so two parts of 8 125 windows: the
    // first ends at key 130 000.
    let s = Setup::from_sql(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, tag TEXT);
         CREATE TABLE kinds (id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO kinds VALUES (1, 'a'), (2, 'b');
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 260000)
         INSERT INTO events SELECT x, x % 7, CASE WHEN x % 3 = 0 THEN 't' || x END FROM c;",
        "checks:\n  - row_counts: all\n",
    );
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    assert_exit(&s.decant(&["sync", "plan.yaml"]), 0);
    write_source(
        &s,
        "UPDATE events SET n = -1 WHERE id IN (5, 130000, 259999);
         UPDATE events SET tag = NULL WHERE id = 200001;
         DELETE FROM events WHERE id IN (1, 260000);
         UPDATE kinds SET name = 'c' WHERE id = 2;",
    );
    let out = s.decant(&["sync", "plan.yaml"]);
    assert_exit(&out, 0);
    assert_applied(&out, "0 inserted, 5 updated, 2 deleted, 0 rejected");
    assert_eq!(
        query(
            &s.db,
            "SELECT count(*) || ' ' || sum(n) || ' ' || count(tag) FROM events"
        ),
        query_source(
            &s,
            "SELECT count(*) || ' ' || sum(n) || ' ' || count(tag) FROM events"
        )
    );
    // The first key of the second part, alone: a change next to another would be found
    // with it (the comparison reads around each changed range).
    write_source(&s, "UPDATE events SET n = -2 WHERE id = 130001;");
    let out = s.decant(&["sync", "plan.yaml"]);
    assert_applied(&out, "0 inserted, 1 updated, 0 deleted, 0 rejected");
    // Past the open end above (the windows grow, and the parts with them).
    write_source(
        &s,
        "INSERT INTO events VALUES (900000, 2, 'far past the last window');",
    );
    let out = s.decant(&["sync", "plan.yaml"]);
    assert_applied(&out, "1 inserted, 0 updated, 0 deleted, 0 rejected");
    let again = s.decant(&["sync", "plan.yaml"]);
    assert_applied(&again, "0 inserted, 0 updated, 0 deleted, 0 rejected");
}

#[test]
fn a_source_in_wal_mode_is_synced_too() {
    // Writers commit beside a WAL reader: the second connection digests only when no commit
    // came between the two snapshots (`PRAGMA data_version`, unit-tested in `source`).
    let s = Setup::from_sql(SOURCE, PLAN);
    write_source(&s, "PRAGMA journal_mode = wal;");
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    assert_exit(&s.decant(&["sync", "plan.yaml"]), 0);
    write_source(&s, CHANGES);
    let out = s.decant(&["sync", "plan.yaml"]);
    assert_exit(&out, 1);
    assert_applied(&out, "4 inserted, 3 updated, 6 deleted, 1 rejected");
    assert_exit(&s.decant(&["check", "plan.yaml"]), 0);
}

fn query_source(s: &Setup, sql: &str) -> String {
    let path = s.path("source.sqlite3");
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    #[derive(diesel::QueryableByName)]
    struct Text {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    diesel::RunQueryDsl::load::<Text>(diesel::sql_query(format!("SELECT ({sql}) AS t")), &mut conn)
        .unwrap()
        .remove(0)
        .t
}

#[test]
fn a_changed_child_of_a_parent_that_became_bad_is_rejected_once_though_both_its_versions_go() {
    // The child row is staged (it changed) and still in the target (its old version): the
    // cascade takes it out of both, and records it once.
    let s = Setup::from_sql(SOURCE, PLAN);
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    write_source(
        &s,
        "UPDATE authors SET rating = 'not a number' WHERE id = 7;
         UPDATE books SET title = 'changed title' WHERE author_id = 7;",
    );
    let out = s.decant(&["sync", "plan.yaml"]);
    assert_exit(&out, 1);
    let children: u64 = query_source(&s, "SELECT count(*) FROM books WHERE author_id = 7")
        .parse()
        .unwrap();
    assert!(children > 0);
    assert_eq!(
        query(
            &s.db,
            "SELECT count(*) || '/' || count(DISTINCT primary_key) FROM decant.decant_rejects WHERE source_table = 'books'"
        ),
        format!("{children}/{children}"),
        "{}",
        out.stdout
    );
    assert_eq!(
        query(&s.db, "SELECT count(*) FROM books WHERE author_id = 7"),
        "0"
    );
}

#[test]
fn a_rejection_travels_round_a_foreign_key_cycle_until_no_row_is_left_hanging() {
    // a.b_id → b and b.a_id → a: b1 turns bad, a1 now points at b1, b2 at a1, a2 at b2, b3 at
    // a2, a3 at b3. Whichever table comes first, one pass over the two tables leaves a child
    // of a rejected row behind; the passes repeat until one rejects nothing.
    let source = "
        CREATE TABLE a (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b(id), n INTEGER);
        CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id), n INTEGER);
        INSERT INTO a VALUES (1, NULL, 1), (2, NULL, 2), (3, NULL, 3), (4, NULL, 4);
        INSERT INTO b VALUES (1, NULL, 1), (2, NULL, 2), (3, NULL, 3), (4, NULL, 4);
    ";
    let s = Setup::from_sql(source, PLAN);
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    write_source(
        &s,
        "UPDATE b SET n = 'not a number' WHERE id = 1;
         UPDATE a SET b_id = 1 WHERE id = 1;
         UPDATE b SET a_id = 1 WHERE id = 2;
         UPDATE a SET b_id = 2 WHERE id = 2;
         UPDATE b SET a_id = 2 WHERE id = 3;
         UPDATE a SET b_id = 3 WHERE id = 3;
         UPDATE b SET n = 40 WHERE id = 4;",
    );
    let out = s.decant(&["sync", "plan.yaml"]);
    assert_exit(&out, 1);
    let rejected = |table: &str| {
        query(
            &s.db,
            &format!(
                "SELECT string_agg(DISTINCT primary_key->>'id', ',' ORDER BY primary_key->>'id') \
                 FROM decant.decant_rejects WHERE source_table = '{table}'"
            ),
        )
    };
    assert_eq!(rejected("a"), "1,2,3", "{}", out.stdout);
    assert_eq!(rejected("b"), "1,2,3", "{}", out.stdout);
    // The change no rejection reached is applied.
    assert_eq!(query(&s.db, "SELECT n FROM b WHERE id = 4"), "40");
}

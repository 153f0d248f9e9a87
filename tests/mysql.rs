//! MySQL/MariaDB → PostgreSQL against the real MariaDB server: the traps suite
//! (`fixtures/mysql/traps.sql`, loaded by the `mariadb` client), each trap loaded right or
//! rejected with its reason, and the checks working across the two engines.

use crate::support::cli::{
    assert_all_checks_passed, assert_contains, decant_in, repo_root, Outcome, Paused,
};
use crate::support::mysql::{decant_between, MysqlDatabase};
use crate::support::postgres::TestDatabase;
use crate::support::setup::{assert_exit, assert_tables_reconcile, foreign_keys_made, query};

const PLAN: &str = r#"version: 1
name: traps
source: { url: "${SOURCE_DATABASE_URL}" }
target: { url: "${TARGET_DATABASE_URL}" }
settings:
  on_bad_row: reject
columns:
  # A zero date is a plan decision: NULL here; in `happened` it stays a bad row.
  events.day:
    transform: "{{ value | nullif('0000-00-00') }}"
checks:
  - row_counts: all
  - checksums: all
  - foreign_keys: all
  - checksums: [readings]
    sample_rate: 0.5
  # MySQL SQL on the source side, PostgreSQL on the target side.
  - name: loaded balance
    source: "SELECT sum(balance) FROM accounts WHERE active IN (0, 1) AND id < 1000"
    target: "SELECT sum(balance) FROM accounts"
    expect: equal
  - name: readings per sensor
    source: "SELECT count(DISTINCT sensor) FROM readings"
    target: "SELECT count(DISTINCT sensor) FROM readings"
    expect: equal
"#;

/// The traps database in MariaDB, an empty PostgreSQL database, and the plan between them.
struct Traps {
    dir: tempfile::TempDir,
    source: MysqlDatabase,
    target: TestDatabase,
}

impl Traps {
    fn new() -> Traps {
        let source = MysqlDatabase::new();
        source.load(&repo_root().join("tests/fixtures/mysql/traps.sql"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("plan.yaml"), PLAN).unwrap();
        Traps {
            dir,
            source,
            target: TestDatabase::new(),
        }
    }

    fn decant(&self, args: &[&str]) -> Outcome {
        decant_between(self.dir.path(), args, &self.source, &self.target, &[])
    }

    fn pg(&self, sql: &str) -> String {
        query(&self.target, sql)
    }
}

/// A MariaDB database made by `sql`, moved into a new PostgreSQL database by a plan that
/// compares every row; the run must succeed with every check passing.
fn run_checked(sql: &str) -> (MysqlDatabase, TestDatabase) {
    let source = MysqlDatabase::new();
    source.execute(sql);
    let (source, target, _) = run_checked_from(source, &[]);
    (source, target)
}

/// [`run_checked`] from a database made already, with `extra` in decant's environment; the
/// run's report too.
fn run_checked_from(
    source: MysqlDatabase,
    extra: &[(&str, &str)],
) -> (MysqlDatabase, TestDatabase, serde_json::Value) {
    let target = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plan.yaml"),
        "version: 1\nname: checked\nsource: { url: \"${SOURCE_DATABASE_URL}\" }\ntarget: { url: \"${TARGET_DATABASE_URL}\" }\nchecks:\n  - row_counts: all\n  - checksums: all\n",
    )
    .unwrap();
    let out = decant_between(dir.path(), &["run", "plan.yaml"], &source, &target, extra);
    assert_exit(&out, 0);
    assert_all_checks_passed(&out);
    let report = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("plan.report.json")).unwrap(),
    )
    .unwrap();
    (source, target, report)
}

/// A run from `source` into a new database of a plan that checks row counts (with `more` of
/// the plan after that), paused as `step` starts (the journal shows it running) while
/// `meanwhile` runs: what the app does while the run holds its snapshot. Returns the target,
/// the plan's directory and the run's outcome.
fn run_counted_paused_at(
    source: &MysqlDatabase,
    more: &str,
    step: &str,
    meanwhile: impl FnOnce(),
) -> (TestDatabase, tempfile::TempDir, Outcome) {
    let target = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plan.yaml"),
        format!("version: 1\nname: counted\nsource: {{ url: \"${{SOURCE_DATABASE_URL}}\" }}\ntarget: {{ url: \"${{TARGET_DATABASE_URL}}\" }}\nchecks:\n  - row_counts: all\n{more}"),
    )
    .unwrap();
    let release = dir.path().join("release");
    let paused = || {
        use diesel::RunQueryDsl;
        diesel::sql_query("SELECT 1 FROM decant.steps WHERE step_id = $1 AND state = 'running'")
            .bind::<diesel::sql_types::Text, _>(step)
            .execute(&mut target.connect())
            == Ok(1)
    };
    let point = format!("started:{step}");
    let out = std::thread::scope(|scope| {
        let run = scope.spawn(|| {
            decant_between(
                dir.path(),
                &["run", "plan.yaml"],
                source,
                &target,
                &[
                    ("DECANT_TEST_PAUSE_AT", point.as_str()),
                    ("DECANT_TEST_RELEASE", release.to_str().unwrap()),
                ],
            )
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while !paused() {
            assert!(std::time::Instant::now() < deadline, "the run never paused");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        meanwhile();
        std::fs::write(&release, "").unwrap();
        run.join().unwrap()
    });
    (target, dir, out)
}

#[test]
fn every_mysql_trap_loads_right_or_is_rejected_with_its_reason() {
    let t = Traps::new();
    let out = t.decant(&["run", "plan.yaml"]);
    // Rejected rows make the exit code 1, with every check passing.
    assert_exit(&out, 1);
    assert_all_checks_passed(&out);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(t.dir.path().join("plan.report.json")).unwrap(),
    )
    .unwrap();
    assert_tables_reconcile(&report, "traps");

    // Every bad row, with the value and the reason.
    assert_eq!(
        t.pg("SELECT string_agg(source_table || ' ' || primary_key::text || ' ' || source_column || ': ' || reason, E'\\n' ORDER BY source_table, primary_key::text, source_column) FROM decant.decant_rejects"),
        [
            r#"accounts {"id": "18446744073709551615"} id: `18446744073709551615` is out of range for `bigint`"#,
            r#"accounts {"id": 3} active: 2 is not a boolean (expected 0/1, t/f, true/false, yes/no)"#,
            r#"events {"id": 2} happened: `0000-00-00 00:00:00` has year 0, which does not exist"#,
            r#"events {"id": 3} took: `25:00:00` is not a time of day (HH:MM[:SS[.ffffff]])"#,
            r#"events {"id": 4} account_id: parent rejected: its row in `accounts` was rejected"#,
            r#"events {"id": 5} note: text contains a NUL character, which PostgreSQL text cannot hold"#,
            r#"events {"id": 6} took: `-01:00:00` is not a time of day (HH:MM[:SS[.ffffff]])"#,
        ]
        .join("\n")
    );

    // Types and values that came across.
    assert_eq!(
        t.pg("SELECT string_agg(concat_ws(' ', id, email, active, flag, coalesce(born::text, '-'), plan, tags::text, balance, coalesce(ratio::text, '-'), coalesce(score::text, '-'), coalesce(settings::text, '-')), ' | ' ORDER BY id) FROM accounts"),
        r#"1 Ann@Example.com t t 1990 pro {a,c} 12.50 0.5 1e+300 {"theme": "dark"} | 2 bob@example.com f f - free {} -3.10 - 0 -"#,
        "accounts"
    );
    assert_eq!(
        t.pg("SELECT string_agg(format_type(atttypid, atttypmod), ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attnum > 0"),
        "bigint, character varying(120), boolean, boolean, smallint, text, text[], numeric(12,2), real, double precision, jsonb"
    );
    // An AUTO_INCREMENT key is an identity that continues after MySQL's counter.
    assert_eq!(
        t.pg("SELECT attidentity FROM pg_attribute WHERE attrelid = 'events'::regclass AND attname = 'id'"),
        "d"
    );
    assert_eq!(
        t.pg("SELECT nextval(pg_get_serial_sequence('events', 'id'))"),
        "9"
    );
    // A `_ci` unique key folds case, as in MySQL.
    assert!(
        t.pg("SELECT indexdef FROM pg_indexes WHERE indexname = 'accounts_email'")
            .contains("lower((email)::text)"),
        "{}",
        t.pg("SELECT string_agg(indexdef, E'\\n') FROM pg_indexes WHERE tablename = 'accounts'")
    );
    // Dates, times, bytes; a TIMESTAMP written at +05:00 is the same instant in UTC; the zero
    // date of `day` became NULL as the plan decided.
    assert_eq!(
        t.pg("SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s', id, happened, logged, day, took, note, encode(raw, 'hex')), E'\\n' ORDER BY id) FROM events"),
        [
            "1|2024-01-31 10:00:00.25|2024-01-31 10:00:00+00|2024-01-31|10:00:00|plain|00ff",
            "7|||||ünïcödé ✓|",
            "8||2024-06-01 10:00:00+00||||",
        ]
        .join("\n")
    );
    // latin1 (cp1252) bytes arrive as the characters they are.
    assert_eq!(
        t.pg("SELECT string_agg(name, ',' ORDER BY code, part) FROM legacy"),
        "café,naïve,€ sign,\u{81}"
    );
    // A table without a key is carried as a multiset; a self-reference and a cycle keep
    // their foreign keys.
    assert_eq!(t.pg("SELECT count(*) FROM notes WHERE body = 'same'"), "2");
    assert_eq!(
        t.pg("SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint WHERE contype = 'f' AND conrelid IN ('categories'::regclass, 'teams'::regclass, 'players'::regclass)"),
        "categories_parent_id_fkey,players_team_id_fkey,teams_captain_id_fkey"
    );
    // A STORED generated column stays generated; a VIRTUAL one in MySQL's own functions is
    // data; the CHECK holds in PostgreSQL too.
    assert_eq!(
        t.pg("SELECT string_agg(format('%s=%s/%s', attname, attgenerated, (SELECT string_agg(label || ':' || total, ',' ORDER BY id) FROM lines)), ' ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'lines'::regclass AND attname IN ('total', 'label')"),
        "total=s/#1:10.00,#2:1.00 label=/#1:10.00,#2:1.00"
    );
    assert_eq!(
        t.pg("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'qty_positive'"),
        "CHECK ((qty > 0))"
    );
    // More rows than one page of a MySQL read, under a composite key.
    assert_eq!(
        t.pg("SELECT count(*) || ' ' || sum(seq) FROM readings"),
        "45000 1012522500"
    );

    // Clock defaults carry; ON UPDATE is reported (see the plan test).
    assert_eq!(
        t.pg("SELECT string_agg(attname || '=' || pg_get_expr(adbin, adrelid), ', ' ORDER BY attnum) FROM pg_attrdef JOIN pg_attribute ON attrelid = adrelid AND attnum = adnum WHERE adrelid = 'stamped'::regclass"),
        "created_at=CURRENT_TIMESTAMP, updated_at=CURRENT_TIMESTAMP, day=CURRENT_DATE"
    );
    // A view is rewritten without MySQL's database qualifier and backticks; one PostgreSQL
    // refuses (a boolean compared with 1) is reported with PostgreSQL's reason.
    assert_eq!(t.pg("SELECT count(*) FROM big_readings"), "3000");
    let md = std::fs::read_to_string(t.dir.path().join("plan.report.md")).unwrap();
    assert!(
        md.contains("view `active_accounts` is not carried: PostgreSQL refused its rewritten SELECT: operator does not exist: boolean = integer"),
        "{md}"
    );

    // `check` on its own agrees, and then pinpoints a row changed in the target.
    assert_all_checks_passed(&t.decant(&["check", "plan.yaml"]));
    t.target.connect().batch_execute_checked(
        "UPDATE readings SET value = value + 1 WHERE sensor = 2 AND seq = 30002",
    );
    let out = t.decant(&["check", "plan.yaml"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("30002"),
        "the changed row is not named:\n{}",
        out.stdout
    );
}

#[test]
fn plan_reports_what_a_mysql_schema_holds_that_is_not_carried() {
    let t = Traps::new();
    let out = t.decant(&["plan", "plan.yaml"]);
    assert_exit(&out, 0);
    for expected in [
        "index `events_note_prefix` on `events` is not carried: it indexes the first 10 characters of `note`",
        "index `events_note_words` on `events` is not carried: it is a FULLTEXT index",
        "trigger `events_touch` on `events` is not carried: MySQL trigger bodies are not translated",
        "column `stamped.updated_at` has `on update current_timestamp(3)`: PostgreSQL has no such clause",
        "bigint unsigned key → bigint",
        "tinyint(1) → boolean",
        "timestamp → timestamptz",
    ] {
        assert!(
            out.stdout.contains(expected),
            "missing `{expected}` in:\n{}",
            out.stdout
        );
    }
}

#[test]
fn a_source_changed_after_the_run_is_synced_from_mysql() {
    let t = Traps::new();
    assert_exit(&t.decant(&["run", "plan.yaml"]), 1);
    // Every trap's values summed as the load streamed them equal the sync's digest of the
    // same rows: nothing changed, so no window is compared but the one of the row the run
    // rejected from `events` (looked at again each time). `accounts` has a key past 2^63,
    // outside any window: compared whole, as are the tables without an integer key.
    let first = t.decant(&["sync", "plan.yaml"]);
    assert!(
        first
            .stdout
            .contains("applied: 0 inserted, 0 updated, 0 deleted, 0 rejected"),
        "{}",
        first.stdout
    );
    let windowed: Vec<&str> = first
        .stdout
        .lines()
        .filter(|l| l.contains("key range"))
        .collect();
    assert_eq!(windowed.len(), 7, "{}", first.stdout);
    for line in &windowed {
        let expected = if line.trim_start().starts_with("events ") {
            " 1 key range"
        } else {
            " 0 key ranges"
        };
        assert!(line.ends_with(expected), "{}", first.stdout);
    }
    t.source.execute(
        "INSERT INTO readings VALUES (7, 99999, 1.5); \
         UPDATE categories SET name = 'renamed' WHERE id = 3; \
         DELETE FROM readings WHERE sensor = 0 AND seq = 3",
    );
    let out = t.decant(&["sync", "plan.yaml"]);
    assert_exit(&out, 0);
    assert_eq!(t.pg("SELECT name FROM categories WHERE id = 3"), "renamed");
    assert_eq!(
        t.pg("SELECT count(*) FROM readings WHERE seq IN (3, 99999)"),
        "1"
    );
    assert_all_checks_passed(&t.decant(&["check", "plan.yaml"]));
}

#[test]
fn a_mysql_source_that_cannot_be_reached_says_why() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.yaml"), PLAN).unwrap();
    let out = decant_in(
        dir.path(),
        &["validate", "plan.yaml"],
        &[
            (
                "SOURCE_DATABASE_URL",
                "mysql://nobody:secret@127.0.0.1:3306/no_such_database",
            ),
            ("TARGET_DATABASE_URL", "postgres://postgres@127.0.0.1:1/x"),
        ],
    );
    assert_exit(&out, 2);
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(
        said.contains(
            "cannot connect to the source `mysql://nobody:***@127.0.0.1:3306/no_such_database`"
        ) && said.contains("Access denied"),
        "{said}"
    );
    assert!(!said.contains("secret"), "{said}");
}

/// `batch_execute` that panics with the statement on failure.
trait Checked {
    fn batch_execute_checked(&mut self, sql: &str);
}

impl Checked for diesel::PgConnection {
    fn batch_execute_checked(&mut self, sql: &str) {
        use diesel::connection::SimpleConnection;
        self.batch_execute(sql)
            .unwrap_or_else(|e| panic!("`{sql}`: {e}"));
    }
}

#[test]
fn the_example_mysql_plan_runs_on_its_own_data() {
    let source = MysqlDatabase::new();
    source.load(&repo_root().join("plans/mysql/shop.sql"));
    let target = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo_root().join("plans/mysql/shop.yaml"),
        dir.path().join("shop.yaml"),
    )
    .unwrap();
    let out = decant_between(dir.path(), &["run", "shop.yaml"], &source, &target, &[]);
    assert_exit(&out, 0);
    assert_all_checks_passed(&out);
    // The zero date the app wrote for "not shipped" is NULL, as the plan decides.
    assert_eq!(
        query(
            &target,
            "SELECT string_agg(id || ':' || coalesce(shipped_at::text, 'null'), ',' ORDER BY id) FROM orders"
        ),
        "1:2024-03-02 08:00:00,2:null,3:null"
    );
    assert_eq!(
        query(
            &target,
            "SELECT string_agg(format_type(atttypid, atttypmod), ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'products'::regclass AND attnum > 0"
        ),
        "bigint, character varying(8), character varying(200), numeric(10,2), text, jsonb"
    );
}

#[test]
fn init_profiles_mysql_values_and_flags_the_ones_that_would_be_bad_rows() {
    let t = Traps::new();
    let out = t.decant(&["init", "--source", &t.source.url, "-o", "started.yaml"]);
    assert_exit(&out, 0);
    let plan = std::fs::read_to_string(t.dir.path().join("started.yaml")).unwrap();
    for expected in [
        "on_bad_row: reject",
        "# 1 value(s) are an id above 2^63 - 1",
        "#   accounts.active: { to: smallint }",
        r#"#   events.happened: { to: timestamp, transform: "{{ value | nullif('0000-00-00 00:00:00') }}" }"#,
        r#"#   events.day: { to: date, transform: "{{ value | nullif('0000-00-00') }}" }"#,
        "# 2 value(s) are a TIME outside 00:00-24:00",
        "# 1 value(s) are text holding a NUL byte",
    ] {
        assert!(plan.contains(expected), "missing `{expected}` in:\n{plan}");
    }
    // The password-free URL is written, and the plan it wrote validates.
    assert!(
        plan.contains(&format!("${{SOURCE_DATABASE_URL:-{}}}", t.source.url)),
        "{plan}"
    );
    assert_exit(&t.decant(&["validate", "started.yaml"]), 0);
}

#[test]
fn a_run_from_mysql_killed_mid_copy_or_around_a_commit_resumes_exactly() {
    for point in [
        "copying:load:readings",
        "before-commit:load:events",
        "after-commit:load:readings",
    ] {
        let t = Traps::new();
        let killed = decant_between(
            t.dir.path(),
            &["run", "plan.yaml"],
            &t.source,
            &t.target,
            &[("DECANT_TEST_KILL_AT", point)],
        );
        assert_eq!(killed.code, -1, "{point}: not killed:\n{}", killed.stderr);
        let out = t.decant(&["run", "plan.yaml", "--resume"]);
        // Rejected rows make the exit code 1; every check passes.
        assert_exit(&out, 1);
        assert_all_checks_passed(&out);
        assert_eq!(t.pg("SELECT count(*) FROM readings"), "45000", "{point}");
        assert_eq!(t.pg("SELECT count(*) FROM events"), "3", "{point}");
        // Each bad row once, however often its table's load started.
        assert_eq!(
            t.pg("SELECT count(*) FROM decant.decant_rejects"),
            "7",
            "{point}"
        );
    }
}

#[test]
fn sync_looks_again_at_rejected_rows_fixed_or_deleted_in_the_source() {
    let t = Traps::new();
    assert_exit(&t.decant(&["run", "plan.yaml"]), 1);
    let counts = |out: &Outcome, table: &str| -> String {
        out.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(table))
            .map(|l| {
                l.split_whitespace()
                    .skip(1)
                    .take(4)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_else(|| panic!("no `{table}` line in:\n{}", out.stdout))
    };
    // Nothing changed: the rows rejected by the run are looked at again and are no change.
    let out = t.decant(&["sync", "plan.yaml"]);
    assert_exit(&out, 0);
    assert_eq!(counts(&out, "accounts"), "0 0 0 0", "{}", out.stdout);
    assert_eq!(counts(&out, "events"), "0 0 0 0", "{}", out.stdout);

    // The app fixes a rejected account and a rejected note, deletes a rejected event, makes a
    // loaded event bad, makes a bad one bad in a new way and inserts a bad one.
    t.source.execute(
        "UPDATE accounts SET active = 1 WHERE id = 3; \
         UPDATE events SET note = 'fixed' WHERE id = 5; \
         DELETE FROM events WHERE id = 3; \
         UPDATE events SET took = '30:00:00' WHERE id = 1; \
         UPDATE events SET took = '26:00:00' WHERE id = 6; \
         INSERT INTO events (id, took) VALUES (9, '40:00:00')",
    );
    let out = t.decant(&["sync", "plan.yaml"]);
    // Rows rejected by this sync make its exit code 1.
    assert_exit(&out, 1);
    // insert, update, delete, rejected
    assert_eq!(counts(&out, "accounts"), "1 0 0 0", "{}", out.stdout);
    // Event 5 is fixed, and event 4 goes in with its fixed parent.
    assert_eq!(counts(&out, "events"), "2 0 1 3", "{}", out.stdout);
    assert_eq!(
        t.pg("SELECT active::text FROM accounts WHERE id = 3"),
        "true"
    );
    assert_eq!(t.pg("SELECT note FROM events WHERE id = 5"), "fixed");
    assert_eq!(t.pg("SELECT account_id FROM events WHERE id = 4"), "3");
    assert_eq!(
        t.pg("SELECT string_agg(source_table || ' ' || primary_key::text || ' ' || source_column, ', ' ORDER BY source_table, primary_key::text) FROM decant.decant_rejects"),
        r#"accounts {"id": "18446744073709551615"} id, events {"id": 1} took, events {"id": 2} happened, events {"id": 6} took, events {"id": 9} took"#
    );
    assert_all_checks_passed(&t.decant(&["check", "plan.yaml"]));
    // And a second sync applies nothing (the bad rows are bad as before: no change).
    let out = t.decant(&["sync", "plan.yaml"]);
    assert_exit(&out, 0);
    assert_eq!(counts(&out, "events"), "0 0 0 0", "{}", out.stdout);
}

#[test]
fn pages_of_a_table_keyed_by_a_wide_decimal_neither_skip_nor_repeat_rows() {
    // 25 000 keys near 10^25: more than one page, each starting after the last key of the
    // one before, written unquoted (MySQL 8 compares a quoted number with a DECIMAL as a
    // double, which cannot tell these keys apart; MariaDB 10.11 compares either exactly).
    let (_source, target) = run_checked(
        "CREATE TABLE ledger (id DECIMAL(30,0) NOT NULL PRIMARY KEY, amount INT NOT NULL) ENGINE=InnoDB; \
         INSERT INTO ledger SELECT 10000000000000000000000000 + seq, seq % 7 FROM seq_1_to_25000",
    );
    assert_eq!(
        query(
            &target,
            "SELECT count(*) || ' ' || count(DISTINCT id) || ' ' || sum(id - 10000000000000000000000000) FROM ledger"
        ),
        "25000 25000 312512500"
    );
}

#[test]
fn a_parent_that_becomes_a_bad_row_in_a_sync_takes_its_children_with_it() {
    let t = Traps::new();
    assert_exit(&t.decant(&["run", "plan.yaml"]), 1);
    // Account 1 becomes bad while events 1 and 8 (8 also changed) point at it; a new event
    // points at account 3, which the run rejected.
    t.source.execute(
        "UPDATE accounts SET active = 5 WHERE id = 1; \
         UPDATE events SET note = 'changed' WHERE id = 8; \
         INSERT INTO events (id, account_id) VALUES (10, 3)",
    );
    let out = t.decant(&["sync", "plan.yaml"]);
    assert_exit(&out, 1);
    assert_eq!(t.pg("SELECT count(*) FROM accounts WHERE id = 1"), "0");
    assert_eq!(
        t.pg("SELECT string_agg(id::text, ',' ORDER BY id) FROM events"),
        "7"
    );
    assert_eq!(
        t.pg("SELECT string_agg(primary_key::text || ' ' || value, ', ' ORDER BY primary_key::text) FROM decant.decant_rejects WHERE source_table = 'events' AND reason LIKE 'parent rejected%'"),
        r#"{"id": 10} 3, {"id": 1} 1, {"id": 4} 3, {"id": 8} 1"#
    );
    assert_all_checks_passed(&t.decant(&["check", "plan.yaml"]));
    let again = t.decant(&["sync", "plan.yaml"]);
    assert_exit(&again, 0);
    assert!(
        again
            .stdout
            .contains("0 inserted, 0 updated, 0 deleted, 0 rejected"),
        "{}",
        again.stdout
    );
}

#[test]
fn a_big_table_is_read_in_key_ranges_by_two_connections_on_one_snapshot() {
    // Past 200 000 rows with one integer key, a table is read in key ranges by `workers` (2)
    // connections at once, whose snapshots begin while the run holds every commit back (FLUSH
    // TABLES WITH READ LOCK): paused there, the app's write waits for the lock and gives up.
    // The run's report says how many connections read its one snapshot. Keys negative and
    // positive, with gaps; every row compared by the checks.
    use diesel::connection::SimpleConnection;
    let source = MysqlDatabase::new();
    source.execute(
        "CREATE TABLE big (id BIGINT NOT NULL PRIMARY KEY, n INT NOT NULL, note VARCHAR(20) NULL) ENGINE=InnoDB; \
         INSERT INTO big SELECT CAST(seq AS SIGNED) * 3 - 450000, seq % 11, IF(seq % 5 = 0, NULL, CONCAT('n', seq)) FROM seq_1_to_300000",
    );
    let target = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plan.yaml"),
        "version: 1\nname: checked\nsource: { url: \"${SOURCE_DATABASE_URL}\" }\ntarget: { url: \"${TARGET_DATABASE_URL}\" }\nchecks:\n  - row_counts: all\n  - checksums: all\n",
    )
    .unwrap();
    let release = dir.path().join("release");
    let run = Paused::start(
        dir.path(),
        &["run", "plan.yaml"],
        &[
            ("SOURCE_DATABASE_URL", source.url.as_str()),
            ("TARGET_DATABASE_URL", target.url.as_str()),
            ("DECANT_TEST_RELEASE", release.to_str().unwrap()),
        ],
        "locked:snapshot",
    );
    // Held back, the write is in no snapshot of the run: without the lock it would be in all.
    let mut app = <diesel::MysqlConnection as diesel::Connection>::establish(&source.url).unwrap();
    let write =
        app.batch_execute("SET SESSION lock_wait_timeout = 1; INSERT INTO big VALUES (1, 0, NULL)");
    std::fs::write(&release, "").unwrap();
    let out = run.finish_within(std::time::Duration::from_secs(120));
    match write {
        Err(e) => assert!(e.to_string().contains("Lock wait timeout"), "{e}"),
        Ok(()) => panic!("the app's write went in while the run's snapshots began"),
    }
    assert_exit(&out, 0);
    assert_all_checks_passed(&out);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("plan.report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["source_readers"], 2);
    assert_eq!(
        query(
            &target,
            "SELECT count(*) || ' ' || count(DISTINCT id) || ' ' || min(id) || ' ' || max(id) || ' ' || sum(n) || ' ' || count(note) FROM big"
        ),
        "300000 300000 -449997 450000 1499996 240000"
    );
}

#[test]
fn the_loads_settle_foreign_keys_to_a_table_read_in_key_ranges_and_give_keys_past_2_63_to_the_search(
) {
    // `parents` is read in key ranges by two connections, its rows arriving interleaved; the
    // loads see every child value among its keys. `wide` keys are BIGINT UNSIGNED, one of
    // them past 2^63: read as digits, it makes the loads give up on the key, and the source
    // is searched (the row is rejected as out of range, and its child with it).
    let source = MysqlDatabase::new();
    source.execute(
        "CREATE TABLE parents (id BIGINT NOT NULL PRIMARY KEY) ENGINE=InnoDB; \
         INSERT INTO parents SELECT seq FROM seq_1_to_210000; \
         CREATE TABLE kids (id INT NOT NULL PRIMARY KEY, parent_id BIGINT NULL, CONSTRAINT kids_parent FOREIGN KEY (parent_id) REFERENCES parents (id)) ENGINE=InnoDB; \
         INSERT INTO kids SELECT seq, IF(seq % 7 = 0, NULL, seq * 200) FROM seq_1_to_1000; \
         CREATE TABLE wide (id BIGINT UNSIGNED NOT NULL PRIMARY KEY) ENGINE=InnoDB; \
         INSERT INTO wide VALUES (1), (9223372036854775808); \
         CREATE TABLE wide_kids (id INT NOT NULL PRIMARY KEY, wide_id BIGINT UNSIGNED NOT NULL, CONSTRAINT wide_kids_wide FOREIGN KEY (wide_id) REFERENCES wide (id)) ENGINE=InnoDB; \
         INSERT INTO wide_kids VALUES (1, 9223372036854775808), (2, 1)",
    );
    let target = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plan.yaml"),
        "version: 1\nname: keys\nsource: { url: \"${SOURCE_DATABASE_URL}\" }\ntarget: { url: \"${TARGET_DATABASE_URL}\" }\nsettings: { on_bad_row: reject }\nchecks:\n  - foreign_keys: all\n",
    )
    .unwrap();
    let out = decant_between(dir.path(), &["run", "plan.yaml"], &source, &target, &[]);
    assert_exit(&out, 1);
    assert_all_checks_passed(&out);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("plan.report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        report["orphans_settled_by_loads"],
        serde_json::json!(["kids_parent_id_fkey"])
    );
    assert_eq!(
        report["orphans_searched_in_source"],
        serde_json::json!(["wide_kids_wide_id_fkey"])
    );
    assert_eq!(
        foreign_keys_made(&target),
        "kids_parent_id_fkey wide_kids_wide_id_fkey"
    );

    // One child without its parent among the 210 000: the loads cannot settle the key, and
    // the source's search names the row.
    source.execute("SET FOREIGN_KEY_CHECKS = 0; INSERT INTO kids VALUES (1001, 210001)");
    let target = TestDatabase::new();
    let out = decant_between(dir.path(), &["run", "plan.yaml"], &source, &target, &[]);
    assert_exit(&out, 2);
    assert_contains(&out.stderr, &["id=1001 → parent_id=210001"]);
}

#[test]
fn introspection_counts_every_tables_rows_exactly_on_two_connections() {
    // Counted two tables at a time, biggest first by InnoDB's estimate; each count must land on
    // its own table, and a table whose estimate is far off is still counted exactly.
    let source = MysqlDatabase::new();
    source.execute(
        "CREATE TABLE a (id INT NOT NULL PRIMARY KEY) ENGINE=InnoDB; \
         CREATE TABLE b (id INT NOT NULL PRIMARY KEY) ENGINE=InnoDB; \
         CREATE TABLE c (id INT NOT NULL PRIMARY KEY) ENGINE=InnoDB; \
         CREATE TABLE d (id INT NOT NULL PRIMARY KEY) ENGINE=InnoDB; \
         INSERT INTO a SELECT seq FROM seq_1_to_3; \
         INSERT INTO b SELECT seq FROM seq_1_to_5000; \
         INSERT INTO d SELECT seq FROM seq_1_to_70; \
         ANALYZE TABLE a, b, c, d; \
         INSERT INTO c SELECT seq FROM seq_1_to_1200",
    );
    let url = decant::url::parse_source_url(&source.url, std::path::Path::new(".")).unwrap();
    let mut conn = decant::engines::open_source(&url).unwrap();
    let opened = std::sync::atomic::AtomicUsize::new(0);
    let another = || {
        opened.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        decant::engines::open_source(&url).ok()
    };
    let catalog = decant::engines::introspect_source(&mut conn, &another, true).unwrap();
    let counts: Vec<String> = catalog
        .tables
        .iter()
        .map(|t| format!("{} {}", t.name, t.row_count))
        .collect();
    assert_eq!(counts, ["a 3", "b 5000", "c 1200", "d 70"]);
    assert_eq!(
        opened.into_inner(),
        1,
        "a second connection counts beside the first"
    );
}

#[test]
fn a_run_counts_the_source_in_its_snapshot_whatever_innodbs_estimates_say() {
    // `run` prepares with InnoDB's estimates and counts each table exactly in the snapshot it
    // loads; the row-count check compares the target with those counts. An open transaction
    // holds 1000 uncommitted rows of `c`, which InnoDB's estimate includes. Rows committed once
    // the snapshot began (the run is paused at its first step) are in neither the counts nor
    // the loads.
    use diesel::connection::SimpleConnection;
    let source = MysqlDatabase::new();
    source.execute(
        "CREATE TABLE a (id INT NOT NULL PRIMARY KEY) ENGINE=InnoDB; \
         CREATE TABLE c (id INT NOT NULL PRIMARY KEY) ENGINE=InnoDB; \
         INSERT INTO a SELECT seq FROM seq_1_to_3; \
         INSERT INTO c SELECT seq FROM seq_1_to_1200",
    );
    let mut uncommitted =
        <diesel::MysqlConnection as diesel::Connection>::establish(&source.url).unwrap();
    uncommitted
        .batch_execute("START TRANSACTION; INSERT INTO c SELECT seq FROM seq_1201_to_2200")
        .unwrap();
    let estimate: u64 = source
        .query("SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'c'")
        .trim()
        .parse()
        .unwrap();
    assert!(
        estimate > 1200,
        "InnoDB's estimate is {estimate}: the test needs it off"
    );
    let (target, dir, out) = run_counted_paused_at(&source, "", "create-schema", || {
        source.execute("INSERT INTO a VALUES (4); INSERT INTO c SELECT seq FROM seq_3001_to_3050");
    });
    assert_exit(&out, 0);
    assert_all_checks_passed(&out);
    assert_eq!(
        query(
            &target,
            "(SELECT count(*) FROM a) || ' ' || (SELECT count(*) FROM c)"
        ),
        "3 1200"
    );
    uncommitted.batch_execute("ROLLBACK").unwrap();
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("plan.report.json")).unwrap(),
    )
    .unwrap();
    let summaries: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["summary"].as_str().unwrap())
        .collect();
    assert_eq!(
        summaries,
        [
            "3 row(s) in the target, as expected",
            "1200 row(s) in the target, as expected"
        ]
    );
}

#[test]
fn the_checks_count_filtered_tables_on_every_parallel_reader_in_the_snapshot_the_loads_read() {
    // `big` is read in key ranges by two connections on one snapshot. The counts the run took
    // in that snapshot stand for the unfiltered tables; the four filtered ones the checks count
    // again, on both connections at once. The app commits rows that pass the filters while the
    // run is paused after every load, just before the checks: they are in neither the loads
    // nor the counts, whichever connection counts a table.
    let source = MysqlDatabase::new();
    let mut sql = String::from(
        "CREATE TABLE big (id INT NOT NULL PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB; \
         INSERT INTO big SELECT seq, seq % 7 FROM seq_1_to_210000;",
    );
    let mut filters = String::from("filters:\n");
    let mut commits = String::from("INSERT INTO big VALUES (300000, 1);");
    for t in ["f1", "f2", "f3", "f4"] {
        sql.push_str(&format!(
            "CREATE TABLE {t} (id INT NOT NULL PRIMARY KEY, keep INT NOT NULL) ENGINE=InnoDB; \
             INSERT INTO {t} SELECT seq, seq % 2 FROM seq_1_to_40000;"
        ));
        filters.push_str(&format!("  {t}: \"keep = 1\"\n"));
        commits.push_str(&format!("INSERT INTO {t} VALUES (50001, 1), (50002, 1);"));
    }
    source.execute(&sql);
    let more =
        format!("{filters}steps:\n  - {{ id: app-writes, sql: \"SELECT 1\", after: [load] }}\n");
    let (target, dir, out) = run_counted_paused_at(&source, &more, "app-writes", || {
        source.execute(&commits);
    });
    assert_exit(&out, 0);
    assert_all_checks_passed(&out);
    assert_eq!(
        query(
            &target,
            "(SELECT count(*) FROM big) || ' ' || (SELECT count(*) FROM f1) || ' ' || (SELECT count(*) FROM f2) || ' ' || (SELECT count(*) FROM f3) || ' ' || (SELECT count(*) FROM f4)"
        ),
        "210000 20000 20000 20000 20000"
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("plan.report.json")).unwrap(),
    )
    .unwrap();
    let summaries: Vec<String> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["id"].as_str().unwrap(),
                c["summary"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        summaries,
        [
            "row-counts:big 210000 row(s) in the target, as expected",
            "row-counts:f1 20000 row(s) in the target, as expected",
            "row-counts:f2 20000 row(s) in the target, as expected",
            "row-counts:f3 20000 row(s) in the target, as expected",
            "row-counts:f4 20000 row(s) in the target, as expected",
        ]
    );
}

#[test]
fn without_the_privilege_to_hold_commits_back_a_big_table_is_read_by_one_connection() {
    // A user that may only SELECT cannot take FLUSH TABLES WITH READ LOCK: the run reads the
    // big table with one connection, and every row still arrives.
    let source = MysqlDatabase::new();
    source.execute(
        "CREATE TABLE big (id INT NOT NULL PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB; \
         INSERT INTO big SELECT seq, seq % 13 FROM seq_1_to_210000",
    );
    let reader = SelectOnlyUser::new(&source);
    let (_source, target, report) =
        run_checked_from(source, &[("SOURCE_DATABASE_URL", &reader.url)]);
    assert_eq!(report["source_readers"], 1);
    assert_eq!(
        query(&target, "SELECT count(*) || ' ' || sum(n) FROM big"),
        "210000 1260000"
    );
    // The user goes before its database.
    drop(reader);
}

/// A MariaDB user that may only SELECT in one database, dropped when the test ends (by the
/// server's URL: its database may be gone by then). A drop that fails fails the test.
struct SelectOnlyUser {
    server_url: String,
    name: String,
    /// The database's URL as this user.
    url: String,
}

impl SelectOnlyUser {
    fn new(db: &MysqlDatabase) -> SelectOnlyUser {
        let name = format!("{}_reader", db.name);
        // A test process killed before its `Drop` leaves its user behind, and a later process
        // with the same pid makes the same name: that user is stale, and goes first.
        db.execute(&format!(
            "DROP USER IF EXISTS '{name}'@'%'; DROP USER IF EXISTS '{name}'@'localhost'; \
             CREATE USER '{name}'@'%' IDENTIFIED BY 'pw'; CREATE USER '{name}'@'localhost' IDENTIFIED BY 'pw'; \
             GRANT SELECT ON `{db}`.* TO '{name}'@'%'; GRANT SELECT ON `{db}`.* TO '{name}'@'localhost'",
            db = db.name
        ));
        let (scheme, rest) = db.url.split_once("://").unwrap();
        let (_, place) = rest.split_once('@').unwrap();
        SelectOnlyUser {
            server_url: db.server_url().to_owned(),
            url: format!("{scheme}://{name}:pw@{place}"),
            name,
        }
    }
}

impl Drop for SelectOnlyUser {
    fn drop(&mut self) {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        let name = &self.name;
        let dropped = diesel::MysqlConnection::establish(&self.server_url)
            .map_err(|e| e.to_string())
            .and_then(|mut admin| {
                admin
                    .batch_execute(&format!(
                        "DROP USER IF EXISTS '{name}'@'%'; DROP USER IF EXISTS '{name}'@'localhost'"
                    ))
                    .map_err(|e| e.to_string())
            });
        match dropped {
            Ok(()) => {}
            Err(e) if std::thread::panicking() => {
                eprintln!("warning: MariaDB user `{name}` was not dropped: {e}")
            }
            Err(e) => panic!("MariaDB user `{name}` was not dropped: {e}"),
        }
    }
}

#[test]
fn wide_rows_and_tables_keyed_only_by_a_unique_key_are_read_in_pages() {
    // 120 rows of 1 MiB each (pages shrink to about 32 MiB), and a table without a primary key
    // but with a NOT NULL unique key (paged by it) next to one with no key at all.
    let (_source, target) = run_checked(
        "CREATE TABLE documents (id INT NOT NULL PRIMARY KEY, body LONGTEXT NOT NULL) ENGINE=InnoDB; \
         INSERT INTO documents SELECT seq, REPEAT(CHAR(97 + seq % 26), 1048576) FROM seq_1_to_120; \
         CREATE TABLE codes (code VARCHAR(20) COLLATE utf8mb4_bin NOT NULL, n INT NOT NULL, UNIQUE KEY codes_code (code)) ENGINE=InnoDB; \
         INSERT INTO codes SELECT CONCAT('c', seq), seq FROM seq_1_to_30000; \
         CREATE TABLE loose (n INT NULL) ENGINE=InnoDB; \
         INSERT INTO loose VALUES (1), (1), (NULL)",
    );
    assert_eq!(
        query(
            &target,
            "SELECT count(*) || ' ' || sum(length(body)) || ' ' || count(DISTINCT left(body, 1)) FROM documents"
        ),
        "120 125829120 26"
    );
    assert_eq!(
        query(&target, "SELECT count(*) || ' ' || sum(n) FROM codes"),
        "30000 450015000"
    );
    assert_eq!(query(&target, "SELECT count(*) FROM loose"), "3");
}

#[test]
fn orphans_that_mysql_let_in_are_found_on_two_connections_and_stop_the_run() {
    // Written with the foreign key checks off, as dumps are restored: two children of `a`
    // hold a row each whose parent does not exist.
    let source = MysqlDatabase::new();
    source.execute(
        "SET FOREIGN_KEY_CHECKS = 0; \
         CREATE TABLE a (id INT NOT NULL PRIMARY KEY) ENGINE=InnoDB; \
         CREATE TABLE b (id INT NOT NULL PRIMARY KEY, a_id INT NOT NULL, CONSTRAINT b_a FOREIGN KEY (a_id) REFERENCES a (id)) ENGINE=InnoDB; \
         CREATE TABLE c (id INT NOT NULL PRIMARY KEY, a_id INT NOT NULL, CONSTRAINT c_a FOREIGN KEY (a_id) REFERENCES a (id)) ENGINE=InnoDB; \
         CREATE TABLE d (id INT NOT NULL PRIMARY KEY, a_id INT NOT NULL, CONSTRAINT d_a FOREIGN KEY (a_id) REFERENCES a (id)) ENGINE=InnoDB; \
         INSERT INTO a VALUES (1), (2); \
         INSERT INTO b VALUES (10, 1), (11, 7); \
         INSERT INTO c VALUES (20, 2), (21, 8), (22, 9); \
         INSERT INTO d VALUES (30, 1)",
    );
    let target = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plan.yaml"),
        "version: 1\nname: orphans\nsource: { url: \"${SOURCE_DATABASE_URL}\" }\ntarget: { url: \"${TARGET_DATABASE_URL}\" }\n",
    )
    .unwrap();
    let out = decant_between(dir.path(), &["run", "plan.yaml"], &source, &target, &[]);
    assert_exit(&out, 2);
    let said = format!("{}{}", out.stdout, out.stderr);
    let b = said
        .find("`b`")
        .unwrap_or_else(|| panic!("b not named:\n{said}"));
    let c = said
        .find("`c`")
        .unwrap_or_else(|| panic!("c not named:\n{said}"));
    assert!(b < c, "in the plan's order:\n{said}");
    assert!(
        said.contains("id=11") && said.contains("id=21") && said.contains("id=22"),
        "{said}"
    );
    assert!(!said.contains("`d`"), "{said}");
    // The search ran beside the loads and stopped the run before any foreign key.
    assert_eq!(foreign_keys_made(&target), "");
    assert_exit(
        &decant_between(
            dir.path(),
            &["rollback", "plan.yaml", "--yes"],
            &source,
            &target,
            &[],
        ),
        0,
    );

    // Under `orphans: reject` they are left out, each a reject naming its row.
    std::fs::write(
        dir.path().join("plan.yaml"),
        "version: 1\nname: orphans\nsource: { url: \"${SOURCE_DATABASE_URL}\" }\ntarget: { url: \"${TARGET_DATABASE_URL}\" }\nsettings: { orphans: reject }\nchecks:\n  - row_counts: all\n  - checksums: all\n  - foreign_keys: all\n",
    )
    .unwrap();
    let out = decant_between(dir.path(), &["run", "plan.yaml"], &source, &target, &[]);
    assert_exit(&out, 1);
    assert_all_checks_passed(&out);
    assert_eq!(
        query(&target, "SELECT string_agg(source_table || ' ' || primary_key::text, ', ' ORDER BY source_table, primary_key::text) FROM decant.decant_rejects"),
        r#"b {"id": 11}, c {"id": 21}, c {"id": 22}"#
    );
}

#[test]
fn a_mysql_row_with_a_zero_date_and_a_tinyint_1_holding_2_is_rejected_naming_both() {
    let source = MysqlDatabase::new();
    source.execute(
        "SET SESSION sql_mode = ''; \
         CREATE TABLE visits (id INT PRIMARY KEY, day DATE NULL, seen TINYINT(1) NULL) ENGINE=InnoDB; \
         INSERT INTO visits VALUES (1, '2024-05-06', 1), (2, '0000-00-00', 2), (3, '2024-05-07', 0)",
    );
    let target = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plan.yaml"),
        "version: 1\nname: visits\nsource: { url: \"${SOURCE_DATABASE_URL}\" }\ntarget: { url: \"${TARGET_DATABASE_URL}\" }\nsettings: { on_bad_row: reject }\n",
    )
    .unwrap();
    let out = decant_between(dir.path(), &["run", "plan.yaml"], &source, &target, &[]);
    assert_exit(&out, 1);
    let lines = std::fs::read_to_string(dir.path().join("plan.rejects.jsonl")).unwrap();
    let reject: serde_json::Value = serde_json::from_str(lines.trim()).unwrap();
    assert_eq!(reject["primary_key"]["id"], 2, "{lines}");
    assert_eq!(reject["column"], "day", "{lines}");
    let named: Vec<&str> = reject["columns"]
        .as_array()
        .unwrap_or_else(|| panic!("no `columns` list: {lines}"))
        .iter()
        .map(|b| b["column"].as_str().unwrap())
        .collect();
    assert_eq!(named, ["day", "seen"], "{lines}");
    assert_eq!(query(&target, "SELECT count(*) FROM visits"), "2");
}

#[test]
fn stored_procedures_and_functions_are_listed_as_not_carried_in_plan_and_report() {
    let source = MysqlDatabase::new();
    source.execute(
        "CREATE TABLE film (id INT PRIMARY KEY, title VARCHAR(40)) ENGINE=InnoDB; INSERT INTO film VALUES (1, 'A')",
    );
    source.execute(
        "CREATE PROCEDURE film_in_stock(IN f INT, OUT n INT) BEGIN SELECT count(*) INTO n FROM film WHERE id = f; END",
    );
    source.execute(
        "CREATE FUNCTION get_title(f INT) RETURNS VARCHAR(40) READS SQL DATA RETURN (SELECT title FROM film WHERE id = f)",
    );
    let target = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plan.yaml"),
        "version: 1\nname: films\nsource: { url: \"${SOURCE_DATABASE_URL}\" }\ntarget: { url: \"${TARGET_DATABASE_URL}\" }\n",
    )
    .unwrap();
    let procedure =
        "stored procedure `film_in_stock` is not carried: MySQL routine bodies are not translated";
    let function = "stored function `get_title` is not carried";
    let plan = decant_between(dir.path(), &["plan", "plan.yaml"], &source, &target, &[]);
    assert_exit(&plan, 0);
    assert_contains(&plan.stdout, &[procedure, function]);
    let run = decant_between(dir.path(), &["run", "plan.yaml"], &source, &target, &[]);
    assert_exit(&run, 0);
    assert!(
        run.stdout.contains("2 source object(s) not carried"),
        "{}",
        run.stdout
    );
    let md = std::fs::read_to_string(dir.path().join("plan.report.md")).unwrap();
    assert_contains(&md, &[procedure, function]);
    let json = std::fs::read_to_string(dir.path().join("plan.report.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let listed: Vec<&str> = report["not_carried"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    assert!(
        listed.iter().any(|n| n.starts_with(procedure))
            && listed.iter().any(|n| n.starts_with(function)),
        "{listed:?}"
    );
}

#[test]
fn init_on_mysql_starts_with_reject_only_when_it_flags_a_bad_value_and_says_which_case_it_is() {
    let clean = MysqlDatabase::new();
    clean.execute(
        "CREATE TABLE visits (id INT PRIMARY KEY, day DATE NULL, seen TINYINT(1) NULL) ENGINE=InnoDB; \
         INSERT INTO visits VALUES (1, '2024-05-06', 1), (2, NULL, 0)",
    );
    let dir = tempfile::tempdir().unwrap();
    let out = decant_in(dir.path(), &["init", "--source", &clean.url], &[]);
    assert_exit(&out, 0);
    assert!(
        out.stdout.contains(
            "  on_bad_row: stop        # stop | reject — the profile found no value that will not convert: one that turns up at run time stops the run (its table rolls back)"
        ),
        "{}",
        out.stdout
    );
    clean.execute("SET SESSION sql_mode = ''; INSERT INTO visits VALUES (3, '0000-00-00', 2)");
    let out = decant_in(dir.path(), &["init", "--source", &clean.url], &[]);
    assert_exit(&out, 0);
    assert!(
        out.stdout
            .contains("  on_bad_row: reject      # stop | reject — some values flagged below will not convert"),
        "{}",
        out.stdout
    );
    // The manual says the same.
    let readme = std::fs::read_to_string(repo_root().join("docs/guides/mysql.md")).unwrap();
    assert!(
        readme.contains("When it flags such a\nvalue it starts the plan with `on_bad_row: reject`")
            && readme.contains("when the profile finds none it writes `on_bad_row: stop`"),
        "the manual's `init` on MySQL section does not say when init writes reject and stop"
    );
}

const WINDOWS_SOURCE: &str = "
    CREATE TABLE people (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL,
                         note VARCHAR(40) NULL, photo VARBINARY(16) NULL, score DOUBLE NULL,
                         born DATETIME(3) NULL, paid DECIMAL(8,2) NULL);
    INSERT INTO people (id, name, note, photo, score, born, paid)
    SELECT seq, CONCAT('person ', seq), IF(seq % 2 = 0, '', NULL), UNHEX(MD5(seq)), seq / 3,
           '2024-01-01 00:00:00.250' + INTERVAL seq MINUTE, seq / 4
    FROM seq_1_to_400;
    CREATE TABLE visits (id BIGINT NOT NULL PRIMARY KEY, person_id INT NOT NULL,
                         at TIME NULL, FOREIGN KEY (person_id) REFERENCES people (id));
    INSERT INTO visits SELECT seq, 1 + seq % 400, '10:00:00' FROM seq_1_to_3000;
    CREATE TABLE tags (name VARCHAR(10), n INT);
    INSERT INTO tags VALUES ('x', 1), ('y', 2);
";

const WINDOWS_PLAN: &str = r#"version: 1
name: windows
source: { url: "${SOURCE_DATABASE_URL}" }
target: { url: "${TARGET_DATABASE_URL}" }
settings: { on_bad_row: reject }
checks:
  - row_counts: all
  - checksums: all
  - foreign_keys: all
"#;

/// The sync summary's line for `table` (its counts and what it compared).
fn sync_line(out: &Outcome, table: &str) -> String {
    out.stdout
        .lines()
        .find(|l| l.trim_start().starts_with(table))
        .unwrap_or_else(|| panic!("no line for {table}: {}", out.stdout))
        .to_owned()
}

#[test]
fn window_sums_of_a_mysql_source_lead_each_sync_to_the_windows_that_changed() {
    let source = MysqlDatabase::new();
    source.execute(WINDOWS_SOURCE);
    let target = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.yaml"), WINDOWS_PLAN).unwrap();
    let decant = |args: &[&str]| decant_between(dir.path(), args, &source, &target, &[]);
    assert_exit(&decant(&["run", "plan.yaml"]), 0);
    // The loads summed the rows per key window as they read them (`tags` has no key).
    assert_eq!(
        query(
            &target,
            "SELECT string_agg(source_table, ',' ORDER BY source_table) FROM decant.source_windows"
        ),
        "people,visits"
    );
    // Nothing changed: no window is compared, the target is not read.
    let first = decant(&["sync", "plan.yaml"]);
    assert_exit(&first, 0);
    for table in ["people", "visits"] {
        let line = sync_line(&first, table);
        assert!(line.contains(" 0 key ranges"), "{}", first.stdout);
    }
    assert!(
        sync_line(&first, "tags").contains("whole table"),
        "{}",
        first.stdout
    );
    // One change of each kind, each in a window of its own (windows of about 16 keys): NULL
    // and '' swapped, one byte of a binary column, a fraction of a second, a new row, a gone
    // one, a TIME read as text.
    source.execute(
        "UPDATE people SET note = '' WHERE id = 3;
         UPDATE people SET note = NULL WHERE id = 100;
         UPDATE people SET photo = CONCAT(LEFT(photo, 15), 'X') WHERE id = 200;
         UPDATE people SET born = born + INTERVAL 1000 MICROSECOND WHERE id = 300;
         INSERT INTO people (id, name) VALUES (401, 'new person');
         DELETE FROM visits WHERE id = 50;
         UPDATE visits SET at = '11:30:00' WHERE id = 600;",
    );
    let out = decant(&["sync", "plan.yaml"]);
    assert_exit(&out, 0);
    assert!(
        out.stdout
            .contains("applied: 1 inserted, 5 updated, 1 deleted, 0 rejected"),
        "{}",
        out.stdout
    );
    assert!(
        sync_line(&out, "people").contains(" 5 key ranges"),
        "{}",
        out.stdout
    );
    assert!(
        sync_line(&out, "visits").contains(" 2 key ranges"),
        "{}",
        out.stdout
    );
    assert_eq!(
        query(
            &target,
            "SELECT concat_ws(',', note IS NULL, (SELECT note IS NULL FROM people WHERE id = 100),
                    (SELECT encode(photo, 'hex') FROM people WHERE id = 200))
             FROM people WHERE id = 3"
        ),
        query(&target, "SELECT 'f,t,' || left(md5('200'), 30) || '58'")
    );
    assert_all_checks_passed(&decant(&["check", "plan.yaml"]));
    // The sync kept the sums it compared with: the next one compares nothing.
    let again = decant(&["sync", "plan.yaml"]);
    assert_exit(&again, 0);
    assert!(
        again
            .stdout
            .contains("applied: 0 inserted, 0 updated, 0 deleted, 0 rejected"),
        "{}",
        again.stdout
    );
    for table in ["people", "visits"] {
        assert!(
            sync_line(&again, table).contains(" 0 key ranges"),
            "{}",
            again.stdout
        );
    }
    // Changes in 94 windows apart: more ranges than one SELECT of the source names (MariaDB
    // reads them a few dozen at a time, in key order).
    source.execute("UPDATE visits SET at = '12:00:00' WHERE id % 32 = 5");
    let many = decant(&["sync", "plan.yaml"]);
    assert_exit(&many, 0);
    assert!(
        many.stdout
            .contains("applied: 0 inserted, 94 updated, 0 deleted, 0 rejected"),
        "{}",
        many.stdout
    );
    assert!(
        sync_line(&many, "visits").contains(" 94 key ranges"),
        "{}",
        many.stdout
    );
    assert_all_checks_passed(&decant(&["check", "plan.yaml"]));
}

#[test]
fn a_mysql_table_with_a_composite_key_is_windowed_by_its_first_column() {
    let source = MysqlDatabase::new();
    source.execute(
        "CREATE TABLE readings (sensor INT NOT NULL, seq INT NOT NULL, value DOUBLE NULL,
                                raw VARBINARY(8) NULL, PRIMARY KEY (sensor, seq));
         INSERT INTO readings SELECT 1 + seq DIV 20, seq MOD 20, seq / 7, UNHEX(HEX(seq))
         FROM seq_0_to_799;
         CREATE TABLE codes (tenant INT NOT NULL, code VARCHAR(10) NOT NULL, label VARCHAR(20) NULL,
                             PRIMARY KEY (tenant, code));
         INSERT INTO codes SELECT 1 + seq DIV 10, CONCAT('c', seq MOD 10), IF(seq % 3 = 0, NULL, '')
         FROM seq_0_to_499;",
    );
    let target = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.yaml"), WINDOWS_PLAN).unwrap();
    let decant = |args: &[&str]| decant_between(dir.path(), args, &source, &target, &[]);
    assert_exit(&decant(&["run", "plan.yaml"]), 0);
    let first = decant(&["sync", "plan.yaml"]);
    assert_exit(&first, 0);
    for table in ["readings", "codes"] {
        assert!(
            sync_line(&first, table).contains(" 0 key ranges"),
            "{}",
            first.stdout
        );
    }
    // 40 sensors of 20 readings, 50 tenants of 10 codes: a window per sensor, per tenant.
    source.execute(
        "UPDATE readings SET raw = UNHEX('00') WHERE sensor = 3 AND seq = 5;
         DELETE FROM readings WHERE sensor = 20 AND seq = 0;
         INSERT INTO readings VALUES (41, 0, NULL, NULL);
         UPDATE codes SET label = NULL WHERE tenant = 7 AND code = 'c1';
         UPDATE codes SET label = '' WHERE tenant = 30 AND code = 'c1';",
    );
    let out = decant(&["sync", "plan.yaml"]);
    assert_exit(&out, 0);
    assert!(
        out.stdout
            .contains("applied: 1 inserted, 3 updated, 1 deleted, 0 rejected"),
        "{}",
        out.stdout
    );
    assert!(
        sync_line(&out, "readings").contains(" 3 key ranges"),
        "{}",
        out.stdout
    );
    assert!(
        sync_line(&out, "codes").contains(" 2 key ranges"),
        "{}",
        out.stdout
    );
    assert_all_checks_passed(&decant(&["check", "plan.yaml"]));
    let again = decant(&["sync", "plan.yaml"]);
    assert!(
        again
            .stdout
            .contains("applied: 0 inserted, 0 updated, 0 deleted, 0 rejected"),
        "{}",
        again.stdout
    );
}

#[test]
fn a_big_mysql_table_is_digested_in_parts_on_two_connections_and_every_change_is_found() {
    // Past 250 000 rows, a MySQL table's digest is read in key ranges shared out between two
    // connections whose snapshots start together; a change on each side of the boundary
    // between the parts (windows of 16 keys: the first part ends at key 130 000), at both
    // ends, and past the last window, is found.
    let source = MysqlDatabase::new();
    source.execute(
        "CREATE TABLE events (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, n INT NOT NULL,
                              tag VARCHAR(20) NULL);
         INSERT INTO events SELECT seq, seq % 7, IF(seq % 3 = 0, CONCAT('t', seq), NULL)
         FROM seq_1_to_260000;",
    );
    let target = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plan.yaml"),
        WINDOWS_PLAN.replace("  - checksums: all\n  - foreign_keys: all\n", ""),
    )
    .unwrap();
    let decant = |args: &[&str]| decant_between(dir.path(), args, &source, &target, &[]);
    assert_exit(&decant(&["run", "plan.yaml"]), 0);
    let first = decant(&["sync", "plan.yaml"]);
    assert!(
        sync_line(&first, "events").contains(" 0 key ranges"),
        "{}",
        first.stdout
    );
    source.execute(
        "UPDATE events SET n = -1 WHERE id IN (5, 130000, 130001, 259999);
         UPDATE events SET tag = '' WHERE id = 200001;
         DELETE FROM events WHERE id IN (1, 260000);
         INSERT INTO events VALUES (900000, 2, 'far past the end');",
    );
    let out = decant(&["sync", "plan.yaml"]);
    assert_exit(&out, 0);
    assert!(
        out.stdout
            .contains("applied: 1 inserted, 5 updated, 2 deleted, 0 rejected"),
        "{}",
        out.stdout
    );
    // The same SQL in both engines.
    let summary =
        "SELECT concat_ws(' ', count(*), sum(n), count(tag), count(NULLIF(tag, ''))) FROM events";
    assert_eq!(query(&target, summary), source.query(summary));
    let again = decant(&["sync", "plan.yaml"]);
    assert!(
        again
            .stdout
            .contains("applied: 0 inserted, 0 updated, 0 deleted, 0 rejected"),
        "{}",
        again.stdout
    );
}

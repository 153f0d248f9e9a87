//! A MariaDB source into an app-owned PostgreSQL schema (`init --app-schema`, a snapshot beside
//! the plan), for the values whose meaning depends on the app's column types: SET and ENUM into
//! the app's arrays and enum, and what the app's types narrow (a DATETIME into `date`, longer
//! text, bigger numbers), found by the profile before any row moves.

use diesel::connection::SimpleConnection;

use crate::support::cli::{assert_all_checks_passed, Outcome};
use crate::support::mysql::{decant_between, init_for_app, MysqlDatabase};
use crate::support::postgres::TestDatabase;
use crate::support::setup::{assert_exit, query};

/// `decant ARGS` in `dir`, from `source` into `target`.
fn decant(
    dir: &std::path::Path,
    args: &[&str],
    source: &MysqlDatabase,
    target: &TestDatabase,
) -> Outcome {
    decant_between(dir, args, source, target, &[])
}

const SET_SOURCE: &str = "
    CREATE TABLE people (
      id INT PRIMARY KEY,
      tags SET('a','b','[c]') NOT NULL DEFAULT '',
      moods SET('happy','sad') NULL,
      mood ENUM('happy','sad','ok') NOT NULL
    );
    INSERT INTO people VALUES (1, 'a,b', 'happy,sad', 'happy'), (2, '', 'sad', 'ok'),
      (3, '[c]', NULL, 'sad'), (4, 'a,b,[c]', '', 'ok');
";

const SET_APP: &str = "
    CREATE TYPE mood AS ENUM ('happy', 'sad', 'ok');
    CREATE TABLE people (id integer PRIMARY KEY, tags text[] NOT NULL, moods varchar(5)[], mood mood NOT NULL);
";

#[test]
fn mysql_sets_go_into_the_apps_arrays_and_enums_into_its_enum_type() {
    let source = MysqlDatabase::new();
    source.execute(SET_SOURCE);
    let dir = tempfile::tempdir().unwrap();
    let plan = init_for_app(dir.path(), &source, SET_APP);
    let target = TestDatabase::new();
    target.connect().batch_execute(SET_APP).unwrap();
    let run = decant(dir.path(), &["run", "plan.yaml"], &source, &target);
    assert_exit(&run, 0);
    assert_all_checks_passed(&run);
    // One element per label; the empty set is the empty array; a label that starts with `[`
    // is a label, not JSON.
    assert_eq!(
        query(&target, "SELECT string_agg(concat_ws(' ', id, tags::text, coalesce(moods::text, '-'), mood), ' | ' ORDER BY id) FROM people"),
        "1 {a,b} {happy,sad} happy | 2 {} {sad} ok | 3 {[c]} - sad | 4 {a,b,[c]} {} ok",
        "{plan}"
    );
}

#[test]
fn init_proposes_text_arrays_for_mysql_sets_and_flags_them() {
    let source = MysqlDatabase::new();
    source.execute(SET_SOURCE);
    let dir = tempfile::tempdir().unwrap();
    let target = TestDatabase::new();
    let init = decant(
        dir.path(),
        &["init", "--source", &source.url, "-o", "plan.yaml"],
        &source,
        &target,
    );
    assert_exit(&init, 0);
    let plan = std::fs::read_to_string(dir.path().join("plan.yaml")).unwrap();
    let tags = plan
        .lines()
        .find(|l| l.contains("tags") && l.contains("→"))
        .unwrap_or_else(|| panic!("no mapping line for `tags` in\n{plan}"));
    assert!(
        tags.contains("text[]") && tags.contains("FLAGGED"),
        "{tags}\n{plan}"
    );
    assert!(plan.contains("SET is carried as `text[]`"), "{plan}");
    // The plan as init wrote it carries the sets as arrays, every check passing.
    let run = decant(dir.path(), &["run", "plan.yaml"], &source, &target);
    assert_exit(&run, 0);
    assert_all_checks_passed(&run);
    assert_eq!(
        query(&target, "SELECT string_agg(concat_ws(' ', id, tags::text, coalesce(moods::text, '-')), ' | ' ORDER BY id) FROM people"),
        "1 {a,b} {happy,sad} | 2 {} {sad} | 3 {[c]} - | 4 {a,b,[c]} {}"
    );
}

const NARROW_SOURCE: &str = "
    CREATE TABLE events (id INT PRIMARY KEY, day DATETIME NOT NULL, at_midnight DATETIME NOT NULL);
    INSERT INTO events VALUES (1, '2024-01-31 00:00:00', '2024-01-31 00:00:00'),
      (2, '2024-02-01 10:30:00', '2024-02-01 00:00:00'), (3, '2024-02-02 23:59:59', '2024-02-02 00:00:00');
    CREATE TABLE notes (id INT PRIMARY KEY, title VARCHAR(40) NOT NULL, n INT NOT NULL, price DECIMAL(10,2) NOT NULL);
    INSERT INTO notes VALUES (1, 'short', 1, 1.50), (2, 'a title longer than ten', 70000, 123.45),
      (3, 'eleven char', -40000, 99.99);
";

const NARROW_APP: &str = "
    CREATE TABLE events (id integer PRIMARY KEY, day date NOT NULL, at_midnight date NOT NULL);
    CREATE TABLE notes (id integer PRIMARY KEY, title varchar(10) NOT NULL, n smallint NOT NULL, price numeric(4,2) NOT NULL);
";

#[test]
fn what_the_apps_types_narrow_is_flagged_before_the_run_and_datetime_to_date_is_proposed() {
    let source = MysqlDatabase::new();
    source.execute(NARROW_SOURCE);
    let dir = tempfile::tempdir().unwrap();
    let plan = init_for_app(dir.path(), &source, NARROW_APP);
    // init counts what would be bad rows and proposes the named transform for the reviewer to
    // accept; a column whose values all fit gets nothing.
    for expected in [
        "  # 2 value(s) of `events.day` have a time of day, which the app's `date` cannot hold",
        "; to accept `datetime_to_date` (keeps the calendar date of the source's wall clock, drops the time), take the line below instead  <- FLAGGED\n  #   events.day: { transform: datetime_to_date }\n  events.day: {}  # no transform: those values are bad rows\n",
        "  # WARNING: 2 value(s) of `notes.title` are longer than 10 characters, which the app's `varchar(10)` cannot hold",
        "  # WARNING: 2 value(s) of `notes.n` are out of range for the app's `smallint`",
        "  # WARNING: 1 value(s) of `notes.price` have more than 2 digit(s) before the point",
    ] {
        assert!(plan.contains(expected), "missing {expected:?} in\n{plan}");
    }
    assert!(!plan.contains("at_midnight"), "{plan}");
    // validate and plan say the same before the reviewer decides.
    let target = TestDatabase::new();
    target.connect().batch_execute(NARROW_APP).unwrap();
    for command in ["validate", "plan"] {
        let out = decant(dir.path(), &[command, "plan.yaml"], &source, &target);
        assert_exit(&out, 0);
        for expected in [
            "2 value(s) of `events.day` have a time of day, which the app's `date` cannot hold",
            "columns.events.day.transform: datetime_to_date",
            "2 value(s) of `notes.title` are longer than 10 characters",
            "2 value(s) of `notes.n` are out of range for the app's `smallint`",
            "1 value(s) of `notes.price` have more than 2 digit(s) before the point",
        ] {
            assert!(
                out.stderr.contains(expected),
                "`{command}` misses {expected:?}:\n{}",
                out.stderr
            );
        }
        assert!(!out.stderr.contains("at_midnight"), "{}", out.stderr);
    }
    // Accepted, the transform keeps each calendar date; the narrowed values stay bad rows,
    // every one named.
    std::fs::write(
        dir.path().join("plan.yaml"),
        plan.replace(
            "  #   events.day: { transform: datetime_to_date }\n  events.day: {}  # no transform: those values are bad rows\n",
            "  events.day: { transform: datetime_to_date }\n",
        ),
    )
    .unwrap();
    let validated = decant(dir.path(), &["validate", "plan.yaml"], &source, &target);
    assert_exit(&validated, 0);
    assert!(
        !validated.stderr.contains("`events.day`"),
        "{}",
        validated.stderr
    );
    let run = decant(dir.path(), &["run", "plan.yaml"], &source, &target);
    assert_eq!(
        query(&target, "SELECT string_agg(id || ' ' || day || ' ' || at_midnight, ' | ' ORDER BY id) FROM events"),
        "1 2024-01-31 2024-01-31 | 2 2024-02-01 2024-02-01 | 3 2024-02-02 2024-02-02",
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(
        query(
            &target,
            "SELECT string_agg(id::text, ',' ORDER BY id) FROM notes"
        ),
        "1"
    );
    assert_eq!(
        query(
            &target,
            "SELECT count(*) FROM decant.decant_rejects WHERE source_table = 'notes'"
        ),
        "2"
    );
}

#[test]
fn datetime_to_date_makes_a_date_column_in_decants_own_schema_too() {
    let source = MysqlDatabase::new();
    source.execute(
        "CREATE TABLE visits (id INT PRIMARY KEY, at DATETIME NULL);
         INSERT INTO visits VALUES (1, '2024-01-31 23:59:59'), (2, NULL), (3, '1999-12-31 00:00:01');",
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plan.yaml"),
        "version: 1\nname: visits\nsource: { url: \"${SOURCE_DATABASE_URL}\" }\ntarget: { url: \"${TARGET_DATABASE_URL}\" }\ncolumns:\n  visits.at: { transform: datetime_to_date }\nchecks:\n  - row_counts: all\n  - checksums: all\n",
    )
    .unwrap();
    let target = TestDatabase::new();
    let run = decant(dir.path(), &["run", "plan.yaml"], &source, &target);
    assert_exit(&run, 0);
    assert_all_checks_passed(&run);
    assert_eq!(
        query(&target, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'visits'::regclass AND attname = 'at'"),
        "date"
    );
    assert_eq!(
        query(&target, "SELECT string_agg(id || ' ' || coalesce(at::text, '-'), ' | ' ORDER BY id) FROM visits"),
        "1 2024-01-31 | 2 - | 3 1999-12-31"
    );
}

const ENUM_ARRAY_SOURCE: &str = "
    CREATE TABLE people (
      id INT PRIMARY KEY,
      moods SET('happy','sad','meh') NULL,
      said VARCHAR(40) NOT NULL,
      mood ENUM('happy','sad','ok') NOT NULL
    );
    INSERT INTO people VALUES (1, 'happy,sad', 'ok,happy', 'happy'), (2, '', '', 'ok'),
      (3, NULL, 'sad', 'sad'), (4, 'sad,meh', 'ok', 'ok'), (5, 'happy', 'ok,bored', 'sad');
";

const ENUM_ARRAY_APP: &str = "
    CREATE TYPE mood AS ENUM ('happy', 'sad', 'ok');
    CREATE TABLE people (id integer PRIMARY KEY, moods mood[], said mood[] NOT NULL, mood mood NOT NULL);
";

#[test]
fn mysql_sets_and_comma_separated_labels_go_into_the_apps_enum_arrays() {
    let source = MysqlDatabase::new();
    source.execute(ENUM_ARRAY_SOURCE);
    let dir = tempfile::tempdir().unwrap();
    let plan = init_for_app(dir.path(), &source, ENUM_ARRAY_APP);
    // The app's database, made apart from the developer's: its enum has another OID.
    let target = TestDatabase::new();
    target
        .connect()
        .batch_execute(&format!(
            "CREATE TYPE filler AS ENUM ('x'); {ENUM_ARRAY_APP}"
        ))
        .unwrap();
    let run = decant(dir.path(), &["run", "plan.yaml"], &source, &target);
    // Exit 1: rows were rejected.
    assert_exit(&run, 1);
    // The checksums compare the arrays as the target sends them back, its enum's OID in them.
    assert_all_checks_passed(&run);
    assert_eq!(
        query(&target, "SELECT string_agg(concat_ws(' ', id, coalesce(moods::text, '-'), said::text, mood), ' | ' ORDER BY id) FROM people"),
        "1 {happy,sad} {ok,happy} happy | 2 {} {} ok | 3 - {sad} sad",
        "{plan}\n{}\n{}",
        run.stdout,
        run.stderr
    );
    // A label outside the app's enum is a rejected row naming its column, key and value.
    let rejects = query(
        &target,
        "SELECT string_agg(concat_ws(' ', primary_key, source_column, value, reason), ' | ' ORDER BY primary_key::text, source_column) FROM decant.decant_rejects WHERE source_table = 'people'",
    );
    assert!(
        rejects.starts_with("{\"id\": 4} moods sad,meh ")
            && rejects.contains("`meh` is not a label of enum `mood`")
            && rejects.contains(" | {\"id\": 5} said ok,bored ")
            && rejects.contains("`bored` is not a label of enum `mood`"),
        "{rejects}"
    );
}

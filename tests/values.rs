//! Values that a load would change without a word: `NaN` and `Infinity` text in a float
//! column, times finer than a microsecond or past the end of a day. `plan --profile` and
//! `run` agree on each: a bad row, unless the plan says otherwise.

use crate::support::setup::{assert_exit, query, Setup};

/// The rejects of the last run of `plan.yaml`, one `table:id:column:value` per line.
fn rejects(s: &Setup) -> Vec<String> {
    let text = std::fs::read_to_string(s.path("reports/plan.rejects.jsonl")).unwrap_or_default();
    text.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            format!(
                "{}:{}:{}:{} ({})",
                v["table"].as_str().unwrap_or_default(),
                v["primary_key"]["id"],
                v["column"].as_str().unwrap_or_default(),
                v["value"].as_str().unwrap_or_default(),
                v["reason"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

const SPECIAL_FLOATS: &str = "CREATE TABLE m (id INTEGER PRIMARY KEY, x REAL);
     INSERT INTO m VALUES (1, 1.5), (2, 'NaN'), (3, 'Infinity'), (4, ' -inf '), (5, 'abc'), (6, '2.5');";

#[test]
fn nan_and_infinity_text_in_a_real_column_is_a_bad_row_in_the_profile_and_in_the_run() {
    let s = Setup::from_sql(SPECIAL_FLOATS, "settings: { on_bad_row: reject }\n");
    let profiled = s.decant(&["plan", "plan.yaml", "--profile"]);
    assert_exit(&profiled, 0);
    assert!(
        profiled.stdout.contains("m.x: 3 text value(s) `NaN`/`Infinity` in a column mapped to `double precision`; they are bad rows unless the column has `transform: keep_nan_infinity`"),
        "{}",
        profiled.stdout
    );
    assert!(
        profiled.stdout.contains("m.x: 1 non-numeric text value(s)"),
        "{}",
        profiled.stdout
    );
    let run = s.decant(&["run", "plan.yaml"]);
    assert_exit(&run, 1);
    // The profile's four bad rows are the run's four rejects, each saying what to write.
    let rejected = rejects(&s);
    assert_eq!(rejected.len(), 4, "{rejected:#?}");
    for (row, value) in [(2, "NaN"), (3, "Infinity"), (4, " -inf ")] {
        let line = format!("m:{row}:x:{value} (text `{value}` is not a finite number; add `transform: keep_nan_infinity`");
        assert!(
            rejected.iter().any(|r| r.starts_with(&line)),
            "{line}\n{rejected:#?}"
        );
    }
    assert!(
        rejected.iter().any(|r| r.starts_with("m:5:x:abc")),
        "{rejected:#?}"
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(id || '=' || x, ' ' ORDER BY id) FROM m"
        ),
        "1=1.5 6=2.5"
    );
}

#[test]
fn keep_nan_infinity_carries_them_and_the_profile_no_longer_counts_them() {
    let s = Setup::from_sql(
        SPECIAL_FLOATS,
        "settings: { on_bad_row: reject }\ncolumns:\n  m.x: { transform: keep_nan_infinity }\n",
    );
    let profiled = s.decant(&["plan", "plan.yaml", "--profile"]);
    assert_exit(&profiled, 0);
    assert!(!profiled.stdout.contains("NaN"), "{}", profiled.stdout);
    assert!(
        profiled.stdout.contains("m.x: 1 non-numeric text value(s)"),
        "{}",
        profiled.stdout
    );
    let run = s.decant(&["run", "plan.yaml"]);
    assert_exit(&run, 1);
    let rejected = rejects(&s);
    assert_eq!(rejected.len(), 1, "{rejected:#?}");
    assert!(rejected[0].starts_with("m:5:x:abc"), "{rejected:#?}");
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(id || '=' || x, ' ' ORDER BY id) FROM m"
        ),
        "1=1.5 2=NaN 3=Infinity 4=-Infinity 6=2.5"
    );
}

const INEXACT_TIMES: &str = "CREATE TABLE m (id INTEGER PRIMARY KEY, ts TIMESTAMP, t TIME);
     INSERT INTO m VALUES
       (1, '2024-01-31 10:00:00.123456', '10:00:00.5'),
       (2, '2024-01-31 10:00:00.1234567', '24:00:00'),
       (3, '2024-01-31 24:00:00', '10:00'),
       (4, '2024-01-31T23:59:60Z', '10:00'),
       (5, '2024-01-31 10:00', '10:00:00.1234567');";

#[test]
fn times_postgresql_would_round_or_roll_are_bad_rows_in_the_profile_and_in_the_run() {
    let s = Setup::from_sql(INEXACT_TIMES, "settings: { on_bad_row: reject }\n");
    let profiled = s.decant(&["plan", "plan.yaml", "--profile"]);
    assert_exit(&profiled, 0);
    for warning in [
        "m.ts: 2 time(s) finer than a microsecond or at second 60 in a column mapped to `timestamptz`; they are bad rows unless the column has `transform: round_times`",
        "m.ts: 1 date-time(s) at 24:00 in a column mapped to `timestamptz`; they are bad rows unless the column has `transform: round_times`",
        // `time` keeps 24:00:00 as it is: only the seventh digit is a bad row.
        "m.t: 1 time(s) finer than a microsecond or at second 60 in a column mapped to `time`; they are bad rows",
    ] {
        assert!(profiled.stdout.contains(warning), "{warning}\n{}", profiled.stdout);
    }
    let run = s.decant(&["run", "plan.yaml"]);
    assert_exit(&run, 1);
    // The rejects name the table, the key, the column and the value, and say why.
    let rejected = rejects(&s);
    let expected = [
        "m:2:ts:2024-01-31 10:00:00.1234567 (`2024-01-31 10:00:00.1234567` has more than six digits after the second, and PostgreSQL would round it to the microsecond; add `transform: round_times` to the column to let it)",
        "m:3:ts:2024-01-31 24:00:00 (`2024-01-31 24:00:00` is at 24:00, which PostgreSQL would make midnight of the next day; add `transform: round_times` to the column to let it)",
        "m:4:ts:2024-01-31T23:59:60Z (`2024-01-31T23:59:60Z` has second 60, which PostgreSQL would make the next minute; add `transform: round_times` to the column to let it)",
        "m:5:t:10:00:00.1234567 (`10:00:00.1234567` has more than six digits after the second, and PostgreSQL would round it to the microsecond; add `transform: round_times` to the column to let it)",
    ];
    assert_eq!(rejected, expected);
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(id || '=' || ts || '/' || t, ' ' ORDER BY id) FROM m"
        ),
        "1=2024-01-31 10:00:00.123456+00/10:00:00.5"
    );
}

#[test]
fn round_times_lets_postgresql_round_them_and_the_profile_says_so() {
    let s = Setup::from_sql(
        INEXACT_TIMES,
        "settings: { on_bad_row: reject }\ncolumns:\n  m.ts: { transform: round_times }\n  m.t: { transform: round_times }\n",
    );
    let profiled = s.decant(&["plan", "plan.yaml", "--profile"]);
    assert_exit(&profiled, 0);
    for warning in [
        "m.ts: 2 time(s) finer than a microsecond or at second 60 in a column mapped to `timestamptz` become rounded by PostgreSQL (`transform: round_times`)",
        "m.ts: 1 date-time(s) at 24:00 in a column mapped to `timestamptz` become midnight of the next day (`transform: round_times`)",
    ] {
        assert!(profiled.stdout.contains(warning), "{warning}\n{}", profiled.stdout);
    }
    assert!(!profiled.stdout.contains("bad rows"), "{}", profiled.stdout);
    let run = s.decant(&["run", "plan.yaml"]);
    assert_exit(&run, 0);
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(id || '=' || ts || '/' || t, ' ' ORDER BY id) FROM m"
        ),
        "1=2024-01-31 10:00:00.123456+00/10:00:00.5 \
         2=2024-01-31 10:00:00.123457+00/24:00:00 \
         3=2024-02-01 00:00:00+00/10:00:00 \
         4=2024-02-01 00:00:00+00/10:00:00 \
         5=2024-01-31 10:00:00+00/10:00:00.123457"
    );
}

#[test]
fn validate_warns_when_such_a_transform_has_nothing_to_decide() {
    let s = Setup::from_sql(
        "CREATE TABLE m (id INTEGER PRIMARY KEY, x REAL, ts TIMESTAMP, name TEXT);",
        "columns:\n  m.x: { transform: keep_nan_infinity }\n  m.ts: { transform: round_times }\n  m.name: { transform: round_times }\n  m.id: { transform: keep_nan_infinity }\n",
    );
    let out = s.decant(&["validate", "plan.yaml"]);
    assert_exit(&out, 0);
    assert!(
        out.stderr.contains("warning: `round_times` does nothing on `m.name`, mapped to `text`: it is for timestamp and time columns"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("warning: `keep_nan_infinity` does nothing on `m.id`, mapped to `bigint`: it is for float columns"),
        "{}",
        out.stderr
    );
    // The two in their place say nothing.
    assert_eq!(out.stderr.matches("warning: ").count(), 2, "{}", out.stderr);
}

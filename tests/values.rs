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

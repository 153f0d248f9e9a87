//! The inverse mapping on real values: each stored form, each built-in's inverse.

use super::*;
use crate::engines::postgres::parse_target_type;

fn inverse(
    target: &str,
    transform: Option<&str>,
    affinity: Affinity,
    samples: &[SqlValue],
) -> ColumnInverse {
    let t = transform.map(|t| Transform::parse(t).unwrap());
    ColumnInverse::decide(
        &parse_target_type(target).unwrap(),
        t.as_ref(),
        None,
        affinity,
        samples.iter(),
    )
    .unwrap()
}

fn back(i: &ColumnInverse, v: SqlValue) -> Result<SqlValue, String> {
    i.back(v, &minijinja::Value::from(()), &TransformEnvironment::new())
}

fn text(t: &str) -> SqlValue {
    SqlValue::Text(t.to_owned())
}

#[test]
fn instants_go_back_in_the_spelling_the_column_holds() {
    // Django: space, six digits, none when zero, no offset.
    let django = inverse(
        "timestamptz",
        None,
        Affinity::Numeric,
        &[
            text("2024-12-15 22:02:14.853045"),
            text("2024-06-18 18:29:53"),
        ],
    );
    assert_eq!(
        back(&django, SqlValue::Integer(1_718_735_393_000_000)),
        Ok(text("2024-06-18 18:29:53"))
    );
    assert_eq!(
        back(&django, SqlValue::Integer(1_718_735_393_000_500)),
        Ok(text("2024-06-18 18:29:53.000500"))
    );
    // Sequelize: milliseconds and a spaced offset.
    let sequelize = inverse(
        "timestamptz",
        None,
        Affinity::Numeric,
        &[text("2024-01-31 10:00:00.120 +00:00")],
    );
    assert_eq!(
        back(&sequelize, SqlValue::Integer(1_706_695_200_000_000)),
        Ok(text("2024-01-31 10:00:00.000 +00:00"))
    );
    // Prisma: epoch milliseconds; a fraction of one is refused, never cut.
    let prisma = inverse(
        "timestamptz",
        None,
        Affinity::Numeric,
        &[SqlValue::Integer(1_706_695_200_123)],
    );
    assert_eq!(
        back(&prisma, SqlValue::Integer(1_706_695_200_123_000)),
        Ok(SqlValue::Integer(1_706_695_200_123))
    );
    assert!(back(&prisma, SqlValue::Integer(1_706_695_200_123_456))
        .unwrap_err()
        .contains("fraction of a millisecond"));
    // The same instant spelled otherwise is no change.
    assert!(django.same(
        &text("2024-06-18T18:29:53+00:00"),
        &text("2024-06-18 18:29:53")
    ));
    assert!(!django.same(&text("2024-06-18 18:29:54"), &text("2024-06-18 18:29:53")));
}

#[test]
fn each_builtin_has_its_inverse_and_an_expression_needs_one() {
    for b in crate::transform::BUILTINS {
        // The table answers for every built-in (a new one must be given a row).
        let _ = builtin_inverse(*b);
    }
    let uuid = inverse(
        "uuid",
        Some("hex_to_uuid"),
        Affinity::Text,
        &[text("b7decc0c5d964f7fa65beda9cf0c26ef")],
    );
    assert_eq!(
        back(&uuid, text("4de45321-ad91-4a36-b375-23a53b4a3ee2")),
        Ok(text("4de45321ad914a36b37523a53b4a3ee2"))
    );
    let micros = inverse(
        "interval",
        Some("microseconds_to_interval"),
        Affinity::Integer,
        &[],
    );
    assert_eq!(
        back(&micros, SqlValue::Integer(-1_800_000_000)),
        Ok(SqlValue::Integer(-1_800_000_000))
    );
    let expression = Transform::parse("{{ value | lower }}").unwrap();
    assert!(invertible(Some(&expression), None)
        .unwrap_err()
        .contains("no `inverse:`"));
    assert!(invertible(Some(&expression), Some("{{ value }}")).is_ok());
}

#[test]
fn numbers_are_stored_as_the_affinity_stores_them_or_refused_when_digits_would_be_lost() {
    let decimal = inverse("numeric(8,2)", None, Affinity::Numeric, &[]);
    assert_eq!(back(&decimal, text("100.00")), Ok(SqlValue::Integer(100)));
    assert_eq!(
        back(&decimal, text("999999.99")),
        Ok(SqlValue::Real(999_999.99))
    );
    assert!(back(&decimal, text("0.12345678901234567890")).is_err());
    let as_text = inverse("numeric(8,2)", None, Affinity::Text, &[]);
    assert_eq!(back(&as_text, text("12.50")), Ok(text("12.50")));
    assert!(decimal.same(&SqlValue::Real(12.5), &SqlValue::Real(12.5)));
    assert!(decimal.same(&SqlValue::Integer(0), &SqlValue::Real(0.0)));
}

#[test]
fn json_goes_back_escaped_when_the_column_escapes_and_compares_as_a_document() {
    let json = inverse(
        "jsonb",
        None,
        Affinity::Text,
        &[text(r#"{"note": "na\u00efve"}"#)],
    );
    assert_eq!(
        back(&json, text(r#"{"e": "🎉é"}"#)),
        Ok(text(r#"{"e": "\ud83c\udf89\u00e9"}"#))
    );
    assert!(json.same(
        &text(r#"{"b": 1, "a": [1, 2]}"#),
        &text(r#"{"a":[1,2],"b":1}"#)
    ));
    assert!(!json.same(&text("null"), &text("{}")));
    let flag = inverse("boolean", None, Affinity::Numeric, &[SqlValue::Integer(1)]);
    assert_eq!(back(&flag, SqlValue::Integer(1)), Ok(SqlValue::Integer(1)));
    let spelled = inverse(
        "boolean",
        Some("to_boolean"),
        Affinity::Text,
        &[text("true")],
    );
    assert_eq!(back(&spelled, SqlValue::Integer(0)), Ok(text("false")));
}

#[test]
fn through_an_expression_a_row_is_unchanged_when_the_transform_of_its_stored_value_gives_the_targets(
) {
    let transform = Transform::parse("{{ value / 100 }}").unwrap();
    let cents = ColumnInverse::decide(
        &parse_target_type("numeric(12,2)").unwrap(),
        Some(&transform),
        Some("{{ (value | float * 100) | round | int }}"),
        Affinity::Integer,
        [SqlValue::Integer(1250)].iter(),
    )
    .unwrap();
    let env = TransformEnvironment::new();
    let none = minijinja::Value::from(());
    assert_eq!(
        cents.back(text("13.75"), &none, &env),
        Ok(SqlValue::Integer(1375))
    );
    // 1250 / 100 is the 12.50 the target shows: no change.
    assert!(cents.unchanged(
        &SqlValue::Integer(1250),
        &text("12.50"),
        &SqlValue::Integer(1250),
        &none,
        &env
    ));
    assert!(!cents.unchanged(
        &SqlValue::Integer(1250),
        &text("13.75"),
        &SqlValue::Integer(1375),
        &none,
        &env
    ));
}

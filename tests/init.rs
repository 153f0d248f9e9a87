//! `decant init` on what real apps store: JSON in TEXT columns, IP addresses in CHAR(39).

use crate::support::setup::{assert_exit, query, Setup};

const SOURCE: &str = r#"
    CREATE TABLE django_admin_log (id INTEGER PRIMARY KEY, change_message TEXT NOT NULL,
                                   data JSON, extra TEXT CHECK (json_valid(extra)));
    INSERT INTO django_admin_log VALUES
      (1, '[{"added": {}}]', '{"a": 1}', '[1]'),
      (2, '[{"changed": {"fields": ["Name"]}}]', '{"b": 2}', '{}');
    CREATE TABLE visits (id INTEGER PRIMARY KEY, ip CHAR(39) NOT NULL, code CHAR(3));
    INSERT INTO visits VALUES (1, '10.1.0.1', 'ab'), (2, 'fe80::1ff:fe23:4567:890a', 'xyz');
"#;

#[test]
fn init_makes_jsonb_only_of_columns_the_source_declares_json_and_suggests_it_for_text() {
    let s = Setup::from_sql(SOURCE, "");
    let out = s.decant(&["init", "--source", "sqlite://source.sqlite3"]);
    assert_exit(&out, 0);
    let plan = out.stdout;
    // Declared JSON, or TEXT with a json_valid CHECK: jsonb by the defaults.
    assert!(plan.contains("#   data "), "{plan}");
    assert!(
        plan.lines()
            .any(|l| l.starts_with("#   data") && l.contains("→ jsonb")),
        "{plan}"
    );
    assert!(
        plan.lines()
            .any(|l| l.starts_with("#   extra") && l.contains("→ jsonb")),
        "{plan}"
    );
    // TEXT that happens to hold JSON stays text; jsonb is a commented suggestion.
    assert!(
        plan.contains(
            "  #   django_admin_log.change_message: { to: jsonb, transform: json_to_jsonb }"
        ),
        "{plan}"
    );
    assert!(
        plan.contains("  django_admin_log.change_message: { to: \"text\" }"),
        "{plan}"
    );
}

#[test]
fn char_columns_load_as_varchar_without_blank_padding_and_ip_addresses_are_proposed_as_inet() {
    let s = Setup::from_sql(SOURCE, "");
    let init = s.decant(&["init", "--source", "sqlite://source.sqlite3"]);
    assert_exit(&init, 0);
    assert!(
        init.stdout
            .lines()
            .any(|l| l.starts_with("#   ip") && l.contains("→ varchar(39)")),
        "{}",
        init.stdout
    );
    assert!(
        init.stdout.contains("  visits.ip: { to: inet }"),
        "{}",
        init.stdout
    );
    // With the defaults (no init proposals taken): what went in comes back, unpadded.
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 0);
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(ip || '|' || coalesce(code, ''), ',' ORDER BY id) FROM visits"
        ),
        "10.1.0.1|ab,fe80::1ff:fe23:4567:890a|xyz"
    );
    assert_eq!(
        query(&s.db, "SELECT data_type FROM information_schema.columns WHERE table_name = 'visits' AND column_name = 'ip'"),
        "character varying"
    );
}

//! No password is ever printed: hostile targets (a URL missing its `:`, a misspelt password
//! parameter, a connection string with an unclosed quote, YAML broken around a URL), written
//! into the plan or passed through `TARGET_DATABASE_URL`, under every command that reads them.

use crate::cli::bad_plan_dir;
use crate::support::cli::{decant_in, Outcome};

/// Every hostile target holds this; nothing decant prints may hold any part of it.
const SECRET: &str = "SECRETpw";

/// Targets with a password that decant cannot read as written. Port 1 has no server, so a
/// command that gets as far as connecting fails there.
const HOSTILE_TARGETS: &[&str] = &[
    // The `:` after the scheme is missing.
    "postgres//app:SECRETpw@127.0.0.1:1/shop",
    // A misspelt `password` parameter, which libpq refuses by name.
    "postgres://app@127.0.0.1:1/shop?passwd=SECRETpw",
    "postgresql://app@127.0.0.1:1/shop?sslmode=disable&pwd=SECRETpw&application_name=x",
    // An unknown parameter holds whatever was put in it.
    "postgres://app@127.0.0.1:1/shop?secretive=SECRETpw",
    // A known parameter whose value is not known to be harmless: libpq sends `options` to
    // the server, and a message about the URL must not show it.
    "postgres://app@127.0.0.1:1/shop?sslmode=disable&options=SECRETpw",
    "host=127.0.0.1 port=1 user=app options=SECRETpw",
    // A `key=value` string whose quote is never closed.
    "host=127.0.0.1 port=1 user=app password='SECRETpw dbname=shop",
    "host=127.0.0.1 port=1 passw0rd='SECRETpw",
    "host=127.0.0.1 port=1 user=app dbname=shop password = 'it\\'s SECRETpw",
    // A misspelt key in a `key=value` string.
    "host=127.0.0.1 port=1 user=app passwd=SECRETpw dbname=shop",
    // A password with an `@` and a `/` in it, not percent-encoded.
    "postgres://app:SECRETpw@/x@127.0.0.1:1/shop",
];

/// The commands that read the target: `validate` and `plan` check it, `run` connects.
const COMMANDS: &[&str] = &["validate", "plan", "run", "check"];

fn assert_no_secret(what: &str, out: &Outcome) {
    assert!(
        !out.stdout.contains(SECRET) && !out.stderr.contains(SECRET),
        "{what} printed the password:\nstdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
}

/// The target written into the plan as a double-quoted YAML string.
fn in_plan(target: &str) -> String {
    let quoted = target.replace('\\', "\\\\").replace('"', "\\\"");
    format!("version: 1\nsource: {{ url: \"sqlite://s.sqlite3\" }}\ntarget:\n  url: \"{quoted}\"\n")
}

#[test]
fn no_command_prints_the_password_of_a_malformed_target_written_into_the_plan() {
    for target in HOSTILE_TARGETS {
        let dir = bad_plan_dir(&in_plan(target));
        for command in COMMANDS {
            let out = decant_in(dir.path(), &[command, "plan.yaml"], &[]);
            assert_no_secret(
                &format!("`decant {command}` with `{target}` in the plan"),
                &out,
            );
            // Nothing here can connect.
            if matches!(*command, "run" | "check") {
                assert_ne!(out.code, 0, "`{command}` with `{target}`: {}", out.stderr);
            }
        }
    }
}

#[test]
fn no_command_prints_the_password_of_a_malformed_target_from_the_environment() {
    let dir = bad_plan_dir(
        "version: 1\nsource: { url: \"sqlite://s.sqlite3\" }\ntarget: { url: \"${TARGET_DATABASE_URL}\" }\n",
    );
    for target in HOSTILE_TARGETS {
        for command in COMMANDS {
            let out = decant_in(
                dir.path(),
                &[command, "plan.yaml"],
                &[("TARGET_DATABASE_URL", target)],
            );
            assert_no_secret(
                &format!("`decant {command}` with `{target}` from the environment"),
                &out,
            );
            if matches!(*command, "run" | "check") {
                assert_ne!(out.code, 0, "`{command}` with `{target}`: {}", out.stderr);
            }
        }
    }
}

#[test]
fn the_code_frame_of_a_malformed_target_shows_the_line_without_its_password() {
    for target in [
        "postgres//app:SECRETpw@127.0.0.1:1/shop",
        "host=127.0.0.1 user=app password='SECRETpw dbname=shop",
        "host=127.0.0.1 user=app passw0rd='SECRETpw dbname=shop",
    ] {
        let dir = bad_plan_dir(&in_plan(target));
        let out = decant_in(dir.path(), &["validate", "plan.yaml"], &[]);
        assert_eq!(out.code, 2, "{}", out.stderr);
        // The frame is there, pointing at the URL, with the rest of the line kept.
        assert!(out.stderr.contains("--> plan.yaml:4:"), "{}", out.stderr);
        assert!(out.stderr.contains("4 |   url: \""), "{}", out.stderr);
        assert!(out.stderr.contains("127.0.0.1"), "{}", out.stderr);
        assert_no_secret(&format!("`decant validate` with `{target}`"), &out);
    }
}

#[test]
fn a_yaml_error_on_the_line_of_a_url_does_not_print_its_password() {
    for plan in [
        // The YAML string is never closed.
        "version: 1\nsource: { url: \"sqlite://s.sqlite3\" }\ntarget:\n  url: \"postgres://app:SECRETpw@127.0.0.1:1/shop\n",
        "version: 1\nsource: { url: \"sqlite://s.sqlite3\" }\ntarget: { url: 'host=db password=''SECRETpw user=app'' }\n",
        // A tab where YAML wants blanks, on the URL's line.
        "version: 1\nsource: { url: \"sqlite://s.sqlite3\" }\ntarget:\n\turl: postgres://app:SECRETpw@127.0.0.1:1/shop?passwd=SECRETpw\n",
        // An unknown key beside a URL in a flow mapping.
        "version: 1\nsource: { url: \"sqlite://s.sqlite3\" }\ntarget: { url: \"host=db sslpasswd=SECRETpw\", schemaa: x }\n",
    ] {
        let dir = bad_plan_dir(plan);
        for command in COMMANDS {
            let out = decant_in(dir.path(), &[command, "plan.yaml"], &[]);
            assert_eq!(out.code, 2, "{plan}: {}", out.stderr);
            assert!(out.stderr.contains("plan.yaml:"), "{}", out.stderr);
            assert_no_secret(&format!("`decant {command}` with\n{plan}"), &out);
        }
    }
}

#[test]
fn no_command_prints_the_password_of_a_malformed_mysql_source() {
    for source in [
        "mysql//root:SECRETpw@127.0.0.1:1/shop",
        "mariadb://root:SECRETpw@127.0.0.1:1/",
        "mysql://root@127.0.0.1:1/shop?passwd=SECRETpw",
        "mysql://root:SECRETpw@127.0.0.1:1/shop",
    ] {
        let dir = bad_plan_dir(
            "version: 1\nsource: { url: \"${SOURCE_DATABASE_URL}\" }\ntarget: { url: \"postgres://127.0.0.1:1/x\" }\n",
        );
        for command in COMMANDS {
            let out = decant_in(
                dir.path(),
                &[command, "plan.yaml"],
                &[("SOURCE_DATABASE_URL", source)],
            );
            assert_no_secret(&format!("`decant {command}` with source `{source}`"), &out);
            assert_ne!(out.code, 0, "`{command}` with `{source}`: {}", out.stderr);
        }
        // An unknown key beside the URL: its frame quotes the URL's line.
        let dir = bad_plan_dir(&format!(
            "version: 1\nsource: {{ url: \"{source}\", extra: 1 }}\ntarget: {{ url: \"postgres://127.0.0.1:1/x\" }}\n"
        ));
        let out = decant_in(dir.path(), &["validate", "plan.yaml"], &[]);
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(
            out.stderr.contains("2 | source: { url: \""),
            "{}",
            out.stderr
        );
        assert_no_secret(
            &format!("`decant validate` with source `{source}` in the plan"),
            &out,
        );
    }
}

#[test]
fn what_a_migrator_prints_of_the_target_url_is_masked_in_the_output_and_the_reports() {
    let s = crate::support::setup::Setup::from_sql(
        "CREATE TABLE t (id INTEGER PRIMARY KEY);",
        "steps:\n  - { id: migrate, run: \"echo connecting to $DATABASE_URL; echo host=db password=$PGPASSWORD; exit 3\", before: [load] }\n",
    );
    // A temporary cluster of the test support has a password of its own; the CI server
    // trusts local connections, so one put into its URL is carried and never checked.
    let (url, secret) = match s.db.url.split_once("://postgres:") {
        Some((_, rest)) => {
            let password = rest.split_once('@').map_or("", |(p, _)| p).to_owned();
            (s.db.url.clone(), password)
        }
        None => (
            s.db.url.replacen("postgres@", "postgres:SECRETpw@", 1),
            SECRET.to_owned(),
        ),
    };
    assert!(
        url.contains(&format!(":{secret}@")) && secret.len() >= 8,
        "{url}"
    );
    let reports = s.path("reports");
    let out = decant_in(
        s.dir.path(),
        &[
            "run",
            "plan.yaml",
            "--report-dir",
            reports.to_str().unwrap(),
        ],
        &[("TARGET_DATABASE_URL", &url)],
    );
    assert_ne!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("migrate"), "{}", out.stderr);
    assert!(
        !out.stdout.contains(&secret) && !out.stderr.contains(&secret),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    for report in ["plan.report.json", "plan.report.md"] {
        let text = std::fs::read_to_string(reports.join(report)).unwrap();
        assert!(
            text.contains("connecting to postgres://postgres:***@"),
            "{text}"
        );
        assert!(!text.contains(&secret), "{report}:\n{text}");
    }
    // The JSON report is still JSON.
    let report = s.report("plan");
    assert_eq!(report["failure"]["step"], "migrate", "{report}");
}

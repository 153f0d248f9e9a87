//! Database URLs in plans: where a `sqlite://` source file lives relative to the plan, and
//! how a URL is shown to people — never with its password.

use std::path::{Path, PathBuf};

mod conninfo;
mod redact;

use conninfo::{conninfo_pairs, KNOWN_CONNINFO_KEYS};
pub use redact::{mask_line, mask_passwords, redact_text, redact_url, without_password};

/// A source URL that decant can open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceUrl {
    Sqlite(PathBuf),
    /// A `mysql://` or `mariadb://` URL, as written (with its password).
    Mysql(String),
    /// A `postgres://` or `postgresql://` URL, as written (with its password).
    Postgres(String),
}

/// Why a URL was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("unsupported source URL scheme in `{0}`; decant reads `sqlite://path/to/file.db`, `mysql://user@host/db`, `mariadb://user@host/db` or `postgres://user@host/db`")]
    UnsupportedSource(String),
    #[error(
        "unsupported target URL scheme in `{0}`; decant writes to `postgres://` or `postgresql://`"
    )]
    UnsupportedTarget(String),
    // Only the key is shown: a misspelt key (`passwd=`) may well hold the password.
    #[error("the target connection string has an unknown parameter `{0}`; libpq knows {known}", known = KNOWN_CONNINFO_KEYS.join(", "))]
    UnknownTargetParameter(String),
    #[error("the target URL has an unknown parameter `{0}`; libpq knows {known}", known = KNOWN_CONNINFO_KEYS.join(", "))]
    UnknownUrlParameter(String),
    #[error(
        "the source URL `{0}` names no database: write it as `mysql://user@host:3306/database`"
    )]
    NoDatabase(String),
    #[error("the source URL `{0}` names no file")]
    EmptyPath(String),
}

/// Parses a source URL; relative SQLite paths are resolved against `base` (the plan's folder).
/// `sqlite://data/shop.db` is relative, `sqlite:///srv/shop.db` absolute.
pub fn parse_source_url(url: &str, base: &Path) -> Result<SourceUrl, UrlError> {
    if url.starts_with("mysql://") || url.starts_with("mariadb://") {
        let database = url.split_once("://").map_or("", |(_, rest)| {
            rest.split_once('/')
                .map_or("", |(_, db)| db.split('?').next().unwrap_or(""))
        });
        if database.is_empty() {
            return Err(UrlError::NoDatabase(redact_url(url)));
        }
        return Ok(SourceUrl::Mysql(url.to_owned()));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(SourceUrl::Postgres(url.to_owned()));
    }
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| UrlError::UnsupportedSource(redact_url(url)))?;
    let rest = rest.split_once('?').map_or(rest, |(path, _)| path);
    if rest.is_empty() {
        return Err(UrlError::EmptyPath(redact_url(url)));
    }
    let path = Path::new(rest);
    Ok(SourceUrl::Sqlite(if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }))
}

/// Checks that a target URL is one decant can write to: a `postgres://` or `postgresql://` URL,
/// or a libpq `key=value` connection string (`host=db user=app dbname=shop`), which libpq (and
/// so Diesel's `PgConnection::establish`) accepts as well.
pub fn check_target_url(url: &str) -> Result<(), UrlError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        // libpq refuses an unknown query parameter too ("invalid URI query parameter"), at
        // `run`; `ssl=true` is its one alias.
        let query = url.split_once('?').map_or("", |(_, q)| q);
        let unknown = query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| kv.split_once('=').map_or(kv, |(k, _)| k))
            .find(|k| *k != "ssl" && !KNOWN_CONNINFO_KEYS.contains(k));
        return match unknown {
            Some(key) => Err(UrlError::UnknownUrlParameter(key.to_owned())),
            None => Ok(()),
        };
    }
    match conninfo_pairs(url) {
        Some(pairs) if !pairs.is_empty() => {
            match pairs.iter().find(|p| !KNOWN_CONNINFO_KEYS.contains(&p.key)) {
                Some(unknown) => Err(UrlError::UnknownTargetParameter(unknown.key.to_owned())),
                None => Ok(()),
            }
        }
        _ => Err(UrlError::UnsupportedTarget(redact_url(url))),
    }
}

/// The same server URL naming another database (a `dbname=` parameter is dropped); for a
/// `key=value` string, its `dbname` replaced.
pub fn with_database(url: &str, name: &str) -> String {
    if let Some(pairs) = conninfo_pairs(url) {
        let mut out = String::new();
        for pair in pairs
            .iter()
            .filter(|p| !p.key.eq_ignore_ascii_case("dbname"))
        {
            out.push_str(url[pair.whole.clone()].trim_start());
            out.push(' ');
        }
        let quoted = name.replace('\\', "\\\\").replace('\'', "\\'");
        out.push_str(&format!("dbname='{quoted}'"));
        return out;
    }
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let head = match base[authority..].find('/') {
        Some(i) => &base[..authority + i],
        None => base,
    };
    let mut out = format!("{head}/{name}");
    let params: Vec<&str> = query
        .unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.to_ascii_lowercase().starts_with("dbname="))
        .collect();
    if !params.is_empty() {
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_database_replaces_the_path_and_keeps_the_parameters() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres?sslmode=prefer", "x"),
            "postgres://u:p@h:5432/x?sslmode=prefer"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
        assert_eq!(
            with_database("postgresql://h/db?dbname=db&application_name=a", "x"),
            "postgresql://h/x?application_name=a"
        );
    }

    #[test]
    fn passwords_in_a_url_or_connection_string_are_masked_in_a_message() {
        assert_eq!(
            mask_passwords("postgres://u:s%40cret@h/db", "bad s@cret and s%40cret"),
            "bad *** and ***"
        );
        assert_eq!(
            mask_passwords("postgres://h/db?password=hunter2", "near hunter2"),
            "near ***"
        );
        assert_eq!(
            mask_passwords("host=h password='s3 cret' dbname=x", "quoted s3 cret"),
            "quoted ***"
        );
        assert_eq!(
            mask_passwords("postgres://u@h/db", "no secret"),
            "no secret"
        );
    }

    #[test]
    fn relative_sqlite_paths_resolve_against_the_plan_folder() {
        let url = parse_source_url("sqlite://data/shop.sqlite3", Path::new("/plans")).ok();
        assert_eq!(
            url,
            Some(SourceUrl::Sqlite(PathBuf::from("/plans/data/shop.sqlite3")))
        );
        let url = parse_source_url("sqlite:///srv/shop.db", Path::new("/plans")).ok();
        assert_eq!(url, Some(SourceUrl::Sqlite(PathBuf::from("/srv/shop.db"))));
    }

    #[test]
    fn other_schemes_are_refused_with_the_url_redacted() {
        let err = parse_source_url("oracle://root:hunter2@db/shop", Path::new("."))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unsupported source URL scheme in `oracle://root:***@db/shop`; decant reads `sqlite://path/to/file.db`, `mysql://user@host/db`, `mariadb://user@host/db` or `postgres://user@host/db`")
        );
    }

    #[test]
    fn mysql_and_mariadb_urls_are_sources_that_must_name_a_database() {
        let url = "mariadb://app:pw@db:3306/shop?ssl_mode=required";
        assert_eq!(
            parse_source_url(url, Path::new(".")).ok(),
            Some(SourceUrl::Mysql(url.to_owned()))
        );
        let err = parse_source_url("mysql://app:pw@db:3306/", Path::new("."))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("the source URL `mysql://app:***@db:3306/` names no database: write it as `mysql://user@host:3306/database`")
        );
    }

    #[test]
    fn key_value_connection_strings_are_targets_and_lose_their_password() {
        let conninfo = "host=localhost user=app password=s3cret dbname=x";
        assert_eq!(check_target_url(conninfo), Ok(()));
        assert_eq!(
            redact_url(conninfo),
            "host=localhost user=app password=*** dbname=x"
        );
        assert_eq!(
            redact_url("host=db password = 'it\\'s s3cret' PASSWORD=x"),
            "host=db password = *** PASSWORD=***"
        );
        assert_eq!(
            without_password(conninfo),
            "host=localhost user=app dbname=x"
        );
        assert_eq!(
            with_database(conninfo, "scratch"),
            "host=localhost user=app password=s3cret dbname='scratch'"
        );
    }

    #[test]
    fn a_malformed_connection_string_is_refused_without_its_password() {
        let err = check_target_url("host=db password='s3cret user=app")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("unsupported target URL scheme"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        assert!(check_target_url("mysql://root:pw@db/x").is_err());
        let err = check_target_url("host=db passwd=s3cret")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("the target connection string has an unknown parameter `passwd`"),
            "{err}"
        );
        assert!(!err.contains("s3cret"), "{err}");
        assert_eq!(redact_url("host=db passwd=s3cret"), "host=db passwd=***");
        assert!(check_target_url("").is_err());
    }

    #[test]
    fn passwords_never_survive_redaction() {
        assert_eq!(
            redact_url("postgres://app:s3cr3t@db.example.com:5432/app?sslmode=require"),
            "postgres://app:***@db.example.com:5432/app?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://db/app?user=app&password=s3cr3t"),
            "postgres://db/app?user=app&password=***"
        );
        assert_eq!(redact_url("postgres://app@db/app"), "postgres://app@db/app");
        assert_eq!(
            redact_url("postgres://a:p@ss@db/app"),
            "postgres://a:***@db/app"
        );
    }

    /// Hostile connection strings and URLs, each holding `SECRET`.
    const HOSTILE: &[&str] = &[
        "postgres//u:SECRET@h/db",
        "postgres:u:SECRET@h/db",
        "postgres://u:SECRET@/x@h/db",
        "postgres://u:pre//SECRET@h/db",
        "postgres://u@h/db?passwd=SECRET",
        "postgres://u@h/db?sslmode=require&options=SECRET&port=5",
        "mysql://root@h/db?Password=SECRET",
        "host=h password='SECRET",
        "host=h password='a\\'SECRET",
        "host=h user=u passw0rd='SECRET dbname=x",
        "host=h user=u pwd=SECRET",
        "host=h user=u options='-c x=SECRET'",
        "host = h password = SECRET",
        "user=u sslpassword=SECRET",
        "password=SECRET",
    ];

    #[test]
    fn no_hostile_url_or_connection_string_keeps_its_secret() {
        for url in HOSTILE {
            let redacted = redact_url(url);
            assert!(!redacted.contains("SECRET"), "{url} -> {redacted}");
            let masked = mask_passwords(url, &format!("cannot parse `{url}`"));
            assert!(!masked.contains("SECRET"), "{url} -> {masked}");
            // Quoted into prose or into a line of YAML, the text guards find it too.
            for text in [
                format!("error: bad target `{url}`; try again"),
                format!("  url: \"{url}\""),
                format!(
                    "target: {{ url: '{}', schema: x }}",
                    url.replace('\'', "''")
                ),
            ] {
                let redacted = redact_text(&text);
                assert!(!redacted.contains("SECRET"), "{text} -> {redacted}");
                let masked = mask_line(&text);
                assert!(!masked.contains("SECRET"), "{text} -> {masked}");
                assert_eq!(masked.chars().count(), text.chars().count(), "{masked}");
            }
        }
    }

    #[test]
    fn a_message_quoting_a_malformed_password_alone_does_not_show_it() {
        for (url, password) in [
            ("postgres:u:SECRET@h/db", "SECRET"),
            ("postgres://u:SECRET@/x@h/db", "SECRET"),
            ("postgres://u:pre//SECRET@h/db", "SECRET"),
            ("postgres://u:S%40CRET@h/db", "S@CRET"),
        ] {
            let masked = mask_passwords(url, &format!("password \"{password}\" is wrong"));
            assert_eq!(masked, "password \"***\" is wrong", "{url}");
        }
    }

    #[test]
    fn harmless_parameters_stay_readable() {
        assert_eq!(
            redact_url("postgres://u:p@h:5432/db?sslmode=require&application_name=x&passwd=p"),
            "postgres://u:***@h:5432/db?sslmode=require&application_name=x&passwd=***"
        );
        assert_eq!(
            redact_url("host=h port=5 user=u dbname=d sslmode=disable options=x"),
            "host=h port=5 user=u dbname=d sslmode=disable options=***"
        );
        assert_eq!(
            redact_text("step `a` failed: relation \"x\" does not exist; where id=5"),
            "step `a` failed: relation \"x\" does not exist; where id=5"
        );
        assert_eq!(
            redact_text("cannot connect to `host=h user=u secret=x`: timeout=3"),
            "cannot connect to `host=h user=u secret=***`: timeout=3"
        );
    }

    #[test]
    fn a_url_written_into_a_plan_loses_only_its_password() {
        assert_eq!(
            without_password("postgres://u:p@h/db?sslmode=require&password=x&options=y"),
            "postgres://u@h/db?sslmode=require&options=y"
        );
        assert_eq!(
            without_password("mysql://root@h/db?ssl_mode=required"),
            "mysql://root@h/db?ssl_mode=required"
        );
    }
}

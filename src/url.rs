//! Database URLs in plans: where a `sqlite://` source file lives relative to the plan, and
//! how a URL is shown to people — never with its password.

use std::path::{Path, PathBuf};

/// A source URL that decant can open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceUrl {
    Sqlite(PathBuf),
    /// A `mysql://` or `mariadb://` URL, as written (with its password).
    Mysql(String),
}

/// Why a URL was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("unsupported source URL scheme in `{0}`; decant reads `sqlite://path/to/file.db`, `mysql://user@host/db` or `mariadb://user@host/db`")]
    UnsupportedSource(String),
    #[error(
        "unsupported target URL scheme in `{0}`; decant writes to `postgres://` or `postgresql://`"
    )]
    UnsupportedTarget(String),
    // Only the key is shown: a misspelt key (`passwd=`) may well hold the password.
    #[error("the target connection string has an unknown parameter `{0}`; libpq knows {known}", known = KNOWN_CONNINFO_KEYS.join(", "))]
    UnknownTargetParameter(String),
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
        return Ok(());
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

/// The parameters a libpq `key=value` connection string may hold (PostgreSQL 17's list); libpq
/// refuses any other, so validate does too.
const KNOWN_CONNINFO_KEYS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "require_auth",
    "channel_binding",
    "connect_timeout",
    "client_encoding",
    "options",
    "application_name",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "replication",
    "gssencmode",
    "sslmode",
    "sslnegotiation",
    "requiressl",
    "sslcompression",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcertmode",
    "sslrootcert",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "requirepeer",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "krbsrvname",
    "gsslib",
    "gssdelegation",
    "service",
    "target_session_attrs",
    "load_balance_hosts",
];

/// One `key=value` of a libpq connection string: the key, and where its value (quotes
/// included) and the whole pair (with the blanks before it) stand in the string, in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pair<'a> {
    key: &'a str,
    value: std::ops::Range<usize>,
    whole: std::ops::Range<usize>,
}

/// The pairs of a libpq `key=value` connection string, or `None` when `text` is not one.
///
/// As libpq reads it: blanks around `=` are allowed, a value is a run of non-blanks or a
/// single-quoted string in which `\'` and `\\` stand for `'` and `\`.
fn conninfo_pairs(text: &str) -> Option<Vec<Pair<'_>>> {
    if text.contains("://") {
        return None;
    }
    let bytes = text.as_bytes();
    let blank = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_whitespace);
    let mut pairs = Vec::new();
    let mut i = 0;
    loop {
        let start = i;
        while blank(i) {
            i += 1;
        }
        if i == bytes.len() {
            return Some(pairs);
        }
        let key_start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        let key = &text[key_start..i];
        while blank(i) {
            i += 1;
        }
        if key.is_empty() || bytes.get(i) != Some(&b'=') {
            return None;
        }
        i += 1;
        while blank(i) {
            i += 1;
        }
        let value_start = i;
        if bytes.get(i) == Some(&b'\'') {
            i += 1;
            loop {
                match bytes.get(i) {
                    None => return None,
                    Some(b'\\') => i += 2,
                    Some(b'\'') => {
                        i += 1;
                        break;
                    }
                    Some(_) => i += 1,
                }
            }
        } else {
            while i < bytes.len() && !blank(i) {
                i += 1;
            }
        }
        pairs.push(Pair {
            key,
            value: value_start..i.min(bytes.len()),
            whole: start..i.min(bytes.len()),
        });
    }
}

/// Whether a connection-string key may hold a secret: `password`, `sslpassword`, and a
/// misspelling such as `passwd` that libpq will refuse but that still holds one.
fn is_password_key(key: &str) -> bool {
    key.to_ascii_lowercase().contains("pass")
}

/// The URL without its password, for writing into a plan: `postgres://app@db/x`, or a
/// `key=value` string without its `password=`.
pub fn without_password(url: &str) -> String {
    if let Some(pairs) = conninfo_pairs(url) {
        let mut out = String::new();
        for pair in pairs.iter().filter(|p| !is_password_key(p.key)) {
            out.push_str(url[pair.whole.clone()].trim_start());
            out.push(' ');
        }
        return out.trim_end().to_owned();
    }
    redact_url(url).replace(":***@", "@")
}

/// The URL with any password replaced by `***`, in the userinfo and in a `password=` parameter;
/// for a libpq `key=value` string, in its `password=` pair.
pub fn redact_url(url: &str) -> String {
    if !url.contains("://") {
        return redact_conninfo(url);
    }
    let mut out = match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(authority_end);
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => match userinfo.split_once(':') {
                    Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
                    None => url.to_owned(),
                },
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    };
    if let Some(query_start) = out.find('?') {
        let (head, query) = out.split_at(query_start + 1);
        let redacted: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _))
                    if k.eq_ignore_ascii_case("password")
                        || k.eq_ignore_ascii_case("sslpassword") =>
                {
                    format!("{k}=***")
                }
                _ => kv.to_owned(),
            })
            .collect();
        out = format!("{head}{}", redacted.join("&"));
    }
    out
}

/// `text` (e.g. libpq's error message) with every password that `url` holds replaced by
/// `***`: libpq does not echo passwords, but a message about a malformed string may quote it.
pub fn mask_passwords(url: &str, text: &str) -> String {
    let mut secrets: Vec<String> = Vec::new();
    if let Some(pairs) = conninfo_pairs(url) {
        for pair in pairs.iter().filter(|p| is_password_key(p.key)) {
            let raw = &url[pair.value.clone()];
            secrets.push(raw.to_owned());
            secrets.push(
                raw.trim_matches('\'')
                    .replace("\\'", "'")
                    .replace("\\\\", "\\"),
            );
        }
    } else if let Some((_, rest)) = url.split_once("://") {
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some((userinfo, _)) = rest[..authority_end].rsplit_once('@') {
            if let Some((_, password)) = userinfo.split_once(':') {
                secrets.push(password.to_owned());
                secrets.push(percent_decode(password));
            }
        }
        if let Some((_, query)) = url.split_once('?') {
            for (key, value) in query.split('&').filter_map(|kv| kv.split_once('=')) {
                if is_password_key(key) {
                    secrets.push(value.to_owned());
                    secrets.push(percent_decode(value));
                }
            }
        }
    }
    // Longest first, so a secret that contains another is hidden whole.
    secrets.retain(|s| !s.is_empty());
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
        .iter()
        .fold(text.to_owned(), |t, s| t.replace(s.as_str(), "***"))
}

/// `%xx` escapes decoded, as libpq reads a URI's parts; invalid escapes are kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A libpq `key=value` string with the value of every `password` key replaced by `***`.
///
/// Text that does not parse as one (a typo, an unclosed quote) is still shown without what
/// follows a `password=`: it is printed in the very error that says it is malformed.
fn redact_conninfo(text: &str) -> String {
    match conninfo_pairs(text) {
        Some(pairs) => {
            let mut out = text.to_owned();
            for pair in pairs.iter().rev().filter(|p| is_password_key(p.key)) {
                out.replace_range(pair.value.clone(), "***");
            }
            out
        }
        None => {
            let lower = text.to_ascii_lowercase();
            match lower.find("password") {
                Some(at) => format!("{}password=***", &text[..at]),
                None => text.to_owned(),
            }
        }
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
            Some("unsupported source URL scheme in `oracle://root:***@db/shop`; decant reads `sqlite://path/to/file.db`, `mysql://user@host/db` or `mariadb://user@host/db`")
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
}

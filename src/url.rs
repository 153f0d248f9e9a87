//! Database URLs in plans: where a `sqlite://` source file lives relative to the plan, and
//! how a URL is shown to people — never with its password.

use std::path::{Path, PathBuf};

/// A source URL that decant can open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceUrl {
    Sqlite(PathBuf),
}

/// Why a URL was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("unsupported source URL scheme in `{0}`; decant reads `sqlite://path/to/file.db`")]
    UnsupportedSource(String),
    #[error(
        "unsupported target URL scheme in `{0}`; decant writes to `postgres://` or `postgresql://`"
    )]
    UnsupportedTarget(String),
    #[error("the source URL `{0}` names no file")]
    EmptyPath(String),
}

/// Parses a source URL; relative SQLite paths are resolved against `base` (the plan's folder).
/// `sqlite://data/shop.db` is relative, `sqlite:///srv/shop.db` absolute.
pub fn parse_source_url(url: &str, base: &Path) -> Result<SourceUrl, UrlError> {
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

/// Checks that a target URL is one decant can write to.
pub fn check_target_url(url: &str) -> Result<(), UrlError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(())
    } else {
        Err(UrlError::UnsupportedTarget(redact_url(url)))
    }
}

/// The URL with any password replaced by `***`, in the userinfo and in a `password=` parameter.
pub fn redact_url(url: &str) -> String {
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

/// The same server URL naming another database (a `dbname=` parameter is dropped).
pub fn with_database(url: &str, name: &str) -> String {
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
        let err = parse_source_url("mysql://root:hunter2@db/shop", Path::new("."))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unsupported source URL scheme in `mysql://root:***@db/shop`; decant reads `sqlite://path/to/file.db`")
        );
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

//! Database URLs in plans: where a `sqlite://` source file lives relative to the plan, and
//! how a URL is shown to people — never with its password.

use std::borrow::Cow;
use std::ops::Range;
use std::path::{Path, PathBuf};

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
    let key = key.to_ascii_lowercase();
    ["pass", "pwd", "secret", "token"]
        .iter()
        .any(|word| key.contains(word))
        || key == "pw"
}

/// The connection parameters whose values are shown in messages: names, places, modes and
/// timeouts. Any other parameter's value is masked — a misspelt `passwd=` holds a password
/// as surely as `password=` does.
const HARMLESS_KEYS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "connect_timeout",
    "client_encoding",
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
    "ssl_mode",
    "ssl-mode",
    "sslnegotiation",
    "requiressl",
    "sslcompression",
    "sslcertmode",
    "sslsni",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "channel_binding",
    "require_auth",
    "krbsrvname",
    "gsslib",
    "gssdelegation",
    "target_session_attrs",
    "load_balance_hosts",
];

/// Whether a parameter's value may be shown (see [`HARMLESS_KEYS`]).
fn is_harmless_key(key: &str) -> bool {
    HARMLESS_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// The URL without its password, for writing into a plan: `postgres://app@db/x`, or a
/// `key=value` string without its `password=`. Other parameters are kept: the plan needs them.
pub fn without_password(url: &str) -> String {
    if let Some(pairs) = conninfo_pairs(url) {
        let mut out = String::new();
        for pair in pairs.iter().filter(|p| !is_password_key(p.key)) {
            out.push_str(url[pair.whole.clone()].trim_start());
            out.push(' ');
        }
        return out.trim_end().to_owned();
    }
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = base.to_owned();
    if let Some(password) = userinfo_password(base) {
        // The `:` before the password goes with it.
        out.replace_range(password.start - 1..password.end, "");
    }
    if let Some(query) = query {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|kv| !kv.split_once('=').is_some_and(|(k, _)| is_password_key(k)))
            .collect();
        if !kept.is_empty() {
            out.push('?');
            out.push_str(&kept.join("&"));
        }
    }
    out
}

/// The URL with every value that may be a secret replaced by `***`: the password of its
/// userinfo, and the value of every parameter (in its query, or in a libpq `key=value`
/// string) that is not known to be harmless. Malformed text (`postgres//u:pw@h`, an unclosed
/// quote) is masked as generously: this is what error messages about it print.
pub fn redact_url(url: &str) -> String {
    replace_ranges(url, &url_secret_ranges(url), |_| "***".to_owned())
}

/// Where in `url` (a connection URL or libpq string, well-formed or not) a secret may stand,
/// as sorted byte ranges that do not overlap.
fn url_secret_ranges(url: &str) -> Vec<Range<usize>> {
    let ranges = match conninfo_pairs(url) {
        Some(pairs) => pairs
            .iter()
            .filter(|p| !is_harmless_key(p.key))
            .map(|p| p.value.clone())
            .collect(),
        // Not a well-formed `key=value` string: read it as a URL (however malformed) and as a
        // broken `key=value` string, and mask what either reading finds.
        None => {
            let mut ranges = uri_secret_ranges(url, 0);
            ranges.extend(
                loose_pairs(url, Stop::Blank)
                    .into_iter()
                    .filter(|p| !is_harmless_key(&url[p.key.clone()]))
                    .map(|p| p.value),
            );
            ranges
        }
    };
    merge(ranges)
}

/// The password of a URL's userinfo, as a byte range of `text`: after the first `:` of what
/// stands between the first `//` (or the start, if a `:` was lost) and the last `@` before
/// the query. `postgres//user:pw@h` (a `:` missing) still has one.
fn userinfo_password(text: &str) -> Option<Range<usize>> {
    let query = text.find('?').unwrap_or(text.len());
    let at = text[..query].rfind('@')?;
    let start = text[..at].find("//").map_or(0, |i| i + 2);
    let colon = text[start..at].find(':')? + start + 1;
    (colon < at).then_some(colon..at)
}

/// The secrets of one URL-like token starting at byte `offset`: its userinfo password and
/// the values of its query parameters that are not known to be harmless.
fn uri_secret_ranges(token: &str, offset: usize) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    if let Some(r) = userinfo_password(token) {
        ranges.push(r.start + offset..r.end + offset);
    }
    if let Some(q) = token.find('?') {
        let mut at = q + 1;
        for kv in token[q + 1..].split('&') {
            if let Some((key, value)) = kv.split_once('=') {
                if !is_harmless_key(key) && !value.is_empty() {
                    let start = at + key.len() + 1;
                    ranges.push(start + offset..start + value.len() + offset);
                }
            }
            at += kv.len() + 1;
        }
    }
    ranges
}

/// Where an unquoted value ends in [`loose_pairs`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// At a blank, as libpq reads it.
    Blank,
    /// At a blank, or at a character that closes a quotation in prose: `` ` `` or `"`.
    Prose,
}

/// One `key=value` found by [`loose_pairs`]: the byte ranges of its key and value, and
/// whether only blanks stand between it and the pair before it.
struct LoosePair {
    key: Range<usize>,
    value: Range<usize>,
    follows_pair: bool,
}

/// Every `key = value` in `text`, read as leniently as possible: a value in `'…'` whose quote
/// is never closed runs to the end of the text, and `''…''` (a single-quoted YAML scalar's
/// escaped quote) is a quoted value too.
fn loose_pairs(text: &str, stop: Stop) -> Vec<LoosePair> {
    let bytes = text.as_bytes();
    let word = |i: usize| {
        bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
    };
    let blank = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_whitespace);
    let mut pairs = Vec::new();
    let mut previous_end: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        if !word(i) || (i > 0 && word(i - 1)) {
            i += 1;
            continue;
        }
        let key_start = i;
        while word(i) {
            i += 1;
        }
        let key_end = i;
        while blank(i) {
            i += 1;
        }
        // `==` and `=>` are operators, not a pair.
        if bytes.get(i) != Some(&b'=') || matches!(bytes.get(i + 1), Some(b'=' | b'>')) {
            i = key_end;
            continue;
        }
        i += 1;
        while blank(i) {
            i += 1;
        }
        let value_start = i;
        let rest = &bytes[i.min(bytes.len())..];
        let quote: &[u8] = if rest.starts_with(b"''") && !rest.starts_with(b"'''") {
            b"''"
        } else if rest.starts_with(b"'") {
            b"'"
        } else {
            b""
        };
        if quote.is_empty() {
            while i < bytes.len()
                && !blank(i)
                && !(stop == Stop::Prose && matches!(bytes[i], b'`' | b'"'))
            {
                i += 1;
            }
        } else {
            // A quote right after a `\` does not close the value, however many `\` stand
            // there: the string may be quoted again (a YAML line holds `\\'` for libpq's `\'`),
            // and a value read too long hides more, never less.
            i += quote.len();
            while i < bytes.len() {
                if bytes[i..].starts_with(quote) && bytes[i - 1] != b'\\' {
                    i += quote.len();
                    break;
                }
                i += 1;
            }
        }
        // A value ends at an ASCII byte or at the end: always a character boundary.
        let value_end = i;
        let follows_pair = previous_end
            .is_some_and(|end| bytes[end..key_start].iter().all(u8::is_ascii_whitespace));
        previous_end = Some(value_end);
        if value_end > value_start {
            pairs.push(LoosePair {
                key: key_start..key_end,
                value: value_start..value_end,
                follows_pair,
            });
        }
        i = value_end;
    }
    pairs
}

/// Ranges sorted by their start, overlapping ones joined.
fn merge(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.retain(|r| r.start < r.end);
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

/// `text` with each of `ranges` (sorted, disjoint, on character boundaries) replaced.
fn replace_ranges(text: &str, ranges: &[Range<usize>], with: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for r in ranges {
        out.push_str(&text[at..r.start]);
        out.push_str(&with(&text[r.clone()]));
        at = r.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Where secrets may stand in free text (a message, a line of a plan): the passwords and
/// unknown parameters of every URL-like word, the value of every `key=value` whose key looks
/// like a password's, and every value not known to be harmless in a run of `key=value` pairs
/// that names a libpq parameter (a connection string, malformed or not).
fn text_secret_ranges(text: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    // URL-like words: runs of characters that are not blanks or prose quotes.
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        let delimiter = c.is_whitespace() || matches!(c, '`' | '"' | '<' | '>');
        match (start, delimiter) {
            (None, false) => start = Some(i),
            (Some(s), true) => {
                let token = &text[s..i];
                if token.contains('@') || token.contains('?') {
                    ranges.extend(uri_secret_ranges(token, s));
                }
                start = None;
            }
            _ => {}
        }
    }
    let pairs = loose_pairs(text, Stop::Prose);
    // A run of pairs (only blanks between them) is a connection string when one of its keys
    // is a libpq parameter.
    let mut run_start = 0;
    while run_start < pairs.len() {
        let run_end = (run_start + 1..pairs.len())
            .find(|&j| !pairs[j].follows_pair)
            .unwrap_or(pairs.len());
        let run = &pairs[run_start..run_end];
        let conninfo = run.iter().any(|p| {
            let key = &text[p.key.clone()];
            KNOWN_CONNINFO_KEYS
                .iter()
                .any(|k| k.eq_ignore_ascii_case(key))
        });
        for p in run {
            let key = &text[p.key.clone()];
            if is_password_key(key) || (conninfo && !is_harmless_key(key)) {
                ranges.push(p.value.clone());
            }
        }
        run_start = run_end;
    }
    merge(ranges)
}

/// Free text (an error message, a chain of causes) with every secret [`text_secret_ranges`]
/// finds replaced by `***`: the last guard before anything is printed.
pub fn redact_text(text: &str) -> String {
    replace_ranges(text, &text_secret_ranges(text), |_| "***".to_owned())
}

/// A line of text with every character of a secret [`text_secret_ranges`] finds replaced by
/// `*`, so that it keeps its width: a code frame's caret still points at the right column.
pub fn mask_line(line: &str) -> Cow<'_, str> {
    let ranges = text_secret_ranges(line);
    if ranges.is_empty() {
        return Cow::Borrowed(line);
    }
    Cow::Owned(replace_ranges(line, &ranges, |secret| {
        "*".repeat(secret.chars().count())
    }))
}

/// `text` (e.g. libpq's error message) with every secret that `url` holds replaced by `***`:
/// libpq does not echo passwords, but a message about a malformed string may quote it, whole
/// or in part, and percent-decoded or unquoted.
pub fn mask_passwords(url: &str, text: &str) -> String {
    let mut secrets: Vec<String> = Vec::new();
    for r in url_secret_ranges(url) {
        let raw = &url[r];
        // Where a malformed userinfo's password starts and ends is a guess (`postgres:u:pw@h`,
        // `u:pw@/x@h`): any run between a `:`, `@` or `/` and another may be it. Guessed
        // pieces shorter than four characters are left alone, or every message would lose
        // letters.
        let separators: Vec<usize> = raw.match_indices([':', '@', '/']).map(|(i, _)| i).collect();
        let starts = std::iter::once(0).chain(separators.iter().map(|i| i + 1));
        for start in starts {
            let ends = separators.iter().copied().chain(std::iter::once(raw.len()));
            secrets.extend(
                ends.filter(|end| *end > start)
                    .map(|end| &raw[start..end])
                    .filter(|piece| piece.chars().count() >= 4)
                    .map(str::to_owned),
            );
        }
        secrets.push(raw.to_owned());
        secrets.push(percent_decode(raw));
        secrets.push(
            raw.trim_matches('\'')
                .replace("\\'", "'")
                .replace("\\\\", "\\"),
        );
    }
    // Longest first, so a secret that contains another is hidden whole.
    secrets.retain(|s| !s.is_empty());
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    let masked = if url.is_empty() {
        text.to_owned()
    } else {
        text.replace(url, &redact_url(url))
    };
    let masked = secrets
        .iter()
        .fold(masked, |t, s| t.replace(s.as_str(), "***"));
    redact_text(&masked)
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

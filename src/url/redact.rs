//! How a URL is shown to people: its password (and every parameter that may be a secret)
//! masked in URLs, connection strings and the messages that quote them.

use std::borrow::Cow;
use std::ops::Range;

use super::conninfo::{conninfo_pairs, KNOWN_CONNINFO_KEYS};

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

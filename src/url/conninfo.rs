//! libpq `key=value` connection strings: the parameters libpq knows, and the pairs of a string
//! with where each value stands, as libpq reads them.

/// The parameters a libpq `key=value` connection string may hold (PostgreSQL 17's list); libpq
/// refuses any other, so validate does too.
pub(super) const KNOWN_CONNINFO_KEYS: &[&str] = &[
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
pub(super) struct Pair<'a> {
    pub(super) key: &'a str,
    pub(super) value: std::ops::Range<usize>,
    pub(super) whole: std::ops::Range<usize>,
}

/// The pairs of a libpq `key=value` connection string, or `None` when `text` is not one.
///
/// As libpq reads it: blanks around `=` are allowed, a value is a run of non-blanks or a
/// single-quoted string in which `\'` and `\\` stand for `'` and `\`.
pub(super) fn conninfo_pairs(text: &str) -> Option<Vec<Pair<'_>>> {
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

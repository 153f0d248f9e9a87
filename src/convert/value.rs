//! A source value on its way to a column, as the conversions see it, and how a reason to
//! refuse it names the value: the storage class, or what a built-in transform made of it.

use std::borrow::Cow;

use super::real::sqlite_real_text;

/// Why a value cannot become its column's type.
pub(crate) type Reason = String;

/// A text value inside a reason: quoted, and cut when long.
pub(crate) fn shown(text: &str) -> String {
    const MAX: usize = 60;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("`{}…`", &text[..cut]),
        None => format!("`{text}`"),
    }
}

/// A value after the column's transform: a source storage class, or what a built-in made.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(Cow<'a, str>),
    InvalidText(&'a [u8]),
    Blob(Cow<'a, [u8]>),
    Bool(bool),
    /// An instant, in microseconds since the Unix epoch (UTC).
    Instant(i64),
    /// A duration in microseconds.
    Micros(i64),
}

impl<'a> Val<'a> {
    /// How a reason names the value's kind.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Val::Null => "NULL",
            Val::Int(_) => "an integer",
            Val::Real(_) => "a real",
            Val::Text(_) | Val::InvalidText(_) => "text",
            Val::Blob(_) => "a blob",
            Val::Bool(_) => "a boolean",
            Val::Instant(_) => "a timestamp",
            Val::Micros(_) => "an interval",
        }
    }
}

pub(crate) fn invalid_utf8(bytes: &[u8]) -> Reason {
    match std::str::from_utf8(bytes) {
        Err(e) => format!(
            "text is not valid UTF-8 (byte 0x{:02x} at offset {})",
            bytes.get(e.valid_up_to()).copied().unwrap_or(0),
            e.valid_up_to()
        ),
        Ok(_) => "text is not valid UTF-8".to_owned(),
    }
}

pub(crate) const NUL_REASON: &str =
    "text contains a NUL character, which PostgreSQL text cannot hold";

/// Text for a text column: checked UTF-8 without NUL; numbers in SQLite's text form.
pub(crate) fn text<'a>(val: &'a Val<'_>) -> Result<Cow<'a, str>, Reason> {
    let t: Cow<'a, str> = match val {
        Val::Text(t) => Cow::Borrowed(t.as_ref()),
        Val::InvalidText(b) => return Err(invalid_utf8(b)),
        Val::Int(i) => Cow::Owned(i.to_string()),
        Val::Real(f) => Cow::Owned(sqlite_real_text(*f)),
        Val::Blob(b) => match std::str::from_utf8(b) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                return Err(format!(
                    "a blob of {} bytes is not valid UTF-8 text",
                    b.len()
                ))
            }
        },
        Val::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Val::Instant(micros) => Cow::Owned(super::datetime::format_epoch_micros(*micros)?),
        Val::Micros(micros) => Cow::Owned(super::datetime::microseconds_interval(*micros)),
        Val::Null => Cow::Borrowed(""),
    };
    if t.as_bytes().contains(&0) {
        return Err(NUL_REASON.to_owned());
    }
    Ok(t)
}

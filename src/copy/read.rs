//! The safe ways to show a source value in a reject or an error, and the text SQLite gives a
//! REAL; the values themselves are `crate::engines::SqlValue`.

use std::fmt::Write as _;

pub use crate::engines::{SourceRow, SqlValue};

/// Longest shown text, in characters, and blob, in bytes.
const SHOWN_CHARS: usize = 200;
const SHOWN_BYTES: usize = 64;

/// A value as a reject or an error shows it: text with control characters escaped and
/// invalid bytes as `\xNN`, blobs as `x'…'` hex, both truncated.
pub fn show_value(value: &SqlValue) -> String {
    match value {
        SqlValue::Null => "NULL".to_owned(),
        SqlValue::Integer(i) => i.to_string(),
        SqlValue::Real(f) => sqlite_real_text(*f),
        SqlValue::Text(text) => show_text(text.as_bytes()),
        SqlValue::InvalidText(bytes) => show_text(bytes),
        SqlValue::Blob(bytes) => {
            let mut s = String::from("x'");
            for b in bytes.iter().take(SHOWN_BYTES) {
                let _ = write!(s, "{b:02x}");
            }
            s.push('\'');
            if bytes.len() > SHOWN_BYTES {
                let _ = write!(s, "… ({} bytes)", bytes.len());
            }
            s
        }
    }
}

fn show_text(bytes: &[u8]) -> String {
    let mut s = String::new();
    let mut shown = 0;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if shown == SHOWN_CHARS {
                s.push('…');
                return s;
            }
            shown += 1;
            match c {
                '\0' => s.push_str("\\0"),
                '\n' => s.push_str("\\n"),
                '\r' => s.push_str("\\r"),
                '\t' => s.push_str("\\t"),
                '\\' => s.push_str("\\\\"),
                c if c.is_control() => {
                    let _ = write!(s, "\\u{{{:x}}}", c as u32);
                }
                c => s.push(c),
            }
        }
        for b in chunk.invalid() {
            if shown == SHOWN_CHARS {
                s.push('…');
                return s;
            }
            shown += 1;
            let _ = write!(s, "\\x{b:02x}");
        }
    }
    s
}

/// A value as JSON for a reject's primary key: numbers stay numbers, text is shown safely.
pub fn value_json(value: &SqlValue) -> serde_json::Value {
    match value {
        SqlValue::Null => serde_json::Value::Null,
        SqlValue::Integer(i) => serde_json::Value::from(*i),
        SqlValue::Real(f) => serde_json::Number::from_f64(*f).map_or_else(
            || serde_json::Value::from(sqlite_real_text(*f)),
            serde_json::Value::Number,
        ),
        SqlValue::Text(text)
            if text.len() <= SHOWN_CHARS && !text.chars().any(char::is_control) =>
        {
            serde_json::Value::from(text.as_str())
        }
        other => serde_json::Value::from(show_value(other)),
    }
}

pub use crate::convert::sqlite_real_text;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_shown_safely() {
        assert_eq!(
            show_value(&SqlValue::Text("a\0b\nc".to_owned())),
            "a\\0b\\nc"
        );
        assert_eq!(
            show_value(&SqlValue::InvalidText(vec![b'a', 0xff, b'b'])),
            "a\\xffb"
        );
        assert_eq!(show_value(&SqlValue::Blob(vec![0, 1, 0xab])), "x'0001ab'");
        let long = "é".repeat(500);
        let shown = show_value(&SqlValue::Text(long));
        assert_eq!(shown.chars().count(), SHOWN_CHARS + 1);
        assert!(shown.ends_with('…'));
        assert!(show_value(&SqlValue::Blob(vec![7; 100])).ends_with("… (100 bytes)"));
    }

    #[derive(diesel::QueryableByName)]
    struct Cast {
        #[diesel(sql_type = diesel::sql_types::Text)]
        text: String,
    }

    #[test]
    fn reals_render_exactly_as_the_bundled_sqlite_does() {
        const COUNT: usize = 3000;
        use diesel::RunQueryDsl;
        let mut conn = crate::engines::sqlite::open_in_memory().expect("an in-memory database");
        let mut values = vec![
            0.1 + 0.2,
            1.0 / 3.0,
            2.675,
            1e16,
            1.5e17,
            123456789012345680.0,
            5e-324,
            f64::MAX,
            -1e-5,
            49.47,
            0.3,
            100.0,
            1e15 + 0.3,
        ];
        // A reproducible spread of doubles across magnitudes.
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..COUNT {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mantissa = (x >> 11) as f64 / (1u64 << 53) as f64;
            let exponent = ((x % 61) as i32) - 30;
            values.push(mantissa * 10f64.powi(exponent));
            // Any finite bit pattern, subnormals included.
            let any = f64::from_bits(x.rotate_left(17));
            if any.is_finite() {
                values.push(any);
            }
        }
        for v in values {
            let cast = diesel::sql_query("SELECT CAST(? AS TEXT) AS text")
                .bind::<diesel::sql_types::Double, _>(v)
                .get_result::<Cast>(&mut conn)
                .expect("a cast");
            assert_eq!(sqlite_real_text(v), cast.text, "{v:e}");
        }
    }
}

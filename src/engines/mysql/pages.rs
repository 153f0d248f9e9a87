//! How a big MySQL table is read: key-ordered pages, each starting after the previous page's
//! last key and sized by how wide the rows are, so the client library never holds a whole table.

use minijinja::context;

use crate::dialect::Templates;
use crate::engines::{PageKey, SourceConnection, SqlValue};

/// Rows per query when a MySQL table is read in key order: MySQL's client library holds a
/// whole result in memory, so a big table is read as a series of key-ordered pages.
pub const MYSQL_PAGE_ROWS: usize = 20_000;

/// The bytes of text and blobs a page should hold at most: a table of wide rows (documents,
/// images) is read in smaller pages, so memory stays flat whatever the rows hold.
const MYSQL_PAGE_BYTES: usize = 32 << 20;

/// Reads `select_sql` in key-ordered pages (only keys within `within`, when given) and hands
/// each page to `send`, until the last page or until `send` says stop.
pub(crate) fn read_pages(
    conn: &mut SourceConnection,
    select_sql: &str,
    keys: &[PageKey],
    within: Option<(i64, i64)>,
    mut send: impl FnMut(diesel::QueryResult<Vec<Vec<SqlValue>>>) -> bool,
) {
    let templates = Templates::new(None);
    let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
    let mut after: Option<Vec<serde_json::Value>> = None;
    // The first page is small: how wide the rows are is not known before it.
    let mut limit = 16;
    loop {
        // Tests make a reader thread panic here, as a bug in a driver would.
        crate::signals::test_point("reading", "page");
        let page = templates
            .render(
                &crate::dialect::source_template("mysql", "select_page"),
                context! { select => select_sql, keys => names, after, limit, within },
            )
            .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))
            .and_then(|sql| conn.load_rows(&sql));
        let (full, last) = match &page {
            Ok(rows) => (
                rows.len() == limit,
                rows.last().map(|row| {
                    keys.iter()
                        .map(|k| {
                            row.get(k.position)
                                .map_or(serde_json::Value::Null, |v| literal_json(v, k.numeric))
                        })
                        .collect()
                }),
            ),
            Err(_) => (false, None),
        };
        let bytes = page.as_ref().map_or(0, |rows| page_bytes(rows));
        // A closed channel: the caller stopped reading.
        if !send(page) || !full {
            return;
        }
        after = last;
        limit = next_page_rows(limit, bytes);
    }
}

/// A key value as the page template writes it as a literal: numbers as numbers, text as
/// text, bytes as `{"hex": …}`, and the digits of a numeric column as `{"number": …}`.
fn literal_json(value: &SqlValue, numeric: bool) -> serde_json::Value {
    match value {
        SqlValue::Text(t) if numeric && crate::dialect::is_plain_number(t) => {
            serde_json::json!({ "number": t })
        }
        SqlValue::Null => serde_json::Value::Null,
        SqlValue::Integer(i) => serde_json::Value::from(*i),
        SqlValue::Real(f) => serde_json::Value::from(*f),
        SqlValue::Text(t) => serde_json::Value::from(t.as_str()),
        SqlValue::InvalidText(b) | SqlValue::Blob(b) => {
            let hex: String = b.iter().map(|b| format!("{b:02x}")).collect();
            serde_json::json!({ "hex": hex })
        }
    }
}

/// How many rows the next page asks for, after a page of `rows` rows held `bytes`: about
/// [`MYSQL_PAGE_BYTES`] of wide rows, at most [`MYSQL_PAGE_ROWS`] narrow ones.
fn next_page_rows(rows: usize, bytes: usize) -> usize {
    (rows * MYSQL_PAGE_BYTES / bytes.max(1)).clamp(16, MYSQL_PAGE_ROWS)
}

/// The bytes a page of rows holds in text and blobs (numbers are small and fixed).
fn page_bytes(rows: &[Vec<SqlValue>]) -> usize {
    rows.iter()
        .flatten()
        .map(|v| match v {
            SqlValue::Text(t) => t.len(),
            SqlValue::InvalidText(b) | SqlValue::Blob(b) => b.len(),
            _ => 8,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_hold_about_32_mib_of_wide_rows_and_20_000_narrow_ones() {
        // The first page: 16 rows of 1 MiB, then 32 a page; of 100 bytes, then the most.
        assert_eq!(next_page_rows(16, 16 << 20), 32);
        assert_eq!(next_page_rows(16, 1_600), MYSQL_PAGE_ROWS);
        // Rows of 64 MiB: never fewer than 16.
        assert_eq!(next_page_rows(32, 32 * (64 << 20)), 16);
        let rows = vec![vec![SqlValue::Integer(1), SqlValue::Text("x".repeat(1000))]; 10];
        assert_eq!(page_bytes(&rows), 10 * (8 + 1000));
    }
}

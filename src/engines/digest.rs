//! Digests of source rows as they lie — each value's storage class and bytes, before any
//! conversion — summed per key window: what a sync compares with the sums it kept, to find
//! the windows the source changed in without reading the target or converting a row.

use xxhash_rust::xxh3::xxh3_64;

use super::{SourceConnection, SqlValue};

/// Most windows a table is cut into: beyond it (keys spread very thin) the windows are not
/// kept, and a sync compares the whole table.
pub const MAX_WINDOWS: usize = 1 << 24;

/// Per key window, the wrapping sum of its rows' digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSums {
    /// The first key of window 0.
    pub key_min: i64,
    /// Keys per window.
    pub width: i64,
    /// 0 for an empty window.
    pub sums: Vec<u64>,
}

impl WindowSums {
    /// The window of `key`, or `None` below `key_min` or past [`MAX_WINDOWS`].
    pub fn index_of(&self, key: i64) -> Option<usize> {
        // Every source row passes here: i64 arithmetic when it cannot overflow (i128
        // division is a library call).
        if let Some(offset) = key.checked_sub(self.key_min) {
            return usize::try_from(offset / self.width)
                .ok()
                .filter(|i| offset >= 0 && *i < MAX_WINDOWS);
        }
        let offset = i128::from(key) - i128::from(self.key_min);
        let index = offset.checked_div(i128::from(self.width))?;
        (offset >= 0)
            .then(|| usize::try_from(index).ok())
            .flatten()
            .filter(|i| *i < MAX_WINDOWS)
    }

    /// The first and last key of window `index`.
    pub fn bounds(&self, index: usize) -> (i64, i64) {
        let start = i128::from(self.key_min) + index as i128 * i128::from(self.width);
        let clamp = |v: i128| v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        (clamp(start), clamp(start + i128::from(self.width) - 1))
    }

    /// The key ranges covering `windows` (in order), adjacent ones joined.
    pub fn ranges(&self, windows: impl IntoIterator<Item = usize>) -> Vec<(i64, i64)> {
        let mut ranges: Vec<(i64, i64)> = Vec::new();
        for w in windows {
            let (start, end) = self.bounds(w);
            match ranges.last_mut() {
                Some(last) if last.1.checked_add(1) == Some(start) => last.1 = end,
                _ => ranges.push((start, end)),
            }
        }
        ranges
    }

    /// Adds a row's digest to the window of its `key`; false for a key that is no integer or
    /// lies outside the windows.
    pub fn add(&mut self, key: &SqlValue, digest: u64) -> bool {
        let SqlValue::Integer(k) = key else {
            return false;
        };
        let Some(index) = self.index_of(*k) else {
            return false;
        };
        if index >= self.sums.len() {
            self.sums.resize(index + 1, 0);
        }
        self.sums[index] = self.sums[index].wrapping_add(digest);
        true
    }

    /// Adds the sums of `part` (the same windows, from rows of the same table not counted
    /// here yet).
    pub fn absorb(&mut self, part: &WindowSums) {
        if part.sums.len() > self.sums.len() {
            self.sums.resize(part.sums.len(), 0);
        }
        for (sum, add) in self.sums.iter_mut().zip(&part.sums) {
            *sum = sum.wrapping_add(*add);
        }
    }

    /// The windows whose sums differ from `kept`'s (a window past the end of either is 0).
    pub fn differing(&self, kept: &[u64]) -> Vec<usize> {
        let n = self.sums.len().max(kept.len());
        (0..n)
            .filter(|&i| {
                self.sums.get(i).copied().unwrap_or(0) != kept.get(i).copied().unwrap_or(0)
            })
            .collect()
    }
}

/// A value as SQLite stores it: what a row's digest is made of, whoever read the row.
pub(crate) enum Stored<'a> {
    Null,
    Integer(i64),
    Real(f64),
    /// TEXT's bytes, valid UTF-8 or not.
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

impl Stored<'_> {
    /// Appends the value's storage class, then its bytes: an integer's and a real's eight, a
    /// text's and a blob's with their length first.
    pub(crate) fn append(self, row: &mut Vec<u8>) {
        let with_length = |row: &mut Vec<u8>, bytes: &[u8]| {
            row.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            row.extend_from_slice(bytes);
        };
        match self {
            Stored::Null => row.push(0),
            Stored::Integer(i) => {
                row.push(1);
                row.extend_from_slice(&i.to_le_bytes());
            }
            Stored::Real(f) => {
                row.push(2);
                row.extend_from_slice(&f.to_bits().to_le_bytes());
            }
            Stored::Text(bytes) => {
                row.push(3);
                with_length(row, bytes);
            }
            Stored::Blob(bytes) => {
                row.push(4);
                with_length(row, bytes);
            }
        }
    }
}

/// Appends one value of a row already read: the same bytes as SQLite's rows digested as
/// they lie (`sqlite/digest.rs`).
fn append_read_value(row: &mut Vec<u8>, value: &SqlValue) {
    match value {
        SqlValue::Null => Stored::Null,
        SqlValue::Integer(i) => Stored::Integer(*i),
        SqlValue::Real(f) => Stored::Real(*f),
        SqlValue::Text(text) => Stored::Text(text.as_bytes()),
        SqlValue::InvalidText(bytes) => Stored::Text(bytes),
        SqlValue::Blob(bytes) => Stored::Blob(bytes),
    }
    .append(row)
}

/// Window sums made of rows as another reader streams them past (a run's load reads every
/// row anyway): the sums [`SourceConnection::window_sums`] makes of the same rows, so the
/// first sync after a run compares only the windows that changed since.
pub struct StreamedDigest {
    /// Where the key is among a row's values.
    key_position: usize,
    sums: WindowSums,
    row: Vec<u8>,
    pub(crate) outside: bool,
}

impl StreamedDigest {
    pub fn new(key_position: usize, key_min: i64, width: i64) -> StreamedDigest {
        StreamedDigest {
            key_position,
            sums: WindowSums {
                key_min,
                width: width.max(1),
                sums: Vec::new(),
            },
            row: Vec::new(),
            outside: false,
        }
    }

    /// One row: every value of the SELECT the sync digests (see [`KeyedDigest`]).
    pub fn add(&mut self, values: &[SqlValue]) {
        self.row.clear();
        for value in values {
            append_read_value(&mut self.row, value);
        }
        let key = values.get(self.key_position).unwrap_or(&SqlValue::Null);
        self.outside |= !self.sums.add(key, xxh3_64(&self.row));
    }

    /// The sums, or `None` when a key fell outside the windows (the sync then starts anew).
    pub fn finish(self) -> Option<WindowSums> {
        (!self.outside).then_some(self.sums)
    }
}

/// Why window sums could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error(transparent)]
    Read(#[from] diesel::result::Error),
    /// A key that is not an integer, lies below the windows' first key or past the last
    /// window: the caller compares the whole table instead.
    #[error("key {0} is outside the windows")]
    OutOfWindows(String),
}

impl SourceConnection {
    /// The window sums of `part`'s rows, in windows of `part.width` keys from
    /// `part.key_min`: SQLite's rows digested as they lie, MySQL's as they are read in key
    /// order (the values a run's load reads, see [`StreamedDigest`]). `Ok(None)` for a
    /// MySQL part without the key to page it by.
    pub fn window_sums(&mut self, part: &DigestPart) -> Result<Option<WindowSums>, DigestError> {
        match self {
            SourceConnection::Sqlite(c) => super::sqlite::digest::window_sums(c, part),
            // A server's rows, read in pages by key as its load reads them (PostgreSQL's
            // reads share MySQL's paged reader).
            SourceConnection::Mysql(_) | SourceConnection::Postgres(_) => {
                super::mysql::digest::window_sums(self, part)
            }
        }
    }
}

/// What a sync asks of a source about digests, so it never names an engine.
impl SourceConnection {
    /// Whether a digest reads the load's own rows in pages by key, as a run's load reads them
    /// (a server's: a range of the primary key reads as cheaply as the whole table, and its
    /// first and last value are in the index), rather than `SELECT key, *` as the rows lie
    /// (SQLite).
    pub fn digests_in_pages(&self) -> bool {
        matches!(
            self,
            SourceConnection::Mysql(_) | SourceConnection::Postgres(_)
        )
    }

    /// Whether a second reader on this connection's snapshot starts together with it
    /// ([`SourceConnection::begin_snapshot_with`]: MySQL's under a global read lock held for
    /// that moment, PostgreSQL's adopting the exported snapshot), rather than checked after
    /// the fact ([`SourceConnection::begin_twin`], SQLite's).
    pub fn twin_begins_with_the_snapshot(&self) -> bool {
        matches!(
            self,
            SourceConnection::Mysql(_) | SourceConnection::Postgres(_)
        )
    }
}

/// A part of one table's digest: the rows `select` returns, summed into windows of `width`
/// keys from `key_min`. SQLite: the rows' integer key first, then the columns digested.
/// MySQL: the load's SELECT itself, read in pages by `pages` (the key columns and where they
/// are among a row's values; the windows are the first one's, an integer).
#[derive(Debug, Clone)]
pub struct DigestPart {
    pub select: String,
    pub key_min: i64,
    pub width: i64,
    pub pages: Vec<super::PageKey>,
}

/// What digesting one part gave: see [`SourceConnection::window_sums`].
pub type PartSums = Result<Option<WindowSums>, DigestError>;

/// Digests `parts` (each with its estimated rows) on `first` and `second` at once, the
/// biggest first ([`super::share_out`]: they must read one snapshot); each part's sums at its
/// index.
pub fn digest_parts(
    first: &mut SourceConnection,
    second: Option<&mut SourceConnection>,
    parts: &[(DigestPart, u64)],
) -> Vec<PartSums> {
    let conns = std::iter::once(first).chain(second).collect();
    super::share_out(
        conns,
        parts,
        |(_, rows)| *rows,
        |conn, (part, _)| conn.window_sums(part),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;
    use diesel::Connection;

    #[test]
    fn rows_streamed_past_sum_as_the_sqlite_read_of_them_does() {
        let mut conn = diesel::SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a, b, c);
             INSERT INTO t VALUES (1, NULL, 2, 2.5), (2, 'text', x'00ff', -0.0),
               (3, CAST(x'61ff62' AS TEXT), 'with \u{FFFD} in it', ''),
               (7, 9223372036854775807, x'', 'é'), (40, 1e300, 'x', NULL);",
        )
        .unwrap();
        let mut source = SourceConnection::Sqlite(conn);
        let select = "SELECT id, a, b, c FROM t";
        let read = source
            .window_sums(&DigestPart {
                select: format!("SELECT id, * FROM ({select})"),
                key_min: 1,
                width: 4,
                pages: Vec::new(),
            })
            .unwrap()
            .unwrap();
        let mut streamed = StreamedDigest::new(0, 1, 4);
        for row in source.load_rows(select).unwrap() {
            streamed.add(&row);
        }
        let streamed = streamed.finish().unwrap();
        assert_eq!(streamed, read);
        assert_eq!(read.sums.len(), 10);
        assert!(read.sums[0] != 0 && read.sums[1] != 0 && read.sums[9] != 0);
        // A key below the windows: no sums.
        let mut below = StreamedDigest::new(0, 2, 4);
        below.add(&[SqlValue::Integer(1)]);
        assert!(below.finish().is_none());
    }

    #[test]
    fn windows_index_keys_and_name_the_ones_that_differ() {
        let w = WindowSums {
            key_min: 10,
            width: 4,
            sums: vec![1, 0, 5],
        };
        assert_eq!(w.index_of(10), Some(0));
        assert_eq!(w.index_of(13), Some(0));
        assert_eq!(w.index_of(14), Some(1));
        assert_eq!(w.index_of(9), None);
        assert_eq!(w.index_of(i64::MAX), None);
        assert_eq!(w.bounds(2), (18, 21));
        assert_eq!(w.differing(&[1, 0, 5]), Vec::<usize>::new());
        assert_eq!(w.differing(&[1, 0, 6, 0, 3]), vec![2, 4]);
        assert_eq!(w.differing(&[1]), vec![2]);
        assert_eq!(w.ranges([0, 1, 3]), vec![(10, 17), (22, 25)]);
        let mut whole = w.clone();
        whole.absorb(&WindowSums {
            key_min: 10,
            width: 4,
            sums: vec![u64::MAX, 2, 0, 7],
        });
        assert_eq!(whole.sums, vec![0, 2, 5, 7]);
    }
}

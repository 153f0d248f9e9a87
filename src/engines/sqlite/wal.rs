//! SQLite's write-ahead log read as the file format documents it: the header's page size and
//! salts, and the frames that count (salts matching, checksum chain intact, up to the last commit).
//!
//! Nothing here trusts the file: a short read, a bad magic number or a broken chain ends the
//! valid frames where SQLite's own recovery would end them, never in a panic.

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// The magic numbers of a WAL header: the low bit says the checksums' byte order.
const MAGIC_LITTLE: u32 = 0x377f_0682;
const MAGIC_BIG: u32 = 0x377f_0683;
const HEADER_BYTES: usize = 32;
const FRAME_HEADER_BYTES: usize = 24;

/// One valid frame: the page it holds, where its page bytes start in the WAL file, and for a
/// commit frame the database's size in pages after that commit (0 otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) page: u32,
    pub(crate) offset: u64,
    pub(crate) commit_size: u32,
}

/// A WAL as of one reading: its generation (the salts, new at every restart) and its
/// committed frames in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wal {
    pub(crate) page_size: u32,
    pub(crate) salts: [u32; 2],
    pub(crate) frames: Vec<Frame>,
}

/// The WAL file beside the database at `db`: its name with `-wal` appended.
pub(crate) fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Reads the WAL at `path`: `None` when there is none, or no valid header yet (an empty WAL,
/// which has no frames either).
pub(crate) fn read_wal(path: &Path) -> std::io::Result<Option<Wal>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    parse_wal(BufReader::with_capacity(1 << 20, file))
}

/// [`read_wal`] over any reader of the WAL's bytes.
pub(crate) fn parse_wal(mut bytes: impl Read) -> std::io::Result<Option<Wal>> {
    let mut header = [0u8; HEADER_BYTES];
    if !read_full(&mut bytes, &mut header)? {
        return Ok(None);
    }
    let word = |b: &[u8], at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let big_endian = match word(&header, 0) {
        MAGIC_BIG => true,
        MAGIC_LITTLE => false,
        _ => return Ok(None),
    };
    let page_size = word(&header, 8);
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Ok(None);
    }
    let mut sum = checksum([0, 0], &header[..24], big_endian);
    if sum != [word(&header, 24), word(&header, 28)] {
        return Ok(None);
    }
    let salts = [word(&header, 16), word(&header, 20)];
    let mut frames = Vec::new();
    let mut committed = 0;
    let mut frame = vec![0u8; FRAME_HEADER_BYTES + page_size as usize];
    let mut offset = HEADER_BYTES as u64;
    while read_full(&mut bytes, &mut frame)? {
        let page = word(&frame, 0);
        let commit_size = word(&frame, 4);
        if page == 0 || [word(&frame, 8), word(&frame, 12)] != salts {
            break;
        }
        sum = checksum(sum, &frame[..8], big_endian);
        sum = checksum(sum, &frame[FRAME_HEADER_BYTES..], big_endian);
        if sum != [word(&frame, 16), word(&frame, 20)] {
            break;
        }
        frames.push(Frame {
            page,
            offset: offset + FRAME_HEADER_BYTES as u64,
            commit_size,
        });
        if commit_size != 0 {
            committed = frames.len();
        }
        offset += frame.len() as u64;
    }
    // Frames after the last commit belong to a transaction that never committed.
    frames.truncate(committed);
    Ok(Some(Wal {
        page_size,
        salts,
        frames,
    }))
}

/// Fills `buf` from `bytes`; false when the input ends first.
fn read_full(bytes: &mut impl Read, buf: &mut [u8]) -> std::io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        match bytes.read(&mut buf[filled..]) {
            Ok(0) => return Ok(false),
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// The WAL's cumulative checksum over `data` (a multiple of 8 bytes), from `sum`.
fn checksum(mut sum: [u32; 2], data: &[u8], big_endian: bool) -> [u32; 2] {
    for pair in data.chunks_exact(8) {
        let read = |b: &[u8]| {
            let b = [b[0], b[1], b[2], b[3]];
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        sum[0] = sum[0].wrapping_add(read(&pair[..4])).wrapping_add(sum[1]);
        sum[1] = sum[1].wrapping_add(read(&pair[4..])).wrapping_add(sum[0]);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, SqliteConnection};

    /// A WAL-mode database in `dir` with automatic checkpoints off, and its connection.
    fn wal_database(dir: &Path) -> (PathBuf, SqliteConnection) {
        let path = dir.join("w.sqlite3");
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        conn.batch_execute(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);",
        )
        .unwrap();
        (path, conn)
    }

    #[test]
    fn a_wal_written_by_sqlite_reads_as_its_committed_frames() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut conn) = wal_database(dir.path());
        let before = read_wal(&wal_path(&path)).unwrap().unwrap();
        assert_eq!(before.page_size, 4096);
        assert!(before.frames.last().unwrap().commit_size > 0);
        conn.batch_execute("INSERT INTO t VALUES (1, 'a'); INSERT INTO t VALUES (2, 'b');")
            .unwrap();
        let after = read_wal(&wal_path(&path)).unwrap().unwrap();
        assert_eq!(after.salts, before.salts);
        assert_eq!(after.frames[..before.frames.len()], before.frames[..]);
        assert_eq!(after.frames.len(), before.frames.len() + 2);
        // A restart (every frame checkpointed, then a write) starts a new generation.
        conn.batch_execute("PRAGMA wal_checkpoint(RESTART); INSERT INTO t VALUES (3, 'c');")
            .unwrap();
        let restarted = read_wal(&wal_path(&path)).unwrap().unwrap();
        assert_ne!(restarted.salts, before.salts);
        assert_eq!(restarted.frames.len(), 1);
    }

    #[test]
    fn a_damaged_or_uncommitted_tail_ends_the_valid_frames_and_garbage_is_no_wal() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut conn) = wal_database(dir.path());
        conn.batch_execute("INSERT INTO t VALUES (1, 'a'); INSERT INTO t VALUES (2, 'b');")
            .unwrap();
        let bytes = std::fs::read(wal_path(&path)).unwrap();
        let whole = parse_wal(&bytes[..]).unwrap().unwrap();
        let frame = FRAME_HEADER_BYTES + whole.page_size as usize;
        let n = whole.frames.len();
        // A flipped byte in the last frame's page: its checksum fails, it is gone.
        let mut flipped = bytes.clone();
        let last = HEADER_BYTES + (n - 1) * frame + FRAME_HEADER_BYTES + 100;
        flipped[last] ^= 1;
        assert_eq!(
            parse_wal(&flipped[..]).unwrap().unwrap().frames.len(),
            n - 1
        );
        // The last frame made a non-commit frame: with no commit after it, it does not count.
        let mut uncommitted = bytes.clone();
        let size_at = HEADER_BYTES + (n - 1) * frame + 4;
        uncommitted[size_at..size_at + 4].copy_from_slice(&[0; 4]);
        assert_eq!(
            parse_wal(&uncommitted[..]).unwrap().unwrap().frames.len(),
            n - 1
        );
        // Cut short in the middle of a frame, or no WAL at all.
        assert_eq!(
            parse_wal(&bytes[..bytes.len() - 10])
                .unwrap()
                .unwrap()
                .frames
                .len(),
            n - 1
        );
        assert_eq!(
            parse_wal(&b"not a wal at all, just some bytes"[..]).unwrap(),
            None
        );
        assert_eq!(parse_wal(&[][..]).unwrap(), None);
        assert_eq!(read_wal(&dir.path().join("none-wal")).unwrap(), None);
    }
}

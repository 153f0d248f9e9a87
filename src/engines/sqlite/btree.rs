//! SQLite's pages read from the file and its WAL as of two moments, and its b-trees walked
//! across both: which tree each page changed between them belongs to, and the rowids on them.
//!
//! Every page is parsed defensively: an offset or a count that points outside the page ends
//! that page's cells (the caller then falls back), never a panic.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::os::unix::fs::FileExt;

use super::wal::Frame;

const TABLE_INTERIOR: u8 = 0x05;
const TABLE_LEAF: u8 = 0x0D;
const INDEX_INTERIOR: u8 = 0x02;
const INDEX_LEAF: u8 = 0x0A;

/// Where one version of a page lies: the database file, or a WAL frame's page bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    File,
    Wal(u64),
}

/// The pages of a database as of a mark (the WAL's first `mark` frames) and as of now (every
/// committed frame): each page's version at the mark, and the versions written since.
pub(crate) struct Pages {
    db: File,
    wal: Option<File>,
    page_size: usize,
    at_mark: HashMap<u32, u64>,
    since: HashMap<u32, Vec<u64>>,
    /// Pages in the database now (the last commit's size), when a frame says so.
    pub(crate) page_count: Option<u32>,
}

impl Pages {
    /// The pages of `db` with `frames` of `wal` (its committed frames in order), the first
    /// `mark` of them making the version at the mark.
    pub(crate) fn new(
        db: File,
        wal: Option<File>,
        page_size: u32,
        frames: &[Frame],
        mark: usize,
    ) -> Pages {
        let mut at_mark = HashMap::new();
        let mut since: HashMap<u32, Vec<u64>> = HashMap::new();
        for (i, f) in frames.iter().enumerate() {
            if i < mark {
                at_mark.insert(f.page, f.offset);
            } else {
                since.entry(f.page).or_default().push(f.offset);
            }
        }
        Pages {
            db,
            wal,
            page_size: page_size as usize,
            at_mark,
            since,
            page_count: frames.last().map(|f| f.commit_size),
        }
    }

    /// The pages written since the mark.
    pub(crate) fn changed(&self) -> impl Iterator<Item = u32> + '_ {
        self.since.keys().copied()
    }

    pub(crate) fn is_changed(&self, page: u32) -> bool {
        self.since.contains_key(&page)
    }

    /// Where the page's version at the mark lies.
    fn at_mark_place(&self, page: u32) -> Place {
        self.at_mark
            .get(&page)
            .map_or(Place::File, |o| Place::Wal(*o))
    }

    /// The version of `page` now.
    fn now_place(&self, page: u32) -> Place {
        match self.since.get(&page).and_then(|v| v.last()) {
            Some(o) => Place::Wal(*o),
            None => self.at_mark_place(page),
        }
    }

    /// The bytes of `page` at `place`; `None` past the file's end (the page did not exist).
    fn read(&self, page: u32, place: Place) -> std::io::Result<Option<Vec<u8>>> {
        let mut buf = vec![0u8; self.page_size];
        let (file, offset) = match place {
            Place::File => (
                &self.db,
                u64::from(page.saturating_sub(1)) * self.page_size as u64,
            ),
            Place::Wal(o) => match &self.wal {
                Some(w) => (w, o),
                None => return Ok(None),
            },
        };
        let mut filled = 0;
        while filled < buf.len() {
            match file.read_at(&mut buf[filled..], offset + filled as u64)? {
                0 => return Ok(None),
                n => filled += n,
            }
        }
        Ok(Some(buf))
    }

    /// The version of `page` now, read.
    pub(crate) fn read_now(&self, page: u32) -> std::io::Result<Option<Vec<u8>>> {
        self.read(page, self.now_place(page))
    }
}

/// A b-tree page's kind and what it points to: an interior page's children, a table leaf's
/// rowids. `None` for bytes that are no b-tree page.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) kind: u8,
    pub(crate) children: Vec<u32>,
    pub(crate) rowids: Vec<i64>,
}

impl Node {
    fn is_leaf(&self) -> bool {
        matches!(self.kind, TABLE_LEAF | INDEX_LEAF)
    }
}

/// Reads `bytes` as b-tree page number `page` (page 1 begins after the file header).
pub(crate) fn parse_node(page: u32, bytes: &[u8]) -> Option<Node> {
    let start = if page == 1 { 100 } else { 0 };
    let kind = *bytes.get(start)?;
    let interior = match kind {
        TABLE_INTERIOR | INDEX_INTERIOR => true,
        TABLE_LEAF | INDEX_LEAF => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<usize> {
        Some(usize::from(u16::from_be_bytes([
            *bytes.get(at)?,
            *bytes.get(at + 1)?,
        ])))
    };
    let u32_at = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
    };
    let cells = u16_at(start + 3)?;
    let pointers = start + if interior { 12 } else { 8 };
    let mut node = Node {
        kind,
        ..Node::default()
    };
    for i in 0..cells {
        let cell = u16_at(pointers + 2 * i)?;
        if cell >= bytes.len() {
            return None;
        }
        match kind {
            TABLE_INTERIOR | INDEX_INTERIOR => node.children.push(u32_at(cell)?),
            TABLE_LEAF => {
                let (_, size_len) = varint(&bytes[cell..])?;
                let (rowid, _) = varint(bytes.get(cell + size_len..)?)?;
                node.rowids.push(rowid as i64);
            }
            _ => {}
        }
    }
    if interior {
        node.children.push(u32_at(start + 8)?);
    }
    Some(node)
}

/// SQLite's variable-length integer at the start of `b`: its value and length.
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for i in 0..9 {
        let byte = *b.get(i)?;
        if i == 8 {
            return Some(((value << 8) | u64::from(byte), 9));
        }
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// What one b-tree's walk found between the mark and now.
#[derive(Debug, Default)]
pub(crate) struct TreeChanges {
    /// Every page the tree held at the mark, now, or at a commit in between.
    pub(crate) reached: HashSet<u32>,
    /// Whether any of them changed, or one left or joined the tree.
    pub(crate) changed: bool,
    /// The rowids on every version of the tree's pages that changed, left or joined it, as
    /// long as the page was the tree's: the rows that may differ (a table's tree).
    pub(crate) rowids: BTreeSet<i64>,
    /// A page of the tree that does not read as a b-tree page.
    pub(crate) unreadable: Option<u32>,
}

/// Which moment a plain walk reads the pages as of.
#[derive(Debug, Clone, Copy)]
enum Moment {
    Mark,
    Now,
}

/// The pages of the b-tree at `root` as of `moment` (one consistent state), and the first
/// page that does not read as a b-tree page. Leaves are counted from their parents, not read:
/// a b-tree's leaves are all at one depth, so one child read tells whether its siblings are.
fn reach(pages: &Pages, root: u32, moment: Moment) -> std::io::Result<(HashSet<u32>, Option<u32>)> {
    let read = |page: u32| -> std::io::Result<Option<Node>> {
        let place = match moment {
            Moment::Mark => pages.at_mark_place(page),
            Moment::Now => pages.now_place(page),
        };
        Ok(pages.read(page, place)?.and_then(|b| parse_node(page, &b)))
    };
    let mut reached = HashSet::from([root]);
    let mut stack = vec![root];
    while let Some(page) = stack.pop() {
        let Some(node) = read(page)? else {
            return Ok((reached, Some(page)));
        };
        let Some(&first) = node.children.first() else {
            continue;
        };
        let leaves = read(first)?.is_some_and(|n| n.is_leaf());
        for child in node.children {
            // A page met twice is a damaged tree: counted once, never a loop.
            if child != 0 && reached.insert(child) && !leaves {
                stack.push(child);
            }
        }
    }
    Ok((reached, None))
}

/// Walks the b-tree rooted at `root` as of the mark and as of now, and through every version
/// written in between, so it reaches every page the tree held at any commit: a page in both
/// and unchanged held the same rows throughout and is never read; a changed one is read in
/// every version since the mark (and in its version at the mark when the tree held it then);
/// one that left the tree unchanged (freed, its rows deleted) in its version at the mark; and
/// a page an in-between version of a changed interior page pointed to (joined and left again)
/// in every version since the mark.
pub(crate) fn walk_tree(pages: &Pages, root: u32) -> std::io::Result<TreeChanges> {
    let (then, broken_then) = reach(pages, root, Moment::Mark)?;
    let (now, broken_now) = reach(pages, root, Moment::Now)?;
    let mut out = TreeChanges {
        unreadable: broken_then.or(broken_now),
        ..TreeChanges::default()
    };
    out.reached = then.union(&now).copied().collect();
    let mut stack: Vec<u32> = out.reached.iter().copied().collect();
    let mut transient = HashSet::new();
    while let Some(page) = stack.pop() {
        let changed = pages.is_changed(page);
        let (was, is) = (then.contains(&page), now.contains(&page));
        let mut places = Vec::new();
        if was && (changed || !is) {
            places.push(pages.at_mark_place(page));
        }
        if changed {
            places.extend(pages.since[&page].iter().map(|o| Place::Wal(*o)));
        } else if is && !was {
            places.push(pages.now_place(page));
        }
        if places.is_empty() {
            continue;
        }
        out.changed = true;
        for place in places {
            let Some(node) = pages.read(page, place)?.and_then(|b| parse_node(page, &b)) else {
                continue;
            };
            if node.kind == TABLE_LEAF {
                out.rowids.extend(&node.rowids);
            }
            for child in node.children {
                // Written since the mark, and in the tree at neither end: it was in between.
                if child != 0
                    && pages.is_changed(child)
                    && !out.reached.contains(&child)
                    && transient.insert(child)
                {
                    stack.push(child);
                }
            }
        }
    }
    out.reached.extend(transient);
    Ok(out)
}

/// The pages on the freelist now (trunks and leaves), from the header's first trunk; `None`
/// when the list does not read as one (a loop, a page past the end).
pub(crate) fn free_pages(pages: &Pages) -> std::io::Result<Option<HashSet<u32>>> {
    let Some(first) = pages.read_now(1)? else {
        return Ok(None);
    };
    let u32_at = |b: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    let mut free = HashSet::new();
    let mut trunk = u32_at(&first, 32).unwrap_or(0);
    while trunk != 0 {
        if !free.insert(trunk) {
            return Ok(None);
        }
        let Some(bytes) = pages.read_now(trunk)? else {
            return Ok(None);
        };
        let Some(count) = u32_at(&bytes, 4) else {
            return Ok(None);
        };
        for i in 0..count as usize {
            match u32_at(&bytes, 8 + 4 * i) {
                Some(leaf) => free.insert(leaf),
                None => return Ok(None),
            };
        }
        trunk = u32_at(&bytes, 0).unwrap_or(0);
    }
    Ok(Some(free))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_read_as_sqlite_writes_them() {
        assert_eq!(varint(&[0x05]), Some((5, 1)));
        assert_eq!(varint(&[0x81, 0x00]), Some((128, 2)));
        assert_eq!(varint(&[0xff; 9]), Some((u64::MAX, 9)));
        assert_eq!(varint(&[0x81]), None);
    }

    #[test]
    fn garbage_pages_are_no_nodes_and_never_panic() {
        assert_eq!(parse_node(2, &[]), None);
        assert_eq!(parse_node(2, &[0x42; 64]), None);
        // A table leaf claiming 200 cells in 16 bytes.
        let mut leaf = vec![0u8; 16];
        leaf[0] = TABLE_LEAF;
        leaf[4] = 200;
        assert_eq!(parse_node(2, &leaf), None);
        // Pointers into the page's end: a cut-short cell.
        let mut short = vec![0u8; 16];
        short[0] = TABLE_LEAF;
        short[4] = 1;
        short[8..10].copy_from_slice(&15u16.to_be_bytes());
        short[15] = 0x81;
        assert_eq!(parse_node(2, &short), None);
        for seed in 0u8..=255 {
            let bytes: Vec<u8> = (0..512u32)
                .map(|i| (i as u8).wrapping_mul(seed).wrapping_add(seed))
                .collect();
            let _ = parse_node(1 + u32::from(seed % 2), &bytes);
        }
    }
}

//! The integer values a copy saw in chosen columns, kept as bitmaps: what lets a run tell that
//! every foreign-key value has its parent row without asking the source again.
//!
//! A set gives up (and frees its memory) at the first value that is not an integer, or when
//! its values span more than [`MAX_CHUNKS`] chunks; its owner then asks the source.

use super::SqlValue;

/// Values per chunk: a chunk is a plain bitmap of 8 KiB.
const CHUNK_BITS: u32 = 16;
const WORDS: usize = (1 << CHUNK_BITS) / 64;

/// Most chunks a set spans: 2 048 chunks cover 134 M consecutive values, and take 16 MiB when
/// every one holds a value. Keys spread wider (random 64-bit ids, say) are left to the source.
pub const MAX_CHUNKS: usize = 2048;

type Chunk = Box<[u64; WORDS]>;

/// The integer values seen in one column; NULLs are not values.
#[derive(Debug)]
pub struct KeySet {
    /// The chunk number (`value >> 16`) of `chunks[0]`.
    first: i64,
    /// From `first` on, each chunk that holds a value.
    chunks: Vec<Option<Chunk>>,
    /// False once the set gave up.
    complete: bool,
}

impl Default for KeySet {
    fn default() -> Self {
        Self::new()
    }
}

impl KeySet {
    pub fn new() -> Self {
        KeySet {
            first: 0,
            chunks: Vec::new(),
            complete: true,
        }
    }

    /// Notes one value read from the column.
    pub fn add(&mut self, value: &SqlValue) {
        if !self.complete {
            return;
        }
        match value {
            SqlValue::Null => {}
            SqlValue::Integer(n) => self.insert(*n),
            // Text, reals, blobs: the source compares them by rules of its own (affinity,
            // collations); only the source can say which parent row they meet.
            _ => self.give_up(),
        }
    }

    fn insert(&mut self, n: i64) {
        let chunk = n >> CHUNK_BITS;
        if self.chunks.is_empty() {
            self.first = chunk;
        }
        // Every value of a load passes here: one subtraction and a bounds check when the
        // chunk is among those kept already.
        let index = match usize::try_from(chunk.wrapping_sub(self.first)) {
            Ok(i) if chunk >= self.first && i < self.chunks.len() => i,
            _ => match self.make_room(chunk) {
                Some(i) => i,
                None => return self.give_up(),
            },
        };
        let bits = self.chunks[index].get_or_insert_with(|| Box::new([0; WORDS]));
        let offset = (n & ((1 << CHUNK_BITS) - 1)) as usize;
        bits[offset / 64] |= 1 << (offset % 64);
    }

    /// Widens the span to `chunk`; `None` past [`MAX_CHUNKS`].
    fn make_room(&mut self, chunk: i64) -> Option<usize> {
        if self.chunks.is_empty() {
            self.chunks.push(None);
            return Some(0);
        }
        let last = self.first + self.chunks.len() as i64 - 1;
        let (low, high) = (chunk.min(self.first), chunk.max(last));
        if (high - low) as u64 >= MAX_CHUNKS as u64 {
            return None;
        }
        if chunk < self.first {
            let before = (self.first - chunk) as usize;
            self.chunks
                .splice(0..0, std::iter::repeat_with(|| None).take(before));
            self.first = chunk;
            Some(0)
        } else {
            self.chunks
                .resize_with((chunk - self.first) as usize + 1, || None);
            Some(self.chunks.len() - 1)
        }
    }

    fn give_up(&mut self) {
        self.complete = false;
        self.chunks = Vec::new();
    }

    /// The chunk of `other` with the same values as `self`'s chunk at `index`.
    fn same_chunk<'o>(&self, other: &'o KeySet, index: usize) -> Option<&'o Chunk> {
        let chunk = self.first + index as i64;
        let at = usize::try_from(chunk.checked_sub(other.first)?).ok()?;
        other.chunks.get(at)?.as_ref()
    }

    /// The values of `self` that `other` lacks, up to `limit` of them, smallest first; `None`
    /// when either set gave up.
    pub fn missing_from(&self, other: &KeySet, limit: usize) -> Option<Vec<i64>> {
        if !self.complete || !other.complete {
            return None;
        }
        let mut missing = Vec::new();
        for (index, bits) in self.chunks.iter().enumerate() {
            let Some(bits) = bits else { continue };
            let theirs = self.same_chunk(other, index);
            for (word, mine) in bits.iter().enumerate() {
                let mut lacking = mine & !theirs.map_or(0, |t| t[word]);
                while lacking != 0 && missing.len() < limit {
                    let bit = lacking.trailing_zeros() as i64;
                    let chunk = self.first + index as i64;
                    missing.push((chunk << CHUNK_BITS) + word as i64 * 64 + bit);
                    lacking &= lacking - 1;
                }
                if missing.len() >= limit {
                    return Some(missing);
                }
            }
        }
        Some(missing)
    }
}

/// The columns a copy watches, by their position in the source rows, and what it saw there.
#[derive(Debug, Default)]
pub struct KeyWatch {
    pub columns: Vec<WatchedColumn>,
}

/// One watched column.
#[derive(Debug)]
pub struct WatchedColumn {
    /// The source column's name.
    pub name: String,
    /// Its position among the values of a row the copy reads.
    pub position: usize,
    pub seen: KeySet,
}

impl KeyWatch {
    /// Notes a row's values in every watched column.
    pub fn add(&mut self, row: &[SqlValue]) {
        for column in &mut self.columns {
            if let Some(value) = row.get(column.position) {
                column.seen.add(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_of(values: &[SqlValue]) -> KeySet {
        let mut set = KeySet::new();
        for v in values {
            set.add(v);
        }
        set
    }

    #[test]
    fn a_set_says_which_values_the_other_lacks_across_chunks_signs_and_extremes() {
        use SqlValue::{Integer, Null};
        let parents = set_of(&[Integer(-5), Integer(1), Integer(2), Integer(200_000)]);
        let children = set_of(&[Integer(1), Null, Integer(1), Integer(-5), Integer(200_000)]);
        assert_eq!(children.missing_from(&parents, 5), Some(vec![]));
        let orphans = set_of(&[
            Integer(2),
            Integer(-70_000),
            Integer(3),
            Integer(-6),
            Integer(131_072),
        ]);
        assert_eq!(
            orphans.missing_from(&parents, 5),
            Some(vec![-70_000, -6, 3, 131_072])
        );
        assert_eq!(orphans.missing_from(&parents, 1), Some(vec![-70_000]));
        assert_eq!(set_of(&[]).missing_from(&parents, 5), Some(vec![]));
        for (low, high) in [(i64::MIN, i64::MIN + 3), (i64::MAX - 3, i64::MAX)] {
            let parents = set_of(&[Integer(low)]);
            let children = set_of(&[Integer(high), Integer(low)]);
            assert_eq!(children.missing_from(&parents, 5), Some(vec![high]));
            assert_eq!(parents.missing_from(&children, 5), Some(vec![]));
        }
    }

    #[test]
    fn a_set_gives_up_at_a_value_that_is_not_an_integer() {
        for odd in [
            SqlValue::Text("1".into()),
            SqlValue::Real(1.0),
            SqlValue::Blob(vec![1]),
            SqlValue::InvalidText(vec![0xff]),
        ] {
            let set = set_of(&[SqlValue::Integer(1), odd.clone(), SqlValue::Integer(2)]);
            assert!(!set.complete, "{odd:?}");
            let whole = set_of(&[SqlValue::Integer(1)]);
            assert_eq!(set.missing_from(&whole, 5), None);
            assert_eq!(whole.missing_from(&set, 5), None);
        }
    }

    #[test]
    fn dense_keys_stay_small_and_keys_spread_past_the_span_give_up() {
        let mut dense = KeySet::new();
        for n in (0..3_000_000).rev() {
            dense.add(&SqlValue::Integer(n - 1_000_000));
        }
        assert!(dense.complete);
        assert!(dense.chunks.len() <= 3_000_000 / (1 << CHUNK_BITS) + 2);
        assert_eq!(dense.missing_from(&dense, 5), Some(vec![]));
        // One value per 2^32: a few fit, then the span is too wide.
        let mut scattered = KeySet::new();
        for n in 0..1_000i64 {
            scattered.add(&SqlValue::Integer(n << 32));
        }
        assert!(!scattered.complete);
        assert!(scattered.chunks.is_empty());
        // The widest span kept, from either end.
        let mut wide = KeySet::new();
        let span = (MAX_CHUNKS as i64) << CHUNK_BITS;
        wide.add(&SqlValue::Integer(0));
        wide.add(&SqlValue::Integer(span - 1));
        wide.add(&SqlValue::Integer(-1));
        assert!(!wide.complete);
        let mut wide = KeySet::new();
        wide.add(&SqlValue::Integer(span - 1));
        wide.add(&SqlValue::Integer(0));
        assert!(wide.complete);
    }
}

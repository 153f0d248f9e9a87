//! The integer values a copy saw in chosen columns, kept as compressed bitmaps: what lets a
//! run tell that every foreign-key value has its parent row without asking the source again.
//!
//! A set gives up (and frees its memory) at the first value that is not an integer, or when
//! the values lie so thinly that it would pass [`MAX_BYTES`]; its owner then asks the source.

use roaring::RoaringTreemap;

use super::SqlValue;

/// Most memory one set may take: 16 MiB hold tens of millions of dense keys, and a few million
/// scattered ones.
pub const MAX_BYTES: usize = 16 << 20;

/// Values added between two looks at a set's size (the look costs one step per container).
const SIZE_EVERY: u64 = 1 << 16;

/// The integer values seen in one column; NULLs are not values.
#[derive(Debug, Default)]
pub struct KeySet {
    /// `None` once the set gave up.
    values: Option<RoaringTreemap>,
    added: u64,
}

impl KeySet {
    pub fn new() -> Self {
        KeySet {
            values: Some(RoaringTreemap::new()),
            added: 0,
        }
    }

    /// Notes one value read from the column.
    pub fn add(&mut self, value: &SqlValue) {
        let Some(values) = self.values.as_mut() else {
            return;
        };
        match value {
            SqlValue::Null => {}
            SqlValue::Integer(n) => {
                values.insert(ordered(*n));
                self.added += 1;
                if self.added % SIZE_EVERY == 0 && values.serialized_size() > MAX_BYTES {
                    self.values = None;
                }
            }
            // Text, reals, blobs: the source compares them by rules of its own (affinity,
            // collations); only the source can say which parent row they meet.
            _ => self.values = None,
        }
    }

    /// False once the set gave up: it no longer says which values were seen.
    pub fn complete(&self) -> bool {
        self.values.is_some()
    }

    /// The values of `self` that `other` lacks, up to `limit` of them; `None` when either set
    /// gave up.
    pub fn missing_from(&self, other: &KeySet, limit: usize) -> Option<Vec<i64>> {
        let (mine, theirs) = (self.values.as_ref()?, other.values.as_ref()?);
        if mine.is_subset(theirs) {
            return Some(Vec::new());
        }
        Some((mine - theirs).iter().take(limit).map(unordered).collect())
    }
}

/// i64 onto u64 keeping the order, so negative keys sort before positive ones.
fn ordered(n: i64) -> u64 {
    (n as u64) ^ (1 << 63)
}

fn unordered(n: u64) -> i64 {
    (n ^ (1 << 63)) as i64
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

    /// What was seen in the column `name`.
    pub fn take(&mut self, name: &str) -> Option<KeySet> {
        let at = self.columns.iter().position(|c| c.name == name)?;
        Some(self.columns.swap_remove(at).seen)
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
    fn a_set_says_which_values_the_other_lacks_negative_ones_and_extremes_included() {
        use SqlValue::{Integer, Null};
        let parents = set_of(&[Integer(-5), Integer(1), Integer(2), Integer(i64::MAX)]);
        let children = set_of(&[Integer(1), Null, Integer(1), Integer(-5), Integer(i64::MAX)]);
        assert_eq!(children.missing_from(&parents, 5), Some(vec![]));
        let orphans = set_of(&[Integer(2), Integer(i64::MIN), Integer(3), Integer(-6)]);
        assert_eq!(
            orphans.missing_from(&parents, 5),
            Some(vec![i64::MIN, -6, 3])
        );
        assert_eq!(orphans.missing_from(&parents, 1), Some(vec![i64::MIN]));
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
            assert!(!set.complete(), "{odd:?}");
            let whole = set_of(&[SqlValue::Integer(1)]);
            assert_eq!(set.missing_from(&whole, 5), None);
            assert_eq!(whole.missing_from(&set, 5), None);
        }
    }

    #[test]
    fn dense_keys_stay_small_and_scattered_ones_give_up_past_the_cap() {
        let mut dense = KeySet::new();
        for n in 0..3_000_000 {
            dense.add(&SqlValue::Integer(n));
        }
        assert!(dense.complete());
        assert!(dense.values.as_ref().unwrap().serialized_size() < 1 << 20);
        // One value per 2^32: each lands in a bitmap of its own.
        let mut scattered = KeySet::new();
        for n in 0..1_000_000i64 {
            scattered.add(&SqlValue::Integer(n << 32));
        }
        assert!(!scattered.complete());
    }
}

//! The few key ranges the windows that differ are read again as (the windows themselves are
//! [`KeyWindows`], the sync's digests' own), and how those ranges are written in SQL.

pub(super) use crate::engines::digest::KeyWindows;

/// Windows that differ read again (at most this many key ranges), or the whole table.
const MAX_RANGES: usize = 64;

/// The key ranges covering `differing` windows, adjacent ones joined; `None` when a NULL key
/// differs or there are too many ranges to name in a WHERE clause.
pub(super) fn differing_ranges(
    differing: &[Option<i64>],
    windows: &KeyWindows,
) -> Option<Vec<(i64, i64)>> {
    let indexes: Option<Vec<i64>> = differing.iter().copied().collect();
    let ranges = windows.ranges(indexes?);
    (ranges.len() <= MAX_RANGES).then_some(ranges)
}

/// Up to this many key ranges are written as `BETWEEN … OR …`; more are joined from a list
/// (`ranges_cte`), which every engine reads as one seek per range.
pub(super) const INLINE_RANGES: usize = MAX_RANGES;

/// `"decant_ranges" ("decant_lo", "decant_hi") AS (VALUES (a, b), …)`: the ranges as a table to join.
pub(super) fn ranges_cte(ranges: &[(i64, i64)]) -> String {
    let rows: Vec<String> = ranges.iter().map(|(a, b)| format!("({a}, {b})")).collect();
    format!(
        "\"decant_ranges\" (\"decant_lo\", \"decant_hi\") AS (VALUES {})",
        rows.join(", ")
    )
}

/// `column BETWEEN a AND b OR …` over `ranges`.
pub(super) fn ranges_sql(column: &str, ranges: &[(i64, i64)]) -> String {
    let parts: Vec<String> = ranges
        .iter()
        .map(|(a, b)| format!("{column} BETWEEN {a} AND {b}"))
        .collect();
    parts.join(" OR ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_keys_below_the_smallest_and_at_the_ends_of_i64() {
        let w = KeyWindows {
            key_min: 100,
            width: 10,
        };
        assert_eq!(
            (w.window_of(100), w.window_of(109), w.window_of(110)),
            (0, 0, 1)
        );
        assert_eq!(
            (w.window_of(99), w.window_of(90), w.window_of(89)),
            (-1, -1, -2)
        );
        assert_eq!(w.bounds(-1), (90, 99));
        assert_eq!(w.end_of(105), 109);
        let wide = KeyWindows {
            key_min: i64::MIN,
            width: 1 << 62,
        };
        assert_eq!(wide.window_of(i64::MAX), 3);
        assert_eq!(wide.bounds(3).1, i64::MAX);
        assert_eq!(wide.window_of(i64::MIN), 0);
    }

    #[test]
    fn differing_windows_become_few_key_ranges() {
        let w = KeyWindows {
            key_min: 1,
            width: 100,
        };
        assert_eq!(
            differing_ranges(&[Some(-1), Some(0), Some(1), Some(5)], &w),
            Some(vec![(-99, 200), (501, 600)])
        );
        assert_eq!(
            ranges_sql("\"id\"", &[(-99, 200), (501, 600)]),
            "\"id\" BETWEEN -99 AND 200 OR \"id\" BETWEEN 501 AND 600"
        );
        // A NULL key cannot be named by a range, nor can too many ranges be: read everything.
        assert_eq!(differing_ranges(&[None, Some(1)], &w), None);
        let scattered: Vec<Option<i64>> = (0..=MAX_RANGES as i64).map(|i| Some(2 * i)).collect();
        assert_eq!(differing_ranges(&scattered, &w), None);
        assert_eq!(
            differing_ranges(&scattered[1..], &w).map(|r| r.len()),
            Some(MAX_RANGES)
        );
    }
}

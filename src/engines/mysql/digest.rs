//! MySQL's window sums: the load's own SELECT read in pages by key, each row digested as a
//! run's load digests the rows it reads ([`StreamedDigest`]).

use super::pages::read_pages;
use crate::engines::digest::{DigestError, DigestPart, StreamedDigest, WindowSums};
use crate::engines::SourceConnection;

/// MySQL's window sums: `part.select` read in pages in key order, each row digested as
/// [`StreamedDigest`] digests the rows of a load.
pub(crate) fn window_sums(
    source: &mut SourceConnection,
    part: &DigestPart,
) -> Result<Option<WindowSums>, DigestError> {
    let Some(key) = part.pages.first() else {
        return Ok(None);
    };
    let mut digest = StreamedDigest::new(key.position, part.key_min, part.width);
    let mut failed = None;
    let mut outside = None;
    read_pages(source, &part.select, &part.pages, None, |page| {
        match page {
            Ok(rows) => {
                for row in &rows {
                    digest.add(row);
                    if digest.outside && outside.is_none() {
                        outside = Some(format!("{:?}", row.get(key.position)));
                    }
                }
                // Past the windows: no sums, stop reading.
                outside.is_none()
            }
            Err(e) => {
                failed = Some(e);
                false
            }
        }
    });
    if let Some(e) = failed {
        return Err(DigestError::Read(e));
    }
    match digest.finish() {
        Some(sums) => Ok(Some(sums)),
        None => Err(DigestError::OutOfWindows(outside.unwrap_or_default())),
    }
}

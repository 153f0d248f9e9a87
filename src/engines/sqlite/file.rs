//! A SQLite source as a file: the fingerprint a resume compares (the header's change counter,
//! the size, the WAL) and the path a plan names it by.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::engines::url::{PlanSource, Unresolvable};

/// Feeds `h` SQLite's file change counter (header bytes 24..28, bumped by every committed
/// write), the file's size, and its WAL's size and time.
pub(crate) fn fingerprint_into(file: &Path, h: &mut Sha256) -> std::io::Result<()> {
    let mut header = [0u8; 100];
    let mut f = std::fs::File::open(file)?;
    let read = f.read(&mut header)?;
    h.update(&header[..read.min(100)]);
    h.update(f.metadata()?.len().to_le_bytes());
    let wal = file.with_extension(format!(
        "{}-wal",
        file.extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
    ));
    if let Ok(meta) = std::fs::metadata(&wal) {
        h.update(meta.len().to_le_bytes());
        if let Ok(modified) = meta.modified() {
            h.update(format!("{modified:?}").as_bytes());
        }
    }
    Ok(())
}

fn relative_to(target: &Path, base: &Path) -> Option<PathBuf> {
    let rel = target.strip_prefix(base).ok()?;
    rel.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| rel.to_path_buf())
}

/// `sqlite://` and the file's path, relative to `plan_dir` when it lies below it.
pub(crate) fn for_plan(file: &Path, plan_dir: &Path) -> Result<PlanSource, Unresolvable> {
    let canonical_source = file.canonicalize().map_err(|source| Unresolvable {
        path: file.to_path_buf(),
        source,
    })?;
    let source_url = match relative_to(&canonical_source, plan_dir) {
        Some(rel) => format!("sqlite://{}", rel.display()),
        None => format!("sqlite://{}", canonical_source.display()),
    };
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("source")
        .to_owned();
    Ok(PlanSource {
        url: source_url,
        stem,
        password_left_out: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_names_a_sqlite_file_below_it_by_its_relative_path_and_others_in_full() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("plans/data")).unwrap();
        let file = root.join("plans/data/shop.sqlite3");
        std::fs::write(&file, b"").unwrap();
        let below = for_plan(&file, &root.join("plans")).unwrap();
        assert_eq!(below.url, "sqlite://data/shop.sqlite3");
        assert_eq!(below.stem, "shop");
        assert!(!below.password_left_out);
        let beside = for_plan(&file, &root.join("other")).unwrap();
        assert_eq!(beside.url, format!("sqlite://{}", file.display()));
        let missing = for_plan(&root.join("gone.db"), &root);
        assert!(missing.is_err_and(|e| e.to_string().starts_with("cannot resolve `")));
    }
}

//! Diesel-style migration directories named by plan steps: `<version>_<name>/up.sql` (and
//! `down.sql`), in version order. Read here for previews and validation.

use std::path::{Path, PathBuf};

/// Why a migrations directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MigrationsError {
    #[error("migrations directory `{0}` does not exist")]
    Missing(PathBuf),
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("migrations directory `{0}` holds no migrations (`<version>_<name>/up.sql`)")]
    Empty(PathBuf),
    #[error("migration `{0}` has no `up.sql`")]
    NoUp(PathBuf),
}

/// `(folder name, up.sql text)` of every migration, in version order.
pub fn read_migrations(dir: &Path) -> Result<Vec<(String, String)>, MigrationsError> {
    if !dir.is_dir() {
        return Err(MigrationsError::Missing(dir.to_path_buf()));
    }
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| io_error(dir, source))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect();
    folders.sort();
    if folders.is_empty() {
        return Err(MigrationsError::Empty(dir.to_path_buf()));
    }
    folders
        .into_iter()
        .map(|folder| {
            let up = folder.join("up.sql");
            if !up.is_file() {
                return Err(MigrationsError::NoUp(folder));
            }
            let text = std::fs::read_to_string(&up).map_err(|source| io_error(&up, source))?;
            let name = folder
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            Ok((name, text))
        })
        .collect()
}

fn io_error(path: &Path, source: std::io::Error) -> MigrationsError {
    MigrationsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

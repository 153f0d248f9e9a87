//! What a source URL stands for, engine by engine: the fingerprint a resume compares, the
//! integrity check `validate` runs, and how `decant init` writes the source into a plan.

use crate::catalog::Engine;
use std::path::{Path, PathBuf};

use sha2::Sha256;

use crate::engines::{mysql, sqlite, IntrospectError};
use crate::url::SourceUrl;

/// A source as `decant init` writes it into a plan.
pub struct PlanSource {
    /// The plan's `source.url`.
    pub url: String,
    /// What the plan is named after (the file's stem, the database's name).
    pub stem: String,
    /// Whether the URL held a password the plan leaves out.
    pub password_left_out: bool,
}

/// A SQLite source whose path cannot be resolved.
#[derive(Debug, thiserror::Error)]
#[error("cannot resolve `{}`", path.display())]
pub struct Unresolvable {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

impl SourceUrl {
    /// The engine this URL names.
    pub fn engine(&self) -> Engine {
        match self {
            SourceUrl::Sqlite(_) => Engine::Sqlite,
            SourceUrl::Mysql(_) => Engine::Mysql,
            SourceUrl::Postgres(_) => Engine::Postgres,
        }
    }

    /// Feeds `h` what tells the source's content changed beside its catalog: SQLite's file
    /// (its header's change counter, its size, its WAL); a server's address.
    pub fn fingerprint_into(&self, h: &mut Sha256) -> std::io::Result<()> {
        match self {
            SourceUrl::Sqlite(file) => sqlite::file::fingerprint_into(file, h),
            // A server's address, password left out: the same for every server engine.
            SourceUrl::Mysql(url) | SourceUrl::Postgres(url) => {
                mysql::url::fingerprint_into(url, h);
                Ok(())
            }
        }
    }

    /// The source's integrity check and the file it checked: SQLite's `quick_check` of its
    /// file; `None` for a server, which checks its own pages.
    pub fn integrity_check(&self) -> Result<Option<(&Path, Vec<String>)>, IntrospectError> {
        match self {
            SourceUrl::Sqlite(file) => {
                let findings = sqlite::open_sqlite_read_only(file)
                    .and_then(|mut conn| sqlite::quick_check(&mut conn))?;
                Ok(Some((file.as_path(), findings)))
            }
            SourceUrl::Mysql(_) | SourceUrl::Postgres(_) => Ok(None),
        }
    }

    /// The source as a plan in `plan_dir` names it.
    pub fn for_plan(&self, plan_dir: &Path) -> Result<PlanSource, Unresolvable> {
        match self {
            SourceUrl::Sqlite(file) => sqlite::file::for_plan(file, plan_dir),
            // `${SOURCE_DATABASE_URL:-…}` named after the database, as for MySQL.
            SourceUrl::Mysql(url) | SourceUrl::Postgres(url) => Ok(mysql::url::for_plan(url)),
        }
    }
}

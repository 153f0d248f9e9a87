//! `decant rehearse`: a throwaway target — a temporary cluster ([`cluster`]) or a scratch
//! database on a given server — undone however the rehearsal ends, Ctrl-C included.

pub mod cluster;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::engines::TargetConnection;
use diesel::connection::SimpleConnection;
use minijinja::context;

pub use cluster::{Binaries, Cluster, ClusterError, Stopper};

use crate::signals::say;
use crate::url::{check_target_url, redact_url, with_database};

/// The database a rehearsal creates in its temporary cluster.
pub const CLUSTER_DATABASE: &str = "decant_rehearsal";

/// The exit code after Ctrl-C (or SIGTERM, SIGHUP), as shells report a SIGINT.
pub const EXIT_INTERRUPTED: i32 = 130;

/// Why a throwaway target could not be had or undone.
#[derive(Debug, thiserror::Error)]
pub enum RehearseError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Url(#[from] crate::url::UrlError),
    #[error("cannot connect to the server `{url}`")]
    Connect {
        url: String,
        #[source]
        source: diesel::ConnectionError,
    },
    #[error("cannot create the scratch database `{name}` on `{url}`")]
    CreateDatabase {
        name: String,
        url: String,
        #[source]
        source: DatabaseStatementError,
    },
    #[error("cannot drop the scratch database `{name}` on `{url}` (drop it by hand)")]
    DropDatabase {
        name: String,
        url: String,
        #[source]
        source: DatabaseStatementError,
    },
    #[error("cannot install the Ctrl-C handler that cleans up: {0}")]
    Signal(String),
}

/// What failed creating or dropping a database for a rehearsal: the connection to its server,
/// the statement's template, or the statement.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseStatementError {
    #[error(transparent)]
    Connect(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Template(#[from] crate::dialect::TemplateError),
    #[error(transparent)]
    Statement(#[from] diesel::result::Error),
}

/// A scratch database on a server that someone else runs: created empty, dropped afterwards.
#[derive(Debug)]
pub struct ScratchDatabase {
    /// The URL given with `--server`: where the scratch database is created and dropped from.
    server: String,
    pub name: String,
    /// The scratch database's URL (with the server's credentials: show it redacted only).
    pub url: String,
}

impl ScratchDatabase {
    /// Creates `decant_rehearsal_<random>` through `admin`, a connection to `server`.
    fn create(
        admin: &mut TargetConnection,
        server: &str,
    ) -> Result<ScratchDatabase, RehearseError> {
        let name = format!("decant_rehearsal_{}", &cluster::random_hex()[..12]);
        let fail = |source: DatabaseStatementError| RehearseError::CreateDatabase {
            name: name.clone(),
            url: redact_url(server),
            source,
        };
        let sql =
            database_statement("create_database", context! { name }).map_err(|e| fail(e.into()))?;
        admin.batch_execute(&sql).map_err(|e| fail(e.into()))?;
        Ok(ScratchDatabase {
            url: with_database(server, &name),
            server: server.to_owned(),
            name,
        })
    }

    /// The server's URL, without its password.
    pub fn server_shown(&self) -> String {
        redact_url(&self.server)
    }

    /// Drops the database, ending any session still in it.
    pub fn drop_now(&self) -> Result<(), RehearseError> {
        let fail = |source: DatabaseStatementError| RehearseError::DropDatabase {
            name: self.name.clone(),
            url: redact_url(&self.server),
            source,
        };
        let mut admin = TargetConnection::establish(&self.server).map_err(|e| fail(e.into()))?;
        let name = &self.name;
        let drop = |force: bool| {
            database_statement("drop_database", context! { name, force })
                .map_err(|e| fail(e.into()))
        };
        let forced = admin.batch_execute(&drop(true)?);
        match forced {
            Ok(()) => Ok(()),
            // Before PostgreSQL 13 there is no FORCE: end the sessions, then drop.
            Err(e) if e.to_string().contains("syntax error") => admin
                .batch_execute(&drop(false)?)
                .map_err(|e| fail(e.into())),
            Err(e) => Err(fail(e.into())),
        }
    }
}

/// `CREATE DATABASE` and `DROP DATABASE` as decant's templates write them, the one place
/// their SQL is (`run --create-database` renders the same template).
pub(crate) fn database_statement(
    operation: &str,
    ctx: minijinja::Value,
) -> Result<String, crate::dialect::TemplateError> {
    crate::dialect::Templates::new(None).render(&crate::dialect::target_template(operation), ctx)
}

fn connect(url: &str) -> Result<TargetConnection, RehearseError> {
    TargetConnection::establish(url).map_err(|source| RehearseError::Connect {
        url: redact_url(url),
        source,
    })
}

/// What must be undone.
enum Throwaway {
    Cluster { stopper: Stopper, dir: String },
    Database(ScratchDatabase),
}

impl Throwaway {
    fn describe(&self) -> String {
        match self {
            Throwaway::Cluster { dir, .. } => {
                format!("the temporary cluster was stopped and `{dir}` removed")
            }
            Throwaway::Database(db) => format!(
                "the scratch database `{}` was dropped from `{}`",
                db.name,
                db.server_shown()
            ),
        }
    }

    fn clean_up(&self) -> Result<(), RehearseError> {
        match self {
            Throwaway::Cluster { stopper, .. } => Ok(stopper.stop()?),
            Throwaway::Database(db) => db.drop_now(),
        }
    }
}

/// The throwaway target of this process's rehearsal, shared with the signal handler. Whoever
/// takes it out undoes it while holding the lock, so the other finds nothing left to undo.
static ACTIVE: Mutex<Option<Throwaway>> = Mutex::new(None);
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

fn active() -> MutexGuard<'static, Option<Throwaway>> {
    ACTIVE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// True once Ctrl-C (or SIGTERM, SIGHUP) arrived: the handler is cleaning up and will end
/// the process with [`EXIT_INTERRUPTED`]; the main thread should say nothing more.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Waits for the signal handler to finish cleaning up and end the process.
pub fn wait_for_interrupt_exit() -> ! {
    for _ in 0..600 {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::process::exit(EXIT_INTERRUPTED)
}

fn on_signal(signal: i32) {
    INTERRUPTED.store(true, Ordering::SeqCst);
    let mut guard = active();
    match guard.take() {
        Some(throwaway) => {
            say("\ninterrupted: cleaning up…\n");
            match throwaway.clean_up() {
                Ok(()) => say(&format!("cleaned up: {}\n", throwaway.describe())),
                Err(e) => say(&format!("error: {}\n", crate::errors::chain(&e))),
            }
        }
        None => say("\ninterrupted\n"),
    }
    std::process::exit(crate::signals::exit_code(signal).into());
}

/// Installs the handler for SIGINT, SIGTERM and SIGHUP, once per process.
fn install_handler() -> Result<(), RehearseError> {
    crate::signals::install().map_err(RehearseError::Signal)?;
    crate::signals::set_hook(Some(Box::new(on_signal)));
    Ok(())
}

/// The rehearsal's hold on its throwaway target: dropping it (on any error, or a panic)
/// undoes the target; [`Rehearsal::finish`] says whether it is undone or kept.
pub struct Rehearsal {
    _private: (),
}

/// How a rehearsal ended for its target.
#[derive(Debug)]
pub enum Ending {
    /// Undone; the sentence says what was done.
    CleanedUp(String),
    /// Left in place on purpose (`--keep`).
    Kept,
    /// Nothing was there to undo.
    Nothing,
}

impl Rehearsal {
    /// Starts a rehearsal: from here until the end of the process, Ctrl-C undoes the target.
    pub fn begin() -> Result<Rehearsal, RehearseError> {
        install_handler()?;
        Ok(Rehearsal { _private: () })
    }

    /// Starts a temporary cluster from `bin` and creates [`CLUSTER_DATABASE`] in it.
    /// `keep`: the server will outlive decant.
    pub fn temporary_cluster(
        &mut self,
        bin: Binaries,
        keep: bool,
    ) -> Result<Cluster, RehearseError> {
        let mut cluster = {
            // Created and registered under the lock: a signal finds either nothing or it.
            let mut guard = active();
            let cluster = Cluster::create(bin, keep)?;
            *guard = Some(Throwaway::Cluster {
                stopper: cluster.stopper(),
                dir: cluster.dir().display().to_string(),
            });
            cluster
        };
        cluster.init()?;
        cluster.start()?;
        cluster.create_database(CLUSTER_DATABASE)?;
        Ok(cluster)
    }

    /// Creates a scratch database on `server`; returns it (its URL has the server's
    /// credentials).
    pub fn scratch_database(&mut self, server: &str) -> Result<(String, String), RehearseError> {
        check_target_url(server)?;
        // Connecting may take long and needs no cleanup: outside the lock, so Ctrl-C works.
        let mut admin = connect(server)?;
        let mut guard = active();
        let db = ScratchDatabase::create(&mut admin, server)?;
        let found = (db.name.clone(), db.url.clone());
        *guard = Some(Throwaway::Database(db));
        Ok(found)
    }

    /// Undoes the target, or with `keep` leaves it as it is.
    pub fn finish(&mut self, keep: bool) -> Result<Ending, RehearseError> {
        let mut guard = active();
        let Some(throwaway) = guard.take() else {
            return Ok(Ending::Nothing);
        };
        if keep {
            if let Throwaway::Cluster { stopper, .. } = &throwaway {
                stopper.leave_running();
            }
            return Ok(Ending::Kept);
        }
        throwaway.clean_up()?;
        Ok(Ending::CleanedUp(throwaway.describe()))
    }
}

impl Drop for Rehearsal {
    fn drop(&mut self) {
        let _ = self.finish(false);
    }
}

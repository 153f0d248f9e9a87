//! PostgreSQL for tests: a fresh database per test, dropped when the test ends, on the server
//! named by `DECANT_TEST_PG_URL`, or else on one temporary cluster started as `rehearse` does.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use decant::rehearse::cluster::{Binaries, Cluster};
use decant::url::redact_url;

/// A database of its own for one test.
pub struct TestDatabase {
    /// Connection URL of the test's database.
    pub url: String,
    pub name: String,
    /// The server's maintenance database, used to create and drop the test's.
    server: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDatabase {
    /// Creates `decant_test_<pid>_<counter>_<random>` on the test server.
    #[allow(clippy::new_without_default)]
    pub fn new() -> TestDatabase {
        TestDatabase::create("")
    }

    /// [`TestDatabase::new`] with its collation and character classes (what `lower()` folds)
    /// pinned to `locale`, whatever the server's default.
    pub fn with_locale(locale: &str) -> TestDatabase {
        TestDatabase::create(&format!(
            " TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE '{locale}' LC_CTYPE '{locale}'"
        ))
    }

    /// Creates the database with `options` after its name in `CREATE DATABASE`.
    fn create(options: &str) -> TestDatabase {
        let server = server_url();
        let name = format!(
            "decant_test_{}_{}_{:08x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            random_u32()
        );
        let mut admin = PgConnection::establish(&server).unwrap_or_else(|e| {
            panic!(
                "cannot connect to the test server `{}`: {e}",
                redact_url(&server)
            )
        });
        if let Err(e) = admin.batch_execute(&format!("CREATE DATABASE \"{name}\"{options}")) {
            panic!(
                "cannot create test database `{name}` on `{}`: {e}",
                redact_url(&server)
            );
        }
        TestDatabase {
            url: decant::url::with_database(&server, &name),
            name,
            server,
        }
    }

    pub fn connect(&self) -> PgConnection {
        PgConnection::establish(&self.url)
            .unwrap_or_else(|e| panic!("cannot connect to test database `{}`: {e}", self.name))
    }

    /// The same connection as decant's target side holds it.
    pub fn connect_target(&self) -> decant::engines::TargetConnection {
        decant::engines::TargetConnection::Postgres(self.connect())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let dropped = PgConnection::establish(&self.server)
            .map_err(|e| e.to_string())
            .and_then(|mut admin| {
                admin
                    .batch_execute(&format!(
                        "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                        self.name
                    ))
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = dropped {
            eprintln!(
                "warning: test database `{}` was not dropped: {e}",
                self.name
            );
        }
    }
}

fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish() as u32
}

fn server_url() -> String {
    match std::env::var("DECANT_TEST_PG_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => match temp_cluster() {
            Ok(cluster) => cluster.url("postgres"),
            Err(message) => panic!("{message}"),
        },
    }
}

/// The temporary cluster, started on first use: `decant rehearse`'s own. It lives as long as
/// this process; when the process ends, the pipe its server script watches closes, and the
/// script stops the server and removes its folder.
fn temp_cluster() -> &'static Result<Cluster, String> {
    static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let mut cluster = Binaries::find()
            .and_then(|bin| Cluster::create(bin, false))
            .map_err(|e| no_server_message(&e.to_string()))?;
        let started = cluster.init().and_then(|()| cluster.start());
        if let Err(e) = started {
            let _ = cluster.stopper().stop();
            return Err(no_server_message(&e.to_string()));
        }
        Ok(cluster)
    })
}

fn no_server_message(detail: &str) -> String {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let lead = if ci {
        "database tests must run in CI and cannot find PostgreSQL"
    } else {
        "decant's database tests need PostgreSQL"
    };
    format!(
        "{lead}: DECANT_TEST_PG_URL is not set, and no temporary cluster: {detail}\n  either set DECANT_TEST_PG_URL to a server the tests may create databases on,\n    e.g. DECANT_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres\n  or install PostgreSQL's server binaries (`initdb`, `postgres`; Debian: apt-get install postgresql)\n    so the tests can start a temporary cluster"
    )
}

//! MariaDB for tests: a fresh database per test on the server named by `DECANT_TEST_MYSQL_URL`
//! (the project's machines run one at 127.0.0.1:3306), filled by the real `mariadb` client.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use diesel::connection::SimpleConnection;
use diesel::{Connection, MysqlConnection};

/// The server's URL; without the variable, the project machines' server.
fn server_url() -> String {
    std::env::var("DECANT_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned())
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A MariaDB database of its own for one test, dropped when the test ends.
pub struct MysqlDatabase {
    pub url: String,
    pub name: String,
    server: String,
}

impl MysqlDatabase {
    #[allow(clippy::new_without_default)]
    pub fn new() -> MysqlDatabase {
        let server = server_url();
        let name = format!(
            "decant_test_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = MysqlConnection::establish(&server)
            .unwrap_or_else(|e| panic!("cannot connect to the MariaDB test server: {e}"));
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}` CHARACTER SET utf8mb4"
            ))
            .unwrap_or_else(|e| panic!("cannot create MariaDB database `{name}`: {e}"));
        let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
        MysqlDatabase {
            url: format!("{base}/{name}"),
            name,
            server,
        }
    }

    /// The server's URL, for statements outside this database (accounts, say).
    pub fn server_url(&self) -> &str {
        &self.server
    }

    /// Runs a SQL file with the `mariadb` command-line client, as a team restoring a dump would.
    pub fn load(&self, file: &Path) {
        let sql = std::fs::File::open(file).unwrap();
        let output = self
            .client()
            .stdin(sql)
            .output()
            .unwrap_or_else(|e| panic!("cannot run the mariadb client: {e}"));
        assert!(
            output.status.success(),
            "mariadb < {}: {}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Runs statements on the database.
    pub fn execute(&self, sql: &str) {
        let mut conn = MysqlConnection::establish(&self.url).unwrap();
        conn.batch_execute(sql)
            .unwrap_or_else(|e| panic!("`{sql}` failed: {e}"));
    }

    /// The first row of `sql`, its fields joined by tabs, read with the `mariadb` client.
    pub fn query(&self, sql: &str) -> String {
        let output = self
            .client()
            .args(["-N", "-B", "-e", sql])
            .output()
            .unwrap_or_else(|e| panic!("cannot run the mariadb client: {e}"));
        assert!(
            output.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8_lossy(&output.stdout);
        text.lines().next().unwrap_or_default().to_owned()
    }

    /// `mariadb` with the server's host, port and user, on this database.
    fn client(&self) -> Command {
        let authority = self
            .url
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('/'))
            .map_or("", |(a, _)| a);
        let (user, host) = authority.rsplit_once('@').unwrap_or(("root", authority));
        let (user, password) = user.split_once(':').unwrap_or((user, ""));
        let (host, port) = host.split_once(':').unwrap_or((host, "3306"));
        let mut command = Command::new("mariadb");
        command.args(["-h", host, "-P", port, "-u", user, "--batch", &self.name]);
        if !password.is_empty() {
            command.env("MYSQL_PWD", password);
        }
        command
    }
}

impl Drop for MysqlDatabase {
    fn drop(&mut self) {
        let dropped = MysqlConnection::establish(&self.server)
            .map_err(|e| e.to_string())
            .and_then(|mut admin| {
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS `{}`", self.name))
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = dropped {
            eprintln!(
                "warning: MariaDB database `{}` was not dropped: {e}",
                self.name
            );
        }
    }
}

/// `decant ARGS` in `dir`, from `source` into `target` (the plans name both by variable).
pub fn decant_between(
    dir: &std::path::Path,
    args: &[&str],
    source: &MysqlDatabase,
    target: &crate::support::postgres::TestDatabase,
    extra: &[(&str, &str)],
) -> crate::support::cli::Outcome {
    let mut env = vec![
        ("SOURCE_DATABASE_URL", source.url.as_str()),
        ("TARGET_DATABASE_URL", target.url.as_str()),
    ];
    env.extend_from_slice(extra);
    crate::support::cli::decant_in(dir, args, &env)
}

/// `init --app-schema` from `source` against the app's schema made by `schema` in a database of
/// its own (the developer's), writing `plan.yaml` and its snapshot in `dir`; the plan's text.
pub fn init_for_app(dir: &std::path::Path, source: &MysqlDatabase, schema: &str) -> String {
    let dev = crate::support::postgres::TestDatabase::new();
    dev.connect().batch_execute(schema).unwrap();
    let init = decant_between(
        dir,
        &[
            "init",
            "--source",
            &source.url,
            "--target",
            &dev.url,
            "--app-schema",
            "-o",
            "plan.yaml",
        ],
        source,
        &dev,
        &[],
    );
    crate::support::setup::assert_exit(&init, 0);
    std::fs::read_to_string(dir.join("plan.yaml")).unwrap()
}

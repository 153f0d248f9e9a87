//! PostgreSQL for tests: a fresh database per test, dropped when the test ends, on the server
//! named by `DECANT_TEST_PG_URL`, or else on one temporary cluster that this test process
//! starts from the system's `initdb`/`postgres` and that a watchdog removes after it exits.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

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
        if let Err(e) = admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")) {
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
            Ok(url) => url.clone(),
            Err(message) => panic!("{message}"),
        },
    }
}

/// The temporary cluster's URL, started on first use.
fn temp_cluster() -> &'static Result<String, String> {
    static CLUSTER: OnceLock<Result<String, String>> = OnceLock::new();
    CLUSTER.get_or_init(start_cluster)
}

fn no_server_message(detail: &str) -> String {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let lead = if ci {
        "database tests must run in CI and cannot find PostgreSQL"
    } else {
        "decant's database tests need PostgreSQL"
    };
    format!(
        "{lead}: {detail}\n  either set DECANT_TEST_PG_URL to a server the tests may create databases on,\n    e.g. DECANT_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres\n  or install PostgreSQL's server binaries (`initdb`, `postgres`; Debian: apt-get install postgresql)\n    so the tests can start a temporary cluster"
    )
}

/// A directory holding both `initdb` and `postgres`: on PATH, else the newest under
/// `/usr/lib/postgresql/*/bin`.
fn find_bin_dir() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) = std::env::split_paths(&path).find(|d| has_both(d)) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let version = e
                .file_name()
                .to_str()?
                .split('.')
                .next()?
                .parse::<u32>()
                .ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| has_both(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// A command run as the `postgres` user when the tests run as root (PostgreSQL refuses root).
fn as_server_user(as_postgres: bool, program: &Path) -> Command {
    if !as_postgres {
        return Command::new(program);
    }
    if Path::new("/usr/sbin/runuser").exists() || command_output("which", &["runuser"]).is_some() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        // `su USER -s SHELL -c CMD ARGS…` passes ARGS to the shell as $0, $1, …
        let mut c = Command::new("su");
        c.args(["postgres", "-s", "/bin/sh", "-c", "exec \"$0\" \"$@\""])
            .arg(program);
        c
    }
}

/// Stops the server and removes its directory once the test process (`$1`) is gone.
const WATCHDOG: &str = r#"
parent="$1"; bin="$2"; dir="$3"; port="$4"
"$bin/postgres" -D "$dir/data" -p "$port" -k "$dir" -c listen_addresses=127.0.0.1 \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
  >"$dir/server.log" 2>&1 &
pg=$!
while [ -d "/proc/$parent" ] && kill -0 "$pg" 2>/dev/null; do sleep 0.2; done
kill -INT "$pg" 2>/dev/null
wait "$pg"
rm -rf "$dir"
"#;

fn start_cluster() -> Result<String, String> {
    let bin = find_bin_dir().ok_or_else(|| no_server_message("DECANT_TEST_PG_URL is not set and `initdb`/`postgres` are not on PATH or under /usr/lib/postgresql/*/bin"))?;
    let root = command_output("id", &["-u"]).as_deref() == Some("0");
    let dir = tempfile::Builder::new()
        .prefix("decant-pg-")
        .tempdir()
        .map_err(|e| format!("cannot create a directory for the temporary cluster: {e}"))?
        .keep();
    if root {
        let id = |flag: &str| {
            command_output("id", &[flag, "postgres"]).and_then(|s| s.parse::<u32>().ok())
        };
        let (uid, gid) = id("-u").zip(id("-g")).ok_or_else(|| {
            no_server_message(
                "running as root, and there is no `postgres` user to run the temporary cluster as",
            )
        })?;
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .map_err(|e| format!("cannot hand `{}` to the postgres user: {e}", dir.display()))?;
    }
    let data = dir.join("data");
    let initdb = as_server_user(root, &bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ])
        .current_dir(&dir)
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", bin.join("initdb").display()))?;
    if !initdb.status.success() {
        return Err(format!(
            "initdb failed:\n{}{}",
            String::from_utf8_lossy(&initdb.stdout),
            String::from_utf8_lossy(&initdb.stderr)
        ));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("cannot find a free port: {e}"))?
        .port();
    let mut watchdog = if root {
        let mut c = as_server_user(true, Path::new("/bin/sh"));
        c.args(["-c", WATCHDOG, "decant-pg-watchdog"]);
        c
    } else {
        let mut c = Command::new("/bin/sh");
        c.args(["-c", WATCHDOG, "decant-pg-watchdog"]);
        c
    };
    watchdog
        .arg(std::process::id().to_string())
        .arg(&bin)
        .arg(&dir)
        .arg(port.to_string())
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // Its own process group: a Ctrl-C to the tests does not stop the cleanup.
    std::os::unix::process::CommandExt::process_group(&mut watchdog, 0);
    let mut child = watchdog
        .spawn()
        .map_err(|e| format!("cannot start the temporary cluster: {e}"))?;
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match PgConnection::establish(&url) {
            Ok(_) => return Ok(url),
            Err(e) => {
                let exited = child.try_wait().ok().flatten().is_some();
                if exited || Instant::now() > deadline {
                    let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                    return Err(format!(
                        "the temporary cluster in `{}` did not start: {e}\n{log}",
                        dir.display()
                    ));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

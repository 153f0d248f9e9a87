//! A throwaway PostgreSQL cluster for `decant rehearse`: the system's `initdb` and `postgres`
//! in a temporary folder, on a free 127.0.0.1 port, stopped and removed however decant ends.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::engines::TargetConnection;
use diesel::connection::SimpleConnection;

/// The superuser of the temporary cluster.
const SUPERUSER: &str = "postgres";

/// How long the server may take to accept connections, and to stop.
const START_DEADLINE: Duration = Duration::from_secs(60);
const STOP_DEADLINE: Duration = Duration::from_secs(15);

/// Why the temporary cluster could not be had.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot find PostgreSQL's server programs: `initdb` and `postgres` are neither on PATH nor under /usr/lib/postgresql/*/bin; install them (Debian: `apt-get install postgresql`) or rehearse on a server you have with `--server URL`")]
    NoBinaries,
    #[error("decant runs as root, which PostgreSQL refuses, and there is no `postgres` (or `nobody`) user to run the temporary cluster as; create one (`useradd --system postgres`) or rehearse on a server with `--server URL`")]
    NoServerUser,
    #[error("cannot {what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`initdb` failed in `{dir}`:\n{output}")]
    InitDb { dir: PathBuf, output: String },
    #[error(
        "the temporary cluster in `{dir}` did not start: {reason}{}",
        log_tail_text(log)
    )]
    NotStarted {
        dir: PathBuf,
        reason: String,
        log: String,
    },
    #[error("cannot create database `{name}` in the temporary cluster")]
    CreateDatabase {
        name: String,
        #[source]
        source: super::DatabaseStatementError,
    },
    #[error("the temporary cluster in `{dir}` was not stopped: {reason}")]
    NotStopped { dir: PathBuf, reason: String },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let what = what.into();
    move |source| ClusterError::Io { what, source }
}

fn log_tail_text(log: &str) -> String {
    if log.trim().is_empty() {
        String::new()
    } else {
        format!("\nthe end of its server log:\n{log}")
    }
}

/// The last `lines` lines of a file, or nothing.
fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..]
        .iter()
        .map(|l| format!("  {l}\n"))
        .collect::<String>()
        .trim_end()
        .to_owned()
}

/// The folder with the system's `initdb` and `postgres`, and the server's version.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub dir: PathBuf,
    /// As `postgres --version` says, e.g. `15.20`.
    pub version: String,
}

impl Binaries {
    /// The first folder on PATH holding both programs, else the newest
    /// `/usr/lib/postgresql/<version>/bin` (where Debian and Ubuntu put them).
    pub fn find() -> Result<Binaries, ClusterError> {
        let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
        let on_path = std::env::var_os("PATH")
            .and_then(|path| std::env::split_paths(&path).find(|d| has_both(d)));
        let dir = match on_path {
            Some(dir) => dir,
            None => {
                let mut versions: Vec<(Vec<u32>, PathBuf)> =
                    std::fs::read_dir("/usr/lib/postgresql")
                        .map_err(|_| ClusterError::NoBinaries)?
                        .flatten()
                        .filter_map(|entry| {
                            let name = entry.file_name().to_str()?.to_owned();
                            let version: Vec<u32> = name
                                .split('.')
                                .map(|part| part.parse::<u32>().ok())
                                .collect::<Option<_>>()?;
                            Some((version, entry.path().join("bin")))
                        })
                        .filter(|(_, bin)| has_both(bin))
                        .collect();
                versions.sort();
                versions
                    .pop()
                    .map(|(_, bin)| bin)
                    .ok_or(ClusterError::NoBinaries)?
            }
        };
        let postgres = dir.join("postgres");
        let output = Command::new(&postgres)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .map_err(io(format!("run `{} --version`", postgres.display())))?;
        // "postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"
        let text = String::from_utf8_lossy(&output.stdout);
        let version = text
            .split_whitespace()
            .find(|word| word.starts_with(|c: char| c.is_ascii_digit()))
            .unwrap_or("(unknown version)")
            .to_owned();
        Ok(Binaries { dir, version })
    }
}

/// The unprivileged account the server runs as when decant runs as root.
#[derive(Debug, Clone)]
struct ServerUser {
    name: String,
    uid: u32,
    gid: u32,
}

fn running_as_root() -> bool {
    match std::fs::metadata("/proc/self") {
        Ok(meta) => meta.uid() == 0,
        Err(_) => command_output("id", &["-u"]).as_deref() == Some("0"),
    }
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn lookup_user(name: &str) -> Option<ServerUser> {
    let number = |flag: &str| command_output("id", &[flag, name])?.parse::<u32>().ok();
    let (uid, gid) = number("-u").zip(number("-g"))?;
    (uid != 0).then(|| ServerUser {
        name: name.to_owned(),
        uid,
        gid,
    })
}

/// A program on PATH or in the usual system folders.
fn which(program: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from));
    dirs.into_iter()
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// `program` run as `user` (when decant is root), so PostgreSQL never runs as root.
fn as_user(user: Option<&ServerUser>, program: &Path) -> Command {
    let Some(user) = user else {
        return Command::new(program);
    };
    if let Some(setpriv) = which("setpriv") {
        let mut c = Command::new(setpriv);
        c.arg(format!("--reuid={}", user.uid))
            .arg(format!("--regid={}", user.gid))
            .args(["--clear-groups", "--"])
            .arg(program);
        c
    } else if let Some(runuser) = which("runuser") {
        let mut c = Command::new(runuser);
        c.args(["-u", &user.name, "--"]).arg(program);
        c
    } else {
        // `su USER -s SHELL -c CMD ARGS…` passes ARGS to the shell as $0, $1, …
        let mut c = Command::new("su");
        c.args([&user.name, "-s", "/bin/sh", "-c", "exec \"$0\" \"$@\""])
            .arg(program);
        c
    }
}

/// Where the cluster's folder goes: the system's temporary folder, unless the server user
/// (when decant is root) could not reach into it; then `/tmp`.
fn temp_base(for_other_user: bool) -> PathBuf {
    let base = std::env::temp_dir();
    if !for_other_user {
        return base;
    }
    let reachable = base.ancestors().all(|dir| {
        std::fs::metadata(dir).is_ok_and(|m| m.is_dir() && m.permissions().mode() & 0o001 != 0)
    });
    if reachable {
        base
    } else {
        PathBuf::from("/tmp")
    }
}

/// 128 random bits as hex, for the superuser's password.
pub(crate) fn random_hex() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let from_os = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if from_os.is_err() {
        use std::hash::{BuildHasher, Hasher};
        for chunk in bytes.chunks_mut(8) {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts the server. Normally it watches its standard input, a pipe from decant: a line
/// means stop; the end of the pipe without one means decant died (even by `kill -9`), and the
/// script then stops the server and removes the folder itself. It ends when the server has
/// ended. With `keep` the server outlives decant, so the script simply becomes `postgres`.
const SERVER_SCRIPT: &str = r#"
dir="$1"; bin="$2"; port="$3"; mode="$4"; shift 4
set -- "$bin/postgres" -D "$dir/data" -p "$port" -k "$dir" -c listen_addresses=127.0.0.1 \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off "$@"
if [ "$mode" = keep ]; then
  exec "$@" >"$dir/server.log" 2>&1 </dev/null
fi
exec 3<&0 </dev/null
"$@" >"$dir/server.log" 2>&1 &
pg=$!
{
  read -r _ <&3 || : >"$dir/orphaned"
  kill -QUIT "$pg" 2>/dev/null
} &
watcher=$!
wait "$pg"
[ -e "$dir/orphaned" ] && rm -rf "$dir"
kill "$watcher" 2>/dev/null
wait "$watcher"
"#;

/// The server process and the folder: what stopping needs, shared with the signal handler.
struct Inner {
    dir: PathBuf,
    child: Option<Child>,
    /// The pipe the watching script reads; `None` when the cluster is kept.
    control: Option<ChildStdin>,
    stopped: bool,
}

fn lock(inner: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    inner
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Stops the cluster and removes its folder, from any thread, at most once.
#[derive(Clone)]
pub struct Stopper(Arc<Mutex<Inner>>);

impl Stopper {
    /// Stops the server (immediate shutdown: nothing in it is worth keeping) and removes the
    /// folder. Doing it again does nothing.
    pub fn stop(&self) -> Result<(), ClusterError> {
        let mut inner = lock(&self.0);
        if inner.stopped {
            return Ok(());
        }
        inner.stopped = true;
        let dir = inner.dir.clone();
        let mut problem = None;
        if let Some(mut child) = inner.child.take() {
            match inner.control.take() {
                Some(mut control) => {
                    // A line asks the watching script to stop the server; it ignores a dead pipe.
                    let _ = control.write_all(b"stop\n");
                    drop(control);
                }
                None => quit(postmaster_pid(&dir).unwrap_or(child.id())),
            }
            if !wait_for(&mut child, STOP_DEADLINE) {
                // The script did not manage: stop the postmaster directly, then anything left.
                if let Some(pid) = postmaster_pid(&dir) {
                    quit(pid);
                }
                if !wait_for(&mut child, STOP_DEADLINE) {
                    let _ = child.kill();
                    let _ = child.wait();
                    problem = Some("the server did not stop within 30 s and was killed".to_owned());
                }
            }
        }
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => problem = Some(format!("cannot remove `{}`: {e}", dir.display())),
        }
        match problem {
            None => Ok(()),
            Some(reason) => Err(ClusterError::NotStopped { dir, reason }),
        }
    }

    /// Forgets the server without stopping it: it outlives decant (`--keep`).
    pub fn leave_running(&self) {
        let mut inner = lock(&self.0);
        inner.stopped = true;
        inner.child = None;
        inner.control = None;
    }
}

/// Asks a postmaster for an immediate shutdown (SIGQUIT); root may signal the server user's.
fn quit(pid: u32) {
    let _ = Command::new("/bin/sh")
        .args([
            "-c",
            "kill -QUIT \"$1\" 2>/dev/null",
            "sh",
            &pid.to_string(),
        ])
        .stdin(Stdio::null())
        .status();
}

/// The postmaster's pid, from the first line of `data/postmaster.pid`.
fn postmaster_pid(dir: &Path) -> Option<u32> {
    std::fs::read_to_string(dir.join("data/postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

/// Waits for `child` to end, at most `deadline`; true when it did.
fn wait_for(child: &mut Child, deadline: Duration) -> bool {
    let until = Instant::now() + deadline;
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return true,
            Ok(None) if Instant::now() >= until => return false,
            Ok(None) => std::thread::sleep(Duration::from_millis(25)),
        }
    }
}

/// A temporary cluster: created by [`Cluster::create`], then [`Cluster::init`],
/// [`Cluster::start`] and [`Cluster::create_database`]; stopped through its [`Stopper`].
pub struct Cluster {
    bin: Binaries,
    user: Option<ServerUser>,
    dir: PathBuf,
    password: String,
    port: u16,
    keep: bool,
    inner: Arc<Mutex<Inner>>,
}

impl Cluster {
    /// Creates the cluster's folder (handed to the server user when decant is root).
    /// `keep`: the server will outlive decant.
    pub fn create(bin: Binaries, keep: bool) -> Result<Cluster, ClusterError> {
        let user = if running_as_root() {
            Some(
                lookup_user("postgres")
                    .or_else(|| lookup_user("nobody"))
                    .ok_or(ClusterError::NoServerUser)?,
            )
        } else {
            None
        };
        let dir = tempfile::Builder::new()
            .prefix("decant-rehearsal-")
            .tempdir_in(temp_base(user.is_some()))
            .map_err(io("create a folder for the temporary cluster"))?
            .keep();
        let cluster = Cluster {
            bin,
            user,
            dir: dir.clone(),
            password: random_hex(),
            port: 0,
            keep,
            inner: Arc::new(Mutex::new(Inner {
                dir,
                child: None,
                control: None,
                stopped: false,
            })),
        };
        if let Err(e) = cluster.hand_over(&cluster.dir) {
            let _ = std::fs::remove_dir_all(&cluster.dir);
            return Err(e);
        }
        Ok(cluster)
    }

    /// Gives `path` to the server user, when there is one.
    fn hand_over(&self, path: &Path) -> Result<(), ClusterError> {
        match &self.user {
            Some(u) => std::os::unix::fs::chown(path, Some(u.uid), Some(u.gid)).map_err(io(
                format!("hand `{}` to the `{}` user", path.display(), u.name),
            )),
            None => Ok(()),
        }
    }

    /// What stops this cluster and removes its folder.
    pub fn stopper(&self) -> Stopper {
        Stopper(Arc::clone(&self.inner))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn version(&self) -> &str {
        &self.bin.version
    }

    /// The account the server runs as, when decant is root.
    pub fn server_user(&self) -> Option<&str> {
        self.user.as_ref().map(|u| u.name.as_str())
    }

    /// Runs `initdb`: superuser `postgres` with a random password over TCP, trusted on the
    /// unix socket (its folder is the cluster's own, closed to everyone else); UTF8, C locale.
    pub fn init(&self) -> Result<(), ClusterError> {
        let pwfile = self.dir.join("superuser-password");
        std::fs::write(&pwfile, format!("{}\n", self.password))
            .map_err(io(format!("write `{}`", pwfile.display())))?;
        self.hand_over(&pwfile)?;
        let initdb = self.bin.dir.join("initdb");
        let output = as_user(self.user.as_ref(), &initdb)
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-U", SUPERUSER])
            .arg(format!("--pwfile={}", pwfile.display()))
            .args([
                "--auth-local=trust",
                "--auth-host=md5",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .map_err(io(format!("run `{}`", initdb.display())));
        let _ = std::fs::remove_file(&pwfile);
        let output = output?;
        if output.status.success() {
            Ok(())
        } else {
            Err(ClusterError::InitDb {
                dir: self.dir.clone(),
                output: format!(
                    "{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                )
                .trim_end()
                .to_owned(),
            })
        }
    }

    /// Starts the server on a free port and waits until it accepts connections. A port taken
    /// in the meantime by someone else is retried with another.
    pub fn start(&mut self) -> Result<(), ClusterError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.start_once() {
                Err(ClusterError::NotStarted { log, .. })
                    if attempts < 3 && log.contains("Address already in use") =>
                {
                    continue
                }
                other => return other,
            }
        }
    }

    fn start_once(&mut self) -> Result<(), ClusterError> {
        self.port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(io("find a free port on 127.0.0.1"))?
            .port();
        let mut command = as_user(self.user.as_ref(), Path::new("/bin/sh"));
        command
            .args(["-c", SERVER_SCRIPT, "decant-rehearsal-server"])
            .arg(&self.dir)
            .arg(&self.bin.dir)
            .arg(self.port.to_string())
            .arg(if self.keep { "keep" } else { "watch" })
            .current_dir(&self.dir)
            .stdin(if self.keep {
                Stdio::null()
            } else {
                Stdio::piped()
            })
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group: a Ctrl-C on the terminal reaches decant, which stops the
        // server in order, and not the server directly.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        {
            let mut inner = lock(&self.inner);
            if inner.stopped {
                return Err(self.not_started("interrupted".into()));
            }
            let mut child = command
                .spawn()
                .map_err(io("start the temporary cluster's server"))?;
            inner.control = child.stdin.take();
            inner.child = Some(child);
        }
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            match TargetConnection::establish(&self.url("postgres")) {
                Ok(_) => return Ok(()),
                Err(e) => {
                    let exited = {
                        let mut inner = lock(&self.inner);
                        match inner.child.as_mut() {
                            Some(child) => !matches!(child.try_wait(), Ok(None)),
                            None => true,
                        }
                    };
                    if exited {
                        let reason = "the server exited".to_owned();
                        let error = self.not_started(reason);
                        // Reap it and forget the pipe: a retry starts afresh.
                        let mut inner = lock(&self.inner);
                        if let Some(mut child) = inner.child.take() {
                            let _ = child.wait();
                        }
                        inner.control = None;
                        return Err(error);
                    }
                    if Instant::now() > deadline {
                        return Err(self.not_started(format!(
                            "it did not accept connections within {} s: {e}",
                            START_DEADLINE.as_secs()
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    fn not_started(&self, reason: String) -> ClusterError {
        ClusterError::NotStarted {
            dir: self.dir.clone(),
            reason,
            log: tail(&self.dir.join("server.log"), 20),
        }
    }

    /// A URL to `database` over TCP, with the superuser's password (show it redacted only).
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    /// A URL to `database` through the unix socket in the cluster's folder: no password,
    /// usable by whoever may enter the folder (the server user and root).
    pub fn socket_url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@/{database}?host={}&port={}",
            self.dir.display(),
            self.port
        )
    }

    /// Creates an empty database.
    pub fn create_database(&self, name: &str) -> Result<(), ClusterError> {
        let fail = |source: super::DatabaseStatementError| ClusterError::CreateDatabase {
            name: name.to_owned(),
            source,
        };
        let mut admin =
            TargetConnection::establish(&self.url("postgres")).map_err(|e| fail(e.into()))?;
        let sql = super::database_statement("create_database", minijinja::context! { name })
            .map_err(|e| fail(e.into()))?;
        admin.batch_execute(&sql).map_err(|e| fail(e.into()))
    }

    /// How to stop the kept cluster by hand.
    pub fn stop_command(&self) -> String {
        let pg_ctl = self.bin.dir.join("pg_ctl");
        let dir = self.dir.display();
        if pg_ctl.is_file() {
            let prefix = self
                .user
                .as_ref()
                .map(|u| format!("runuser -u {} -- ", u.name))
                .unwrap_or_default();
            format!(
                "{prefix}{} stop -D {dir}/data -m immediate && rm -rf {dir}",
                pg_ctl.display()
            )
        } else {
            format!("kill -QUIT $(head -1 {dir}/data/postmaster.pid) && sleep 1 && rm -rf {dir}")
        }
    }
}

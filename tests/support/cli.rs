//! Runs the real `decant` binary, as a user would, and captures what it says.

use std::path::Path;
use std::process::Command;

/// What one invocation printed and how it exited.
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The repository root: example plans and fixtures are addressed from here.
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `decant ARGS` in `cwd` with extra environment variables.
pub fn decant_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let mut command = Command::new(env!("CARGO_BIN_EXE_decant"));
    command
        .args(args)
        .current_dir(cwd)
        .env_remove("TARGET_DATABASE_URL");
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run decant: {e}"));
    Outcome {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `decant ARGS` from the repository root.
pub fn decant(args: &[&str]) -> Outcome {
    decant_in(repo_root(), args, &[])
}

/// The counts of a check report's tally line, `5 check(s): 2 passed, 3 failed, 0 error(s)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub checks: u64,
    pub passed: u64,
    pub failed: u64,
    pub errors: u64,
}

impl Tally {
    pub fn new(checks: u64, passed: u64, failed: u64, errors: u64) -> Tally {
        Tally {
            checks,
            passed,
            failed,
            errors,
        }
    }

    /// Every one of `checks` (at least one) passed.
    pub fn all_passed(checks: u64) -> Tally {
        Tally::new(checks, checks, 0, 0)
    }
}

/// Every one of `needles` is in `haystack`.
pub fn assert_contains(haystack: &str, needles: &[&str]) {
    for needle in needles {
        assert!(
            haystack.contains(needle),
            "missing `{needle}` in:\n{haystack}"
        );
    }
}

/// The run or check checked something and every check passed: read from the tally's numbers,
/// since `contains("0 failed")` also matches `10 failed`.
pub fn assert_all_checks_passed(out: &Outcome) {
    let t = tally(out);
    assert!(t.checks > 0, "no checks ran:\n{}", out.stdout);
    assert_eq!(
        t,
        Tally::all_passed(t.checks),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
}

/// The tally line of what `run` or `check` printed, read as numbers, so that `0 failed` is
/// not mistaken for `10 failed`. Fails when there is not exactly one.
pub fn tally(out: &Outcome) -> Tally {
    let found: Vec<Tally> = out.stdout.lines().filter_map(parse_tally).collect();
    match found.as_slice() {
        [one] => *one,
        _ => panic!(
            "expected one tally line, found {}:\n{}",
            found.len(),
            out.stdout
        ),
    }
}

fn parse_tally(line: &str) -> Option<Tally> {
    let line = line.trim();
    let line = line.strip_prefix("checks: ").unwrap_or(line);
    let (checks, rest) = line.split_once(" check(s): ")?;
    let (passed, rest) = rest.split_once(" passed, ")?;
    let (failed, rest) = rest.split_once(" failed, ")?;
    let errors = rest.strip_suffix(" error(s)")?;
    Some(Tally::new(
        checks.parse().ok()?,
        passed.parse().ok()?,
        failed.parse().ok()?,
        errors.parse().ok()?,
    ))
}

/// `decant ARGS` in `cwd`, started with `DECANT_TEST_PAUSE_AT` set to `point` and waited for
/// until it says it paused there (60 s at most): the test acts on the run in progress, then
/// lets it go on (the file `DECANT_TEST_RELEASE` names, or a signal) and collects it.
pub struct Paused {
    child: std::process::Child,
    stdout: std::thread::JoinHandle<String>,
    stderr: std::thread::JoinHandle<String>,
}

impl Paused {
    pub fn start(cwd: &Path, args: &[&str], env: &[(&str, &str)], point: &str) -> Paused {
        use std::io::{BufRead, Read};
        use std::process::Stdio;
        let mut command = Command::new(env!("CARGO_BIN_EXE_decant"));
        command
            .args(args)
            .current_dir(cwd)
            .env_remove("TARGET_DATABASE_URL")
            .env("DECANT_TEST_PAUSE_AT", point)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run decant: {e}"));
        let mut out = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut all = String::new();
            let _ = out.read_to_string(&mut all);
            all
        });
        let err = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = std::thread::spawn(move || {
            let mut all = String::new();
            for line in std::io::BufReader::new(err).lines() {
                let line = line.unwrap_or_default();
                // Anywhere in the line: another thread may have been mid-line.
                if line.contains("decant: paused at") {
                    let _ = tx.send(());
                }
                all.push_str(&line);
                all.push('\n');
            }
            all
        });
        let paused = Paused {
            child,
            stdout,
            stderr,
        };
        if rx.recv_timeout(std::time::Duration::from_secs(60)).is_err() {
            let out = paused.finish_within(std::time::Duration::ZERO);
            panic!(
                "the run never paused at `{point}`:\n{}\n{}",
                out.stdout, out.stderr
            );
        }
        paused
    }

    /// The process id, to send it a signal.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// What the run printed and how it exited, once it ends; killed after `limit`.
    pub fn finish_within(mut self, limit: std::time::Duration) -> Outcome {
        let until = std::time::Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > until {
                let _ = self.child.kill();
                break self.child.wait().unwrap();
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        Outcome {
            code: status.code().unwrap_or(-1),
            stdout: self.stdout.join().unwrap(),
            stderr: self.stderr.join().unwrap(),
        }
    }
}

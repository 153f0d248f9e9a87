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

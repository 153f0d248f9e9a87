//! The command edge: each subcommand loads what it needs through the pipeline and writes
//! its output; errors become messages and exit codes here and nowhere else.

mod check;
mod cutover;
mod cutover_reverse;
mod graph;
mod init;
mod plan;
mod prepare;
mod rehearse;
mod rollback;
mod run;
mod snapshot;
mod status;
mod sync;
mod validate;
mod view_check;

use std::io::Write;

pub use prepare::{prepare, prepare_and_warn, Failure, Prepared, Profiling};

use crate::cli::{Cli, Command};
use crate::url::redact_text;

/// Exit codes: 0 success; 1 a check failed or rows were rejected; 2 the plan or command was wrong.
pub const EXIT_OK: u8 = 0;
pub const EXIT_CHECKS_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

/// Runs one command, writing results to `out` and problems to `err`; returns the exit code.
pub fn execute(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let result = match cli.command {
        Command::Init(args) => init::run(&args, out, err),
        Command::Validate(args) => validate::run(&args, out, err),
        Command::Plan(args) => plan::run(&args, out, err),
        Command::Graph(args) => graph::run(&args, out, err),
        Command::Run(args) => run::run(&args, out, err),
        Command::Check(args) => check::run(&args, out, err),
        Command::Rehearse(args) => rehearse::run(&args, out, err),
        Command::Status(args) => status::run(&args, out, err),
        Command::Rollback(args) => rollback::run(&args, out, err),
        Command::Snapshot(args) => snapshot::run(&args, out, err),
        Command::Sync(args) => sync::run(&args, out, err),
        Command::Cutover(args) => cutover::run(&args, out, err),
        Command::Schema => write_schema(out),
        Command::Completions(args) => write_completions(args.shell, out),
        Command::Man => write_man(out),
    };
    match result {
        // A reader that stopped early (`decant plan … | head`) closed the pipe: that ends the
        // output, as it ends `git log | head`, and is nothing to report.
        Err(Failure::Other(e)) if is_broken_pipe(&e) => EXIT_OK,
        Ok(code) => code,
        Err(Failure::Plan(diagnostics)) => {
            let _ = writeln!(err, "{}", diagnostics.render());
            EXIT_USAGE
        }
        Err(Failure::Other(e)) => {
            // The last guard: no message prints a password, whoever wrote it.
            let _ = writeln!(err, "error: {}", redact_text(&e.to_string()));
            for cause in e.chain().skip(1) {
                // A libpq message ends with a newline: the line ends here anyway.
                let cause = cause.to_string();
                let _ = writeln!(err, "  caused by: {}", redact_text(cause.trim_end()));
            }
            EXIT_USAGE
        }
    }
}

/// Whether an error comes from writing to a pipe whose reader has gone.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The completion script for `shell`, from the same clap types as `--help`.
fn write_completions(shell: clap_complete::Shell, out: &mut dyn Write) -> Result<u8, Failure> {
    use clap::CommandFactory;
    // Generated into memory first: the generator panics on a write error, and a closed pipe
    // must end quietly like everywhere else.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "decant", &mut script);
    out.write_all(&script)?;
    Ok(EXIT_OK)
}

/// The man page, `decant.1`, in roff.
fn write_man(out: &mut dyn Write) -> Result<u8, Failure> {
    use clap::CommandFactory;
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    out.write_all(&page)?;
    Ok(EXIT_OK)
}

fn write_schema(out: &mut dyn Write) -> Result<u8, Failure> {
    let text = serde_json::to_string_pretty(&crate::plan::model::json_schema())
        .map_err(|e| Failure::Other(e.into()))?;
    writeln!(out, "{text}").map_err(|e| Failure::Other(e.into()))?;
    Ok(EXIT_OK)
}

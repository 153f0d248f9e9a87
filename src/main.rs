//! The `decant` binary: parse the arguments, run the command, exit with its code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    decant::introspect::use_sqlite_multithread_mode();
    let cli = decant::cli::Cli::parse();
    let code = decant::commands::execute(
        cli,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(code)
}

//! The `decant` binary: parse the arguments, run the command, exit with its code.

use std::process::ExitCode;

use clap::Parser;

/// A load allocates each row's values on the thread that reads them and frees them on the
/// thread that converts them; glibc's allocator spent a fifth of a MySQL load's client CPU
/// on that traffic, mimalloc (per-thread heaps, cheap frees from other threads) a tenth less
/// of the whole.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    decant::engines::sqlite::use_sqlite_multithread_mode();
    let cli = decant::cli::Cli::parse();
    // Before any connection opens, so every statement sent is in the trace.
    if let Err(e) = decant::trace::install_from_env() {
        eprintln!("error: {}", decant::errors::chain(&e));
        return ExitCode::from(2);
    }
    let code = decant::commands::execute(
        cli,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(code)
}

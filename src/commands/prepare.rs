//! The command edge of preparing a plan: [`crate::prepare`]'s outcome as a command's
//! [`Failure`], and the plan's warnings written before a command goes on.

use std::path::Path;

use crate::plan::Diagnostics;

pub use crate::prepare::{prepare, Prepared, Profiling};

/// Why a command could not go on.
#[derive(Debug)]
pub enum Failure {
    /// The plan is wrong; every problem, located.
    Plan(Diagnostics),
    /// Anything else.
    Other(anyhow::Error),
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Other(e.into())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

/// [`prepare`] as a command's result: a wrong plan is [`Failure::Plan`].
fn prepare_for_command(path: &Path, profiling: Profiling) -> Result<Prepared, Failure> {
    prepare(path, profiling).map_err(Failure::Plan)
}

/// [`prepare`], then the plan's warnings on `err`: what every command that goes on does first.
pub fn prepare_and_warn(
    path: &Path,
    profiling: Profiling,
    err: &mut dyn std::io::Write,
) -> Result<Prepared, Failure> {
    let prepared = prepare_for_command(path, profiling)?;
    if !prepared.warnings.items.is_empty() {
        writeln!(err, "{}", prepared.warnings.render())?;
    }
    Ok(prepared)
}

//! Running a plan against the target: identity of a run, execution of the step graph,
//! the report, and undoing what a run created.

pub mod app_definitions;
mod beside;
pub mod command;
pub mod cutover;
pub mod cutover_reverse;
mod errors;
pub mod identity;
pub mod orphan_watch;
mod outcome;
pub mod progress;
pub mod report;
pub mod rollback;
mod scheduler;
mod snapshot;
pub mod start;
pub(crate) mod step;

pub use errors::RunError;
pub use start::{execute, RunObserver, RunOptions};
pub use step::StepError;

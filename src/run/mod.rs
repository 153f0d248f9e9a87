//! Running a plan against the target: identity of a run, execution of the step graph,
//! the report, and undoing what a run created.

pub mod app_definitions;
pub mod command;
pub mod cutover;
pub mod execute;
pub mod identity;
pub mod orphan_watch;
pub mod progress;
pub mod report;
pub mod rollback;

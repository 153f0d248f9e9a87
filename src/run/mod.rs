//! Running a plan against the target: identity of a run, execution of the step graph,
//! and undoing what a run created.

pub mod identity;
pub mod rollback;

//! The plan file: its model, loading with spans and `${VAR}` substitution, and validation.
//! Every problem is reported at once, each with `file:line:col` and a caret snippet.

pub mod diagnostic;
pub mod env;
pub mod load;
pub mod model;
pub mod spans;
pub mod structure;

pub use diagnostic::{Diagnostic, Diagnostics, DocPath, PathSeg, Span};
pub use load::{load_plan, load_plan_keep_going, load_plan_str, LoadedPlan};

pub use model::Plan;

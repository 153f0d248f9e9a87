//! decant's integration tests: one binary, so the crate links once.

mod support;

mod introspect;

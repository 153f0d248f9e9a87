//! decant's integration tests: one binary, so the crate links once.

#![allow(clippy::unwrap_used)]

mod support;

mod cli;
mod copy;
mod fixtures;
mod introspect;
mod readme;
mod rehearse;
mod resolve;
mod run;

//! decant moves a database from one engine to another according to a reviewed YAML plan.
//!
//! The pipeline: [`plan`] loads and validates the plan file, [`introspect`] reads the source
//! into a [`catalog::Catalog`], [`resolve`] decides every table's and column's fate,
//! [`graph`] orders the steps, [`render`] turns them into SQL through [`dialect`] templates.

//!
//! Layers point down; a module uses its own layer and those below, never one above, and a test
//! (`tests/layers.rs`) keeps it so:
//!
//! 1. [`errors`], [`url`], [`signals`], [`catalog`], [`migrations`], [`cli`], [`dialect`]
//! 2. [`plan`]
//! 3. [`naming`], [`transform`], [`source`] (one connection type over every source engine),
//!    [`introspect`], [`mapping`]
//! 4. [`resolve`]
//! 5. [`copy`], [`graph`], [`render`], [`journal`]
//! 6. [`prepare`] (the front half of every command), [`init`]
//! 7. [`checks`], [`run`], [`output`], [`rehearse`]
//! 8. [`commands`], the only place errors become messages and exit codes

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod catalog;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod copy;
pub mod dialect;
pub mod errors;
pub mod graph;
pub mod init;
pub mod introspect;
pub mod journal;
pub mod mapping;
pub mod migrations;
pub mod naming;
pub mod output;
pub mod plan;
pub mod prepare;
pub mod rehearse;
pub mod render;
pub mod resolve;
pub mod run;
pub mod signals;
pub mod source;
pub mod transform;
pub mod url;

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
//!    [`target`] (the same for the database decant writes), [`introspect`], [`mapping`]
//! 4. [`resolve`]
//! 5. [`copy`], [`graph`], [`render`], [`journal`]
//! 6. [`prepare`] (the front half of every command), [`init`]
//! 7. [`checks`], [`output`], [`rehearse`]
//! 8. [`sync`] (the target brought up to a changed source, by job)
//! 9. [`run`]
//! 10. [`commands`], the only place errors become messages and exit codes

//!
//! Backends. The source side is one seam: [`source::SourceConnection`] (a variant per engine:
//! SQLite, MySQL/MariaDB) opens, snapshots and streams rows as engine-neutral
//! [`source::SqlValue`]s; [`introspect`] has a file per engine that fills the same
//! [`catalog::Catalog`], whose [`catalog::Engine`] picks the route: the type mapping
//! ([`mapping::default_mapping`]) and the source's templates (`templates/<engine>/`). A new
//! source engine is a variant there, an introspection file, a mapping file and its templates.
//! The target side is the other seam: [`target::TargetConnection`] (a variant per target:
//! PostgreSQL today) carries statements, transactions, the bulk loader (binary COPY in) and
//! the read-back stream for checksums (binary COPY out); every layer above holds it, never
//! Diesel's `PgConnection` (`tests/layers.rs` keeps it so). What is PostgreSQL's own SQL
//! reaches the inner connection through [`target::TargetConnection::postgres`], in a listed set
//! of places: [`journal`] (every `decant.*` statement), `introspect::postgres` (an app's
//! existing schema), the checks' typed queries; beside them [`mapping::wire`] (PostgreSQL's
//! binary types, for the loader and the checksums) and `templates/postgres/`. A second target
//! is a variant there, an answer in each listed place, and its templates.

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
pub mod sync;
pub mod target;
pub mod transform;
pub mod url;

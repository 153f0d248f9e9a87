//! decant moves a database from one engine to another according to a reviewed YAML plan.
//!
//! The pipeline: [`plan`] loads and validates the plan file, [`engines`] read the source
//! into a [`catalog::Catalog`], [`resolve`] decides every table's and column's fate,
//! [`graph`] orders the steps, [`render`] turns them into SQL through [`dialect`] templates.

//!
//! Layers point down; a module uses its own layer and those below, never one above, and a test
//! (`tests/layers.rs`) keeps it so:
//!
//! 1. [`errors`], [`url`], [`signals`], [`colour`], [`catalog`], [`migrations`], [`cli`],
//!    [`dialect`], [`trace`] (`DECANT_TRACE_SQL`: every statement sent, as sent)
//! 2. [`plan`]
//! 3. [`convert`] (a value to a PostgreSQL column's type: the typed conversions and encoders)
//! 4. [`naming`], [`transform`], [`engines`] (every engine, one folder each, behind one seam:
//!    connect, introspect, profile, types, digests, the write pause), [`mapping`] (PostgreSQL's
//!    wire types)
//! 5. [`resolve`]
//! 6. [`copy`], [`graph`], [`render`], [`journal`], [`orphans`] (the source's orphan rows, settled)
//! 7. [`prepare`] (the front half of every command), [`init`]
//! 8. [`compare`] (the row-comparison engine checks and sync share)
//! 9. [`checks`], [`rehearse`]
//! 10. [`sync`] (the target brought up to a changed source, by job)
//! 11. [`run`]
//! 12. [`report`] (every table decant prints: the plan, checks, status, a run's, a sync's and a
//!     cutover's reports), above what it prints
//! 13. [`commands`], the only place errors become messages and exit codes

//!
//! Backends. [`engines`] holds one folder per engine — `sqlite/`, `mysql/` (sources) and
//! `postgres/` (the target) — each with its connection, introspection, profiling, type mapping
//! and SQL (beside `templates/<engine>/`). The rest of the code holds the seam's types:
//! [`engines::SourceConnection`] opens, snapshots and streams rows as engine-neutral
//! [`engines::SqlValue`]s; [`engines::open_source`] and [`engines::introspect_source`] fill the
//! same [`catalog::Catalog`], whose [`catalog::Engine`] routes the type mapping
//! ([`engines::default_mapping`]) and the source's templates; [`engines::TargetConnection`]
//! carries statements, transactions, the bulk loader (binary COPY in) and the read-back stream
//! (binary COPY out). No file outside an engine's folder names its connection type or its
//! variants (`tests/layers.rs` keeps it so). What is PostgreSQL's own SQL reaches the inner
//! connection through [`engines::TargetConnection::postgres`], in a listed set of places:
//! [`journal`] (every `decant.*` statement), `engines::postgres::introspect` (an app's existing
//! schema), the checks' typed queries; beside them [`mapping::wire`] (PostgreSQL's binary
//! types, for the loader and the checksums) and `templates/postgres/`.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod catalog;
pub mod checks;
pub mod cli;
pub mod colour;
pub mod commands;
pub mod compare;
pub mod convert;
pub mod copy;
pub mod dialect;
pub mod engines;
pub mod errors;
pub mod graph;
pub mod init;
pub mod journal;
pub mod mapping;
pub mod migrations;
pub mod naming;
pub mod orphans;
pub mod plan;
pub mod prepare;
pub mod rehearse;
pub mod render;
pub mod report;
pub mod resolve;
pub mod run;
pub mod signals;
pub mod sync;
pub mod trace;
pub mod transform;
pub mod url;

//! Every database engine decant reads or writes, one folder each (`sqlite/`, `mysql/`,
//! `postgres/`: connect, introspect, profile, type mapping), behind one engine-neutral seam.
//!
//! The seam, in this folder's own files: [`SourceConnection`] (a variant per source engine)
//! opens, snapshots and streams rows as [`SqlValue`]s; [`TargetConnection`] (PostgreSQL
//! today) carries statements, transactions and the bulk loader; [`open_source`] and
//! [`introspect_source`] fill the engine-neutral [`crate::catalog::Catalog`];
//! [`default_mapping`] routes a column to its engine's type mapping. The rest of the code
//! holds these types and never names an engine's connection (`tests/layers.rs` keeps it so);
//! the SQL an engine runs is in its folder or in `templates/<engine>/`. [`WritableSource`]
//! writes rows back into a source engine (SQLite), for the way back after a cutover.

pub mod changes;
mod count;
pub mod digest;
mod engine;
mod introspect;
pub mod mapping;
pub mod mysql;
pub mod pause;
pub mod postgres;
mod query_sql;
mod source;
pub mod sqlite;
pub(crate) mod target;
pub mod url;
pub(crate) mod value;
pub mod writer;

pub(crate) use count::count_with;
pub use count::CountError;
pub use introspect::{introspect_source, open_source, IntrospectError};
pub use mapping::{default_mapping, TypeDecision};
pub(crate) use source::share_out;
pub use source::{AnotherSource, PageKey, SourceConnection, VisitError};
pub use target::{TargetConnection, TYPE_OID};
pub use url::{PlanSource, Unresolvable};
pub use value::{AnyStorage, SourceRow, SqlValue};
pub use writer::{Affinity, WritableSource, WriteError};

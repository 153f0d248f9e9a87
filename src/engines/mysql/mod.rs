//! MySQL and MariaDB as a source: the read session and its values, introspection from
//! `information_schema`, profiling and counts, paged reads, the type mapping to PostgreSQL.

pub(crate) mod digest;
mod introspect;
pub(crate) mod pages;
pub mod pause;
pub mod query_sql;
pub mod session;
pub mod types;
pub(crate) mod url;
pub mod writer;

pub use introspect::{count_tables, count_where, introspect_mysql, profile_mysql};
pub use pages::MYSQL_PAGE_ROWS;
pub use session::{is_numeric, open};

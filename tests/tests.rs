//! decant's integration tests: one binary, so the crate links once.

#![allow(clippy::unwrap_used)]

mod support;

mod app_cycles;
mod app_restore;
mod app_schema;
mod app_triggers;
mod checks;
mod checksums;
mod cli;
mod copy;
mod cutover;
mod cutover_reverse;
mod exactly_once;
mod fixtures;
mod init;
mod introspect;
mod journal_owner;
mod layers;
mod limits;
mod mysql;
mod mysql_app;
mod mysql_sample;
mod output;
mod pg_source;
mod plan_sql;
mod readme;
mod recovery;
mod rehearse;
mod resolve;
mod reverse;
mod reverse_mysql;
mod rollback;
mod run;
mod secrets;
mod signals;
mod spatial;
mod sync;
mod traps;
mod values;
mod views;

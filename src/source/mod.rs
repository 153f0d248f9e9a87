//! What sync and cutover do on a source beyond reading it: digests of rows as they lie, and
//! the write pause. The connection itself is [`crate::engines::SourceConnection`].

pub mod digest;
pub mod pause;

// The names `digest` and `pause` find through `super::`.
use crate::engines::mysql;
use crate::engines::mysql::pages::read_pages;
use crate::engines::{share_out, AnyStorage, PageKey, SourceConnection, SqlValue};

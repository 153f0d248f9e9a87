//! What a sync does on a source beyond reading it: digests of rows as they lie, summed per key
//! window. The connection is [`crate::engines::SourceConnection`]; the write pause, [`crate::engines::pause`].

pub mod digest;

// The names `digest` finds through `super::`.
use crate::engines::mysql::pages::read_pages;
use crate::engines::{share_out, AnyStorage, PageKey, SourceConnection, SqlValue};

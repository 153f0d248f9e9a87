//! PostgreSQL's binary wire types, shared by the loader, the checksums and resolution. Each
//! engine's type mapping lives in its folder under `crate::engines`.

pub mod inverse;
pub mod wire;

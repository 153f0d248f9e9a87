//! Converting one value to a PostgreSQL column's type: numbers, text, dates and times, exact
//! decimals, addresses, and the binary COPY field each becomes, or the reason it cannot.

pub mod addresses;
pub mod binary;
pub mod calendar;
pub mod column;
pub mod datetime;
pub mod decimal;
pub mod key;
pub mod real;
pub mod scalar;
pub mod value;

pub(crate) use addresses::IpNet;
pub(crate) use binary::Kind;
pub(crate) use column::Column;
pub(crate) use datetime::epoch;
pub use datetime::{format_epoch_micros, microseconds_interval, shown_instant};
pub(crate) use decimal::Decimal;
pub use real::sqlite_real_text;
pub(crate) use scalar::number;
pub use scalar::{special_float, to_boolean};
pub(crate) use value::{invalid_utf8, Reason, Val};

//! The bulk loader and the read-back stream: `COPY … FROM STDIN (FORMAT binary)` and
//! `COPY … TO STDOUT (FORMAT binary)` through Diesel, for tables and columns known only at run
//! time.
//!
//! Diesel's `copy_from` names its target through `CopyTarget::walk_target`, an associated
//! function without `self` (and `#[doc(hidden)]`, which is why diesel is pinned). The target
//! SQL therefore travels in a thread-local set for the duration of one COPY; the COPY runs
//! synchronously on the calling thread.

use std::cell::RefCell;
use std::io::{BufRead, Write};

use diesel::pg::{CopyFormat, CopyTarget, Pg};
use diesel::query_builder::AstPass;
use diesel::{ExecuteCopyFromDsl, QueryResult};

use crate::engines::TargetConnection;

diesel::table! {
    /// Never queried: the `Table` type Diesel's COPY API wants; the real target is set at run time.
    decant_copy_target (id) {
        id -> Integer,
    }
}

thread_local! {
    /// The `"schema"."table" ("a", "b")` of the COPY running on this thread.
    static TARGET: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A COPY target whose table and columns come from [`TARGET`].
struct RuntimeTarget;

impl CopyTarget for RuntimeTarget {
    type Table = decant_copy_target::table;
    type SqlType = diesel::sql_types::Integer;

    fn walk_target(mut pass: AstPass<'_, '_, Pg>) -> QueryResult<()> {
        TARGET.with(|target| match target.borrow().as_deref() {
            Some(sql) => {
                pass.push_sql(sql);
                Ok(())
            }
            None => Err(diesel::result::Error::QueryBuilderError(
                "no run-time COPY target is set on this thread".into(),
            )),
        })
    }
}

/// Sets [`TARGET`] and restores the previous value when dropped.
struct TargetGuard(Option<String>);

impl TargetGuard {
    fn set(sql: &str) -> TargetGuard {
        TargetGuard(TARGET.with(|t| t.replace(Some(sql.to_owned()))))
    }
}

impl Drop for TargetGuard {
    fn drop(&mut self) {
        let previous = self.0.take();
        TARGET.with(|t| *t.borrow_mut() = previous);
    }
}

/// How the data callback of a COPY ends badly.
#[derive(Debug, thiserror::Error)]
pub enum CopyFailure {
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    /// The caller stopped the COPY; the message goes to the server, which cancels it.
    #[error("{0}")]
    Aborted(String),
}

/// What a rendered `COPY <target> FROM STDIN (FORMAT binary[, FREEZE])` statement copies into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyInto<'a> {
    /// The table and its column list, as written.
    pub target: &'a str,
    /// Rows are written frozen: the table was created or emptied in the same transaction.
    pub freeze: bool,
}

/// The target part of a rendered `COPY <target> FROM STDIN (FORMAT binary)` statement, or
/// `None` when the statement is not a binary COPY from STDIN.
pub fn copy_target_of(copy_sql: &str) -> Option<CopyInto<'_>> {
    let sql = copy_sql.trim().trim_end_matches(';').trim_end();
    // ASCII upper-casing keeps byte offsets, so they index `sql` too.
    let upper = sql.to_ascii_uppercase();
    if !upper.starts_with("COPY ") {
        return None;
    }
    let from = upper.rfind(" FROM STDIN")?;
    let options: String = upper[from + " FROM STDIN".len()..]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let freeze = match options.as_str() {
        "(FORMATBINARY)" | "WITH(FORMATBINARY)" | "BINARY" | "WITHBINARY" => false,
        "(FORMATBINARY,FREEZE)" | "WITH(FORMATBINARY,FREEZE)" => true,
        _ => return None,
    };
    let target = sql[5..from].trim();
    (!target.is_empty()).then_some(CopyInto { target, freeze })
}

impl CopyInto<'_> {
    /// The statement [`copy_in`] sends for this COPY, as Diesel writes it on the wire (its
    /// `COPY … FROM STDIN WITH (…)` with `FREEZE 1`): what `decant plan` prints and a run's
    /// report records, so both show the very text the server received.
    pub fn statement(&self) -> String {
        format!(
            "COPY {} FROM STDIN WITH (FORMAT binary{})",
            self.target,
            if self.freeze { ", FREEZE 1" } else { "" }
        )
    }
}

/// Runs `COPY <target> FROM STDIN WITH (FORMAT binary[, FREEZE])` on `conn`, calling `write`
/// once with the stream. An error from `write` cancels the COPY, so the server keeps none of
/// its rows. Returns the row count the server reports.
pub fn copy_in<F>(
    conn: &mut TargetConnection,
    into: CopyInto<'_>,
    write: F,
) -> Result<usize, CopyFailure>
where
    F: FnMut(&mut dyn Write) -> Result<(), CopyFailure>,
{
    let write = RefCell::new(write);
    let _guard = TargetGuard::set(into.target);
    let copy = diesel::copy_from(decant_copy_target::table)
        .from_raw_data(RuntimeTarget, |out: &mut dyn Write| {
            let mut write = write.try_borrow_mut().map_err(|_| {
                CopyFailure::Aborted("the COPY callback ran twice at once".to_owned())
            })?;
            (*write)(out)
        })
        .with_format(CopyFormat::Binary);
    // `FREEZE` only when wanted: Diesel writes `with_freeze(false)` as `FREEZE 0`, which
    // [`CopyInto::statement`] would then have to print too.
    let copy = if into.freeze {
        copy.with_freeze(true)
    } else {
        copy
    };
    copy.execute(conn.postgres())
}

/// Runs `COPY <source> TO STDOUT WITH (FORMAT binary)` on `conn`, where `source` is a table
/// with its columns or a parenthesised query; returns the raw stream, which must be read to
/// its end before `conn` runs anything else.
pub fn copy_out<'c>(
    conn: &'c mut TargetConnection,
    source: &str,
) -> QueryResult<impl BufRead + 'c> {
    let _guard = TargetGuard::set(source);
    diesel::copy_to(RuntimeTarget)
        .with_format(CopyFormat::Binary)
        .load_raw(conn.postgres())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_copy_statements_yield_their_target() {
        let target = |sql| copy_target_of(sql).map(|into| into.target);
        assert_eq!(
            target(r#"COPY "public"."t" ("a", "b") FROM STDIN (FORMAT binary)"#),
            Some(r#""public"."t" ("a", "b")"#)
        );
        assert_eq!(
            target("copy t (a) from stdin with (format binary);"),
            Some("t (a)")
        );
        assert_eq!(
            target(r#"COPY "a FROM STDIN" (x) FROM STDIN (FORMAT binary)"#),
            Some(r#""a FROM STDIN" (x)"#)
        );
        assert_eq!(
            copy_target_of(r#"COPY "s"."t" ("a") FROM STDIN (FORMAT binary, FREEZE)"#),
            Some(CopyInto {
                target: r#""s"."t" ("a")"#,
                freeze: true
            })
        );
        assert_eq!(
            copy_target_of("COPY t (a) FROM STDIN (FORMAT binary)").map(|i| i.freeze),
            Some(false)
        );
        assert_eq!(copy_target_of("COPY t (a) FROM STDIN (FORMAT csv)"), None);
        assert_eq!(copy_target_of("INSERT INTO t VALUES (1)"), None);
    }
}

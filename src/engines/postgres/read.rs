//! How a PostgreSQL source's rows are read: one query's rows streamed to a visitor, and one key
//! range of a big table read in batches by one of several connections sharing a snapshot.

use diesel::pg::PgRowByRowLoadingMode;
use diesel::{PgConnection, RunQueryDsl};
use minijinja::context;

use crate::dialect::Templates;
use crate::engines::{SourceRow, SqlValue, VisitError};

/// Rows a range reader hands over at once: enough to keep the channel's overhead small, few
/// enough that the readers' batches interleave and memory stays flat.
const BATCH_ROWS: usize = 4096;

/// Hands every row of `sql` to `visit`, in order, streamed row by row (libpq's single-row
/// mode), so memory stays flat over a big table.
pub(crate) fn stream_rows<E>(
    conn: &mut PgConnection,
    sql: &str,
    mut visit: impl FnMut(Vec<SqlValue>) -> Result<(), E>,
) -> Result<(), VisitError<E>> {
    let rows = diesel::sql_query(sql)
        .load_iter::<SourceRow, PgRowByRowLoadingMode>(conn)
        .map_err(VisitError::Read)?;
    for row in rows {
        let SourceRow(values) = row.map_err(VisitError::Read)?;
        visit(values).map_err(VisitError::Stopped)?;
    }
    Ok(())
}

/// Reads the rows of `select_sql` whose integer column `key` lies within `within` (first and
/// last, inclusive), or all of them, and hands them to `send` in batches, until the last or
/// until `send` says stop. A failure is sent too, and ends the read.
pub(crate) fn read_range(
    conn: &mut PgConnection,
    select_sql: &str,
    key: &str,
    within: Option<(i64, i64)>,
    mut send: impl FnMut(diesel::QueryResult<Vec<Vec<SqlValue>>>) -> bool,
) {
    let sql = match within {
        None => Ok(select_sql.to_owned()),
        Some((first, last)) => Templates::new(None)
            .render(
                &crate::dialect::source_template("postgres", "select_range"),
                context! { select => select_sql, key, within => [first, last] },
            )
            .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into())),
    };
    let sql = match sql {
        Ok(sql) => sql,
        Err(e) => {
            send(Err(e));
            return;
        }
    };
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let streamed = stream_rows(conn, &sql, |values| {
        batch.push(values);
        if batch.len() < BATCH_ROWS {
            return Ok(());
        }
        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
        if send(Ok(full)) {
            Ok(())
        } else {
            Err(())
        }
    });
    match streamed {
        Ok(()) if !batch.is_empty() => {
            send(Ok(batch));
        }
        Ok(()) | Err(VisitError::Stopped(())) => {}
        Err(VisitError::Read(e)) => {
            send(Err(e));
        }
    }
}

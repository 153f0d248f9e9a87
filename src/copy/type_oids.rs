//! The target database's own OIDs of the app's enum types that a table's enum-array columns
//! hold: binary COPY names an array's element type by OID, which differs between databases.

use std::borrow::Cow;

use diesel::sql_types::{Oid, Text};
use diesel::{QueryResult, QueryableByName, RunQueryDsl};

use crate::resolve::ResolvedTable;
use crate::target::TargetConnection;

/// Looks up one type by its SQL spelling (as `format_type` wrote it, qualified where needed).
pub(crate) const TYPE_OID: &str = "SELECT $1::regtype::oid AS oid";

#[derive(QueryableByName)]
struct TypeOid {
    #[diesel(sql_type = Oid)]
    oid: u32,
}

/// `table` with the OID of each enum its array columns hold as `target` has it; the table
/// itself when it has no such column.
pub(crate) fn with_type_oids<'t>(
    target: &mut TargetConnection,
    table: &'t ResolvedTable,
) -> QueryResult<Cow<'t, ResolvedTable>> {
    let unbound = |c: &crate::resolve::ResolvedColumn| {
        c.target_type.array && !c.target_type.labels.is_empty()
    };
    if !table.columns.iter().any(unbound) {
        return Ok(Cow::Borrowed(table));
    }
    let mut bound = table.clone();
    for column in bound.columns.iter_mut().filter(|c| unbound(c)) {
        let found = diesel::sql_query(TYPE_OID)
            .bind::<Text, _>(&column.target_type.base)
            .get_result::<TypeOid>(target.postgres())?;
        column.target_type.element_oid = Some(found.oid);
    }
    Ok(Cow::Owned(bound))
}

//! The target database's own OIDs of the app's enum types that a table's enum-array columns
//! hold: binary COPY names an array's element type by OID, which differs between databases.

use std::borrow::Cow;

use diesel::QueryResult;

use crate::engines::TargetConnection;
use crate::resolve::{ResolvedColumn, ResolvedTable};

pub(crate) use crate::engines::target::TYPE_OID;

/// `table` with the OID of each enum its array columns hold as `target` has it; the table
/// itself when it has no such column.
pub(crate) fn with_type_oids<'t>(
    target: &mut TargetConnection,
    table: &'t ResolvedTable,
) -> QueryResult<Cow<'t, ResolvedTable>> {
    let enum_array = |c: &ResolvedColumn| c.target_type.array && !c.target_type.labels.is_empty();
    if !table.columns.iter().any(enum_array) {
        return Ok(Cow::Borrowed(table));
    }
    let mut bound = table.clone();
    for column in bound.columns.iter_mut().filter(|c| enum_array(c)) {
        column.target_type.element_oid = Some(target.type_oid(&column.target_type.base)?);
    }
    Ok(Cow::Owned(bound))
}

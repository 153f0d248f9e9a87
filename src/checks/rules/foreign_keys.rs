//! `foreign-keys:<table>`: after loading, every planned foreign key exists in the target and is
//! validated; the source's orphans (found by [`crate::orphans`]) are reported
//! with sample keys, as `settings.orphans` handled them.

use diesel::sql_types::{Array, Bool, Text};
use diesel::RunQueryDsl;

use super::{Check, Context, Needs, SourceReads};
use crate::checks::{selected_tables, timed, CheckError, CheckResult, Finding, Side};
use crate::engines::SourceConnection;
use crate::engines::TargetConnection;
use crate::orphans::{count_orphans, source_foreign_keys, OrphanError, OrphanFinding};
use crate::plan::model::{Check as PlanCheck, OrphanPolicy, Selection};
use crate::resolve::{ResolvedPlan, ResolvedTable};

/// `foreign-keys:<table>`.
pub struct ForeignKeys;

impl Check for ForeignKeys {
    fn id(&self) -> &'static str {
        "foreign-keys"
    }

    fn needs(&self) -> Needs {
        Needs {
            source: SourceReads::Rows,
        }
    }

    fn applies(&self, entry: &PlanCheck) -> bool {
        entry.foreign_keys.is_some()
    }

    /// A table named explicitly is checked even without planned foreign keys (it says so);
    /// under `all`, only tables that have some.
    fn run(&self, entry: &PlanCheck, cx: &mut Context<'_, '_>, out: &mut dyn FnMut(CheckResult)) {
        let Some(selection) = &entry.foreign_keys else {
            return;
        };
        let resolved = &cx.prepared.resolved;
        let explicit = matches!(selection, Selection::Tables(_));
        for table in selected_tables(resolved, selection) {
            if !explicit && table.foreign_keys.is_empty() {
                continue;
            }
            let id = format!("foreign-keys:{}", table.source);
            let dbs = &mut *cx.dbs;
            out(timed(id.clone(), || {
                check_table(
                    dbs.source,
                    dbs.target,
                    resolved,
                    table,
                    dbs.known_orphans,
                    &id,
                )
            }));
        }
    }
}

#[derive(diesel::QueryableByName)]
struct TargetForeignKey {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    validated: bool,
    #[diesel(sql_type = Text)]
    referenced: String,
    #[diesel(sql_type = Array<Text>)]
    columns: Vec<String>,
    #[diesel(sql_type = Array<Text>)]
    referenced_columns: Vec<String>,
}

const TARGET_FOREIGN_KEYS: &str = "SELECT c.conname::text AS name, c.convalidated AS validated, rt.relname::text AS referenced, \
    ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(num, ord) \
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num ORDER BY k.ord) AS columns, \
    ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(num, ord) \
          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.num ORDER BY k.ord) AS referenced_columns \
    FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
    JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_class rt ON rt.oid = c.confrelid \
    WHERE c.contype = 'f' AND n.nspname = $1 AND t.relname = $2 ORDER BY 1";

/// After loading: every planned foreign key of `table` exists in the target and is validated;
/// the source's orphans are reported with sample keys. `known` holds the orphans a run already
/// counted in the same source before loading; without it the source is searched.
fn check_table(
    source: &mut SourceConnection,
    target: &mut TargetConnection,
    resolved: &ResolvedPlan,
    table: &ResolvedTable,
    known: Option<&[OrphanFinding]>,
    id: &str,
) -> Result<Finding, CheckError> {
    let policy = resolved.settings.orphans;
    let present = diesel::sql_query(TARGET_FOREIGN_KEYS)
        .bind::<Text, _>(&resolved.schema)
        .bind::<Text, _>(&table.target)
        .load::<TargetForeignKey>(target.postgres())
        .map_err(|e| CheckError::query(id, Side::Target, TARGET_FOREIGN_KEYS, e))?;
    let mut details = Vec::new();
    let mut problems = 0usize;
    let planned = source_foreign_keys(resolved, table);
    for fk in &planned {
        let resolved_fk = &fk.target;
        let (orphan_count, orphan_samples) = match known {
            Some(found) => found
                .iter()
                .find(|f| f.table == table.source && f.constraint == fk.name)
                .map_or((0, Vec::new()), |f| (f.count, f.samples.clone())),
            None => {
                let f = count_orphans(source, resolved, table, fk).map_err(|e| match e {
                    OrphanError::Query { sql, source, .. } => {
                        CheckError::query(id, Side::Source, sql, source)
                    }
                    key @ OrphanError::Key(_) => CheckError::Orphans {
                        check: id.to_owned(),
                        source: key,
                    },
                })?;
                (f.count, f.samples)
            }
        };
        let found = present.iter().find(|p| p.name == fk.name).or_else(|| {
            present.iter().find(|p| {
                p.columns == resolved_fk.columns
                    && p.referenced == resolved_fk.referenced_table
                    && p.referenced_columns == resolved_fk.referenced_columns
            })
        });
        let line = match found {
            Some(p) if p.validated => format!("`{}` {}: present and validated", p.name, fk.describe()),
            Some(p) if resolved_fk.not_valid => format!(
                "`{}` {}: present and NOT VALID, as the app made it",
                p.name,
                fk.describe()
            ),
            Some(p) => {
                problems += 1;
                format!(
                    "`{}` {}: present but NOT VALID: the target's rows were never checked against it",
                    p.name,
                    fk.describe()
                )
            }
            None if orphan_count > 0 && policy == OrphanPolicy::SkipConstraint => format!(
                "`{}` {}: not created, as settings.orphans: skip_constraint says for the source's {} orphan row(s)",
                fk.name,
                fk.describe(),
                orphan_count
            ),
            None => {
                problems += 1;
                format!("`{}` {}: missing in the target", fk.name, fk.describe())
            }
        };
        details.push(line);
        if orphan_count > 0 {
            let what = match policy {
                OrphanPolicy::Reject => "rejected by settings.orphans: reject",
                OrphanPolicy::SkipConstraint => "loaded; settings.orphans: skip_constraint",
                OrphanPolicy::Fail => "settings.orphans: fail stops a run on them",
            };
            details.push(format!(
                "  the source has {} orphan row(s) ({what}), e.g. {}",
                orphan_count,
                orphan_samples.join("; ")
            ));
        }
    }
    if planned.is_empty() {
        details.push(format!(
            "table `{}` has no planned foreign keys",
            table.source
        ));
    }
    Ok(if problems == 0 {
        Finding::pass(
            format!("{} foreign key(s) in place", planned.len()),
            details,
        )
    } else {
        Finding::fail(
            format!(
                "{problems} of {} foreign key(s) missing or not validated",
                planned.len()
            ),
            details,
        )
    })
}

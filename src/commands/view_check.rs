//! Views checked against PostgreSQL before any run: `decant plan` makes the plan's tables and
//! each rewritten view in one transaction on the target that it rolls back, and warns with
//! PostgreSQL's own reason for each view it refuses.

use diesel::connection::SimpleConnection;

use crate::engines::TargetConnection;
use crate::errors::database_chain;
use crate::graph::StepKind;
use crate::prepare::Prepared;

/// What the target said of the plan's views.
#[derive(Debug, Default, PartialEq)]
pub struct ViewCheck {
    /// One warning per view PostgreSQL refuses, with its reason.
    pub refused: Vec<String>,
    /// Why the views could not be checked at all (the target unreachable, say).
    pub unchecked: Option<String>,
}

/// The transaction ends in this, so it is always rolled back.
enum Outcome {
    Checked(Vec<String>),
    Failed(diesel::result::Error),
}

impl From<diesel::result::Error> for Outcome {
    fn from(e: diesel::result::Error) -> Self {
        Outcome::Failed(e)
    }
}

/// Creates the schema and tables the plan makes (each in a savepoint: one that already exists
/// is used as it is) and then each view as the run's `create-views` step does, in one
/// transaction on the plan's target that is rolled back: nothing stays.
pub fn check_views(prepared: &Prepared) -> ViewCheck {
    let Some(views) = prepared
        .steps
        .iter()
        .find(|s| s.kind == StepKind::Views)
        .filter(|_| !prepared.resolved.views.is_empty())
    else {
        return ViewCheck::default();
    };
    let mut target = match TargetConnection::establish(&prepared.loaded.plan.target.url) {
        Ok(target) => target,
        Err(e) => {
            return ViewCheck {
                refused: Vec::new(),
                unchecked: Some(format!("cannot connect to the target: {e}")),
            }
        }
    };
    let makes_tables = prepared
        .steps
        .iter()
        .filter(|s| {
            matches!(
                s.kind,
                StepKind::CreateSchema | StepKind::CreateTable { .. }
            )
        })
        .flat_map(|s| &s.target_sql);
    let schema = crate::dialect::quote_ident(&prepared.resolved.schema);
    let outcome = target.transaction::<(), Outcome, _>(|conn| {
        for sql in makes_tables {
            // Already there (a table of an earlier run): the view is checked against it.
            let _ = conn.transaction::<_, diesel::result::Error, _>(|conn| conn.batch_execute(sql));
        }
        let mut refused = Vec::new();
        for (view, sql) in prepared.resolved.views.iter().zip(&views.target_sql) {
            let attempt = conn.transaction::<_, diesel::result::Error, _>(|conn| {
                conn.batch_execute(&format!("SET LOCAL search_path TO {schema}"))?;
                conn.batch_execute(sql)
            });
            if let Err(e) = attempt {
                refused.push(format!(
                    "view `{}` will not be carried: PostgreSQL refuses its rewritten SELECT: {}",
                    view.source,
                    database_chain(&e)
                ));
            }
        }
        Err(Outcome::Checked(refused))
    });
    match outcome {
        Err(Outcome::Checked(refused)) => ViewCheck {
            refused,
            unchecked: None,
        },
        Err(Outcome::Failed(e)) => ViewCheck {
            refused: Vec::new(),
            unchecked: Some(database_chain(&e)),
        },
        Ok(()) => ViewCheck::default(),
    }
}

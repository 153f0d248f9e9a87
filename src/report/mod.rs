//! Every table decant prints: what `decant plan` shows (text for terminals, Markdown for pull
//! requests, JSON for tools, the bare SQL script), check results, status, and the reports of a
//! run, a sync and a cutover; all to any `io::Write`. It sits above what it prints.

pub mod checks;
pub mod cutover;
pub mod markdown;
pub mod run;
pub mod status;
pub mod sync;
pub mod text;

use std::io::{self, Write};

use serde::Serialize;

use crate::plan::model::Settings;
use crate::prepare::Prepared;
use crate::render::RenderedStep;
use crate::resolve::ResolvedTable;
use crate::url::redact_url;

/// The resolved plan as shown to people: URLs redacted, steps in order.
#[derive(Debug, Serialize)]
pub struct PlanView<'a> {
    pub name: &'a str,
    pub decant_version: &'static str,
    pub source: String,
    pub target: String,
    pub schema: &'a str,
    pub settings: &'a Settings,
    pub tables: &'a [ResolvedTable],
    pub notes: &'a [String],
    pub steps: &'a [RenderedStep],
    /// Views PostgreSQL refuses, with its reason (`decant plan` asks the target).
    pub view_warnings: Vec<String>,
}

impl<'a> PlanView<'a> {
    pub fn new(p: &'a Prepared) -> Self {
        PlanView {
            name: &p.resolved.name,
            decant_version: env!("CARGO_PKG_VERSION"),
            source: redact_url(&p.loaded.plan.source.url),
            target: redact_url(&p.loaded.plan.target.url),
            schema: &p.resolved.schema,
            settings: &p.resolved.settings,
            tables: &p.resolved.tables,
            notes: &p.resolved.notes,
            steps: &p.steps,
            view_warnings: Vec::new(),
        }
    }

    /// Lossy or ambiguous decisions, one line each: `table.column: warning`.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = crate::resolve::resolution_warnings(self.tables);
        warnings.extend(self.view_warnings.iter().cloned());
        warnings
    }
}

/// `settings` on one line.
pub fn settings_line(s: &Settings) -> String {
    let name = |v: &dyn erased::Named| v.name();
    format!(
        "if_exists={} on_bad_row={} constraints={} workers={}",
        name(&s.if_exists),
        name(&s.on_bad_row),
        name(&s.constraints),
        s.workers
    )
}

mod erased {
    /// The snake_case name a settings enum has in the plan file.
    pub trait Named {
        fn name(&self) -> String;
    }

    impl<T: serde::Serialize> Named for T {
        fn name(&self) -> String {
            serde_json::to_value(self)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        }
    }
}

/// The whole run as one SQL script, with the step of each statement as a comment.
pub fn write_sql(view: &PlanView<'_>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "-- decant {} plan `{}`: {} → {}",
        view.decant_version, view.name, view.source, view.target
    )?;
    for step in view.steps {
        if step.target_sql.is_empty() && step.source_sql.is_empty() {
            continue;
        }
        writeln!(out, "\n-- step {}", step.id)?;
        for s in &step.source_sql {
            writeln!(out, "-- reads from the source: {s}")?;
        }
        for s in &step.target_sql {
            let data = if s.starts_with("COPY ") {
                "\n-- (rows streamed by decant)"
            } else {
                ""
            };
            writeln!(out, "{s};{data}")?;
        }
    }
    Ok(())
}

//! `decant plan` for a terminal: the settings, each table's column decisions with the rule
//! that made them, the warnings, and every step's SQL in order.

use std::io::{self, Write};

use super::{settings_line, PlanView};
use crate::resolve::ResolvedColumn;

fn column_target(c: &ResolvedColumn) -> String {
    let mut s = c.target_type.sql();
    if c.identity {
        s.push_str(" identity");
    }
    if c.generated.is_some() {
        s.push_str(" generated");
    }
    if !c.nullable {
        s.push_str(" not null");
    }
    s
}

pub fn write_plan(view: &PlanView<'_>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "plan `{}` (decant {})", view.name, view.decant_version)?;
    writeln!(out, "  source    {}", view.source)?;
    writeln!(
        out,
        "  target    {} (schema `{}`)",
        view.target, view.schema
    )?;
    writeln!(out, "  settings  {}", settings_line(view.settings))?;
    writeln!(out, "\ntables ({})", view.tables.len())?;
    for t in view.tables {
        let filter = t
            .filter
            .as_deref()
            .map(|f| format!(", where {f}"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {} → {}  ({} rows{filter})",
            t.source, t.target, t.source_rows
        )?;
        let rows: Vec<[String; 5]> = t
            .columns
            .iter()
            .map(|c| {
                let name = if c.source == c.target {
                    c.source.clone()
                } else {
                    format!("{} → {}", c.source, c.target)
                };
                let declared = if c.declared.is_empty() {
                    "(none)".to_owned()
                } else {
                    c.declared.clone()
                };
                let transform = c
                    .transform
                    .as_ref()
                    .map(|t| format!("  transform: {}", t.text()))
                    .unwrap_or_default();
                [name, declared, column_target(c), c.rule.clone(), transform]
            })
            .collect();
        let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
        let (w0, w1, w2) = (width(0), width(1), width(2));
        for (row, c) in rows.iter().zip(&t.columns) {
            writeln!(
                out,
                "    {:w0$}  {:w1$}  → {:w2$}  [{}]{}",
                row[0], row[1], row[2], row[3], row[4]
            )?;
            for w in &c.warnings {
                writeln!(out, "      ! {w}")?;
            }
        }
        for w in &t.warnings {
            writeln!(out, "    ! {w}")?;
        }
    }
    if !view.notes.is_empty() {
        writeln!(out, "\nnot carried")?;
        for n in view.notes {
            writeln!(out, "  - {n}")?;
        }
    }
    let warnings = view.warnings();
    writeln!(out, "\nwarnings ({})", warnings.len())?;
    for w in &warnings {
        writeln!(out, "  - {w}")?;
    }
    writeln!(
        out,
        "\nsteps ({}, in order; steps in the same wave can run in parallel)",
        view.steps.len()
    )?;
    for (i, step) in view.steps.iter().enumerate() {
        let after = if step.depends_on.is_empty() {
            String::new()
        } else {
            format!("  after {}", step.depends_on.join(", "))
        };
        writeln!(
            out,
            "  {:>3}. {} (wave {}){after}",
            i + 1,
            step.id,
            step.wave
        )?;
        for s in &step.source_sql {
            writeln!(out, "       source> {}", indent(s, "               "))?;
        }
        for s in &step.target_sql {
            writeln!(out, "       target> {};", indent(s, "               "))?;
        }
    }
    Ok(())
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .collect::<Vec<_>>()
        .join(&format!("\n{prefix}"))
}

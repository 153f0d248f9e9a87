//! `decant plan --format markdown`: the plan for a pull request or a cutover ticket.

use std::io::{self, Write};

use super::{settings_line, PlanView};

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

pub fn write_plan(view: &PlanView<'_>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# decant plan `{}`\n", view.name)?;
    writeln!(out, "- **source**: `{}`", view.source)?;
    writeln!(
        out,
        "- **target**: `{}` (schema `{}`)",
        view.target, view.schema
    )?;
    writeln!(out, "- **settings**: `{}`", settings_line(view.settings))?;
    writeln!(out, "- **decant**: {}\n", view.decant_version)?;
    writeln!(out, "## Tables\n")?;
    writeln!(
        out,
        "| source | target | rows | filter |\n| --- | --- | ---: | --- |"
    )?;
    for t in view.tables {
        writeln!(
            out,
            "| `{}` | `{}` | {} | {} |",
            cell(&t.source),
            cell(&t.target),
            t.source_rows,
            t.filter
                .as_deref()
                .map(|f| format!("`{}`", cell(f)))
                .unwrap_or_default()
        )?;
    }
    for t in view.tables {
        writeln!(out, "\n### `{}` → `{}`\n", cell(&t.source), cell(&t.target))?;
        writeln!(out, "| column | declared | target type | rule | transform |\n| --- | --- | --- | --- | --- |")?;
        for c in &t.columns {
            let name = if c.source == c.target {
                format!("`{}`", cell(&c.source))
            } else {
                format!("`{}` → `{}`", cell(&c.source), cell(&c.target))
            };
            writeln!(
                out,
                "| {name} | `{}` | `{}`{}{} | {} | {} |",
                cell(&c.declared),
                cell(&c.target_type.sql()),
                if c.identity { " identity" } else { "" },
                if c.nullable { "" } else { " not null" },
                cell(&c.rule),
                c.transform
                    .as_ref()
                    .map(|t| format!("`{}`", cell(&t.text())))
                    .unwrap_or_default()
            )?;
        }
    }
    let warnings = view.warnings();
    if !warnings.is_empty() || !view.notes.is_empty() {
        writeln!(out, "\n## Warnings\n")?;
        for w in warnings.iter().chain(view.notes.iter()) {
            writeln!(out, "- {}", w.replace('\n', " "))?;
        }
    }
    writeln!(out, "\n## Steps\n")?;
    for (i, step) in view.steps.iter().enumerate() {
        writeln!(
            out,
            "{}. `{}`{}",
            i + 1,
            step.id,
            if step.depends_on.is_empty() {
                String::new()
            } else {
                format!(
                    " — after {}",
                    step.depends_on
                        .iter()
                        .map(|d| format!("`{d}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        )?;
    }
    writeln!(out, "\n<details><summary>SQL</summary>\n\n```sql")?;
    super::write_sql(view, out)?;
    writeln!(out, "```\n\n</details>")?;
    Ok(())
}

//! `decant init --source URL [--target URL] [-o FILE]`: introspect, profile, write a starter plan.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};

use super::{Failure, EXIT_OK};
use crate::cli::InitArgs;
use crate::engines::{introspect_source, open_source, PlanSource};
use crate::url::{parse_source_url, redact_url, without_password};

/// `target` relative to `base` when `target` lies under it; otherwise `None`.
fn absolute(path: &Path) -> std::io::Result<PathBuf> {
    if path.is_absolute() {
        Ok(path.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(path))
    }
}

pub fn run(args: &InitArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Failure> {
    let cwd = std::env::current_dir()?;
    let url = parse_source_url(&args.source, &cwd).map_err(|e| Failure::Other(e.into()))?;
    let mut conn = open_source(&url).map_err(|e| Failure::Other(e.into()))?;
    let mut catalog = introspect_source(&mut conn, &|| open_source(&url).ok(), true)
        .map_err(|e| Failure::Other(e.into()))?;
    conn.profile(&mut catalog, |_, _| true)
        .map_err(|e| Failure::Other(e.into()))?;

    let to_file = args.output.as_ref().filter(|o| o.as_os_str() != "-");
    let plan_dir = match to_file {
        Some(o) => absolute(o)?
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| cwd.clone()),
        None => cwd.clone(),
    };
    let canonical_dir = plan_dir.canonicalize().unwrap_or(plan_dir);
    let canonical_dir = canonical_dir.as_path();
    let PlanSource {
        url: source_url,
        stem,
        password_left_out,
    } = url
        .for_plan(canonical_dir)
        .map_err(|e| Failure::Other(e.into()))?;
    if password_left_out {
        writeln!(err, "note: the password in the source URL is not written to the plan; pass it through ${{SOURCE_DATABASE_URL}}")?;
    }
    let stem = stem.as_str();
    let name = format!("{stem}-to-postgres");
    let target_url = match &args.target {
        Some(url) => {
            let redacted = redact_url(url);
            if &redacted != url {
                writeln!(err, "note: the password in --target is not written to the plan; pass it through ${{TARGET_DATABASE_URL}}")?;
            }
            format!("${{TARGET_DATABASE_URL:-{}}}", without_password(url))
        }
        None => format!(
            "${{TARGET_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/{}}}",
            stem.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        ),
    };
    let text = if args.app_schema {
        // The app's migrator made the schema in --target: read it, keep it beside the plan as
        // the snapshot the plan is checked against, and write the plan from both sides.
        let url = args.target.as_deref().unwrap_or_default();
        let mut pg = crate::journal::connect(url).map_err(|e| Failure::Other(e.into()))?;
        let schema = crate::engines::postgres::introspect::read_target_schema(&mut pg, "public")
            .map_err(|e| Failure::Other(anyhow!("{}", crate::errors::chain(&e))))?;
        if schema.tables.is_empty() {
            return Err(Failure::Other(anyhow!(
                "schema `public` of {} has no tables: run the app's migrator there first",
                redact_url(url)
            )));
        }
        let names: Vec<String> = schema.tables.iter().map(|t| t.name.clone()).collect();
        let filled =
            crate::engines::postgres::introspect::tables_with_rows(&mut pg, &schema.schema, &names)
                .map_err(|e| Failure::Other(anyhow!("{}", crate::errors::chain(&e))))?;
        let plan_stem = to_file
            .and_then(|p| p.file_stem())
            .and_then(|s| s.to_str())
            .unwrap_or("plan");
        let snapshot_file = format!("{plan_stem}.schema.json");
        let snapshot_path = canonical_dir.join(&snapshot_file);
        if snapshot_path.exists() && !args.force {
            return Err(Failure::Other(anyhow!(
                "`{}` exists; pass --force to overwrite it",
                snapshot_path.display()
            )));
        }
        let mut json = serde_json::to_string_pretty(&schema).context("snapshot")?;
        json.push('\n');
        std::fs::write(&snapshot_path, json)
            .with_context(|| format!("cannot write `{}`", snapshot_path.display()))?;
        writeln!(
            err,
            "wrote `{}`: the app's schema, {} table(s)",
            snapshot_path.display(),
            schema.tables.len()
        )?;
        // What the app's column types narrow (a DATETIME into `date`, longer text, a bigger
        // number): counted now, so the plan flags it instead of the run rejecting the rows.
        let mut narrowed = Vec::new();
        for (table, tests) in crate::init::narrowing_candidates(&catalog, &schema) {
            let conditions: Vec<String> = tests.iter().map(|(_, n)| n.condition.clone()).collect();
            let counts = crate::engines::mysql::count_where(&mut conn, &table, &conditions)
                .map_err(|e| Failure::Other(anyhow!("{}", crate::errors::chain(&e))))?;
            for ((column, n), found) in tests.into_iter().zip(counts) {
                narrowed.push((table.clone(), column, found, n));
            }
        }
        let app = crate::init::AppSide {
            schema: &schema,
            filled: &filled,
            snapshot_file: &snapshot_file,
            narrowed: &narrowed,
        };
        crate::init::starter_plan_for_app(&catalog, &app, &name, &source_url, &target_url)
    } else {
        if let Some(url) = &args.target {
            if let Some(line) = app_schema_hint(url) {
                writeln!(err, "{line}")?;
            }
        }
        // A spatial column becomes `geometry` only where PostGIS is installed in the target.
        let spatial = catalog.tables.iter().any(|t| {
            t.columns
                .iter()
                .any(|c| catalog.engine.is_spatial(&c.declared_type))
        });
        let postgis = match args.target.as_deref().filter(|_| spatial) {
            Some(url) => match crate::journal::connect(url)
                .map_err(|e| crate::errors::chain(&e))
                .and_then(|mut conn| {
                    crate::engines::postgres::introspect::postgis_installed(&mut conn)
                        .map_err(|e| e.to_string())
                }) {
                Ok(installed) => installed,
                Err(e) => {
                    writeln!(err, "note: cannot ask --target whether PostGIS is installed ({e}); spatial columns are proposed as `bytea` (WKB)")?;
                    false
                }
            },
            None => false,
        };
        crate::init::starter_plan(&catalog, &name, &source_url, &target_url, postgis)
    };
    match to_file {
        Some(path) => {
            if path.exists() && !args.force {
                return Err(Failure::Other(anyhow!(
                    "`{}` exists; pass --force to overwrite it",
                    path.display()
                )));
            }
            std::fs::write(path, &text)
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            let flagged = text.lines().filter(|l| l.contains("<- FLAGGED")).count();
            writeln!(
                err,
                "wrote `{}`: {} table(s), {flagged} column(s) flagged for review",
                path.display(),
                catalog.tables.len()
            )?;
        }
        None => out.write_all(text.as_bytes())?,
    }
    Ok(EXIT_OK)
}

/// A warning when schema `public` of the target already holds tables no decant run made: an
/// app's migrator made them, likely, and a plan that makes the schema would refuse to run into
/// them (or, told to drop them, drop the app's tables). `None` when the schema is empty, its
/// tables are decant's, or the target cannot be read: plain `init` never needs it.
fn app_schema_hint(url: &str) -> Option<String> {
    let mut conn = crate::journal::connect(url).ok()?;
    let schema =
        crate::engines::postgres::introspect::read_target_schema(&mut conn, "public").ok()?;
    let mut decants = Vec::new();
    if crate::journal::journal_exists(&mut conn).ok()? {
        for run in crate::journal::runs(&mut conn, "public", i64::MAX).ok()? {
            if run.state() != Some(crate::journal::RunState::RolledBack) {
                decants.extend(run.created_tables);
            }
        }
    }
    let apps: Vec<&str> = schema
        .tables
        .iter()
        .map(|t| t.name.as_str())
        .filter(|t| !decants.iter().any(|d| d == t))
        .collect();
    if apps.is_empty() {
        return None;
    }
    let shown: Vec<String> = apps.iter().take(5).map(|t| format!("`{t}`")).collect();
    let more = if apps.len() > 5 {
        format!(" and {} more", apps.len() - 5)
    } else {
        String::new()
    };
    Some(format!(
        "warning: schema `public` of {} already holds {} table(s) no decant run made ({}{more}): if the app's migrator made them, write the plan with `decant init --app-schema --target …`, which loads into the app's tables and keeps them; this plan makes its own tables and refuses to run into existing ones",
        redact_url(url),
        apps.len(),
        shown.join(", ")
    ))
}

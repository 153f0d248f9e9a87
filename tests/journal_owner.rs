//! The journal owns decant's tables: no file of `src/` outside `src/journal/`, and no template
//! but those the journal runs, names a `decant.<table>` its migrations create.

use std::path::{Path, PathBuf};

use crate::support::cli::repo_root;

/// Templates whose statements the journal runs (`journal::reject_children`): they write
/// `decant.decant_rejects` in the transaction of the load or sync that renders them.
const JOURNAL_TEMPLATES: &[&str] = &["reject_children.sql.j2"];

/// Every file under `dir` whose name ends with `suffix`, in path order.
fn files_under(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    entries
        .into_iter()
        .flat_map(|path| {
            if path.is_dir() {
                files_under(&path, suffix)
            } else if path.to_string_lossy().ends_with(suffix) {
                vec![path]
            } else {
                Vec::new()
            }
        })
        .collect()
}

/// The tables the journal's migrations create in schema `decant`.
fn journal_tables() -> Vec<String> {
    let migrations = repo_root().join("src/journal/migrations");
    let mut tables: Vec<String> = files_under(&migrations, "up.sql")
        .iter()
        .flat_map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            text.split("CREATE TABLE decant.")
                .skip(1)
                .map(|rest| {
                    rest.chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect::<String>()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    tables.sort();
    tables.dedup();
    tables
}

/// The `decant.<table>` names in `text` outside comment lines, with their line numbers.
fn named_tables(text: &str, tables: &[String], comment: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with(comment) {
            continue;
        }
        let lower = line.to_ascii_lowercase();
        for table in tables {
            let name = format!("decant.{table}");
            let named = lower.match_indices(&name).any(|(at, _)| {
                !lower[at + name.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            });
            if named {
                found.push((n + 1, name));
            }
        }
    }
    found
}

#[test]
fn the_journal_migrations_create_the_tables_this_test_looks_for() {
    let tables = journal_tables();
    for table in [
        "runs",
        "steps",
        "decant_rejects",
        "syncs",
        "app_definitions",
    ] {
        assert!(tables.iter().any(|t| t == table), "{table} in {tables:?}");
    }
}

#[test]
fn only_the_journal_names_decant_tables() {
    let tables = journal_tables();
    let root = repo_root();
    let mut wrong = Vec::new();
    for path in files_under(&root.join("src"), ".rs") {
        let relative = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if relative.starts_with("src/journal/") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (line, name) in named_tables(&text, &tables, "//") {
            wrong.push(format!("{relative}:{line} names `{name}`"));
        }
    }
    for path in files_under(&root.join("templates"), ".j2") {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if JOURNAL_TEMPLATES.contains(&file.as_str()) {
            continue;
        }
        let relative = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        for (line, name) in named_tables(&text, &tables, "--") {
            wrong.push(format!("{relative}:{line} names `{name}`"));
        }
    }
    assert!(
        wrong.is_empty(),
        "decant's tables are read and written by src/journal/ alone: add a function there and call it\n  {}",
        wrong.join("\n  ")
    );
}

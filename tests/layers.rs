//! The layering of `src/`, kept by a test: a module may use its own layer and those below it,
//! never one above, and modules of one layer never use each other in a cycle.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::cli::repo_root;

/// Bottom to top; the same list is in `src/lib.rs`'s documentation.
const LAYERS: &[&[&str]] = &[
    &[
        "errors",
        "url",
        "signals",
        "colour",
        "catalog",
        "migrations",
        "cli",
        "dialect",
        "doc_path",
        "trace",
    ],
    &["plan"],
    &["convert"],
    &["naming", "transform", "engines", "mapping"],
    &["resolve"],
    &["copy", "graph", "render", "journal", "orphans"],
    &["prepare", "init"],
    &["compare"],
    &["checks", "rehearse"],
    &["sync"],
    &["run"],
    &["report"],
    &["commands"],
];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| {
            panic!("module `{module}` is in no layer: add it to LAYERS here and in src/lib.rs")
        })
}

/// Every `.rs` file under `path` (or `path` itself), in path order, with its code: its lines
/// without comment lines.
fn files(path: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        return entries.iter().flat_map(|e| files(e)).collect();
    }
    if path.extension().is_none_or(|e| e != "rs") {
        return Vec::new();
    }
    let code: String = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .flat_map(|line| [line, "\n"])
        .collect();
    vec![(path.to_path_buf(), code)]
}

/// Every `.rs` file under `path` (or `path` itself), concatenated, without comment lines.
fn code(path: &std::path::Path) -> String {
    files(path).into_iter().map(|(_, code)| code).collect()
}

/// Each top-level module of `src/` with the top-level modules its code names (`crate::x`).
fn uses() -> BTreeMap<String, BTreeSet<String>> {
    let src = repo_root().join("src");
    let mut map = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if name == "lib" || name == "main" {
            continue;
        }
        let text = code(&path);
        let used: BTreeSet<String> = text
            .split("crate::")
            .skip(1)
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect::<String>()
            })
            .filter(|m| !m.is_empty() && *m != name)
            .collect();
        map.insert(name, used);
    }
    map
}

#[test]
fn every_module_uses_only_its_own_layer_and_those_below() {
    let mut wrong = Vec::new();
    for (module, used) in uses() {
        for dep in used {
            if layer_of(&dep) > layer_of(&module) {
                wrong.push(format!(
                    "`{module}` (layer {}) uses `{dep}` (layer {})",
                    layer_of(&module),
                    layer_of(&dep)
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "layers point down only:\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn modules_of_one_layer_never_use_each_other_in_a_cycle() {
    let uses = uses();
    fn path_to(
        from: &str,
        to: &str,
        uses: &BTreeMap<String, BTreeSet<String>>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        if from == to {
            return true;
        }
        if !seen.insert(from.to_owned()) {
            return false;
        }
        uses.get(from)
            .is_some_and(|deps| deps.iter().any(|d| path_to(d, to, uses, seen)))
    }
    for (module, deps) in &uses {
        for dep in deps {
            let mut seen = BTreeSet::new();
            assert!(
                !path_to(dep, module, &uses, &mut seen),
                "`{module}` uses `{dep}`, which leads back to `{module}`"
            );
        }
    }
}

/// Each engine's own names: its Diesel connection and backend, its variants of the seam's
/// enums. Only its folder `src/engines/<engine>/` and the seam's dispatch files name them.
const ENGINE_NAMES: &[(&str, &[&str])] = &[
    (
        "sqlite",
        &[
            "SqliteConnection",
            "diesel::sqlite",
            "Engine::Sqlite",
            "SourceConnection::Sqlite",
            "SourceUrl::Sqlite",
        ],
    ),
    (
        "mysql",
        &[
            "MysqlConnection",
            "diesel::mysql",
            "Engine::Mysql",
            "SourceConnection::Mysql",
            "SourceUrl::Mysql",
        ],
    ),
    (
        "postgres",
        &["PgConnection", "diesel::pg", "TargetConnection::Postgres"],
    ),
];

/// SQL that is one source engine's own, as the review of issue 25 found it outside the
/// engines (SQLite's `typeof()`, `hex()`, `json_object`, `rowid`, `COLLATE BINARY`, pragmas,
/// `BEGIN IMMEDIATE`; MySQL's `BINARY` comparison and global read lock).
const ENGINE_SQL: &[(&str, &[&str])] = &[
    (
        "sqlite",
        &[
            "\"PRAGMA",
            "typeof({",
            "hex({",
            "json_object(",
            "}.rowid",
            "COLLATE BINARY",
            "sqlite_schema",
            "sqlite_master",
            "BEGIN IMMEDIATE",
        ],
    ),
    (
        "mysql",
        &[
            "BINARY {",
            "AND BINARY",
            "FLUSH TABLES",
            "UNLOCK TABLES",
            "CONSISTENT SNAPSHOT",
        ],
    ),
];

/// The seam's own files: the exhaustive `match`es that route a call to each engine's folder
/// (the compiler lists them when an engine is added), and `url/mod.rs`, where a URL's scheme
/// picks the engine.
const DISPATCH: &[&str] = &[
    "url/mod.rs",
    "engines/mod.rs",
    "engines/source.rs",
    "engines/target.rs",
    "engines/introspect.rs",
    "engines/mapping.rs",
    "engines/engine.rs",
    "engines/query_sql.rs",
    "engines/url.rs",
    "engines/pause.rs",
    "engines/digest.rs",
    "engines/changes.rs",
    "engines/writer.rs",
];

/// Files another branch is changing that still name an engine, each to be closed by its
/// owner (issue 25): the path and the engine whose names or SQL it holds. An entry no
/// longer needed fails the test, so the list only shrinks.
const NOT_YET_THROUGH_THE_SEAM: &[(&str, &str)] = &[];

#[test]
fn no_file_outside_an_engines_folder_names_that_engine_or_sends_its_sql() {
    let src = repo_root().join("src");
    let mut wrong = Vec::new();
    let mut still_open = BTreeSet::new();
    for (path, text) in files(&src) {
        let path = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        for (engine, names) in ENGINE_NAMES.iter().chain(ENGINE_SQL) {
            if path.starts_with(&format!("engines/{engine}/")) || DISPATCH.contains(&path.as_str())
            {
                continue;
            }
            let found: Vec<&str> = names.iter().copied().filter(|n| text.contains(n)).collect();
            if found.is_empty() {
                continue;
            }
            if NOT_YET_THROUGH_THE_SEAM.contains(&(path.as_str(), *engine)) {
                still_open.insert((path.clone(), *engine));
                continue;
            }
            wrong.push(format!(
                "{path} names {engine}'s {}: ask the engine (a method in src/engines/), never name it",
                found.join(", ")
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // An allowance no longer needed is taken off the list.
    for (path, engine) in NOT_YET_THROUGH_THE_SEAM {
        assert!(
            still_open.contains(&((*path).to_owned(), *engine)),
            "{path} no longer names {engine}: take it off NOT_YET_THROUGH_THE_SEAM"
        );
    }
}

#[test]
fn only_the_target_side_reaches_the_postgres_connection() {
    // The layers above hold an `engines::TargetConnection`; SQL that is PostgreSQL's own
    // reaches the inner connection with `.postgres()`, in the places listed here: a second
    // target has to answer each of them.
    const SPEAKS_POSTGRES: &[&str] = &[
        "engines/postgres/",
        "engines/target.rs",
        "journal/",
        "checks/rules/",
        "compare/job.rs",
        "compare/rejects.rs",
        "run/start.rs",
        "run/step.rs",
        "run/app_definitions.rs",
    ];
    let mut wrong = Vec::new();
    let src = repo_root().join("src");
    for (path, text) in files(&src) {
        let path = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if text.contains(".postgres()") && !SPEAKS_POSTGRES.iter().any(|p| path.starts_with(p)) {
            wrong.push(format!(
                "{path} reaches the PostgreSQL connection: go through engines::TargetConnection, or add it to SPEAKS_POSTGRES"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

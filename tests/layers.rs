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
        "catalog",
        "migrations",
        "cli",
        "dialect",
        "doc_path",
    ],
    &["plan"],
    &["naming", "transform", "source", "introspect", "mapping"],
    &["resolve"],
    &["copy", "graph", "render", "journal"],
    &["prepare", "init"],
    &["checks", "run", "output", "rehearse"],
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

/// Every `.rs` file under `path` (or `path` itself), concatenated, without comment lines.
fn code(path: &std::path::Path) -> String {
    let mut out = String::new();
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for entry in entries {
            out.push_str(&code(&entry));
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        for line in std::fs::read_to_string(path).unwrap().lines() {
            if !line.trim_start().starts_with("//") {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
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

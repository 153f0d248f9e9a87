//! Builds the list of templates decant ships from what is in `templates/`, so an engine's new
//! `templates/<engine>/` folder (or a new file in one) needs no list kept by hand.
//!
//! It writes `$OUT_DIR/builtin_templates.rs`: one `("<dialect>/<operation>.sql.j2",
//! include_str!(<absolute path>))` a file, in path order, which `src/dialect/mod.rs` includes
//! as `BUILTIN_TEMPLATES`. Cargo runs it again when anything under `templates/` changes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root =
        Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("templates");
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=build.rs");
    let mut files = Vec::new();
    template_files(&root, &mut files);
    files.sort();
    let mut list = String::from("&[\n");
    for path in &files {
        let name = path
            .strip_prefix(&root)
            .expect("under templates/")
            .to_str()
            .expect("template paths are UTF-8")
            .replace('\\', "/");
        // `{:?}` writes each as a Rust string literal, quotes and backslashes escaped.
        writeln!(
            list,
            "    ({name:?}, include_str!({:?})),",
            path.to_str().expect("template paths are UTF-8")
        )
        .expect("writing to a String");
    }
    list.push(']');
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    std::fs::write(out.join("builtin_templates.rs"), list).expect("OUT_DIR is writable");
}

/// Every `*.j2` file under `dir`, at any depth.
fn template_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read `{}`: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a readable directory entry").path();
        if path.is_dir() {
            template_files(&path, files);
        } else if path.extension().is_some_and(|x| x == "j2") {
            files.push(path);
        }
    }
}

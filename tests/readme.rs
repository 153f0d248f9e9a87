//! The README's and the manual's examples are real: every `yaml` block of `README.md` and of
//! `docs/**/*.md` is a plan that validates, and CI runs the test command the README states.

use crate::support::cli::{decant_in, repo_root};

/// Fenced blocks of the README with their info string.
fn fenced_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        match (&mut current, line.trim_start().strip_prefix("```")) {
            (None, Some(info)) => current = Some((info.trim().to_owned(), String::new())),
            (Some(_), Some(_)) => blocks.extend(current.take()),
            (Some((_, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

fn readme() -> String {
    std::fs::read_to_string(repo_root().join("README.md")).unwrap()
}

/// Every Markdown page of the manual under `docs/`, with its path.
fn manual_pages() -> Vec<(std::path::PathBuf, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }
    let mut pages = Vec::new();
    walk(&repo_root().join("docs"), &mut pages);
    pages
}

#[test]
fn the_manual_has_every_page_its_summary_and_the_readme_link_to() {
    let pages = manual_pages();
    assert!(pages.len() > 20, "{} pages", pages.len());
    let link = regex::Regex::new(r"\]\(([^)#\s]+\.md)(#[^)]*)?\)").unwrap();
    let mut sources = vec![(repo_root().join("README.md"), readme())];
    sources.extend(pages);
    for (path, text) in &sources {
        for m in link.captures_iter(text) {
            let target = path.parent().unwrap().join(&m[1]);
            assert!(
                target.exists(),
                "{} links to `{}`, which does not exist",
                path.display(),
                &m[1]
            );
        }
    }
    assert!(
        readme().len() <= 12_000,
        "the README is {} characters: the manual is in docs/",
        readme().len()
    );
}

#[test]
fn every_yaml_block_in_the_readme_and_the_manual_is_a_plan_that_validates() {
    let mut texts = vec![readme()];
    texts.extend(manual_pages().into_iter().map(|(_, text)| text));
    let blocks: Vec<String> = texts
        .iter()
        .flat_map(|text| fenced_blocks(text))
        .filter(|(info, _)| info == "yaml")
        .map(|(_, b)| b)
        .collect();
    assert!(
        blocks.len() >= 2,
        "the README and the manual show plans: {}",
        blocks.len()
    );
    // Each block a plan file in a folder outside the repository, where the paths the blocks
    // name relative to the plan (`plans/data/…`) lead to the repository's files.
    let dir = tempfile::tempdir().unwrap();
    for linked in ["plans", "schemas"] {
        std::os::unix::fs::symlink(repo_root().join(linked), dir.path().join(linked)).unwrap();
    }
    for (i, block) in blocks.iter().enumerate() {
        let name = format!("readme-block-{i}.yaml");
        std::fs::write(dir.path().join(&name), block).unwrap();
        let out = decant_in(dir.path(), &["validate", &name], &[]);
        assert_eq!(
            out.code, 0,
            "README yaml block {i} does not validate:\n{block}\n{}",
            out.stderr
        );
    }
}

#[test]
fn ci_runs_the_test_command_the_readme_states() {
    let command = fenced_blocks(&readme())
        .into_iter()
        .filter(|(info, _)| info == "sh")
        .flat_map(|(_, body)| body.lines().map(str::to_owned).collect::<Vec<_>>())
        .find(|l| l.trim_start().starts_with("cargo test"))
        .expect("a `cargo test` command in a sh block of the README");
    let ci = std::fs::read_to_string(repo_root().join(".ci/run")).unwrap();
    assert!(
        ci.lines().any(|l| l.trim() == command.trim()),
        "`.ci/run` must run `{command}`"
    );
    assert!(
        ci.contains("cargo fmt --check")
            && ci.contains("cargo clippy --all-targets -- -D warnings")
    );
}

#[test]
fn the_first_screen_shows_the_two_set_up_commands_and_install_is_locked_without_sudo() {
    let text = readme();
    let blocks = fenced_blocks(&text);
    let (_, first) = blocks
        .iter()
        .find(|(info, _)| info == "sh")
        .expect("a sh block");
    let lines: Vec<&str> = first.lines().collect();
    assert_eq!(
        lines,
        [
            "cargo run -- rehearse plans/savings.yaml",
            "cargo test --all-targets"
        ],
        "the first sh block is the two set-up commands"
    );
    let first_screen: String = text.lines().take(30).collect::<Vec<_>>().join("\n");
    assert!(first_screen.contains(first.lines().next().unwrap()));
    let install = blocks
        .iter()
        .find(|(info, body)| info == "sh" && body.contains("cargo install"))
        .map(|(_, body)| body.as_str())
        .expect("an install block");
    assert!(
        install.contains("cargo install --locked --path ."),
        "{install}"
    );
    for (_, body) in blocks.iter().filter(|(info, _)| info == "sh") {
        assert!(!body.contains("sudo "), "a root user has no sudo: {body}");
    }
    for stale in [
        "which is still being built",
        "shared/seeds",
        "real value(s) are rounded",
    ] {
        assert!(!text.contains(stale), "stale text in the README: `{stale}`");
    }
}

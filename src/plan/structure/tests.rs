//! Tests of the structure check: every unknown key, missing key, wrong type, bad value and
//! out-of-range number of a plan, each at its path with a hint.

// `doc_path!` builds a `Vec`; tests pass it where a slice is wanted.
#![allow(clippy::useless_vec)]

use super::*;
use crate::doc_path;
use crate::plan::spans::parse;

fn problems(text: &str) -> Vec<Diagnostic> {
    let doc = parse(text).expect("valid YAML");
    let mut out = check_plan(&doc.root);
    out.sort_by_key(|d| d.span.map(|s| (s.line, s.col)));
    out
}

const HEAD: &str =
    "version: 1\nsource: { url: \"sqlite://a.db\" }\ntarget: { url: \"postgres://x/y\" }\n";

fn with_head(rest: &str) -> Vec<Diagnostic> {
    problems(&format!("{HEAD}{rest}"))
}

fn span(line: usize, col: usize, len: usize) -> Option<Span> {
    Some(Span { line, col, len })
}

#[test]
fn a_minimal_plan_has_no_problems() {
    assert_eq!(problems(HEAD), []);
}

#[test]
fn misspelt_setting_key_is_reported_with_suggestion_and_position() {
    let out = with_head("settings:\n  if_exist: drop\n");
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].message, "unknown key `if_exist` in `settings`");
    assert_eq!(out[0].help.as_deref(), Some("did you mean `if_exists`?"));
    assert_eq!(out[0].path, doc_path!["settings", "if_exist"]);
    assert_eq!(out[0].span, span(5, 3, 8));
}

#[test]
fn unknown_key_without_a_close_match_lists_the_valid_keys() {
    let out = with_head("naming: { zebra: 1 }\n");
    assert_eq!(
        out[0].help.as_deref(),
        Some("valid keys here: `identifiers`")
    );
}

#[test]
fn top_level_key_that_belongs_in_a_section_says_where() {
    let out = with_head("workers: 4\n");
    assert_eq!(out[0].message, "unknown key `workers`");
    assert_eq!(
        out[0].help.as_deref(),
        Some("`workers` belongs under `settings`")
    );
}

#[test]
fn missing_required_keys_point_at_the_parent_key() {
    let out = problems("version: 1\nsource: {}\n");
    let messages: Vec<_> = out.iter().map(|d| (d.message.as_str(), d.span)).collect();
    assert_eq!(
        messages,
        [
            ("missing required key `target`", span(1, 1, 1)),
            ("missing required key `url` in `source`", span(2, 1, 6)),
        ]
    );
    assert!(out[1]
        .help
        .as_deref()
        .is_some_and(|h| h.starts_with("add `url:` — `sqlite://")));
}

#[test]
fn wrong_enum_value_suggests_the_closest() {
    let out = with_head("settings:\n  if_exists: dorp\n  on_bad_row: skip\n");
    assert_eq!(
        out[0].message,
        "`dorp` is not a valid value for `if_exists`"
    );
    assert_eq!(out[0].help.as_deref(), Some("did you mean `drop`?"));
    assert_eq!(out[0].span, span(5, 14, 4));
    assert_eq!(
        out[1].message,
        "`skip` is not a valid value for `on_bad_row`"
    );
    assert_eq!(out[1].help.as_deref(), Some("expected `stop` or `reject`"));
}

#[test]
fn wrong_types_say_what_was_expected_and_found() {
    let out =
        with_head("settings: { workers: two }\ntables:\n  include: users\n  rename: { a: 123 }\n");
    let got: Vec<_> = out
        .iter()
        .map(|d| (d.message.as_str(), d.help.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "expected an integer, found `two`",
                Some("`workers`: how many steps may run at once where the step graph allows")
            ),
            (
                "expected a list of strings, found a string",
                Some("write it as a list: `[users]`")
            ),
            (
                "expected a string, found `123`",
                Some("quote it to make it text: `\"123\"`")
            ),
        ]
    );
}

#[test]
fn quoted_numbers_are_strings_and_say_to_drop_the_quotes() {
    let out = with_head("settings: { workers: \"3\" }\n");
    assert_eq!(
        out[0].message,
        "expected an integer, found the string `\"3\"`"
    );
    assert_eq!(out[0].help.as_deref(), Some("remove the quotes: `3`"));
}

#[test]
fn numbers_out_of_range_are_reported() {
    let out = with_head("settings: { workers: 100 }\n");
    assert_eq!(out[0].message, "`100` is out of range for `workers`");
    assert_eq!(
        out[0].help.as_deref(),
        Some("`workers` must be between 1 and 64")
    );
    let out = problems("version: -1\nsource: { url: a }\ntarget: { url: b }\n");
    assert_eq!(out[0].message, "`-1` is out of range for `version`");
}

#[test]
fn selection_accepts_all_or_a_list_and_checks_the_branch_that_fits() {
    assert_eq!(
        with_head("checks:\n  - row_counts: all\n  - checksums: [a, b]\n  - foreign_keys:\n"),
        []
    );
    let out = with_head(
        "checks:\n  - row_counts: al\n  - checksums: [a, 2]\n  - foreign_keys: { a: 1 }\n",
    );
    let got: Vec<_> = out.iter().map(|d| (d.message.as_str(), d.span)).collect();
    assert_eq!(
        got,
        [
            ("`al` is not a valid value for `row_counts`", span(5, 17, 2)),
            ("expected a string, found `2`", span(6, 20, 1)),
            (
                "expected `all` or a list of strings, found a mapping",
                span(7, 5, 12)
            ),
        ]
    );
    assert_eq!(out[0].help.as_deref(), Some("did you mean `all`?"));
    assert_eq!(
        out[2].help.as_deref(),
        Some("`foreign_keys`: find orphans and confirm constraints: `all` or a list of source table names")
    );
}

#[test]
fn a_bad_keyword_in_a_union_names_every_alternative() {
    let out = with_head("checks:\n  - checksums: everything\n");
    assert_eq!(
        out[0].message,
        "`everything` is not a valid value for `checksums`"
    );
    assert_eq!(
        out[0].help.as_deref(),
        Some("expected `all` or a list of strings")
    );
}

#[test]
fn free_form_values_accept_anything() {
    let out = with_head(
        "checks:\n  - { name: n, target: \"select 1\", expect: 1 }\n  - { name: m, target: t, expect: [1, {a: b}] }\n  - accepted_values: { column: a.b, values: [1, x, true, ~] }\n",
    );
    assert_eq!(out, []);
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let out = problems(
        "version: 1\nsource: { url: 5 }\nsettings:\n  if_exists: dorp\n  workerz: 2\ntypes:\n  - match: { type: text }\n  - to: uuid\n    match: { colum: id }\n",
    );
    let messages: Vec<_> = out.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "missing required key `target`",
            "expected a string, found `5`",
            "`dorp` is not a valid value for `if_exists`",
            "unknown key `workerz` in `settings`",
            "missing required key `to` in `types[0]`",
            "unknown key `colum` in `types[1].match`",
        ]
    );
}

#[test]
fn description_hints_are_sentences() {
    assert_eq!(sentence("Where the data goes."), "where the data goes");
    assert_eq!(sentence("`url` is\nwrapped."), "`url` is wrapped");
    assert_eq!(sentence("HTTP things."), "HTTP things");
}

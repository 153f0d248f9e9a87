//! Columns only the app's triggers fill: a `tsvector` search column kept by
//! `tsvector_update_trigger` and a slug set by a PL/pgSQL trigger, both NOT NULL without a
//! default. `init --app-schema` proposes keeping those tables' triggers on; the plan runs green.

use diesel::connection::SimpleConnection;

use crate::support::cli::assert_all_checks_passed;
use crate::support::postgres::TestDatabase;
use crate::support::setup::{assert_exit, query, Setup};

const SOURCE: &str = "
    CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL);
    CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    INSERT INTO posts VALUES (1, 'Hello World', 'the first post'), (2, 'Cutover Day', 'pause the writers');
    INSERT INTO tags VALUES (1, 'News'), (2, 'Release Notes');
";

const SCHEMA: &str = r#"
CREATE TABLE posts (id integer PRIMARY KEY, title text NOT NULL, body text NOT NULL, search tsvector NOT NULL);
CREATE TRIGGER posts_search BEFORE INSERT OR UPDATE ON posts FOR EACH ROW
  EXECUTE FUNCTION tsvector_update_trigger(search, 'pg_catalog.english', title, body);
CREATE TABLE tags (id integer PRIMARY KEY, name text NOT NULL, slug text NOT NULL UNIQUE);
CREATE FUNCTION tags_slug() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.slug := lower(replace(NEW.name, ' ', '-')); RETURN NEW; END $$;
CREATE TRIGGER tags_slug BEFORE INSERT ON tags FOR EACH ROW EXECUTE FUNCTION tags_slug();
"#;

#[test]
fn columns_the_apps_triggers_fill_are_proposed_kept_by_init_and_filled_by_the_run() {
    let s = Setup::from_sql(SOURCE, "");
    let dev = TestDatabase::new();
    dev.connect().batch_execute(SCHEMA).unwrap();
    std::fs::remove_file(s.path("plan.yaml")).unwrap();
    let init = s.decant(&[
        "init",
        "--source",
        "sqlite://source.sqlite3",
        "--target",
        &dev.url,
        "--app-schema",
        "-o",
        "plan.yaml",
    ]);
    assert_exit(&init, 0);
    let plan = std::fs::read_to_string(s.path("plan.yaml")).unwrap();
    for expected in [
        "  app_triggers:\n",
        "    posts: keep   # fills search\n",
        "    tags: keep   # fills slug\n",
    ] {
        assert!(plan.contains(expected), "missing {expected:?} in\n{plan}");
    }
    // Without the proposal the plan is refused, saying what to write.
    let kept = plan.clone();
    let refused_plan: String = plan
        .lines()
        .filter(|l| !l.contains("app_triggers:") && !l.contains(": keep   # fills"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(s.path("plan.yaml"), &refused_plan).unwrap();
    let refused = s.decant(&["validate", "plan.yaml"]);
    assert_exit(&refused, 2);
    assert!(
        refused
            .stderr
            .contains("settings.app_triggers: { posts: keep }")
            && refused.stderr.contains("`posts`.`search`"),
        "{}",
        refused.stderr
    );
    // The proposal as init wrote it runs green into the app's schema, and the triggers filled
    // the columns for every row.
    s.db.connect().batch_execute(SCHEMA).unwrap();
    std::fs::write(s.path("plan.yaml"), kept.replace(&dev.url, &s.db.url)).unwrap();
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 0);
    assert_all_checks_passed(&out);
    assert_eq!(
        query(&s.db, "SELECT string_agg(id::text, ',' ORDER BY id) FROM posts WHERE search @@ to_tsquery('english', 'writer')"),
        "2"
    );
    assert_eq!(
        query(&s.db, "SELECT string_agg(slug, ',' ORDER BY id) FROM tags"),
        "news,release-notes"
    );
}

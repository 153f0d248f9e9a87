//! Issue 24's "done when": a MariaDB schema with a foreign-key cycle, a SET, a DATETIME the app
//! keeps as a `date`, spatial columns, and an app-owned PostgreSQL schema whose NOT NULL
//! `tsvector` only the app's trigger fills, carried by `init --app-schema` with no hand edit
//! but accepting the proposals init wrote: every row equal, or rejected with every reason.

use diesel::connection::SimpleConnection;

use crate::support::cli::assert_all_checks_passed;
use crate::support::mysql::{decant_between, init_for_app, MysqlDatabase};
use crate::support::postgres::TestDatabase;
use crate::support::setup::{assert_exit, query};

/// Authors and books reference each other (a favourite book, a book's author); book 3 has a
/// title longer than the app's and a genre the app's enum lacks; author 2's favourite is book
/// 3, and book 4 is author 2's.
const SOURCE: &str = "
    SET FOREIGN_KEY_CHECKS = 0;
    CREATE TABLE authors (
      id INT PRIMARY KEY,
      name VARCHAR(40) NOT NULL,
      favourite_book_id INT NULL
    );
    CREATE TABLE books (
      id INT PRIMARY KEY,
      author_id INT NOT NULL,
      title VARCHAR(80) NOT NULL,
      body TEXT NOT NULL,
      genres SET('fiction','history','poetry') NOT NULL DEFAULT '',
      published DATETIME NOT NULL,
      CONSTRAINT books_author FOREIGN KEY (author_id) REFERENCES authors (id)
    );
    ALTER TABLE authors ADD CONSTRAINT authors_favourite FOREIGN KEY (favourite_book_id) REFERENCES books (id);
    CREATE TABLE shops (
      id INT PRIMARY KEY,
      name VARCHAR(40) NOT NULL,
      loc POINT NULL,
      area GEOMETRY NULL
    );
    INSERT INTO authors VALUES (1, 'Ursula', 1), (2, 'Italo', 3), (3, 'Octavia', NULL);
    INSERT INTO books VALUES
      (1, 1, 'The Dispossessed', 'an ambiguous utopia', 'fiction', '1974-05-01 09:30:00'),
      (2, 3, 'Kindred', 'a writer travels in time', 'fiction,history', '1979-06-01 00:00:00'),
      (3, 1, 'The Left Hand of Darkness, Fiftieth Anniversary', 'winter', 'fiction,poetry', '1969-03-01 18:00:00'),
      (4, 2, 'Invisible Cities', 'cities described to an emperor', 'fiction', '1972-11-01 12:00:00'),
      (5, 3, 'Untitled', 'notes', '', '2001-01-01 23:59:59');
    INSERT INTO shops VALUES
      (1, 'corner', ST_GeomFromText('POINT(1.5 -2.25)', 4326), ST_GeomFromText('POLYGON((0 0,4 0,4 4,0 4,0 0),(1 1,2 1,2 2,1 2,1 1))', 4326)),
      (2, 'kiosk', NULL, ST_GeomFromText('MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((2 2,3 2,3 3,2 2)))', 0)),
      (3, 'stall', ST_GeomFromText('POINT(0 0)', 0), ST_GeomFromText('LINESTRING(0 0,1 1,2 1)', 4326)),
      (4, 'van', NULL, NULL);
    SET FOREIGN_KEY_CHECKS = 1;
";

/// The app's own schema, as its migrator makes it.
const APP: &str = "
    CREATE EXTENSION IF NOT EXISTS postgis;
    CREATE TYPE genre AS ENUM ('fiction', 'history');
    CREATE TABLE authors (id integer PRIMARY KEY, name varchar(40) NOT NULL, favourite_book_id integer);
    CREATE TABLE books (
      id integer PRIMARY KEY,
      author_id integer NOT NULL REFERENCES authors,
      title varchar(30) NOT NULL,
      body text NOT NULL,
      genres genre[] NOT NULL,
      published date NOT NULL,
      search tsvector NOT NULL
    );
    ALTER TABLE authors ADD FOREIGN KEY (favourite_book_id) REFERENCES books;
    CREATE TRIGGER books_search BEFORE INSERT OR UPDATE ON books FOR EACH ROW
      EXECUTE FUNCTION tsvector_update_trigger(search, 'pg_catalog.english', title, body);
    CREATE TABLE shops (id integer PRIMARY KEY, name text NOT NULL, loc geometry, area geometry);
    CREATE INDEX shops_loc ON shops USING gist (loc);
";

/// The plan as a reviewer accepts every proposal init wrote as one: where a comment ends
/// with "take the line below instead" or "to take it:", the commented line below it is taken
/// and the line it replaces (the next) dropped. Nothing else changes.
fn accept_proposals(plan: &str) -> (String, usize) {
    let mut out = Vec::new();
    let mut accepted = 0;
    let mut lines = plan.lines();
    while let Some(line) = lines.next() {
        out.push(line.to_owned());
        let proposes = line.trim_start().starts_with('#')
            && (line.contains("take the line below instead") || line.ends_with("to take it:"));
        if !proposes {
            continue;
        }
        let taken = lines.next().expect("a proposal line");
        let indent = &taken[..taken.len() - taken.trim_start().len()];
        let body = taken
            .trim_start()
            .strip_prefix('#')
            .map(str::trim_start)
            .unwrap_or_else(|| panic!("the proposal is not a commented line: {taken}"));
        out.push(format!("{indent}{body}"));
        lines.next().expect("the line the proposal replaces");
        accepted += 1;
    }
    (out.join("\n") + "\n", accepted)
}

#[test]
fn a_mysql_sample_loads_into_the_apps_schema_accepting_only_inits_proposals() {
    let source = MysqlDatabase::new();
    source.execute(SOURCE);
    let dir = tempfile::tempdir().unwrap();
    let written = init_for_app(dir.path(), &source, APP);
    let (plan, accepted) = accept_proposals(&written);
    assert!(accepted >= 1, "init proposed nothing to accept:\n{written}");
    assert!(
        plan.contains("  books.published: { transform: datetime_to_date }\n")
            && plan.contains("    books: keep   # fills search\n"),
        "{plan}"
    );
    std::fs::write(dir.path().join("plan.yaml"), &plan).unwrap();
    // The app's production database, made apart from the developer's.
    let target = TestDatabase::new();
    target
        .connect()
        .batch_execute(&format!("CREATE TYPE filler AS ENUM ('x'); {APP}"))
        .unwrap();
    let run = decant_between(dir.path(), &["run", "plan.yaml"], &source, &target, &[]);
    let shown = format!("{plan}\n{}\n{}", run.stdout, run.stderr);
    // Rows were rejected: exit 1, and every check passes on the rows that were loaded.
    assert_exit(&run, 1);
    assert_all_checks_passed(&run);
    assert_eq!(
        query(&target, "SELECT string_agg(concat_ws(' ', id, name, coalesce(favourite_book_id::text, '-')), ' | ' ORDER BY id) FROM authors"),
        "1 Ursula 1 | 3 Octavia -",
        "{shown}"
    );
    assert_eq!(
        query(&target, "SELECT string_agg(concat_ws(' ', id, author_id, title, genres::text, published, search <> ''::tsvector), ' | ' ORDER BY id) FROM books"),
        "1 1 The Dispossessed {fiction} 1974-05-01 t | 2 3 Kindred {fiction,history} 1979-06-01 t | 5 3 Untitled {} 2001-01-01 t",
        "{shown}"
    );
    assert_eq!(
        query(&target, "SELECT string_agg(id::text, ',' ORDER BY id) FROM books WHERE search @@ to_tsquery('english', 'writer')"),
        "2"
    );
    for column in ["loc", "area"] {
        let expected = source.query(&format!(
            "SELECT GROUP_CONCAT(CONCAT_WS('|', id, IFNULL(ST_SRID(`{column}`), 'null'), IFNULL(ST_AsText(`{column}`), 'null')) ORDER BY id SEPARATOR ' ; ') FROM shops"
        ));
        let loaded = query(
            &target,
            &format!("SELECT string_agg(concat_ws('|', id, coalesce(ST_SRID({column})::text, 'null'), coalesce(ST_AsText({column}), 'null')), ' ; ' ORDER BY id) FROM shops"),
        );
        assert_eq!(loaded, expected, "column `{column}`");
    }
    // The app's schema is whole again: its cycle's foreign keys, its trigger, its GiST index.
    assert_eq!(
        query(&target, "SELECT string_agg(conrelid::regclass || ' ' || pg_get_constraintdef(oid), ' | ' ORDER BY conrelid::regclass::text) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace"),
        "authors FOREIGN KEY (favourite_book_id) REFERENCES books(id) | books FOREIGN KEY (author_id) REFERENCES authors(id)"
    );
    assert_eq!(
        query(
            &target,
            "SELECT tgenabled FROM pg_trigger WHERE tgname = 'books_search'"
        ),
        "O"
    );
    assert_eq!(
        query(
            &target,
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'shops_loc'"
        ),
        "CREATE INDEX shops_loc ON public.shops USING gist (loc)"
    );
    // Every rejected row with every reason: book 3's two bad values, then the rows whose
    // parent row was rejected, around the cycle (author 2's favourite is book 3, book 4 is
    // author 2's). The rejects file names every bad value of a row; decant's table its first.
    let file = std::fs::read_to_string(dir.path().join("plan.rejects.jsonl")).unwrap();
    let lines: Vec<&str> = file.lines().collect();
    assert_eq!(lines.len(), 3, "{file}");
    assert!(
        lines[0].starts_with(r#"{"table":"books","primary_key":{"id":3},"#)
            && lines[0].contains(r#"{"column":"title","value":"The Left Hand of Darkness, Fiftieth Anniversary","reason":"47 characters do not fit in `varchar(30)`"}"#)
            && lines[0].contains(r#"{"column":"genres","value":"fiction,poetry","reason":"element 2 of the array: `poetry` is not a label of enum `genre` (allowed: fiction, history)"}"#),
        "{file}"
    );
    assert!(
        lines[1].starts_with(r#"{"table":"authors","primary_key":{"id":2},"column":"favourite_book_id","value":"3","reason":"parent rejected: its row in `books` was rejected""#),
        "{file}"
    );
    assert!(
        lines[2].starts_with(r#"{"table":"books","primary_key":{"id":4},"column":"author_id","value":"2","reason":"parent rejected: its row in `authors` was rejected""#),
        "{file}"
    );
    assert_eq!(
        query(
            &target,
            "SELECT string_agg(source_table || ' ' || primary_key, ', ' ORDER BY rejected_at) FROM decant.decant_rejects"
        ),
        r#"books {"id": 3}, authors {"id": 2}, books {"id": 4}"#
    );
}

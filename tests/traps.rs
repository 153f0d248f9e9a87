//! The traps real SQLite files hold, each in a small fixture run end to end against PostgreSQL
//! (or planned, where the plan is the documented behaviour): README "Traps in real SQLite files".

use diesel::connection::SimpleConnection;

use crate::support::cli::{assert_all_checks_passed, assert_contains};
use crate::support::postgres::TestDatabase;
use crate::support::setup::{assert_exit, foreign_keys_made, query, Setup};

/// Every reject of the run: `table key column: reason`, ordered.
fn rejects(db: &TestDatabase) -> String {
    query(
        db,
        "SELECT coalesce(string_agg(source_table || ' ' || primary_key::text || ' ' || source_column || ': ' || reason, E'\\n' ORDER BY source_table, primary_key::text, source_column), '') FROM decant.decant_rejects",
    )
}

/// Runs `sql` on the target and returns the error it must fail with.
fn target_refuses(db: &TestDatabase, sql: &str) -> String {
    match db.connect().batch_execute(sql) {
        Ok(()) => panic!("the target accepted `{sql}`"),
        Err(e) => e.to_string(),
    }
}

const CHECKS: &str = "checks:\n  - row_counts: all\n  - checksums: all\n  - foreign_keys: all\n";

#[test]
fn identifiers_that_are_reserved_words_or_hold_spaces_quotes_and_mixed_case_are_carried_quoted() {
    let s = Setup::from_sql(
        r#"CREATE TABLE "order" ("MixedCase" INTEGER PRIMARY KEY, "user" TEXT NOT NULL, "first name" TEXT, "say ""hi""" TEXT, "select" INTEGER CHECK ("select" >= 0));
           CREATE INDEX "by user" ON "order" ("user", "first name");
           CREATE TABLE "Line Items" (id INTEGER PRIMARY KEY, "order" INTEGER REFERENCES "order" ("MixedCase"), "group" TEXT);
           INSERT INTO "order" VALUES (1, 'ann', 'Ann Lee', 'it''s "quoted"', 0), (2, 'bob', NULL, NULL, 5);
           INSERT INTO "Line Items" VALUES (10, 1, 'a'), (11, 2, 'b');"#,
        CHECKS,
    );
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 0);
    assert_eq!(
        query(
            &s.db,
            r#"SELECT "say ""hi""" FROM public."order" WHERE "MixedCase" = 1"#
        ),
        r#"it's "quoted""#
    );
    assert_eq!(
        query(
            &s.db,
            r#"SELECT string_agg("group", ',' ORDER BY id) FROM public."Line Items" JOIN public."order" ON "order" = "MixedCase""#
        ),
        "a,b"
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(attname, '|' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'public.\"order\"'::regclass AND attnum > 0"
        ),
        r#"MixedCase|user|first name|say "hi"|select"#
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'by user'"
        ),
        r#"CREATE INDEX "by user" ON public."order" USING btree ("user", "first name")"#
    );
    assert_eq!(
        query(&s.db, "SELECT count(*) FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND contype IN ('p', 'f', 'c')"),
        "4"
    );
    // The identity continues after the highest key; the CHECK holds.
    assert_eq!(
        query(
            &s.db,
            r#"nextval(pg_get_serial_sequence('public."order"', 'MixedCase'))"#
        ),
        "3"
    );
    target_refuses(
        &s.db,
        r#"INSERT INTO public."order" ("user", "select") VALUES ('cy', -1)"#,
    );
}

const MIXED: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER, active BOOLEAN);
INSERT INTO items VALUES (1, 5, 1), (2, 'lots', 0), (3, 7, 0.5), (4, '12', 'yes'), (5, 2.0, 1.0), (6, 4, 'f'), (7, 3.5, 0);";

#[test]
fn text_in_an_integer_column_and_a_real_in_a_boolean_column_stop_the_run_or_are_rejected() {
    // SQLite keeps `'lots'` as text in the INTEGER column, 0.5 as a real in the BOOLEAN one,
    // and turns `'12'` and `2.0` into integers: only the first two kinds are bad rows.
    let stop = Setup::from_sql(MIXED, "settings: { on_bad_row: stop }\n");
    let profile = stop.decant(&["plan", "plan.yaml", "--profile"]);
    assert_exit(&profile, 0);
    assert_contains(
        &profile.stdout,
        &[
            "items.qty: 1 non-numeric text value(s) in a column mapped to `bigint`",
            "items.qty: 1 fractional real value(s) in a column mapped to `bigint`",
            "items.active: values other than 0/1/true/false in a boolean column",
        ],
    );
    let out = stop.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 2);
    assert_contains(&out.stderr, &["load:items", "`qty`", "id=2", "lots"]);
    assert_eq!(query(&stop.db, "SELECT count(*) FROM public.items"), "0");

    let reject = Setup::from_sql(MIXED, "settings: { on_bad_row: reject }\n");
    let out = reject.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 1);
    assert_eq!(
        query(
            &reject.db,
            "SELECT string_agg(id || ':' || qty || ':' || active, ' ' ORDER BY id) FROM public.items"
        ),
        "1:5:true 4:12:true 5:2:true 6:4:false"
    );
    assert_eq!(
        rejects(&reject.db),
        [
            r#"items {"id": 2} qty: `lots` is not an integer"#,
            r#"items {"id": 3} active: 0.5 is not a boolean (expected 0/1, t/f, true/false, yes/no)"#,
            r#"items {"id": 7} qty: 3.5 is not an integer"#,
        ]
        .join("\n")
    );
    let table = &reject.report("plan")["tables"][0];
    assert_eq!(
        (&table["read"], &table["written"], &table["rejected"]),
        (&7.into(), &4.into(), &3.into())
    );
}

const BAD_TEXT: &str = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, raw TEXT);
INSERT INTO notes VALUES (1, 'clean', 'ok'), (2, 'a' || char(0) || 'b', 'ok'), (3, 'fine', CAST(X'6361C3FF' AS TEXT));";

#[test]
fn nul_characters_and_invalid_utf8_stop_the_run_are_rejected_or_are_repaired_by_the_plan() {
    let stop = Setup::from_sql(BAD_TEXT, "");
    let out = stop.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 2);
    assert_contains(&out.stderr, &["`body`", "id=2", "a\\0b", "NUL character"]);
    assert_eq!(query(&stop.db, "SELECT count(*) FROM public.notes"), "0");

    let reject = Setup::from_sql(BAD_TEXT, "settings: { on_bad_row: reject }\n");
    assert_exit(&reject.decant(&["run", "plan.yaml"]), 1);
    assert_eq!(
        query(
            &reject.db,
            "SELECT string_agg(body, ',' ORDER BY id) FROM public.notes"
        ),
        "clean"
    );
    assert_eq!(
        rejects(&reject.db),
        [
            r#"notes {"id": 2} body: text contains a NUL character, which PostgreSQL text cannot hold"#,
            r#"notes {"id": 3} raw: text is not valid UTF-8 (byte 0xc3 at offset 2)"#,
        ]
        .join("\n")
    );
    // The rejects file shows the values escaped, byte for byte.
    let lines = std::fs::read_to_string(reject.path("reports/plan.rejects.jsonl")).unwrap();
    assert_contains(&lines, &[r#"a\\0b"#, r#"ca\\xc3\\xff"#]);

    // The plan repairs them: NUL removed by a transform, the raw bytes kept as bytea.
    let repair = Setup::from_sql(
        BAD_TEXT,
        "columns:\n  notes.body: { transform: '{{ value | replace(\"\\u0000\", \"\") }}' }\n  notes.raw: { to: bytea }\n",
    );
    assert_exit(&repair.decant(&["run", "plan.yaml"]), 0);
    assert_eq!(
        query(
            &repair.db,
            "SELECT string_agg(body || ':' || encode(raw, 'hex'), ' ' ORDER BY id) FROM public.notes"
        ),
        "clean:6f6b ab:6f6b fine:6361c3ff"
    );
}

const ORPHANS: &str = "PRAGMA foreign_keys = OFF;
CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors (id), title TEXT);
INSERT INTO authors VALUES (1, 'ann');
INSERT INTO books VALUES (10, 1, 'kept'), (11, 2, 'author 2 was deleted'), (12, NULL, 'anonymous');";

#[test]
fn orphans_sqlite_never_enforced_fail_the_run_are_rejected_or_skip_the_constraint() {
    let fail = Setup::from_sql(ORPHANS, CHECKS);
    let out = fail.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 2);
    assert_contains(
        &out.stderr,
        &[
            "orphan",
            "books_author_id_fkey",
            "id=11 → author_id=2",
            "settings.orphans",
            "stopped before any foreign key was made",
            "decant rollback plan.yaml",
        ],
    );
    // The search ran beside the loads: no foreign key was made, the run is failed in the
    // journal with the orphans in its report, and a rollback leaves nothing behind.
    assert_eq!(foreign_keys_made(&fail.db), "");
    assert_eq!(
        query(
            &fail.db,
            "SELECT status FROM decant.runs ORDER BY id DESC LIMIT 1"
        ),
        "failed"
    );
    let report = std::fs::read_to_string(fail.dir.path().join("reports/plan.report.md"))
        .unwrap_or_else(|e| panic!("the failed run's report: {e}"));
    assert_contains(&report, &["books_author_id_fkey", "orphan"]);
    assert_exit(&fail.decant(&["rollback", "plan.yaml", "--yes"]), 0);
    assert_eq!(
        query(
            &fail.db,
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ),
        "0"
    );

    let reject = Setup::from_sql(
        ORPHANS,
        &format!("settings: {{ orphans: reject }}\n{CHECKS}"),
    );
    let out = reject.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 1);
    assert_eq!(
        query(
            &reject.db,
            "SELECT string_agg(id::text, ',' ORDER BY id) FROM public.books"
        ),
        "10,12"
    );
    assert_eq!(
        rejects(&reject.db),
        r#"books {"id": 11} author_id: orphan: no `authors` row with id=2"#
    );
    assert_eq!(
        query(&reject.db, "SELECT count(*) FROM pg_constraint WHERE conname = 'books_author_id_fkey' AND convalidated"),
        "1"
    );
    assert_all_checks_passed(&out);

    let skip = Setup::from_sql(
        ORPHANS,
        &format!("settings: {{ orphans: skip_constraint }}\n{CHECKS}"),
    );
    let out = skip.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 0);
    assert_eq!(query(&skip.db, "SELECT count(*) FROM public.books"), "3");
    assert_eq!(foreign_keys_made(&skip.db), "");
    assert_contains(
        &out.stdout,
        &["foreign key `books_author_id_fkey` not created"],
    );
}

const REFERENCES: &str = "PRAGMA foreign_keys = OFF;
CREATE TABLE staff (id INTEGER PRIMARY KEY, manager_id INTEGER REFERENCES staff (id), name TEXT);
INSERT INTO staff VALUES (1, 3, 'reports to a later row'), (2, NULL, 'boss'), (3, 2, 'manager');
CREATE TABLE teams (id INTEGER PRIMARY KEY, lead_id INTEGER REFERENCES people (id));
CREATE TABLE people (id INTEGER PRIMARY KEY, team_id INTEGER NOT NULL REFERENCES teams (id));
INSERT INTO teams VALUES (1, 10), (2, NULL);
INSERT INTO people VALUES (10, 1), (11, 1), (12, 2);";

#[test]
fn self_references_and_a_cycle_between_two_tables_load_with_every_foreign_key_either_way() {
    for timing in ["after_load", "before_load"] {
        for if_exists in ["drop", "truncate"] {
            let s = Setup::from_sql(
                REFERENCES,
                &format!("settings: {{ constraints: {timing}, if_exists: {if_exists} }}\n{CHECKS}"),
            );
            // A second run into kept tables (`truncate`) finds the first run's foreign keys
            // between `teams` and `people` in place: neither table can be loaded first.
            for run in 1..=2 {
                let out = s.decant(&["run", "plan.yaml"]);
                assert_exit(&out, 0);
                assert_eq!(
                    query(&s.db, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated AND connamespace = 'public'::regnamespace"),
                    "3",
                    "{timing}, {if_exists}, run {run}"
                );
                assert_eq!(
                    query(&s.db, "SELECT (SELECT count(*) FROM public.staff) + (SELECT count(*) FROM public.teams) + (SELECT count(*) FROM public.people)"),
                    "8",
                    "{timing}, {if_exists}, run {run}"
                );
            }
            target_refuses(&s.db, "INSERT INTO public.staff VALUES (4, 99, 'nobody')");
            target_refuses(&s.db, "INSERT INTO public.people VALUES (13, 99)");
            let plan = s.decant(&["plan", "plan.yaml", "--format", "sql"]);
            let drops = |table: &str| {
                plan.stdout.contains(&format!(
                    r#"ALTER TABLE IF EXISTS "public"."{table}" DROP CONSTRAINT IF EXISTS"#
                ))
            };
            // Kept tables in a cycle lose their foreign keys before the load and get them back
            // after; a self-reference alone is not a cycle.
            assert_eq!(drops("people"), if_exists == "truncate", "{if_exists}");
            assert!(!drops("staff"), "{}", plan.stdout);
        }
    }
}

#[test]
fn composite_primary_keys_and_without_rowid_tables_keep_their_keys_and_name_rejects_by_them() {
    let s = Setup::from_sql(
        "CREATE TABLE stock (warehouse TEXT NOT NULL, sku TEXT NOT NULL, qty INTEGER, PRIMARY KEY (warehouse, sku)) WITHOUT ROWID;
         CREATE TABLE moves (id INTEGER PRIMARY KEY, warehouse TEXT, sku TEXT, FOREIGN KEY (warehouse, sku) REFERENCES stock (warehouse, sku));
         CREATE TABLE tags (post_id INTEGER, tag TEXT, PRIMARY KEY (post_id, tag));
         INSERT INTO stock VALUES ('nbo', 'A-1', 5), ('nbo', 'B-2', 'none'), ('msa', 'A-1', 3);
         INSERT INTO moves VALUES (1, 'nbo', 'A-1'), (2, 'msa', 'A-1');
         INSERT INTO tags VALUES (1, 'x'), (1, NULL), (1, NULL);",
        &format!("settings: {{ on_bad_row: reject }}\n{CHECKS}"),
    );
    let plan = s.decant(&["plan", "plan.yaml"]);
    assert_contains(
        &plan.stdout,
        &["stock: WITHOUT ROWID table: carried as an ordinary table with its primary key"],
    );
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 1);
    assert_eq!(
        query(
            &s.db,
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'stock_pkey'"
        ),
        "PRIMARY KEY (warehouse, sku)"
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'tags_pkey'"
        ),
        "PRIMARY KEY (post_id, tag)"
    );
    assert_eq!(
        query(&s.db, "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace"),
        "FOREIGN KEY (warehouse, sku) REFERENCES stock(warehouse, sku)"
    );
    // SQLite lets a rowid table's primary key hold NULLs (and repeat them); PostgreSQL does not.
    assert_eq!(
        rejects(&s.db),
        [
            r#"stock {"sku": "B-2", "warehouse": "nbo"} qty: `none` is not an integer"#,
            r#"tags {"tag": null, "post_id": 1} tag: NULL in NOT NULL column of type `text`"#,
            r#"tags {"tag": null, "post_id": 1} tag: NULL in NOT NULL column of type `text`"#,
        ]
        .join("\n")
    );
}

#[test]
fn collate_nocase_uniqueness_becomes_a_unique_index_on_lower_and_case_duplicates_fail_that_step() {
    let s = Setup::from_sql(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL COLLATE NOCASE UNIQUE);
         INSERT INTO users VALUES (1, 'Ann@example.com'), (2, 'bob@example.com');",
        CHECKS,
    );
    let plan = s.decant(&["plan", "plan.yaml"]);
    assert_contains(
        &plan.stdout,
        &["users: UNIQUE (email) uses COLLATE NOCASE: carried as a unique index on lower()"],
    );
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    assert_contains(
        &query(
            &s.db,
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'users' AND indexdef LIKE '%lower%'",
        ),
        &["CREATE UNIQUE INDEX", "(lower(email))"],
    );
    let refused = target_refuses(
        &s.db,
        "INSERT INTO public.users (email) VALUES ('ANN@EXAMPLE.COM')",
    );
    assert_contains(&refused, &["duplicate key"]);

    // SQLite's NOCASE folds ASCII only; PostgreSQL's lower() folds what the target database's
    // LC_CTYPE folds, pinned here per database. Under C that is ASCII only, as in SQLite, and
    // both rows load; under C.UTF-8 (as under en_US.UTF-8) it is more, and SQLite's distinct
    // rows collide in the index.
    let sql = "CREATE TABLE cities (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE UNIQUE);
               INSERT INTO cities VALUES (1, 'ÆRØ'), (2, 'ærø');";
    for (locale, folds) in [("C", false), ("C.UTF-8", true)] {
        let s = Setup::from_sql_into(sql, CHECKS, TestDatabase::with_locale(locale));
        assert_eq!(
            query(&s.db, "SELECT lower('Æ') = 'æ'"),
            folds.to_string(),
            "{locale}"
        );
        let out = s.decant(&["run", "plan.yaml"]);
        if folds {
            assert_exit(&out, 2);
            assert_contains(
                &out.stderr,
                &[
                    "step `indexes:cities` failed",
                    r#"could not create unique index "cities_name_key""#,
                ],
            );
        } else {
            assert_exit(&out, 0);
            assert_eq!(query(&s.db, "SELECT count(*) FROM public.cities"), "2");
        }
    }
    // citext instead: a plain UNIQUE constraint, case-insensitive through the type.
    let s = Setup::from_sql(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL COLLATE NOCASE UNIQUE);
         INSERT INTO users VALUES (1, 'Ann@example.com'), (2, 'bob@example.com');",
        &format!("columns:\n  users.email: {{ to: citext }}\nsteps:\n  - {{ id: citext, sql: \"create extension if not exists citext\", before: [schema] }}\n{CHECKS}"),
    );
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    assert_eq!(
        query(&s.db, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'public.users'::regclass AND attname = 'email'"),
        "citext"
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'users_email_key'"
        ),
        "UNIQUE (email)"
    );
    let refused = target_refuses(
        &s.db,
        "INSERT INTO public.users (email) VALUES ('ANN@EXAMPLE.COM')",
    );
    assert_contains(&refused, &["duplicate key", "users_email_key"]);
}

#[test]
fn a_foreign_key_to_a_collate_nocase_unique_column_gets_its_unique_constraint_and_exact_matches() {
    // SQLite matched `ANN@…` to `ann@…` through the parent's NOCASE; PostgreSQL matches a
    // foreign key exactly, so that row is an orphan for `settings.orphans` to handle.
    let sql = "PRAGMA foreign_keys = OFF;
               CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL COLLATE NOCASE UNIQUE);
               CREATE TABLE posts (id INTEGER PRIMARY KEY, author_email TEXT REFERENCES users (email));
               INSERT INTO users VALUES (1, 'ann@example.com');
               INSERT INTO posts VALUES (10, 'ann@example.com'), (11, 'ANN@example.com');";
    let s = Setup::from_sql(sql, CHECKS);
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 2);
    assert_contains(
        &out.stderr,
        &[
            "posts_author_email_fkey",
            "id=11 → author_email=\"ANN@example.com\"",
        ],
    );
    let s = Setup::from_sql(sql, &format!("settings: {{ orphans: reject }}\n{CHECKS}"));
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 1);
    assert_eq!(
        rejects(&s.db),
        r#"posts {"id": 11} author_email: orphan: no `users` row with email="ANN@example.com""#
    );
    assert_eq!(
        query(&s.db, "SELECT string_agg(pg_get_constraintdef(oid), ' | ' ORDER BY contype) FROM pg_constraint WHERE conrelid IN ('public.users'::regclass, 'public.posts'::regclass) AND contype IN ('u', 'f')"),
        "FOREIGN KEY (author_email) REFERENCES users(email) | UNIQUE (email)"
    );
    assert_contains(
        &target_refuses(
            &s.db,
            "INSERT INTO public.users (email) VALUES ('ANN@EXAMPLE.COM')",
        ),
        &["duplicate key", "users_email_key1"],
    );
}

#[test]
fn check_constraints_are_translated_and_enforced_and_untranslatable_ones_are_reported() {
    let sql = "CREATE TABLE accounts (
                 id INTEGER PRIMARY KEY,
                 balance INTEGER NOT NULL CHECK (balance >= 0),
                 status TEXT CONSTRAINT status_known CHECK (status IN ('open', 'closed')),
                 is_active BOOLEAN CHECK (is_active IN (0, 1)),
                 email TEXT CHECK (email LIKE '%@%'),
                 code TEXT CHECK (typeof(code) = 'text'),
                 sku TEXT CHECK (sku GLOB '[A-Z]*'));
               INSERT INTO accounts VALUES (1, 10, 'open', 1, 'ANN@X.IO', 'a', 'AB'), (2, 0, 'closed', 0, 'bob@x.io', 'b', 'C');";
    let s = Setup::from_sql(sql, CHECKS);
    let plan = s.decant(&["plan", "plan.yaml"]);
    assert_contains(
        &plan.stdout,
        &[
            "accounts: CHECK (typeof(code) = 'text') not carried: uses `typeof()`, which PostgreSQL does not have with the same meaning",
            "accounts: CHECK (sku GLOB '[A-Z]*') not carried: uses `GLOB`, which has no direct PostgreSQL equivalent",
        ],
    );
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    assert_eq!(
        query(&s.db, "SELECT string_agg(conname || ': ' || pg_get_constraintdef(oid), E'\\n' ORDER BY conname) FROM pg_constraint WHERE contype = 'c' AND conrelid = 'public.accounts'::regclass"),
        [
            "accounts_check: CHECK ((balance >= 0))",
            "accounts_check2: CHECK (((is_active)::integer = ANY (ARRAY[0, 1])))",
            "accounts_check3: CHECK ((email ~~* '%@%'::text))",
            "status_known: CHECK ((status = ANY (ARRAY['open'::text, 'closed'::text])))",
        ]
        .join("\n")
    );
    assert_contains(
        &target_refuses(
            &s.db,
            "INSERT INTO public.accounts (balance, status) VALUES (5, 'frozen')",
        ),
        &["status_known"],
    );
    assert_contains(
        &target_refuses(
            &s.db,
            "INSERT INTO public.accounts (balance, email) VALUES (5, 'nobody')",
        ),
        &["accounts_check3"],
    );

    // Rows written while SQLite ignored CHECKs fail the constraints step, which names them.
    let s = Setup::from_sql(
        "PRAGMA ignore_check_constraints = ON;
         CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL CHECK (balance >= 0));
         INSERT INTO accounts VALUES (1, 10), (2, -5);",
        CHECKS,
    );
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 2);
    assert_contains(
        &out.stderr,
        &[
            "step `constraints:accounts` failed",
            "accounts_check",
            "violated by some row",
        ],
    );
}

#[test]
fn generated_columns_are_recreated_as_generated_and_never_copied_as_data() {
    let s = Setup::from_sql(
        "CREATE TABLE lines (
           id INTEGER PRIMARY KEY,
           qty INTEGER NOT NULL,
           unit_price NUMERIC(10,2) NOT NULL,
           total NUMERIC(12,2) GENERATED ALWAYS AS (qty * unit_price) STORED,
           label TEXT AS (upper(sku)) VIRTUAL,
           sku TEXT,
           padded TEXT AS (printf('%05d', qty)));
         INSERT INTO lines (id, qty, unit_price, sku) VALUES (1, 3, 2.50, 'ab-1'), (2, 10, 0.99, 'cd-2');",
        CHECKS,
    );
    let plan = s.decant(&["plan", "plan.yaml"]);
    assert_exit(&plan, 0);
    assert_contains(
        &plan.stdout,
        &[
            "lines.label: VIRTUAL generated column becomes STORED",
            "lines.padded: generation expression not translated (uses `printf()`, which PostgreSQL does not have with the same meaning); the values are copied as data",
            r#"source> SELECT "id", "qty", "unit_price", "sku", "padded" FROM "lines""#,
        ],
    );
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    assert_eq!(
        query(&s.db, "SELECT string_agg(attname || '=' || attgenerated::text, ' ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'public.lines'::regclass AND attnum > 0"),
        "id= qty= unit_price= total=s label=s sku= padded="
    );
    assert_eq!(
        query(&s.db, "SELECT string_agg(total || ' ' || label || ' ' || padded, ', ' ORDER BY id) FROM public.lines"),
        "7.50 AB-1 00003, 9.90 CD-2 00010"
    );
    // The target computes them for new rows too.
    db_execute(
        &s.db,
        "UPDATE public.lines SET qty = 4, sku = 'zz' WHERE id = 1",
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT total || ' ' || label FROM public.lines WHERE id = 1"
        ),
        "10.00 ZZ"
    );
}

fn db_execute(db: &TestDatabase, sql: &str) {
    db.connect()
        .batch_execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[test]
fn autoincrement_tables_continue_after_sqlite_sequence_when_it_is_above_max_id() {
    let s = Setup::from_sql(
        "CREATE TABLE tickets (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT);
         INSERT INTO tickets (title) VALUES ('a'), ('b'), ('c'), ('d'), ('e');
         DELETE FROM tickets WHERE id > 3;
         CREATE TABLE emptied (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT);
         INSERT INTO emptied (title) VALUES ('a'), ('b');
         DELETE FROM emptied;
         CREATE TABLE plain (id INTEGER PRIMARY KEY, title TEXT);
         INSERT INTO plain VALUES (1, 'a'), (7, 'b');
         DELETE FROM plain WHERE id = 7;",
        CHECKS,
    );
    let plan = s.decant(&["plan", "plan.yaml"]);
    assert_contains(
        &plan.stdout,
        &[
            r#"SELECT setval(pg_get_serial_sequence('"public"."tickets"', 'id'), greatest(coalesce((SELECT max("id") FROM "public"."tickets"), 0), 5) + 1, false)"#,
        ],
    );
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    for (table, next) in [("tickets", "6"), ("emptied", "3"), ("plain", "2")] {
        assert_eq!(
            {
                db_execute(
                    &s.db,
                    &format!("INSERT INTO public.{table} (title) VALUES ('new')"),
                );
                query(&s.db, &format!("SELECT max(id) FROM public.{table}"))
            },
            next,
            "{table}"
        );
    }
}

#[test]
fn numeric_values_stored_as_real_round_to_the_declared_scale_and_too_large_ones_are_bad_rows() {
    // NUMERIC(p,s) has numeric affinity: SQLite keeps 2.675 as the double 2.67499999…, and
    // turns the text '0.00005' into a real too. decant rounds what the application saw, the
    // shortest text of the double, half away from zero.
    let s = Setup::from_sql(
        "CREATE TABLE prices (id INTEGER PRIMARY KEY, amount NUMERIC(10,2), rate DECIMAL(5,4));
         INSERT INTO prices VALUES (1, 0.1 + 0.2, 0.12345), (2, 2.675, 1), (3, 1.005, '0.00005'),
           (4, 19.999, 0.99999), (5, 7, NULL), (6, 123456789.5, NULL), (7, -2.675, 12.5);",
        &format!("settings: {{ on_bad_row: reject }}\n{CHECKS}"),
    );
    let plan = s.decant(&["plan", "plan.yaml", "--profile"]);
    assert_contains(
        &plan.stdout,
        &["prices.amount: 6 value(s) stored as REAL have a fraction; any with more than 2 decimal place(s) are rounded"],
    );
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 1);
    assert_eq!(
        query(&s.db, "SELECT string_agg(id || ':' || amount || ':' || coalesce(rate::text, '-'), ' ' ORDER BY id) FROM public.prices"),
        "1:0.30:0.1235 2:2.68:1.0000 3:1.01:0.0001 4:20.00:1.0000 5:7.00:-"
    );
    assert_eq!(
        rejects(&s.db),
        [
            r#"prices {"id": 6} amount: 123456789.50 does not fit in `numeric(10,2)` (at most 8 digits before the point)"#,
            r#"prices {"id": 7} rate: 12.5000 does not fit in `numeric(5,4)` (at most 1 digits before the point)"#,
        ]
        .join("\n")
    );
    // The checksums compare after the same rounding.
    assert_all_checks_passed(&out);
}

#[test]
fn columns_with_no_declared_type_take_their_type_from_their_values() {
    let s = Setup::from_sql(
        "CREATE TABLE loose (id INTEGER PRIMARY KEY, a, b, c, d, e, f);
         INSERT INTO loose VALUES (1, 1, 1, 'x', X'00FF', 1, NULL), (2, 2, 2.5, 'y', X'01', 'two', NULL),
           (3, NULL, 3, NULL, NULL, 3.5, NULL);",
        CHECKS,
    );
    let plan = s.decant(&["plan", "plan.yaml"]);
    assert_contains(
        &plan.stdout,
        &[
            "[profile: no declared type, only integers → bigint]",
            "[profile: no declared type, integers and reals → double precision]",
            "loose.e: mixed storage classes (1 integer, 1 real, 1 text); every value is carried as its text form",
            "loose.f: no declared type and no values; carried as text",
        ],
    );
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    assert_eq!(
        query(&s.db, "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'public.loose'::regclass AND attnum > 1"),
        "a bigint, b double precision, c text, d bytea, e text, f text"
    );
    assert_eq!(
        query(&s.db, "SELECT string_agg(concat_ws('|', a, b, c, encode(d, 'hex'), e), ' ' ORDER BY id) FROM public.loose"),
        "1|1|x|00ff|1 2|2.5|y|01|two 3|3.5"
    );
}

const VIEWS: &str = "CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER, status TEXT);
CREATE VIEW open_orders AS SELECT id, total FROM orders WHERE status == 'open';
CREATE VIEW stamped AS SELECT id, strftime('%Y', 'now') AS year FROM orders;
CREATE TRIGGER orders_audit AFTER UPDATE ON orders BEGIN SELECT 1; END;
INSERT INTO orders VALUES (1, 10, 'open'), (2, 20, 'closed');";

#[test]
fn views_are_carried_when_postgresql_accepts_them_and_reported_with_the_reason_otherwise() {
    let s = Setup::from_sql(
        VIEWS,
        "naming: { identifiers: snake_case }\ntables: { rename: { orders: purchases } }\n",
    );
    let plan = s.decant(&["plan", "plan.yaml", "--format", "sql"]);
    assert_exit(&plan, 0);
    assert_contains(
        &plan.stdout,
        &["CREATE OR REPLACE VIEW \"public\".\"open_orders\" AS SELECT \"id\", \"total\" FROM \"purchases\" WHERE \"status\" = 'open'"],
    );
    let text = s.decant(&["plan", "plan.yaml"]);
    assert_contains(&text.stdout, &["trigger `orders_audit` on `orders` is not carried: SQLite trigger bodies are not translated"]);
    let run = s.decant(&["run", "plan.yaml"]);
    assert_exit(&run, 0);
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(id::text, ',') FROM public.open_orders"
        ),
        "1"
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT count(*) FROM pg_views WHERE viewname = 'stamped'"
        ),
        "0"
    );
    let report = s.report("plan");
    let not_carried = report["not_carried"].to_string();
    assert!(
        not_carried
            .contains("view `stamped` is not carried: PostgreSQL refused its rewritten SELECT"),
        "{not_carried}"
    );
    assert!(not_carried.contains("strftime"), "{not_carried}");
    assert!(
        not_carried.contains("trigger `orders_audit`"),
        "{not_carried}"
    );
    let init = s.decant(&[
        "init",
        "--source",
        "sqlite://source.sqlite3",
        "-o",
        "init.yaml",
    ]);
    assert_exit(&init, 0);
    assert_contains(
        &std::fs::read_to_string(s.path("init.yaml")).unwrap(),
        &[
            "#   view `open_orders`",
            "#   trigger `orders_audit` on `orders`",
        ],
    );
}

#[test]
fn a_view_keeps_its_key_words_when_another_table_has_columns_named_like_them() {
    let s = Setup::from_sql(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, \"select\" TEXT, \"from\" TEXT, \"order\" INTEGER);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER);
         CREATE VIEW big AS SELECT id, total FROM orders WHERE total > 5 ORDER BY id;
         CREATE VIEW picked AS SELECT \"select\", \"from\" FROM notes ORDER BY \"order\" DESC;
         INSERT INTO orders VALUES (1, 10), (2, 1);
         INSERT INTO notes VALUES (1, 's', 'f', 1);",
        "",
    );
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    assert_eq!(
        query(&s.db, "SELECT string_agg(id::text, ',') FROM public.big"),
        "1"
    );
    assert_eq!(
        query(&s.db, "SELECT \"select\" || \"from\" FROM public.picked"),
        "sf"
    );
    let report = s.report("plan");
    assert!(
        !report["not_carried"].to_string().contains("view"),
        "{}",
        report["not_carried"]
    );
}

#[test]
fn unsigned_big_int_values_above_the_signed_range_make_the_column_numeric_and_are_never_approximated(
) {
    // Above 2^63 - 1 SQLite stores the integer as a REAL, already rounded to 17 digits:
    // 18446744073709551615 reads back as 18446744073709551616.
    let s = Setup::from_sql(
        "CREATE TABLE counters (id INTEGER PRIMARY KEY, hits UNSIGNED BIG INT, small UNSIGNED BIG INT);
         INSERT INTO counters VALUES (1, 1, 1), (2, 9223372036854775807, 2),
           (3, 18446744073709551615, 3), (4, 10000000000000000000, 4);",
        &format!("settings: {{ on_bad_row: reject }}\n{CHECKS}"),
    );
    // Without --profile too: the type depends on the values, so they are always profiled.
    let plan = s.decant(&["plan", "plan.yaml"]);
    assert_contains(
        &plan.stdout,
        &[
            "hits   UNSIGNED BIG INT  → numeric(20,0)",
            "[default: UNSIGNED BIG INT holding values above the signed 64-bit range → numeric(20,0)]",
            "counters.hits: 2 value(s) beyond the signed 64-bit range are stored as REAL, which SQLite rounded to about 17 digits: they cannot be carried exactly and are bad rows",
            "small  UNSIGNED BIG INT  → bigint",
        ],
    );
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 1);
    assert_eq!(
        query(&s.db, "SELECT string_agg(id || ':' || hits || ':' || small, ' ' ORDER BY id) FROM public.counters"),
        "1:1:1 2:9223372036854775807:2"
    );
    assert_eq!(
        rejects(&s.db),
        [
            r#"counters {"id": 3} hits: 1.8446744073709552e+19 cannot be carried exactly into `numeric(20,0)`: SQLite stored it as a REAL, which at this size is exact only to steps of 4096.0"#,
            r#"counters {"id": 4} hits: 1.0e+19 cannot be carried exactly into `numeric(20,0)`: SQLite stored it as a REAL, which at this size is exact only to steps of 2048.0"#,
        ]
        .join("\n")
    );
    // The plan may accept the approximation, knowingly.
    let s = Setup::from_sql(
        "CREATE TABLE counters (id INTEGER PRIMARY KEY, hits UNSIGNED BIG INT);
         INSERT INTO counters VALUES (1, 1), (2, 18446744073709551615);",
        "columns:\n  counters.hits: { to: \"double precision\" }\n",
    );
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    assert_eq!(
        query(&s.db, "SELECT max(hits) FROM public.counters"),
        "1.8446744073709552e+19"
    );
}

/// One app's tables as Django, Rails, Prisma and Sequelize write them to SQLite.
const ORMS: &str = r#"
CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "is_staff" bool NOT NULL,
  "date_joined" datetime NOT NULL, "external_id" char(32) NOT NULL UNIQUE,
  "prefs" text NOT NULL CHECK ((JSON_VALID("prefs") OR "prefs" IS NULL)), "trial_duration" bigint NULL,
  "birthday" date NULL, "balance" decimal NOT NULL);
INSERT INTO auth_user VALUES
  (1, 1, '2024-01-31 10:00:00.123456', '0123456789abcdef0123456789abcdef', '{"theme": "dark"}', 5400000000, '1990-05-17', '10.50'),
  (2, 0, '2024-02-01 08:30:00', 'FEDCBA9876543210FEDCBA9876543210', '[]', NULL, NULL, 3);
CREATE TABLE "posts" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "published" tinyint(1) DEFAULT 0 NOT NULL,
  "archived" boolean DEFAULT 0, "created_at" datetime(6) NOT NULL);
INSERT INTO posts VALUES (1, 1, 't', '2024-01-31 10:00:00.123456'), (2, 0, 'f', '2024-02-02 09:00:00.5');
CREATE TABLE "Session" ("id" TEXT NOT NULL PRIMARY KEY, "userId" INTEGER NOT NULL, "expiresAt" DATETIME NOT NULL,
  "valid" BOOLEAN NOT NULL DEFAULT true,
  CONSTRAINT "Session_userId_fkey" FOREIGN KEY ("userId") REFERENCES "auth_user" ("id") ON DELETE RESTRICT ON UPDATE CASCADE);
INSERT INTO "Session" VALUES ('c4a1e7a2-6b1f-4c1e-9b7a-2f4d2e8a9c10', 1, 1706695200123, 1),
  ('0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9', 2, 1706781600000, 0);
CREATE TABLE `Escrows` (`id` UUID PRIMARY KEY, `amount` DECIMAL(12,2), `isReleased` TINYINT(1) DEFAULT 0,
  `meta` JSON, `createdAt` DATETIME NOT NULL, `deletedAt` DATETIME);
INSERT INTO Escrows VALUES ('9b2f3c1e-5d6a-4b7c-8d9e-0f1a2b3c4d5e', 100.5, 0, '{"note": "x"}', '2024-01-31 10:00:00.000 +00:00', NULL),
  ('1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d', 75, 1, '[1, 2]', '2024-01-31 12:00:00.000 +03:00', '2024-02-01 00:00:00.000 +00:00');
"#;

#[test]
fn init_recognises_orm_conventions_and_its_plan_validates_and_runs_with_every_check_passing() {
    let s = Setup::from_sql(ORMS, "");
    let out = s.decant(&[
        "init",
        "--source",
        "sqlite://source.sqlite3",
        "-o",
        "init.yaml",
    ]);
    assert_exit(&out, 0);
    let plan = std::fs::read_to_string(s.path("init.yaml")).unwrap();
    assert_contains(
        &plan,
        &[
            // Django: UUIDField is char(32) hex, DurationField bigint microseconds.
            "auth_user.external_id: { to: uuid, transform: hex_to_uuid }",
            "auth_user.trial_duration: { to: interval, transform: microseconds_to_interval }",
            // Django's JSONField is text with a json_valid CHECK; bool and datetime map by default.
            "#   prefs                    TEXT             → jsonb  [default: TEXT with a json_valid CHECK → jsonb]",
            "#   is_staff                 bool             → boolean",
            "#   date_joined              datetime         → timestamptz",
            // Rails: tinyint(1) booleans; boolean columns holding 't'/'f'.
            "posts.published: { to: boolean, transform: to_boolean }",
            "#   archived                 boolean          → boolean",
            // Prisma: DateTime as epoch milliseconds, String ids holding UUIDs.
            "Session.expiresAt: { to: timestamptz, transform: epoch_ms_to_timestamptz }",
            "Session.id: { to: uuid, transform: hex_to_uuid }",
            // Sequelize: UUID, JSON and ISO text with offsets map by default; TINYINT(1) booleans.
            "Escrows.isReleased: { to: boolean, transform: to_boolean }",
            "#   meta                     JSON             → jsonb",
            "#   createdAt                DATETIME         → timestamptz",
        ],
    );
    for not_flagged in ["posts.archived:", "Escrows.createdAt:", "auth_user.prefs:"] {
        assert!(
            !plan.contains(not_flagged),
            "`{not_flagged}` flagged in:\n{plan}"
        );
    }
    assert_exit(&s.decant(&["validate", "init.yaml"]), 0);
    let out = s.decant(&["run", "init.yaml"]);
    assert_exit(&out, 0);
    assert_all_checks_passed(&out);
    assert_eq!(
        query(&s.db, r#"SELECT string_agg(external_id || ' ' || is_staff || ' ' || date_joined || ' ' || coalesce(trial_duration::text, '-') || ' ' || prefs, E'\n' ORDER BY id) FROM public.auth_user"#),
        [
            r#"01234567-89ab-cdef-0123-456789abcdef true 2024-01-31 10:00:00.123456+00 01:30:00 {"theme": "dark"}"#,
            "fedcba98-7654-3210-fedc-ba9876543210 false 2024-02-01 08:30:00+00 - []",
        ]
        .join("\n")
    );
    assert_eq!(
        query(
            &s.db,
            r#"SELECT string_agg(published || ' ' || archived, ', ' ORDER BY id) FROM public.posts"#
        ),
        "true true, false false"
    );
    assert_eq!(
        query(&s.db, r#"SELECT string_agg(id || ' ' || "expiresAt" || ' ' || valid, ', ' ORDER BY "userId") FROM public."Session""#),
        "c4a1e7a2-6b1f-4c1e-9b7a-2f4d2e8a9c10 2024-01-31 10:00:00.123+00 true, 0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9 2024-02-01 10:00:00+00 false"
    );
    assert_eq!(
        query(
            &s.db,
            r#"SELECT string_agg(amount || ' ' || "isReleased" || ' ' || "createdAt" || ' ' || coalesce("deletedAt"::text, '-') || ' ' || meta, ', ' ORDER BY "createdAt") FROM public."Escrows""#
        ),
        r#"75.00 true 2024-01-31 09:00:00+00 2024-02-01 00:00:00+00 [1, 2], 100.50 false 2024-01-31 10:00:00+00 - {"note": "x"}"#
    );
    assert_eq!(
        query(&s.db, "SELECT string_agg(table_name || '.' || column_name || ' ' || data_type, ', ' ORDER BY table_name, column_name) FROM information_schema.columns WHERE table_schema = 'public' AND column_name IN ('external_id', 'trial_duration', 'prefs', 'id', 'meta', 'expiresAt') AND table_name <> 'posts'"),
        "Escrows.id uuid, Escrows.meta jsonb, Session.expiresAt timestamp with time zone, Session.id uuid, auth_user.external_id uuid, auth_user.id bigint, auth_user.prefs jsonb, auth_user.trial_duration interval"
    );
}

#[test]
fn ip_addresses_networks_mac_addresses_and_points_load_check_and_refuse_what_postgres_would() {
    let s = Setup::from_sql(
        "CREATE TABLE hits (id INTEGER PRIMARY KEY, ip TEXT, ip_int INTEGER, net TEXT, mac TEXT, at TEXT);
         INSERT INTO hits VALUES
           (1, '10.0.0.1', 167772161, '10.0.0.0/8', '08:00:2b:01:02:03', '(1.5,-2)'),
           (2, 'fe80::1/64', 3232235777, '2001:db8::/32', '0800.2b01.0203', '3, 4'),
           (3, 'not an ip', NULL, NULL, NULL, NULL),
           (4, NULL, -1, NULL, NULL, NULL),
           (5, NULL, NULL, '10.0.0.1/8', NULL, NULL),
           (6, NULL, NULL, NULL, '08:00:2b', '(1,2');",
        &format!(
            "settings: {{ on_bad_row: reject }}\ncolumns:\n  hits.ip: {{ to: inet }}\n  hits.ip_int: {{ to: inet }}\n  hits.net: {{ to: cidr }}\n  hits.mac: {{ to: macaddr }}\n  hits.at: {{ to: point }}\n{CHECKS}  - accepted_values: {{ column: hits.ip, values: [\"10.0.0.1\", \"fe80::1/64\"] }}\n"
        ),
    );
    let out = s.decant(&["run", "plan.yaml"]);
    assert_exit(&out, 1);
    assert_eq!(
        query(&s.db, "SELECT string_agg(concat_ws('|', ip, ip_int, net, mac, at), E'\\n' ORDER BY id) FROM public.hits"),
        "10.0.0.1|10.0.0.1|10.0.0.0/8|08:00:2b:01:02:03|(1.5,-2)\nfe80::1/64|192.168.1.1|2001:db8::/32|08:00:2b:01:02:03|(3,4)"
    );
    assert_eq!(
        rejects(&s.db),
        [
            r#"hits {"id": 3} ip: `not an ip` is not an IP address (a.b.c.d or IPv6, with an optional /bits)"#,
            r#"hits {"id": 4} ip_int: -1 is not an IPv4 address (0 to 4294967295)"#,
            r#"hits {"id": 5} net: `10.0.0.1/8` is not a network for `cidr`: it has bits set right of the /8 mask"#,
            r#"hits {"id": 6} mac: `08:00:2b` is not a MAC address (expected 12 hex digits)"#,
        ]
        .join("\n")
    );
    // The checksums compare the loaded rows (rejects left out) and name a changed address;
    // accepted values are spelled as PostgreSQL prints an address (no `/32`).
    assert_exit(&s.decant(&["check", "plan.yaml"]), 0);
    s.db.connect()
        .batch_execute(
            "UPDATE public.hits SET mac = '08:00:2b:01:02:04', at = '(3,5)' WHERE id = 2",
        )
        .unwrap();
    let check = s.decant(&["check", "plan.yaml"]);
    assert_exit(&check, 1);
    assert_contains(
        &check.stdout,
        &[
            "id=2",
            "mac",
            "08:00:2b:01:02:03",
            "08:00:2b:01:02:04",
            "(3,4)",
            "(3,5)",
        ],
    );
}

#[test]
fn types_decant_cannot_load_are_refused_by_validate_with_where_and_what_to_do_instead() {
    let s = Setup::from_sql(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, price TEXT, tags TEXT);",
        "columns:\n  t.price: { to: money }\n  t.tags: { to: tsvector }\n",
    );
    let out = s.decant(&["validate", "plan.yaml"]);
    assert_exit(&out, 2);
    assert_contains(
        &out.stderr,
        &[
            "decant cannot load `money` columns",
            "load the column as `numeric(p,s)`",
            "decant cannot load `tsvector` columns",
            "plan.yaml:",
        ],
    );
}

#[test]
fn a_views_column_aliases_keep_their_case_as_the_app_queries_them() {
    let s = Setup::from_sql(
        "CREATE TABLE OrderLines (OrderID INTEGER NOT NULL, Line INTEGER NOT NULL, UnitPrice REAL NOT NULL, PRIMARY KEY (OrderID, Line));
         INSERT INTO OrderLines VALUES (1, 1, 2.5), (1, 2, 4.0), (2, 1, 1.0);
         CREATE VIEW OrderSubtotals AS SELECT OrderID, CAST(SUM(UnitPrice) * 100 AS INTEGER) AS Subtotal
           FROM OrderLines GROUP BY OrderID ORDER BY Subtotal DESC;",
        "",
    );
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    assert_eq!(
        query(
            &s.db,
            "SELECT string_agg(\"OrderID\" || '=' || \"Subtotal\", ',') FROM public.\"OrderSubtotals\""
        ),
        "1=650,2=100"
    );
}

#[test]
fn a_plain_index_on_a_case_insensitive_column_stays_on_the_column_where_the_apps_equality_uses_it()
{
    let s = Setup::from_sql(
        "CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT COLLATE NOCASE NOT NULL, isbn TEXT COLLATE NOCASE UNIQUE);
         CREATE INDEX books_title ON books (title);
         INSERT INTO books VALUES (1, 'Dune', 'a1'), (2, 'Emma', 'b2');",
        "",
    );
    let plan = s.decant(&["plan", "plan.yaml"]);
    assert_exit(&plan, 0);
    assert!(
        plan.stdout
            .contains("`title` compares case-insensitively in the source")
            && plan.stdout.contains("to: citext"),
        "{}",
        plan.stdout
    );
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    assert_eq!(
        query(
            &s.db,
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'books_title'"
        ),
        "CREATE INDEX books_title ON public.books USING btree (title)"
    );
    // The unique one keeps the source's case-insensitive uniqueness.
    assert!(query(
        &s.db,
        "SELECT string_agg(indexdef, ' ') FROM pg_indexes WHERE tablename = 'books'"
    )
    .contains("(lower(isbn))"));
    let mut conn = s.db.connect();
    conn.batch_execute("SET enable_seqscan = off").unwrap();
    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
        line: String,
    }
    let plan: Vec<Line> = diesel::RunQueryDsl::load(
        diesel::sql_query("EXPLAIN SELECT * FROM public.books WHERE title = 'Dune'"),
        &mut conn,
    )
    .unwrap();
    assert!(
        plan.iter().any(|l| l.line.contains("books_title")),
        "{:?}",
        plan.iter().map(|l| l.line.as_str()).collect::<Vec<_>>()
    );
}

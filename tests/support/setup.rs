//! A plan in a temporary folder next to its SQLite source, run with the real `decant` binary
//! against a fresh PostgreSQL database; and one-value queries on that database.

use std::path::{Path, PathBuf};

use diesel::{QueryableByName, RunQueryDsl};

use super::cli::{decant_in, repo_root, Outcome};
use super::postgres::TestDatabase;

#[derive(QueryableByName)]
pub struct Value {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub v: String,
}

/// One value of a query, as text.
pub fn query(db: &TestDatabase, sql: &str) -> String {
    let mut conn = db.connect();
    diesel::sql_query(format!("SELECT ({sql})::text AS v"))
        .get_result::<Value>(&mut conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .v
}

/// The foreign keys made in the `public` schema of `db`, their names in order, space-separated
/// (empty when there is none).
pub fn foreign_keys_made(db: &TestDatabase) -> String {
    query(
        db,
        "SELECT coalesce(string_agg(conname, ' ' ORDER BY conname), '') FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace",
    )
}

/// A plan in a temporary folder next to its source, with the target taken from the test database.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub db: TestDatabase,
}

impl Setup {
    /// An example plan (`plans/<name>.yaml`) with its fixture and migrations, edited by `edit`.
    pub fn from_example(name: &str, edit: impl Fn(String) -> String) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        // Every fixture: two example plans may read the same one.
        for entry in std::fs::read_dir(repo_root().join("plans/data")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "sqlite3") {
                std::fs::copy(
                    &path,
                    dir.path().join("data").join(path.file_name().unwrap()),
                )
                .unwrap();
            }
        }
        // The snapshot of the app's schema, for plans with `target.owner: app`.
        let snapshot = repo_root().join(format!("plans/{name}.schema.json"));
        if snapshot.exists() {
            std::fs::copy(&snapshot, dir.path().join(format!("{name}.schema.json"))).unwrap();
        }
        for folder in ["migrations", "templates"] {
            copy_dir(
                &repo_root().join(format!("plans/{name}-{folder}")),
                &dir.path().join(format!("{name}-{folder}")),
            );
        }
        let plan = std::fs::read_to_string(repo_root().join(format!("plans/{name}.yaml"))).unwrap();
        std::fs::write(dir.path().join("plan.yaml"), edit(plan)).unwrap();
        Setup {
            dir,
            db: TestDatabase::new(),
        }
    }

    /// `source.sqlite3` built from `sql`, and `plan.yaml` made of a header and `plan_body`.
    pub fn from_sql(sql: &str, plan_body: &str) -> Setup {
        Setup::from_sql_into(sql, plan_body, TestDatabase::new())
    }

    /// [`Setup::from_sql`] into the database `target`.
    pub fn from_sql_into(sql: &str, plan_body: &str, target: TestDatabase) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let (_guard, db) = super::sqlite_from_sql(sql);
        std::fs::copy(&db, dir.path().join("source.sqlite3")).unwrap();
        let plan = format!("version: 1\nname: t\nsource: {{ url: \"sqlite://source.sqlite3\" }}\ntarget: {{ url: \"${{TARGET_DATABASE_URL}}\" }}\n{plan_body}");
        std::fs::write(dir.path().join("plan.yaml"), plan).unwrap();
        Setup { dir, db: target }
    }

    /// Runs `decant ARGS` in the folder; `run` writes its reports to `reports/`.
    pub fn decant(&self, args: &[&str]) -> Outcome {
        self.decant_killed_at(args, None)
    }

    /// [`Setup::decant`], with the process killed (SIGKILL, exit code -1) at test point `kill`
    /// (`DECANT_TEST_KILL_AT`, e.g. `after-commit:load:orders`) when one is given.
    pub fn decant_killed_at(&self, args: &[&str], kill: Option<&str>) -> Outcome {
        self.decant_with(args, &[("DECANT_TEST_KILL_AT", kill.unwrap_or_default())])
    }

    /// [`Setup::decant`] with more environment variables (e.g. `DECANT_TRACE_SQL`).
    pub fn decant_with(&self, args: &[&str], more_env: &[(&str, &str)]) -> Outcome {
        let report_dir = self.dir.path().join("reports");
        let mut all: Vec<&str> = args.to_vec();
        if args.first() == Some(&"run") {
            all.push("--report-dir");
            all.push(report_dir.to_str().unwrap());
        }
        decant_in(
            self.dir.path(),
            &all,
            &[
                ("TARGET_DATABASE_URL", self.db.url.as_str()),
                ("BOOKING_TARGET_URL", self.db.url.as_str()),
            ]
            .into_iter()
            .chain(more_env.iter().copied())
            .collect::<Vec<_>>(),
        )
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `reports/<stem>.report.json` of the last run of `<stem>.yaml`.
    pub fn report(&self, stem: &str) -> serde_json::Value {
        let path = self.path(&format!("reports/{stem}.report.json"));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }
}

/// Copies a folder tree, if it exists (an example's migrations).
fn copy_dir(from: &Path, to: &Path) {
    if !from.is_dir() {
        return;
    }
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}

/// Fails with both outputs when the exit code is not `code`.
pub fn assert_exit(out: &Outcome, code: i32) {
    assert_eq!(
        out.code, code,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
}

/// Every table of a run's JSON report reconciles: rows read = written + rejected.
pub fn assert_tables_reconcile(report: &serde_json::Value, context: &str) {
    for t in report["tables"].as_array().unwrap() {
        assert_eq!(
            t["read"].as_u64().unwrap(),
            t["written"].as_u64().unwrap() + t["rejected"].as_u64().unwrap(),
            "{context}: {t}"
        );
    }
}

//! `decant cutover --reverse`, the switch back: the app writes on PostgreSQL without pause until
//! decant locks its tables; its commits wait and none is lost, the old SQLite file ends equal to
//! PostgreSQL as of the pause, and a kill inside the pause frees the tables at once.

use diesel::{Connection, RunQueryDsl, SqliteConnection};

use crate::cutover::{assert_synced_inside_the_pause, kill_in_the_pause_then_cut, postgres_writer};
use crate::support::setup::{assert_exit, query, Setup};

const SOURCE: &str = "
    PRAGMA journal_mode = WAL;
    CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, balance INTEGER NOT NULL);
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000)
    INSERT INTO accounts (owner, balance) SELECT 'owner ' || x, x FROM c;
    CREATE TABLE tally (id INTEGER PRIMARY KEY, last INTEGER NOT NULL);
    INSERT INTO tally VALUES (1, 0);
";

const PLAN: &str = "settings: { reversible: true }\n";

/// One value of `sql` in the old SQLite file, as text.
fn in_file(s: &Setup, sql: &str) -> String {
    #[derive(diesel::QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let mut conn = SqliteConnection::establish(s.path("source.sqlite3").to_str().unwrap()).unwrap();
    diesel::sql_query(format!("SELECT ({sql}) AS v"))
        .get_result::<V>(&mut conn)
        .unwrap()
        .v
}

#[test]
fn a_reverse_cutover_under_a_live_writer_on_postgres_loses_no_commit_and_leaves_the_file_equal_at_the_pause(
) {
    let s = Setup::from_sql(SOURCE, PLAN);
    assert_exit(&s.decant(&["run", "plan.yaml"]), 0);
    // No reverse sync yet: nothing to start from.
    let refused = s.decant(&[
        "cutover",
        "plan.yaml",
        "--reverse",
        "--report-dir",
        "reports",
    ]);
    assert_exit(&refused, 2);
    assert!(
        refused.stderr.contains("sync PLAN --reverse"),
        "{}",
        refused.stderr
    );
    assert_exit(&s.decant(&["sync", "plan.yaml", "--reverse"]), 0);

    let (commits, report, start, end) = kill_in_the_pause_then_cut(
        &s,
        &[
            "cutover",
            "plan.yaml",
            "--reverse",
            "--report-dir",
            "reports",
        ],
        "paused:cutover-reverse",
        "plan.cutover-reverse.report.json",
        postgres_writer(&s.db.url),
    );
    assert_eq!(report["verified_equal"], true, "{report}");
    // The file is PostgreSQL at one moment inside the pause: as many live rows as its tally
    // says, no fewer than the commits done before the pause, no more than those begun before
    // it ended; every row up to the file's highest id equal to PostgreSQL's.
    let last: usize = in_file(&s, "SELECT last FROM tally").parse().unwrap();
    assert_eq!(
        in_file(
            &s,
            "SELECT count(*) FROM accounts WHERE owner LIKE 'live %'"
        ),
        last.to_string()
    );
    assert_synced_inside_the_pause(&commits, last, start, end);
    let max = in_file(&s, "SELECT max(id) FROM accounts");
    assert_eq!(
        in_file(&s, "SELECT count(*) || '/' || sum(balance) || '/' || sum(length(owner)) FROM accounts"),
        query(
            &s.db,
            &format!("SELECT count(*) || '/' || sum(balance) || '/' || sum(length(owner)) FROM public.accounts WHERE id <= {max}")
        )
    );
}

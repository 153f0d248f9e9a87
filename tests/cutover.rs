//! Cutover: `sync --follow` and `cutover` against a SQLite source an app keeps writing in WAL
//! mode: the writer's commits wait during the pause and none is lost, the target equals the
//! source as of the pause, and a kill or a failure inside the pause frees the source at once.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};

use crate::support::cli::Outcome;
use crate::support::setup::{assert_exit, query, Setup};

const SOURCE: &str = "
    PRAGMA journal_mode = WAL;
    CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, balance INTEGER NOT NULL);
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000)
    INSERT INTO accounts (owner, balance) SELECT 'owner ' || x, x FROM c;
";

const PLAN: &str = "checks:
  - row_counts: all
  - checksums: all
";

/// One commit of the app: when it began and ended (since the epoch), and whether it failed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Commit {
    pub(crate) began: f64,
    pub(crate) ended: f64,
    pub(crate) failed: bool,
}

/// Whether a commit waited for the pause `start..end` to end: it was in flight when the pause
/// ended and had waited at least half of it (it may have begun a moment before `start`, which is
/// taken once the lock is held).
fn waited_out(c: &Commit, start: f64, end: f64) -> bool {
    c.began < end && c.ended >= end - 0.01 && c.ended - c.began >= (end - start) / 2.0
}

fn epoch() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The app: a new account and a changed balance per commit, every 3 ms, with a busy timeout
/// long enough to wait out a cutover's pause (what the cutover guide tells apps to set).
struct Writer {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<Vec<Commit>>,
}

impl Writer {
    fn start(s: &Setup) -> Writer {
        let path = s.path("source.sqlite3");
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
            conn.batch_execute("PRAGMA busy_timeout = 30000").unwrap();
            let mut commits = Vec::new();
            let mut n = 0u64;
            while !stopping.load(Ordering::SeqCst) {
                n += 1;
                let began = epoch();
                let result = conn.batch_execute(&format!(
                    "BEGIN IMMEDIATE; INSERT INTO accounts (owner, balance) VALUES ('live {n}', {n}); \
                     UPDATE accounts SET balance = balance + 1 WHERE id = {}; COMMIT;",
                    1 + n % 5000
                ));
                if result.is_err() {
                    let _ = conn.batch_execute("ROLLBACK");
                }
                commits.push(Commit {
                    began,
                    ended: epoch(),
                    failed: result.is_err(),
                });
                std::thread::sleep(Duration::from_millis(3));
            }
            commits
        });
        Writer { stop, handle }
    }

    fn stop(self) -> Vec<Commit> {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().unwrap()
    }
}

fn decant(s: &Setup, args: &[&str], kill: Option<&str>) -> Outcome {
    s.decant_killed_at(args, kill)
}

/// `count/sum(balance)/max(id)` of accounts with ids up to `max` in the source.
fn source_state(s: &Setup, max: i64) -> String {
    #[derive(diesel::QueryableByName)]
    struct State {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let mut conn = SqliteConnection::establish(s.path("source.sqlite3").to_str().unwrap()).unwrap();
    diesel::RunQueryDsl::get_result::<State>(
        diesel::sql_query(format!(
            "SELECT count(*) || '/' || sum(balance) || '/' || max(id) AS v FROM accounts WHERE id <= {max}"
        )),
        &mut conn,
    )
    .unwrap()
    .v
}

fn target_state(s: &Setup) -> String {
    query(
        &s.db,
        "SELECT count(*) || '/' || sum(balance) || '/' || max(id) FROM public.accounts",
    )
}

/// Every row of `table` (id, then `columns`) as one text, in the source.
fn source_rows(s: &Setup, table: &str, columns: &str) -> String {
    #[derive(diesel::QueryableByName)]
    struct Rows {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let mut conn = SqliteConnection::establish(s.path("source.sqlite3").to_str().unwrap()).unwrap();
    diesel::RunQueryDsl::get_result::<Rows>(
        diesel::sql_query(format!(
            "SELECT coalesce(group_concat(r, ','), '') AS v FROM (SELECT id || '|' || {columns} AS r FROM {table} ORDER BY id)"
        )),
        &mut conn,
    )
    .unwrap()
    .v
}

/// [`source_rows`] in the target.
fn target_rows(s: &Setup, table: &str, columns: &str) -> String {
    query(
        &s.db,
        &format!("SELECT coalesce(string_agg(id || '|' || {columns}, ',' ORDER BY id), '') FROM public.{table}"),
    )
}

fn run_and_report(s: &Setup) {
    assert_exit(&decant(s, &["run", "plan.yaml"], None), 0);
}

#[test]
fn a_cutover_under_a_live_writer_pauses_it_loses_no_commit_and_leaves_the_target_equal_to_the_source_at_the_pause(
) {
    let s = Setup::from_sql(SOURCE, PLAN);
    std::fs::write(
        s.path("plan.yaml"),
        std::fs::read_to_string(s.path("plan.yaml")).unwrap()
            + "steps:\n  - { id: switch-app, run: \"echo switched to $PGDATABASE\", phase: cutover }\n",
    )
    .unwrap();
    run_and_report(&s);
    let writer = Writer::start(&s);
    // Following: passes until the target is less than 5 s behind.
    let follow = decant(
        &s,
        &[
            "sync",
            "plan.yaml",
            "--follow",
            "--until-lag",
            "5",
            "--interval",
            "0.2",
            "--report-dir",
            "reports",
        ],
        None,
    );
    assert_exit(&follow, 0);
    assert!(
        follow.stdout.contains("pass 1:") && follow.stdout.contains("caught up"),
        "{}",
        follow.stdout
    );
    std::thread::sleep(Duration::from_millis(300));
    let cut = decant(
        &s,
        &["cutover", "plan.yaml", "--report-dir", "reports"],
        None,
    );
    std::thread::sleep(Duration::from_millis(300));
    let commits = writer.stop();
    assert_exit(&cut, 0);
    assert!(cut.stdout.contains("write pause"), "{}", cut.stdout);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.path("reports/plan.cutover.report.json")).unwrap(),
    )
    .unwrap();
    assert!(report["failure"].is_null(), "{report}");
    assert_eq!(report["steps"][0]["id"], "switch-app");
    assert!(report["steps"][0]["output"]
        .as_str()
        .unwrap()
        .contains("switched to"));
    // Where the pause went: each stage in order, adding up to no more than the pause, and the
    // final sync's phases.
    let stages: Vec<(&str, f64)> = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s[0].as_str().unwrap(), s[1].as_f64().unwrap()))
        .collect();
    let names: Vec<&str> = stages.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "changes since the catch-up",
            "final sync",
            "sequences",
            "checks",
            "step `switch-app`"
        ],
        "{report}"
    );
    let staged: f64 = stages.iter().map(|(_, s)| s).sum();
    assert!(
        staged > 0.0 && staged <= report["pause_seconds"].as_f64().unwrap(),
        "{report}"
    );
    assert!(report["sync"]["phases"]["digest"].as_f64().unwrap() > 0.0);
    let (start, end) = (
        report["pause_started_at"].as_f64().unwrap(),
        report["pause_ended_at"].as_f64().unwrap(),
    );
    // No commit of the app was lost, and those that arrived during the pause waited for it.
    assert!(commits.iter().all(|c| !c.failed), "a commit failed");
    let waited = commits.iter().filter(|c| waited_out(c, start, end)).count();
    assert!(
        waited >= 1,
        "no commit waited for the pause ({start}..{end})"
    );
    // The target is the source as of the pause: every row up to the target's highest id, with
    // the balances the source had then (the app's later updates touch ids up to 5000 only
    // after the pause, so compare the rows the app inserted, which it never changes).
    let target = target_state(&s);
    let max: i64 = target.rsplit('/').next().unwrap().parse().unwrap();
    let inserted_then = query(
        &s.db,
        "SELECT count(*) FROM public.accounts WHERE owner LIKE 'live %'",
    );
    let in_source_then = commits.iter().filter(|c| c.ended <= start).count();
    assert!(
        inserted_then.parse::<usize>().unwrap() >= in_source_then,
        "{inserted_then} live rows in the target, {in_source_then} committed before the pause"
    );
    assert!(
        source_state(&s, i64::MAX)
            .split('/')
            .next()
            .unwrap()
            .parse::<i64>()
            .unwrap()
            > max
    );
    // Sequences continue after the loaded ids: a new row in the target takes the next id.
    s.db.connect()
        .batch_execute("INSERT INTO public.accounts (owner, balance) VALUES ('after', 0)")
        .unwrap();
    assert_eq!(
        query(
            &s.db,
            "SELECT id FROM public.accounts WHERE owner = 'after'"
        ),
        (max + 1).to_string()
    );
}

#[test]
fn a_cutover_killed_or_failing_inside_the_pause_frees_the_source_and_can_be_done_again() {
    let s = Setup::from_sql(SOURCE, PLAN);
    std::fs::write(
        s.path("plan.yaml"),
        std::fs::read_to_string(s.path("plan.yaml")).unwrap()
            + "steps:\n  - { id: switch-app, run: \"test -f switch-ok\", phase: cutover }\n",
    )
    .unwrap();
    run_and_report(&s);
    let writer = Writer::start(&s);
    std::thread::sleep(Duration::from_millis(200));
    // Killed inside the pause: the lock dies with the process.
    let killed = decant(
        &s,
        &["cutover", "plan.yaml", "--report-dir", "reports"],
        Some("paused:cutover"),
    );
    assert_eq!(killed.code, -1, "{}", killed.stderr);
    let after_kill = epoch();
    std::thread::sleep(Duration::from_millis(300));
    // A step that fails inside the pause: released, exit 2, the report says what to do.
    let failed = decant(
        &s,
        &["cutover", "plan.yaml", "--report-dir", "reports"],
        None,
    );
    assert_exit(&failed, 2);
    assert!(
        failed.stderr.contains("switch-app")
            && failed.stderr.contains("the app stays on the source"),
        "{}",
        failed.stderr
    );
    let after_failure = epoch();
    std::thread::sleep(Duration::from_millis(300));
    let commits = writer.stop();
    assert!(commits.iter().all(|c| !c.failed), "a commit failed");
    for moment in [after_kill, after_failure] {
        assert!(
            commits
                .iter()
                .any(|c| c.began > moment && c.ended < moment + 0.25),
            "the source was not writable right after the cutover ended ({moment})"
        );
    }
    // Done again, with the step fixed: the target equals the source, now still.
    std::fs::write(s.path("switch-ok"), "").unwrap();
    let done = decant(
        &s,
        &["cutover", "plan.yaml", "--report-dir", "reports"],
        None,
    );
    assert_exit(&done, 0);
    let target = target_state(&s);
    let max: i64 = target.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(target, source_state(&s, max));
    assert_eq!(source_state(&s, i64::MAX), target);
}

#[test]
fn a_cutover_refuses_before_any_pause_when_the_run_did_not_finish_or_the_target_is_far_behind() {
    let s = Setup::from_sql(SOURCE, PLAN);
    let none = decant(&s, &["cutover", "plan.yaml"], None);
    assert_exit(&none, 2);
    assert!(none.stderr.contains("run the plan"), "{}", none.stderr);
    run_and_report(&s);
    s.db.connect()
        .batch_execute("UPDATE decant.runs SET finished_at = finished_at - interval '2 hours'")
        .unwrap();
    let stale = decant(
        &s,
        &["cutover", "plan.yaml", "--max-catch-up-age", "600"],
        None,
    );
    assert_exit(&stale, 2);
    assert!(stale.stderr.contains("decant sync"), "{}", stale.stderr);
    // After a sync it goes ahead; with --app-stopped and no writer it verifies nothing changed.
    assert_exit(&decant(&s, &["sync", "plan.yaml"], None), 0);
    // A run report that is not JSON cannot say the run's checks passed: refused, not read as
    // no report at all.
    let run_report = s.path("reports/plan.report.json");
    let written = std::fs::read_to_string(&run_report).unwrap();
    std::fs::write(&run_report, "{ \"run_id\": 1, cut short").unwrap();
    let garbled = decant(
        &s,
        &[
            "cutover",
            "plan.yaml",
            "--app-stopped",
            "--report-dir",
            "reports",
        ],
        None,
    );
    assert_exit(&garbled, 2);
    assert!(
        garbled.stderr.contains("is not a report decant wrote"),
        "{}",
        garbled.stderr
    );
    std::fs::write(&run_report, written).unwrap();
    let stopped = decant(
        &s,
        &[
            "cutover",
            "plan.yaml",
            "--app-stopped",
            "--report-dir",
            "reports",
        ],
        None,
    );
    assert_exit(&stopped, 0);
    let report = std::fs::read_to_string(s.path("reports/plan.cutover.report.json")).unwrap();
    assert!(report.contains("\"verified_unchanged\": true"), "{report}");
}

#[test]
fn sync_follow_stops_cleanly_on_sigint_with_every_pass_journaled() {
    let s = Setup::from_sql(SOURCE, PLAN);
    run_and_report(&s);
    let writer = Writer::start(&s);
    let child = Command::new(env!("CARGO_BIN_EXE_decant"))
        .args(["sync", "plan.yaml", "--follow", "--interval", "0.1"])
        .current_dir(s.dir.path())
        .env("TARGET_DATABASE_URL", &s.db.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let began = Instant::now();
    while query(&s.db, "SELECT count(*) FROM decant.syncs")
        .parse::<u32>()
        .unwrap()
        < 3
    {
        assert!(began.elapsed() < Duration::from_secs(60), "no third pass");
        std::thread::sleep(Duration::from_millis(50));
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let commits = writer.stop();
    assert!(commits.iter().all(|c| !c.failed));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("stopped by SIGINT after"), "{stderr}");
    let printed = stdout.lines().filter(|l| l.starts_with("pass ")).count();
    let journaled: usize = query(
        &s.db,
        "SELECT count(*) FROM decant.syncs WHERE status = 'succeeded'",
    )
    .parse()
    .unwrap();
    assert!(
        printed >= 3 && journaled >= printed,
        "{printed} printed, {journaled} journaled\n{stdout}"
    );
    // A last sync with the app quiet makes the target equal to the source.
    assert_exit(&decant(&s, &["sync", "plan.yaml"], None), 0);
    assert_eq!(target_state(&s), source_state(&s, i64::MAX));
}

#[test]
fn a_cutover_from_mariadb_holds_its_writers_on_flush_tables_with_read_lock_and_loses_none() {
    use crate::support::mysql::MysqlDatabase;
    let source = MysqlDatabase::new();
    source.execute(
        "CREATE TABLE accounts (id INT AUTO_INCREMENT PRIMARY KEY, owner VARCHAR(40) NOT NULL, balance INT NOT NULL) ENGINE=InnoDB;
         INSERT INTO accounts (owner, balance) SELECT concat('owner ', seq), seq FROM seq_1_to_3000;",
    );
    let s = Setup::from_sql("", PLAN);
    std::fs::write(
        s.path("plan.yaml"),
        format!(
            "version: 1\nname: t\nsource: {{ url: \"{}\" }}\ntarget: {{ url: \"${{TARGET_DATABASE_URL}}\" }}\n{PLAN}",
            source.url
        ),
    )
    .unwrap();
    run_and_report(&s);
    // The app: one insert per commit every 3 ms.
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let url = source.url.clone();
    let writer = std::thread::spawn(move || {
        let mut conn = diesel::MysqlConnection::establish(&url).unwrap();
        let mut commits = Vec::new();
        let mut n = 0;
        while !stopping.load(Ordering::SeqCst) {
            n += 1;
            let began = epoch();
            let result = conn.batch_execute(&format!(
                "INSERT INTO accounts (owner, balance) VALUES ('live {n}', {n})"
            ));
            commits.push(Commit {
                began,
                ended: epoch(),
                failed: result.is_err(),
            });
            std::thread::sleep(Duration::from_millis(3));
        }
        commits
    });
    std::thread::sleep(Duration::from_millis(300));
    let cut = decant(
        &s,
        &["cutover", "plan.yaml", "--report-dir", "reports"],
        None,
    );
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    let commits = writer.join().unwrap();
    assert_exit(&cut, 0);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.path("reports/plan.cutover.report.json")).unwrap(),
    )
    .unwrap();
    let (start, end) = (
        report["pause_started_at"].as_f64().unwrap(),
        report["pause_ended_at"].as_f64().unwrap(),
    );
    assert!(commits.iter().all(|c| !c.failed), "a commit failed");
    assert!(
        commits.iter().any(|c| waited_out(c, start, end)),
        "no commit waited for the pause ({start}..{end}): {:?}",
        commits
            .iter()
            .filter(|c| c.ended >= start - 0.05 && c.began <= end + 0.05)
            .map(|c| (c.began - start, c.ended - start))
            .collect::<Vec<_>>()
    );
    // The target is the source as of the pause: every row up to its highest id, no later one.
    let target = target_state(&s);
    let max: i64 = target.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(
        source.query(&format!(
            "SELECT concat(count(*), '/', sum(balance), '/', max(id)) FROM accounts WHERE id <= {max}"
        )),
        target
    );
    let later: i64 = source
        .query(&format!("SELECT count(*) FROM accounts WHERE id > {max}"))
        .parse()
        .unwrap();
    assert!(later > 0, "no commit came after the pause");
}

/// A source with a table the app changes in every way, one whose rows spill into overflow
/// pages, and one it never writes.
const CHANGING: &str = "
    PRAGMA journal_mode = WAL;
    CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, balance INTEGER NOT NULL);
    CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
    CREATE TABLE still (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 6000)
    INSERT INTO accounts SELECT x, 'owner ' || x || ' ' || hex(randomblob(16)), x FROM c;
    INSERT INTO notes VALUES (1, printf('%.20000c', 'a')), (2, 'short');
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300)
    INSERT INTO still SELECT x, 'still ' || x FROM c;
";

/// The app's writes after the catch-up: a delete that frees whole pages, an update, inserts,
/// and an update of the same length that rewrites only an overflow page.
const APP_WRITES: &str = "
    DELETE FROM accounts WHERE id BETWEEN 2000 AND 3999;
    UPDATE accounts SET balance = -1 WHERE id IN (10, 5000);
    INSERT INTO accounts VALUES (7000, 'new', 7), (1, 'taken', 0) ON CONFLICT (id) DO UPDATE SET owner = 'moved';
    UPDATE notes SET body = printf('%.19999cb', 'a') WHERE id = 1;
";

/// Runs `CHANGING`'s plan, then a cutover during whose catch-up-to-pause gap the app writes
/// `APP_WRITES`; the cutover report. Every table then holds the source's rows.
fn cutover_with_writes_after_the_catch_up(sql: &str, writes: &str) -> (Setup, serde_json::Value) {
    let s = Setup::from_sql(sql, "checks:\n  - row_counts: all\n");
    run_and_report(&s);
    let release = s.path("release");
    let cut = crate::support::cli::Paused::start(
        s.dir.path(),
        &["cutover", "plan.yaml", "--report-dir", "reports"],
        &[
            ("TARGET_DATABASE_URL", &s.db.url),
            ("DECANT_TEST_RELEASE", release.to_str().unwrap()),
        ],
        "caught-up:cutover",
    );
    let mut app = SqliteConnection::establish(s.path("source.sqlite3").to_str().unwrap()).unwrap();
    app.batch_execute("PRAGMA busy_timeout = 10000").unwrap();
    for statement in writes.split(';').filter(|s| !s.trim().is_empty()) {
        app.batch_execute(statement).unwrap();
    }
    drop(app);
    std::fs::write(&release, "").unwrap();
    let out = cut.finish_within(Duration::from_secs(120));
    assert_exit(&out, 0);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.path("reports/plan.cutover.report.json")).unwrap(),
    )
    .unwrap();
    for (table, columns) in [
        ("accounts", "owner || '|' || balance"),
        (
            "notes",
            "length(body) || '|' || substr(body, length(body) - 2)",
        ),
        ("still", "v"),
    ] {
        assert_eq!(
            target_rows(&s, table, columns),
            source_rows(&s, table, columns),
            "`{table}` differs after the cutover: {report}"
        );
    }
    assert_eq!(
        target_rows(&s, "notes", "substr(body, length(body))"),
        "1|b,2|t"
    );
    (s, report)
}

#[test]
fn a_cutover_reads_only_the_rows_written_since_the_catch_up_and_the_target_equals_the_source() {
    let (_s, report) = cutover_with_writes_after_the_catch_up(CHANGING, APP_WRITES);
    let scope = &report["final_sync_scope"];
    assert_eq!(scope["incremental"], true, "{report}");
    assert!(scope["pages_changed"].as_u64().unwrap() > 0, "{report}");
    // `still` was not read; `notes` whole (only an overflow page changed), `accounts` in the
    // windows of the rows named.
    assert_eq!(scope["tables_skipped"], 1, "{report}");
    assert_eq!(scope["tables_read_whole"][0][0], "notes", "{report}");
    let accounts = report["sync"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["source"] == "accounts")
        .unwrap();
    assert_eq!(accounts["deleted"], 2000, "{report}");
    assert!(
        accounts["compared_ranges"].as_u64().unwrap() >= 3,
        "{report}"
    );
    // The row counts inside the pause covered the tables written since the catch-up.
    let checked = report["checks_scope"].as_str().unwrap();
    assert!(
        checked.contains("2 table(s)") && checked.contains("the other 1"),
        "{checked}"
    );
}

#[test]
fn checkpoints_the_app_asks_for_between_the_mark_and_the_pause_neither_restart_the_wal_nor_hide_a_change(
) {
    // The app checkpoints (RESTART would start a new WAL, TRUNCATE empty it) between writes:
    // the mark's reader holds both back, so the pages written since the mark are all still in
    // the WAL, and the final sync stays incremental and complete.
    let writes = format!(
        "PRAGMA wal_checkpoint(RESTART); {APP_WRITES}; PRAGMA wal_checkpoint(TRUNCATE); \
         INSERT INTO still VALUES (9000, 'after the checkpoints'); PRAGMA wal_checkpoint(PASSIVE);"
    );
    let (_s, report) = cutover_with_writes_after_the_catch_up(CHANGING, &writes);
    let scope = &report["final_sync_scope"];
    assert_eq!(scope["incremental"], true, "{report}");
    assert_eq!(scope["tables_skipped"], 0, "{report}");
}

#[test]
fn a_cutover_from_a_source_not_in_wal_mode_reads_every_row_and_says_why() {
    let (_s, report) = cutover_with_writes_after_the_catch_up(
        &CHANGING.replace("PRAGMA journal_mode = WAL;", ""),
        APP_WRITES,
    );
    let scope = &report["final_sync_scope"];
    assert_eq!(scope["incremental"], false, "{report}");
    assert!(
        scope["fallback"]
            .as_str()
            .unwrap()
            .contains("not in WAL mode"),
        "{report}"
    );
    assert!(report["checks_scope"].is_null(), "{report}");
}

#[test]
fn a_row_rejected_for_its_parent_loads_in_the_cutover_when_only_the_parent_was_written() {
    // Author 7's rating is no number: it is rejected, and its books with it. The app mends the
    // author after the catch-up; the books' table is not written at all, yet its rejected rows'
    // windows are compared again and the books load.
    let s = Setup::from_sql(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE authors (id INTEGER PRIMARY KEY, rating REAL);
         CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors(id), title TEXT);
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50)
         INSERT INTO authors SELECT x, CASE x WHEN 7 THEN 'not a number' ELSE x / 2.0 END FROM c;
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500)
         INSERT INTO books SELECT x, 1 + x % 50, 'title ' || x FROM c;",
        "settings: { on_bad_row: reject }\nchecks:\n  - row_counts: all\n",
    );
    assert_exit(&decant(&s, &["run", "plan.yaml"], None), 1);
    // A sync with nothing new keeps the sums of every window, rejects and all.
    assert_exit(&decant(&s, &["sync", "plan.yaml"], None), 0);
    assert_eq!(
        query(
            &s.db,
            "SELECT count(*) FROM public.books WHERE author_id = 7"
        ),
        "0"
    );
    let release = s.path("release");
    let cut = crate::support::cli::Paused::start(
        s.dir.path(),
        &["cutover", "plan.yaml", "--report-dir", "elsewhere"],
        &[
            ("TARGET_DATABASE_URL", &s.db.url),
            ("DECANT_TEST_RELEASE", release.to_str().unwrap()),
        ],
        "caught-up:cutover",
    );
    let mut app = SqliteConnection::establish(s.path("source.sqlite3").to_str().unwrap()).unwrap();
    app.batch_execute("PRAGMA busy_timeout = 10000; UPDATE authors SET rating = 3.5 WHERE id = 7")
        .unwrap();
    drop(app);
    std::fs::write(&release, "").unwrap();
    let out = cut.finish_within(Duration::from_secs(120));
    assert_exit(&out, 0);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.path("elsewhere/plan.cutover.report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["final_sync_scope"]["incremental"], true, "{report}");
    assert_eq!(
        report["final_sync_scope"]["tables_changed"],
        serde_json::json!(["authors"]),
        "{report}"
    );
    assert_eq!(
        target_rows(&s, "books", "author_id || '|' || title"),
        source_rows(&s, "books", "author_id || '|' || title"),
        "{report}"
    );
    assert_eq!(
        query(
            &s.db,
            "SELECT count(*) FROM public.books WHERE author_id = 7"
        ),
        "10"
    );
}

/// The app on a PostgreSQL source: per commit, a new account and the tally of commits so far
/// (`tally.last = n`), every 3 ms, without a `lock_timeout` (it waits out a pause).
pub(crate) fn postgres_writer(
    url: &str,
) -> (Arc<AtomicBool>, std::thread::JoinHandle<Vec<Commit>>) {
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let url = url.to_owned();
    let writer = std::thread::spawn(move || {
        let mut conn = diesel::PgConnection::establish(&url).unwrap();
        let mut commits = Vec::new();
        let mut n = 0;
        while !stopping.load(Ordering::SeqCst) {
            n += 1;
            let began = epoch();
            let result = conn.batch_execute(&format!(
                "BEGIN; INSERT INTO accounts (owner, balance) VALUES ('live {n}', {n}); \
                 UPDATE tally SET last = {n}; COMMIT"
            ));
            if result.is_err() {
                let _ = conn.batch_execute("ROLLBACK");
            }
            commits.push(Commit {
                began,
                ended: epoch(),
                failed: result.is_err(),
            });
            std::thread::sleep(Duration::from_millis(3));
        }
        commits
    });
    (stop, writer)
}

/// Beside a live `writer` (stopped through `stop`): decant killed at test point `point` inside
/// the window `args` opens, then the same window again. Asserts that the writer lost no commit
/// and wrote again right after the kill, that the second window succeeded, and that one commit
/// waited it out; returns the commits, the window's report (`reports/<report>`) and the
/// pause's start and end.
pub(crate) fn kill_in_the_pause_then_cut(
    s: &Setup,
    args: &[&str],
    point: &str,
    report: &str,
    (stop, writer): (Arc<AtomicBool>, std::thread::JoinHandle<Vec<Commit>>),
) -> (Vec<Commit>, serde_json::Value, f64, f64) {
    std::thread::sleep(Duration::from_millis(300));
    // Killed inside the pause: the lock ends with decant's connection.
    let killed = s.decant_killed_at(args, Some(point));
    assert_eq!(killed.code, -1, "{}", killed.stderr);
    let after_kill = epoch();
    std::thread::sleep(Duration::from_millis(300));
    let cut = s.decant(args);
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    let commits = writer.join().unwrap();
    assert_exit(&cut, 0);
    assert!(commits.iter().all(|c| !c.failed), "a commit failed");
    assert!(
        commits
            .iter()
            .any(|c| c.began > after_kill && c.ended < after_kill + 0.25),
        "the writer's tables were not writable right after decant was killed in the pause"
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.path(&format!("reports/{report}"))).unwrap(),
    )
    .unwrap();
    assert!(report["failure"].is_null(), "{report}");
    let (start, end) = (
        report["pause_started_at"].as_f64().unwrap(),
        report["pause_ended_at"].as_f64().unwrap(),
    );
    assert!(
        commits.iter().any(|c| waited_out(c, start, end)),
        "no commit waited for the pause ({start}..{end})"
    );
    (commits, report, start, end)
}

/// The side synced at one moment inside the pause `start..end` holds `last` of the writer's
/// commits: no fewer than those done before the pause, no more than those begun before its end.
pub(crate) fn assert_synced_inside_the_pause(
    commits: &[Commit],
    last: usize,
    start: f64,
    end: f64,
) {
    let before = commits.iter().filter(|c| c.ended <= start).count();
    let begun = commits.iter().filter(|c| c.began < end).count();
    assert!(
        before <= last && last <= begun,
        "{last} commits synced, {before} done before the pause, {begun} begun before it ended"
    );
}

#[test]
fn a_cutover_from_postgresql_holds_its_writers_on_table_locks_loses_none_and_a_kill_frees_them() {
    use crate::support::postgres::TestDatabase;
    let source = TestDatabase::new();
    source
        .connect()
        .batch_execute(
            "CREATE TABLE accounts (id serial PRIMARY KEY, owner text NOT NULL, balance integer NOT NULL);
             INSERT INTO accounts (owner, balance) SELECT 'owner ' || g, g FROM generate_series(1, 3000) g;
             CREATE TABLE tally (id integer PRIMARY KEY, last integer NOT NULL);
             INSERT INTO tally VALUES (1, 0);",
        )
        .unwrap();
    let s = Setup::from_sql("", PLAN);
    std::fs::write(
        s.path("plan.yaml"),
        format!(
            "version: 1\nname: t\nsource: {{ url: \"{}\" }}\ntarget: {{ url: \"${{TARGET_DATABASE_URL}}\" }}\n{PLAN}",
            source.url
        ),
    )
    .unwrap();
    run_and_report(&s);
    let (commits, _, start, end) = kill_in_the_pause_then_cut(
        &s,
        &["cutover", "plan.yaml", "--report-dir", "reports"],
        "paused:cutover",
        "plan.cutover.report.json",
        postgres_writer(&source.url),
    );
    // The target is the source at one moment inside the pause: as many live rows as the tally
    // says, no fewer than the commits done before the pause, no more than those begun before
    // it ended; every row up to the target's highest id equal to the source's; later commits
    // only in the source.
    let last: usize = query(&s.db, "SELECT last FROM public.tally")
        .parse()
        .unwrap();
    assert_eq!(
        query(
            &s.db,
            "SELECT count(*) FROM public.accounts WHERE owner LIKE 'live %'"
        ),
        last.to_string()
    );
    assert_synced_inside_the_pause(&commits, last, start, end);
    let target = target_state(&s);
    let max: i64 = target.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(
        query(
            &source,
            &format!("SELECT count(*) || '/' || sum(balance) || '/' || max(id) FROM accounts WHERE id <= {max}")
        ),
        target
    );
    let later: i64 = query(
        &source,
        &format!("SELECT count(*) FROM accounts WHERE id > {max}"),
    )
    .parse()
    .unwrap();
    assert!(later > 0, "no commit came after the pause");
}

#[test]
fn a_postgresql_pause_without_the_privilege_to_lock_the_tables_is_refused_with_what_it_needs() {
    use crate::support::postgres::TestDatabase;
    let source = TestDatabase::new();
    let role = format!("{}_reader", source.name);
    source
        .connect()
        .batch_execute(&format!(
            "CREATE TABLE accounts (id integer PRIMARY KEY);
             CREATE ROLE \"{role}\" LOGIN PASSWORD 'reader'; GRANT SELECT ON accounts TO \"{role}\";"
        ))
        .unwrap();
    // The test server's URL with the reader as its user.
    let (scheme, rest) = source.url.split_once("://").unwrap();
    let (_, address) = rest.split_once('@').unwrap();
    let url = format!("{scheme}://{role}:reader@{address}");
    let parsed = decant::url::parse_source_url(&url, std::path::Path::new(".")).unwrap();
    let refused = decant::engines::pause::WritePause::begin(
        &parsed,
        &["accounts".to_owned()],
        Duration::from_secs(1),
    );
    let message = match refused {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a role with SELECT only locked the table"),
    };
    source
        .connect()
        .batch_execute(&format!(
            "REVOKE ALL ON accounts FROM \"{role}\"; DROP ROLE \"{role}\""
        ))
        .unwrap();
    assert!(
        message.contains("permission denied")
            && message.contains("UPDATE, DELETE or TRUNCATE privilege")
            && message.contains("--app-stopped"),
        "{message}"
    );
}

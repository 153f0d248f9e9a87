//! The committed example databases are exactly what their readable SQL builds.

use diesel::connection::SimpleConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};

use crate::support::cli::repo_root;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut SqliteConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

#[test]
fn committed_fixtures_match_the_sql_they_are_built_from() {
    let data = repo_root().join("plans/data");
    let mut checked = 0;
    for entry in std::fs::read_dir(&data).unwrap() {
        let sql_path = entry.unwrap().path();
        if sql_path.extension().is_none_or(|e| e != "sql") {
            continue;
        }
        let committed = sql_path.with_extension("sqlite3");
        assert!(
            committed.is_file(),
            "{} has no committed database",
            sql_path.display()
        );
        let size = std::fs::metadata(&committed).unwrap().len();
        assert!(
            size < 1024 * 1024,
            "{} is {size} bytes; fixtures stay well under 1 MB",
            committed.display()
        );

        let sql = std::fs::read_to_string(&sql_path).unwrap();
        let (_guard, fresh) = crate::support::sqlite_from_sql(&sql);
        let mut conn = decant::engines::sqlite::open_sqlite_read_only(&committed).unwrap();
        let committed_catalog = decant::engines::sqlite::introspect_sqlite(&mut conn).unwrap();
        drop(conn);
        let mut conn = decant::engines::sqlite::open_sqlite_read_only(&fresh).unwrap();
        let fresh_catalog = decant::engines::sqlite::introspect_sqlite(&mut conn).unwrap();
        drop(conn);
        assert_eq!(
            committed_catalog,
            fresh_catalog,
            "{}: schema differs from its SQL; run `bash plans/data/build.sh`",
            committed.display()
        );

        let mut conn = SqliteConnection::establish(fresh.to_str().unwrap()).unwrap();
        conn.batch_execute(&format!(
            "ATTACH DATABASE '{}' AS committed",
            committed.display().to_string().replace('\'', "''")
        ))
        .unwrap();
        for table in &fresh_catalog.tables {
            let t = format!("\"{}\"", table.name.replace('"', "\"\""));
            for (a, b) in [("main", "committed"), ("committed", "main")] {
                let differing = count(&mut conn, &format!("SELECT count(*) AS n FROM (SELECT * FROM {a}.{t} EXCEPT SELECT * FROM {b}.{t})"));
                assert_eq!(
                    differing,
                    0,
                    "{}: rows of `{}` differ from its SQL; run `bash plans/data/build.sh`",
                    committed.display(),
                    table.name
                );
            }
        }
        checked += 1;
    }
    assert!(
        checked >= 5,
        "expected the five example fixtures, checked {checked}"
    );
}

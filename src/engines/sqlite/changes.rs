//! Which rows of a SQLite source in WAL mode may have changed since a mark: the pages its WAL
//! holds written since, walked to their tables and the rowids on them (`wal.rs`, `btree.rs`).
//!
//! The mark holds a read transaction open from the moment it is taken, so no checkpoint copies
//! a frame written after it into the file and no writer restarts the WAL: the versions at the
//! mark stay readable. Whatever does not add up is an error naming why: the caller then reads
//! every row, as without a mark. Row values are never read here, only page numbers and rowids.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl, SqliteConnection};

use super::btree::{free_pages, parse_node, walk_tree, Pages};
use super::wal::{read_wal, wal_path};
use crate::engines::changes::{SourceChanges, TableChanges};

/// A moment of a SQLite source's WAL, and the read transaction that keeps it readable.
pub struct Mark {
    path: PathBuf,
    /// Begun while the app's writes were held, so it reads exactly the mark's state.
    reader: SqliteConnection,
    /// The WAL's generation and committed frames at the mark (none: the WAL was empty).
    salts: Option<[u32; 2]>,
    frames: usize,
    schema: Vec<SchemaRow>,
    /// How long the app's writes were held for the mark to be taken.
    pub(crate) held: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
struct SchemaRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    tbl_name: String,
    #[diesel(sql_type = BigInt)]
    rootpage: i64,
    #[diesel(sql_type = Text)]
    sql: String,
}

const SCHEMA: &str = "SELECT type AS kind, name, tbl_name, coalesce(rootpage, 0) AS rootpage, \
     coalesce(sql, '') AS sql FROM sqlite_schema ORDER BY rowid";

fn read_schema(conn: &mut SqliteConnection) -> Result<Vec<SchemaRow>, String> {
    diesel::sql_query(SCHEMA)
        .load(conn)
        .map_err(|e| format!("cannot read `sqlite_schema`: {e}"))
}

/// Whether the file's header says WAL mode (its read and write versions are 2).
fn in_wal_mode(path: &Path) -> Result<bool, String> {
    let mut header = [0u8; 20];
    let read = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header))
        .map_err(|e| format!("cannot read the header of `{}`: {e}", path.display()));
    read.map(|()| header[18] == 2 && header[19] == 2)
}

/// Takes a mark of the source at `path`: holds the app's writes (at most `wait` for one in
/// flight) for the moment it takes to read the WAL and begin the reader on the same state.
pub fn take_mark(path: &Path, wait: Duration) -> Result<Mark, String> {
    if !in_wal_mode(path)? {
        return Err("the source is not in WAL mode, so its changed pages cannot be told".into());
    }
    let lock = super::pause::begin(path, wait).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let taken = (|| {
        let mut reader = super::open_sqlite_read_only(path).map_err(|e| e.to_string())?;
        reader
            .batch_execute("BEGIN")
            .map_err(|e| format!("cannot begin the mark's reader: {e}"))?;
        let schema = read_schema(&mut reader)?;
        let wal = read_wal(&wal_path(path))
            .map_err(|e| format!("cannot read the WAL of `{}`: {e}", path.display()))?;
        Ok(Mark {
            path: path.to_path_buf(),
            reader,
            salts: wal.as_ref().map(|w| w.salts),
            frames: wal.map_or(0, |w| w.frames.len()),
            schema,
            held: Duration::ZERO,
        })
    })();
    let held = started.elapsed();
    // Released before anything else: the app's writes wait only for the reading above.
    let _ = super::pause::release(lock);
    taken.map(|mark| Mark { held, ..mark })
}

/// The rows that may have changed since `mark`, per table; to be asked while the app's writes
/// are held (the cutover's pause), so nothing commits while the pages are read.
pub fn changes_since(mut mark: Mark) -> Result<SourceChanges, String> {
    let path = mark.path.clone();
    let wal = read_wal(&wal_path(&path))
        .map_err(|e| format!("cannot read the WAL: {e}"))?
        .ok_or("the WAL is gone since the mark")?;
    // An empty WAL at the mark: the mark's reader read the file alone, which keeps every
    // checkpoint from copying a frame into it, so no restart can have come between.
    if mark.salts.is_some_and(|s| s != wal.salts) || wal.frames.len() < mark.frames {
        return Err("the WAL was restarted since the catch-up began (a checkpoint)".into());
    }
    let mut now = super::open_sqlite_read_only(&path).map_err(|e| e.to_string())?;
    now.batch_execute("BEGIN")
        .map_err(|e| format!("cannot begin reading: {e}"))?;
    if read_schema(&mut now)? != mark.schema {
        return Err("the source's schema changed since the catch-up began".into());
    }
    let open = |p: &Path| {
        std::fs::File::open(p).map_err(|e| format!("cannot open `{}`: {e}", p.display()))
    };
    let pages = Pages::new(
        open(&path)?,
        Some(open(&wal_path(&path))?),
        wal.page_size,
        &wal.frames,
        mark.frames,
    );
    let io = |e: std::io::Error| format!("cannot read the source's pages: {e}");
    let header = pages.read_now(1).map_err(io)?.ok_or("page 1 is missing")?;
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65536,
        n => u32::from(n),
    };
    if page_size != wal.page_size {
        return Err("the WAL's page size is not the database's".into());
    }
    if header[52..56] != [0; 4] {
        return Err("the source uses auto-vacuum, whose pointer-map pages name no table".into());
    }
    let changed: HashSet<u32> = pages.changed().collect();
    let mut out = SourceChanges {
        pages: changed.len(),
        tables: BTreeMap::new(),
    };
    if changed.is_empty() {
        return Ok(out);
    }
    let mut classified: HashSet<u32> = HashSet::new();
    let trees = std::iter::once((1, "sqlite_schema", true)).chain(
        mark.schema
            .iter()
            .filter(|r| r.rootpage > 0 && (r.kind == "table" || r.kind == "index"))
            .map(|r| (r.rootpage as u32, r.name.as_str(), r.kind == "table")),
    );
    for (root, name, table) in trees {
        let tree = walk_tree(&pages, root).map_err(io)?;
        if let Some(page) = tree.unreadable {
            return Err(format!(
                "page {page} of `{name}` does not read as a b-tree page"
            ));
        }
        classified.extend(&tree.reached);
        if !table || !tree.changed || root == 1 {
            continue;
        }
        let root_now = pages.read_now(root).map_err(io)?;
        let rowid = root_now
            .and_then(|b| parse_node(root, &b))
            .is_some_and(|n| n.kind == 0x05 || n.kind == 0x0D);
        let entry = if rowid {
            TableChanges::Rows(tree.rowids)
        } else {
            TableChanges::Whole("a WITHOUT ROWID table".into())
        };
        out.tables.insert(name.to_owned(), entry);
    }
    let free = free_pages(&pages)
        .map_err(io)?
        .ok_or("the freelist does not read as one")?;
    let beyond = pages.page_count.unwrap_or(u32::MAX);
    let unclassified: BTreeSet<u32> = changed
        .iter()
        .copied()
        .filter(|p| !classified.contains(p) && !free.contains(p) && *p <= beyond)
        .collect();
    if !unclassified.is_empty() {
        overflow_owners(&mut now, &mark.schema, &unclassified, &mut out)?;
    }
    let _ = now.batch_execute("COMMIT");
    let _ = mark.reader.batch_execute("COMMIT");
    Ok(out)
}

#[derive(QueryableByName)]
struct Owner {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    pageno: i64,
}

/// Pages written since the mark that are in no tree and not free now: overflow pages (an
/// update of the same length rewrites only the pages that differ, which may be only an
/// overflow page). Their tables, found with `dbstat`, are read whole.
fn overflow_owners(
    now: &mut SqliteConnection,
    schema: &[SchemaRow],
    pages: &BTreeSet<u32>,
    out: &mut SourceChanges,
) -> Result<(), String> {
    let list: Vec<String> = pages.iter().map(u32::to_string).collect();
    let sql = format!(
        "SELECT name, pageno FROM dbstat WHERE pageno IN ({})",
        list.join(", ")
    );
    let owners: Vec<Owner> = diesel::sql_query(sql)
        .load(now)
        .map_err(|e| format!("cannot ask `dbstat` whose pages changed: {e}"))?;
    let owned: HashSet<u32> = owners.iter().map(|o| o.pageno as u32).collect();
    if let Some(p) = pages.iter().find(|p| !owned.contains(p)) {
        return Err(format!("page {p} changed and belongs to no table"));
    }
    for owner in owners {
        // An index's overflow changes with its table's rows, which changed on their own pages.
        let table = schema
            .iter()
            .any(|r| r.kind == "table" && r.name == owner.name);
        if table {
            out.tables.insert(
                owner.name,
                TableChanges::Whole("an overflow page changed".into()),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::Connection;

    const WAIT: Duration = Duration::from_secs(5);

    /// A WAL-mode database with `t` (3000 rows, many pages), `u` (200 rows) and `big` (one
    /// row spilling into overflow pages); the app's connection, which keeps the WAL.
    fn database(dir: &Path) -> (PathBuf, SqliteConnection) {
        let path = dir.join("app.sqlite3");
        let mut app = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        app.batch_execute(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
             CREATE INDEX t_v ON t (v);
             CREATE TABLE u (id INTEGER PRIMARY KEY, v TEXT);
             CREATE TABLE big (id INTEGER PRIMARY KEY, body TEXT);
             WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000)
             INSERT INTO t SELECT x, printf('row %d %s', x, hex(randomblob(20))) FROM c;
             WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200)
             INSERT INTO u SELECT x, 'u' || x FROM c;
             INSERT INTO big VALUES (1, printf('%.20000c', 'a')), (2, 'small');",
        )
        .unwrap();
        (path, app)
    }

    fn rows(changes: &SourceChanges, table: &str) -> BTreeSet<i64> {
        match changes.table(table) {
            Some(TableChanges::Rows(r)) => r.clone(),
            other => panic!("`{table}`: {other:?} in {changes:?}"),
        }
    }

    #[test]
    fn inserts_updates_and_deletes_since_the_mark_are_named_by_table_and_rowid() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut app) = database(dir.path());
        let mark = take_mark(&path, WAIT).unwrap();
        // A delete that frees whole pages, an update, an insert; `u` and `big` untouched.
        app.batch_execute(
            "DELETE FROM t WHERE id BETWEEN 1000 AND 1999;
             UPDATE t SET v = 'changed' WHERE id = 2500;
             INSERT INTO t VALUES (5000, 'new');",
        )
        .unwrap();
        let changes = changes_since(mark).unwrap();
        let t = rows(&changes, "t");
        for id in [1000, 1500, 1999, 2500, 5000] {
            assert!(t.contains(&id), "{id} not among the changed rows of `t`");
        }
        assert!(!t.contains(&10), "a row on a page never written: {t:?}");
        assert_eq!(changes.table("u"), None);
        assert_eq!(changes.table("big"), None);
    }

    #[test]
    fn a_row_inserted_and_deleted_again_since_the_mark_is_named_too() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut app) = database(dir.path());
        let mark = take_mark(&path, WAIT).unwrap();
        // Rows that a catch-up may have seen in between: on versions neither old nor new.
        app.batch_execute(
            "WITH RECURSIVE c(x) AS (SELECT 7000 UNION ALL SELECT x + 1 FROM c WHERE x < 7800)
             INSERT INTO u SELECT x, hex(randomblob(40)) FROM c;",
        )
        .unwrap();
        app.batch_execute("DELETE FROM u WHERE id >= 7000").unwrap();
        let changes = changes_since(mark).unwrap();
        let u = rows(&changes, "u");
        assert!(
            u.contains(&7000) && u.contains(&7400) && u.contains(&7800),
            "{u:?}"
        );
    }

    #[test]
    fn an_update_that_rewrites_only_an_overflow_page_reads_its_table_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut app) = database(dir.path());
        let mark = take_mark(&path, WAIT).unwrap();
        // Same length, last bytes only: SQLite rewrites the one overflow page that differs.
        app.batch_execute("UPDATE big SET body = printf('%.19999cb', 'a') WHERE id = 1")
            .unwrap();
        let changes = changes_since(mark).unwrap();
        assert_eq!(
            changes.table("big"),
            Some(&TableChanges::Whole("an overflow page changed".into())),
            "{changes:?}"
        );
        assert_eq!(changes.table("t"), None);
    }

    #[test]
    fn a_restarted_wal_a_changed_schema_or_no_wal_is_said_and_never_guessed() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut app) = database(dir.path());
        let mark = take_mark(&path, WAIT).unwrap();
        app.batch_execute("CREATE TABLE v (id INTEGER PRIMARY KEY)")
            .unwrap();
        let schema = changes_since(mark).unwrap_err();
        assert!(schema.contains("schema changed"), "{schema}");
        // A restart between the mark and now: here the mark's reader is let go first, as
        // a checkpoint that outwaited it would find it.
        let mut mark = take_mark(&path, WAIT).unwrap();
        mark.reader.batch_execute("COMMIT").unwrap();
        app.batch_execute("PRAGMA wal_checkpoint(RESTART); INSERT INTO u VALUES (900, 'x');")
            .unwrap();
        let restarted = changes_since(mark).unwrap_err();
        assert!(restarted.contains("restarted"), "{restarted}");
        // While the mark's reader holds, a checkpoint cannot restart the WAL.
        let mark = take_mark(&path, WAIT).unwrap();
        app.batch_execute("PRAGMA wal_checkpoint(RESTART); INSERT INTO u VALUES (901, 'x');")
            .unwrap();
        assert!(rows(&changes_since(mark).unwrap(), "u").contains(&901));
        // A database in rollback-journal mode has no WAL to tell from.
        app.batch_execute("PRAGMA journal_mode = DELETE").unwrap();
        let no_wal = take_mark(&path, WAIT).err().unwrap();
        assert!(no_wal.contains("not in WAL mode"), "{no_wal}");
    }
}

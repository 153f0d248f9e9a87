#!/usr/bin/env bash
# Rebuilds the example SQLite fixtures: plans/data/<name>.sqlite3 from plans/data/<name>.sql.
#
#   bash plans/data/build.sh              # every fixture
#   bash plans/data/build.sh chat savings # just these
#
# Uses python3's sqlite3 module (python3 is always present; the sqlite3 CLI may not be). Each
# database is deleted first, built with foreign keys enforced, left in rollback-journal mode
# (journal_mode=DELETE, so no -wal/-shm files remain beside it), checked with
# PRAGMA foreign_key_check and PRAGMA integrity_check, and vacuumed. A fixture that has an orphan
# or fails the integrity check makes the script exit non-zero. Builds are deterministic: the
# .sql files hold fixed rows only.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

if [ "$#" -gt 0 ]; then
    names=("$@")
else
    names=()
    for sql in *.sql; do
        names+=("${sql%.sql}")
    done
fi

for name in "${names[@]}"; do
    sql="$name.sql"
    db="$name.sqlite3"
    if [ ! -f "$sql" ]; then
        echo "build.sh: no $here/$sql" >&2
        exit 2
    fi
    rm -f "$db" "$db-journal" "$db-wal" "$db-shm"
    python3 - "$sql" "$db" <<'PY'
import sqlite3
import sys

sql_path, db_path = sys.argv[1], sys.argv[2]
with open(sql_path, encoding="utf-8") as f:
    script = f.read()

con = sqlite3.connect(db_path)
con.execute("PRAGMA journal_mode=DELETE")
con.execute("PRAGMA foreign_keys=ON")
try:
    con.executescript(script)
except sqlite3.Error as e:
    con.close()
    sys.exit(f"build.sh: {sql_path}: {e}")
con.commit()

orphans = con.execute("PRAGMA foreign_key_check").fetchall()
integrity = [row[0] for row in con.execute("PRAGMA integrity_check")]
con.execute("VACUUM")
mode = con.execute("PRAGMA journal_mode").fetchone()[0]
tables = con.execute(
    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
).fetchall()
counts = ", ".join(
    "%s=%d" % (t, con.execute('SELECT count(*) FROM "%s"' % t).fetchone()[0]) for (t,) in tables
)
con.close()

problems = []
if orphans:
    problems.append(f"foreign_key_check found {len(orphans)} orphan(s): {orphans}")
if integrity != ["ok"]:
    problems.append(f"integrity_check: {integrity}")
if mode.lower() != "delete":
    problems.append(f"journal_mode is {mode}, expected delete")
if problems:
    sys.exit(f"build.sh: {db_path}: " + "; ".join(problems))
print(f"{db_path}: {counts}")
PY
done

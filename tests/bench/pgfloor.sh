#!/usr/bin/env bash
# Copied from the project's shared tools (shared/tools/pgfloor.sh), so the benchmark runs from a clone.
# The PostgreSQL floor for a load: the server ingests pre-encoded binary COPY files from its own disk (no client
# work at all) and builds the same keys, indexes and foreign keys as SRC_DB has, in two lanes on two cores
# (the largest table alone in one lane, the rest in the other; foreign keys and ANALYZE after both).
# Usage: [PGHOST=… PGPORT=… PGUSER=…] pgfloor.sh SRC_DB NEW_DB
#   SRC_DB: a target already loaded (e.g. by decant) on that server; NEW_DB is (re)created and timed.
#   The server must be able to write and read the cache folder (run on the database machine).
# Binary files are cached in /tmp/physbin; delete them when SRC_DB's data changes.
set -eu
SRC=$1; DB=$2; D=${PGFLOOR_CACHE:-/tmp/pgfloor-$SRC}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
P="psql -X -q -v ON_ERROR_STOP=1"
DUMP="pg_dump -s -n public"
mkdir -p $D && chmod 777 $D
TABLES=$($P -d $SRC -Atc "select relname from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace order by pg_relation_size(oid) desc")
for t in $TABLES; do
  [ -f $D/$t.bin ] || $P -d $SRC -c "copy \"$t\" to '$D/$t.bin' (format binary)"
done
$DUMP --section=pre-data $SRC | grep -v '^CREATE SCHEMA public;' > $D/pre.sql
$DUMP --section=post-data $SRC > $D/post.sql
python3 - $D $TABLES <<'PY'
import re, sys
d, tables = sys.argv[1], sys.argv[2:]
stmts = [s.strip() for s in re.sub(r"(?m)^--.*$", "", open(f"{d}/post.sql").read()).split(";\n") if s.strip()]
keep = [s for s in stmts if not s.startswith(("SET ", "SELECT pg_catalog"))]
def table_of(s):
    m = re.search(r"(?:ALTER TABLE ONLY|ON) public\.\"?(\w+)\"?", s)
    return m.group(1) if m else None
fks = [s for s in keep if "FOREIGN KEY" in s]
for t in tables:
    open(f"{d}/post-{t}.sql", "w").write(";\n".join(s for s in keep if s not in fks and table_of(s) == t) + ";\n")
for t in tables:
    open(f"{d}/fks-{t}.sql", "w").write("".join(s + ";\n" for s in fks if table_of(s) == t) or "select 1;\n")
PY
set -- $TABLES; BIG=$1; shift; REST="$*"
$P -d postgres -c "drop database if exists $DB with (force)" -c "create database $DB"
$P -d postgres -c checkpoint
s=$(date +%s.%N)
$P -d $DB -f $D/pre.sql >/dev/null
( $P -d $DB -c "copy \"$BIG\" from '$D/$BIG.bin' (format binary)" -f $D/post-$BIG.sql >/dev/null ) &
( for t in $REST; do $P -d $DB -c "copy \"$t\" from '$D/$t.bin' (format binary)" -f $D/post-$t.sql >/dev/null; done ) &
wait
( $P -d $DB -f $D/fks-$BIG.sql >/dev/null; $P -d $DB -c "analyze \"$BIG\"" ) &
( for t in $REST; do $P -d $DB -f $D/fks-$t.sql >/dev/null; $P -d $DB -c "analyze \"$t\""; done ) &
wait
e=$(date +%s.%N)
echo "pg floor: $(echo "$e - $s" | bc) s"

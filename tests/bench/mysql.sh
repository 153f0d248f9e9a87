#!/usr/bin/env bash
# decant against pgloader from a MariaDB/MySQL source: the bench database (tests/bench/generate.py:
# users, orders, order_items) copied into MariaDB with natural MySQL types, then moved into a
# fresh PostgreSQL database by `decant run tests/bench/mysql.yaml` and by pgloader, N times each,
# interleaved. Prints every run, then the medians of wall seconds and peak RSS and the ratio
# decant / pgloader.
#
#   bash tests/bench/mysql.sh [--runs N] [--scale S] [--server URL] [--no-build | --decant PATH]
#                             [--no-floor] [--pgloader-defaults]
#
#   --runs N      timed runs of each tool (default 3); the summary is the median
#   --scale S     multiplies the generator's row counts (default 1.0: 5.2 M rows)
#   --server URL  the PostgreSQL server (default $BENCH_SERVER_URL or
#                 postgres://postgres@127.0.0.1:5432); scratch databases are made and dropped
#   --no-build    use target/release/decant as it is
#   --decant PATH time this decant binary instead (implies --no-build); a copy of it is timed,
#                 so a rebuild of target/ during the runs does not change the binary mid-way
#   --no-floor    skip the PostgreSQL floor (tests/bench/pgfloor.sh: the server alone loads the
#                 same data from binary files on its own disk and builds the same keys, indexes
#                 and foreign keys — what no client can beat); on by default for the local server
#   --pgloader-defaults  run pgloader with its default casts. By default pgloader gets one CAST
#                 rule, `type bigint when unsigned to bigint drop typemod`: its default makes
#                 `bigint unsigned` keys bigint but the columns referencing them numeric, so
#                 neither foreign key can be made ("cannot be implemented") and pgloader does
#                 less than the job. With the rule it builds both, as decant does.
#
# The MariaDB server is $BENCH_MYSQL_HOST:$BENCH_MYSQL_PORT (default 127.0.0.1:3306), user
# $BENCH_MYSQL_USER (default root), no password. The copy lives in the database
# decant_bench_<scale> (dots become underscores: decant_bench_0_2) and is kept between
# invocations; it is rebuilt when its row counts differ from the SQLite file's (exported by
# tests/bench/mysql_load.py, loaded with LOAD DATA LOCAL INFILE).
# decant's run counts rows (exit 0 only when everything loaded and the counts match); then
# `decant check mysql-checksums.yaml` compares every row, timed apart as "(check)", not part of
# the run's wall time; pgloader's result is checked by row counts per table.
# A failed run is reported and left out of the medians; the script then exits 1.
# Needs: cargo, python3, psql, mariadb (client), pgloader, /usr/bin/time (Debian package `time`).
set -euo pipefail

FLOOR=1
PGLOADER_DEFAULTS=0
own_option() {
    case "$1" in
        --no-floor) FLOOR=0; SHIFT=1 ;;
        --pgloader-defaults) PGLOADER_DEFAULTS=1; SHIFT=1 ;;
        *) return 1 ;;
    esac
}
. "$(dirname "${BASH_SOURCE[0]}")/args.sh" "$@"

[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install -y time)"
command -v psql >/dev/null || die "psql is missing (apt-get install -y postgresql-client)"
command -v mariadb >/dev/null || die "the mariadb client is missing (apt-get install -y mariadb-client)"
command -v pgloader >/dev/null || die "pgloader is missing (apt-get install -y pgloader)"

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$BENCH_DIR/common.sh"
admin "select 1" >/dev/null || die "cannot connect to $SERVER"
if [ "$FLOOR" = 1 ] && [ "$SERVER" != "postgres://postgres@127.0.0.1:5432" ]; then
    echo "the floor reads its files from this machine's /tmp: not measured against $SERVER"
    FLOOR=0
fi

. "$BENCH_DIR/mysql_source.sh"

# --- scratch databases and timing -------------------------------------------------------------
SUFFIX="$$"
REPORTS="$(mktemp -d /tmp/decant-mysql-bench.XXXXXX)"
cp "$DECANT" "$REPORTS/decant"   # the binary timed, whatever happens to target/ meanwhile
DECANT="$REPORTS/decant"
SCRATCH=""
FLOOR_DB="pg_floor_mysql_bench_$SUFFIX"
export PGFLOOR_CACHE="/tmp/pgfloor-mysql-$SUFFIX"
cleanup() {
    for db in $SCRATCH $FLOOR_DB; do admin "drop database if exists \"$db\" with (force)" 2>/dev/null || true; done
    rm -rf "$PGFLOOR_CACHE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fresh_db() { admin "drop database if exists \"$1\" with (force)"; admin "create database \"$1\""; admin "checkpoint"; SCRATCH="$SCRATCH $1"; }
drop_db() { admin "drop database if exists \"$1\" with (force)"; }

# Runs a command under /usr/bin/time; sets WALL (s), RSS (MiB) and RC.
timed() { # log cmd...
    local log="$1"; shift
    RC=0
    /usr/bin/time -f '%e %M' -o "$log.time" "$@" > "$log" 2>&1 || RC=$?
    WALL=$(tail -1 "$log.time" | cut -d' ' -f1)
    RSS=$(tail -1 "$log.time" | awk '{ printf "%.1f", $2 / 1024 }')
}

# Row counts per table in a target database (the table's schema is found, so pgloader's
# schema named after the MySQL database works as well as decant's public).
target_counts() { # db
    local db="$1" t schema out=""
    for t in $TABLES; do
        schema=$(psql "$SERVER/$db" -X -Atc "select table_schema from information_schema.tables
            where table_name = '$t' and table_schema not in ('pg_catalog', 'information_schema', 'decant')
            order by table_schema = 'public' desc limit 1")
        if [ -z "$schema" ]; then out="$out missing"; continue; fi
        out="$out $(psql "$SERVER/$db" -X -Atc "select count(*) from \"$schema\".\"$t\"")"
    done
    echo "${out# }"
}

# Validated foreign keys on orders and order_items in a target (the source has 2; decant's own
# journal schema is left out).
target_fks() {
    psql "$SERVER/$1" -X -Atc "select count(*) from pg_constraint k join pg_class c on c.oid = k.conrelid
        join pg_namespace n on n.oid = c.relnamespace where k.contype = 'f' and k.convalidated
        and n.nspname <> 'decant' and c.relname in ('orders', 'order_items')"
}

PG_FOR_PGLOADER="postgresql://${SERVER#*://}"
# pgloader connects to PostgreSQL without TLS (pg_stat_ssl.ssl is false for its backends);
# decant's libpq would negotiate TLS (sslmode=prefer) on localhost too. Both run plain here,
# so the two tools move the same bytes the same way.
PLAIN="?sslmode=disable"
D_WALL=""; D_RSS=""; C_WALL=""; C_RSS=""; F_WALL=""; P_WALL=""; P_RSS=""; FAILURES=""
echo "== $RUNS run(s) each, $TOTAL_ROWS rows, $(nproc) cores: $("$DECANT" --version), $(pgloader --version 2>&1 | head -1)"
echo "   source $MYSQL_URL; logs and reports in $REPORTS"
for run in $(seq 1 "$RUNS"); do
    # (a) decant
    db="decant_mysql_bench_${SUFFIX}_$run"
    fresh_db "$db"
    mkdir -p "$REPORTS/decant-$run"
    load=$(cut -d' ' -f1 /proc/loadavg)
    SOURCE_DATABASE_URL="$MYSQL_URL" TARGET_DATABASE_URL="$SERVER/$db$PLAIN" \
        timed "$REPORTS/decant-$run/decant.log" \
        "$DECANT" run "$BENCH_DIR/mysql.yaml" --report-dir "$REPORTS/decant-$run"
    got="$(target_counts "$db")"; fks="$(target_fks "$db")"
    printf '   decant   run %s: wall %7.2f s  %8.0f rows/s  peak RSS %7.1f MiB  exit %s  rows %s  foreign keys %s of 2  (load before: %s)\n' \
        "$run" "$WALL" "$(echo "$TOTAL_ROWS $WALL" | awk '{ print $1 / $2 }')" "$RSS" "$RC" "$got" "$fks" "$load"
    grep -E '^ *(checks:|error|warning)' "$REPORTS/decant-$run/decant.log" | sed 's/^ */            /' || true
    RUN_RC="$RC"; RUN_WALL="$WALL"; RUN_RSS="$RSS"
    # Verified row by row, timed apart: `decant check` with checksums over every row.
    SOURCE_DATABASE_URL="$MYSQL_URL" TARGET_DATABASE_URL="$SERVER/$db$PLAIN" \
        timed "$REPORTS/decant-$run/check.log" "$DECANT" check "$BENCH_DIR/mysql-checksums.yaml"
    printf '   decant   check %s: wall %7.2f s  peak RSS %7.1f MiB  exit %s  %s\n' \
        "$run" "$WALL" "$RSS" "$RC" "$(grep -E 'check\(s\):' "$REPORTS/decant-$run/check.log" | tail -1)"
    if [ "$RC" = 0 ]; then C_WALL="$C_WALL $WALL"; C_RSS="$C_RSS $RSS"; else
        FAILURES+="decant check $run: exit $RC, log $REPORTS/decant-$run/check.log"$'\n'; fi
    if [ "$RUN_RC" = 0 ] && [ "$got" = "$WANT" ]; then
        D_WALL="$D_WALL $RUN_WALL"; D_RSS="$D_RSS $RUN_RSS"
    else
        FAILURES+="decant run $run: exit $RUN_RC, rows $got (want $WANT), log $REPORTS/decant-$run/decant.log"$'\n'
        tail -n 25 "$REPORTS/decant-$run/decant.log" | sed 's/^/            | /'
    fi
    if [ "$FLOOR" = 1 ] && [ "$RUN_RC" = 0 ]; then
        # From this run's target: its binary files are made once, then kept for the runs.
        floor_s="$(PGOPTIONS="-c client_min_messages=warning" bash "$BENCH_DIR/pgfloor.sh" "$db" "$FLOOR_DB" | sed -n 's/^pg floor: \([0-9.]*\) s$/\1/p')"
        [ -n "$floor_s" ] || die "pgfloor.sh printed no time"
        floor_s=$(printf "%.2f" "$floor_s")
        printf '   floor    run %s: wall %7.2f s  (the server alone: no client, no source)\n' "$run" "$floor_s"
        F_WALL="$F_WALL $floor_s"
        drop_db "$FLOOR_DB"
    fi
    drop_db "$db"

    # (b) pgloader
    db="pgloader_mysql_bench_${SUFFIX}_$run"
    fresh_db "$db"
    mkdir -p "$REPORTS/pgloader-$run"
    load=$(cut -d' ' -f1 /proc/loadavg)
    if [ "$PGLOADER_DEFAULTS" = 1 ]; then
        timed "$REPORTS/pgloader-$run/pgloader.log" \
            pgloader --no-ssl-cert-verification "$MYSQL_URL" "$PG_FOR_PGLOADER/$db"
    else
        printf 'LOAD DATABASE\n  FROM %s\n  INTO %s\n CAST type bigint when unsigned to bigint drop typemod;\n' \
            "$MYSQL_URL" "$PG_FOR_PGLOADER/$db" > "$REPORTS/pgloader-$run/bench.load"
        timed "$REPORTS/pgloader-$run/pgloader.log" \
            pgloader --no-ssl-cert-verification "$REPORTS/pgloader-$run/bench.load"
    fi
    got="$(target_counts "$db")"; fks="$(target_fks "$db")"
    printf '   pgloader run %s: wall %7.2f s  %8.0f rows/s  peak RSS %7.1f MiB  exit %s  rows %s  foreign keys %s of 2  (load before: %s)\n' \
        "$run" "$WALL" "$(echo "$TOTAL_ROWS $WALL" | awk '{ print $1 / $2 }')" "$RSS" "$RC" "$got" "$fks" "$load"
    # pgloader exits 0 even when a table or a foreign key fails: the row counts tell (a failed
    # foreign key is shown, not counted as a failure: the comparison asked for is row counts).
    grep -E " ERROR " "$REPORTS/pgloader-$run/pgloader.log" | sed "s/^/            | /" || true
    if [ "$RC" = 0 ] && [ "$got" = "$WANT" ]; then
        P_WALL="$P_WALL $WALL"; P_RSS="$P_RSS $RSS"
    else
        FAILURES+="pgloader run $run: exit $RC, rows $got (want $WANT), log $REPORTS/pgloader-$run/pgloader.log"$'\n'
        tail -n 25 "$REPORTS/pgloader-$run/pgloader.log" | sed 's/^/            | /'
    fi
    drop_db "$db"
done

med() { if [ -n "$1" ]; then echo "$1" | median; else echo nan; fi; }
DW=$(med "$D_WALL"); DR=$(med "$D_RSS"); PW=$(med "$P_WALL"); PR=$(med "$P_RSS")
echo "== MEDIAN of $RUNS run(s), scale $SCALE_KEY, $TOTAL_ROWS rows (users orders order_items: $WANT), MariaDB → PostgreSQL"
printf '   %-8s %10s %10s %14s   %s\n' tool "wall s" "rows/s" "peak RSS MiB" "runs (wall s)"
awk -v w="$DW" -v r="$DR" -v n="$TOTAL_ROWS" -v runs="${D_WALL# }" \
    'BEGIN { printf "   %-8s %10s %10s %14s   %s\n", "decant", w, (w == "nan") ? "-" : sprintf("%.0f", n / w), r, runs }'
CW=$(med "$C_WALL"); CR=$(med "$C_RSS")
awk -v w="$CW" -v r="$CR" -v n="$TOTAL_ROWS" -v runs="${C_WALL# }" \
    'BEGIN { printf "   %-8s %10s %10s %14s   %s\n", "(check)", w, (w == "nan") ? "-" : sprintf("%.0f", n / w), r, runs }'
FW=$(med "$F_WALL")
if [ "$FLOOR" = 1 ]; then
    awk -v w="$FW" -v n="$TOTAL_ROWS" -v runs="${F_WALL# }" \
        'BEGIN { printf "   %-8s %10s %10s %14s   %s\n", "floor", w, (w == "nan") ? "-" : sprintf("%.0f", n / w), "-", runs }'
fi
awk -v w="$PW" -v r="$PR" -v n="$TOTAL_ROWS" -v runs="${P_WALL# }" \
    'BEGIN { printf "   %-8s %10s %10s %14s   %s\n", "pgloader", w, (w == "nan") ? "-" : sprintf("%.0f", n / w), r, runs }'
awk -v d="$DW" -v p="$PW" -v dr="$DR" -v pr="$PR" 'BEGIN {
    if (d != "nan" && p != "nan") printf "   decant/pgloader: wall %.2f, peak RSS %.2f (goal: wall <= 0.40)\n", d / p, dr / pr }'
# The floor is the server's share alone: decant/floor says what the client and the source add,
# floor/pgloader how low decant/pgloader can go on this machine.
awk -v d="$DW" -v f="$FW" -v p="$PW" 'BEGIN {
    if (d != "nan" && f != "nan") printf "   decant/floor: wall %.2f", d / f
    if (f != "nan" && p != "nan") printf ", floor/pgloader: wall %.2f", f / p
    if (f != "nan") printf "\n" }'
if [ -n "$FAILURES" ]; then
    printf '%s' "$FAILURES" | sed 's/^/   FAILED: /' >&2
    exit 1
fi

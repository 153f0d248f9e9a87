#!/usr/bin/env bash
# PostgreSQL → PostgreSQL: `decant run tests/bench/pg.yaml` (its checks on: row counts and a
# checksum of every row) against `pg_dump -Fd -j2` + `pg_restore -j2` (a dump directory, restored
# into a fresh database), on the bench database (tests/bench/generate.py: users, orders,
# order_items) loaded into PostgreSQL. N runs of each, interleaved, in one invocation; prints
# every run, the medians and the ratio decant / (pg_dump + pg_restore) (issue 27's goal: ≤ 1.0).
#
#   bash tests/bench/pg_source.sh [--runs N] [--scale S] [--server URL] [--no-build | --decant PATH]
#
# The source lives in the database decant_bench_pg_<scale> (dots become underscores) on the same
# server and is kept between invocations; it is rebuilt (by `decant run tests/bench/bench.yaml`
# from the SQLite bench file, then `VACUUM ANALYZE`, decant's journal schema dropped) when its
# row counts differ from the SQLite file's. Each decant run must exit 0 with every check passed;
# each restore must hold the source's row counts and both foreign keys. A failed run is reported
# and left out of the medians; the script then exits 1.
# Needs: cargo, python3, psql, pg_dump and pg_restore (of the server's major version),
# /usr/bin/time (Debian package `time`).
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/args.sh" "$@"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install -y time)"
for tool in psql pg_dump pg_restore; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install -y postgresql-client)"
done
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$BENCH_DIR/common.sh"
admin "select 1" >/dev/null || die "cannot connect to $SERVER"

# --- the PostgreSQL copy of the bench database ----------------------------------------------
SRC_DB="decant_bench_pg_${SCALE_KEY//./_}"
SOURCE_URL="$SERVER/$SRC_DB"
TABLES="users orders order_items"
WANT="$(python3 - "$SCALED_DB" <<'EOF'
import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print(" ".join(str(c.execute('select count(*) from "%s"' % t).fetchone()[0])
               for t in ("users", "orders", "order_items")))
EOF
)"
TOTAL_ROWS=$(echo "$WANT" | tr ' ' '\n' | awk '{ n += $1 } END { print n }')
counts() { # db
    psql "$SERVER/$1" -X -Atc "select (select count(*) from public.users) || ' ' ||
        (select count(*) from public.orders) || ' ' || (select count(*) from public.order_items)" 2>/dev/null || true
}
fks() { # db: validated foreign keys on orders and order_items
    psql "$SERVER/$1" -X -Atc "select count(*) from pg_constraint k join pg_class c on c.oid = k.conrelid
        where k.contype = 'f' and k.convalidated and c.relname in ('orders', 'order_items')"
}
if [ "$(counts "$SRC_DB")" = "$WANT" ]; then
    echo "== source: PostgreSQL database $SRC_DB (already built: $WANT rows)"
else
    echo "== building PostgreSQL database $SRC_DB from $SCALED_DB"
    admin "drop database if exists \"$SRC_DB\" with (force)"; admin "create database \"$SRC_DB\""
    TARGET_DATABASE_URL="$SOURCE_URL" "$DECANT" run "$BENCH_DIR/bench.yaml" \
        --report-dir "$(mktemp -d /tmp/decant-pg-source.XXXXXX)" >/dev/null || die "loading $SRC_DB failed"
    PGOPTIONS="-c client_min_messages=warning" psql "$SOURCE_URL" -X -q -v ON_ERROR_STOP=1 \
        -c "drop schema decant cascade" -c "vacuum analyze"
    [ "$(counts "$SRC_DB")" = "$WANT" ] || die "$SRC_DB holds $(counts "$SRC_DB") rows, the SQLite file $WANT"
fi

# --- scratch databases and timing -------------------------------------------------------------
WORK="$(mktemp -d /tmp/decant-pg-bench.XXXXXX)"
cp "$DECANT" "$WORK/decant"   # the binary timed, whatever happens to target/ meanwhile
DECANT="$WORK/decant"
SCRATCH=""
cleanup() {
    for db in $SCRATCH; do admin "drop database if exists \"$db\" with (force)" 2>/dev/null || true; done
    rm -rf "$WORK/dump"
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

PLAIN="?sslmode=disable"
D_WALL=""; P_WALL=""; DUMP_WALL=""; RESTORE_WALL=""; FAILURES=""
echo "== $RUNS run(s) each, $TOTAL_ROWS rows, $(nproc) cores: $("$DECANT" --version), $(pg_dump --version)"
echo "   source $SOURCE_URL; logs and reports in $WORK"
for run in $(seq 1 "$RUNS"); do
    # (a) decant, checks on
    db="decant_pg_bench_$$_$run"
    fresh_db "$db"
    mkdir -p "$WORK/decant-$run"
    load=$(cut -d' ' -f1 /proc/loadavg)
    SOURCE_DATABASE_URL="$SOURCE_URL$PLAIN" TARGET_DATABASE_URL="$SERVER/$db$PLAIN" \
        timed "$WORK/decant-$run/decant.log" "$DECANT" run "$BENCH_DIR/pg.yaml" --report-dir "$WORK/decant-$run"
    got="$(counts "$db")"; keys="$(fks "$db")"
    checks="$(grep -E 'check\(s\):' "$WORK/decant-$run/decant.log" | tail -1 | sed 's/^ *//')"
    printf '   decant  run %s: wall %7.2f s  %8.0f rows/s  peak RSS %6.1f MiB  exit %s  rows %s  foreign keys %s of 2  %s  (load before: %s)\n' \
        "$run" "$WALL" "$(echo "$TOTAL_ROWS $WALL" | awk '{ print $1 / $2 }')" "$RSS" "$RC" "$got" "$keys" "$checks" "$load"
    if [ "$RC" = 0 ] && [ "$got" = "$WANT" ] && [ "$keys" = 2 ] && echo "$checks" | grep -q ' 0 failed, 0 error'; then
        D_WALL="$D_WALL $WALL"
    else
        FAILURES+="decant run $run: exit $RC, rows $got (want $WANT), log $WORK/decant-$run/decant.log"$'\n'
        tail -n 25 "$WORK/decant-$run/decant.log" | sed 's/^/            | /'
    fi
    drop_db "$db"

    # (b) pg_dump -Fd -j2, then pg_restore -j2 into a fresh database
    db="restore_pg_bench_$$_$run"
    fresh_db "$db"
    rm -rf "$WORK/dump"
    load=$(cut -d' ' -f1 /proc/loadavg)
    timed "$WORK/dump-$run.log" pg_dump -Fd -j2 -f "$WORK/dump" "$SOURCE_URL$PLAIN"
    dump_rc="$RC"; dump_wall="$WALL"
    timed "$WORK/restore-$run.log" pg_restore -j2 -d "$SERVER/$db$PLAIN" "$WORK/dump"
    restore_rc="$RC"; restore_wall="$WALL"
    total=$(echo "$dump_wall $restore_wall" | awk '{ printf "%.2f", $1 + $2 }')
    got="$(counts "$db")"; keys="$(fks "$db")"
    printf '   pg_dump+pg_restore run %s: wall %7.2f s (dump %.2f s, restore %.2f s)  exit %s/%s  rows %s  foreign keys %s of 2  (load before: %s)\n' \
        "$run" "$total" "$dump_wall" "$restore_wall" "$dump_rc" "$restore_rc" "$got" "$keys" "$load"
    if [ "$dump_rc" = 0 ] && [ "$restore_rc" = 0 ] && [ "$got" = "$WANT" ] && [ "$keys" = 2 ]; then
        P_WALL="$P_WALL $total"; DUMP_WALL="$DUMP_WALL $dump_wall"; RESTORE_WALL="$RESTORE_WALL $restore_wall"
    else
        FAILURES+="pg_dump+pg_restore run $run: exit $dump_rc/$restore_rc, rows $got (want $WANT), logs $WORK/dump-$run.log $WORK/restore-$run.log"$'\n'
    fi
    rm -rf "$WORK/dump"
    drop_db "$db"
done

med() { if [ -n "$1" ]; then echo "$1" | median; else echo nan; fi; }
DW=$(med "$D_WALL"); PW=$(med "$P_WALL")
echo "== MEDIAN of $RUNS run(s), scale $SCALE_KEY, $TOTAL_ROWS rows (users orders order_items: $WANT), PostgreSQL → PostgreSQL"
echo "   decant run (checks: row counts, every row's checksum): $DW s   runs: ${D_WALL# }"
echo "   pg_dump -Fd -j2 + pg_restore -j2:                      $PW s   runs: ${P_WALL# } (dump $(med "$DUMP_WALL") s, restore $(med "$RESTORE_WALL") s)"
awk -v d="$DW" -v p="$PW" 'BEGIN { if (d == "nan" || p == "nan") print "   no ratio: a side has no successful run"; else printf "   decant / (pg_dump + pg_restore) = %.2f (goal <= 1.0)\n", d / p }'
if [ -n "$FAILURES" ]; then printf '%s' "$FAILURES" | sed 's/^/   FAILED: /'; exit 1; fi

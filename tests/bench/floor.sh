#!/usr/bin/env bash
# decant's load against the PostgreSQL floor (tests/bench/pgfloor.sh: the server alone ingests
# pre-encoded binary files from its own disk and builds the same keys, indexes and foreign keys
# in two lanes — no client work at all), on the bench database, runs interleaved in one
# invocation; prints each run, the medians and decant's ratio to the floor (issue 12's goal:
# at most 1.15×).
#
#   bash tests/bench/floor.sh [--runs N] [--scale S] [--no-build]
#
# Needs cargo, python3, psql, pg_dump, bc and /usr/bin/time, and the PostgreSQL server on this
# machine (the floor reads its files from /tmp).
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/args.sh" "$@"
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ "$SERVER" = "postgres://postgres@127.0.0.1:5432" ] \
    || die "the floor reads its files from this machine's /tmp: it needs the local server, not $SERVER"
. "$BENCH_DIR/common.sh"
DB="decant_floor_$$"; FLOOR_DB="pg_floor_$$"
export PGFLOOR_CACHE="/tmp/pgfloor-bench-$SCALE_KEY"
rm -rf "$PGFLOOR_CACHE"
trap 'admin "drop database if exists \"$DB\" with (force)" 2>/dev/null; admin "drop database if exists \"$FLOOR_DB\" with (force)" 2>/dev/null; rm -rf "$PGFLOOR_CACHE"' EXIT
D_TIMES=""; F_TIMES=""
for i in $(seq 1 "$RUNS"); do
    admin "drop database if exists \"$DB\" with (force)"; admin "create database \"$DB\""; admin "checkpoint"
    out="$(mktemp)"
    /usr/bin/time -f '%e' -o "$out" env TARGET_DATABASE_URL="$SERVER/$DB" "$DECANT" run "$BENCH_DIR/bench.yaml" \
        --report-dir "$DATA/floor-reports" >/dev/null 2>&1 || die "decant run failed"
    d="$(tail -1 "$out")"; rm -f "$out"
    f="$(bash "$BENCH_DIR/pgfloor.sh" "$DB" "$FLOOR_DB" | sed -n 's/^pg floor: \([0-9.]*\) s$/\1/p')"
    [ -n "$f" ] || die "pgfloor.sh printed no time"
    echo "   run $i: decant ${d}s, floor ${f}s"
    D_TIMES="$D_TIMES $d"; F_TIMES="$F_TIMES $f"
done
MD="$(echo "$D_TIMES" | median)"; MF="$(echo "$F_TIMES" | median)"
echo "== medians of $RUNS run(s), scale $SCALE_KEY: decant ${MD}s, floor ${MF}s"
awk -v d="$MD" -v f="$MF" 'BEGIN { printf "   decant / floor = %.2f (goal <= 1.15)\n", d / f }'

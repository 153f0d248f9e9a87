#!/usr/bin/env bash
# `decant sync` on the bench database (tests/bench/generate.py): after one full run, N rounds of
# "the app changes 0.1% of the rows (a third inserts, a third updates, a third deletes), then
# `decant check` with `checksums: all` and `decant sync` are timed on the same data". The full
# run is timed N times too (the syncs follow the last). Prints each run and round, the medians,
# and the ratios the cutover story rests on: sync / full run and sync / check. The first round
# is the first sync after a run: the run's loads kept the window sums it compares with.
#
#   bash tests/bench/sync.sh [--runs N] [--scale S] [--server URL] [--no-build]
#
# The source is a copy of the generated file (the rounds write to it). Needs cargo, python3,
# psql and /usr/bin/time.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/args.sh" "$@"

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$BENCH_DIR/common.sh"
cp "$SCALED_DB" "$DATA/sync-source.sqlite3"
for plan in bench checksums; do
    sed 's#url: "sqlite://data/bench.sqlite3"#url: "sqlite://sync-source.sqlite3"#' \
        "$BENCH_DIR/$plan.yaml" > "$DATA/sync-$plan.yaml"
done

DB="decant_sync_bench_$$"
trap 'admin "drop database if exists \"$DB\" with (force)" 2>/dev/null || true' EXIT
admin "drop database if exists \"$DB\" with (force)"
admin "create database \"$DB\""
export TARGET_DATABASE_URL="$SERVER/$DB"

seconds() { # command... → wall seconds (the command's exit code is ignored: check exits 1 on differences)
    local out; out="$(mktemp)"
    /usr/bin/time -f '%e' -o "$out" "$@" >/dev/null 2>&1 || true
    tail -1 "$out"; rm -f "$out"
}

echo "== full runs"
RUNS_S=""
for i in $(seq 1 "$RUNS"); do
    r="$(seconds "$DECANT" run "$DATA/sync-bench.yaml" --report-dir "$DATA/sync-reports")"
    [ "$(psql "$TARGET_DATABASE_URL" -X -Atc "select status from decant.runs order by id desc limit 1")" = succeeded ] \
        || die "the run failed"
    echo "   run $i: ${r}s"
    RUNS_S="$RUNS_S $r"
done
RUN_S="$(echo "$RUNS_S" | median)"

CHECKS=""; SYNCS=""
for i in $(seq 1 "$RUNS"); do
    python3 - "$DATA/sync-source.sqlite3" "$i" <<'PY'
import random, sqlite3, sys
c = sqlite3.connect(sys.argv[1]); rnd = random.Random(int(sys.argv[2]))
total = sum(c.execute(f"select count(*) from {t}").fetchone()[0] for t in ("users", "orders", "order_items"))
n = max(3, total // 1000 // 3)          # 0.1% of the rows: a third each
top_item = c.execute("select max(id) from order_items").fetchone()[0]
orders = c.execute("select max(id) from orders").fetchone()[0]
c.executemany("insert into order_items values (?, ?, 'SKU-NEW', 'new product', 1, 9.99)",
              [(top_item + k + 1, rnd.randint(1, orders)) for k in range(n)])
c.executemany("update orders set amount = amount + 1, note = 'changed' where id = ?",
              [(rnd.randint(1, orders),) for _ in range(n)])
c.executemany("delete from order_items where id = ?", [(rnd.randint(1, top_item),) for _ in range(n)])
c.commit()
PY
    c="$(seconds "$DECANT" check "$DATA/sync-checksums.yaml")"
    s="$(seconds "$DECANT" sync "$DATA/sync-bench.yaml" --report-dir "$DATA/sync-reports")"
    echo "   round $i: check ${c}s, sync ${s}s"
    CHECKS="$CHECKS $c"; SYNCS="$SYNCS $s"
done
"$DECANT" check "$DATA/sync-checksums.yaml" >/dev/null || die "after the last sync, check finds differences"
MC="$(echo "$CHECKS" | median)"; MS="$(echo "$SYNCS" | median)"
echo "== medians of $RUNS round(s), scale $SCALE_KEY: run ${RUN_S}s, check ${MC}s, sync ${MS}s"
awk -v s="$MS" -v r="$RUN_S" -v c="$MC" 'BEGIN { printf "   sync / run = %.2f (goal <= 0.15); sync / check = %.2f (goal <= 1.2)\n", s / r, s / c }'

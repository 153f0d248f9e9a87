#!/usr/bin/env bash
# `decant sync --reverse` (the way back) on the bench database (tests/bench/generate.py): one
# full run into PostgreSQL (timed), then the app changes 1% of the rows on PostgreSQL (a third
# inserts with ids from the identity, a third updates, a third deletes, in orders and
# order_items), then `decant sync --reverse` brings the SQLite file up to it (timed), then a
# second reverse sync with nothing changed (timed; it must apply 0 rows). Prints the times and
# the ratio reverse / run (issue 27's goal: <= 0.15).
#
#   bash tests/bench/reverse.sh [--scale S] [--server URL] [--no-build]
#
# One invocation, one of each (--runs is ignored). The source is a copy of the generated file
# (the reverse sync writes into it). Needs cargo, python3, psql and /usr/bin/time.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/args.sh" "$@"

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$BENCH_DIR/common.sh"
cp "$SCALED_DB" "$DATA/reverse-source.sqlite3"
rm -f "$DATA/reverse-source.sqlite3.decant-reverse.json"
sed -e 's#url: "sqlite://data/bench.sqlite3"#url: "sqlite://reverse-source.sqlite3"#' \
    "$BENCH_DIR/bench.yaml" > "$DATA/reverse-bench.yaml"

DB="decant_reverse_bench_$$"
trap 'admin "drop database if exists \"$DB\" with (force)" 2>/dev/null || true' EXIT
admin "drop database if exists \"$DB\" with (force)"
admin "create database \"$DB\""
export TARGET_DATABASE_URL="$SERVER/$DB"

timed() { # label command... → prints the command's output tail and its wall seconds into $T
    local out; out="$(mktemp)"
    /usr/bin/time -f '%e %MkB' -o "$out.time" "$@" >"$out" 2>&1 || { cat "$out"; die "$1 failed"; }
    T="$(cut -d' ' -f1 "$out.time")"; M="$(cut -d' ' -f2 "$out.time")"
    head -2 "$out"; rm -f "$out" "$out.time"
}

echo "== full run"
timed "$DECANT" run "$DATA/reverse-bench.yaml" --report-dir "$DATA/reverse-reports"
RUN_S="$T"; echo "   run: ${RUN_S}s, max RSS $M"

echo "== the app changes 1% of the rows on PostgreSQL"
psql "$TARGET_DATABASE_URL" -X -q -v ON_ERROR_STOP=1 <<'SQL'
-- 1% of users + orders + order_items (5.2 M at scale 1): a third each inserted, updated, deleted.
CREATE TEMP TABLE n AS SELECT ((SELECT count(*) FROM users) + (SELECT count(*) FROM orders)
    + (SELECT count(*) FROM order_items)) / 100 / 3 AS n;
INSERT INTO order_items (order_id, sku, product_name, qty, unit_price)
    SELECT 1 + (g * 7919) % (SELECT max(id) FROM orders), 'SKU-NEW', 'new product', 1, 9.99
    FROM generate_series(1, (SELECT n FROM n)) g;
UPDATE orders SET amount = amount + 1, note = 'changed', placed_at = placed_at + interval '1 hour'
    WHERE id IN (SELECT 1 + (g * 104729) % (SELECT max(id) FROM orders) FROM generate_series(1, (SELECT n FROM n)) g);
DELETE FROM order_items
    WHERE id IN (SELECT 1 + (g * 15485863) % (SELECT max(id) FROM order_items) FROM generate_series(1, (SELECT n FROM n)) g);
SQL

echo "== sync --reverse"
timed "$DECANT" sync "$DATA/reverse-bench.yaml" --reverse --report-dir "$DATA/reverse-reports"
REV_S="$T"; echo "   reverse sync: ${REV_S}s, max RSS $M"
phases() { python3 -c 'import json, sys; p = json.load(open(sys.argv[1]))["phases"]; print("   phases: " + ", ".join(f"{k} {v:.2f}s" for k, v in p.items()))' \
    "$DATA/reverse-reports/reverse-bench.reverse-sync.report.json"; }
phases

echo "== sync --reverse again, nothing changed"
timed "$DECANT" sync "$DATA/reverse-bench.yaml" --reverse --report-dir "$DATA/reverse-reports"
AGAIN_S="$T"; echo "   reverse sync again: ${AGAIN_S}s, max RSS $M"
phases

echo "== scale $SCALE_KEY: run ${RUN_S}s, reverse sync after 1% changed ${REV_S}s, nothing changed ${AGAIN_S}s"
awk -v r="$RUN_S" -v s="$REV_S" 'BEGIN { printf "   reverse / run = %.2f (goal <= 0.15)\n", s / r }'

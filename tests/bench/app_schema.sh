#!/usr/bin/env bash
# Loading into a schema the app owns, measured against decant creating the schema itself, on
# the bench database (tests/bench/generate.py), in one invocation, runs interleaved:
#
#   created   bench.yaml: decant creates tables, loads, then builds keys, indexes, foreign keys
#   app       the same schema made beforehand (as an app's migrator would: pg_dump of the
#             `created` result, keys, indexes and foreign keys included), `target.owner: app`,
#             with the default `existing_keys: rebuild` (each table's secondary indexes and
#             foreign keys dropped and re-created with their definitions in its load)
#   keep      the same, with `existing_keys: keep`: loaded with every key in place
#
#   bash tests/bench/app_schema.sh [--runs N] [--scale S] [--server URL] [--no-build]
#
# Only `decant run` is timed; making the app's schema (psql -f) is not. Prints each run, the
# medians and the ratios to `created`. Needs cargo, python3, psql, pg_dump, /usr/bin/time.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/args.sh" "$@"

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$BENCH_DIR/common.sh"

DB="decant_app_bench_$$"
SCHEMA_DB="decant_app_schema_$$"
cleanup() {
    admin "drop database if exists \"$DB\" with (force)" 2>/dev/null || true
    admin "drop database if exists \"$SCHEMA_DB\" with (force)" 2>/dev/null || true
}
trap cleanup EXIT
fresh_db() { admin "drop database if exists \"$1\" with (force)"; admin "create database \"$1\""; admin "checkpoint"; }

# --- the app's schema: what decant itself makes, dumped -----------------------------------
echo "== making the app's schema from a decant-created target"
fresh_db "$SCHEMA_DB"
TARGET_DATABASE_URL="$SERVER/$SCHEMA_DB" "$DECANT" run "$BENCH_DIR/bench.yaml" --report-dir "$DATA/app-reports" >/dev/null 2>&1 \
    || die "the reference run failed"
pg_dump --schema-only --no-owner --no-privileges --schema=public "$SERVER/$SCHEMA_DB" \
    | grep -v -e '^\\restrict' -e '^\\unrestrict' -e '^CREATE SCHEMA public;' -e '^COMMENT ON SCHEMA public' \
    > "$DATA/app-schema.sql"
fresh_db "$SCHEMA_DB"
psql "$SERVER/$SCHEMA_DB" -X -q -v ON_ERROR_STOP=1 -f "$DATA/app-schema.sql" >/dev/null

# The app plans: bench.yaml with `target.owner: app`, and the same keeping the keys in place.
app_plan() {
    sed -e 's/^  schema: public$/  schema: public\n  owner: app\n  snapshot: app-schema.json/' \
        -e 's/^  if_exists: drop$/  if_exists: fail/' "$BENCH_DIR/bench.yaml"
}
# Written into data/, so the source URL is relative to it.
app_plan | sed 's#url: "sqlite://data/bench.sqlite3"#url: "sqlite://bench.sqlite3"#' > "$DATA/app.yaml"
sed 's/^  workers: 2$/  workers: 2\n  existing_keys: keep/' "$DATA/app.yaml" > "$DATA/keep.yaml"
TARGET_DATABASE_URL="$SERVER/$SCHEMA_DB" "$DECANT" snapshot "$DATA/app.yaml" --from "$SERVER/$SCHEMA_DB" -o "$DATA/app-schema.json" >/dev/null
grep -q 'existing_keys: keep' "$DATA/keep.yaml" || die "keep.yaml lacks existing_keys"

timed() { # label plan → seconds
    local out; out="$(mktemp)"
    /usr/bin/time -f '%e' -o "$out" env TARGET_DATABASE_URL="$SERVER/$DB" "$DECANT" run "$2" --report-dir "$DATA/app-reports" >/dev/null 2>"$out.err" \
        || { cat "$out.err" >&2; die "$1 run failed"; }
    cat "$out"; rm -f "$out" "$out.err"
}
declare -A TIMES
for i in $(seq 1 "$RUNS"); do
    for variant in created app keep; do
        fresh_db "$DB"
        case "$variant" in
            created) plan="$BENCH_DIR/bench.yaml" ;;
            app) plan="$DATA/app.yaml"; psql "$SERVER/$DB" -X -q -v ON_ERROR_STOP=1 -f "$DATA/app-schema.sql" >/dev/null ;;
            keep) plan="$DATA/keep.yaml"; psql "$SERVER/$DB" -X -q -v ON_ERROR_STOP=1 -f "$DATA/app-schema.sql" >/dev/null ;;
        esac
        admin "checkpoint"
        s="$(timed "$variant" "$plan")"
        echo "   run $i  $variant  ${s}s"
        TIMES[$variant]="${TIMES[$variant]:-} $s"
    done
done
C="$(echo "${TIMES[created]}" | median)"
echo "== medians of $RUNS run(s), scale $SCALE_KEY"
for variant in created app keep; do
    m="$(echo "${TIMES[$variant]}" | median)"
    echo "   $variant: ${m}s  ($(awk -v m="$m" -v c="$C" 'BEGIN { printf "%.2f", m / c }')× created)"
done

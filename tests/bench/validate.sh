#!/usr/bin/env bash
# How `decant validate` scales with the size of a plan and the number of problems in it: plans
# with 1 k, 10 k and 100 k problems in `checks`, 100 k in `columns`, a one-line (flow style)
# plan of about 5 MB with 150 k problems, and a valid 6 MB plan with 200 k checks. Each is validated N times; the medians of
# wall time and peak RSS are printed. A benchmark to run by hand, not a timed test.
#
#   bash tests/bench/validate.sh [--runs N] [--no-build | --decant PATH]
#
#   --runs N       runs of each plan (default 5); the summary is the median
#   --no-build     use target/release/decant as it is
#   --decant PATH  time this decant binary instead (implies --no-build)
#
# Needs: cargo, python3, /usr/bin/time (Debian package `time`). Writes nothing outside a
# temporary folder, which it removes.
set -euo pipefail

RUNS=5
. "$(dirname "${BASH_SOURCE[0]}")/args.sh" "$@"

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/../.." && pwd)"
DECANT="${DECANT:-$REPO/target/release/decant}"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install -y time)"
command -v python3 >/dev/null || die "python3 is missing"

if [ "$BUILD" = 1 ]; then
    echo "== cargo build --release"
    (cd "$REPO" && cargo build --release --quiet)
fi
[ -x "$DECANT" ] || die "$DECANT does not exist (build it, or drop --no-build)"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# --- plans ---------------------------------------------------------------------------------
# One small SQLite source; every problem is a `not_null` check (or a `columns` entry) naming a
# column it lacks, so validation goes through the whole pipeline (load, introspect, resolve,
# validate).
python3 - "$WORK" <<'EOF'
import sqlite3, sys
work = sys.argv[1]
db = sqlite3.connect(f"{work}/source.sqlite3")
db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
db.commit()
HEADER = ('version: 1\nname: bench\nsource: { url: "sqlite://source.sqlite3" }\n'
          'target: { url: "postgres://app@localhost/bench" }\nchecks:\n')

def write(name, body):
    with open(f"{work}/{name}.yaml", "w") as f:
        f.write(body)

for label, n in [("errors-1k", 1_000), ("errors-10k", 10_000), ("errors-100k", 100_000)]:
    write(label, HEADER + "".join(f"  - {{ not_null: users.missing_{i} }}\n" for i in range(n)))
write("column-errors-100k", HEADER.replace("checks:\n", "columns:\n")
      + "".join(f"  users.missing_{i}: {{ to: text }}\n" for i in range(100_000)))
items = ", ".join(f"{{not_null: users.missing_{i}}}" for i in range(150_000))
write("one-line-150k", '{version: 1, name: bench, source: {url: "sqlite://source.sqlite3"}, '
      'target: {url: "postgres://app@localhost/bench"}, checks: [' + items + ']}\n')
write("valid-200k", HEADER + "  - { not_null: users.email }\n" * 200_000)
EOF

# --- runs ----------------------------------------------------------------------------------
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '%-18s %8s %12s %14s %14s %10s\n' plan size problems "median wall s" "median RSS MB" "stderr KB"
for plan in errors-1k errors-10k errors-100k column-errors-100k one-line-150k valid-200k; do
    file="$WORK/$plan.yaml"
    : > "$WORK/wall"; : > "$WORK/rss"
    for _ in $(seq "$RUNS"); do
        set +e
        (cd "$WORK" && /usr/bin/time -f '%e %M' -o "$WORK/time" "$DECANT" validate "$plan.yaml" \
            > "$WORK/out" 2> "$WORK/err")
        code=$?
        set -e
        case "$plan" in
            valid-*) [ "$code" = 0 ] || die "$plan: exit $code: $(tail -3 "$WORK/err")" ;;
            *) [ "$code" = 2 ] || die "$plan: exit $code, expected 2: $(tail -3 "$WORK/err")" ;;
        esac
        # With a non-zero exit, time(1) writes "Command exited with …" first.
        read -r wall rss < <(tail -1 "$WORK/time")
        echo "$wall" >> "$WORK/wall"
        echo "$rss" >> "$WORK/rss"
    done
    problems="$(grep -o '[0-9]* error(s)' "$WORK/err" | tail -1 | cut -d' ' -f1 || true)"
    printf '%-18s %7sM %12s %14s %14s %10s\n' "$plan" \
        "$(awk -v b="$(stat -c %s "$file")" 'BEGIN { printf "%.2f", b / 1048576 }')" \
        "${problems:-0}" \
        "$(median < "$WORK/wall")" \
        "$(median < "$WORK/rss" | awk '{ printf "%.0f", $1 / 1024 }')" \
        "$(awk -v b="$(stat -c %s "$WORK/err")" 'BEGIN { printf "%.0f", b / 1024 }')"
done

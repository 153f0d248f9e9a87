#!/usr/bin/env bash
# `decant cutover` on the bench database (tests/bench/generate.py), from the SQLite file and then
# from its MariaDB copy (mysql_source.sh; the pause is FLUSH TABLES WITH READ LOCK): per engine
# one full run (timed), then N rounds of "the app changes 1% of the rows (a third inserts, a third updates, a
# third deletes) since the last sync, then `decant cutover` while a live writer commits at about
# 200 commits/s with a 30 s busy timeout". Prints each round's write pause (from the cutover
# report: lock taken to lock released), whether any of the writer's commits failed (none may),
# how long the longest commit waited, the median pause, and pause / run.
#
#   bash tests/bench/cutover.sh [--runs N] [--scale S] [--server URL] [--no-build]
#                               [--engines sqlite,mariadb]
#
# The sources are copies (the rounds and the writer write to them): of the generated file, and
# of mysql_source.sh's database (decant_cutover_<pid>, dropped at the end). The MariaDB writer
# is one `mariadb` client fed an INSERT and a SELECT of its number per commit, timed until its
# answer. Needs cargo, python3, psql, mariadb and /usr/bin/time.
set -euo pipefail

ENGINES="sqlite,mariadb"
own_option() { [ "$1" = --engines ] && ENGINES="$2" && SHIFT=2; }
. "$(dirname "${BASH_SOURCE[0]}")/args.sh" "$@"

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$BENCH_DIR/common.sh"
DB="decant_cutover_bench_$$"
COPY="decant_cutover_$$"
WRITER_PID=""
cleanup() {
    [ -n "$WRITER_PID" ] && kill "$WRITER_PID" 2>/dev/null || true
    admin "drop database if exists \"$DB\" with (force)" 2>/dev/null || true
    if declare -F my >/dev/null; then my -e "drop database if exists \`$COPY\`" 2>/dev/null || true; fi
}
trap cleanup EXIT
admin "drop database if exists \"$DB\" with (force)"
admin "create database \"$DB\""
export TARGET_DATABASE_URL="$SERVER/$DB"

seconds() { # command... → wall seconds
    local out; out="$(mktemp)"
    /usr/bin/time -f '%e' -o "$out" "$@" >/dev/null 2>&1 || true
    tail -1 "$out"; rm -f "$out"
}

SUMMARY=""
if [[ ",$ENGINES," == *,sqlite,* ]]; then
cp "$SCALED_DB" "$DATA/cutover-source.sqlite3"
sqlite3 "$DATA/cutover-source.sqlite3" "pragma journal_mode = wal" >/dev/null 2>&1 \
    || python3 -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('pragma journal_mode = wal')" "$DATA/cutover-source.sqlite3"
sed 's#url: "sqlite://data/bench.sqlite3"#url: "sqlite://cutover-source.sqlite3"#' \
    "$BENCH_DIR/bench.yaml" > "$DATA/cutover-bench.yaml"

echo "== SQLite: full run"
RUN_S="$(seconds "$DECANT" run "$DATA/cutover-bench.yaml" --report-dir "$DATA/cutover-reports")"
[ "$(psql "$TARGET_DATABASE_URL" -X -Atc "select status from decant.runs order by id desc limit 1")" = succeeded ] \
    || die "the run failed"
echo "   run: ${RUN_S}s"

PAUSES=""
for i in $(seq 1 "$RUNS"); do
    # The last sync catches up first, as an operator would (`sync --follow --until-lag`).
    "$DECANT" sync "$DATA/cutover-bench.yaml" --report-dir "$DATA/cutover-reports" >/dev/null || die "sync failed"
    python3 - "$DATA/cutover-source.sqlite3" "$i" <<'PY'
import random, sqlite3, sys
c = sqlite3.connect(sys.argv[1]); rnd = random.Random(int(sys.argv[2]))
total = sum(c.execute(f"select count(*) from {t}").fetchone()[0] for t in ("users", "orders", "order_items"))
n = max(3, total // 100 // 3)          # 1% of the rows: a third each
top_item = c.execute("select max(id) from order_items").fetchone()[0]
orders = c.execute("select max(id) from orders").fetchone()[0]
c.executemany("insert into order_items values (?, ?, 'SKU-NEW', 'new product', 1, 9.99)",
              [(top_item + k + 1, rnd.randint(1, orders)) for k in range(n)])
c.executemany("update orders set amount = amount + 1, note = 'changed' where id = ?",
              [(rnd.randint(1, orders),) for _ in range(n)])
c.executemany("delete from order_items where id = ?", [(rnd.randint(1, top_item),) for _ in range(n)])
c.commit()
PY
    # The live writer: ~200 commits/s, each an insert, until told to stop; it reports failed
    # commits and the longest wait.
    python3 - "$DATA/cutover-source.sqlite3" "$DATA/cutover-writer.$i" <<'PY' &
import signal, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
stop = False
def halt(*_):
    global stop; stop = True
signal.signal(signal.SIGTERM, halt)
top = c.execute("select max(id) from order_items").fetchone()[0] + 10_000_000
orders = c.execute("select max(id) from orders").fetchone()[0]
n = failed = 0; longest = 0.0
while not stop:
    began = time.monotonic()
    try:
        c.execute("insert into order_items values (?, ?, 'SKU-LIVE', 'live', 1, 1.0)", (top + n, 1 + n % orders))
    except sqlite3.Error:
        failed += 1
    longest = max(longest, time.monotonic() - began); n += 1
    time.sleep(max(0.0, 0.005 - (time.monotonic() - began)))
open(sys.argv[2], "w").write(f"{n} {failed} {longest:.3f}\n")
PY
    WRITER_PID=$!
    sleep 1
    "$DECANT" cutover "$DATA/cutover-bench.yaml" --report-dir "$DATA/cutover-reports" --max-catch-up-age 3600 >/dev/null 2>"$DATA/cutover-$i.log" \
        || die "cutover $i failed"
    sleep 1
    kill -TERM "$WRITER_PID"; wait "$WRITER_PID" || true; WRITER_PID=""
    read -r commits failed longest < "$DATA/cutover-writer.$i"
    [ "$failed" = 0 ] || die "the writer lost $failed commit(s) in round $i"
    pause="$(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['pause_seconds'], 3))" "$DATA/cutover-reports/cutover-bench.cutover.report.json")"
    echo "   round $i: pause ${pause}s; writer $commits commits, 0 failed, longest wait ${longest}s"
    PAUSES="$PAUSES $pause"
done
MP="$(echo "$PAUSES" | median)"
SUMMARY="$SUMMARY$(awk -v p="$MP" -v r="$RUN_S" 'BEGIN { printf "   SQLite:  run %ss, write pause %ss, pause / run = %.3f\n", r, p, p / r }')
"
fi

if [[ ",$ENGINES," == *,mariadb,* ]]; then
. "$BENCH_DIR/mysql_source.sh"
echo "== MariaDB: copying $MDB into $COPY"
my -e "create database \`$COPY\` character set utf8mb4 collate utf8mb4_unicode_ci"
for t in $TABLES; do
    my -e "set foreign_key_checks = 0; create table \`$COPY\`.$t like \`$MDB\`.$t;
           insert into \`$COPY\`.$t select * from \`$MDB\`.$t"
done
my -e "analyze table \`$COPY\`.users, \`$COPY\`.orders, \`$COPY\`.order_items" >/dev/null
admin "drop database if exists \"$DB\" with (force)"
admin "create database \"$DB\""
export SOURCE_DATABASE_URL="mysql://$MY_USER@$MY_HOST:$MY_PORT/$COPY"
echo "== MariaDB: full run"
RUN_S="$(seconds "$DECANT" run "$BENCH_DIR/mysql.yaml" --report-dir "$DATA/cutover-reports")"
[ "$(psql "$TARGET_DATABASE_URL" -X -Atc "select status from decant.runs order by id desc limit 1")" = succeeded ] \
    || die "the MariaDB run failed"
echo "   run: ${RUN_S}s"
PAUSES=""
for i in $(seq 1 "$RUNS"); do
    "$DECANT" sync "$BENCH_DIR/mysql.yaml" --report-dir "$DATA/cutover-reports" >/dev/null || die "sync failed"
    # 1% of the rows, a third each: updated orders, deleted and inserted order items.
    total="$(my "$COPY" -e "select (select count(*) from users) + (select count(*) from orders) + (select count(*) from order_items)")"
    m_orders=$(( $(my "$COPY" -e "select count(*) from orders") * 300 / total ))
    m_items=$(( $(my "$COPY" -e "select count(*) from order_items") * 300 / total ))
    my "$COPY" -e "
        update orders set amount = amount + 1, note = 'changed' where id % $m_orders = $i;
        delete from order_items where id % $m_items = $i;
        set @top = (select max(id) from order_items);
        insert into order_items (id, order_id, sku, product_name, qty, unit_price)
          select @top + id, order_id, 'SKU-NEW', 'new product', 1, 9.99 from order_items where id % $m_items = $(( i + 1 ));"
    python3 - "$DATA/cutover-writer.my.$i" "$MY_HOST" "$MY_PORT" "$MY_USER" "$COPY" <<'PY' &
import signal, subprocess, sys, time
out, host, port, user, db = sys.argv[1:]
client = subprocess.Popen(["mariadb", "-h", host, "-P", port, "-u", user, "--batch", "--skip-column-names",
                           "--force", "--unbuffered", db], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, bufsize=1)
def ask(sql):
    client.stdin.write(sql + "\n"); client.stdin.flush()
    return client.stdout.readline().strip()
stop = False
def halt(*_):
    global stop; stop = True
signal.signal(signal.SIGTERM, halt)
top = int(ask("select max(id) + 10000000 from order_items;"))
orders = int(ask("select max(id) from orders;"))
n = 0; longest = 0.0
while not stop:
    began = time.monotonic()
    # Autocommit: each INSERT is a commit; the SELECT's answer comes once it is done.
    answer = ask(f"insert into order_items values ({top + n}, {1 + n % orders}, 'SKU-LIVE', 'live', 1, 1.0); select {n};")
    if answer != str(n):
        break
    longest = max(longest, time.monotonic() - began); n += 1
    time.sleep(max(0.0, 0.005 - (time.monotonic() - began)))
client.stdin.close(); errors = client.stderr.read(); client.wait()
failed = sum(1 for line in errors.splitlines() if line.startswith("ERROR"))
open(out, "w").write(f"{n} {failed} {longest:.3f}\n")
PY
    WRITER_PID=$!
    sleep 1
    "$DECANT" cutover "$BENCH_DIR/mysql.yaml" --report-dir "$DATA/cutover-reports" --max-catch-up-age 3600 >/dev/null 2>"$DATA/cutover-my-$i.log" \
        || die "MariaDB cutover $i failed (see $DATA/cutover-my-$i.log)"
    sleep 1
    kill -TERM "$WRITER_PID"; wait "$WRITER_PID" || true; WRITER_PID=""
    read -r commits failed longest < "$DATA/cutover-writer.my.$i"
    [ "$failed" = 0 ] || die "the MariaDB writer lost $failed commit(s) in round $i"
    pause="$(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['pause_seconds'], 3))" "$DATA/cutover-reports/mysql.cutover.report.json")"
    echo "   round $i: pause ${pause}s; writer $commits commits, 0 failed, longest wait ${longest}s"
    PAUSES="$PAUSES $pause"
done
MP="$(echo "$PAUSES" | median)"
SUMMARY="$SUMMARY$(awk -v p="$MP" -v r="$RUN_S" 'BEGIN { printf "   MariaDB: run %ss, write pause %ss, pause / run = %.3f\n", r, p, p / r }')
"
fi
echo "== medians of $RUNS round(s), scale $SCALE_KEY (goal: pause <= 2 s)"
printf '%s' "$SUMMARY"

#!/usr/bin/env bash
# `decant sync` from a MariaDB source (tests/bench/mysql.yaml's tables, built by
# mysql_source.sh): one timed run, then RUNS syncs where nothing changed (each compares the
# window sums it reads with the kept ones: the digest's cost), then one round of "the app
# changes 0.8% of the rows" (updates in orders and users, deletes and inserts in order_items,
# spread over the keys) and a timed sync. For comparison it times the window sums computed
# server-side instead: per table, one query that groups the rows into the same windows of 16
# keys and folds MD5(CONCAT_WS(',', QUOTE(column), …)) with BIT_XOR (what a digest in MariaDB
# would cost; decant computes it in Rust over the rows it reads).
#
#   bash tests/bench/mysql_sync.sh [--runs N] [--scale S] [--server URL] [--no-build | --decant PATH]
#
# The rounds write to a copy of the bench database (decant_mysql_sync_<pid>, dropped at the
# end), so mysql.sh's copy stays as it was built.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/args.sh" "$@"

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$BENCH_DIR/common.sh"
. "$BENCH_DIR/mysql_source.sh"

COPY="decant_mysql_sync_$$"
DB="decant_mysql_sync_bench_$$"
cleanup() {
    my -e "drop database if exists \`$COPY\`" 2>/dev/null || true
    admin "drop database if exists \"$DB\" with (force)" 2>/dev/null || true
}
trap cleanup EXIT
echo "== copying $MDB into $COPY"
my -e "create database \`$COPY\` character set utf8mb4 collate utf8mb4_unicode_ci"
for t in $TABLES; do
    my -e "set foreign_key_checks = 0; create table \`$COPY\`.$t like \`$MDB\`.$t;
           insert into \`$COPY\`.$t select * from \`$MDB\`.$t"
done
my -e "analyze table \`$COPY\`.users, \`$COPY\`.orders, \`$COPY\`.order_items" >/dev/null
admin "drop database if exists \"$DB\" with (force)"
admin "create database \"$DB\""
export SOURCE_DATABASE_URL="mysql://$MY_USER@$MY_HOST:$MY_PORT/$COPY"
export TARGET_DATABASE_URL="$SERVER/$DB"

seconds() { # command... → wall seconds
    local out; out="$(mktemp)"
    /usr/bin/time -f '%e' -o "$out" "$@" >/dev/null 2>&1 || true
    tail -1 "$out"; rm -f "$out"
}

echo "== $TOTAL_ROWS rows, $(nproc) cores: $("$DECANT" --version)"
RUN="$(seconds "$DECANT" run "$BENCH_DIR/mysql.yaml" --report-dir "$DATA/mysql-sync-reports")"
echo "run: ${RUN}s"
[ "$(psql "$TARGET_DATABASE_URL" -X -Atc "select count(*) from decant.source_windows")" = 3 ] \
    || die "the run kept no window sums for the three tables"

SYNCS=""
for i in $(seq 1 "$RUNS"); do
    s="$(seconds "$DECANT" sync "$BENCH_DIR/mysql.yaml")"
    echo "sync $i, nothing changed: ${s}s"
    SYNCS="$SYNCS $s"
done
QUIET="$(echo "$SYNCS" | median)"

# The same windows summed by MariaDB itself: 16 keys a window, every column quoted (NULL is
# the word NULL, '' is two quotes, bytes escaped), one MD5 per row.
SERVER_S=""
for i in $(seq 1 "$RUNS"); do
    total=0
    for t in $TABLES; do
        cols="$(my -e "select group_concat(concat('quote(\`', column_name, '\`)') order by ordinal_position)
                       from information_schema.columns where table_schema = '$COPY' and table_name = '$t'")"
        sql="select count(*), bit_xor(s) from (select floor((id - 1) / 16) w,
               bit_xor(cast(conv(left(md5(concat_ws(',', $cols)), 16), 16, 10) as unsigned)) s
               from \`$COPY\`.$t group by w) x"
        s="$(seconds mariadb -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" --batch -e "$sql")"
        total="$(echo "$total + $s" | bc)"
    done
    echo "server-side window sums $i: ${total}s"
    SERVER_S="$SERVER_S $total"
done
SERVER_MED="$(echo "$SERVER_S" | median)"

CHANGED="$(my "$COPY" -e "select (select count(*) from orders where id % 200 = 3) + (select count(*) from users where id % 200 = 5)
                          + (select count(*) from order_items where id % 200 = 11) + (select count(*) from order_items where id % 200 = 13)")"
my "$COPY" -e "
    update orders set note = concat('changed ', id) where id % 200 = 3;
    update users set name = concat(name, ' (renamed)') where id % 200 = 5;
    delete from order_items where id % 200 = 11;
    set @top = (select max(id) from order_items);
    insert into order_items (id, order_id, sku, product_name, qty, unit_price)
      select @top + id, order_id, sku, product_name, qty + 1, unit_price from order_items where id % 200 = 13;"
log="$(mktemp)"
/usr/bin/time -f '%e' -o "$log.time" "$DECANT" sync "$BENCH_DIR/mysql.yaml" > "$log" 2>&1 || true
CHANGE_S="$(tail -1 "$log.time")"
grep -E "applied|users|orders|order_items" "$log" | sed 's/^/   /' || true
rm -f "$log" "$log.time"
echo "sync after $CHANGED changed rows ($(echo "scale=2; 100 * $CHANGED / $TOTAL_ROWS" | bc)%): ${CHANGE_S}s"

echo "== medians: sync (nothing changed) ${QUIET}s, server-side window sums ${SERVER_MED}s"
echo "   run ${RUN}s; sync after the change ${CHANGE_S}s = $(echo "scale=3; $CHANGE_S / $RUN" | bc)x the run; sync with nothing changed $(echo "scale=3; $QUIET / $RUN" | bc)x"

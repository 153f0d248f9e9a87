# Shared by mysql.sh and ab.sh (sourced, not run): the MariaDB copy of the bench database.
# Expects BENCH_DIR, SCALE_KEY, SCALED_DB (common.sh) and `die`; sets MY_HOST, MY_PORT, MY_USER,
# MDB, MYSQL_URL, TABLES, WANT (the row counts, "users orders order_items"), TOTAL_ROWS and
# `my` (the mariadb client). The copy lives in the database decant_bench_<scale> and is kept
# between invocations; it is rebuilt when its row counts differ from the SQLite file's
# (exported by mysql_load.py, loaded with LOAD DATA LOCAL INFILE).

MY_HOST="${BENCH_MYSQL_HOST:-127.0.0.1}"
MY_PORT="${BENCH_MYSQL_PORT:-3306}"
MY_USER="${BENCH_MYSQL_USER:-root}"
MDB="decant_bench_${SCALE_KEY//./_}"
MYSQL_URL="mysql://$MY_USER@$MY_HOST:$MY_PORT/$MDB"
my() { mariadb -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" --batch --skip-column-names "$@"; }
my -e "select 1" >/dev/null || die "cannot connect to MariaDB at $MY_HOST:$MY_PORT as $MY_USER"

# --- the MariaDB copy ------------------------------------------------------------------------
TABLES="users orders order_items"
WANT="$(python3 - "$SCALED_DB" <<'EOF'
import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print(" ".join(str(c.execute('select count(*) from "%s"' % t).fetchone()[0])
               for t in ("users", "orders", "order_items")))
EOF
)"
TOTAL_ROWS=$(echo "$WANT" | tr ' ' '\n' | awk '{ n += $1 } END { print n }')
mysql_counts() {
    my -e "select (select count(*) from \`$MDB\`.users), (select count(*) from \`$MDB\`.orders),
                  (select count(*) from \`$MDB\`.order_items)" 2>/dev/null | tr '\t' ' ' || true
}
if [ "$(mysql_counts)" = "$WANT" ]; then
    echo "== source: MariaDB database $MDB (already built: $WANT rows)"
else
    echo "== building MariaDB database $MDB from $SCALED_DB"
    TSV="$(mktemp -d /tmp/decant-mysql-tsv.XXXXXX)"
    python3 "$BENCH_DIR/mysql_load.py" "$SCALED_DB" "$TSV" > "$TSV/counts"
    SEQ=$(awk '$1 == "users.sequence" { print $2 }' "$TSV/counts")
    # The server must allow LOAD DATA LOCAL; the client asks with --local-infile=1.
    [ "$(my -e "select @@global.local_infile")" = 1 ] || my -e "set global local_infile = 1"
    my -e "drop database if exists \`$MDB\`;
           create database \`$MDB\` character set utf8mb4 collate utf8mb4_unicode_ci"
    my --local-infile=1 "$MDB" <<EOF
SET FOREIGN_KEY_CHECKS = 0;
SET UNIQUE_CHECKS = 0;
CREATE TABLE users (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email VARCHAR(255) NOT NULL,
    name VARCHAR(255) NOT NULL,
    is_active TINYINT(1) NOT NULL DEFAULT 1,
    created_at DATETIME NOT NULL,
    profile JSON NULL,
    UNIQUE KEY users_email (email)
) ENGINE = InnoDB;
CREATE TABLE orders (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id BIGINT UNSIGNED NOT NULL,
    amount DECIMAL(10,2) NOT NULL,
    placed_at DATETIME NOT NULL,
    status VARCHAR(20) NOT NULL,
    note VARCHAR(255) NULL,
    KEY orders_user_id (user_id),
    KEY orders_placed_at (placed_at),
    CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE = InnoDB;
CREATE TABLE order_items (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    order_id BIGINT UNSIGNED NOT NULL,
    sku VARCHAR(32) NOT NULL,
    product_name VARCHAR(255) NOT NULL,
    qty INT NOT NULL,
    unit_price DECIMAL(10,2) NOT NULL,
    KEY order_items_order_id (order_id),
    CONSTRAINT order_items_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE = InnoDB;
LOAD DATA LOCAL INFILE '$TSV/users.tsv' INTO TABLE users CHARACTER SET utf8mb4
    (id, email, name, is_active, created_at, profile);
LOAD DATA LOCAL INFILE '$TSV/orders.tsv' INTO TABLE orders CHARACTER SET utf8mb4
    (id, user_id, amount, placed_at, status, note);
LOAD DATA LOCAL INFILE '$TSV/order_items.tsv' INTO TABLE order_items CHARACTER SET utf8mb4
    (id, order_id, sku, product_name, qty, unit_price);
-- The users counter continues after SQLite's sqlite_sequence, not after max(id).
ALTER TABLE users AUTO_INCREMENT = $((SEQ + 1));
SET FOREIGN_KEY_CHECKS = 1;
ANALYZE TABLE users, orders, order_items;
EOF
    rm -rf "$TSV"
    HAVE="$(mysql_counts)"
    [ "$HAVE" = "$WANT" ] || die "MariaDB $MDB holds $HAVE rows, the SQLite file $WANT (LOAD DATA warnings?)"
    WARN="$(my "$MDB" -e "select count(*) from orders o left join users u on u.id = o.user_id where u.id is null")"
    [ "$WARN" = 0 ] || die "MariaDB $MDB: $WARN orders without their user"
    echo "   loaded: $WANT rows (users orders order_items); users AUTO_INCREMENT $((SEQ + 1))"
fi

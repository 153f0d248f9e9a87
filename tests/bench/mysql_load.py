#!/usr/bin/env python3
"""Export the bench SQLite database (tests/bench/generate.py) to TSV files for MariaDB/MySQL's
`LOAD DATA LOCAL INFILE`, used by tests/bench/mysql.sh.

    python3 tests/bench/mysql_load.py SOURCE.sqlite3 OUT_DIR

Writes OUT_DIR/users.tsv, orders.tsv and order_items.tsv (tab-separated, backslash escapes,
NULL as \\N, UTF-8) and prints one `name count` line per table plus `users.sequence N` (the
SQLite AUTOINCREMENT counter, which becomes the MySQL table's AUTO_INCREMENT). Datetimes come
out as 'YYYY-MM-DD HH:MM:SS' in UTC whether SQLite held them as unix epoch integers
(orders.placed_at) or as ISO-8601 text in either of the generator's two formats
(users.created_at: '2024-01-31 10:00:00' or '2024-01-31T10:00:00.123Z'; the milliseconds are
dropped, as a DATETIME without fractional seconds would). Amounts, stored as INTEGER or REAL,
come out with exactly two decimals.
"""

import os
import sqlite3
import sys
import time


def esc(value):
    """A field as LOAD DATA's default FIELDS ESCAPED BY '\\\\' reads it."""
    if value is None:
        return "\\N"
    s = str(value)
    if "\\" in s or "\t" in s or "\n" in s or "\r" in s or "\0" in s:
        s = (s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
             .replace("\r", "\\r").replace("\0", "\\0"))
    return s


def dt(value):
    """Epoch seconds or ISO-8601 text → 'YYYY-MM-DD HH:MM:SS' (UTC)."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(value))
    s = str(value).strip()
    if s.isdigit():
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(s)))
    # '2024-01-31 10:00:00' or '2024-01-31T10:00:00.123Z'
    s = s.replace("T", " ", 1).rstrip("Z")
    return s[:19]


def money(value):
    return None if value is None else "%.2f" % round(float(value), 2)


def export(conn, out_dir, table, sql, convert):
    path = os.path.join(out_dir, table + ".tsv")
    n = 0
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        cur = conn.execute(sql)
        while True:
            rows = cur.fetchmany(50_000)
            if not rows:
                break
            f.write("".join("\t".join(esc(v) for v in convert(r)) + "\n" for r in rows))
            n += len(rows)
    return n


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.splitlines()[3].strip())
    src, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    conn = sqlite3.connect("file:%s?mode=ro" % src, uri=True)
    counts = {
        "users": export(conn, out_dir, "users",
                        "select id, email, name, is_active, created_at, profile from users order by id",
                        lambda r: (r[0], r[1], r[2], int(r[3]), dt(r[4]), r[5])),
        "orders": export(conn, out_dir, "orders",
                         "select id, user_id, amount, placed_at, status, note from orders order by id",
                         lambda r: (r[0], r[1], money(r[2]), dt(r[3]), r[4], r[5])),
        "order_items": export(conn, out_dir, "order_items",
                              "select id, order_id, sku, product_name, qty, unit_price "
                              "from order_items order by id",
                              lambda r: (r[0], r[1], r[2], r[3], r[4], money(r[5]))),
    }
    (seq,) = conn.execute("select seq from sqlite_sequence where name = 'users'").fetchone()
    for table, n in counts.items():
        print("%s %d" % (table, n))
    print("users.sequence %d" % seq)


if __name__ == "__main__":
    main()

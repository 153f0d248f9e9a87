#!/usr/bin/env python3
"""Generate the app-shaped SQLite database that the decant benchmark migrates.

    python3 tests/bench/generate.py OUT.sqlite3 [--scale 1.0] [--seed 20240131]

At scale 1 the database holds 5.2 M rows in about 400 MB:

  users        200 000 rows  INTEGER PRIMARY KEY AUTOINCREMENT, unique email, BOOLEAN 0/1,
                             DATETIME as ISO-8601 text in two formats, JSON text profile;
                             the highest ids are deleted afterwards, so sqlite_sequence > max(id)
  orders     2 000 000 rows  FK to users, NUMERIC(10,2) amounts stored as INTEGER (whole
                             amounts) or REAL, DATETIME as unix epoch integers, 40%-NULL note
  order_items 3 000 000 rows FK to orders, sku and product name text, qty, NUMERIC(10,2) unit price

The output is deterministic for a given seed and scale (only the standard library is used).
"""

import argparse
import json
import os
import random
import sqlite3
import sys
import time

BATCH = 50_000
DELETED_USERS = 5  # highest user ids deleted after the load: sqlite_sequence stays above max(id)

FIRST = ["ada", "alan", "grace", "linus", "barbara", "ken", "dennis", "margaret", "edsger",
         "donald", "frances", "john", "radia", "tim", "sophie", "hedy", "katherine", "niklaus"]
LAST = ["lovelace", "turing", "hopper", "torvalds", "liskov", "thompson", "ritchie", "hamilton",
        "dijkstra", "knuth", "allen", "mccarthy", "perlman", "berners-lee", "wilson", "lamarr"]
DOMAINS = ["example.com", "example.org", "mail.test", "corp.example", "shop.invalid"]
LOCALES = ["en-GB", "en-US", "de-DE", "fr-FR", "es-ES", "pt-BR", "ja-JP", "nl-NL"]
THEMES = ["light", "dark", "system"]
TAGS = ["vip", "beta", "newsletter", "wholesale", "returning", "mobile", "gift", "b2b"]
NOTES = ["leave at the door", "ring twice", "gift wrap please", "call before delivery",
         "fragile: handle with care", "deliver to the back entrance", "no invoice in the box",
         "customer asked for express shipping", "second attempt after a failed delivery",
         "résumé attached — ünïcödé ✓"]

SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT 1,
    created_at DATETIME NOT NULL,
    profile TEXT
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    amount NUMERIC(10,2) NOT NULL,
    placed_at DATETIME NOT NULL,
    status TEXT NOT NULL,
    note TEXT
);
CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    sku TEXT NOT NULL,
    product_name TEXT NOT NULL,
    qty INTEGER NOT NULL,
    unit_price NUMERIC(10,2) NOT NULL
);
"""

INDEXES = """
CREATE INDEX orders_user_id ON orders(user_id);
CREATE INDEX orders_placed_at ON orders(placed_at);
CREATE INDEX order_items_order_id ON order_items(order_id);
"""

COLOURS = ["red", "blue", "green", "black", "white", "navy", "olive", "silver", "charcoal"]
PRODUCTS = ["cotton t-shirt", "wool jumper", "rain jacket", "canvas tote bag", "leather belt",
            "running shoes", "water bottle", "desk lamp", "ceramic mug", "notebook A5"]
STATUSES = ["paid", "paid", "paid", "shipped", "shipped", "delivered", "refunded", "cancelled"]

EPOCH_2019 = 1_546_300_800  # 2019-01-01T00:00:00Z
EPOCH_2025 = 1_735_689_600  # 2025-01-01T00:00:00Z


def iso(epoch, rng):
    """ISO-8601 text in one of the two formats apps write: '2024-01-31 10:00:00' or
    '2024-01-31T10:00:00.123Z'."""
    t = time.gmtime(epoch)
    if rng.random() < 0.5:
        return time.strftime("%Y-%m-%d %H:%M:%S", t)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % rng.randrange(1000)


def users(n, rng):
    for i in range(1, n + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = "%s.%s.%d@%s" % (first, last, i, rng.choice(DOMAINS))
        created = rng.randrange(EPOCH_2019, EPOCH_2025)
        profile = None
        if rng.random() < 0.9:
            profile = json.dumps({
                "locale": rng.choice(LOCALES),
                "theme": rng.choice(THEMES),
                "newsletter": rng.random() < 0.3,
                "tags": rng.sample(TAGS, rng.randrange(4)),
                "address": {"city": "City %d" % rng.randrange(500),
                            "zip": "%05d" % rng.randrange(100000)},
                "score": round(rng.random() * 100, 2),
            }, separators=(",", ":"))
        yield (i, email, "%s %s" % (first.title(), last.title()),
               1 if rng.random() < 0.85 else 0, iso(created, rng), profile)


def money(rng, low, high):
    """A NUMERIC(10,2) amount as SQLite stores what apps write: whole amounts end up as
    INTEGER, the rest as REAL."""
    if rng.random() < 0.3:
        return rng.randrange(low, high)                      # INTEGER storage class
    cents = rng.randrange(low * 100, high * 100)
    return (cents if cents % 100 else cents + 1) / 100     # REAL storage class


def orders(n, n_users, rng):
    for i in range(1, n + 1):
        note = rng.choice(NOTES) if rng.random() >= 0.4 else None
        yield (i, rng.randrange(1, n_users + 1), money(rng, 1, 2000),
               rng.randrange(EPOCH_2019, EPOCH_2025), rng.choice(STATUSES), note)


def order_items(n, n_orders, rng):
    for i in range(1, n + 1):
        sku = rng.randrange(50_000)
        yield (i, rng.randrange(1, n_orders + 1), "SKU-%06d" % sku,
               "%s %s #%d" % (rng.choice(COLOURS), rng.choice(PRODUCTS), sku % 97),
               rng.randrange(1, 10), money(rng, 1, 500))


def insert(conn, sql, rows):
    count = 0
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            conn.executemany(sql, batch)
            count += len(batch)
            batch.clear()
    if batch:
        conn.executemany(sql, batch)
        count += len(batch)
    return count


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="the SQLite file to write (replaced if it exists)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every row count")
    ap.add_argument("--seed", type=int, default=20240131)
    args = ap.parse_args()
    if args.scale <= 0:
        ap.error("--scale must be positive")

    n_users = max(10, int(200_000 * args.scale))
    n_orders = max(10, int(2_000_000 * args.scale))
    n_items = max(10, int(3_000_000 * args.scale))

    for suffix in ("", "-journal", "-wal", "-shm"):
        if os.path.exists(args.out + suffix):
            os.remove(args.out + suffix)
    started = time.monotonic()
    rng = random.Random(args.seed)
    conn = sqlite3.connect(args.out, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-200000")
    conn.executescript(SCHEMA)
    conn.execute("BEGIN")
    # Insert DELETED_USERS extra users and delete the highest ids afterwards, so the table ends
    # with n_users rows and sqlite_sequence (n_users + DELETED_USERS) > max(id) (n_users).
    insert(conn, "INSERT INTO users (id, email, name, is_active, created_at, profile) "
                 "VALUES (?, ?, ?, ?, ?, ?)", users(n_users + DELETED_USERS, rng))
    insert(conn, "INSERT INTO orders (id, user_id, amount, placed_at, status, note) "
                 "VALUES (?, ?, ?, ?, ?, ?)", orders(n_orders, n_users, rng))
    insert(conn, "INSERT INTO order_items (id, order_id, sku, product_name, qty, unit_price) "
                 "VALUES (?, ?, ?, ?, ?, ?)", order_items(n_items, n_orders, rng))
    conn.execute("DELETE FROM users WHERE id > ?", (n_users,))
    conn.execute("COMMIT")
    conn.executescript(INDEXES)
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("PRAGMA synchronous=FULL")

    total = 0
    for table in ("users", "orders", "order_items"):
        (count,) = conn.execute('SELECT count(*) FROM "%s"' % table).fetchone()
        total += count
        print("%-12s %10d rows" % (table, count))
    (seq,) = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'users'").fetchone()
    (max_id,) = conn.execute("SELECT max(id) FROM users").fetchone()
    (fk_errors,) = conn.execute("SELECT count(*) FROM pragma_foreign_key_check").fetchone()
    conn.close()
    if fk_errors:
        sys.exit("generate.py: %d foreign key violations in the generated database" % fk_errors)
    size = os.path.getsize(args.out)
    print("%-12s %10d rows" % ("total", total))
    print("users sqlite_sequence %d > max(id) %d" % (seq, max_id))
    print("wrote %s: %.1f MB (%d bytes) in %.1f s"
          % (args.out, size / 1e6, size, time.monotonic() - started))


if __name__ == "__main__":
    main()

#!/bin/sh
# What the chat server's `npm run migrate` does: apply every migration not yet recorded in
# schema_migrations, in file order, each in one transaction with its bookkeeping row. Running it
# again applies nothing, which is what a decant `run:` step needs after a kill. The target comes
# from the PG* variables decant sets for the step.
set -eu
cd "$(dirname "$0")"
psql -q -v ON_ERROR_STOP=1 -f 000_create_migrations_table.sql
for file in [0-9][0-9][0-9]_*.sql; do
    version="${file%.sql}"
    [ "$version" = 000_create_migrations_table ] && continue
    applied=$(psql -qtA -c "SELECT count(*) FROM schema_migrations WHERE version = '$version'")
    [ "$applied" = 1 ] && continue
    echo "applying $version"
    psql -q -v ON_ERROR_STOP=1 --single-transaction -f "$file" \
        -c "INSERT INTO schema_migrations (version) VALUES ('$version')"
done

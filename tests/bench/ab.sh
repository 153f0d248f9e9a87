#!/usr/bin/env bash
# A/B of two decant binaries on the MySQL route: the bench database's MariaDB copy (as mysql.sh
# builds it) moved into a fresh PostgreSQL database by `decant run tests/bench/mysql.yaml`, the
# two binaries alternating (A, B, A, B, …) so that whatever slows the machine down falls on both.
# Each run prints its wall time and the CPU seconds of decant, of MariaDB and of PostgreSQL
# over the run, and decant's CPU as a fraction of PostgreSQL's in the same run: PostgreSQL does
# the same work for either binary, so the fraction cancels out machine-wide slowdowns that
# wall times and CPU seconds alone carry. The summary is each binary's mean fraction.
#
#   bash tests/bench/ab.sh --a PATH --b PATH [--runs N] [--scale S] [--server URL]
#
#   --a PATH, --b PATH  the two decant binaries (copies are timed, so rebuilding target/ during
#                 the runs changes nothing); give the same binary twice to see the noise
#   --runs N      rounds, each one run of A then one of B (default 3)
#   --scale S     multiplies the generator's row counts (default 1.0: 5.2 M rows)
#   --server URL  the PostgreSQL server (default $BENCH_SERVER_URL or
#                 postgres://postgres@127.0.0.1:5432); it must run on this machine, since its
#                 CPU is read from /proc
#
# CPU seconds: decant's are user + system from /usr/bin/time; MariaDB's are the change in
# utime + stime of the mariadbd process (/proc/<pid>/stat); PostgreSQL's are the change in
# utime + stime of the postmaster and of every live child, plus the postmaster's cutime +
# cstime (the CPU of backends that ended during the run). The MariaDB server is the one
# mysql.sh uses ($BENCH_MYSQL_HOST etc.). A run that does not exit 0 with every row loaded is
# reported and left out of the means; the script then exits 1.
# Session 9's and 10's A/B figures in tests/bench/README.md were measured with a script of this
# shape kept outside the repository (/tmp/ab.sh); this is it, rewritten from what the README says
# it measured.
# Needs: python3, psql, mariadb (client), /usr/bin/time (Debian package `time`), pgrep.
set -euo pipefail

RUNS=3
A=""
B=""
own_option() {
    case "$1" in
        --a) case "$2" in /*) A="$2" ;; *) A="$PWD/$2" ;; esac; SHIFT=2 ;;
        --b) case "$2" in /*) B="$2" ;; *) B="$PWD/$2" ;; esac; SHIFT=2 ;;
        *) return 1 ;;
    esac
}
. "$(dirname "${BASH_SOURCE[0]}")/args.sh" "$@"
[ -n "$A" ] && [ -n "$B" ] || die "give both binaries: --a PATH --b PATH (try --help)"
[ -x "$A" ] || die "$A is not an executable"
[ -x "$B" ] || die "$B is not an executable"

[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install -y time)"
command -v psql >/dev/null || die "psql is missing (apt-get install -y postgresql-client)"
command -v mariadb >/dev/null || die "the mariadb client is missing (apt-get install -y mariadb-client)"

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD=0
DECANT="$A"
. "$BENCH_DIR/common.sh"
admin "select 1" >/dev/null || die "cannot connect to $SERVER"
. "$BENCH_DIR/mysql_source.sh"

# --- CPU readings -------------------------------------------------------------------------------
TICKS=$(getconf CLK_TCK)
MARIADB_PID="$(pgrep -o -x mariadbd || pgrep -o -x mysqld || true)"
[ -n "$MARIADB_PID" ] || die "no mariadbd (or mysqld) process on this machine"
DATA_DIR="$(admin "show data_directory")"
POSTMASTER_PID="$(head -1 "$DATA_DIR/postmaster.pid" 2>/dev/null || true)"
[ -n "$POSTMASTER_PID" ] && [ -r "/proc/$POSTMASTER_PID/stat" ] ||
    die "cannot read the postmaster's pid from $DATA_DIR/postmaster.pid: the server must run here"

# Clock ticks of a process: utime + stime (with "children", + cutime + cstime). The command
# name in field 2 may hold spaces; the fields are counted after its closing parenthesis.
ticks() { # pid [children]
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || { echo 0; return; }
    echo "${stat##*) }" | awk -v c="${2:-}" '{ t = $12 + $13; if (c != "") t += $14 + $15; print t }'
}
mariadb_ticks() { ticks "$MARIADB_PID"; }
postgres_ticks() {
    local total child
    total=$(ticks "$POSTMASTER_PID" children)
    for child in $(pgrep -P "$POSTMASTER_PID"); do
        total=$((total + $(ticks "$child")))
    done
    echo "$total"
}
seconds() { awk -v t="$1" -v k="$TICKS" 'BEGIN { printf "%.2f", t / k }'; }

# --- the runs -------------------------------------------------------------------------------------
SUFFIX="$$"
REPORTS="$(mktemp -d /tmp/decant-ab.XXXXXX)"
cp "$A" "$REPORTS/decant-a"
cp "$B" "$REPORTS/decant-b"
SCRATCH=""
cleanup() { for db in $SCRATCH; do admin "drop database if exists \"$db\" with (force)" 2>/dev/null || true; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM
PLAIN="?sslmode=disable"   # as mysql.sh runs decant: no TLS on localhost
FRACTIONS_A=""
FRACTIONS_B=""
FAILURES=""
echo "== $RUNS round(s) of A then B, $TOTAL_ROWS rows, $(nproc) cores; source $MYSQL_URL"
echo "   A: $A ($("$REPORTS/decant-a" --version))"
echo "   B: $B ($("$REPORTS/decant-b" --version))"
echo "   logs and reports in $REPORTS"
for round in $(seq 1 "$RUNS"); do
    for side in a b; do
        db="decant_ab_${SUFFIX}_${round}_$side"
        admin "drop database if exists \"$db\" with (force)"
        admin "create database \"$db\""
        SCRATCH="$SCRATCH $db"
        admin "checkpoint"
        mkdir -p "$REPORTS/$side-$round"
        log="$REPORTS/$side-$round/decant.log"
        my_before=$(mariadb_ticks); pg_before=$(postgres_ticks)
        RC=0
        SOURCE_DATABASE_URL="$MYSQL_URL" TARGET_DATABASE_URL="$SERVER/$db$PLAIN" \
            /usr/bin/time -f '%e %U %S %M' -o "$log.time" \
            "$REPORTS/decant-$side" run "$BENCH_DIR/mysql.yaml" --report-dir "$REPORTS/$side-$round" \
            > "$log" 2>&1 || RC=$?
        my_cpu=$(seconds $(( $(mariadb_ticks) - my_before )))
        pg_cpu=$(seconds $(( $(postgres_ticks) - pg_before )))
        read -r wall user sys rss < <(tail -1 "$log.time")
        decant_cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
        fraction=$(awk -v d="$decant_cpu" -v p="$pg_cpu" 'BEGIN { if (p > 0) printf "%.3f", d / p; else print "nan" }')
        got=""
        for t in $TABLES; do
            got="$got $(psql "$SERVER/$db" -X -Atc "select count(*) from public.\"$t\"" 2>/dev/null || echo missing)"
        done
        got="${got# }"
        printf '   %s round %s: wall %6.2f s  decant CPU %5.2f s  MariaDB CPU %5.2f s  PostgreSQL CPU %5.2f s  decant/PostgreSQL %s  peak RSS %5.1f MiB  exit %s\n' \
            "${side^^}" "$round" "$wall" "$decant_cpu" "$my_cpu" "$pg_cpu" "$fraction" \
            "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$RC"
        if [ "$RC" = 0 ] && [ "$got" = "$WANT" ] && [ "$fraction" != nan ]; then
            if [ "$side" = a ]; then FRACTIONS_A="$FRACTIONS_A $fraction"; else FRACTIONS_B="$FRACTIONS_B $fraction"; fi
        else
            FAILURES+="${side^^} round $round: exit $RC, rows $got (want $WANT), log $log"$'\n'
            tail -n 25 "$log" | sed 's/^/            | /'
        fi
        admin "drop database if exists \"$db\" with (force)"
    done
done

mean() { tr ' ' '\n' | grep -v '^$' | awk '{ s += $1; n++ } END { if (n) printf "%.3f", s / n; else print "nan" }'; }
echo "== decant's CPU as a fraction of PostgreSQL's, per run and mean"
echo "   A: ${FRACTIONS_A# }  mean $(echo "$FRACTIONS_A" | mean)"
echo "   B: ${FRACTIONS_B# }  mean $(echo "$FRACTIONS_B" | mean)"
if [ -n "$FAILURES" ]; then
    printf '%s' "$FAILURES" | sed 's/^/   FAILED: /' >&2
    exit 1
fi

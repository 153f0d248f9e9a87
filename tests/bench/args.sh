# Shared by the benchmark scripts, sourced first with the script's arguments (`. args.sh "$@"`):
# the options they have in common, `die`, and --help (the script's leading comment).
#   --runs N        timed runs (default: RUNS as the script set it, else 3)
#   --scale S       multiplies the generator's row counts (default 1.0)
#   --server URL    the PostgreSQL server (default $BENCH_SERVER_URL or postgres://postgres@127.0.0.1:5432)
#   --no-build      use target/release/decant as it is
#   --decant PATH   time this decant binary (implies --no-build)
# A script's own options go to its `own_option` function, if it defines one before sourcing:
# called with the remaining arguments, it returns 0 and sets SHIFT to the words it took.

SCRIPT="$(basename "$0")"
RUNS="${RUNS:-3}"
SCALE=1.0
SERVER="${BENCH_SERVER_URL:-postgres://postgres@127.0.0.1:5432}"
BUILD=1
DECANT=""
die() { echo "$SCRIPT: FAILED: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --scale) SCALE="$2"; shift 2 ;;
        --server) SERVER="${2%/}"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --decant) case "$2" in /*) DECANT="$2" ;; *) DECANT="$PWD/$2" ;; esac; BUILD=0; shift 2 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *)
            SHIFT=0
            if declare -F own_option >/dev/null && own_option "$@"; then
                shift "$SHIFT"
            else
                echo "$SCRIPT: unknown argument \`$1\` (try --help)" >&2
                exit 2
            fi
            ;;
    esac
done
case "$RUNS" in ''|*[!0-9]*|0) echo "$SCRIPT: --runs needs a positive integer" >&2; exit 2 ;; esac

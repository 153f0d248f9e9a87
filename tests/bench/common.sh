# Shared by app_schema.sh, sync.sh and floor.sh (sourced, not run): the release binary, the
# generated source of a scale, the admin connection and the median of a list of seconds.
# Expects BENCH_DIR, BUILD, SCALE and SERVER set, and a `die` function.

REPO="$(cd "$BENCH_DIR/../.." && pwd)"
DATA="$BENCH_DIR/data"
DECANT="${DECANT:-$REPO/target/release/decant}"
mkdir -p "$DATA"
if [ "$BUILD" = 1 ]; then (cd "$REPO" && cargo build --release --quiet); fi
[ -x "$DECANT" ] || die "$DECANT does not exist"

# One generated file per scale, kept between invocations and regenerated when generate.py
# changes; data/bench.sqlite3 links to the one of this scale.
SCALE_KEY="$(printf '%g' "$SCALE")"
SCALED_DB="$DATA/bench-scale-$SCALE_KEY.sqlite3"
PARAMS="scale=$SCALE_KEY generator=$(md5sum "$BENCH_DIR/generate.py" | cut -d' ' -f1)"
if ! { [ -f "$SCALED_DB" ] && [ "$(cat "$SCALED_DB.params" 2>/dev/null)" = "$PARAMS" ]; }; then
    echo "== generating the source at scale $SCALE_KEY"
    rm -f "$SCALED_DB.params"
    python3 "$BENCH_DIR/generate.py" "$SCALED_DB" --scale "$SCALE"
    echo "$PARAMS" > "$SCALED_DB.params"
fi
ln -sfn "$(basename "$SCALED_DB")" "$DATA/bench.sqlite3"

admin() { PGOPTIONS="-c client_min_messages=warning" psql "$SERVER/postgres" -X -q -v ON_ERROR_STOP=1 -Atc "$1"; }

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

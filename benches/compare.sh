#!/usr/bin/env bash
# Times `contend report` against DuckDB, Python polars and awk doing the same
# group-by (sum, count, max of dur per category, symbol, caller) on the same
# synthetic raw dump, in one run. Prints wall time, peak RSS, MB/s and each
# tool's time relative to contend.
#
#   benches/compare.sh [SIZE...]      # default: 100M 1G
#
# Installs what it needs itself: the dumps come from examples/gendump.rs
# (deterministic), DuckDB and polars from PyPI into a venv under
# target/bench/venv. Nothing outside target/ is written.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(100M 1G)
dir=target/bench
mkdir -p "$dir"

cargo build --release --quiet --bin contend --example gendump
contend=target/release/contend
gendump=target/release/examples/gendump

venv=$dir/venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import duckdb, polars' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet duckdb polars
fi
py=$venv/bin/python
awk_bin=$(command -v mawk || command -v awk)

cat > "$dir/duckdb_groupby.py" <<'PY'
import sys, duckdb
duckdb.sql(f"""
    SELECT category, symbol, caller, sum(dur), count(*), max(dur)
    FROM read_csv('{sys.argv[1]}', delim='\t', header=true)
    GROUP BY ALL""").fetchall()
PY
cat > "$dir/polars_groupby.py" <<'PY'
import sys, polars as pl
(pl.scan_csv(sys.argv[1], separator="\t")
   .group_by(["category", "symbol", "caller"])
   .agg(pl.col("dur").sum().alias("total"), pl.len(), pl.col("dur").max().alias("max"))
   .collect())
PY

# run LABEL FILE CMD...: best wall time of 3 runs, and its peak RSS.
run() {
    local label=$1 file=$2; shift 2
    local best="" rss=""
    for _ in 1 2 3; do
        /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$@" >/dev/null 2>"$dir/err.txt" ||
            { echo "$label failed:"; cat "$dir/err.txt"; return 1; }
        read -r secs kib < "$dir/time.txt"
        if [ -z "$best" ] || awk "BEGIN {exit !($secs < $best)}"; then best=$secs; rss=$kib; fi
    done
    local mb; mb=$(awk "BEGIN {printf \"%.0f\", $(stat -c %s "$file") / 1048576}")
    printf '%-28s %8.2f s %8.0f MiB %8.0f MB/s\n' "$label" "$best" "$((rss / 1024))" \
        "$(awk "BEGIN {print $mb / ($best > 0 ? $best : 0.001)}")"
    echo "$label $best" >> "$dir/results.txt"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
echo "tools: $($contend --version), duckdb $("$py" -c 'import duckdb; print(duckdb.__version__)'), polars $("$py" -c 'import polars; print(polars.__version__)'), $(basename "$awk_bin")"
for size in "${sizes[@]}"; do
    tsv=$dir/dump-$size.tsv
    table=$dir/dump-$size.txt
    [ -s "$tsv" ] || "$gendump" --size "$size" --shape tsv > "$tsv"
    [ -s "$table" ] || "$gendump" --size "$size" --shape table > "$table"
    rm -f "$dir/results.txt"
    echo
    echo "== $size: $(wc -l < "$tsv") rows, tab-separated ($(stat -c %s "$tsv") bytes)"
    printf '%-28s %10s %12s %13s\n' tool wall "peak RSS" throughput
    cat "$tsv" > /dev/null # into the page cache for every tool alike
    run "contend report" "$tsv" "$contend" report --format json "$tsv"
    run "contend report (table)" "$table" "$contend" report --format json "$table"
    run "duckdb read_csv" "$tsv" "$py" "$dir/duckdb_groupby.py" "$tsv"
    run "polars scan_csv" "$tsv" "$py" "$dir/polars_groupby.py" "$tsv"
    run "awk" "$tsv" "$awk_bin" -F'\t' 'NR > 1 { k = $2 FS $3 FS $4; s[k] += $1; n[k]++; if ($1 > m[k]) m[k] = $1 } END { for (k in s) print k, s[k], n[k], m[k] }' "$tsv"
    run "cat > /dev/null" "$tsv" cat "$tsv"
    base=$(awk '$1 == "contend" && $2 == "report" && NF == 3 {print $3}' "$dir/results.txt")
    echo "time relative to contend report:"
    awk -v base="$base" '{ t = $NF; $NF = ""; printf "  %-26s %6.2fx\n", $0, t / base }' "$dir/results.txt"
done

#!/usr/bin/env bash
# Times `contend report` against DuckDB, Python polars and awk doing the same
# group-by (sum, count, max of dur per category, symbol, caller) on the same
# synthetic raw dump, in one run; then the same rows in the seed's shape
# with 400 and 4 000 samples, a diff of two such files (and the two files'
# reports run at once, the least a diff can take), and the rendering of
# a ranking of 200 000 groups in every format. Prints median wall time,
# peak RSS, MB/s and each time relative to contend on the plain TSV.
#
#   benches/compare.sh [SIZE...]      # default: 100M 1G
#   RUNS=5 benches/compare.sh 1G      # runs per command (default 5)
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

runs=${RUNS:-5}

# run LABEL FILE CMD...: median wall time of $runs runs, and the largest
# peak RSS among them; MB/s over FILE.
run() {
    local label=$1 file=$2; shift 2
    : > "$dir/times.txt"
    for _ in $(seq "$runs"); do
        # A failing command makes time write "Command exited ..." first.
        /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$@" >/dev/null 2>"$dir/err.txt" || true
        if ! awk 'NR == 1 && $1 ~ /^[0-9.]+$/ {ok = 1} END {exit !ok}' "$dir/time.txt"; then
            echo "$label failed:"; cat "$dir/err.txt"; return 1
        fi
        cat "$dir/time.txt" >> "$dir/times.txt"
    done
    local median rss
    median=$(sort -n "$dir/times.txt" | awk '{t[NR] = $1} END {print t[int((NR + 1) / 2)]}')
    rss=$(sort -k2 -n "$dir/times.txt" | tail -1 | awk '{print $2}')
    local mb; mb=$(awk "BEGIN {printf \"%.0f\", $(stat -c %s "$file") / 1048576}")
    printf '%-36s %8.2f s %8.0f MiB %8.0f MB/s\n' "$label" "$median" "$((rss / 1024))" \
        "$(awk "BEGIN {print $mb / ($median > 0 ? $median : 0.001)}")"
    echo "$label $median" >> "$dir/results.txt"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
echo "tools: $($contend --version), duckdb $("$py" -c 'import duckdb; print(duckdb.__version__)'), polars $("$py" -c 'import polars; print(polars.__version__)'), $(basename "$awk_bin")"
for size in "${sizes[@]}"; do
    tsv=$dir/dump-$size.tsv
    table=$dir/dump-$size.txt
    [ -s "$tsv" ] || "$gendump" --size "$size" --shape tsv > "$tsv"
    [ -s "$table" ] || "$gendump" --size "$size" --shape table > "$table"
    s400=$dir/dump-$size-s400.txt
    s4000=$dir/dump-$size-s4000.txt
    [ -s "$s400" ] || "$gendump" --size "$size" --samples 400 > "$s400"
    [ -s "$s4000" ] || "$gendump" --size "$size" --samples 4000 > "$s4000"
    rm -f "$dir/results.txt"
    echo
    echo "== $size: $(wc -l < "$tsv") rows, tab-separated ($(stat -c %s "$tsv") bytes)"
    printf '%-36s %10s %12s %13s\n' tool "median" "peak RSS" throughput
    cat "$tsv" > /dev/null # into the page cache for every tool alike
    run "contend report" "$tsv" "$contend" report --format json "$tsv"
    run "contend report (table)" "$table" "$contend" report --format json "$table"
    run "contend report (400 samples)" "$s400" "$contend" report --format json "$s400"
    run "contend report (4000 samples)" "$s4000" "$contend" report --format json "$s4000"
    run "contend diff (400 vs 4000 samples)" "$s400" "$contend" diff --format json "$s400" "$s4000"
    # What any diff built on this reader takes at least: the same two
    # files read at once, one core each, with nothing kept per sample.
    run "both reports at once (diff's floor)" "$s400" bash -c \
        "'$contend' report --threads 1 --format json '$s400' > /dev/null &
         '$contend' report --threads 1 --format json '$s4000' > /dev/null; wait"
    run "duckdb read_csv" "$tsv" "$py" "$dir/duckdb_groupby.py" "$tsv"
    run "polars scan_csv" "$tsv" "$py" "$dir/polars_groupby.py" "$tsv"
    run "awk" "$tsv" "$awk_bin" -F'\t' 'NR > 1 { k = $2 FS $3 FS $4; s[k] += $1; n[k]++; if ($1 > m[k]) m[k] = $1 } END { for (k in s) print k, s[k], n[k], m[k] }' "$tsv"
    run "cat > /dev/null" "$tsv" cat "$tsv"
    base=$(awk '$1 == "contend" && $2 == "report" && NF == 3 {print $3}' "$dir/results.txt")
    echo "time relative to contend report:"
    awk -v base="$base" '{ t = $NF; $NF = ""; printf "  %-34s %6.2fx\n", $0, t / base }' "$dir/results.txt"
    # The diff against what it reads: its two inputs' reports one after the
    # other, and the floor above.
    awk '/^contend report \(400 samples\)/ {a = $NF} /^contend report \(4000 samples\)/ {b = $NF}
         /^contend diff/ {d = $NF} /^both reports at once/ {f = $NF}
         END {printf "diff relative to its two inputs'"'"' reports in turn: %.2fx; to the floor: %.2fx\n", d / (a + b), d / f}' \
        "$dir/results.txt"
done

# A ranking of about 215 000 groups (80 symbols, 3 300 callers) in 100 MB,
# printed whole in every format: the renderers must stay linear.
groups=$dir/groups-100M.tsv
[ -s "$groups" ] || "$gendump" --size 100M --shape tsv --callers 3300 > "$groups"
rm -f "$dir/results.txt"
echo
echo "== report --top 0 of $("$contend" report --format json --top 1 "$groups" | "$py" -c 'import json, sys; print(json.load(sys.stdin)["groups_total"])') groups ($(stat -c %s "$groups") bytes)"
printf '%-36s %10s %12s %13s\n' command "median" "peak RSS" throughput
run "contend report --top 1 (reading)" "$groups" "$contend" report --top 1 --format csv "$groups"
for format in table markdown csv json; do
    run "contend report --top 0 --format $format" "$groups" \
        "$contend" report --top 0 --width 120 --format "$format" "$groups"
done

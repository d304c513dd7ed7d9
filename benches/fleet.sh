#!/usr/bin/env bash
# A fleet: HOSTS raw dumps of SIZE each (default 1000 x 10M, 10 GB), one
# build, exported as a dataset, then reported from the dataset and, side by
# side, from the raw dumps again. Prints wall time and peak RSS of each.
# The dumps and the dataset are written into target/bench/fleet/ (kept for
# the next run; about 10 GB).
#
#   benches/fleet.sh            # 1000 hosts of 10 MB
#   HOSTS=200 SIZE=1M benches/fleet.sh
set -euo pipefail
cd "$(dirname "$0")/.."

hosts=${HOSTS:-1000}
size=${SIZE:-10M}
cargo build --release --quiet --bin contend --example gendump
bin=target/release/contend
root=target/bench/fleet/$hosts-$size
dumps=$root/dumps/v1
mkdir -p "$dumps"
for ((i = 0; i < hosts; i++)); do
    file=$(printf '%s/host%04d.txt' "$dumps" "$i")
    [ -s "$file" ] || target/release/examples/gendump --size "$size" --samples 20 \
        --seed "$i" > "$file"
done
echo "raw dumps: $(du -sh "$dumps" | cut -f1) in $hosts files"

dataset=$root/dataset
if [ ! -d "$dataset" ]; then
    /usr/bin/time -f "export --dataset: %e s, peak RSS %M KiB" \
        "$bin" export --format parquet --dataset "$dataset" -q "$dumps"/*.txt
fi
echo "dataset: $(du -sh "$dataset" | cut -f1) in $(find "$dataset" -name '*.parquet' | wc -l) files"

# Interleaved, three times each: the machine is shared and noisy.
for round in 1 2 3; do
    /usr/bin/time -f "round $round: report DIR (the dataset): %e s, peak RSS %M KiB" \
        "$bin" report "$dataset" > /dev/null
    /usr/bin/time -f "round $round: report of the raw dumps: %e s, peak RSS %M KiB" \
        "$bin" report -q "$dumps"/*.txt > /dev/null
done

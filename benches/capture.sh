#!/usr/bin/env bash
# Reads a synthetic lltrace capture (FXT) of SIZE (default 1G) and prints
# wall time, throughput and peak RSS for the ways a user reads one. The
# capture is written by examples/genfxt.rs into target/bench/ (kept for
# the next run): 64 threads on 8 CPUs, context switches every 50 µs-2 ms,
# up to three contended acquisitions per stretch of running.
set -euo pipefail
cd "$(dirname "$0")/.."

size=${1:-1G}
capture=target/bench/capture-$size.fxt
cargo build --release --quiet --bin contend --example genfxt
bin=target/release/contend
mkdir -p target/bench
[ -s "$capture" ] || target/release/examples/genfxt "$size" > "$capture"
bytes=$(stat -c %s "$capture")

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; capture: $bytes bytes"
cat "$capture" > /dev/null # warm the page cache
for args in "--thread thread0" "--thread thread0 --window 1s" "--thread thread0 --thread thread1 --window 100ms" ""; do
    /usr/bin/time -f "%e %M" "$bin" report $args "$capture" > /dev/null 2> /tmp/contend-capture.$$
    read -r seconds rss < <(tail -1 /tmp/contend-capture.$$)
    mib_s=$(awk -v b="$bytes" -v s="$seconds" 'BEGIN { printf "%.0f", b / 1048576 / s }')
    printf '%-52s %6s s  %5s MiB/s  peak RSS %6d MiB\n' "report ${args:-(every thread that waited)}" "$seconds" "$mib_s" $((rss / 1024))
done
rm -f /tmp/contend-capture.$$

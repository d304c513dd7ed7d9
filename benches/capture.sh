#!/usr/bin/env bash
# Reads a synthetic lltrace capture (FXT) of SIZE (default 1G) and prints
# wall time, throughput and peak RSS for the ways a user reads one. The
# capture is written by examples/genfxt.rs into target/bench/ (kept for
# the next run): 64 threads on 8 CPUs, context switches every 50 µs-2 ms,
# up to three contended acquisitions per stretch of running.
#
# BASELINE=/path/to/an/older/contend benches/capture.sh 1G times that
# binary on the same commands in the same run, and prints the ratios
# (this machine's speed varies from day to day; ratios do not).
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

# Prints "seconds peak_kib" of one run.
measure() {
    local out=/tmp/contend-capture.$$
    /usr/bin/time -f "%e %M" "$@" > /dev/null 2> "$out"
    tail -1 "$out"
    rm -f "$out"
}

for args in "--thread thread0" "--thread thread0 --no-holders" "--thread thread0 --window 1s" "--thread thread0 --window 1s --by symbol,holder" "--thread thread0 --thread thread1 --window 100ms" ""; do
    # shellcheck disable=SC2086 # the arguments are words
    read -r seconds rss < <(measure "$bin" report $args "$capture")
    mib_s=$(awk -v b="$bytes" -v s="$seconds" 'BEGIN { printf "%.0f", b / 1048576 / s }')
    printf '%-52s %6s s  %5s MiB/s  peak RSS %6d MiB\n' "report ${args:-(every thread that waited)}" "$seconds" "$mib_s" $((rss / 1024))
    if [ -n "${BASELINE:-}" ]; then
        # An older build knows no --no-holders: it never worked them out.
        # Nor --by holder: its baseline is the same read without the split.
        base_args=${args/ --no-holders/}
        base_args=${base_args/ --by symbol,holder/}
        # shellcheck disable=SC2086
        read -r base_seconds base_rss < <(measure "$BASELINE" report $base_args "$capture")
        printf '%-52s %6s s  time x%s  peak RSS %6d MiB (x%s)\n' "  baseline" "$base_seconds" \
            "$(awk -v a="$seconds" -v b="$base_seconds" 'BEGIN { printf "%.2f", a / b }')" \
            $((base_rss / 1024)) "$(awk -v a="$rss" -v b="$base_rss" 'BEGIN { printf "%.1f", a / b }')"
    fi
done

#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 180; `report` twice as long),
# two at a time, after seeding the corpora with the fixtures. Needs
# cargo-fuzz and a nightly toolchain (`cargo install cargo-fuzz`). Prints
# one line per target: runs, coverage, and whether it found a crash
# (artifacts land in fuzz/artifacts/TARGET/).
set -uo pipefail
cd "$(dirname "$0")"
seconds=${1:-180}
fixtures=../fixtures

# Every target of Cargo.toml, in its order: a new format's target runs
# without a line here.
targets=$(sed -n '/^\[\[bin\]\]/,/^name/s/^name = "\(.*\)"/\1/p' Cargo.toml)
for target in $targets; do
    mkdir -p "corpus/$target"
done
cp $fixtures/*.txt $fixtures/diff/*.txt corpus/parse_table/
cp $fixtures/formats/*.csv $fixtures/formats/*.tsv corpus/parse_csv/
cp $fixtures/formats/*btrace* $fixtures/formats/bpftrace* corpus/parse_btrace/
cp $fixtures/formats/*perf-lock* $fixtures/real/perf-lock-contention-*.txt corpus/parse_perf_lock/
cp $fixtures/formats/*lockstat* corpus/parse_lockstat/
cp $fixtures/real/*klockstat*.txt corpus/parse_klockstat/
cp $fixtures/real/perf-lock-report-*.txt corpus/parse_perf_lock_report/
cp $fixtures/real/lock-stat-*.txt corpus/parse_lock_stat/
cp $fixtures/real/lock-profiling-*.txt corpus/parse_lock_profiling/
# The memory shapes of the hostile issue, small: many one-row samples,
# state lines without a table, many distinct keys.
python3 - corpus/parse_table <<'PY'
import sys, pathlib
out = pathlib.Path(sys.argv[1])
row = "Stopped\t400ms\nRunning\t4ms\ndur\tcategory\tsymbol\tcaller\n5\tmutex\tsched_lock\twakeup\n\n"
(out / "many-samples.txt").write_text(row * 500)
(out / "states-only.txt").write_text("Running\t4ms\nStopped\t3ms\n" * 1000)
keys = "".join(f"{i}\tmutex\tlock_{i}\tcaller_{i}\n" for i in range(1000))
(out / "distinct-keys.txt").write_text("dur\tcategory\tsymbol\tcaller\n" + keys)
PY
cp $fixtures/fxt/*.fxt $fixtures/bad/*.fxt corpus/parse_fxt/
# The capture shapes of the hostile issue, small: context switches of one
# thread (kept in a temporary file past 32 MiB), long strings (the string
# table's 16 MiB bound).
python3 - corpus/parse_fxt <<'PY'
import struct, sys, pathlib
out = pathlib.Path(sys.argv[1])
words = lambda *values: b"".join(struct.pack("<Q", v) for v in values)
head = words(0x0016547846040010, 1 | (2 << 4), 1_000_000_000)
switches = b"".join(words(8 | (4 << 4) | (2 << 36) | (1 << 60), i * 1000, 7 + i % 2, 8 - i % 2)
                    for i in range(2000))
(out / "many-switches.fxt").write_bytes(head + switches)
text = b"x" * 4000
strings = b"".join(words(2 | ((1 + len(text) // 8) << 4) | (i << 16) | (len(text) << 32)) + text
                   for i in range(1, 16))
(out / "long-strings.fxt").write_bytes(head + strings)
PY
# The bad-input corpus: the cases each parser must refuse (records past
# the line limit, unterminated quotes, endless stack keys, negative
# states), decompressed.
cp $fixtures/bad/csv-*.csv corpus/parse_csv/
cp $fixtures/bad/state-*.txt $fixtures/bad/dur-*.txt $fixtures/bad/negative-dur.txt corpus/parse_table/
cp $fixtures/bad/perf-lock-*.txt corpus/parse_perf_lock/
cp $fixtures/bad/lockstat-*.txt corpus/parse_lockstat/
for packed in $fixtures/bad/*.gz; do
    gunzip -c "$packed" 2>/dev/null | head -c 65536 > "corpus/parse_btrace/$(basename "$packed" .gz)"
done
cp $fixtures/openbsd-reaper-make-j32.txt $fixtures/formats/reaper.csv \
    $fixtures/formats/reaper-btrace.txt $fixtures/fxt/*.fxt corpus/report/

cargo +nightly fuzz build >/dev/null 2>&1 || { echo "cargo +nightly fuzz build failed"; exit 2; }

run() {
    local target=$1 time=$2 log=artifacts/$1.log
    mkdir -p "artifacts/$target"
    cargo +nightly fuzz run "$target" -- -max_total_time="$time" -max_len=65536 \
        -rss_limit_mb=2048 -timeout=10 >"$log" 2>&1
    local status=$?
    local done_line cov
    done_line=$(grep -a -E '^Done [0-9]+ runs' "$log" | tail -1)
    cov=$(grep -a -oE 'cov: [0-9]+' "$log" | tail -1)
    if [ $status -eq 0 ]; then
        echo "$target: ${done_line:-?}, $cov, no crash"
    else
        echo "$target: CRASH (exit $status), see $log and artifacts/$target/"
    fi
}
# Two at a time; `report` (the whole pipeline) alone and twice as long.
set -- $(echo "$targets" | grep -v '^report$')
while [ $# -gt 0 ]; do
    run "$1" "$seconds" &
    [ $# -gt 1 ] && run "$2" "$seconds" &
    wait
    shift $(($# > 1 ? 2 : 1))
done
run report $((seconds * 2))

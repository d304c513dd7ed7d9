#!/usr/bin/env bash
# Many distinct keys: a one-sample table whose every row has its own caller
# (`dur`, one of 4 categories, `sym<i % 1000>`, `caller_<i>`), for each
# COUNT given (default 1M 3M 10M). Prints wall time and peak RSS of
# `contend report` on one thread. The tables are written into
# target/bench/ (kept for the next run) by python3.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet --bin contend
bin=target/release/contend
mkdir -p target/bench
for count in "${@:-1M 3M 10M}"; do
    for one in $count; do
        rows=$(( ${one%M} * 1000000 ))
        table=target/bench/keys-$one.txt
        [ -s "$table" ] || python3 - "$rows" "$table" <<'PY'
import random, sys
rows, path = int(sys.argv[1]), sys.argv[2]
random.seed(1)
categories = ["kernel", "mutex", "rwlock", "rrwlock"]
with open(path, "w") as out:
    out.write("Stopped\t100ms\nRunning\t50ms\ndur\tcategory\tsymbol\tcaller\n")
    for start in range(0, rows, 100_000):
        out.write("".join(
            f"{random.randrange(100, 10_000_000)}\t{categories[i & 3]}\tsym{i % 1000}\tcaller_{i}\n"
            for i in range(start, min(rows, start + 100_000))))
PY
        /usr/bin/time -f "$one distinct keys: %e s, peak RSS %M KiB" \
            "$bin" report --top 5 --threads 1 "$table" 2>&1 >/dev/null | tail -1
    done
done

#!/usr/bin/env bash
# Times `contend report` on the seed fixture: whole process, wall time and
# peak RSS. Target (DESIGN.md): under 20 ms. Prints the figures; writes
# nothing. Installs hyperfine from Debian's packages if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

fixture=fixtures/openbsd-reaper-make-j32.txt
cargo build --release --quiet
bin=target/release/contend

if ! command -v hyperfine >/dev/null 2>&1; then
    (apt-get install -y hyperfine || (apt-get update && apt-get install -y hyperfine)) >/dev/null
fi

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
hyperfine -N --warmup 10 --runs 200 \
    "$bin report $fixture" \
    "$bin report --format json $fixture"
/usr/bin/time -f "peak RSS: %M KiB" "$bin" report "$fixture" >/dev/null 2>/tmp/contend-seed-time.$$ || true
grep 'peak RSS' /tmp/contend-seed-time.$$
rm -f /tmp/contend-seed-time.$$

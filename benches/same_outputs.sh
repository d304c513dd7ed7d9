#!/bin/bash
# benches/same_outputs.sh OLD NEW: runs two contend binaries over every
# fixture (report in every format, --samples all, --per-input, export of
# rows, groups and samples, diff of the diff fixtures) and prints each
# command whose output or exit code differs, then the counts. For changes
# that must not change any output: the reader checks what remains.
OLD=$(realpath "$1"); NEW=$(realpath "$2"); cd "$(dirname "$0")/.."
files=$(find fixtures -type f ! -name '*.SOURCE' ! -name '*.expect' ! -name '*.md' ! -name '*.json' | sort)
n=0; bad=0
run() { # args...
  local a b
  a=$(env -i PATH=/usr/bin:/bin "$OLD" "$@" 2>&1; echo "rc=$?")
  b=$(env -i PATH=/usr/bin:/bin "$NEW" "$@" 2>&1; echo "rc=$?")
  n=$((n+1))
  if [ "$a" != "$b" ]; then bad=$((bad+1)); echo "DIFF: $*"; diff <(echo "$a") <(echo "$b") | head -10; fi
}
for f in $files; do
  run report "$f"
  run report --format json "$f"
  run report --format csv "$f"
  run report --format markdown "$f"
  run report --samples all "$f"
  run report --by symbol --per-input "$f" "$f"
  run export "$f"
  run export --what groups "$f"
  run export --what samples "$f"
  run export --what samples --format json "$f"
done
for a in fixtures/diff/*; do for b in fixtures/diff/*; do
  run diff --format json "$a" "$b"
  run diff "$a" "$b"
done; done
run report fixtures/real/*.txt
echo "runs=$n differing=$bad"

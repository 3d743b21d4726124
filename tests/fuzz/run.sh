#!/usr/bin/env bash
# run.sh: runs one libFuzzer target for a fixed time over a copy of its seed
# corpus; CTest calls it for every tests/fuzz/fuzz_*.c target.
#
#   bash tests/fuzz/run.sh BINARY CORPUS_DIR WORK_DIR SECONDS
#
# The seeds in CORPUS_DIR are copied into WORK_DIR/corpus, which the fuzzer
# grows, so the repository's corpus is never modified; crash inputs land in
# WORK_DIR/artifacts and the fuzzer's output in WORK_DIR/log. Exits non-zero
# if the target crashes, aborts, leaks, times out (10 s per input) or goes
# over 2 GiB of memory. The last line printed gives the number of runs.
set -u

if [ $# -ne 4 ]; then
    echo "usage: $0 BINARY CORPUS_DIR WORK_DIR SECONDS" >&2
    exit 2
fi
bin=$1 seeds=$2 work=$3 secs=$4
name=$(basename "$bin")

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts" || exit 2
if [ -d "$seeds" ]; then
    cp -R "$seeds/." "$work/corpus/" || exit 2
fi

"$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1
rc=$?

# The final statistics (-print_final_stats), else the last "#N" status line.
runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$work/log" | tail -n 1)
if [ -z "$runs" ]; then
    runs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$work/log" | tail -n 1)
fi

if [ $rc -ne 0 ]; then
    tail -n 40 "$work/log"
    for f in "$work"/artifacts/*; do
        [ -e "$f" ] && echo "$name: reproduce with: $bin $f"
    done
    echo "$name: FAILED (exit $rc) after ${runs:-unknown} runs; full log in $work/log"
    exit 1
fi
echo "$name: ${runs:-unknown} runs in $secs s, no failure"
